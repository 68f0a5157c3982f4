"""Compliance on the environment API, the draft preview, and their agreement."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from envadmin.inventory.models import Environment

from .conftest import C1, environment_document, post_json
from .contract import assert_matches_contract
from .factories import add_environments

URL = "/api/v1/asset/environment"
PREVIEW = "/api/envadmin/v1/compliance-preview"


def put_policy(client, kind, meta, policy):
    response = client.put(
        f"/api/v2/policy/{kind}",
        data=json.dumps({"meta": {"name": "p", **meta}, "policy": policy}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content


@pytest.fixture
def policies(org, admin):
    put_policy(admin, "workspaces", {"scope": "tenant"}, {
        "rules": {"imagePullPolicy": {"options": [{"value": "IfNotPresent"}]}},
    })  # fmt: skip
    put_policy(admin, "workspaces", {"scope": "department", "departmentId": "d1"}, {
        "rules": {"security": {"runAsUid": {"min": 1000}}, "workingDir": {"required": True}},
    })  # fmt: skip
    put_policy(admin, "distributed", {"scope": "cluster", "clusterId": C1}, {
        "rules": {"master": {"command": {"required": True}}},
        "imposedAssets": {"worker": [str(Environment.objects.get(name="cluster-env").id)]},
    })  # fmt: skip
    return admin


def entries(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    assert_matches_contract("environment", response)
    return {e["meta"]["name"]: e for e in response.json()["entries"]}


def test_list_reports_compliance_and_why_not(policies):
    found = entries(policies, projectId=7, complyToProject=7, complyToWorkloadType="Workspace")
    assert found["p7-env"]["compliance"] == {
        "imposed": False, "compliance": False,
        "reason": [{
            "field": "workingDir", "rule": "required",
            "details": "workingDir is required by the policy of department 'research', "
            "but the environment does not set it and the policy gives no default.",
        }],
    }  # fmt: skip
    cluster = found["cluster-env"]["compliance"]
    assert not cluster["compliance"]
    assert any("does not support Workspace" in r["details"] for r in cluster["reason"])
    assert set(found) == {"tenant-env", "cluster-env", "d1-env", "p7-env"}


def test_environments_outside_the_project_are_not_compliant(policies):
    found = entries(policies, complyToProject=7, complyToWorkloadType="Workspace")
    reasons = found["p9-env"]["compliance"]["reason"]
    assert any("team-c" in r["details"] and "team-a" in r["details"] for r in reasons)
    assert all("field" not in r for r in reasons if "cannot use" in r["details"])


def test_distributed_compliance_follows_the_replica_type(policies):
    master = entries(policies, complyToProject=7, complyToWorkloadType="Distributed",
                     complyToReplicaType="Master")["cluster-env"]["compliance"]  # fmt: skip
    assert [r["field"] for r in master["reason"]] == ["master.command"]
    assert master["imposed"] is False
    worker = entries(policies, complyToProject=7, complyToWorkloadType="Distributed",
                     complyToReplicaType="Worker")["cluster-env"]["compliance"]  # fmt: skip
    assert worker == {"imposed": True, "compliance": True, "reason": []}


def test_half_of_the_pair_gives_no_compliance_and_no_error(policies):
    for params in ({"complyToProject": 7}, {"complyToWorkloadType": "Training"}):
        found = entries(policies, **params)
        assert all("compliance" not in e and "usageTimes" not in e for e in found.values())


@pytest.mark.parametrize("project", [999, 8])
def test_an_unknown_or_unseen_project_is_a_400(policies, client_for, project):
    client = client_for("L1 researcher", "project:7")
    response = client.get(URL, {"complyToProject": project, "complyToWorkloadType": "Workspace"})
    assert response.status_code == 400
    assert response.json()["message"].startswith("complyToProject")


def test_get_reports_compliance_and_last_use(policies):
    env = Environment.objects.get(name="p7-env")
    response = policies.get(
        f"{URL}/{env.id}", {"complyToProject": 7, "complyToWorkloadType": "Workspace"}
    )
    assert response.status_code == 200
    assert_matches_contract("environment", response)
    body = response.json()
    assert body["compliance"]["reason"][0]["field"] == "workingDir"
    assert body["usageTimes"] == {"lastUsedByWorkload": "2026-11-01T10:00:00.000Z"}
    training = policies.get(
        f"{URL}/{env.id}", {"complyToProject": 7, "complyToWorkloadType": "Training"}
    ).json()
    assert training["usageTimes"] == {"lastUsedByWorkload": None}


DRAFTS = [
    {"image": "python:3.11", "imagePullPolicy": "Always"},
    {"image": "python:3.11", "workingDir": "/w", "uidGidSource": "custom", "runAsUid": 10},
    {"image": "python:3.11", "workingDir": "/w", "imagePullPolicy": "IfNotPresent"},
    {"image": "python:3.11", "workingDir": "/w", "uidGidSource": "custom", "runAsUid": 5000},
]


@pytest.mark.parametrize("spec", DRAFTS)
@pytest.mark.parametrize("scope", [{"projectId": 7}, {"projectId": 8}])
def test_the_draft_preview_agrees_with_the_saved_environment(policies, spec, scope):
    document = environment_document(
        "draft", workloadSupportedTypes={"workspace": True}, spec=spec, **scope
    )
    preview = post_json(policies, PREVIEW, {
        "environment": document, "projectId": 7, "workloadType": "Workspace",
    })  # fmt: skip
    assert preview.status_code == 200, preview.content
    assert Environment.objects.filter(name="draft").count() == 0  # nothing saved
    saved = post_json(policies, URL, document).json()
    listed = entries(policies, complyToProject=7, complyToWorkloadType="Workspace", name="draft")
    assert preview.json()["compliance"] == listed["draft"]["compliance"]
    assert saved["meta"]["name"] == "draft"


def test_the_preview_names_bad_input(policies):
    response = post_json(policies, PREVIEW, {
        "environment": environment_document(spec={"image": "Bad Image"}),
        "projectId": 7, "workloadType": "Workspace",
    })  # fmt: skip
    assert response.status_code == 400
    assert response.json()["message"].startswith("spec.image")
    for body, field in [
        ({"environment": environment_document(), "projectId": 7}, "workloadType"),
        ({"environment": environment_document(), "workloadType": "Workspace"}, "projectId"),
        ([], "The request body"),
    ]:
        response = post_json(policies, PREVIEW, body)
        assert response.status_code == 400 and response.json()["message"].startswith(field)


def test_the_preview_is_in_our_openapi_document(client):
    assert b"/api/envadmin/v1/compliance-preview" in client.get("/api/schema/").content


@pytest.mark.parametrize("usage", ["true", "false"])
def test_compliance_does_not_add_queries_per_environment(
    policies, usage, django_assert_max_num_queries
):
    params = {"projectId": 7, "usageInfo": usage, "complyToProject": 7}
    params["complyToWorkloadType"] = "Workspace"
    counts = []
    for size in (5, 150):
        Environment.objects.filter(name__startswith="bulk-").delete()
        add_environments(size)
        with django_assert_max_num_queries(10), CaptureQueriesContext(connection) as captured:
            response = policies.get(URL, params)
        assert len(response.json()["entries"]) == size + 4
        counts.append(len(captured))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("project", ["7", 7.0, True])
def test_the_preview_wants_a_project_number(policies, project):
    body = {"environment": environment_document(), "projectId": project,
            "workloadType": "Workspace"}  # fmt: skip
    response = post_json(policies, PREVIEW, body)
    assert response.status_code == 400 and response.json()["message"].startswith("projectId")


@pytest.mark.parametrize("field", ["workloadType", "replicaType"])
@pytest.mark.parametrize("value", [{}, [], ["Workspace"], 7])
def test_a_preview_name_of_another_json_type_is_a_400(org, admin, field, value):
    body = {
        "environment": environment_document(),
        "projectId": 7,
        "workloadType": "Workspace",
        field: value,
    }
    response = post_json(admin, PREVIEW, body)
    assert response.status_code == 400, response.content
    assert response.json() == {"code": 400, "message": f"{field}: must be a string."}


def test_a_valid_preview_still_answers(org, admin):
    body = {"environment": environment_document(), "projectId": 7, "workloadType": "Workspace"}
    response = post_json(admin, PREVIEW, body)
    assert response.status_code == 200, response.content
    assert set(response.json()["compliance"]) >= {"imposed", "compliance"}
