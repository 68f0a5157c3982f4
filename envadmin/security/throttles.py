"""Throttles whose counters live in Django's cache, so every instance counts the same attempts.

Sign-in: after ENVADMIN_LOGIN_FAILURES failures for one username from one address within
ENVADMIN_LOGIN_LOCKOUT_SECONDS (counted from the first), that pair is refused until the window
ends; a success clears it. The token endpoint: ENVADMIN_TOKEN_RATE per client address.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

LOCKED_MESSAGE = "Too many failed sign-ins for this username. Try again in {minutes} minutes."


def client_address(request) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is whatever the client wants it to be unless a proxy
    # rewrites it, and a spoofable key would make the throttle useless.
    return request.META.get("REMOTE_ADDR", "")


def _key(username: str, address: str) -> str:
    # Hashed: the username never lands in the cache as written, and any length fits the key.
    digest = hashlib.sha256(f"{username.casefold()}\0{address}".encode()).hexdigest()
    return f"login-failures:{digest}"


def is_locked(username: str, address: str) -> bool:
    return (cache.get(_key(username, address)) or 0) >= settings.ENVADMIN_LOGIN_FAILURES


def record_failure(username: str, address: str) -> None:
    key = _key(username, address)
    # add() starts the window at the first failure; incr() keeps its expiry.
    cache.add(key, 0, settings.ENVADMIN_LOGIN_LOCKOUT_SECONDS)
    try:
        cache.incr(key)
    except ValueError:  # expired between add() and incr(): a new window
        cache.set(key, 1, settings.ENVADMIN_LOGIN_LOCKOUT_SECONDS)


def clear_failures(username: str, address: str) -> None:
    cache.delete(_key(username, address))


def locked_message() -> str:
    minutes = max(1, round(settings.ENVADMIN_LOGIN_LOCKOUT_SECONDS / 60))
    return LOCKED_MESSAGE.format(minutes=minutes)


class TokenRateThrottle(SimpleRateThrottle):
    """POST /api/v1/token per client address; DRF answers 429 with Retry-After."""

    scope = "token"

    def get_rate(self):
        # Read at request time (DRF's THROTTLE_RATES is bound at import): tests and operators
        # change it through settings.
        return settings.ENVADMIN_TOKEN_RATE

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}
