"""While the database is unreachable every face answers 503 and says so: pages, htmx requests,
the sign-in pages, Django admin and the API (in the contract's error body).

Nothing here keeps state: Django opens the connection when a request first needs it and drops
an unusable one when a request ends, so the first request after the database is back is
served as usual, without a restart.
"""

import logging
from functools import wraps

from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connection, connections
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.http import escape_leading_slashes

from envadmin.contract.errors import Unavailable

logger = logging.getLogger(__name__)

UNREACHABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5
API_ERROR = Unavailable(details="The database is unavailable.")


def is_outage(error: Exception) -> bool:
    """Whether `error` means the database cannot be reached, rather than a query failing on a
    database that is up (a deadlock, a timeout, a missing column: those stay server errors)."""
    if not isinstance(error, UNREACHABLE):
        return False
    if connection.connection is None:  # it failed while connecting
        return True
    probe = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        probe.ensure_connection()
    except UNREACHABLE:
        return True
    finally:
        probe.close()
    return False


def database_unavailable(request, error: Exception) -> HttpResponse:
    logger.error("Database unavailable on %s %s", request.method, request.path, exc_info=error)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.path.startswith("/api/"):
        return JsonResponse(API_ERROR.body(), status=503, headers=headers)
    htmx = getattr(request, "htmx", None)
    partial = bool(htmx) and not htmx.history_restore_request
    template = "database_unavailable.html" + ("#message" if partial else "")
    # Rendered without the request: its context processors (the user, messages) read the
    # database.
    html = render_to_string(
        template, {"retry_url": escape_leading_slashes(request.get_full_path())}
    )
    return HttpResponse(html, status=503, headers=headers)


class DatabaseOutageMiddleware:
    """For what a view (or its template) raises; a failure outside any view, in a middleware,
    reaches handler500 (envadmin.api.errors.server_error), which answers the same."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_outage(exception):
            return database_unavailable(request, exception)
        return None


def needs_database(view):
    """For a page that reads nothing until it is submitted (a sign-in form): check the database
    first, so that the user learns it is down before typing, not after."""

    @wraps(view)
    def checked(request, *args, **kwargs):
        # A connection kept from an earlier request may be one the database dropped meanwhile:
        # ensure_connection() alone takes it as it is (Django runs its health check when a
        # cursor is made), and the form would show as if all were well.
        connection.close_if_health_check_failed()
        connection.ensure_connection()
        return view(request, *args, **kwargs)

    return checked
