"""Signed JWT access and refresh tokens, in the shape Run:ai's token endpoint returns."""

import base64
import json
import secrets
import time

import jwt
from django.conf import settings

from envadmin.contract.errors import InvalidRequest, Unauthorized

from . import subjects

ISSUER = "envadmin"
ALGORITHM = "HS256"


def _client_readable(token: str) -> bool:
    # runapy reads `exp` with base64.b64decode (the standard alphabet) instead of the url-safe
    # one, so a payload segment holding '-' or '_' breaks it. Such tokens are minted again.
    payload = token.split(".")[1]
    if "-" in payload or "_" in payload:
        return False
    try:
        json.loads(base64.b64decode(payload + "=="))
    except ValueError:
        return False
    return True


def _mint(claims: dict) -> str:
    while True:
        claims["jti"] = secrets.token_hex(8)
        token = jwt.encode(claims, settings.ENVADMIN_TOKEN_SECRET, algorithm=ALGORITHM)
        if _client_readable(token):
            return token


def issue(account, chain_start: int | None = None, with_refresh: bool = True) -> dict:
    """Tokens for `account` (a user or a ServiceAccount). A refresh passes the time its chain
    began, at the grant that checked a password or secret: no token of the chain outlives the
    chain's first refresh token."""
    now = int(time.time())
    started = now if chain_start is None else chain_start
    chain_end = started + settings.ENVADMIN_REFRESH_TTL_SECONDS
    expires = now + settings.ENVADMIN_TOKEN_TTL_SECONDS
    if chain_start is not None:
        expires = min(expires, chain_end)
    base = {"iss": ISSUER, **subjects.claims_for(account), "iat": now}
    answer = {
        "accessToken": _mint({**base, "typ": "access", "exp": expires}),
        "expiresIn": expires - now,
    }
    if with_refresh:
        answer["refreshToken"] = _mint(
            {**base, "typ": "refresh", "auth_time": started, "exp": chain_end}
        )
    return answer


def _decode(token: str) -> dict:
    return jwt.decode(
        token,
        settings.ENVADMIN_TOKEN_SECRET,
        algorithms=[ALGORITHM],
        issuer=ISSUER,
        options={"require": ["exp", "iat", "sub", "iss"]},
    )


def read_access_token(token: str) -> dict:
    """The claims of a valid access token whose account is still as it was at issue."""
    try:
        claims = _decode(token)
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The access token has expired: request a new one.") from None
    except jwt.InvalidTokenError:
        raise Unauthorized("The access token is not valid.") from None
    if claims.get("typ") != "access":
        raise Unauthorized("This is not an access token.")
    if subjects.account_for(claims) is None:
        raise Unauthorized(
            "The token's account no longer exists, is disabled or has changed since the token "
            "was issued: request a new token."
        )
    return claims


def refresh(token: str) -> dict:
    """New tokens for a valid refresh token, in the same chain."""
    # The token endpoint declares 400, not 401, for a bad grant.
    try:
        claims = _decode(token)
    except jwt.InvalidTokenError:
        raise InvalidRequest("The refresh token is invalid or expired.") from None
    started = claims.get("auth_time")
    if claims.get("typ") != "refresh" or not isinstance(started, int):
        raise InvalidRequest("This is not a refresh token.")
    account = subjects.account_for(claims)
    if account is None:
        raise InvalidRequest(
            "The refresh token's account no longer exists, is disabled or has changed since "
            "the token was issued."
        )
    return issue(account, chain_start=started)
