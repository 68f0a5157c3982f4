"""POST /api/v1/token: the grant types of token.openapi.json that envadmin serves."""

from django.contrib.auth import authenticate

from envadmin.contract.errors import InvalidRequest

from . import tokens
from .models import ServiceAccount

SUPPORTED = ("client_credentials", "app_token", "password", "refresh_token")
UNSUPPORTED = ("exchange_token", "external_token_exchange")
BAD_CLIENT = "Invalid client credentials."


def _field(body: dict, *names: str) -> str | None:
    """A request field by any of its spellings: the contract says clientID and appID, while
    runapy sends AppId and AppSecret."""
    lowered = {str(key).lower(): value for key, value in body.items()}
    for name in names:
        value = lowered.get(name.lower())
        if value is not None:
            if not isinstance(value, str):
                raise InvalidRequest(f"{name} must be a string.")
            return value
    return None


def password_grant_username(body) -> str | None:
    """The username of a password grant request, else None: what the sign-in lockout keys on."""
    if not isinstance(body, dict):
        return None
    fields = {str(key).lower(): value for key, value in body.items()}
    username = fields.get("username")
    if fields.get("granttype") == "password" and isinstance(username, str) and username:
        return username
    return None


def _service_account(client_id, secret) -> ServiceAccount:
    if not client_id or not secret:
        raise InvalidRequest("Both the client id and the client secret are required.")
    account = ServiceAccount.objects.filter(client_id=client_id).first()
    if account is None or not account.check_secret(secret):
        raise InvalidRequest(BAD_CLIENT)
    return account


def grant(body, request=None) -> dict:
    """The token answer for a grant request; `request` lets the sign-in lockout key the
    password grant on the client (envadmin/security/login_backends.py)."""
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    grant_type = _field(body, "grantType")
    if grant_type in ("client_credentials", "app_token"):
        account = _service_account(
            _field(body, "clientID", "appID"), _field(body, "clientSecret", "appSecret")
        )
        return tokens.issue(account)
    if grant_type == "password":
        username, password = _field(body, "username"), _field(body, "password")
        if not username or not password:
            raise InvalidRequest("Both username and password are required.")
        user = authenticate(request, username=username, password=password)
        if user is None:
            raise InvalidRequest("Invalid username or password.")
        return tokens.issue(user)
    if grant_type == "refresh_token":
        refresh = _field(body, "refreshToken")
        if not refresh:
            raise InvalidRequest("refreshToken is required.")
        return tokens.refresh(refresh)
    if grant_type in UNSUPPORTED:
        raise InvalidRequest(f"grantType '{grant_type}' is not supported by envadmin.")
    raise InvalidRequest(
        f"grantType must be one of: {', '.join(SUPPORTED)}.",
        details=f"received {grant_type!r}",
    )
