"""Proxy mode forwards Run:ai's authorization, credentials, registry and audit reads as asked,
with the caller's own token, and answers what Run:ai answered (issue 18)."""

import pytest

from .conftest import PROXY_TOKEN, post_json
from .upstream_stub import Reply

SCOPES = {a: {"projects": ["7"]} for a in ("create", "read", "update", "delete")}
REGISTRY = "3f1c2a9e-5b7d-4c1e-9a2f-0d6b8e4c7a11"


@pytest.mark.parametrize(
    "method, url, params, upstream_path",
    [
        ("get", "/api/v1/authorization/me/access-rules", {"limit": "5"},
         "/api/v1/authorization/me/access-rules?limit=5"),
        ("get", "/api/v1/asset/credentials", {"projectId": "7"},
         "/api/v1/asset/credentials?projectId=7"),
        ("get", "/api/v1/asset/registries", {}, "/api/v1/asset/registries"),
        ("get", f"/api/v1/asset/registries/{REGISTRY}", {}, f"/api/v1/asset/registries/{REGISTRY}"),
        ("get", f"/api/v1/asset/registries/{REGISTRY}/repositories", {"searchName": "ml"},
         f"/api/v1/asset/registries/{REGISTRY}/repositories?searchName=ml"),
        ("get", f"/api/v1/asset/registries/{REGISTRY}/repositories/tags", {"repository": "a/b"},
         f"/api/v1/asset/registries/{REGISTRY}/repositories/tags?repository=a%2Fb"),
        ("get", "/api/v1/audit/log", {"start": "2024-01-01T00:00:00Z"},
         "/api/v1/audit/log?start=2024-01-01T00%3A00%3A00Z"),
    ],
)  # fmt: skip
def test_reads_are_forwarded_with_the_callers_token(
    proxy, stub, method, url, params, upstream_path
):
    stub.script(Reply(200, {"from": "runai"}))
    response = getattr(proxy, method)(url, params)
    assert response.status_code == 200, response.content
    assert response.json() == {"from": "runai"}
    (seen,) = stub.requests
    assert seen.path == upstream_path
    assert seen.headers["Authorization"] == f"Bearer {PROXY_TOKEN}"


def test_permitted_scopes_are_forwarded_as_posted(proxy, stub):
    stub.script(Reply(200, SCOPES))
    body = {"resourceType": "environments", "action": "create"}
    response = post_json(proxy, "/api/v1/authorization/permitted-scopes", body)
    assert response.json() == SCOPES
    assert stub.requests[0].json() == body


def test_runais_refusal_is_passed_on(proxy, stub):
    stub.script(Reply(403, {"code": 403, "message": "You do not have sufficient permissions."}))
    response = proxy.get("/api/v1/audit/log", {"start": "x", "end": "y"})
    assert response.status_code == 403
