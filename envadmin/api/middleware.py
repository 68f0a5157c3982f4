"""Refuse a NUL in the URL before any view sees it.

PostgreSQL cannot store or compare a NUL in text, so a `?name=%00` that reached a query was a
500 there (SQLite let it through): no parameter of Run:ai's API can hold one.
"""

from urllib.parse import unquote_plus

from django.http import HttpResponseBadRequest, JsonResponse

from .errors import error_body

MESSAGE = "The URL contains a NUL character (%00), which is not allowed."


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = unquote_plus(request.META.get("QUERY_STRING", ""), errors="replace")
        if "\x00" in query or "\x00" in request.path:
            if request.path.startswith("/api/"):
                return JsonResponse(error_body(400, MESSAGE), status=400)
            return HttpResponseBadRequest(MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
