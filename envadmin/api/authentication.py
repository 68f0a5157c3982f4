"""Authorization: Bearer <access token> on every API call, as Run:ai requires."""

from dataclasses import replace

import jwt
from rest_framework import authentication

from envadmin.accounts.access import Caller
from envadmin.accounts.tokens import read_access_token
from envadmin.api.errors import CHALLENGE
from envadmin.backends.base import is_proxy
from envadmin.contract.errors import Unauthorized
from envadmin.security.clients import client_address


class AuthenticatedCaller(Caller):
    """A Caller that DRF's IsAuthenticated accepts."""

    is_authenticated = True


class BearerTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None  # DRF answers 401 with the contract's error body
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("Send the token as 'Authorization: Bearer <token>'.")
        # REMOTE_ADDR, or X-Forwarded-For only as far as ENVADMIN_TRUSTED_PROXIES vouch for it.
        address = client_address(request)
        if is_proxy():
            # Run:ai issued the token and Run:ai judges it: it is forwarded unchanged.
            caller = AuthenticatedCaller(_unverified_subject(token), token=token, address=address)
            return caller, token
        # Refused unless the token's account is still as it was when the token was issued.
        claims = read_access_token(token)
        subject, subject_type = claims["sub"], claims.get("st")
        caller = AuthenticatedCaller.with_rules_from_db(subject, subject_type, token)
        return replace(caller, origin="api", address=address), token

    def authenticate_header(self, request):
        return CHALLENGE


def _unverified_subject(token: str) -> str:
    """A name for logs and createdBy-style messages; never trusted for permissions."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return "runai-caller"
    return str(claims.get("preferred_username") or claims.get("sub") or "runai-caller")
