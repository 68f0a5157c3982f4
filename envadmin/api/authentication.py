"""Authorization: Bearer <access token> on every API call, as Run:ai requires."""

from django.contrib.auth import get_user_model
from rest_framework import authentication

from envadmin.accounts.access import Caller
from envadmin.accounts.models import ServiceAccount, SubjectType
from envadmin.accounts.tokens import read_access_token
from envadmin.contract.errors import Unauthorized


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
        claims = read_access_token(token)
        subject, subject_type = claims["sub"], claims.get("st")
        if not self._subject_exists(subject, subject_type):
            raise Unauthorized("The token's subject no longer exists.")
        caller = AuthenticatedCaller.with_rules_from_db(subject, subject_type, token)
        return caller, token

    @staticmethod
    def _subject_exists(subject, subject_type) -> bool:
        if subject_type == SubjectType.APPLICATION:
            return ServiceAccount.objects.filter(client_id=subject).exists()
        if subject_type == SubjectType.USER:
            return get_user_model().objects.filter(username=subject, is_active=True).exists()
        return False

    def authenticate_header(self, request):
        return 'Bearer realm="envadmin"'
