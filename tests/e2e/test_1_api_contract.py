"""Acceptance 1 (API): the environment API's contract suite through B, over real HTTP.

Every answer of B is validated against Run:ai's contract files, and what B did is checked on A
directly (A is the control plane: the data must really be there, not in B).
"""

import uuid

import pytest

from .conftest import ENVIRONMENTS, Api, assert_contract, client_credentials

pytestmark = pytest.mark.e2e

COMPLIANCE = {"usageInfo": "true", "complyToProject": "1", "complyToWorkloadType": "Workspace"}


def unique(prefix="e2e-api"):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def creation(name, image="python:3.11", project_id=1, **meta):
    return {
        "meta": {
            "name": name,
            "scope": "project",
            "projectId": project_id,
            "workloadSupportedTypes": {"workspace": True},
            **meta,
        },
        "spec": {"image": image},
    }


def on_a_by_name(on_a: Api, name: str) -> list[dict]:
    answer = on_a.get(ENVIRONMENTS, params={"name": name})
    assert answer.status_code == 200, answer.text
    return answer.json()["entries"]


# --- the token endpoint ------------------------------------------------------------------------


def test_a_token_through_b_is_issued_by_a(servers, on_a):
    answer = Api(servers.b.url).post("/api/v1/token", json=client_credentials(servers))
    assert answer.status_code == 200, answer.text
    assert_contract("token", answer)
    document = answer.json()
    servers.remember(document["accessToken"], document.get("refreshToken"))
    assert document["accessToken"].count(".") == 2

    # A accepts it as its own (B only carried it), and a token of A works through B.
    direct = Api(servers.a.url, document["accessToken"]).get(ENVIRONMENTS, params={"name": "x"})
    assert direct.status_code == 200, direct.text
    through = Api(servers.b.url, on_a.token).get(ENVIRONMENTS, params={"name": "x"})
    assert through.status_code == 200, through.text

    # The refresh grant goes through B to A as well.
    renewed = Api(servers.b.url).post(
        "/api/v1/token",
        json={"grantType": "refresh_token", "refreshToken": document["refreshToken"]},
    )
    assert renewed.status_code == 200, renewed.text
    assert_contract("token", renewed)
    servers.remember(renewed.json()["accessToken"], renewed.json().get("refreshToken"))


def test_a_wrong_secret_is_refused_with_a_s_answer(servers):
    body = {**client_credentials(servers), "clientSecret": "not-the-secret"}
    through = Api(servers.b.url).post("/api/v1/token", json=body)
    direct = Api(servers.a.url).post("/api/v1/token", json=body)
    assert through.status_code == direct.status_code == 400
    assert_contract("token", through)
    assert through.json() == direct.json()


# --- list ------------------------------------------------------------------------------------


def test_list_with_usage_and_compliance_is_a_s_list(via_b, on_a):
    through = via_b.get(ENVIRONMENTS, params=COMPLIANCE)
    assert through.status_code == 200, through.text
    assert_contract("environment", through)
    direct = on_a.get(ENVIRONMENTS, params=COMPLIANCE)
    assert direct.status_code == 200
    # Shown exactly as Run:ai (A) gives it.
    assert through.json() == direct.json()

    entries = through.json()["entries"]
    assert len(entries) >= 41  # the demo snapshot's environments
    assert all("compliance" in entry for entry in entries)
    assert any(entry.get("usedBy") for entry in entries)
    assert {"tf-mnist", "pytorch-dev", "jupyter-lab"} <= {e["meta"]["name"] for e in entries}


def test_list_filters_are_passed_through(via_b, on_a):
    params = {"projectId": "1", "isWorkspace": "true"}
    through = via_b.get(ENVIRONMENTS, params=params)
    assert through.status_code == 200, through.text
    assert_contract("environment", through)
    assert through.json() == on_a.get(ENVIRONMENTS, params=params).json()
    assert through.json()["entries"]


# --- create, get, update, delete -------------------------------------------------------------


def test_create_get_update_delete_land_on_a(via_b, on_a, servers):
    name = unique()
    created = via_b.post(ENVIRONMENTS, json=creation(name, description="made through B"))
    assert created.status_code == 202, created.text
    assert_contract("environment", created)
    meta = created.json()["meta"]
    asset_id = meta["id"]
    assert meta["name"] == name
    assert meta["updateCount"] == 0
    assert meta["projectId"] == 1
    # B forwarded the caller's own token: A records the service account as the creator.
    assert meta["createdBy"] == servers.client_id

    on_a_answer = on_a.get(f"{ENVIRONMENTS}/{asset_id}")
    assert on_a_answer.status_code == 200
    assert on_a_answer.json()["spec"]["image"] == "python:3.11"
    assert [e["meta"]["id"] for e in on_a_by_name(on_a, name)] == [asset_id]

    fetched = via_b.get(f"{ENVIRONMENTS}/{asset_id}", params=COMPLIANCE)
    assert fetched.status_code == 200, fetched.text
    assert_contract("environment", fetched)
    assert fetched.json() == on_a.get(f"{ENVIRONMENTS}/{asset_id}", params=COMPLIANCE).json()
    assert "compliance" in fetched.json()

    # A document read by GET can be PUT back with changes.
    document = via_b.get(f"{ENVIRONMENTS}/{asset_id}").json()
    document["meta"]["name"] = f"{name}-renamed"
    document["meta"]["description"] = "changed through B"
    document["spec"]["image"] = "python:3.12"
    updated = via_b.put(f"{ENVIRONMENTS}/{asset_id}", json=document)
    assert updated.status_code == 202, updated.text
    assert_contract("environment", updated)
    assert updated.json()["meta"]["updateCount"] == 1
    on_a_meta = on_a.get(f"{ENVIRONMENTS}/{asset_id}").json()
    assert on_a_meta["meta"]["name"] == f"{name}-renamed"
    assert on_a_meta["meta"]["description"] == "changed through B"
    assert on_a_meta["meta"]["updateCount"] == 1
    assert on_a_meta["spec"]["image"] == "python:3.12"

    again = via_b.put(
        f"{ENVIRONMENTS}/{asset_id}",
        json={"meta": {"name": f"{name}-renamed"}, "spec": {"image": "python:3.13"}},
    )
    assert again.status_code == 202, again.text
    assert_contract("environment", again)
    assert again.json()["meta"]["updateCount"] == 2
    assert on_a.get(f"{ENVIRONMENTS}/{asset_id}").json()["meta"]["updateCount"] == 2

    deleted = via_b.delete(f"{ENVIRONMENTS}/{asset_id}")
    assert deleted.status_code == 202, deleted.text
    assert_contract("environment", deleted)
    assert on_a.get(f"{ENVIRONMENTS}/{asset_id}").status_code == 404
    assert on_a_by_name(on_a, f"{name}-renamed") == []

    gone = via_b.get(f"{ENVIRONMENTS}/{asset_id}")
    assert gone.status_code == 404
    assert_contract("environment", gone)


# --- refusals: A's status and words, in the contract's error body ----------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_an_unknown_id_is_404(via_b, on_a, method):
    path = f"{ENVIRONMENTS}/{uuid.uuid4()}"
    body = creation("whatever") if method == "PUT" else None
    through = via_b.request(method, path, json=body)
    assert through.status_code == 404, through.text
    assert_contract("environment", through)
    direct = on_a.request(method, path, json=body)
    assert through.json() == direct.json()
    assert through.json()["code"] == 404


def test_a_duplicate_name_is_409(via_b, on_a):
    name = unique()
    first = via_b.post(ENVIRONMENTS, json=creation(name))
    assert first.status_code == 202, first.text
    asset_id = first.json()["meta"]["id"]
    try:
        duplicate = via_b.post(ENVIRONMENTS, json=creation(name.upper(), image="ubuntu"))
        assert duplicate.status_code == 409, duplicate.text
        assert_contract("environment", duplicate)
        assert duplicate.json()["code"] == 409
        assert "already exists" in duplicate.json()["message"]
        assert [e["meta"]["id"] for e in on_a_by_name(on_a, name)] == [asset_id]
        assert on_a_by_name(on_a, name.upper()) == []
    finally:
        assert on_a.delete(f"{ENVIRONMENTS}/{asset_id}").status_code == 202


def test_a_bad_body_is_400_with_a_s_error_body(via_b, on_a):
    name = unique()
    body = creation(name, image="Bad Image")
    through = via_b.post(ENVIRONMENTS, json=body)
    assert through.status_code == 400, through.text
    assert_contract("environment", through)
    error = through.json()
    assert error["code"] == 400
    assert error["message"].startswith("spec.image")
    assert error == on_a.post(ENVIRONMENTS, json=body).json()
    assert on_a_by_name(on_a, name) == []


def test_a_body_that_is_not_json_is_400(via_b):
    answer = via_b.post(
        ENVIRONMENTS, data=b'{"meta": ', headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400, answer.text
    assert_contract("environment", answer)
    assert answer.json()["code"] == 400


def test_a_bad_update_is_400_and_changes_nothing_on_a(via_b, on_a):
    name = unique()
    created = via_b.post(ENVIRONMENTS, json=creation(name))
    assert created.status_code == 202, created.text
    asset_id = created.json()["meta"]["id"]
    try:
        answer = via_b.put(
            f"{ENVIRONMENTS}/{asset_id}", json={"meta": {"name": name}, "spec": {"image": ""}}
        )
        assert answer.status_code == 400, answer.text
        assert_contract("environment", answer)
        assert answer.json()["message"].startswith("spec.image")
        on_a_doc = on_a.get(f"{ENVIRONMENTS}/{asset_id}").json()
        assert on_a_doc["meta"]["updateCount"] == 0
        assert on_a_doc["spec"]["image"] == "python:3.11"
    finally:
        assert on_a.delete(f"{ENVIRONMENTS}/{asset_id}").status_code == 202


@pytest.mark.parametrize("token", [None, "not-a-token"], ids=["no token", "a bad token"])
def test_without_a_valid_token_it_is_401(servers, on_a, token):
    name = unique()
    api = Api(servers.b.url, token)
    listed = api.get(ENVIRONMENTS)
    assert listed.status_code == 401, listed.text
    assert_contract("environment", listed)
    assert listed.json()["code"] == 401
    created = api.post(ENVIRONMENTS, json=creation(name))
    assert created.status_code == 401
    assert_contract("environment", created)
    assert on_a_by_name(on_a, name) == []
