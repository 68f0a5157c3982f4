"""Who is on the other end of a request: the one client address the throttles, the sign-in
lockout and the audit trail all key on."""

import ipaddress

from django.conf import settings


def client_address(request) -> str:
    """REMOTE_ADDR, or behind ENVADMIN_TRUSTED_PROXIES proxies the X-Forwarded-For entry that
    the outermost trusted proxy appended (that many places from the right).

    Entries further left were written by the client itself and are never trusted: a spoofable
    address would let anyone step out of a lockout or forge the audit trail.
    """
    remote = request.META.get("REMOTE_ADDR") or ""
    proxies = settings.ENVADMIN_TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    forwarded = [entry.strip() for entry in header.split(",") if entry.strip()]
    if len(forwarded) < proxies:
        return remote  # the request did not come through every trusted proxy
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:  # not an address: a misconfigured proxy, keep the one we can vouch for
        return remote
