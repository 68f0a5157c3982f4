"""What the API refuses before any view sees the request."""

from urllib.parse import unquote_plus

from django.http import HttpResponseBadRequest, JsonResponse

from .errors import error_body

MESSAGE = "The URL contains a NUL character (%00), which is not allowed."


class RejectNulMiddleware:
    """PostgreSQL cannot store or compare a NUL in text, and no parameter of Run:ai's API can
    hold one: a NUL in the URL is a 400 on every database."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = unquote_plus(request.META.get("QUERY_STRING", ""), errors="replace")
        if "\x00" in query or "\x00" in request.path:
            if request.path.startswith("/api/"):
                return JsonResponse(error_body(400, MESSAGE), status=400)
            return HttpResponseBadRequest(MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


def served_methods(view_class) -> list[str]:
    """The methods a class-based view answers, as Django's View.options() lists them."""
    methods = [m.upper() for m in view_class.http_method_names if hasattr(view_class, m)]
    if "GET" in methods and "HEAD" not in methods:
        methods.insert(methods.index("GET") + 1, "HEAD")  # View.setup() answers HEAD with get
    return methods


class UnsupportedMethodMiddleware:
    """A method an API path does not serve is a 405 naming the ones it does, with or without a
    token: the methods are public (/api/schema/), and a 401 would send the client looking for a
    credential that cannot help."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_class = getattr(view_func, "view_class", None)
        if view_class is None or not request.path.startswith("/api/"):
            return None
        methods = served_methods(view_class)
        if request.method in methods:
            return None
        return JsonResponse(
            error_body(405, f'Method "{request.method}" not allowed.'),
            status=405,
            headers={"Allow": ", ".join(methods)},
        )
