"""filterBy, sortBy and sortOrder of the project and department lists (org-unit contract)."""

import pytest

from .conftest import C1, C2
from .contract import assert_matches_contract

PROJECTS = "/api/v1/org-unit/projects"
DEPARTMENTS = "/api/v1/org-unit/departments"


def ok(response, key):
    assert response.status_code == 200, response.content
    assert_matches_contract("org-unit", response)
    return [item["name"] for item in response.json()[key]]


@pytest.mark.parametrize(
    "filters, expected",
    [
        (["name==team-b"], ["team-b"]),
        (["name!=team-b"], ["team-a", "team-c", "team-d"]),
        (["name=@AM-C"], ["team-c"]),
        (["name!@-a"], ["team-b", "team-c", "team-d"]),
        (["name=^team-"], ["team-a", "team-b", "team-c", "team-d"]),
        (["name=$-d"], ["team-d"]),
        (["id==9"], ["team-c"]),
        # Ids compare as numbers: 10 is above 9, though "10" < "9" as text.
        (["id>=9"], ["team-c", "team-d"]),
        (["id<=8"], ["team-a", "team-b"]),
        (["departmentId==d1"], ["team-a", "team-b"]),
        (["parentName==vision"], ["team-c"]),
        ([f"clusterId=={C2}"], ["team-d"]),
        (["createdAt>=2000-01-01T00:00:00Z"], ["team-a", "team-b", "team-c", "team-d"]),
        (["createdAt<=2000-01-01T00:00:00Z"], []),
        # Several filters all apply.
        (["name=^team", "departmentId==d1", "id!=7"], ["team-b"]),
    ],
)
def test_projects_filter_by_field_operator_value(org, admin, filters, expected):
    assert ok(admin.get(PROJECTS, {"filterBy": filters}), "projects") == expected


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"sortBy": "name", "sortOrder": "desc"}, ["team-d", "team-c", "team-b", "team-a"]),
        ({"sortBy": "id", "sortOrder": "desc"}, ["team-d", "team-c", "team-b", "team-a"]),
        ({"sortBy": "id"}, ["team-a", "team-b", "team-c", "team-d"]),
        ({"sortBy": "createdAt", "sortOrder": "asc"}, ["team-a", "team-b", "team-c", "team-d"]),
        ({"sortBy": "parentName"}, ["team-d", "team-a", "team-b", "team-c"]),
    ],
)
def test_projects_sort_by_and_order(org, admin, params, expected):
    assert ok(admin.get(PROJECTS, params), "projects") == expected


def test_filters_sort_search_and_pages_combine(org, admin):
    params = {"search": "team", "filterBy": "id>=8", "sortOrder": "desc", "limit": 2}
    first = admin.get(PROJECTS, params)
    assert ok(first, "projects") == ["team-d", "team-c"]
    assert first.json()["next"] == 2
    assert ok(admin.get(PROJECTS, {**params, "offset": 2}), "projects") == ["team-b"]


def test_filters_only_see_what_the_caller_sees(org, client_for):
    client = client_for("Viewer", "department:d1")
    assert ok(client.get(PROJECTS, {"filterBy": "name=^team"}), "projects") == [
        "team-a", "team-b",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "filters, expected",
    [
        (["name==vision"], ["vision"]),
        (["id!=d2"], ["other", "research"]),
        ([f"clusterId=={C1}"], ["research", "vision"]),
    ],
)
def test_departments_filter_by(org, admin, filters, expected):
    assert ok(admin.get(DEPARTMENTS, {"filterBy": filters}), "departments") == expected


def test_departments_sort(org, admin):
    response = admin.get(DEPARTMENTS, {"sortBy": "id", "sortOrder": "desc"})
    assert ok(response, "departments") == ["other", "vision", "research"]


@pytest.mark.parametrize(
    "path, params, parameter",
    [
        (PROJECTS, {"filterBy": "nickname==x"}, "filterBy"),
        (PROJECTS, {"filterBy": "name"}, "filterBy"),
        (PROJECTS, {"filterBy": "name~~x"}, "filterBy"),
        (PROJECTS, {"filterBy": "name=="}, "filterBy"),
        (PROJECTS, {"filterBy": "id>=seven"}, "filterBy"),
        (PROJECTS, {"filterBy": "createdAt>=yesterday"}, "filterBy"),
        (PROJECTS, {"filterBy": "createdAt=@2026"}, "filterBy"),
        (PROJECTS, {"sortBy": "nickname"}, "sortBy"),
        (PROJECTS, {"sortOrder": "up"}, "sortOrder"),
        (DEPARTMENTS, {"filterBy": "parentId==d1"}, "filterBy"),
        (DEPARTMENTS, {"sortBy": "phase"}, "sortBy"),
        (DEPARTMENTS, {"sortOrder": "DESC"}, "sortOrder"),
    ],
)
def test_a_bad_filter_or_sort_is_a_400_naming_the_parameter(org, admin, path, params, parameter):
    response = admin.get(path, params)
    assert response.status_code == 400
    assert response.json()["message"].startswith(f"{parameter}: ")
    assert_matches_contract("org-unit", response)
