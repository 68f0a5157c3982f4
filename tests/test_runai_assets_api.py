"""Run:ai's authorization, credentials, registry and audit log reads in local mode (issue 18),
each answer validated against the shared contract files, for several roles and scopes."""

import csv
import io
import json

import pytest

from envadmin.inventory.models import Credential, Registry

from .conftest import C1, C2, environment_document, error_message, post_json
from .contract import assert_matches_contract

SCOPES_URL = "/api/v1/authorization/permitted-scopes"
RULES_URL = "/api/v1/authorization/me/access-rules"
CREDENTIALS_URL = "/api/v1/asset/credentials"
REGISTRIES_URL = "/api/v1/asset/registries"
AUDIT_URL = "/api/v1/audit/log"
WINDOW = {"start": "2000-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z"}
# Words that would name a secret's value in any of Run:ai's credential specs.
SECRET_FIELDS = {"value", "password", "secretAccessKey", "accessKeyId", "ngc_api_key", "user"}


def permitted(client, resource_type="environments", **extra):
    response = post_json(client, SCOPES_URL, {"resourceType": resource_type, **extra})
    assert response.status_code == 200, response.content
    assert_matches_contract("authorization", response)
    return response.json()


def names(response) -> set[str]:
    return {entry["meta"]["name"] for entry in response.json()["entries"]}


def keys_anywhere(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_anywhere(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_anywhere(v)}
    return set()


# --- permitted scopes --------------------------------------------------------------------


def test_a_tenant_administrator_may_do_everything_everywhere(org, admin):
    answer = permitted(admin)
    for action in ("create", "read", "update", "delete"):
        assert answer[action]["tenants"] == ["1001"]
        assert set(answer[action]["clusters"]) == {C1, C2}
        assert answer[action]["projects"] == ["10", "7", "8", "9"]


def test_an_l1_researcher_writes_environments_only_in_their_project(org, client_for):
    researcher = client_for("L1 researcher", "project:7")
    answer = permitted(researcher)
    assert answer["create"] == {
        "system": False, "tenants": [], "clusters": [], "departments": [], "projects": ["7"],
    }  # fmt: skip
    # Policies are written by system administrators only.
    policies = permitted(researcher, "policies")
    assert policies["update"]["projects"] == [] and policies["read"]["projects"] == ["7"]


def test_a_viewer_reads_but_creates_nothing(org, client_for):
    answer = permitted(client_for("Viewer", "department:d1"))
    assert answer["read"]["departments"] == ["d1"]
    assert answer["read"]["projects"] == ["7", "8"]
    for action in ("create", "update", "delete"):
        assert not any(answer[action].values())


def test_a_department_system_administrator_writes_policies_below_it(org, client_for):
    answer = permitted(client_for("System administrator", "department:d2"), "policies")
    assert answer["update"]["departments"] == ["d2"] and answer["update"]["projects"] == ["9"]
    assert answer["update"]["tenants"] == []


def test_one_action_answers_only_that_action(org, admin):
    answer = permitted(admin, action="delete")
    assert answer["delete"]["tenants"] == ["1001"]
    assert not any(answer["create"].values())


def test_other_resource_types_are_answered_empty(org, admin):
    answer = permitted(admin, "credentials")
    assert all(not any(scopes.values()) for scopes in answer.values())


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "resourceType"),
        ({"resourceType": "spaceships"}, "resourceType"),
        ({"resourceType": "environments", "action": "launch"}, "action"),
        ([], "body"),
    ],
)
def test_a_bad_permitted_scopes_request_is_a_400(org, admin, body, field):
    message = error_message(post_json(admin, SCOPES_URL, body))
    assert field in message or "JSON object" in message


# --- my access rules ---------------------------------------------------------------------


def test_access_rules_are_the_callers_own(org, client_for):
    response = client_for("L1 researcher", "project:7").get(RULES_URL)
    assert response.status_code == 200
    assert_matches_contract("authorization", response)
    rules = response.json()["accessRules"]
    assert rules["totalRecords"] == 1
    (rule,) = rules["accessRules"]
    assert rule["roleName"] == "L1 researcher"
    assert (rule["scopeType"], rule["scopeId"], rule["scopeName"]) == ("project", "7", "team-a")
    assert rule["clusterId"] == C1 and rule["subjectType"] == "app"


def test_access_rules_search_and_page(org, admin):
    assert admin.get(RULES_URL, {"search": "nobody"}).json()["accessRules"]["totalRecords"] == 0
    assert admin.get(RULES_URL, {"limit": 1}).json()["accessRules"]["displayRecords"] == 1


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "501"}, {"offset": "-1"},
                                    {"limit": "x"}, {"search": "s" * 256}])  # fmt: skip
def test_bad_access_rule_parameters_are_a_400(org, admin, params):
    error_message(admin.get(RULES_URL, params))


# --- credentials -------------------------------------------------------------------------


def test_credentials_are_visible_along_the_ancestor_chain(org, client_for):
    researcher = client_for("L1 researcher", "project:7")
    response = researcher.get(CREDENTIALS_URL, {"usageInfo": "true", "statusInfo": "true"})
    assert response.status_code == 200
    assert_matches_contract("credentials", response)
    assert names(response) == {"dockerhub", "c1-keys", "d1-ngc", "hf-token"}
    by_name = {e["meta"]["name"]: e for e in response.json()["entries"]}
    hf = by_name["hf-token"]
    assert hf["meta"]["kind"] == "genericSecret" and hf["meta"]["projectName"] == "team-a"
    assert hf["spec"]["genericSecret"]["keyValuePairs"] == [{"key": "token"}, {"key": "user"}]
    assert by_name["c1-keys"]["meta"]["clusterId"] == C1
    assert set(by_name["d1-ngc"]["spec"]) == {"ngcApiKey"}


def test_a_credential_never_carries_a_value(org, admin):
    response = admin.get(CREDENTIALS_URL, {"usageInfo": "true", "statusInfo": "true"})
    assert len(response.json()["entries"]) == Credential.objects.count() == 6
    for entry in response.json()["entries"]:
        # The spec's one key names the kind ("password" is a kind); below it, no value.
        (kind_spec,) = entry["spec"].values()
        assert set(kind_spec) <= {"keyId", "keyValuePairs"}
        inside = keys_anywhere(kind_spec) | keys_anywhere(
            {k: v for k, v in entry.items() if k != "spec"}
        )
        assert not inside & SECRET_FIELDS


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"name": "hf-token"}, {"hf-token"}),
        ({"scope": "tenant"}, {"dockerhub"}),
        ({"scope": "cluster"}, {"c1-keys", "c2-secret"}),
        ({"projectId": "8"}, {"dockerhub", "c1-keys", "d1-ngc", "p8-git"}),
        ({"departmentId": "d1", "scope": "department"}, {"d1-ngc"}),
        ({"clusterId": C2}, {"dockerhub", "c2-secret"}),
    ],
)
def test_credential_filters(org, admin, params, expected):
    response = admin.get(CREDENTIALS_URL, params)
    assert_matches_contract("credentials", response)
    assert names(response) == expected


def test_a_node_out_of_reach_lists_nothing(org, client_for):
    response = client_for("Viewer", "project:7").get(CREDENTIALS_URL, {"clusterId": C2})
    assert names(response) == set()


def test_usage_names_the_environments_that_read_a_credential(org, admin):
    hf = Credential.objects.get(name="hf-token")
    document = environment_document("uses-hf")
    document["spec"]["environmentVariables"] = [
        {"name": "HF_TOKEN", "credential": {"assetId": str(hf.id), "key": "token"}}
    ]
    assert post_json(admin, "/api/v1/asset/environment", document).status_code == 202
    response = admin.get(CREDENTIALS_URL, {"usageInfo": "true", "name": "hf-token"})
    assert_matches_contract("credentials", response)
    (entry,) = response.json()["entries"]
    assert [e["name"] for e in entry["usedBy"]["assets"]["environments"]] == ["uses-hf"]


@pytest.mark.parametrize(
    "params",
    [{"scope": "galaxy"}, {"projectId": "x"}, {"clusterId": "not-a-uuid"}, {"usageInfo": "maybe"},
     {"projectId": "7", "clusterId": C1}],
)  # fmt: skip
def test_bad_credential_parameters_are_a_400(org, admin, params):
    error_message(admin.get(CREDENTIALS_URL, params))


# --- registries --------------------------------------------------------------------------


def registry_id(name):
    return str(Registry.objects.get(name=name).id)


def test_registries_list_and_one(org, client_for):
    researcher = client_for("L1 researcher", "project:7")
    response = researcher.get(REGISTRIES_URL)
    assert_matches_contract("registry", response)
    assert names(response) == {"internal"}  # c2-registry is on another cluster
    one = researcher.get(f"{REGISTRIES_URL}/{registry_id('internal')}")
    assert one.status_code == 200
    assert_matches_contract("registry", one)
    assert one.json()["spec"]["url"] == "registry.example.com"
    assert one.json()["spec"]["password"] == "********"
    assert researcher.get(f"{REGISTRIES_URL}/{registry_id('c2-registry')}").status_code == 404


def test_repositories_and_tags_are_searched(org, admin):
    base = f"{REGISTRIES_URL}/{registry_id('internal')}/repositories"
    response = admin.get(base)
    assert_matches_contract("registry", response)
    assert response.json() == {"repositories": ["ml/jax", "ml/pytorch"]}
    assert admin.get(base, {"searchName": "TORCH"}).json() == {"repositories": ["ml/pytorch"]}
    tags = admin.get(f"{base}/tags", {"repository": "ml/pytorch", "searchName": "06"})
    assert_matches_contract("registry", tags)
    assert tags.json() == {"name": "ml/pytorch", "tags": ["24.06-py3"]}


def test_registry_errors(org, admin):
    base = f"{REGISTRIES_URL}/{registry_id('internal')}/repositories"
    assert "repository" in error_message(admin.get(f"{base}/tags"))
    error_message(admin.get(f"{base}/tags", {"repository": "nope"}), 404)
    error_message(admin.get(base, {"searchName": "s" * 256}))
    error_message(admin.get(f"{REGISTRIES_URL}/not-a-uuid"), 404)


# --- audit log ---------------------------------------------------------------------------


def test_the_audit_log_answers_environment_changes_in_runais_shape(org, admin):
    assert post_json(admin, "/api/v1/asset/environment", environment_document()).status_code == 202
    response = admin.get(AUDIT_URL, {**WINDOW, "filterBy": "entity_name==my-env"})
    assert response.status_code == 200
    assert_matches_contract("audit", response)
    (record,) = response.json()["audit_logs"]
    assert record["action"] == "create" and record["http_method"] == "POST"
    assert record["entity_type"] == "environment" and record["subject_type"] == "App"
    assert record["cluster_id"] == C1 and record["cluster_name"] == "c1"
    assert response.json()["logs"] == response.json()["audit_logs"]


def test_the_audit_log_pages_and_sorts(org, admin):
    for name in ("new-a", "new-b", "new-c"):
        post_json(admin, "/api/v1/asset/environment", environment_document(name))
    params = {**WINDOW, "filterBy": "action==create,entity_name=^new-", "sortBy": "entity_name"}
    first = admin.get(AUDIT_URL, {**params, "numberOfSamples": 2, "sortOrder": "desc"}).json()
    assert first["total"] == 3 and first["next"] == 2
    assert [r["entity_name"] for r in first["audit_logs"]] == ["new-c", "new-b"]
    rest = admin.get(AUDIT_URL, {**params, "numberOfSamples": 2, "offset": 2}).json()
    assert [r["entity_name"] for r in rest["audit_logs"]] == ["new-c"] and "next" not in rest
    empty = admin.get(AUDIT_URL, {"start": "2000-01-01T00:00:00Z", "end": "2000-01-02T00:00:00Z"})
    assert empty.json()["total"] == 0


@pytest.mark.parametrize("file_type", ["CSV", "JSON"])
def test_the_audit_log_downloads_as_a_file(org, admin, file_type):
    post_json(admin, "/api/v1/asset/environment", environment_document())
    params = {**WINDOW, "file_type": file_type, "filterBy": "entity_name==my-env"}
    response = admin.get(f"{AUDIT_URL}/file", params)
    assert response.status_code == 200
    assert_matches_contract("audit", response)
    text = response.content.decode()
    if file_type == "JSON":
        assert [r["entity_name"] for r in json.loads(text)] == ["my-env"]
    else:
        assert [r["entity_name"] for r in csv.DictReader(io.StringIO(text))] == ["my-env"]


@pytest.mark.parametrize(
    "role, key", [("Viewer", "tenant"), ("System administrator", "department:d1"),
                  ("Environment administrator", "tenant")],
)  # fmt: skip
def test_only_a_tenant_system_administrator_reads_the_audit_log(org, client_for, role, key):
    client = client_for(role, key)
    error_message(client.get(AUDIT_URL, WINDOW), 403)
    error_message(client.get(f"{AUDIT_URL}/file", WINDOW), 403)


@pytest.mark.parametrize(
    "params",
    [{}, {"start": WINDOW["start"]}, {**WINDOW, "start": "yesterday"},
     {**WINDOW, "end": "2024-13-45T00:00:00Z"}, {**WINDOW, "numberOfSamples": "1001"},
     {**WINDOW, "offset": "-1"},
     {**WINDOW, "sortBy": "secret"}, {**WINDOW, "sortOrder": "up"},
     {**WINDOW, "filterBy": "password==x"}, {**WINDOW, "filterBy": "timestamp=@2024"},
     {"start": WINDOW["end"], "end": WINDOW["start"]}],
)  # fmt: skip
def test_bad_audit_parameters_are_a_400(org, admin, params):
    error_message(admin.get(AUDIT_URL, params))


def test_a_bad_file_type_is_a_400(org, admin):
    assert "file_type" in error_message(
        admin.get(f"{AUDIT_URL}/file", {**WINDOW, "file_type": "XML"})
    )


def test_every_endpoint_needs_a_token(org, client):
    for url in (RULES_URL, CREDENTIALS_URL, REGISTRIES_URL, AUDIT_URL):
        assert client.get(url).status_code == 401
