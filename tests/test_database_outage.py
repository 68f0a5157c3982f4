"""While the database is unreachable every face answers 503 and says so; once it answers again
the same client is served as before, with nothing restarted.

`database_down()` makes every connection attempt of this process fail as a refused connection
does (Django asks ensure_connection() before each query and each transaction). tests/e2e's
test_6_database_outage.py takes a real server's database away and back.
"""

from contextlib import contextmanager

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError, connections
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from envadmin.accounts.models import AccessRule, SubjectType
from envadmin.accounts.tokens import issue
from envadmin.api.errors import server_error
from envadmin.inventory.models import Environment

from .conftest import make_account

PASSWORD = "outage-pass-123"
API_BODY = {
    "code": 503,
    "message": "Please try again in few minutes.",
    "details": "The database is unavailable.",
}


@contextmanager
def database_down():
    def refuse():
        raise OperationalError("connection to server at 127.0.0.1, port 1 failed: refused")

    # On the class: the request's connection and any new one (the outage probe's) are refused.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(connections["default"]), "ensure_connection", lambda self: refuse())
        yield


@pytest.fixture
def clients(org):
    """A signed-in browser (a superuser with a tenant rule), an anonymous browser, and API
    clients with and without a token."""
    User.objects.create_superuser("root", password=PASSWORD)
    AccessRule.objects.create(subject_type=SubjectType.USER, subject="root",
                              role="System administrator", scope_key="tenant")  # fmt: skip
    browser = Client()
    browser.force_login(User.objects.get(username="root"))
    account, secret = make_account("System administrator", "tenant")
    api = APIClient()
    token = issue(account)["accessToken"]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    grant = {"grantType": "client_credentials", "clientID": account.client_id,
             "clientSecret": secret}  # fmt: skip
    return {"browser": browser, "anonymous": Client(), "api": api, "no token": APIClient(),
            "grant": grant, "env": Environment.objects.get(name="p7-env").id}  # fmt: skip


# face: (client, request(client, clients), status once the database is back)
PAGES = {
    "list page": ("browser", lambda c, known: c.get("/environments/"), 200),
    "detail page": ("browser", lambda c, known: c.get(f"/environments/{known['env']}"), 200),
    "org tree": ("browser", lambda c, known: c.get("/org"), 200),
    "a form's post": (
        "browser",
        lambda c, known: c.post(
            "/environments/review-as", {"project": "7", "workload_type": "Workspace"}
        ),
        302,
    ),
    "sign-in page": ("anonymous", lambda c, known: c.get("/login"), 200),
    "signing in": (
        "anonymous",
        lambda c, known: c.post("/login", {"username": "root", "password": PASSWORD}),
        302,
    ),
    "admin": ("browser", lambda c, known: c.get("/admin/"), 200),
    "admin sign-in page": ("anonymous", lambda c, known: c.get("/admin/login/"), 200),
}
HTMX = {"HX-Request": "true"}
PARTIALS = {
    "list table": ("browser", lambda c, known: c.get("/environments/?sort=-name", headers=HTMX)),
    "detail tab": (
        "browser",
        lambda c, known: c.get(f"/environments/{known['env']}?tab=history", headers=HTMX),
    ),
}
API = {
    "environment list": ("api", lambda c, known: c.get("/api/v1/asset/environment"), 200),
    "environment create": (
        "api",
        lambda c, known: c.post(
            "/api/v1/asset/environment",
            {"meta": {"name": "new", "scope": "tenant"}, "spec": {"image": "python:3.12"}},
            format="json",
        ),
        202,
    ),
    "token grant": (
        "no token",
        lambda c, known: c.post("/api/v1/token", known["grant"], format="json"),
        200,
    ),
}


def assert_says_the_database_is_unreachable(response):
    assert response.status_code == 503, response.content[:300]
    assert response["Retry-After"] == "5"
    assert response["Content-Type"].startswith("text/html")
    assert "The database is unreachable" in response.content.decode()


@pytest.mark.parametrize("face", PAGES)
def test_a_page_is_a_503_saying_the_database_is_unreachable_then_recovers(clients, face):
    name, request, status = PAGES[face]
    client = clients[name]
    with database_down():
        response = request(client, clients)
    assert_says_the_database_is_unreachable(response)
    page = response.content.decode()
    assert "<html" in page and "Sign out" not in page  # a whole page, without the user's menu
    assert request(client, clients).status_code == status


@pytest.mark.parametrize("face", PARTIALS)
def test_an_htmx_request_gets_the_message_alone_then_recovers(clients, face):
    name, request = PARTIALS[face]
    client = clients[name]
    with database_down():
        response = request(client, clients)
    assert_says_the_database_is_unreachable(response)
    assert "<html" not in response.content.decode()  # a fragment, not a page inside the page
    assert request(client, clients).status_code == 200


@pytest.mark.parametrize("face", API)
def test_the_api_is_a_503_with_the_contract_body_then_recovers(clients, face):
    name, request, status = API[face]
    client = clients[name]
    with database_down():
        response = request(client, clients)
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "5"
    assert response.json() == API_BODY
    assert request(client, clients).status_code == status


def test_an_unreachable_database_outside_any_view_is_a_503_too():
    # What a middleware reads or writes (the session, saved after the view) reaches Django's
    # handler500, not the view's exception handling.
    for path, shape in (("/environments/", "text/html"), ("/api/v1/asset/environment", "json")):
        request = RequestFactory().get(path)
        try:
            raise OperationalError("server closed the connection unexpectedly")
        except OperationalError:
            with database_down():
                response = server_error(request)
        assert response.status_code == 503, path
        assert shape in response["Content-Type"]


@pytest.mark.parametrize("path", ["/environments/", "/api/v1/asset/environment"])
def test_a_query_failing_on_a_reachable_database_is_a_server_error_not_an_outage(
    clients, monkeypatch, caplog, path
):
    """A timeout, a deadlock or a missing column while the database answers: a 500 with its
    traceback in the log, never "the database is unavailable"."""

    def failing_query(*args, **kwargs):
        raise OperationalError("canceling statement due to statement timeout")

    monkeypatch.setattr("envadmin.backends.local.LocalBackend.browse_environments", failing_query)
    monkeypatch.setattr("envadmin.backends.local.LocalBackend.list_environments", failing_query)
    # The API's list reads its first rows before answering (local_list.py): fail there.
    monkeypatch.setattr("envadmin.backends.local_list._Entries.chunk", failing_query)
    client = clients["browser"] if path.startswith("/environments") else clients["api"]
    client.raise_request_exception = False
    response = client.get(path)
    assert response.status_code == 500
    assert b"database is unavailable" not in response.content.lower()
    assert any(r.exc_info and "statement timeout" in str(r.exc_info[1]) for r in caplog.records)
