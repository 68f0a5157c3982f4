"""The token endpoint's rate limit, counted in Django's cache so every instance counts the same
requests. (The sign-in lockout lives in lockout.py, in a table culling cannot touch.)"""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from .clients import client_address


class TokenRateThrottle(SimpleRateThrottle):
    """POST /api/v1/token per client address; DRF answers 429 with Retry-After."""

    scope = "token"

    def get_rate(self):
        # Read at request time (DRF's THROTTLE_RATES is bound at import): tests and operators
        # change it through settings.
        return settings.ENVADMIN_TOKEN_RATE

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}
