"""The sign-in lockout shared by every sign-in path (the sign-in page, Django admin's login, the
token endpoint's password grant).

- ENVADMIN_LOGIN_FAILURES failures for one username from one address lock that pair;
- ENVADMIN_LOGIN_ADDRESS_FAILURES failures from one address, whatever the usernames, lock the
  address for every username (password spraying);
both for ENVADMIN_LOGIN_LOCKOUT_SECONDS counted from the first failure. A success clears its
own pair only: an attacker signing in to an account of their own must not reset the address.

Enforced at the authentication layer (backends.LockoutBackend, first in
AUTHENTICATION_BACKENDS) and counted from Django's user_login_failed signal (signals.py).
"""

import hashlib
import math
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from .models import LoginFailures

USERNAME_LOCKED = "Too many failed sign-ins for this username. Try again in {wait}."
ADDRESS_LOCKED = "Too many failed sign-ins from this address. Try again in {wait}."
# Set on the request by LockoutBackend: the refusal the sign-in forms show, and the mark that
# tells the failure counter this attempt never had its password checked.
REFUSAL_ATTRIBUTE = "envadmin_lockout_refusal"


def _digest(*parts: str) -> str:
    # Hashed: the username never lands in the table as written, and any length fits the key.
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _user_key(username: str, address: str) -> str:
    return f"user:{_digest(username.casefold(), address)}"


def _address_key(address: str) -> str:
    return f"address:{_digest(address)}"


def refusal(username: str, address: str) -> str | None:
    """The message refusing this sign-in, or None when it may go ahead."""
    now = timezone.now()
    rows = LoginFailures.objects.filter(
        key__in=(_user_key(username, address), _address_key(address)), expires_at__gt=now
    )
    counts = {row.key: row for row in rows}
    by_address = counts.get(_address_key(address))
    if by_address and by_address.failures >= settings.ENVADMIN_LOGIN_ADDRESS_FAILURES:
        return ADDRESS_LOCKED.format(wait=_wait(by_address, now))
    by_user = counts.get(_user_key(username, address))
    if by_user and by_user.failures >= settings.ENVADMIN_LOGIN_FAILURES:
        return USERNAME_LOCKED.format(wait=_wait(by_user, now))
    return None


def refusal_of(request) -> str | None:
    """The refusal LockoutBackend gave this request's sign-in, if it refused it."""
    return getattr(request, REFUSAL_ATTRIBUTE, None)


def record_failure(username: str, address: str) -> None:
    now = timezone.now()
    # Ended windows go first, whoever they belong to: the table holds one window's worth.
    LoginFailures.objects.filter(expires_at__lte=now).delete()
    expires_at = now + timedelta(seconds=settings.ENVADMIN_LOGIN_LOCKOUT_SECONDS)
    for key in (_user_key(username, address), _address_key(address)):
        row, created = LoginFailures.objects.get_or_create(
            key=key, defaults={"failures": 1, "expires_at": expires_at}
        )
        if not created:  # F(): concurrent failures on other instances all count
            LoginFailures.objects.filter(pk=row.pk).update(failures=F("failures") + 1)


def clear_failures(username: str, address: str) -> None:
    LoginFailures.objects.filter(key=_user_key(username, address)).delete()


def _wait(row: LoginFailures, now) -> str:
    minutes = max(1, math.ceil((row.expires_at - now).total_seconds() / 60))
    return f"{minutes} minute" if minutes == 1 else f"{minutes} minutes"
