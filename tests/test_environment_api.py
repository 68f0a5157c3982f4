"""The five operations of Run:ai's environment API, their documents and every status code."""

import re
import uuid
from datetime import UTC, datetime

import pytest

from envadmin.inventory.documents import timestamp
from envadmin.inventory.models import Environment, Workload

from .conftest import C1, environment_document, error_message, post_json, put_json
from .contract import assert_matches_contract
from .factories import add_environments

URL = "/api/v1/asset/environment"


def create(client, document):
    response = post_json(client, URL, document)
    assert response.status_code == 202, response.content
    assert_matches_contract("environment", response)
    return response.json()


def test_create_answers_202_with_the_asset_and_its_read_only_fields(org, admin):
    document = environment_document(
        "Notebook", description="a notebook", workloadSupportedTypes={"workspace": True}
    )
    body = create(admin, document)
    meta = body["meta"]
    assert uuid.UUID(meta["id"])
    assert meta["kind"] == "environment"
    assert meta["name"] == "Notebook" and meta["description"] == "a notebook"
    assert (meta["scope"], meta["projectId"], meta["projectName"]) == ("project", 7, "team-a")
    assert (meta["departmentId"], meta["clusterId"]) == ("d1", C1)
    assert meta["tenantId"] == 1001
    assert meta["createdBy"] == meta["updatedBy"] != ""
    assert meta["createdAt"] == meta["updatedAt"]
    assert meta["updateCount"] == 0
    assert meta["workloadSupportedTypes"] == {"workspace": True}
    assert body["spec"] == {"image": "python:3.11"}


def test_get_returns_what_create_stored(org, admin):
    created = create(admin, environment_document(spec={"image": "ubuntu", "stdin": True}))
    response = admin.get(f"{URL}/{created['meta']['id']}")
    assert response.status_code == 200
    assert_matches_contract("environment", response)
    assert response.json() == created


def test_update_replaces_name_description_and_spec_and_counts(org, admin):
    created = create(admin, environment_document("old", description="d"))
    target = f"{URL}/{created['meta']['id']}"
    for count, name in enumerate(["new", "newer"], start=1):
        response = put_json(
            admin, target, {"meta": {"name": name}, "spec": {"image": f"img:{count}"}}
        )
        assert response.status_code == 202
        assert_matches_contract("environment", response)
        meta = response.json()["meta"]
        assert (meta["name"], meta["updateCount"]) == (name, count)
        assert "description" not in meta  # the whole document is replaced
        assert response.json()["spec"] == {"image": f"img:{count}"}
        assert meta["updatedAt"] >= meta["createdAt"]
    stored = Environment.objects.get(pk=created["meta"]["id"])
    assert (stored.name, stored.update_count, stored.spec) == ("newer", 2, {"image": "img:2"})


def test_update_keeps_placement_fixed(org, admin):
    created = create(admin, environment_document("fixed"))
    target = f"{URL}/{created['meta']['id']}"
    moved = put_json(
        admin, target, {"meta": {"name": "fixed", "projectId": 8}, "spec": {"image": "x"}}
    )
    assert moved.status_code == 400
    assert moved.json()["message"].startswith("meta.projectId")
    stored = Environment.objects.get(pk=created["meta"]["id"])
    assert (stored.project_id, stored.update_count) == (7, 0)


def test_delete_answers_202_and_the_asset_is_gone(org, admin):
    created = create(admin, environment_document())
    target = f"{URL}/{created['meta']['id']}"
    response = admin.delete(target)
    assert response.status_code == 202
    assert_matches_contract("environment", response)
    assert response.json() == {"code": 202, "message": "Request has been accepted."}
    assert admin.get(target).status_code == 404


def test_deleting_a_used_environment_leaves_its_workloads(org, admin):
    from envadmin.inventory.models import Template, Workload

    env = Environment.objects.get(name="p7-env")
    assert admin.delete(f"{URL}/{env.id}").status_code == 202
    workload = Workload.objects.get(name="nb-1")
    assert workload.environment is None and workload.status == "Running"
    assert Template.objects.get(name="t-p7").environment is None


@pytest.mark.parametrize("name", ["p7-env", "P7-ENV", "P7-env"])
def test_a_name_clash_in_the_same_node_is_409(org, admin, name):
    response = post_json(admin, URL, environment_document(name))
    assert response.status_code == 409
    assert_matches_contract("environment", response)
    assert response.json()["message"] == "Resource with this name already exists"
    assert Environment.objects.filter(name__iexact="p7-env").count() == 1


def test_the_same_name_in_another_node_is_fine(org, admin):
    create(admin, environment_document("p7-env", projectId=8))
    create(admin, environment_document("p7-env", scope="department", departmentId="d1"))
    assert Environment.objects.filter(name="p7-env").count() == 3


def test_a_rename_onto_a_taken_name_is_409(org, admin):
    created = create(admin, environment_document("other"))
    response = put_json(
        admin, f"{URL}/{created['meta']['id']}", {"meta": {"name": "P7-Env"}, "spec": {}}
    )
    assert response.status_code == 409
    assert_matches_contract("environment", response)
    assert Environment.objects.get(pk=created["meta"]["id"]).name == "other"


def test_renaming_to_a_new_case_of_its_own_name_is_allowed(org, admin):
    created = create(admin, environment_document("casey"))
    response = put_json(
        admin, f"{URL}/{created['meta']['id']}", {"meta": {"name": "Casey"}, "spec": {}}
    )
    assert response.status_code == 202


@pytest.mark.parametrize(
    "meta, field",
    [
        ({"scope": "project", "projectId": 4242}, "meta.projectId"),
        ({"scope": "department", "departmentId": "nope"}, "meta.departmentId"),
        ({"scope": "cluster", "clusterId": str(uuid.uuid4())}, "meta.clusterId"),
        ({"scope": "project", "projectId": 7, "departmentId": "d2"}, "meta.departmentId"),
        ({"scope": "project", "projectId": 7, "clusterId": str(uuid.uuid4())}, "meta.clusterId"),
        ({"scope": "cluster"}, "meta.clusterId"),
    ],
)
def test_placement_must_name_existing_consistent_nodes(org, admin, meta, field):
    before = Environment.objects.count()
    response = post_json(admin, URL, {"meta": {"name": "x", **meta}, "spec": {}})
    assert response.status_code == 400
    assert_matches_contract("environment", response)
    assert response.json()["message"].startswith(field)
    assert Environment.objects.count() == before


def test_placement_ids_that_agree_with_the_tree_are_accepted(org, admin):
    body = create(admin, environment_document("ok", departmentId="d1", clusterId=C1))
    assert body["meta"]["projectId"] == 7


@pytest.mark.parametrize(
    "meta, field",
    [
        ({"scope": "tenant", "projectId": 7}, "meta.projectId"),
        ({"scope": "tenant", "clusterId": C1}, "meta.clusterId"),
        ({"scope": "cluster", "clusterId": C1, "projectId": 9}, "meta.projectId"),
        ({"scope": "cluster", "clusterId": C1, "departmentId": "d1"}, "meta.departmentId"),
        ({"scope": "department", "departmentId": "d1", "projectId": 9}, "meta.projectId"),
    ],
)
def test_an_id_below_the_scope_is_refused_not_dropped(org, admin, meta, field):
    response = post_json(admin, URL, {"meta": {"name": "x", **meta}, "spec": {}})
    scope = meta["scope"]
    assert error_message(response) == f"{field}: not used for an asset of scope '{scope}'."
    assert_matches_contract("environment", response)


def test_ancestor_ids_that_agree_are_still_accepted(org, admin):
    meta = {"name": "x", "scope": "department", "departmentId": "d1", "clusterId": C1}
    assert post_json(admin, URL, {"meta": meta, "spec": {}}).status_code == 202


@pytest.mark.parametrize("method", ["get", "put", "delete"])
@pytest.mark.parametrize("asset", [str(uuid.uuid4()), "not-a-uuid"])
def test_an_unknown_id_is_404(org, admin, method, asset):
    response = getattr(admin, method)(f"{URL}/{asset}")
    assert response.status_code == 404
    assert response.json()["code"] == 404


@pytest.mark.parametrize(
    "method, path",
    [("get", URL), ("post", URL), ("get", f"{URL}/x"), ("put", f"{URL}/x"), ("delete", f"{URL}/x")],
)
def test_every_operation_requires_a_token(org, client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 401
    assert response.json()["code"] == 401
    if "x" not in path:
        assert_matches_contract("environment", response)


def test_an_unavailable_database_is_a_503(org, admin):
    from .test_database_outage import database_down

    with database_down():
        response = admin.get(URL)
    assert response.status_code == 503
    assert_matches_contract("environment", response)
    assert response.json()["message"] == "Please try again in few minutes."


def test_an_unknown_api_path_is_a_json_404(admin):
    response = admin.get("/api/v1/asset/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == 404


def test_an_unsupported_method_is_a_json_405(org, admin):
    response = admin.patch(URL, {})
    assert response.status_code == 405
    assert response.json()["code"] == 405


def test_our_openapi_document_and_swagger_ui_are_served_offline(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/asset/environment" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    # Every script, style and link is the app's own: no address with a host of its own. (Not
    # "cdn" anywhere in the page: a random nonce or integrity hash may spell it.)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html, re.IGNORECASE)
    assert re.search(r"""src=["']/static/""", html)


def test_a_document_read_back_from_get_can_be_put_as_is(org, admin):
    created = create(admin, environment_document("round-trip", autoDelete=False))
    target = f"{URL}/{created['meta']['id']}"
    document = admin.get(target, {"usageInfo": "true", "statusInfo": "true"}).json()
    document["spec"]["image"] = "python:3.13"
    response = put_json(admin, target, {"meta": document["meta"], "spec": document["spec"]})
    assert response.status_code == 202, response.content
    assert response.json()["spec"]["image"] == "python:3.13"
    assert response.json()["meta"]["updateCount"] == 1
    # A stale copy of server-kept fields is no change and no error.
    document["meta"]["updateCount"] = 0
    assert put_json(admin, target, document).status_code == 202


@pytest.mark.parametrize(
    "key, value",
    [("id", "8a2b4c6d-0000-4a5b-8c7d-9e0f1a2b3c4d"), ("createdBy", "someone"), ("kind", "compute")],
)
def test_a_changed_read_only_meta_field_is_refused(org, admin, key, value):
    created = create(admin, environment_document("fixed-meta"))
    target = f"{URL}/{created['meta']['id']}"
    document = admin.get(target).json()
    document["meta"][key] = value
    response = put_json(admin, target, document)
    assert response.status_code == 400
    assert response.json()["message"].startswith(f"meta.{key}: fixed at creation")


@pytest.mark.parametrize(
    "key, value",
    [
        ("scope", "PROJECT"),
        ("projectId", "7"),
        ("autoDelete", 0),
        ("private", "false"),
        ("workloadSupportedTypes", "{'workspace': True}"),
        ("workloadSupportedTypes", {"workspace": 1}),
        ("tenantId", "1001"),
        ("clusterId", 5),
    ],
)
def test_a_fixed_field_of_another_type_is_refused(org, admin, key, value):
    created = post_json(admin, URL, environment_document("typed", workloadSupportedTypes={
        "workspace": True}))  # fmt: skip
    target = f"{URL}/{created.json()['meta']['id']}"
    document = admin.get(target).json()
    document["meta"][key] = value
    message = error_message(put_json(admin, target, document))
    assert message.startswith(f"meta.{key}: fixed at creation")


def test_equal_fixed_fields_pass_with_nulls_and_an_uppercase_cluster_id(org, admin):
    created = post_json(admin, URL, environment_document("typed", workloadSupportedTypes={
        "workspace": True}))  # fmt: skip
    target = f"{URL}/{created.json()['meta']['id']}"
    document = admin.get(target).json()
    meta = document["meta"]
    meta["clusterId"] = meta["clusterId"].upper()
    meta["workloadSupportedTypes"]["training"] = None
    meta["autoDelete"] = meta["private"] = False  # unset reads as false
    assert put_json(admin, target, document).status_code == 202


def test_used_by_ids_are_the_workloads_own(org, admin):
    add_environments(3)
    entries = admin.get(URL, {"usageInfo": "true", "projectId": 7}).json()["entries"]
    listed = {
        w["id"] for e in entries for w in e["usedBy"]["workspaces"] + e["usedBy"]["trainings"]
    }
    assert listed and listed <= {str(pk) for pk in Workload.objects.values_list("id", flat=True)}


@pytest.mark.parametrize("micro", [0, 1, 123999, 999999])
def test_times_written_by_the_database_read_as_the_documents_write_them(org, admin, micro):
    add_environments(1)
    when = datetime(2024, 2, 29, 23, 59, 58, micro, tzinfo=UTC)
    Environment.objects.filter(name="bulk-0").update(created_at=when, updated_at=when)
    env = Environment.objects.get(name="bulk-0")
    listed = admin.get(URL, {"name": "bulk-0"}).json()["entries"][0]["meta"]
    assert listed["createdAt"] == listed["updatedAt"] == timestamp(env.created_at)
    assert listed["createdAt"] == f"2024-02-29T23:59:58.{micro // 1000:03d}Z"
