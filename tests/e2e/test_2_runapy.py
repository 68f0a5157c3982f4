"""Acceptance 1 (runapy): the official client 1.224.0 works through B unchanged.

runapy gets nothing but B's base URL and the service account's client id and secret: it asks
B's /api/v1/token for a token itself (B forwards the grant to A), then calls B, which forwards
the token unchanged. Every change is checked on A directly.
"""

import json
import uuid

import pytest
from runai import models
from runai.api_client import ApiClient
from runai.configuration import Configuration
from runai.exceptions import BadRequestException, ConflictException, NotFoundException
from runai.runai_client import RunaiClient

from .conftest import ENVIRONMENTS, Api

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def runapy(servers) -> RunaiClient:
    config = Configuration(
        client_id=servers.client_id,
        client_secret=servers.client_secret,
        runai_base_url=servers.b.url,
    )
    client = RunaiClient(ApiClient(config))
    servers.remember(client.api_client._token)
    yield client
    servers.remember(client.api_client._token)  # in case it renewed it meanwhile


@pytest.fixture
def env_api(runapy):
    return runapy.workload_assets.environment


def creation_request(name, image="ubuntu:22.04", project_id=1):
    return models.EnvironmentCreationRequest(
        meta=models.AssetCreationRequest(name=name, scope="project", project_id=project_id),
        spec=models.EnvironmentAssetSpec(image=image),
    )


def test_runapy_got_its_token_from_a_through_b(runapy, servers):
    token = runapy.api_client._token
    assert token.count(".") == 2
    assert runapy.api_client.token_refresher._token_expiry > 0
    # The token is A's: A accepts it directly.
    direct = Api(servers.a.url, token).get(ENVIRONMENTS, params={"name": "x"})
    assert direct.status_code == 200


def test_runapy_lists_what_a_holds(env_api, on_a):
    listed = env_api.list_environment_assets(usage_info=True, project_id=1)
    assert listed.status_code == 200
    on_a_entries = on_a.get(ENVIRONMENTS, params={"usageInfo": "true", "projectId": "1"}).json()
    assert listed.data == on_a_entries
    assert listed.data["entries"]


def test_runapy_creates_gets_updates_and_deletes_on_a(env_api, on_a, servers):
    name = f"e2e-runapy-{uuid.uuid4().hex[:8]}"
    created = env_api.create_environment_asset(environment_creation_request=creation_request(name))
    assert created.status_code == 202
    meta = created.data["meta"]
    asset_id = meta["id"]
    assert meta["name"] == name
    assert meta["createdBy"] == servers.client_id
    assert meta["projectName"] == "team-a"
    assert on_a.get(f"{ENVIRONMENTS}/{asset_id}").json()["meta"]["name"] == name

    fetched = env_api.get_environment_asset_by_id(asset_id=asset_id)
    assert fetched.status_code == 200
    assert fetched.data == on_a.get(f"{ENVIRONMENTS}/{asset_id}").json()

    updated = env_api.update_environment_asset_by_id(
        asset_id=asset_id,
        environment_update_request=models.EnvironmentUpdateRequest(
            meta=models.AssetUpdateRequest(name=f"{name}-v2", description="by runapy"),
            spec=models.EnvironmentAssetSpec(image="ubuntu:24.04"),
        ),
    )
    assert updated.status_code == 202
    assert updated.data["meta"]["updateCount"] == 1
    on_a_doc = on_a.get(f"{ENVIRONMENTS}/{asset_id}").json()
    assert on_a_doc["meta"]["name"] == f"{name}-v2"
    assert on_a_doc["meta"]["description"] == "by runapy"
    assert on_a_doc["meta"]["updateCount"] == 1
    assert on_a_doc["spec"]["image"] == "ubuntu:24.04"

    by_name = env_api.list_environment_assets(name=f"{name}-v2")
    assert [e["meta"]["id"] for e in by_name.data["entries"]] == [asset_id]

    deleted = env_api.delete_environment_asset_by_id(asset_id=asset_id)
    assert deleted.status_code == 202
    assert deleted.data["code"] == 202
    assert on_a.get(f"{ENVIRONMENTS}/{asset_id}").status_code == 404

    with pytest.raises(NotFoundException) as missing:
        env_api.get_environment_asset_by_id(asset_id=asset_id)
    assert missing.value.status == 404
    assert json.loads(missing.value.body)["code"] == 404


def test_runapy_gets_not_found_for_an_unknown_id(env_api):
    with pytest.raises(NotFoundException) as missing:
        env_api.get_environment_asset_by_id(asset_id=str(uuid.uuid4()))
    assert missing.value.status == 404
    with pytest.raises(NotFoundException):
        env_api.delete_environment_asset_by_id(asset_id=str(uuid.uuid4()))


def test_runapy_gets_a_conflict_for_a_duplicate_name(env_api, on_a):
    name = f"e2e-runapy-{uuid.uuid4().hex[:8]}"
    created = env_api.create_environment_asset(environment_creation_request=creation_request(name))
    asset_id = created.data["meta"]["id"]
    try:
        with pytest.raises(ConflictException) as conflict:
            env_api.create_environment_asset(
                environment_creation_request=creation_request(name.upper())
            )
        assert conflict.value.status == 409
        assert "already exists" in json.loads(conflict.value.body)["message"]
        entries = on_a.get(ENVIRONMENTS, params={"name": name}).json()["entries"]
        assert [e["meta"]["id"] for e in entries] == [asset_id]
    finally:
        env_api.delete_environment_asset_by_id(asset_id=asset_id)


def test_runapy_gets_a_bad_request_for_an_unknown_project(env_api, on_a):
    name = f"e2e-runapy-{uuid.uuid4().hex[:8]}"
    with pytest.raises(BadRequestException) as bad:
        env_api.create_environment_asset(
            environment_creation_request=creation_request(name, project_id=999)
        )
    assert bad.value.status == 400
    assert "projectId" in json.loads(bad.value.body)["message"]
    assert on_a.get(ENVIRONMENTS, params={"name": name}).json()["entries"] == []
