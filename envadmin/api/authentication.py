"""Authorization: Bearer <access token> on every API call, as Run:ai requires."""

from dataclasses import replace

from rest_framework import authentication

from envadmin.accounts.access import Caller
from envadmin.accounts.tokens import read_access_token
from envadmin.api.errors import CHALLENGE
from envadmin.backends import get_backend
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
        forwarded_as = get_backend().forwarded_token_subject(token)
        if forwarded_as is not None:
            # The service that issued the token judges it: it is forwarded unchanged.
            return AuthenticatedCaller(forwarded_as, token=token, address=address), token
        # Refused unless the token's account is still as it was when the token was issued.
        claims = read_access_token(token)
        subject, subject_type = claims["sub"], claims.get("st")
        caller = AuthenticatedCaller.with_rules_from_db(subject, subject_type, token)
        return replace(caller, origin="api", address=address), token

    def authenticate_header(self, request):
        return CHALLENGE
