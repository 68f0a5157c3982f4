"""Every API failure as the contract's error body {code, message, details}."""

import logging
import sys

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response

from envadmin.contract.errors import BackendError, flatten_errors
from envadmin.database_outage import database_unavailable, is_outage

CHALLENGE = 'Bearer realm="envadmin"'

logger = logging.getLogger(__name__)


def error_body(status: int, message: str, details: str | None = None) -> dict:
    body = {"code": status, "message": message}
    if details:
        body["details"] = details
    return body


def exception_handler(exc, context):
    if isinstance(exc, BackendError):
        headers = {"WWW-Authenticate": CHALLENGE} if exc.status == 401 else {}
        current = getattr(exc, "current", None)
        # A refused stale edit: the version to base a retry on.
        if getattr(exc, "etag", None):
            headers["ETag"] = exc.etag
        elif current:
            headers["ETag"] = f'"{current["meta"].get("updateCount")}"'
        return Response(exc.body(), status=exc.status, headers=headers)
    if is_outage(exc):
        return database_unavailable(context["request"], exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Resource id not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.NotAuthenticated):
        return Response(
            error_body(401, "Authentication is required: send 'Authorization: Bearer <token>'."),
            status=401,
            headers={"WWW-Authenticate": CHALLENGE},
        )
    if isinstance(exc, exceptions.APIException):
        if isinstance(exc.detail, dict | list):
            flat = flatten_errors(exc.detail)
            path, messages = next(iter(flat.items()))
            message = f"{path}: {messages[0]}"
            details = "; ".join(f"{p}: {' '.join(m)}" for p, m in flat.items())
            details = details if details != message else None
        else:
            message, details = str(exc.detail), None
        headers = {}
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        return Response(
            error_body(exc.status_code, message, details), exc.status_code, headers=headers
        )
    return None  # a genuine bug: Django's 500 handler below still answers in the contract's shape


# API clients authenticate with bearer tokens, never the session's cookie: no request to an
# unknown /api/ path may meet Django's CSRF check and its HTML 403.
@csrf_exempt
def api_not_found(request, *args, **kwargs):
    return JsonResponse(error_body(404, f"No API path {request.path}."), status=404)


# Django's 400s for what it refuses before a view runs, in the contract's words.
BAD_REQUEST_MESSAGES = {
    "DisallowedHost": "The Host header names a host this server does not answer for.",
    "RequestDataTooBig": "The request body is too large.",
    "TooManyFieldsSent": "The request has too many fields.",
}


def bad_request(request, exception=None, *args, **kwargs):
    if request.path.startswith("/api/"):
        message = BAD_REQUEST_MESSAGES.get(type(exception).__name__, "Bad request.")
        return JsonResponse(error_body(400, message), status=400)
    from django.views.defaults import bad_request as html_bad_request

    return html_bad_request(request, exception)


def server_error(request, *args, **kwargs):
    error = sys.exc_info()[1]
    if is_outage(error):  # outside a view: a middleware's read or write
        return database_unavailable(request, error)
    logger.error("Unhandled error on %s %s", request.method, request.path, exc_info=error)
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(500, "Something went wrong."), status=500)
    from django.views.defaults import server_error as html_server_error

    return html_server_error(request)
