"""POST /api/envadmin/v1/policy-impact: what a policy change would do to compliance, checked
against the environment list's own compliance before and after really making the change."""

import json

import pytest

from envadmin.compliance.impact import ProjectCase, policy_impact
from envadmin.policies.models import Policy

from .conftest import post_json, put_json

URL = "/api/envadmin/v1/policy-impact"
POLICY = "/api/v2/policy/workspaces"
LIST = "/api/v1/asset/environment"
PROJECTS = (7, 8, 9, 10)
D1 = {"name": "d1-policy", "scope": "department", "departmentId": "d1"}
# Only python:3.11 may run: tenant-env and p8-env break for d1's projects (7 and 8).
IMAGE_RULE = {"rules": {"image": {"options": [{"value": "python:3.11"}]}}}


def compliance_by_pair(client, kind="Workspace") -> dict:
    """{(project, asset id): compliance} as the list answers it, for every project and the
    environments it can see."""
    found = {}
    for project in PROJECTS:
        params = {"projectId": project, "complyToProject": project, "complyToWorkloadType": kind}
        response = client.get(LIST, params)
        assert response.status_code == 200, response.content
        for entry in response.json()["entries"]:
            found[(project, entry["meta"]["id"])] = entry["compliance"]
    return found


def impact(client, meta, policy, kind="Workspace"):
    return post_json(client, URL, {"workloadType": kind, "meta": meta, "policy": policy})


def predicted(answer) -> dict:
    return {(c["projectId"], c["assetId"]): (c["before"], c["after"]) for c in answer["changes"]}


def changed(before: dict, after: dict) -> dict:
    assert before.keys() == after.keys()
    return {pair: (before[pair], after[pair]) for pair in before if before[pair] != after[pair]}


def stored():
    return sorted(Policy.objects.values_list("workload_type", "scope_key", "document"))


def test_a_new_department_rule_lists_exactly_the_pairs_the_list_then_changes(org, admin):
    before = compliance_by_pair(admin)
    response = impact(admin, D1, IMAGE_RULE)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert stored() == []  # nothing saved

    assert put_json(admin, POLICY, {"meta": D1, "policy": IMAGE_RULE}).status_code == 200
    expected = changed(before, compliance_by_pair(admin))
    assert predicted(answer) == expected
    assert {project for project, _ in expected} == {7, 8}  # d1's projects only
    names = {(c["projectName"], c["assetName"]) for c in answer["changes"]}
    assert ("team-a", "tenant-env") in names and ("team-b", "p8-env") in names
    flips = [c for c in answer["changes"] if c["before"]["compliance"]]
    assert answer["summary"] == {
        "becomeNonCompliant": len(flips),
        "becomeCompliant": 0,
        "reasonsChanged": len(expected) - len(flips),
        "projects": 2,
        "environments": len({asset for _, asset in expected}),
    }
    assert answer["truncated"] is False
    assert answer["judged"]["projects"] == 2
    # Every environment each of d1's projects can see was judged: 4 for team-a, 4 for team-b.
    assert answer["judged"]["pairs"] == 8
    reasons = [r["details"] for c in answer["changes"] for r in c["after"]["reason"]]
    assert any("department 'research'" in r for r in reasons)


def test_deleting_a_policy_lists_the_pairs_that_become_compliant(org, admin):
    assert put_json(admin, POLICY, {"meta": D1, "policy": IMAGE_RULE}).status_code == 200
    before, kept = compliance_by_pair(admin), stored()
    response = impact(admin, {"scope": "department", "departmentId": "d1"}, None)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert stored() == kept  # nothing deleted

    gone = admin.delete(POLICY + "?scope=department&departmentId=d1")
    assert gone.status_code == 204
    expected = changed(before, compliance_by_pair(admin))
    assert predicted(answer) == expected
    became = {(c["projectName"], c["assetName"]) for c in answer["changes"]
              if c["after"]["compliance"]}  # fmt: skip
    assert {("team-a", "tenant-env"), ("team-b", "tenant-env"), ("team-b", "p8-env")} <= became
    assert answer["summary"]["becomeCompliant"] == len(became)
    assert answer["summary"]["becomeNonCompliant"] == 0


def test_an_unchanged_policy_changes_nothing(org, admin):
    assert put_json(admin, POLICY, {"meta": D1, "policy": IMAGE_RULE}).status_code == 200
    answer = impact(admin, D1, IMAGE_RULE).json()
    assert answer["changes"] == [] and answer["summary"]["becomeNonCompliant"] == 0
    assert answer["judged"]["pairs"] == 8


def test_a_tenant_rule_is_judged_for_every_project(org, admin):
    answer = impact(admin, {"scope": "tenant"}, IMAGE_RULE).json()
    assert answer["judged"]["projects"] == len(PROJECTS)
    assert {c["projectId"] for c in answer["changes"]} == set(PROJECTS)


def test_distributed_is_judged_without_a_replica_type_as_the_list_does(org, admin):
    rule = {"rules": {"worker": {"image": {"options": [{"value": "busybox"}]}}}}
    before = compliance_by_pair(admin, "Distributed")
    answer = impact(admin, {"scope": "tenant"}, rule, kind="Distributed").json()
    meta = {"name": "t", "scope": "tenant"}
    saved = put_json(admin, "/api/v2/policy/distributed", {"meta": meta, "policy": rule})
    assert saved.status_code == 200
    assert predicted(answer) == changed(before, compliance_by_pair(admin, "Distributed"))
    assert answer["changes"]


# --- who may ask ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, key, status",
    [
        ("System administrator", "tenant", 200),
        ("System administrator", "department:d1", 200),
        ("System administrator", "cluster:3f1c2a9e-5b7d-4c1e-9a2f-0d6b8e4c7a11", 200),
        ("System administrator", "project:7", 403),  # below the node: may not write its policy
        ("System administrator", "department:d2", 403),  # a sibling
        ("Environment administrator", "tenant", 403),
        ("Research manager", "department:d1", 403),
        ("Viewer", "tenant", 403),
    ],
)
def test_only_who_may_write_the_policy_may_ask(org, client_for, role, key, status):
    client = client_for(role, key)
    response = impact(client, D1, IMAGE_RULE)
    assert response.status_code == status, response.content
    put = put_json(client, POLICY + "?validateOnly=true", {"meta": D1, "policy": IMAGE_RULE})
    assert put.status_code == status  # the same answer as the PUT


def test_without_a_token_it_is_a_401(org, client):
    assert post_json(client, URL, {"workloadType": "Workspace"}).status_code == 401


def test_a_department_admin_sees_only_its_projects(org, client_for):
    answer = impact(client_for("System administrator", "department:d1"), D1, IMAGE_RULE).json()
    assert {c["projectId"] for c in answer["changes"]} == {7, 8}


# --- invalid requests: the PUT's 400, and bounds ------------------------------------------------


@pytest.mark.parametrize(
    "meta, policy",
    [
        (D1, {"rules": {"security": {"runAsUid": {"min": 5, "max": 1}}}}),
        (D1, {"rules": {"image": "required"}}),
        (D1, {"rules": {"image": {"options": [{"value": str(n)} for n in range(1001)]}}}),
        (D1, {"imposedAssets": ["not-a-uuid"]}),
        (D1, ["not", "an", "object"]),
        ({"name": "x", "scope": "department"}, {}),
        ({"name": "x", "scope": "department", "departmentId": "nope"}, {}),
        ({"name": "x" * 256, "scope": "tenant"}, {}),
        ({"name": "x", "scope": "galaxy"}, {}),
        ("tenant", {}),
    ],
)
def test_an_invalid_policy_answers_the_400_the_put_would(org, admin, meta, policy):
    put = put_json(admin, POLICY + "?validateOnly=true", {"meta": meta, "policy": policy})
    response = impact(admin, meta, policy)
    assert put.status_code == 400
    assert response.status_code == 400 and response.json() == put.json()


def test_a_rule_held_elsewhere_on_the_branch_answers_the_puts_conflict(org, admin):
    tenant = {"name": "t", "scope": "tenant"}
    assert put_json(admin, POLICY, {"meta": tenant, "policy": IMAGE_RULE}).status_code == 200
    put = put_json(admin, POLICY + "?validateOnly=true", {"meta": D1, "policy": IMAGE_RULE})
    response = impact(admin, D1, IMAGE_RULE)
    assert put.status_code == 400 and "only one policy of a branch" in put.json()["message"]
    assert response.status_code == 400 and response.json() == put.json()


@pytest.mark.parametrize(
    "body, words",
    [
        ([1, 2], "JSON object"),
        ({"workloadType": "Workspace", "meta": D1}, "policy: required"),
        ({"workloadType": "Nap", "meta": D1, "policy": None}, "workloadType"),
        ({"workloadType": {"a": 1}, "meta": D1, "policy": None}, "workloadType"),
        ({"workloadType": "Workspace", "meta": D1, "policy": None, "extra": 1}, "extra"),
    ],
)
def test_a_malformed_request_is_a_400(org, admin, body, words):
    response = admin.post(URL, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert words in response.json()["message"]


def test_the_listed_pairs_are_bounded_and_the_summary_counts_them_all():
    supported = {"workspace": True}
    environments = {
        f"e{n}": {"meta": {"id": f"e{n}", "name": f"env-{n}", "workloadSupportedTypes": supported},
                  "spec": {}}
        for n in range(5)
    }  # fmt: skip
    rule = {"rules": {"image": {"required": True}}}
    cases = [ProjectCase(p, f"p{p}", [], [({"scope": "tenant"}, rule)], tuple(environments))
             for p in range(3)]  # fmt: skip
    answer = policy_impact(cases, environments, "Workspace", max_changes=4)
    assert len(answer["changes"]) == 4 and answer["truncated"] is True
    assert answer["summary"]["becomeNonCompliant"] == 15
    assert answer["judged"] == {"projects": 3, "environments": 5, "pairs": 15}


def test_a_fixed_number_of_queries_whatever_the_size(org, admin, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        assert impact(admin, {"scope": "tenant"}, IMAGE_RULE).status_code == 200
