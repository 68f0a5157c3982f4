"""Requests that used to end as a 500, a silent drop or a leak: each answers a clear 4xx now."""

import uuid
from io import StringIO

import pytest
from django.core.management import call_command

from envadmin.accounts.models import AccessRule, ServiceAccount

from .conftest import C1, environment_document, make_account, post_json, put_json
from .contract import assert_matches_contract

URL = "/api/v1/asset/environment"


def error(response, status=400):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == status
    return body["message"]


def raw_post(client, path, text, method="post"):
    return getattr(client, method)(path, data=text, content_type="application/json")


# --- 1. bodies the JSON parser refuses --------------------------------------------------------


@pytest.mark.parametrize(
    "method, path, text",
    [
        ("post", URL, "[" * 100_000 + "]" * 100_000),
        ("post", "/api/v1/token", '{"a":' * 50_000 + "1" + "}" * 50_000),
        # Parseable, but deep enough for recursive code further on.
        ("put", "/api/v2/policy/workspaces", '{"meta": {"name": "p", "scope": "tenant"}, '
         '"policy": {"defaults": ' + '{"a":' * 900 + "1" + "}" * 900 + "}}"),
    ],
)  # fmt: skip
def test_a_deeply_nested_body_is_a_400(org, admin, method, path, text):
    admin.raise_request_exception = False
    assert "nested deeper than" in error(raw_post(admin, path, text, method))


def test_a_lone_surrogate_is_refused_by_name_not_echoed_into_a_500(org, admin):
    admin.raise_request_exception = False
    text = '{"meta": {"name": "x", "scope": "\\ud800"}, "spec": {}}'
    response = raw_post(admin, URL, text)
    assert error(response).startswith("meta.scope: contains a lone surrogate")
    assert_matches_contract("environment", response)
    key = raw_post(admin, URL, '{"meta": {"\\udfff": 1}, "spec": {}}')
    assert error(key).startswith("meta: a key contains a lone surrogate")


@pytest.mark.parametrize(
    "path, text, field",
    [
        ("/api/v1/token", '{"grantType": "client_credentials", "clientID": "a\\u0000", '
         '"clientSecret": "b"}', "clientID"),
        (URL, '{"meta": {"name": "a\\u0000b", "scope": "tenant"}, "spec": {}}', "meta.name"),
        (URL, '{"meta": {"name": "a", "scope": "tenant"}, "spec": {"environmentVariables": '
         '[{"name": "A", "value": "\\u0000"}]}}', "spec.environmentVariables[0].value"),
    ],
)  # fmt: skip
def test_a_nul_in_a_body_is_a_400_naming_the_field(org, admin, path, text, field):
    assert error(raw_post(admin, path, text)).startswith(f"{field}: contains a NUL character")


def test_ordinary_unicode_still_passes(org, admin):
    response = post_json(admin, URL, environment_document("ünïcode-✓", description="日本 🚀"))
    assert response.status_code == 202, response.content


# --- 2. NUL in the URL ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        f"{URL}?name=%00",
        "/api/v1/org-unit/projects?search=a%00",
        f"{URL}/%00",
        "/api/v2/policy?x=%00",
    ],
)
def test_a_nul_in_an_api_url_is_a_json_400(org, admin, path):
    assert "NUL" in error(admin.get(path))


def test_a_nul_in_another_url_is_a_plain_400(db, client):
    response = client.get("/login?next=%00")
    assert response.status_code == 400
    assert b"NUL" in response.content


# --- 3. Django's own 400s and ?format= --------------------------------------------------------


def test_a_body_over_the_upload_limit_is_a_json_400(org, admin, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = raw_post(admin, URL, '{"meta": {"name": "' + "x" * 2000 + '"}}')
    assert error(response) == "The request body is too large."


def test_a_disallowed_host_is_a_json_400_on_the_api(org, admin):
    assert "Host" in error(admin.get(URL, HTTP_HOST="evil.example"))


def test_a_format_parameter_does_not_turn_a_list_into_a_404(org, admin):
    response = admin.get(URL, {"format": "xml"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


# --- 4. create placement: ids of a level below the scope ---------------------------------------


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
    assert error(response) == f"{field}: not used for an asset of scope '{scope}'."
    assert_matches_contract("environment", response)


def test_ancestor_ids_that_agree_are_still_accepted(org, admin):
    meta = {"name": "x", "scope": "department", "departmentId": "d1", "clusterId": C1}
    assert post_json(admin, URL, {"meta": meta, "spec": {}}).status_code == 202


# --- 5. list filters --------------------------------------------------------------------------


def listed(response):
    assert response.status_code == 200, response.content
    return {entry["meta"]["name"] for entry in response.json()["entries"]}


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
    assert listed(caller.get(URL, params)) == set()


def test_a_visible_node_still_lists_its_chain(org, client_for):
    caller = client_for("L1 researcher", "project:7")
    expected = {"tenant-env", "cluster-env", "d1-env", "p7-env"}
    assert listed(caller.get(URL, {"projectId": 7})) == expected
    assert listed(caller.get(URL, {"clusterId": C1.upper()})) == {"tenant-env", "cluster-env"}


def test_the_name_filter_keeps_spaces(org, admin):
    assert listed(admin.get(URL, {"name": "p7-env"})) == {"p7-env"}
    assert listed(admin.get(URL, {"name": " p7-env "})) == set()


def test_scope_with_include_descendants_names_include_descendants(org, admin):
    message = error(admin.get(URL, {"scope": "project", "includeDescendants": "true"}))
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
    assert error(admin.get(URL, params)).startswith(f"{extra}: ")


# --- 6. PUT: echoed fixed fields must be equal, JSON type included -----------------------------


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
    assert error(put_json(admin, target, document)).startswith(f"meta.{key}: fixed at creation")


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


# --- 9. nits ----------------------------------------------------------------------------------


def test_a_cluster_is_found_by_its_uppercase_uuid(org, admin):
    response = admin.get(f"/api/v1/clusters/{C1.upper()}")
    assert response.status_code == 200
    assert response.json()["uuid"] == C1


def test_create_service_account_accepts_an_uppercase_cluster_uuid(org):
    call_command(
        "create_service_account", "ops", "--role", "Viewer", "--scope", "cluster",
        "--scope-id", C1.upper(), stdout=StringIO(),
    )  # fmt: skip
    assert AccessRule.objects.get(role="Viewer").scope_key == f"cluster:{C1}"


def test_deleting_a_service_account_deletes_its_rules(db):
    account, _ = make_account("Viewer", "tenant")
    other, _ = make_account("Viewer", "tenant", name="other")
    ServiceAccount.objects.filter(pk=account.pk).delete()
    assert list(AccessRule.objects.values_list("subject", flat=True)) == [other.client_id]
