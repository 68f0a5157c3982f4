"""Proxy mode: UI users sign in with their Run:ai account; their tokens stay server-side.

The password grant's tokens go into the (database-backed) session, never into a cookie, a page
or a log line. They are renewed with the refresh grant before they expire.
"""

import time

from django.contrib import messages
from django.contrib.auth import get_user_model

from envadmin.backends.base import is_proxy
from envadmin.contract.errors import Unauthorized
from envadmin.runai.errors import UpstreamError
from envadmin.runai.tokens import expiry

SESSION_KEY = "runai_tokens"
MARGIN_SECONDS = 30


def _store(session, answer: dict) -> str:
    access = answer.get("accessToken")
    if not isinstance(access, str) or not access:
        raise Unauthorized("Run:ai answered without an access token.")
    session[SESSION_KEY] = {
        "access": access,
        "refresh": answer.get("refreshToken") or session.get(SESSION_KEY, {}).get("refresh"),
        "exp": expiry(access, answer.get("expiresIn"), time.time()),
    }
    return access


class RunaiPasswordBackend:
    """A Django authentication backend that asks Run:ai (password grant) in proxy mode."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not is_proxy() or request is None or not username or not password:
            return None
        local = get_user_model().objects.filter(username=username).first()
        if local is not None and local.has_usable_password():
            # A local account of that name signs in with its own password (next backend);
            # a Run:ai user must never take it over, nor is its password sent to Run:ai.
            return None
        from envadmin.backends.runai import RunaiBackend

        body = {"grantType": "password", "username": username, "password": password}
        try:
            answer = RunaiBackend().grant_token(body)
        except UpstreamError as error:
            if error.status >= 500:
                messages.error(request, f"Signing in through Run:ai failed: {error.message}")
            return None  # wrong credentials: the next backend (a local account) may still match
        user = local
        if user is None:
            user = get_user_model().objects.create_user(username=username)
            user.set_unusable_password()
            user.save(update_fields=["password"])
        _store(request.session, answer)
        return user

    def get_user(self, user_id):
        return get_user_model().objects.filter(pk=user_id, is_active=True).first()


class SessionTokens:
    """The signed-in user's Run:ai tokens: .token() and .refresh() for the proxy backend."""

    def __init__(self, session):
        self.session = session

    def token(self) -> str:
        tokens = self.session[SESSION_KEY]
        if tokens.get("exp") and time.time() > tokens["exp"] - MARGIN_SECONDS:
            return self.refresh()
        return tokens["access"]

    def refresh(self) -> str:
        from envadmin.backends.runai import RunaiBackend

        refresh = (self.session.get(SESSION_KEY) or {}).get("refresh")
        if not refresh:
            raise Unauthorized("Your Run:ai session has expired: sign in again.")
        try:
            answer = RunaiBackend().grant_token(
                {"grantType": "refresh_token", "refreshToken": refresh}
            )
        except UpstreamError as error:
            if error.status < 500:
                raise Unauthorized("Your Run:ai session has expired: sign in again.") from None
            raise
        return _store(self.session, answer)
