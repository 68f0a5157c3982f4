"""Signed JWT access and refresh tokens, in the shape Run:ai's token endpoint returns."""

import base64
import json
import secrets
import time

import jwt
from django.conf import settings

from envadmin.contract.errors import InvalidRequest, Unauthorized

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


def issue(subject: str, subject_type: str, with_refresh: bool = True) -> dict:
    now = int(time.time())
    ttl = settings.ENVADMIN_TOKEN_TTL_SECONDS
    base = {"iss": ISSUER, "sub": subject, "st": subject_type, "iat": now}
    answer = {
        "accessToken": _mint({**base, "typ": "access", "exp": now + ttl}),
        "expiresIn": ttl,
    }
    if with_refresh:
        answer["refreshToken"] = _mint(
            {**base, "typ": "refresh", "exp": now + settings.ENVADMIN_REFRESH_TTL_SECONDS}
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
    try:
        claims = _decode(token)
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The access token has expired: request a new one.") from None
    except jwt.InvalidTokenError:
        raise Unauthorized("The access token is not valid.") from None
    if claims.get("typ") != "access":
        raise Unauthorized("This is not an access token.")
    return claims


def read_refresh_token(token: str) -> dict:
    try:
        claims = _decode(token)
    except jwt.InvalidTokenError:
        # The token endpoint declares 400, not 401, for a bad grant.
        raise InvalidRequest("The refresh token is invalid or expired.") from None
    if claims.get("typ") != "refresh":
        raise InvalidRequest("This is not a refresh token.")
    return claims
