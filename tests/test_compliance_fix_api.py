"""POST /api/envadmin/v1/compliance-fix: the fixed draft, its changes and its compliance, in
local and proxy mode; nothing is saved."""

import json

import pytest

from envadmin.inventory.models import Environment

from .conftest import environment_document, post_json
from .test_environment_compliance import PREVIEW, put_policy
from .upstream_stub import Reply

FIX = "/api/envadmin/v1/compliance-fix"


@pytest.fixture
def policies(org, admin):
    put_policy(admin, "workspaces", {"scope": "tenant"}, {
        "rules": {"imagePullPolicy": {"options": [{"value": "IfNotPresent"},
                                                  {"value": "Never"}]}},
        "defaults": {"imagePullPolicy": "Never"},
    })  # fmt: skip
    put_policy(admin, "workspaces", {"scope": "department", "departmentId": "d1"}, {
        "rules": {"security": {"runAsUid": {"min": 1000, "max": 2000, "step": 10}}},
    })  # fmt: skip
    return admin


def draft(spec=None, **meta):
    spec = {"image": "python:3.11", "imagePullPolicy": "Always", "uidGidSource": "custom",
            "runAsUid": 1234, "workingDir": "/w", **(spec or {})}  # fmt: skip
    meta.setdefault("workloadSupportedTypes", {"training": True})
    return environment_document("draft", spec=spec, **meta)


def body(document, project=7, kind="Workspace", **more):
    return {"environment": document, "projectId": project, "workloadType": kind, **more}


def test_the_fix_complies_and_names_each_change(policies):
    response = post_json(policies, FIX, body(draft()))
    assert response.status_code == 200, response.content
    answer = response.json()
    fixed = answer["environment"]
    assert fixed["spec"] == {
        "image": "python:3.11", "imagePullPolicy": "Never", "uidGidSource": "custom",
        "runAsUid": 1230, "workingDir": "/w",
    }  # fmt: skip
    assert fixed["meta"]["workloadSupportedTypes"] == {"training": True, "workspace": True}
    assert {(c["field"], c["from"], c["to"]) for c in answer["changes"]} == {
        ("workloadSupportedTypes.workspace", None, True),
        ("imagePullPolicy", "Always", "Never"),
        ("security.runAsUid", 1234, 1230),
    }
    before = post_json(policies, PREVIEW, body(draft())).json()["compliance"]["reason"]
    assert {c["because"] for c in answer["changes"]} == {r["details"] for r in before}
    assert answer["unfixable"] == []
    assert answer["compliance"]["compliance"] is True
    # the fixed document is what the preview, and a save, judge compliant
    assert post_json(policies, PREVIEW, body(fixed)).json()["compliance"]["compliance"] is True
    assert not Environment.objects.filter(name="draft").exists()


def test_a_compliant_draft_is_left_alone(policies):
    document = draft({"imagePullPolicy": "IfNotPresent", "runAsUid": 1500},
                     workloadSupportedTypes={"workspace": True})  # fmt: skip
    answer = post_json(policies, FIX, body(document)).json()
    assert answer["changes"] == [] and answer["unfixable"] == []
    assert answer["environment"] == document


def test_what_no_change_can_fix_is_reported(policies):
    put_policy(policies, "workspaces", {"scope": "project", "projectId": 7}, {
        "rules": {"command": {"required": True}},
    })  # fmt: skip
    outside = draft(projectId=8)  # a project beside 7: outside its chain
    answer = post_json(policies, FIX, body(outside)).json()
    assert answer["compliance"]["compliance"] is False
    details = [r["details"] for r in answer["unfixable"]]
    assert any("command is required" in d for d in details)
    assert any("cannot use this environment" in d for d in details)
    assert answer["unfixable"] == answer["compliance"]["reason"]
    assert {c["field"] for c in answer["changes"]} == {
        "workloadSupportedTypes.workspace", "imagePullPolicy", "security.runAsUid",
    }  # fmt: skip


@pytest.mark.parametrize(
    "role, key, project, status",
    [
        ("L1 researcher", "project:7", 7, 200),
        ("Viewer", "project:7", 7, 200),
        ("Department administrator", "department:d1", 7, 200),
        ("L1 researcher", "project:7", 8, 400),  # a project the caller cannot see
    ],
)
def test_who_may_ask(policies, client_for, role, key, project, status):
    response = post_json(client_for(role, key), FIX, body(draft(), project=project))
    assert response.status_code == status, response.content
    if status == 400:
        assert response.json()["message"].startswith("projectId")


def test_an_anonymous_caller_is_refused(org, client):
    response = post_json(client, FIX, body(draft()))
    assert response.status_code == 401
    assert set(response.json()) >= {"code", "message"}


@pytest.mark.parametrize(
    "sent, field",
    [
        ([], "The request body"),
        ({"environment": draft(), "projectId": 7}, "workloadType"),
        ({"environment": draft(), "workloadType": "Workspace"}, "projectId"),
        (body(draft(), project="7"), "projectId"),
        (body(draft(), project=999), "projectId"),
        (body(draft(), kind={"a": 1}), "workloadType"),
        (body(draft(), replicaType="Boss"), "replicaType"),
        (body(draft({"image": "Bad Image"})), "spec.image"),
        (body(draft({"runAsUid": "x"})), "spec.runAsUid"),
        (body("not a document"), ""),
    ],
)
def test_bad_input_is_a_400_naming_the_field(policies, sent, field):
    response = post_json(policies, FIX, sent)
    assert response.status_code == 400, response.content
    answer = response.json()
    assert answer["code"] == 400 and answer["message"].startswith(field)


def test_distributed_fixes_the_replica_asked_for(policies):
    put_policy(policies, "distributed", {"scope": "tenant"}, {
        "rules": {"master": {"imagePullPolicy": {"options": [{"value": "Never"}]}},
                  "worker": {"imagePullPolicy": {"options": [{"value": "IfNotPresent"}]}}},
    })  # fmt: skip
    document = draft(workloadSupportedTypes={"distributed": True, "distFramework": "PyTorch"})
    for replica, pull in (("Master", "Never"), ("Worker", "IfNotPresent")):
        answer = post_json(policies, FIX, body(document, kind="Distributed", replicaType=replica))
        assert answer.status_code == 200, answer.content
        assert answer.json()["environment"]["spec"]["imagePullPolicy"] == pull
        assert answer.json()["compliance"]["compliance"] is True
    both = post_json(policies, FIX, body(document, kind="Distributed")).json()
    assert both["compliance"]["compliance"] is False
    assert both["unfixable"]


def test_the_endpoint_is_in_our_openapi_document(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "/api/envadmin/v1/compliance-fix" in schema


def test_proxy_mode_fixes_against_run_ais_effective_policy(db, proxy, stub):
    effective = {
        "rules": {"imagePullPolicy": {"options": [{"value": "IfNotPresent"}],
                                      "sourceOfRule": {"scope": "tenant"}}},
        "defaults": {},
    }  # fmt: skip

    def answer(seen):
        if seen.path.startswith("/api/v1/org-unit/projects/7"):
            return Reply(200, {"id": "7", "name": "team-a", "parentId": "d1", "clusterId": "c"})
        if seen.path.startswith("/api/v2/policy/workspaces"):
            assert "projectId=7" in seen.path
            return Reply(200, {"policy": None, "effective": effective})
        return Reply(404, {"code": 404, "message": "Resource id not found."})

    stub.handler = answer
    response = proxy.post(FIX, data=json.dumps(body(draft())), content_type="application/json")
    assert response.status_code == 200, response.content
    fixed = response.json()
    assert fixed["environment"]["spec"]["imagePullPolicy"] == "IfNotPresent"
    assert fixed["changes"][1]["because"].endswith("choose from IfNotPresent.")
    assert fixed["compliance"] == {"imposed": False, "compliance": True, "reason": []}
    assert stub.seen("POST") == []  # nothing saved upstream
