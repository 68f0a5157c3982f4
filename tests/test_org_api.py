"""Org reads in the contract's shapes, filtered by the caller's access rules."""

import pytest

from .conftest import C1, C2
from .contract import assert_matches_contract


def ok(response):
    assert response.status_code == 200, response.content
    assert_matches_contract("org-unit", response)
    return response.json()


def test_an_administrator_lists_every_project_department_and_cluster(org, admin):
    projects = ok(admin.get("/api/v1/org-unit/projects"))["projects"]
    assert [(p["id"], p["name"], p["parentId"]) for p in projects] == [
        ("7", "team-a", "d1"), ("8", "team-b", "d1"), ("9", "team-c", "d2"), ("10", "team-d", "d3"),
    ]  # fmt: skip
    assert projects[0]["clusterId"] == C1
    departments = ok(admin.get("/api/v1/org-unit/departments"))["departments"]
    assert {d["id"] for d in departments} == {"d1", "d2", "d3"}
    clusters = ok(admin.get("/api/v1/clusters"))
    assert {c["uuid"] for c in clusters} == {C1, C2}


def test_a_project_member_sees_only_its_chain(org, client_for):
    client = client_for("Viewer", "project:7")
    assert [p["name"] for p in ok(client.get("/api/v1/org-unit/projects"))["projects"]] == [
        "team-a"
    ]
    assert [d["id"] for d in ok(client.get("/api/v1/org-unit/departments"))["departments"]] == [
        "d1"
    ]
    assert [c["uuid"] for c in ok(client.get("/api/v1/clusters"))] == [C1]
    assert client.get("/api/v1/org-unit/projects/8").status_code == 404
    assert client.get("/api/v1/org-unit/departments/d2").status_code == 404
    assert client.get(f"/api/v1/clusters/{C2}").status_code == 404


def test_each_unit_is_read_by_id(org, admin):
    assert ok(admin.get("/api/v1/org-unit/projects/9"))["name"] == "team-c"
    assert ok(admin.get("/api/v1/org-unit/departments/d2"))["name"] == "vision"
    assert ok(admin.get(f"/api/v1/clusters/{C2}"))["name"] == "c2"


@pytest.mark.parametrize(
    "path", ["/api/v1/org-unit/projects/404", "/api/v1/org-unit/projects/x", "/api/v1/clusters/x"]
)
def test_unknown_units_are_404(org, admin, path):
    response = admin.get(path)
    assert response.status_code == 404
    assert_matches_contract("org-unit", response)


def test_project_lists_page_and_search(org, admin):
    first = ok(admin.get("/api/v1/org-unit/projects", {"limit": 2}))
    assert [p["name"] for p in first["projects"]] == ["team-a", "team-b"]
    assert first["next"] == 2
    rest = ok(admin.get("/api/v1/org-unit/projects", {"offset": 2, "limit": 2}))
    assert [p["name"] for p in rest["projects"]] == ["team-c", "team-d"]
    assert "next" not in rest
    found = ok(admin.get("/api/v1/org-unit/projects", {"search": "TEAM-C"}))
    assert [p["name"] for p in found["projects"]] == ["team-c"]
    bad = admin.get("/api/v1/org-unit/projects", {"limit": 0})
    assert bad.status_code == 400
    assert_matches_contract("org-unit", bad)


def test_a_cluster_is_found_by_its_uppercase_uuid(org, admin):
    response = admin.get(f"/api/v1/clusters/{C1.upper()}")
    assert response.status_code == 200
    assert response.json()["uuid"] == C1
