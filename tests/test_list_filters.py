"""The list page's filters: one FilterSet built on the API's, its form rendering the controls, a
bad value named next to its control while the list still renders."""

import json
import re

import pytest

from envadmin.inventory.filters import EnvironmentFilterSet
from envadmin.ui.filters import RUNAI_PARAMETERS, EnvironmentListFilterSet

from .conftest import C1
from .test_ui_views import API, LIST, names_in, user_with

EVERY = {"tenant-env", "cluster-env", "d1-env", "d2-env", "p7-env", "p8-env", "p9-env", "c2-env"}
TOOLED = "tooled"


@pytest.fixture
def signed_in_admin(client):
    """The test client, signed in as a System administrator of the tenant."""
    client.force_login(user_with("System administrator", "tenant"))
    return client


@pytest.fixture
def tooled(admin):
    """A tenant environment with a wandb tool, so the tool filter has something to find."""
    wandb = {"toolType": "wandb", "externalUrl": "https://w"}
    connection = {"name": "w", "isExternal": True, "externalToolInfo": wandb}
    spec = {"image": "busybox", "connections": [connection]}
    document = {"meta": {"name": TOOLED, "scope": "tenant"}, "spec": spec}
    created = admin.post(API, data=json.dumps(document), content_type="application/json")
    assert created.status_code == 202


def errors_of(body: str, field: str) -> list[str]:
    """The messages shown next to one control."""
    block = re.search(rf'<div class="field-errors" id="f-{field}_error">(.*?)</div>', body)
    assert block, f"no error block for {field}"
    return re.findall(r'<p class="error">([^<]*)</p>', block.group(1))


# Each filter of the page with a value, and the rows it leaves of the small org (and `tooled`).
NARROWING = {
    "q": ({"q": "P7"}, {"p7-env"}),
    "scope": ({"scope": "department"}, {"d1-env", "d2-env"}),
    "clusterId": ({"clusterId": C1}, {"tenant-env", "cluster-env", TOOLED}),
    "departmentId": ({"departmentId": "d2"}, {"tenant-env", "cluster-env", "d2-env", TOOLED}),
    "projectId": (
        {"projectId": "8"},
        {"tenant-env", "cluster-env", "d1-env", "p8-env", TOOLED},
    ),
    "includeDescendants": (
        {"departmentId": "d1", "includeDescendants": "true"},
        {"tenant-env", "cluster-env", "d1-env", "p7-env", "p8-env", TOOLED},
    ),
    "isWorkspace": ({"isWorkspace": "true"}, {"tenant-env", "d2-env", "p7-env", "p8-env"}),
    "isTraining": ({"isTraining": "true"}, {"tenant-env", "cluster-env"}),
    "isDistributed": ({"isDistributed": "true"}, {"cluster-env", "p9-env"}),
    "isInference": ({"isInference": "true"}, {"d1-env"}),
    "distributedFramework": ({"distributedFramework": "MPI"}, {"p9-env"}),
    "tool": ({"tool": "wandb"}, {TOOLED}),
    "image": ({"image": "PYTHON:3"}, {"p7-env", "p8-env"}),
    "created_by": ({"created_by": "system@"}, {"tenant-env"}),
}


def test_every_filter_of_the_page_has_a_narrowing_case():
    # compliance: its own test below; lifecycle: tests/test_lifecycle_ui.py (it needs states set).
    assert set(NARROWING) | {"compliance", "lifecycle"} == set(
        EnvironmentListFilterSet.base_filters
    )


@pytest.mark.parametrize("name", sorted(NARROWING))
def test_every_filter_narrows_the_list(org, signed_in_admin, tooled, name):
    params, expected = NARROWING[name]
    assert names_in(signed_in_admin.get(LIST, {"per_page": 100})) == EVERY | {TOOLED}
    assert names_in(signed_in_admin.get(LIST, {**params, "per_page": 100})) == expected


def test_the_compliance_filter_narrows_the_reviewed_list(org, signed_in_admin):
    signed_in_admin.post(f"{LIST}review-as", {"project": "7", "workload_type": "Workspace"})
    seen = {"tenant-env", "cluster-env", "d1-env", "p7-env"}  # what project 7 can see
    assert names_in(signed_in_admin.get(LIST)) == seen
    # With no policy nothing violates one: what does not support workspaces is "n/a".
    assert names_in(signed_in_admin.get(LIST, {"compliance": "compliant"})) == {
        "tenant-env",
        "p7-env",
    }
    assert names_in(signed_in_admin.get(LIST, {"compliance": "not-compliant"})) == set()
    assert names_in(signed_in_admin.get(LIST, {"compliance": "not-supported"})) == {
        "cluster-env",
        "d1-env",
    }
    body = signed_in_admin.get(LIST, {"compliance": "compliant"}).content.decode()
    assert '<option value="compliant" selected>Compliant</option>' in body


def test_the_page_uses_the_api_filter_definitions():
    api, page = EnvironmentFilterSet.base_filters, EnvironmentListFilterSet.base_filters
    # The page sets usage and "review as" itself; every other API parameter is the API's own.
    assert set(api) - set(page) == {
        "name", "usageInfo", "statusInfo",
        "complyToProject", "complyToWorkloadType", "complyToReplicaType",
    }  # fmt: skip
    assert RUNAI_PARAMETERS == [name for name in api if name in page]
    assert all(page[name] is api[name] for name in RUNAI_PARAMETERS)


BAD = [
    ("projectId", {"projectId": "seven"}),
    ("clusterId", {"clusterId": "not-a-uuid"}),
    ("scope", {"scope": "planet"}),
    ("isWorkspace", {"isWorkspace": "maybe"}),
    ("distributedFramework", {"distributedFramework": "Caffe"}),
    ("includeDescendants", {"scope": "project", "includeDescendants": "true"}),
]


@pytest.mark.parametrize("field, params", BAD)
def test_a_value_the_api_refuses_is_named_next_to_its_control(
    org, signed_in_admin, admin, field, params
):
    refused = admin.get(API, params)
    assert refused.status_code == 400 and field in refused.json()["message"]
    # The page keeps the other filters and leaves out the refused one.
    response = signed_in_admin.get(LIST, {**params, "q": "env", "per_page": 100})
    assert response.status_code == 200
    body = response.content.decode()
    assert errors_of(body, field)
    assert re.search(rf'aria-invalid="true" aria-describedby="f-{field}_error"', body)
    kept = {k: v for k, v in params.items() if k != field}
    assert names_in(response) == {
        n for n in names_in(signed_in_admin.get(LIST, kept)) if "env" in n
    }


@pytest.mark.parametrize(
    "field, params",
    [("tool", {"tool": "emacs"}), ("compliance", {"compliance": "perhaps"})],
)
def test_a_bad_page_filter_is_named_and_left_out(org, signed_in_admin, field, params):
    response = signed_in_admin.get(LIST, {**params, "per_page": 100})
    body = response.content.decode()
    assert response.status_code == 200
    assert "is not one of" in " ".join(errors_of(body, field))
    assert names_in(response) == EVERY


def test_several_placement_pickers_keep_the_narrowest(org, signed_in_admin):
    """The API refuses two node parameters; the page's pickers may all be set at once."""
    response = signed_in_admin.get(LIST, {"clusterId": C1, "departmentId": "d1", "projectId": "8"})
    assert names_in(response) == {"tenant-env", "cluster-env", "d1-env", "p8-env"}
    assert not re.search(r'<p class="error">', response.content.decode())


def test_an_htmx_answer_carries_the_filter_messages_out_of_band(org, signed_in_admin):
    bad = {"scope": "project", "includeDescendants": "true"}
    partial = signed_in_admin.get(LIST, bad, HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<section id="env-table"')
    swapped = re.search(
        r'<div class="field-errors" id="f-includeDescendants_error" hx-swap-oob="true">'
        r'<p class="error">scope and includeDescendants', partial
    )  # fmt: skip
    assert swapped
    # Once fixed, the message is swapped away.
    fixed = signed_in_admin.get(LIST, {"scope": "project"}, HTTP_HX_REQUEST="true").content.decode()
    assert (
        '<div class="field-errors" id="f-includeDescendants_error" hx-swap-oob="true"></div>'
        in fixed
    )


def test_the_controls_come_from_the_vocabulary(org, signed_in_admin):
    from envadmin.contract.choices import DIST_FRAMEWORKS, SCOPES, TOOL_TYPES

    body = signed_in_admin.get(LIST).content.decode()

    def offered(name):
        select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', body).group(1)
        return re.findall(r'<option value="([^"]*)"', select)

    assert offered("scope") == ["", *SCOPES]
    assert offered("tool") == ["", *TOOL_TYPES]
    assert offered("distributedFramework") == ["", *DIST_FRAMEWORKS]
    assert offered("projectId") == ["", "7", "8", "9", "10"]  # by their paths, as shown
