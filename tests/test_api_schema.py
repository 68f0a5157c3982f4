"""Our own OpenAPI document (/api/schema/): every operation declares its error body, real answers
match it, Run:ai's paths keep the contract's operation ids, and the bearer scheme is declared."""

import json
import re

import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

from .conftest import C1, environment_document, post_json
from .contract import CONTRACT_DIR

SCHEMA_ACCEPT = "application/vnd.oai.openapi+json"


def our_document(client) -> dict:
    response = client.get("/api/schema/", HTTP_ACCEPT=SCHEMA_ACCEPT)
    assert response.status_code == 200
    return response.json()


# --- every operation declares its error answers -----------------------------------------------


def test_every_operation_declares_the_error_body(client):
    document = our_document(client)
    error = document["components"]["schemas"]["ErrorBody"]
    assert error["required"] == ["code", "message"]
    operations = [
        (path, method, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    assert len(operations) > 20
    for path, method, operation in operations:
        expected = {"400", "503"}
        if path != "/api/v1/token":
            expected |= {"401", "403", "404"}
        if path.startswith("/api/v1/asset/") and method in ("post", "put"):
            expected.add("409")
        responses = operation["responses"]
        assert expected <= set(responses), (method, path, sorted(responses))
        for code in expected:
            schema = responses[code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, code)
    token = document["paths"]["/api/v1/token"]["post"]["responses"]
    assert "429" in token and "401" not in token


# --- answers match our own document -----------------------------------------------------------


@pytest.fixture
def our_spec(client):
    return OpenAPI.from_dict(our_document(client))


def assert_matches_our_document(spec, response):
    spec.validate_response(
        DjangoOpenAPIRequest(response.wsgi_request), DjangoOpenAPIResponse(response)
    )


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/clusters",
        f"/api/v1/clusters/{C1}",
        "/api/v1/org-unit/projects?limit=1",
        "/api/v1/org-unit/departments",
        "/api/v1/asset/environment",
        "/api/v2/policy",
        "/api/v1/asset/environment/not-an-id",
        "/api/v1/asset/environment?projectId=7&departmentId=d1",
    ],
)
def test_answers_match_our_document(org, admin, our_spec, path):
    response = admin.get(path)
    assert_matches_our_document(our_spec, response)


def test_one_environment_and_its_deletion_match_our_document(org, admin, our_spec):
    created = post_json(admin, "/api/v1/asset/environment", environment_document())
    assert created.status_code == 202, created.content
    assert_matches_our_document(our_spec, created)
    url = f"/api/v1/asset/environment/{created.json()['meta']['id']}"
    assert_matches_our_document(our_spec, admin.get(url))
    assert_matches_our_document(our_spec, admin.delete(url))


def test_the_cluster_list_is_documented_as_a_list(client):
    schema = our_document(client)["paths"]["/api/v1/clusters"]["get"]["responses"]["200"]
    assert schema["content"]["application/json"]["schema"]["type"] == "array"


# --- Run:ai's operations and authentication ---------------------------------------------------


def test_runai_paths_keep_the_contracts_operation_ids(client):
    """A client generated from Run:ai's contract finds the same operations in ours (and list and
    detail paths do not collide into numbered ids)."""
    ours = {
        (re.sub(r"\{[^}]+\}", "{}", path), method): operation["operationId"]
        for path, operations in our_document(client)["paths"].items()
        for method, operation in operations.items()
    }
    checked = 0
    for name in ("environment", "org-unit", "token"):
        document = json.loads((CONTRACT_DIR / f"{name}.openapi.json").read_text())
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                key = (re.sub(r"\{[^}]+\}", "{}", path), method)
                if key in ours:
                    assert ours[key] == operation["operationId"], key
                    checked += 1
    assert checked >= 12


def test_the_schema_declares_the_bearer_scheme(client):
    document = our_document(client)
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
    }  # fmt: skip
    environment_get = document["paths"]["/api/v1/asset/environment"]["get"]
    assert {"bearerAuth": []} in environment_get["security"]
    detail = document["paths"]["/api/v1/asset/environment/{asset_id}"]["get"]["parameters"]
    assert {p["name"] for p in detail} >= {"usageInfo", "complyToReplicaType"}
    assert "projectId" not in {p["name"] for p in detail}


def test_revision_answers_and_their_errors_match_our_document(org, admin, our_spec):
    created = post_json(admin, "/api/v1/asset/environment", environment_document())
    asset_id = created.json()["meta"]["id"]
    ours = f"/api/envadmin/v1/environments/{asset_id}"
    for path in ("/revisions", "/revisions/1", "/compare?from=1&to=1", "/revisions/7",
                 "/compare?from=x&to=1"):  # fmt: skip
        assert_matches_our_document(our_spec, admin.get(ours + path))
    restored = admin.post(f"{ours}/revisions/1/restore")
    assert restored.status_code == 202
    assert_matches_our_document(our_spec, restored)
    stale = admin.post(f"{ours}/revisions/1/restore", HTTP_IF_MATCH='"0"')
    assert stale.status_code == 412
    assert_matches_our_document(our_spec, stale)
    admin.delete(f"/api/v1/asset/environment/{asset_id}")
    assert_matches_our_document(our_spec, admin.get("/api/envadmin/v1/environments/deleted"))
    undeleted = admin.post(f"{ours}/undelete")
    assert undeleted.status_code == 202
    assert_matches_our_document(our_spec, undeleted)
    assert_matches_our_document(our_spec, admin.post(f"{ours}/undelete"))  # 409
