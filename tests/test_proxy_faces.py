"""Proxy mode seen from envadmin's own faces, against a stub Run:ai on loopback: what the API
caller and the UI user get when the control plane misbehaves, and that their token is the
one forwarded."""

import json
import time
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from .conftest import PROXY_TOKEN
from .upstream_stub import Reply, closed_port

URL = "/api/v1/asset/environment"
PREVIEW = "/api/envadmin/v1/compliance-preview"
TOKEN = PROXY_TOKEN  # the `proxy` client's bearer token (tests/conftest.py)


def test_the_callers_token_and_parameters_are_forwarded_unchanged(db, proxy, stub):
    stub.script(Reply(200, {"entries": []}))
    response = proxy.get(URL, {"projectId": "7", "complyToWorkloadType": "Workspace"})
    assert response.status_code == 200 and response.json() == {"entries": []}
    seen = stub.seen("GET")[0]
    assert seen.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "projectId=7" in seen.path and "complyToWorkloadType=Workspace" in seen.path


def test_answers_are_passed_on_exactly(db, proxy, stub):
    document = {"meta": {"name": "x", "id": "1"}, "spec": {"image": "y"}, "extra": [1, 2]}
    stub.script(Reply(202, document))
    response = proxy.post(URL, data=json.dumps({"meta": {}}), content_type="application/json")
    assert response.status_code == 202 and response.json() == document
    assert stub.seen("POST")[0].json() == {"meta": {}}


@pytest.mark.parametrize(
    "reply, status, words",
    [
        (Reply(404, {"code": 404, "message": "Resource id not found."}), 404, "Resource id"),
        (Reply(409, {"code": 409, "message": "Resource with this name"}), 409, "with this name"),
        (Reply(500, {"code": 500, "message": "boom"}), 502, "control plane failed"),
        (Reply(503, {"code": 503, "message": "later"}, {"Retry-After": "100"}), 503, "Run:ai"),
        (Reply(200, "<html>not json"), 502, "not JSON"),
        (Reply(200, {}, delay=2), 504, "did not answer"),
    ],
)
def test_upstream_failures_become_the_contracts_error_body(db, proxy, stub, reply, status, words):
    stub.default = reply
    started = time.monotonic()
    response = proxy.get(f"{URL}/00000000-0000-0000-0000-000000000001")
    assert time.monotonic() - started < 3  # bounded by the configured timeouts
    assert response.status_code == status
    body = response.json()
    assert body["code"] == status and words in body["message"]


def test_a_refused_connection_is_a_503_that_names_the_control_plane(db, settings, proxy):
    settings.RUNAI_URL = f"http://127.0.0.1:{closed_port()}"
    response = proxy.get(URL)
    assert response.status_code == 503
    assert "Cannot reach the Run:ai control plane" in response.json()["message"]


def test_a_post_is_never_sent_twice(db, proxy, stub):
    stub.default = Reply(503, {"code": 503, "message": "busy"})
    response = proxy.post(URL, data=json.dumps({"meta": {}}), content_type="application/json")
    assert response.status_code == 503
    assert len(stub.seen("POST")) == 1


def test_the_token_endpoint_is_forwarded(db, proxy, stub):
    stub.script(Reply(200, {"accessToken": "a.b.c", "expiresIn": 60}))
    body = {"grantType": "app_token", "AppId": "x", "AppSecret": "y"}
    response = APIClient().post("/api/v1/token", body, format="json")
    assert response.status_code == 200 and response.json()["accessToken"] == "a.b.c"
    assert stub.seen("POST")[0].json() == body


def test_the_ui_shows_a_banner_and_keeps_the_form_when_the_control_plane_is_down(
    db, settings, proxy, client
):
    settings.RUNAI_URL = f"http://127.0.0.1:{closed_port()}"
    settings.RUNAI_CLIENT_ID, settings.RUNAI_CLIENT_SECRET = "sa", "secret"
    user = get_user_model().objects.create_user("local", password="x")
    client.force_login(user)
    page = client.get("/environments/")
    assert page.status_code == 503
    assert "Run:ai is not answering" in page.content.decode()
    typed = {"placement": "tenant", "name": "my-env", "image": "python:3.12",
             "env-TOTAL_FORMS": "0", "env-INITIAL_FORMS": "0",
             "conn-TOTAL_FORMS": "0", "conn-INITIAL_FORMS": "0"}  # fmt: skip
    response = client.post("/environments/new", typed)
    body = response.content.decode()
    assert response.status_code == 200  # the form itself, not an error page
    assert "Cannot reach the Run:ai control plane" in body
    assert 'value="my-env"' in body and 'value="python:3.12"' in body


def test_check_runai_reports_what_it_found(live_server, transactional_db):
    from envadmin.snapshot import loader

    from .conftest import DATA

    loader.load(loader.read_file(DATA / "small.yaml"))
    out = StringIO()
    call_command("create_service_account", "check", "--role", "Viewer", "--scope", "tenant",
                 stdout=out)  # fmt: skip
    credentials = json.loads(out.getvalue())
    out = StringIO()
    call_command("check_runai", "--url", live_server.url, "--client-id", credentials["clientId"],
                 "--client-secret", credentials["clientSecret"], stdout=out)  # fmt: skip
    text = out.getvalue()
    assert "authenticated" in text and "c1" in text and "4 projects" in text
    assert credentials["clientSecret"] not in text
    with pytest.raises(CommandError, match="refused envadmin's service account"):
        call_command("check_runai", "--url", live_server.url, "--client-id",
                     credentials["clientId"], "--client-secret", "wrong")  # fmt: skip
    with pytest.raises(CommandError, match="Cannot reach"):
        call_command("check_runai", "--url", f"http://127.0.0.1:{closed_port()}", "--client-id",
                     "x", "--client-secret", "y")  # fmt: skip


def test_a_run_ai_sign_in_never_takes_over_a_local_account(db, proxy, stub, client):
    get_user_model().objects.create_superuser("researcher", password="local-secret-1")
    stub.default = Reply(200, {"accessToken": "a.b.c", "refreshToken": "r", "expiresIn": 600})
    refused = client.post("/login", {"username": "researcher", "password": "runai-password"})
    assert refused.status_code == 200  # the login form again, with its error
    assert stub.seen("POST") == []  # the local account's name never sends a password upstream
    local = client.post("/login", {"username": "researcher", "password": "local-secret-1"})
    assert local.status_code == 302


def test_a_run_ai_user_signs_in_and_keeps_the_token_server_side(db, proxy, stub, client):
    stub.script(Reply(200, {"accessToken": "a.b.c", "refreshToken": "r", "expiresIn": 600}))
    response = client.post("/login", {"username": "alice", "password": "runai-password"})
    assert response.status_code == 302
    assert stub.seen("POST")[0].json()["grantType"] == "password"
    assert all("a.b.c" not in value.value for value in client.cookies.values())
    user = get_user_model().objects.get(username="alice")
    assert not user.has_usable_password()


def test_a_run_ai_user_s_pages_carry_their_own_token_renewed_before_it_expires(
    db, proxy, stub, client
):
    def run_ai(seen):
        if seen.path == "/api/v1/token":
            if seen.json()["grantType"] == "password":  # lives 10 s: inside the renewal margin
                return Reply(200, {"accessToken": "first", "refreshToken": "r1", "expiresIn": 10})
            return Reply(200, {"accessToken": "second", "refreshToken": "r2", "expiresIn": 600})
        org = {"/api/v1/clusters": [], "/api/v1/org-unit/departments": {"departments": []},
               "/api/v1/org-unit/projects": {"projects": []}}  # fmt: skip
        return Reply(200, org.get(seen.path.partition("?")[0], {"entries": []}))

    stub.handler = run_ai
    assert client.post("/login", {"username": "alice", "password": "pw"}).status_code == 302
    assert client.get("/environments/").status_code == 200
    grants = [seen.json() for seen in stub.seen("POST") if seen.path == "/api/v1/token"]
    assert grants[1:] == [{"grantType": "refresh_token", "refreshToken": "r1"}]
    asked = [seen for seen in stub.requests if seen.path != "/api/v1/token"]
    assert {seen.headers["Authorization"] for seen in asked} == {"Bearer second"}


def test_the_preview_checks_its_request_before_asking_run_ai(db, proxy, stub):
    body = {"environment": {"meta": {"name": "x", "scope": "tenant"}, "spec": {"image": "i"}},
            "projectId": "7", "workloadType": "Workspace"}  # fmt: skip
    response = proxy.post(PREVIEW, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["message"] == "projectId: must be a project id (an integer)."
    assert stub.requests == []


def test_ids_stay_one_path_segment_upstream(db, proxy, stub):
    stub.default = Reply(404, {"code": 404, "message": "Resource id not found."})
    proxy.get(f"{URL}/%3Fscope=tenant")
    proxy.get(f"{URL}/..")
    paths = [seen.path for seen in stub.seen("GET")]
    assert paths[0] == "/api/v1/asset/environment/%3Fscope%3Dtenant"
    assert all(path.startswith("/api/v1/asset/environment/") for path in paths)


def test_a_run_ai_refusal_in_a_page_is_an_error_page_not_a_500(db, settings, proxy, stub, client):
    settings.RUNAI_CLIENT_ID, settings.RUNAI_CLIENT_SECRET = "sa", "secret"
    stub.handler = lambda seen: (
        Reply(200, {"accessToken": "a.b.c", "expiresIn": 600})
        if seen.path.startswith("/api/v1/token")
        else Reply(403, {"code": 403, "message": "You do not have sufficient permissions."})
    )
    client.force_login(get_user_model().objects.create_user("local", password="x"))
    for path in ("/environments/", "/org", "/compliance", "/policies"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "sufficient permissions" in response.content.decode()


def test_a_policy_change_forgets_cached_reads_but_not_the_rest_of_the_cache(db, proxy, stub):
    from django.core.cache import cache

    cache.set("unrelated", "kept")  # e.g. a sign-in throttle counter
    stub.default = Reply(200, {"policies": []})
    for _ in range(2):
        assert proxy.get("/api/v2/policy").status_code == 200
    assert len(stub.seen("GET")) == 1  # the second read came from the cache
    stub.script(Reply(200, {"meta": {}, "policy": {}}))
    written = proxy.put("/api/v2/policy/workspaces", data=json.dumps({"policy": {}}),
                        content_type="application/json")  # fmt: skip
    assert written.status_code == 200
    assert proxy.get("/api/v2/policy").status_code == 200
    assert len(stub.seen("GET")) == 2  # read again after the change
    assert cache.get("unrelated") == "kept"
