"""The web admin's views: partial versus full page, permissions, filters equal to the API's,
and query budgets that do not grow with the data."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from envadmin.accounts.models import AccessRule, SubjectType
from envadmin.inventory.models import Environment
from envadmin.ui.models import Preference

from .conftest import C1
from .factories import add_environments

LIST = "/environments/"
API = "/api/v1/asset/environment"


def user_with(role, key, name=None):
    user = get_user_model().objects.create_user(name or f"{role}-{key}".replace(" ", "-"))
    AccessRule.objects.create(
        subject_type=SubjectType.USER, subject=user.username, role=role, scope_key=key
    )
    return user


@pytest.fixture
def signed_in(client):
    def sign_in(role="System administrator", key="tenant"):
        client.force_login(user_with(role, key))
        return client

    return sign_in


def names_in(response) -> set[str]:
    assert response.status_code == 200
    return set(re.findall(r'<tr data-name="([^"]+)"', response.content.decode()))


def test_the_list_requires_sign_in(client, org):
    response = client.get(LIST)
    assert response.status_code == 302 and response.url.startswith("/login")


def test_an_htmx_request_gets_only_the_table(org, signed_in):
    client = signed_in()
    full = client.get(LIST).content.decode()
    partial = client.get(LIST, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" in full and 'id="env-table"' in full and 'id="filters"' in full
    assert "<html" not in partial and partial.lstrip().startswith('<section id="env-table"')
    assert 'id="filters"' not in partial
    restored = client.get(LIST, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in restored.content.decode()
    assert "HX-Request" in client.get(LIST).headers.get("Vary", "")


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"projectId": "7"},
        {"departmentId": "d1"},
        {"clusterId": C1},
        {"clusterId": C1, "includeDescendants": "true"},
        {"scope": "project"},
        {"projectId": "7", "scope": "department"},
        {"isWorkspace": "true"},
        {"isDistributed": "true", "distributedFramework": "MPI"},
        {"isTraining": "true", "isWorkspace": "true"},
    ],
)
def test_every_list_filter_returns_what_the_api_returns(org, signed_in, admin, params):
    client = signed_in()
    ui = names_in(client.get(LIST, {**params, "per_page": 100}))
    api = {e["meta"]["name"] for e in admin.get(API, params).json()["entries"]}
    assert ui == api


def test_ui_filters_narrow_further(org, signed_in):
    client = signed_in()
    assert names_in(client.get(LIST, {"q": "P7"})) == {"p7-env"}
    assert names_in(client.get(LIST, {"image": "python:3"})) == {"p7-env", "p8-env"}
    assert names_in(client.get(LIST, {"created_by": "system@"})) == {"tenant-env"}


def test_sorting_and_paging(org, signed_in):
    client = signed_in()
    body = client.get(LIST, {"sort": "-name", "per_page": 10}).content.decode()
    order = re.findall(r'<tr data-name="([^"]+)"', body)
    assert order == sorted(order, reverse=True)
    page = client.get(LIST, {"sort": "name", "per_page": 10, "page": 1})
    assert "Page 1 of 1" in page.content.decode()


def test_bad_filter_values_show_an_error_not_a_500(org, signed_in):
    client = signed_in()
    response = client.get(LIST, {"projectId": "seven"})
    assert response.status_code == 200
    assert "projectId" in response.content.decode()


def test_the_csv_holds_exactly_the_filtered_sorted_rows(org, signed_in):
    client = signed_in()
    response = client.get(LIST, {"isWorkspace": "true", "sort": "-name", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().strip().splitlines()
    assert lines[0].startswith("Id,Environment")
    names = [line.split(",")[1] for line in lines[1:]]
    assert names == sorted(["tenant-env", "d2-env", "p7-env", "p8-env"], reverse=True)


def test_a_viewer_is_offered_no_change(org, signed_in):
    client = signed_in("Viewer", "project:7")
    body = client.get(LIST).content.decode()
    assert "New environment" not in body and "/edit" not in body and "/delete" not in body
    env = Environment.objects.get(name="p7-env")
    assert client.get(f"{LIST}{env.id}/edit").status_code == 302
    refused = client.post(f"{LIST}{env.id}/delete")
    assert refused.status_code == 403
    assert Environment.objects.filter(pk=env.pk).exists()
    forced = client.post(f"{LIST}new", {"placement": "project:7", "name": "x"})
    assert forced.status_code in (200, 302)
    assert not Environment.objects.filter(name="x").exists()


def test_an_editor_is_offered_edit_and_delete_in_reach_only(org, signed_in):
    client = signed_in("L1 researcher", "project:7")
    body = client.get(LIST).content.decode()
    p7 = Environment.objects.get(name="p7-env")
    cluster = Environment.objects.get(name="cluster-env")
    assert f"{p7.id}/edit" in body and f"{cluster.id}/edit" not in body
    assert "New environment" in body


def test_an_outsider_gets_a_404_page(org, signed_in):
    client = signed_in("L1 researcher", "project:7")
    other = Environment.objects.get(name="p8-env")
    assert client.get(f"{LIST}{other.id}").status_code == 404
    assert client.get(f"{LIST}{other.id}/edit").status_code == 404


def test_the_form_shows_every_backend_error_at_once_next_to_its_field(org, signed_in):
    client = signed_in()
    data = {
        "placement": "project:7", "name": "p7-env", "image": "Bad Image",
        "env-TOTAL_FORMS": "1", "env-INITIAL_FORMS": "0",
        "env-0-name": "A", "env-0-source": "value", "env-0-value": "1",
        "conn-TOTAL_FORMS": "1", "conn-INITIAL_FORMS": "0",
        "conn-0-name": "nb", "conn-0-tool": "jupyter-notebook", "conn-0-connectionType": "NodePort",
    }  # fmt: skip
    response = client.post(f"{LIST}new", data)
    assert response.status_code == 200
    body = response.content.decode()
    # A bad image, a missing port and a taken name: one submit reports all three.
    assert 'id="id_image_error"' in body and "not a valid container image" in body
    assert 'id="id_conn-0-containerPort_error"' in body
    assert 'id="id_name_error"' in body and "already exists" in body
    assert "3 problems" in body
    data.update({"image": "python:3.12", "conn-0-containerPort": "8888", "name": "fresh"})
    created = client.post(f"{LIST}new", data)
    assert created.status_code == 302
    env = Environment.objects.get(name="fresh")
    assert env.spec["environmentVariables"] == [{"name": "A", "value": "1"}]
    assert env.spec["connections"][0]["internalToolInfo"]["containerPort"] == 8888


def test_edit_keeps_placement_and_copy_needs_a_new_name(org, signed_in):
    client = signed_in()
    env = Environment.objects.get(name="p7-env")
    form = client.get(f"{LIST}{env.id}/edit").content.decode()
    assert "python:3.11" in form and "disabled" in form
    version = re.search(r'name="version" value="([^"]+)"', form).group(1)
    saved = client.post(f"{LIST}{env.id}/edit", {"name": "p7-renamed", "image": "python:3.13",
        "version": version, "env-TOTAL_FORMS": "0", "env-INITIAL_FORMS": "0",
        "conn-TOTAL_FORMS": "0", "conn-INITIAL_FORMS": "0"})  # fmt: skip
    assert saved.status_code == 302
    env.refresh_from_db()
    assert (env.name, env.spec["image"], env.project_id) == ("p7-renamed", "python:3.13", 7)
    copy = client.get(f"{LIST}{env.id}/copy").content.decode()
    assert (
        'name="name" value=""' in copy
        or 'name="name" maxlength="255" required id="id_name"' in copy
    )


def test_the_preview_panel_answers_compliance(org, signed_in, admin):
    import json

    admin.put("/api/v2/policy/workspaces", data=json.dumps({
        "meta": {"name": "p", "scope": "tenant"},
        "policy": {"rules": {"imagePullPolicy": {"options": [{"value": "IfNotPresent"}]}}},
    }), content_type="application/json")  # fmt: skip
    client = signed_in()
    data = {"placement": "project:7", "name": "d", "image": "x", "imagePullPolicy": "Always",
            "workspace": "on", "preview_project": "7",
            "env-TOTAL_FORMS": "0", "env-INITIAL_FORMS": "0", "conn-TOTAL_FORMS": "0",
            "conn-INITIAL_FORMS": "0"}  # fmt: skip
    body = client.post(f"{LIST}preview", data, HTTP_HX_REQUEST="true").content.decode()
    assert "Not compliant (1)" in body and '<a href="#id_imagePullPolicy">Pull policy</a>' in body
    data["imagePullPolicy"] = "IfNotPresent"
    body = client.post(f"{LIST}preview", data, HTTP_HX_REQUEST="true").content.decode()
    assert "Compliant" in body and "Not compliant" not in body


def test_review_as_is_remembered_and_filters_the_list(org, signed_in):
    client = signed_in()
    client.post(f"{LIST}review-as", {"project": "7", "workload_type": "Workspace"})
    preference = Preference.objects.get()
    assert (preference.review_project, preference.review_workload_type) == (7, "Workspace")
    response = client.get(LIST, {"per_page": 100})
    assert names_in(response) == {"tenant-env", "cluster-env", "d1-env", "p7-env"}
    assert "Reviewing as" in response.content.decode()
    assert "Not compliant" in response.content.decode()


def test_columns_are_remembered_per_user(org, signed_in):
    client = signed_in()
    client.post(f"{LIST}columns", {"columns": ["name", "cluster"]})
    body = client.get(LIST).content.decode()
    assert ">Cluster</a>" in body and ">Image</a>" not in body


@pytest.mark.parametrize("path", ["/compliance?project=7", "/policies", "/org"])
def test_review_pages_render(org, signed_in, path):
    response = signed_in().get(path)
    assert response.status_code == 200


def test_the_compliance_csv_lists_every_visible_environment(org, signed_in):
    response = signed_in().get("/compliance", {"project": 7, "format": "csv"})
    lines = response.content.decode().strip().splitlines()
    assert lines[0].startswith("Environment,Scope,Workspace,Training,Distributed,Inference")
    assert {line.split(",")[0] for line in lines[1:]} == {
        "tenant-env", "cluster-env", "d1-env", "p7-env",
    }  # fmt: skip


@pytest.mark.parametrize("htmx", [False, True])
def test_list_queries_do_not_grow_with_environments(org, signed_in, htmx):
    client = signed_in()
    client.post(f"{LIST}review-as", {"project": "7", "workload_type": "Workspace"})
    # One-off writes first: the flash message leaves the session, the page size is remembered.
    client.get(LIST, {"per_page": 50})
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    counts = []
    for size in (5, 120):
        Environment.objects.filter(name__startswith="bulk-").delete()
        add_environments(size)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(LIST, {"per_page": 50}, **headers)
        assert response.status_code == 200
        assert (
            "Not compliant" in response.content.decode() or "Compliant" in response.content.decode()
        )
        counts.append(len(captured))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/x"])
def test_preference_forms_never_redirect_off_site(org, signed_in, target):
    client = signed_in()
    response = client.post(f"{LIST}columns", {"columns": ["name"], "next": target})
    assert response.url == LIST
    response = client.post(f"{LIST}review-as", {"project": "", "next": target})
    assert response.url == LIST


@pytest.mark.parametrize(
    "sort", ["name", "-name", "image", "-updated_at", "workloads", "-templates", "cluster",
             "scope", "workload_types", "tools", "created_by", "description", "architecture"],
)  # fmt: skip
def test_database_paging_matches_sorting_the_whole_list(org, signed_in, sort):
    """The page the database cuts is the page the whole list, sorted, would show."""
    client = signed_in()
    add_environments(30)
    seen = []
    for number in range(1, Environment.objects.count() // 10 + 2):
        body = client.get(LIST, {"sort": sort, "per_page": 10, "page": number}).content.decode()
        seen += re.findall(r'<tr data-name="([^"]+)"', body)
    assert len(seen) == len(set(seen)) == Environment.objects.count()
    csv = client.get(LIST, {"sort": sort, "format": "csv"}).content.decode().splitlines()[1:]
    assert [line.split(",")[1] for line in csv] == seen


def test_a_page_past_the_end_shows_the_last_page(org, signed_in):
    body = signed_in().get(LIST, {"per_page": 10, "page": 99}).content.decode()
    assert "Page 1 of 1" in body and 'data-name="tenant-env"' in body


def test_tool_and_image_filters_use_the_copied_spec_columns(org, signed_in, admin):
    import json

    wandb = {"toolType": "wandb", "externalUrl": "https://w"}
    connection = {"name": "w", "isExternal": True, "externalToolInfo": wandb}
    spec = {"image": "nvcr.io/nvidia/pytorch:24.05-py3", "connections": [connection]}
    document = {"meta": {"name": "tooled", "scope": "tenant"}, "spec": spec}
    admin.post(API, data=json.dumps(document), content_type="application/json")
    client = signed_in()
    assert names_in(client.get(LIST, {"tool": "wandb"})) == {"tooled"}
    assert names_in(client.get(LIST, {"image": "NVIDIA/PYTORCH"})) == {"tooled"}
    assert names_in(client.get(LIST, {"q": "wandb"})) == {"tooled"}


def test_search_and_sort_use_the_scope_path_as_shown(org, signed_in):
    client = signed_in()
    assert names_in(client.get(LIST, {"q": "research / team-b"})) == {"p8-env"}
    body = client.get(LIST, {"sort": "scope", "per_page": 100}).content.decode()
    paths = re.findall(r'class="scope scope-\w+" title="\w+">([^<]+)<', body)
    assert paths == sorted(paths, key=str.lower)


@pytest.mark.parametrize(
    "query",
    ["page=%C2%B2", "per_page=%C2%B2", "page=99999999999999999999999", "page=-1", "sort=zzz"],
)
def test_odd_list_parameters_never_fail(org, signed_in, query):
    assert signed_in().get(f"{LIST}?{query}").status_code == 200


def test_odd_numbers_elsewhere_never_fail(org, signed_in):
    client = signed_in()
    assert client.get("/compliance?project=%C2%B2").status_code == 200
    assert client.get(f"{LIST}row/env?index=%C2%B2").status_code == 400
    assert client.post(f"{LIST}review-as", {"project": "²"}).status_code == 302
    assert client.post(f"{LIST}review-as", {"project": "2147483648"}).status_code == 302


def test_sorting_by_tools_counts_them(org, signed_in, admin):
    import json

    def tool(name, kind):
        info = {"toolType": kind, "connectionType": "NodePort", "containerPort": 8888}
        return {"name": name, "internalToolInfo": info}

    two = [tool("a", "jupyter-notebook"), tool("b", "tensorboard")]
    for name, tools in (("one-tool", [tool("a", "mlflow")]), ("two-tools", two)):
        document = {"meta": {"name": name, "scope": "tenant"},
                    "spec": {"image": "python:3.12", "connections": tools}}  # fmt: skip
        admin.post(API, data=json.dumps(document), content_type="application/json")
    body = signed_in().get(LIST, {"sort": "-tools", "per_page": 100}).content.decode()
    assert re.findall(r'<tr data-name="([^"]+)"', body)[:2] == ["two-tools", "one-tool"]


def test_policy_edits_are_refused_to_non_administrators_and_bad_yaml_is_named(org, signed_in):
    from envadmin.policies.models import Policy

    viewer = signed_in("Viewer", "tenant")
    body = viewer.post("/policies?scope=tenant", {"kind": "Workspace", "yaml": "rules: {}"})
    assert "Only system administrators" in body.content.decode()
    assert not Policy.objects.exists()
    admin = signed_in()
    dated = "rules:\n  foo:\n    required: true\n    when: 2020-01-01\n"
    body = admin.post("/policies?scope=tenant", {"kind": "Workspace", "yaml": dated})
    assert body.status_code == 200 and "not a JSON value" in body.content.decode()
    assert not Policy.objects.exists()
