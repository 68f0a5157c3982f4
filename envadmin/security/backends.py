"""The lockout at the authentication layer, so every caller of authenticate() shares it."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from . import lockout
from .clients import client_address


class LockoutBackend:
    """First in AUTHENTICATION_BACKENDS: a locked (username, address) or address raises
    PermissionDenied, which makes authenticate() stop before any other backend checks the
    password (Run:ai included). It never signs anyone in itself."""

    def authenticate(self, request, username=None, **credentials):
        username = username or credentials.get(get_user_model().USERNAME_FIELD)
        if request is None or not username:
            return None  # not a client's sign-in (no address to key on)
        refused = lockout.refusal(username, client_address(request))
        if refused:
            setattr(request, lockout.REFUSAL_ATTRIBUTE, refused)
            raise PermissionDenied(refused)
        return None

    def get_user(self, user_id):
        # Client.force_login() (the tests, any code logging a user in without naming a backend)
        # records the first backend in the session: load the user as ModelBackend would.
        return ModelBackend().get_user(user_id)
