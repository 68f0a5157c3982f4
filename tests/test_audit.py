"""The audit trail: every create, update and delete, from the API and the UI, recorded with
who, when, from where and a field-level diff; kept after delete; filtered, paged, exported;
visible only within the caller's reach; nothing recorded for a refused change; proxy mode too."""

import csv
import io
import json
import re

import pytest
from django.contrib.auth import get_user_model
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse
from rest_framework.test import APIClient

from envadmin.accounts.models import AccessRule, ServiceAccount, SubjectType
from envadmin.audit.models import AuditEvent
from envadmin.inventory.models import Environment

from .conftest import C1, environment_document, post_json, put_json
from .upstream_stub import Reply

ENVIRONMENTS = "/api/v1/asset/environment"
AUDIT = "/api/envadmin/v1/audit"
ACTIVITY = "/activity"
UI = "/environments/"


def client_id_of(client) -> str:
    """The service account behind a client_for() client (the newest one)."""
    return ServiceAccount.objects.latest("pk").client_id


def events(client, **params) -> list[dict]:
    response = client.get(AUDIT, params)
    assert response.status_code == 200, response.json()
    return response.json()["events"]


def changes_of(event) -> dict:
    return {c["field"]: (c["before"], c["after"]) for c in event["changes"]}


# --- the API face ---------------------------------------------------------------------------


def test_api_create_update_delete_are_recorded_with_actor_origin_and_diff(org, admin):
    actor = client_id_of(admin)
    spec = {"image": "python:3.11", "environmentVariables": [{"name": "HOME", "value": "/a"}]}
    created = post_json(admin, ENVIRONMENTS, environment_document("audited", spec=spec)).json()
    asset_id = created["meta"]["id"]
    created["spec"]["image"] = "python:3.12"
    created["spec"]["environmentVariables"][0]["value"] = "/b"
    created["meta"]["description"] = "now described"
    assert put_json(admin, f"{ENVIRONMENTS}/{asset_id}", created).status_code == 202
    assert admin.delete(f"{ENVIRONMENTS}/{asset_id}").status_code == 202
    assert not Environment.objects.filter(pk=asset_id).exists()

    # Kept after the delete, newest first, each with the right actor, origin and diff.
    delete, update, create = events(admin, assetId=asset_id)
    assert [e["action"] for e in (create, update, delete)] == ["create", "update", "delete"]
    for event in (create, update, delete):
        assert event["actor"] == actor and event["clientId"] == actor
        assert event["actorType"] == "application" and event["origin"] == "api"
        assert event["address"] == "127.0.0.1"
        assert event["assetName"] == "audited" and event["scopeKey"] == "project:7"
        assert event["scope"] == "project" and event["scopePath"] == "c1 / research / team-a"
    assert changes_of(create) == {
        "meta.name": (None, "audited"),
        "spec.image": (None, "python:3.11"),
        "spec.environmentVariables[HOME].name": (None, "HOME"),
        "spec.environmentVariables[HOME].value": (None, "/a"),
    }
    assert changes_of(update) == {
        "meta.description": (None, "now described"),
        "spec.image": ("python:3.11", "python:3.12"),
        "spec.environmentVariables[HOME].value": ("/a", "/b"),
    }
    assert (create["updateCount"], update["updateCount"]) == (0, 1)
    assert changes_of(delete)["spec.image"] == ("python:3.12", None)
    assert changes_of(delete)["meta.description"] == ("now described", None)


def test_a_user_token_is_recorded_as_a_user(org, admin):
    get_user_model().objects.create_user("alice", password="pw-alice-1")
    AccessRule.objects.create(subject_type=SubjectType.USER, subject="alice",
                              role="L1 researcher", scope_key="project:7")  # fmt: skip
    token = APIClient().post(
        "/api/v1/token",
        {"grantType": "password", "username": "alice", "password": "pw-alice-1"},
        format="json",
    )
    alice = APIClient()
    alice.credentials(HTTP_AUTHORIZATION=f"Bearer {token.json()['accessToken']}")
    assert post_json(alice, ENVIRONMENTS, environment_document("by-alice")).status_code == 202
    (event,) = events(admin, actor="alice")
    assert (event["actor"], event["actorType"], event["clientId"]) == ("alice", "user", "alice")


@pytest.mark.parametrize("case", ["bad-image", "name-taken", "stale", "forbidden", "unknown"])
def test_a_refused_update_records_nothing(org, admin, client_for, case):
    env = Environment.objects.get(name="p7-env")
    document = admin.get(f"{ENVIRONMENTS}/{env.pk}").json()
    client, headers, status = admin, {}, 400
    if case == "bad-image":
        document["spec"]["image"] = "Not An Image"
    elif case == "name-taken":
        assert post_json(admin, ENVIRONMENTS, environment_document("taken")).status_code == 202
        document["meta"]["name"], status = "TAKEN", 409
    elif case == "stale":
        headers, status = {"HTTP_IF_MATCH": '"5"'}, 412
    elif case == "forbidden":
        client, status = client_for("Viewer", "tenant"), 403
    before = AuditEvent.objects.count()
    url = (
        f"{ENVIRONMENTS}/{env.pk if case != 'unknown' else '00000000-0000-0000-0000-0000000000ff'}"
    )
    status = 404 if case == "unknown" else status
    response = client.put(url, data=json.dumps(document), content_type="application/json",
                          **headers)  # fmt: skip
    assert response.status_code == status, response.json()
    assert AuditEvent.objects.count() == before
    env.refresh_from_db()
    assert env.update_count == 0


def test_a_refused_create_or_delete_records_nothing(org, admin, client_for):
    before = AuditEvent.objects.count()
    clash = post_json(admin, ENVIRONMENTS, environment_document("p7-env"))
    assert clash.status_code == 409
    invalid = post_json(admin, ENVIRONMENTS, environment_document("x", spec={"image": "A B"}))
    assert invalid.status_code == 400
    viewer = client_for("Viewer", "tenant")
    env = Environment.objects.get(name="p7-env")
    assert viewer.delete(f"{ENVIRONMENTS}/{env.pk}").status_code == 403
    builtin = Environment.objects.get(name="tenant-env")
    assert admin.delete(f"{ENVIRONMENTS}/{builtin.pk}").status_code == 403
    assert AuditEvent.objects.count() == before


def test_a_write_whose_event_cannot_be_saved_is_rolled_back(org, monkeypatch):
    from envadmin.accounts.access import Caller
    from envadmin.backends import local

    def broken(*args, **kwargs):
        raise RuntimeError("the audit table is gone")

    monkeypatch.setattr(local, "record", broken)
    admin = Caller("root", SubjectType.USER, (("System administrator", "tenant"),))
    env = Environment.objects.get(name="p7-env")
    document = {"meta": {"name": "renamed"}, "spec": {"image": "python:3.13"}}
    with pytest.raises(RuntimeError):
        local.LocalBackend().update_environment(admin, str(env.pk), document)
    with pytest.raises(RuntimeError):
        local.LocalBackend().delete_environment(admin, str(env.pk))
    with pytest.raises(RuntimeError):
        local.LocalBackend().create_environment(admin, environment_document("never"))
    env.refresh_from_db()
    assert (env.name, env.update_count, env.spec["image"]) == ("p7-env", 0, "python:3.11")
    assert not Environment.objects.filter(name="never").exists()


# --- the API endpoint: filters, paging, errors, visibility, schema --------------------------


@pytest.fixture
def trail(org, admin, client_for):
    """Three changes by two accounts in two projects: (admin client, researcher client)."""
    researcher = client_for("L1 researcher", "project:8")
    a = post_json(admin, ENVIRONMENTS, environment_document("t-a")).json()
    post_json(researcher, ENVIRONMENTS, environment_document("t-b", projectId=8))
    a["spec"]["image"] = "python:3.13"
    put_json(admin, f"{ENVIRONMENTS}/{a['meta']['id']}", a)
    return admin, researcher


def test_filters_select_what_they_name(trail):
    admin, researcher = trail
    researcher_id = client_id_of(researcher)
    assert {e["assetName"] for e in events(admin, actor=researcher_id)} == {"t-b"}
    assert {e["assetName"] for e in events(admin, actor=researcher_id.upper()[:8])} == {"t-b"}
    assert [e["assetName"] for e in events(admin, action="update")] == ["t-a"]
    mine = events(admin, scope="project:7", action="create", origin="api")
    assert "t-a" in {e["assetName"] for e in mine} and "t-b" not in {e["assetName"] for e in mine}
    # A scope type selects every node of that level.
    assert {e["scope"] for e in events(admin, scope="cluster", limit=500)} == {"cluster"}
    assert events(admin, origin="ui") == []
    newest = events(admin)[0]["at"]
    assert [e["at"] for e in events(admin, since=newest)] == [newest]
    assert all(e["at"] <= "2000-01-01" for e in events(admin, until="2000-01-01T00:00:00Z"))
    assert events(admin, until="2000-01-01T00:00:00Z") == []


def test_paging_gives_next_until_the_end(trail):
    admin, _ = trail
    everything = events(admin, limit=500)
    assert len(everything) == AuditEvent.objects.count() > 3
    seen, offset = [], 0
    while offset is not None:
        body = admin.get(AUDIT, {"limit": 3, "offset": offset}).json()
        seen += [e["id"] for e in body["events"]]
        offset = body.get("next")
    assert seen == [e["id"] for e in everything]


@pytest.mark.parametrize(
    "params, words",
    [
        ({"action": "explode"}, "action"),
        ({"origin": "fax"}, "origin"),
        ({"since": "yesterday"}, "since"),
        ({"until": "0001-01-01T00:00:00+14:00"}, "until"),
        ({"scope": "galaxy:1"}, "scope"),
        ({"limit": "0"}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "9" * 30}, "offset"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_parameters_are_a_400_with_the_contract_body(trail, params, words):
    admin, _ = trail
    response = admin.get(AUDIT, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 400 and body["message"].startswith(words)


def test_an_outsider_sees_none_of_another_projects_events(trail, client_for):
    admin, researcher = trail
    outsider = client_for("L1 researcher", "project:10")
    names = {e["assetName"] for e in events(outsider, limit=500)}
    assert not {"t-a", "t-b", "p7-env", "p8-env", "d1-env"} & names
    assert "c2-env" in names  # the outsider's own cluster
    # The project 8 researcher sees project 8 and its ancestors, not project 7.
    seen = {e["scopeKey"] for e in events(researcher, limit=500)}
    assert "project:8" in seen and "project:7" not in seen
    assert seen <= {"project:8", "department:d1", f"cluster:{C1}", "tenant"}
    t_a = Environment.objects.get(name="t-a")
    assert events(outsider, assetId=str(t_a.pk)) == []


def test_the_audit_endpoint_answers_as_our_openapi_document_says(trail, client):
    admin, _ = trail
    schema = json.loads(client.get("/api/schema/", HTTP_ACCEPT="application/json").content)
    spec = OpenAPI.from_dict(schema)
    for params in ({"limit": 2}, {"action": "update"}, {"action": "nope"}):
        response = admin.get(AUDIT, params)
        spec.validate_response(
            DjangoOpenAPIRequest(response.wsgi_request), DjangoOpenAPIResponse(response)
        )


# --- the UI face ----------------------------------------------------------------------------


def form_data(name, image, **extra):
    return {"name": name, "image": image, "env-TOTAL_FORMS": "0", "env-INITIAL_FORMS": "0",
            "conn-TOTAL_FORMS": "0", "conn-INITIAL_FORMS": "0", **extra}  # fmt: skip


def test_ui_create_edit_delete_are_recorded_and_shown(org, signed_in):
    client = signed_in("L1 researcher", "project:7", name="rita")
    created = client.post(f"{UI}new", form_data("from-ui", "python:3.11", placement="project:7"))
    assert created.status_code == 302
    env = Environment.objects.get(name="from-ui")
    form = client.get(f"{UI}{env.pk}/edit").content.decode()
    version = re.search(r'name="version" value="([^"]+)"', form).group(1)
    saved = client.post(f"{UI}{env.pk}/edit", form_data("from-ui", "python:3.13", version=version))
    assert saved.status_code == 302

    overview = client.get(f"{UI}{env.pk}").content.decode()
    assert "History (2)" in overview and 'id="history"' not in overview
    detail = client.get(f"{UI}{env.pk}", {"tab": "history"}).content.decode()
    history = detail[detail.index('id="history"') :]
    assert history.count("data-event=") == 2
    assert "rita" in history and "UI" in history
    assert "<code>spec.image</code>" in history and "&quot;python:3.13&quot;" in history

    confirm = client.get(f"{UI}{env.pk}/delete").content.decode()
    version = re.search(r'name="version" value="(\d+)"', confirm).group(1)
    assert client.post(f"{UI}{env.pk}/delete", {"version": version}).status_code == 302
    recorded = AuditEvent.objects.filter(asset_id=str(env.pk)).order_by("at", "id")
    assert [e.action for e in recorded] == ["create", "update", "delete"]
    for event in recorded:
        assert (event.actor, event.origin, event.client_id) == ("rita", "ui", "rita")
        assert event.actor_type == "user" and event.address == "127.0.0.1"
    assert recorded[1].changes == [
        {"field": "spec.image", "before": "python:3.11", "after": "python:3.13"}
    ]

    # After the delete the activity page still shows it, by name, marked deleted.
    page = client.get(ACTIVITY, {"assetId": str(env.pk)}).content.decode()
    assert page.count("data-event=") == 3 and "from-ui" in page and ">deleted<" in page


def test_a_refused_ui_edit_records_nothing(org, signed_in):
    client = signed_in()
    env = Environment.objects.get(name="p7-env")
    before = AuditEvent.objects.count()
    form = client.get(f"{UI}{env.pk}/edit").content.decode()
    version = re.search(r'name="version" value="([^"]+)"', form).group(1)
    bad = client.post(f"{UI}{env.pk}/edit", form_data("p7-env", "Bad Image", version=version))
    assert bad.status_code == 200 and "not a valid container image" in bad.content.decode()
    assert AuditEvent.objects.count() == before


def test_the_activity_page_filters_and_exports_csv(trail, signed_in):
    admin, researcher = trail
    client = signed_in()
    page = client.get(ACTIVITY, {"action": "update"}).content.decode()
    assert page.count("data-event=") == 1 and "t-a" in page and "spec.image" in page
    assert (
        client.get(ACTIVITY, {"actor": client_id_of(researcher)})
        .content.decode()
        .count("data-event=")
        == 1
    )
    by_scope = client.get(ACTIVITY, {"scope": "project:8"}).content.decode()
    assert "t-b" in by_scope and "t-a" not in by_scope
    wrong = client.get(ACTIVITY, {"action": "explode", "page": "999999999999999999999"})
    assert wrong.status_code == 200 and "data-event=" not in wrong.content.decode()
    assert "is not one of" in wrong.content.decode()

    exported = client.get(ACTIVITY, {"scope": "project:7", "format": "csv"})
    assert exported["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    expected = AuditEvent.objects.filter(scope_key="project:7")
    assert len(rows) == expected.count() >= 3
    update = next(r for r in rows if r["Action"] == "update")
    assert update["Environment"] == "t-a" and update["Origin"] == "api"
    assert 'spec.image: "python:3.11" → "python:3.13"' in update["Changes"]


def test_the_activity_page_shows_an_outsider_nothing_of_others(trail, signed_in):
    client = signed_in("L1 researcher", "project:10")
    page = client.get(ACTIVITY).content.decode()
    assert "t-a" not in page and "t-b" not in page and "p7-env" not in page
    csv_text = client.get(ACTIVITY, {"format": "csv"}).content.decode()
    assert "t-a" not in csv_text and "project:7" not in csv_text
    nav = client.get(UI).content.decode()
    assert 'href="/activity"' in nav


# --- proxy mode -----------------------------------------------------------------------------

TOKEN = "eyJhbGciOiJub25lIn0.eyJwcmVmZXJyZWRfdXNlcm5hbWUiOiJwcm94eS11c2VyIn0.sig"  # proxy-user
REMOTE = {
    "meta": {"id": "r-1", "name": "remote", "scope": "project", "projectId": 7,
             "projectName": "team-a", "updateCount": 3},
    "spec": {"image": "python:3.11"},
}  # fmt: skip


@pytest.fixture
def proxy(proxy, settings):
    """tests/conftest.py's proxy client, as a user named in its token, with no retries."""
    settings.RUNAI_RETRIES = 0
    proxy.credentials(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    return proxy


def test_proxy_mode_records_what_run_ai_acknowledged(db, proxy, stub):
    changed = {"meta": {**REMOTE["meta"], "updateCount": 4}, "spec": {"image": "python:3.12"}}
    stub.script(
        Reply(202, REMOTE),  # POST
        Reply(200, REMOTE),  # GET before the PUT
        Reply(202, changed),  # PUT
        Reply(503, {"code": 503, "message": "busy"}),  # GET before the DELETE fails...
        Reply(202, {"code": 202, "message": "Request has been accepted."}),  # ...DELETE works
    )
    assert post_json(proxy, ENVIRONMENTS, {"meta": {}, "spec": {}}).status_code == 202
    update = {"meta": {"name": "remote"}, "spec": {"image": "python:3.12"}}
    assert put_json(proxy, f"{ENVIRONMENTS}/r-1", update).status_code == 202
    assert proxy.delete(f"{ENVIRONMENTS}/r-1").status_code == 202
    assert [s.method for s in stub.requests] == ["POST", "GET", "PUT", "GET", "DELETE"]

    create, update_event, delete = AuditEvent.objects.order_by("at", "id")
    assert [e.action for e in (create, update_event, delete)] == ["create", "update", "delete"]
    for event in (create, update_event, delete):
        assert (event.actor, event.origin, event.asset_id) == ("proxy-user", "api", "r-1")
    assert create.scope_key == "project:7" and create.scope_path == "project team-a"
    assert update_event.changes == [
        {"field": "spec.image", "before": "python:3.11", "after": "python:3.12"}
    ]
    assert update_event.update_count == 4
    assert delete.changes == [] and delete.asset_name == ""  # what is known: the id


def test_proxy_mode_records_nothing_when_run_ai_refuses(db, proxy, stub):
    stub.script(Reply(200, REMOTE), Reply(403, {"code": 403, "message": "no"}))
    update = {"meta": {"name": "remote"}, "spec": {"image": "python:3.12"}}
    assert put_json(proxy, f"{ENVIRONMENTS}/r-1", update).status_code == 403
    stub.script(Reply(409, {"code": 409, "message": "Resource with this name already exists"}))
    assert post_json(proxy, ENVIRONMENTS, {"meta": {}, "spec": {}}).status_code == 409
    assert not AuditEvent.objects.exists()


def test_proxy_mode_shows_a_caller_their_own_events_once_run_ai_accepts_the_token(db, proxy, stub):
    AuditEvent.objects.create(actor="proxy-user", actor_type="user", origin="api",
                              action="create", asset_id="mine", scope_key="tenant")  # fmt: skip
    AuditEvent.objects.create(actor="someone-else", actor_type="user", origin="ui",
                              action="create", asset_id="theirs", scope_key="tenant")  # fmt: skip
    stub.script(Reply(200, []))  # the clusters read that makes Run:ai judge the token
    response = proxy.get(AUDIT)
    assert response.status_code == 200
    assert [e["assetId"] for e in response.json()["events"]] == ["mine"]
    assert stub.seen("GET")[0].headers["Authorization"] == f"Bearer {TOKEN}"
    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION=f"Bearer {TOKEN}x")
    stub.script(Reply(401, {"code": 401, "message": "invalid token"}))
    refused = forged.get(AUDIT)
    assert refused.status_code == 401 and "events" not in refused.json()


def test_a_snapshot_load_is_recorded_as_such_not_as_an_api_call(org):
    loaded = AuditEvent.objects.filter(action="create")
    assert loaded.count() == Environment.objects.count() > 0
    assert set(loaded.values_list("origin", "actor")) == {("snapshot", "snapshot")}


def test_the_history_tab_swaps_only_its_panel_through_htmx(org, signed_in):
    client = signed_in()
    env = Environment.objects.get(name="p7-env")
    panel = client.get(f"{UI}{env.pk}", {"tab": "history"}, HTTP_HX_REQUEST="true")
    body = panel.content.decode()
    assert panel.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div id="tab-panel">') and 'id="history"' in body
    assert 'aria-current="page">History (1)' in body
    overview = client.get(f"{UI}{env.pk}", HTTP_HX_REQUEST="true").content.decode()
    assert "<h2>Placement</h2>" in overview and 'id="history"' not in overview
