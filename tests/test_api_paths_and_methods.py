"""A request under /api/ that no operation serves gets the contract's error body: 404 for a path
the API does not have, 405 for a method its path does not serve. With or without a token, and
with a signed-in session's cookies too: never Django's HTML, never the CSRF check's 403."""

import json
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from envadmin.accounts.tokens import issue
from envadmin.api import urls as api_urls

from .conftest import make_account

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def api_routes() -> dict[str, type]:
    """{an example path: its view class} for every route of envadmin/api/urls.py."""
    routes = {}
    for pattern in api_urls.urlpatterns:
        view_class = getattr(pattern.callback, "view_class", None)
        if view_class is not None:  # the catch-all is a function
            routes["/api/" + re.sub(r"<[^>]+>", "x", str(pattern.pattern))] = view_class
    return routes


ROUTES = api_routes()
# A slash added or dropped makes each real path one the API does not have.
UNKNOWN_PATHS = [
    *(path[:-1] if path.endswith("/") else f"{path}/" for path in ROUTES),
    "/api/nope",
    "/api/v1/asset/environment/x/y",
]


def unsupported_methods(view_class) -> list[str]:
    served = {m for m in METHODS if hasattr(view_class, m.lower())} | {"OPTIONS"}
    if "GET" in served:
        served.add("HEAD")
    return [m for m in METHODS if m not in served]


@pytest.fixture(params=["anonymous", "bearer token", "signed-in session"])
def caller(request, db):
    if request.param == "anonymous":
        return APIClient(enforce_csrf_checks=True)
    if request.param == "bearer token":
        account, _ = make_account("System administrator", "tenant")
        client = APIClient(enforce_csrf_checks=True)
        token = issue(account)["accessToken"]
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client
    # A browser's request: the session cookie, and no CSRF token to go with it.
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.create_user("browser"))
    return client


def failures_of(caller, path, methods, status) -> list[str]:
    """Each method whose answer is not `status` with the contract's JSON error body."""
    failures = []
    for method in methods:
        response = caller.generic(method, path, data="{}", content_type="application/json")
        answer = f"{method} {path}: {response.status_code} {response.get('Content-Type')}"
        if response.status_code != status or response.get("Content-Type") != "application/json":
            failures.append(f"{answer} {response.content[:80]!r}")
            continue
        if method != "HEAD":  # a HEAD answer has no body
            body = json.loads(response.content)
            if body.get("code") != status or not body.get("message"):
                failures.append(f"{answer} {body}")
        if status == 405 and method in response.get("Allow", method):
            failures.append(f"{answer} Allow: {response.get('Allow')}")
    return failures


@pytest.mark.parametrize("path", UNKNOWN_PATHS)
def test_every_method_on_an_unknown_api_path_is_a_json_404(caller, path):
    assert failures_of(caller, path, METHODS, 404) == []


@pytest.mark.parametrize("path", ROUTES)
def test_a_method_an_api_path_does_not_serve_is_a_json_405(caller, path):
    methods = unsupported_methods(ROUTES[path])
    assert methods, f"{path} serves every method: nothing to check"
    assert failures_of(caller, path, methods, 405) == []


def test_the_table_covers_every_kind_of_route():
    assert {"/api/v1/asset/environment", "/api/v1/asset/environment/x", "/api/v1/token",
            "/api/v2/policy/workspaces", "/api/schema/"} <= set(ROUTES)  # fmt: skip
    assert "/api/v1/asset/environment/" in UNKNOWN_PATHS and "/api/schema" in UNKNOWN_PATHS
