"""Which environments a list returns: by placement, by filter and within the caller's reach; and
the filter combinations a list refuses."""

import uuid

import pytest

from .conftest import C1, C2, error_message
from .contract import assert_matches_contract

URL = "/api/v1/asset/environment"
ALL = {
    "tenant-env", "cluster-env", "c2-env", "d1-env", "d2-env", "p7-env", "p8-env", "p9-env",
}  # fmt: skip


def names(response):
    assert response.status_code == 200, response.content
    assert_matches_contract("environment", response)
    return {entry["meta"]["name"] for entry in response.json()["entries"]}


@pytest.mark.parametrize(
    "params, expected",
    [
        ({}, ALL),
        ({"projectId": 7}, {"tenant-env", "cluster-env", "d1-env", "p7-env"}),
        ({"projectId": 9}, {"tenant-env", "cluster-env", "d2-env", "p9-env"}),
        ({"projectId": 10}, {"tenant-env", "c2-env"}),
        ({"departmentId": "d1"}, {"tenant-env", "cluster-env", "d1-env"}),
        ({"clusterId": C1}, {"tenant-env", "cluster-env"}),
        ({"clusterId": C2}, {"tenant-env", "c2-env"}),
        ({"projectId": 99}, set()),
        ({"departmentId": "nope"}, set()),
    ],
)
def test_an_id_returns_the_node_and_its_ancestors(org, admin, params, expected):
    assert names(admin.get(URL, params)) == expected


@pytest.mark.parametrize(
    "params",
    [
        {"projectId": 9},
        {"projectId": 12345},
        {"departmentId": "d2"},
        {"departmentId": "nope"},
        {"clusterId": "8a2b4c6d-1e3f-4a5b-8c7d-9e0f1a2b3c4d"},
        {"clusterId": str(uuid.uuid4())},
        {"projectId": 9, "scope": "tenant"},
    ],
)
def test_a_node_out_of_reach_lists_like_one_that_does_not_exist(org, client_for, params):
    caller = client_for("L1 researcher", "project:7")
    assert names(caller.get(URL, params)) == set()


def test_a_visible_node_still_lists_its_chain(org, client_for):
    caller = client_for("L1 researcher", "project:7")
    expected = {"tenant-env", "cluster-env", "d1-env", "p7-env"}
    assert names(caller.get(URL, {"projectId": 7})) == expected
    assert names(caller.get(URL, {"clusterId": C1.upper()})) == {"tenant-env", "cluster-env"}


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"projectId": 7, "scope": "project"}, {"p7-env"}),
        ({"projectId": 7, "scope": "department"}, {"d1-env"}),
        ({"projectId": 7, "scope": "cluster"}, {"cluster-env"}),
        ({"projectId": 7, "scope": "tenant"}, {"tenant-env"}),
        ({"departmentId": "d2", "scope": "department"}, {"d2-env"}),
        ({"clusterId": C1, "scope": "cluster"}, {"cluster-env"}),
        ({"scope": "project"}, {"p7-env", "p8-env", "p9-env"}),
        ({"scope": "department"}, {"d1-env", "d2-env"}),
        ({"scope": "tenant"}, {"tenant-env"}),
        ({"scope": "system"}, set()),
    ],
)
def test_scope_returns_only_assets_of_exactly_that_node(org, admin, params, expected):
    assert names(admin.get(URL, params)) == expected


@pytest.mark.parametrize(
    "params, expected",
    [
        (
            {"clusterId": C1, "includeDescendants": "true"},
            {"tenant-env", "cluster-env", "d1-env", "d2-env", "p7-env", "p8-env", "p9-env"},
        ),
        (
            {"departmentId": "d1", "includeDescendants": "true"},
            {"tenant-env", "cluster-env", "d1-env", "p7-env", "p8-env"},
        ),
        (
            {"projectId": 7, "includeDescendants": "true"},
            {"tenant-env", "cluster-env", "d1-env", "p7-env"},
        ),
        (
            {"departmentId": "d1", "includeDescendants": "false"},
            {"tenant-env", "cluster-env", "d1-env"},
        ),
    ],
)
def test_include_descendants_adds_every_nested_node(org, admin, params, expected):
    assert names(admin.get(URL, params)) == expected


def test_scope_with_include_descendants_is_a_400(org, admin):
    response = admin.get(URL, {"clusterId": C1, "scope": "cluster", "includeDescendants": "true"})
    assert response.status_code == 400
    assert "mutually exclusive" in response.json()["message"]
    assert response.json()["code"] == 400


def test_scope_with_include_descendants_names_include_descendants(org, admin):
    message = error_message(admin.get(URL, {"scope": "project", "includeDescendants": "true"}))
    assert message.startswith("includeDescendants: ")


@pytest.mark.parametrize(
    "params, extra",
    [
        ({"projectId": 7, "departmentId": "d1"}, "departmentId"),
        ({"projectId": 7, "clusterId": C1}, "clusterId"),
        ({"departmentId": "d1", "clusterId": C1}, "clusterId"),
    ],
)
def test_two_node_ids_are_a_400_naming_the_extra_one(org, admin, params, extra):
    assert error_message(admin.get(URL, params)).startswith(f"{extra}: ")


@pytest.mark.parametrize(
    "params, field",
    [
        ({"projectId": "seven"}, "projectId"),
        ({"clusterId": "not-a-uuid"}, "clusterId"),
        ({"scope": "galaxy"}, "scope"),
        ({"isWorkspace": "maybe"}, "isWorkspace"),
        ({"usageInfo": "yes please"}, "usageInfo"),
        ({"distributedFramework": "JAX"}, "distributedFramework"),
        ({"complyToWorkloadType": "Batch"}, "complyToWorkloadType"),
        ({"complyToReplicaType": "Chief"}, "complyToReplicaType"),
    ],
)
def test_a_malformed_parameter_is_a_400_naming_it(org, admin, params, field):
    response = admin.get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 400 and body["message"].startswith(field)


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"name": "p7-env"}, {"p7-env"}),
        ({"name": "P7-ENV"}, set()),
        ({"isWorkspace": "true"}, {"tenant-env", "d2-env", "p7-env", "p8-env"}),
        ({"isTraining": "true"}, {"tenant-env", "cluster-env"}),
        ({"isInference": "true"}, {"d1-env"}),
        ({"isDistributed": "true"}, {"cluster-env", "p9-env"}),
        ({"isTraining": "false"}, ALL - {"tenant-env", "cluster-env"}),
        ({"distributedFramework": "MPI"}, {"p9-env"}),
        ({"distributedFramework": "PyTorch"}, {"cluster-env"}),
        ({"distributedFramework": "TF"}, set()),
        ({"projectId": 7, "isWorkspace": "true"}, {"tenant-env", "p7-env"}),
    ],
)
def test_filters_narrow_the_list(org, admin, params, expected):
    assert names(admin.get(URL, params)) == expected


def test_the_name_filter_keeps_spaces(org, admin):
    assert names(admin.get(URL, {"name": "p7-env"})) == {"p7-env"}
    assert names(admin.get(URL, {"name": " p7-env "})) == set()


def test_compliance_parameters_are_accepted(org, admin):
    params = {"complyToProject": 7, "complyToWorkloadType": "Distributed"}
    params["complyToReplicaType"] = "Worker"
    assert names(admin.get(URL, params)) == ALL


def by_name(response):
    assert response.status_code == 200
    assert_matches_contract("environment", response)
    return {entry["meta"]["name"]: entry for entry in response.json()["entries"]}


def test_used_by_lists_workloads_by_type_and_templates(org, admin):
    entries = by_name(admin.get(URL, {"usageInfo": "true"}))
    p7 = entries["p7-env"]["usedBy"]
    assert p7["workspaces"] == [
        {"id": "6f7e8d9c-0b1a-4c2d-9e3f-4a5b6c7d8e9f", "name": "nb-1", "status": "Running"}
    ]
    assert p7["templates"] == [{"id": "5e6f7a8b-9c0d-4e1f-8a3b-4c5d6e7f8091", "name": "t-p7"}]
    cluster = entries["cluster-env"]["usedBy"]
    assert [w["name"] for w in cluster["trainings"]] == ["train-1"]
    assert [(w["name"], w["status"]) for w in cluster["distributed"]] == [("dist-1", "Failed")]
    assert cluster["workspaces"] == cluster["inferences"] == cluster["templates"] == []
    assert [w["name"] for w in entries["d1-env"]["usedBy"]["inferences"]] == ["serve-1"]
    assert entries["p8-env"]["usedBy"] == {
        "workspaces": [], "trainings": [], "distributed": [], "inferences": [], "templates": [],
    }  # fmt: skip


def test_used_by_is_absent_without_usage_info(org, admin):
    entries = by_name(admin.get(URL))
    assert all("usedBy" not in entry for entry in entries.values())


def test_used_by_shows_only_workloads_the_caller_may_see(org, client_for):
    researcher = client_for("L1 researcher", "project:7")
    entries = by_name(researcher.get(URL, {"usageInfo": "true"}))
    tenant = entries["tenant-env"]["usedBy"]
    assert tenant["workspaces"] == []  # nb-c runs in project 10, outside the caller's reach
    assert [t["name"] for t in tenant["templates"]] == ["t-tenant"]


def test_get_fills_used_by_and_status_on_request(org, admin):
    entry = by_name(admin.get(URL, {"name": "p7-env"}))["p7-env"]
    response = admin.get(f"{URL}/{entry['meta']['id']}", {"usageInfo": "true", "statusInfo": "1"})
    assert response.status_code == 200
    assert_matches_contract("environment", response)
    body = response.json()
    assert body["status"] == {"status": "No status"}
    assert body["usedBy"]["workspaces"][0]["name"] == "nb-1"


def test_status_info_reports_no_status(org, admin):
    entries = by_name(admin.get(URL, {"statusInfo": "true"}))
    assert {entry["status"]["status"] for entry in entries.values()} == {"No status"}
