"""Every Django authentication backend envadmin adds, in settings.AUTHENTICATION_BACKENDS order:
the sign-in lockout first, then a password checked by the environment backend's control plane
(Run:ai in proxy mode); Django's ModelBackend, last, checks envadmin's own accounts."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from envadmin.backends import get_backend

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


class RunaiPasswordBackend:
    """A password the environment backend checks (EnvironmentBackend.sign_in_with_password):
    in proxy mode Run:ai's password grant, with the user's tokens kept in their session;
    locally none, so the password goes on to ModelBackend."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None or not username or not password:
            return None
        return get_backend().sign_in_with_password(request, username, password)

    def get_user(self, user_id):
        return get_user_model().objects.filter(pk=user_id, is_active=True).first()
