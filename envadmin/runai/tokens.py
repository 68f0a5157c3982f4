"""Token providers for RunaiClient: anything with .token() -> str and .refresh() -> str.

ServiceAccountTokens is envadmin's own service account (RUNAI_CLIENT_ID/RUNAI_CLIENT_SECRET,
the client_credentials grant). Its token stays in this process, never in a cookie, a page or a
log line, and is replaced before it expires so calls rarely meet a 401.

SessionTokens are a web admin user's own, from the password grant: they live in the (database-
backed) session, never in a cookie, a page or a log line, and are renewed with the refresh
grant before they expire.
"""

import threading
import time

import jwt

from envadmin.contract.errors import Unauthorized

from .errors import ControlPlaneFailed, UpstreamError

TOKEN_PATH = "/api/v1/token"
SESSION_KEY = "runai_tokens"
SESSION_MARGIN_SECONDS = 30


def _number(value) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def expiry(token: str, expires_in, now: float) -> float | None:
    """When the token expires (epoch seconds): the JWT's `exp`, else now + `expiresIn`.

    The signature is not checked: Run:ai checks it, envadmin only needs to know when to renew.
    None when neither says (the token is then kept until a 401 replaces it).
    """
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        claims = {}
    exp = _number(claims.get("exp"))
    if exp is not None:
        return exp
    lifetime = _number(expires_in)
    return now + lifetime if lifetime is not None else None


def unverified_subject(token: str) -> str:
    """A name for logs and createdBy-style messages; never trusted for permissions."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return "runai-caller"
    return str(claims.get("preferred_username") or claims.get("sub") or "runai-caller")


class ServiceAccountTokens:
    """client_credentials tokens, fetched once and shared by every thread of the process."""

    def __init__(self, client, client_id: str, client_secret: str, margin: float = 60, clock=None):
        self.client = client
        self.client_id = client_id
        self._secret = client_secret
        self.margin = margin
        self._clock = clock or time.time
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at: float | None = None
        # Bumped by every fetch: lets concurrent refresh() calls share one fetch.
        self._generation = 0

    def __repr__(self):  # the secret and the token stay out of tracebacks and debuggers
        return f"<ServiceAccountTokens client_id={self.client_id!r}>"

    def token(self) -> str:
        with self._lock:
            if self._token is None or (
                self._renew_at is not None and self._clock() >= self._renew_at
            ):
                self._fetch()
            return self._token

    def refresh(self) -> str:
        """A new token, after Run:ai refused the current one (401)."""
        seen = self._generation
        with self._lock:
            # Threads that got their 401 while another thread was fetching use its new token.
            if self._generation == seen:
                self._fetch()
            return self._token

    def _fetch(self) -> None:
        body = {
            "grantType": "client_credentials",
            "clientID": self.client_id,
            "clientSecret": self._secret,
        }
        now = self._clock()
        try:
            _, document = self.client.request("POST", TOKEN_PATH, json=body)
        except UpstreamError as error:
            if 400 <= error.status < 500:
                # A refused service account is envadmin's configuration problem, not the
                # caller's: a 502 that says so, rather than Run:ai's 400 or 401.
                raise ControlPlaneFailed(
                    "The Run:ai control plane refused envadmin's service account "
                    "(RUNAI_CLIENT_ID/RUNAI_CLIENT_SECRET)",
                    f"HTTP {error.status}: {error.message}",
                ) from None
            raise
        token = document.get("accessToken") if isinstance(document, dict) else None
        if not isinstance(token, str) or not token:
            raise ControlPlaneFailed("The Run:ai token endpoint answered without an accessToken")
        expires_at = expiry(token, document.get("expiresIn"), now)
        if expires_at is None:
            self._renew_at = None
        else:
            # Renew `margin` seconds early, but never sooner than half-way through the token's
            # life: short-lived tokens would otherwise be fetched again for every call.
            early = min(self.margin, max(0.0, expires_at - now) / 2)
            self._renew_at = expires_at - early
        self._token = token
        self._generation += 1


def store_in_session(session, answer: dict) -> str:
    """Keep a token grant's answer in the session; returns the access token."""
    access = answer.get("accessToken")
    if not isinstance(access, str) or not access:
        raise Unauthorized("Run:ai answered without an access token.")
    session[SESSION_KEY] = {
        "access": access,
        "refresh": answer.get("refreshToken") or session.get(SESSION_KEY, {}).get("refresh"),
        "exp": expiry(access, answer.get("expiresIn"), time.time()),
    }
    return access


class SessionTokens:
    """The signed-in user's Run:ai tokens, kept in their session by store_in_session."""

    def __init__(self, session, client):
        self.session = session
        self.client = client

    def token(self) -> str:
        tokens = self.session[SESSION_KEY]
        if tokens.get("exp") and time.time() > tokens["exp"] - SESSION_MARGIN_SECONDS:
            return self.refresh()
        return tokens["access"]

    def refresh(self) -> str:
        refresh = (self.session.get(SESSION_KEY) or {}).get("refresh")
        if not refresh:
            raise Unauthorized("Your Run:ai session has expired: sign in again.")
        body = {"grantType": "refresh_token", "refreshToken": refresh}
        try:
            _, answer = self.client.request("POST", TOKEN_PATH, json=body)
        except UpstreamError as error:
            if error.status < 500:
                raise Unauthorized("Your Run:ai session has expired: sign in again.") from None
            raise
        return store_in_session(self.session, answer)
