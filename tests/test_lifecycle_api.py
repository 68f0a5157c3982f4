"""GET|PUT /api/envadmin/v1/environments/{id}/lifecycle, per role, in local and proxy mode,
and what a state changes for Run:ai's own API (nothing: an archived one is still listed)."""

import pytest

from envadmin.audit.models import AuditEvent
from envadmin.inventory.models import Environment

from .conftest import error_message, put_json
from .upstream_stub import Reply

pytestmark = pytest.mark.usefixtures("org")


def env_id(name):
    return str(Environment.objects.get(name=name).id)


def url(asset_id):
    return f"/api/envadmin/v1/environments/{asset_id}/lifecycle"


def test_unset_reads_as_active(client_for):
    answer = client_for("Viewer", "project:8").get(url(env_id("p8-env")))
    assert answer.status_code == 200
    assert answer.json() == {"state": "active", "message": "", "replacement": None}


@pytest.mark.parametrize(
    "role,key",
    [
        ("System administrator", "tenant"),
        ("Environment administrator", "project:8"),
        ("L1 researcher", "project:8"),
    ],
)
def test_who_may_update_may_deprecate(client_for, role, key):
    client = client_for(role, key)
    body = {"state": "deprecated", "message": "Old CUDA", "replacement": env_id("p7-env")}
    if key != "tenant":
        body["replacement"] = env_id("d1-env")  # visible from project 8 (its department)
    answer = put_json(client, url(env_id("p8-env")), body)
    assert answer.status_code == 200, answer.content
    assert answer.json() == body
    assert client.get(url(env_id("p8-env"))).json() == body
    event = AuditEvent.objects.filter(asset_id=env_id("p8-env")).first()
    assert any(
        c["field"] == "lifecycle.state" and c["after"] == "deprecated" for c in event.changes
    )


@pytest.mark.parametrize("role", ["Viewer", "L2 researcher"])
def test_who_may_only_read_is_forbidden(client_for, role):
    answer = put_json(client_for(role, "project:8"), url(env_id("p8-env")), {"state": "archived"})
    assert "may not" in error_message(answer, 403)
    assert not AuditEvent.objects.filter(asset_id=env_id("p8-env"), action="update").exists()


def test_a_read_only_built_in_environment_cannot_be_changed(admin):
    error_message(put_json(admin, url(env_id("tenant-env")), {"state": "deprecated"}), 403)


def test_out_of_reach_is_not_found_for_read_and_write(client_for):
    outsider = client_for("System administrator", "project:9")
    error_message(outsider.get(url(env_id("p8-env"))), 404)
    error_message(put_json(outsider, url(env_id("p8-env")), {"state": "deprecated"}), 404)
    error_message(put_json(outsider, url("nope"), {"state": "deprecated"}), 404)


def test_a_replacement_out_of_reach_is_refused_next_to_its_field(client_for):
    client = client_for("System administrator", "project:8")
    body = {"state": "deprecated", "replacement": env_id("p9-env")}
    answer = put_json(client, url(env_id("p8-env")), body)
    assert error_message(answer).startswith("replacement:")


def test_an_archived_environment_is_no_replacement(admin):
    put_json(admin, url(env_id("p9-env")), {"state": "archived"})
    body = {"state": "deprecated", "replacement": env_id("p9-env")}
    assert "archived" in error_message(put_json(admin, url(env_id("p8-env")), body))


def test_without_a_token_it_is_unauthorized(client):
    error_message(client.get(url(env_id("p8-env"))), 401)


@pytest.mark.parametrize(
    "body",
    [{}, {"state": "gone"}, {"state": "active", "x": 1},
     {"state": "deprecated", "message": "x" * 501}, {"state": "deprecated", "message": ["a"]},
     "text", {"state": "active", "replacement": 3}],
)  # fmt: skip
def test_bad_bodies_are_400(admin, body):
    error_message(put_json(admin, url(env_id("p8-env")), body))


def test_archiving_one_a_template_uses_is_409_naming_it(admin):
    message = error_message(put_json(admin, url(env_id("p7-env")), {"state": "archived"}), 409)
    assert "t-p7" in message
    assert admin.get(url(env_id("p7-env"))).json()["state"] == "active"
    # Deprecating it is fine.
    assert put_json(admin, url(env_id("p7-env")), {"state": "deprecated"}).status_code == 200


def test_runai_api_still_lists_and_reads_an_archived_environment(admin):
    assert put_json(admin, url(env_id("p8-env")), {"state": "archived"}).status_code == 200
    names = [e["meta"]["name"] for e in admin.get("/api/v1/asset/environment").json()["entries"]]
    assert "p8-env" in names
    assert admin.get(f"/api/v1/asset/environment/{env_id('p8-env')}").status_code == 200


# --- proxy mode: the environment is Run:ai's, the lifecycle envadmin's ---------------------


def upstream_environment(asset_id, name, templates=()):
    return {
        "meta": {"id": asset_id, "name": name, "scope": "project", "projectId": 7,
                 "projectName": "team-a", "updateCount": 1},
        "spec": {"image": "python:3.11"},
        "usedBy": {"workspaces": [], "templates": [{"id": f"t-{t}", "name": t} for t in templates]},
    }  # fmt: skip


PERMITTED = "/api/v1/authorization/permitted-scopes"


def upstream(environments, may_update=None):
    """A Run:ai stub handler: GET of one environment answers it, others 404; the permitted
    scopes for updating environments are `may_update` (PermittedScopes)."""
    by_id = {e["meta"]["id"]: e for e in environments}
    may_update = {"projects": ["7"]} if may_update is None else may_update

    def handle(seen):
        if seen.path == PERMITTED:
            # One question answers every action (create, read, update, delete).
            assert seen.json() == {"resourceType": "environments"}
            return Reply(200, {"create": {}, "read": {}, "update": may_update, "delete": {}})
        asset_id = seen.path.split("?")[0].rsplit("/", 1)[-1]
        if seen.method == "GET" and asset_id in by_id:
            return Reply(200, by_id[asset_id])
        return Reply(404, {"code": 404, "message": "not found"})

    return handle


def test_proxy_mode_sets_and_reads_the_lifecycle(proxy, stub):
    stub.handler = upstream([upstream_environment("e1", "old"), upstream_environment("e2", "new")])
    body = {"state": "deprecated", "message": "use new", "replacement": "e2"}
    answer = put_json(proxy, url("e1"), body)
    assert answer.status_code == 200, answer.content
    assert proxy.get(url("e1")).json() == body
    assert AuditEvent.objects.get(asset_id="e1").asset_name == "old"
    # Nothing was written to Run:ai: its documents stay as they are.
    assert [seen.path for seen in stub.seen() if seen.method != "GET"] == [PERMITTED]


def test_proxy_mode_refuses_archiving_what_a_template_uses(proxy, stub):
    stub.handler = upstream([upstream_environment("e1", "old", templates=["nightly"])])
    assert "nightly" in error_message(put_json(proxy, url("e1"), {"state": "archived"}), 409)


def test_proxy_mode_what_runai_does_not_show_is_not_found(proxy, stub):
    stub.handler = upstream([])
    error_message(proxy.get(url("e9")), 404)
    error_message(put_json(proxy, url("e9"), {"state": "archived"}), 404)


@pytest.mark.parametrize(
    "permitted, allowed",
    [
        ({"projects": ["8"]}, False),
        ({}, False),
        ({"departments": ["d1"]}, True),  # an ancestor of project 7 (its parentId)
        ({"clusters": ["C1"]}, True),  # cluster ids compare in any case
        ({"tenants": ["1"]}, True),
    ],
)
def test_proxy_mode_asks_runai_where_the_caller_may_update(proxy, stub, permitted, allowed):
    project = {"id": "7", "name": "team-a", "parentId": "d1", "clusterId": "c1"}
    environments = upstream([upstream_environment("e1", "old")], may_update=permitted)

    def handle(seen):  # the org units Run:ai lists, where the project's ancestors are read
        if seen.path.startswith("/api/v1/org-unit/projects"):
            return Reply(200, {"projects": [project]})
        if seen.path.startswith("/api/v1/org-unit/departments"):
            return Reply(200, {"departments": []})
        if seen.path.startswith("/api/v1/clusters"):
            return Reply(200, [])
        return environments(seen)

    stub.handler = handle
    answer = put_json(proxy, url("e1"), {"state": "deprecated"})
    assert answer.status_code == (200 if allowed else 403), answer.content
    assert proxy.get(url("e1")).json()["state"] == ("deprecated" if allowed else "active")


def test_proxy_mode_without_an_answer_on_permissions_refuses(proxy, stub):
    environments = upstream([upstream_environment("e1", "old")])
    stub.handler = lambda seen: (
        Reply(404, {"code": 404, "message": "no such path"})
        if seen.path == PERMITTED
        else environments(seen)
    )
    error_message(put_json(proxy, url("e1"), {"state": "deprecated"}), 403)
