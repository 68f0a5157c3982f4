"""The official Run:ai client (runapy 1.224.0) against a real envadmin HTTP server.

runapy is configured with nothing but the base URL, a client id and a client secret, exactly as a
user would: it asks /api/v1/token for a token itself and (auto_refresh_token, its default) reads
the token's `exp` with the standard base64 alphabet, so these tests also prove our tokens are
readable by it.
"""

import io
import json
import os
import time

import pytest
from django.core.management import call_command
from runai import models
from runai.api_client import ApiClient
from runai.configuration import Configuration
from runai.exceptions import BadRequestException, ConflictException, NotFoundException
from runai.runai_client import RunaiClient

from envadmin.snapshot import loader

from .conftest import C1, C2, DATA

# The live server thread and pytest-django's database access meet outside an event loop check.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def small_org(transactional_db):
    """The small org tree (the conftest `org` fixture needs `db`, not a transactional one)."""
    loader.load(loader.read_file(DATA / "small.yaml"))


def create_service_account(name, role, scope, scope_id=None) -> dict:
    """Run the management command as an operator would and parse the JSON it prints."""
    args = [name, "--role", role, "--scope", scope]
    if scope_id is not None:
        args += ["--scope-id", str(scope_id)]
    out = io.StringIO()
    call_command("create_service_account", *args, stdout=out)
    return json.loads(out.getvalue())


def runapy_client(live_server, credentials: dict) -> RunaiClient:
    config = Configuration(
        client_id=credentials["clientId"],
        client_secret=credentials["clientSecret"],
        runai_base_url=live_server.url,
    )
    return RunaiClient(ApiClient(config))


@pytest.fixture
def admin_credentials(small_org):
    return create_service_account("ci-bot", "System administrator", "tenant")


@pytest.fixture
def admin_runapy(live_server, admin_credentials):
    return runapy_client(live_server, admin_credentials)


def names_of(entries) -> set[str]:
    return {entry["meta"]["name"] for entry in entries}


def test_runapy_gets_a_token_and_reads_its_expiry_with_the_default_auto_refresh(
    live_server, admin_credentials
):
    client = runapy_client(live_server, admin_credentials)

    api_client = client.api_client
    assert api_client._token.count(".") == 2
    assert api_client.default_headers["authorization"] == f"Bearer {api_client._token}"
    refresher = api_client.token_refresher
    assert refresher._token_expiry > time.time()
    assert not refresher._is_token_about_to_expire()


def test_a_system_administrator_manages_an_environment_end_to_end_through_runapy(
    admin_runapy, admin_credentials
):
    env_api = admin_runapy.workload_assets.environment

    listed = env_api.list_environment_assets(usage_info=True)
    assert listed.status_code == 200
    assert {"tenant-env", "p7-env", "c2-env"} <= names_of(listed.data["entries"])
    assert "e1" not in names_of(listed.data["entries"])

    created = env_api.create_environment_asset(
        environment_creation_request=models.EnvironmentCreationRequest(
            meta=models.AssetCreationRequest(name="e1", scope="project", project_id=7),
            spec=models.EnvironmentAssetSpec(image="ubuntu"),
        )
    )
    assert created.status_code == 202
    meta = created.data["meta"]
    asset_id = meta["id"]
    assert asset_id
    assert meta["name"] == "e1"
    assert meta["createdBy"] == admin_credentials["clientId"]
    assert meta["updateCount"] == 0
    assert meta["projectId"] == 7
    assert meta["projectName"] == "team-a"
    assert meta["departmentId"] == "d1"
    assert meta["clusterId"] == C1
    assert created.data["spec"]["image"] == "ubuntu"

    fetched = env_api.get_environment_asset_by_id(asset_id=asset_id)
    assert fetched.status_code == 200
    assert fetched.data["meta"]["id"] == asset_id
    assert fetched.data["spec"]["image"] == "ubuntu"

    updated = env_api.update_environment_asset_by_id(
        asset_id=asset_id,
        environment_update_request=models.EnvironmentUpdateRequest(
            meta=models.AssetUpdateRequest(name="e1-renamed", description="d"),
            spec=models.EnvironmentAssetSpec(image="ubuntu:22.04"),
        ),
    )
    assert updated.status_code == 202
    assert updated.data["meta"]["updateCount"] == 1
    assert updated.data["meta"]["name"] == "e1-renamed"
    assert updated.data["meta"]["description"] == "d"
    assert updated.data["meta"]["updatedBy"] == admin_credentials["clientId"]
    assert updated.data["spec"]["image"] == "ubuntu:22.04"

    by_name = env_api.list_environment_assets(name="e1-renamed")
    assert by_name.status_code == 200
    assert [e["meta"]["id"] for e in by_name.data["entries"]] == [asset_id]

    with pytest.raises(ConflictException) as conflict:
        env_api.create_environment_asset(
            environment_creation_request=models.EnvironmentCreationRequest(
                meta=models.AssetCreationRequest(name="E1-Renamed", scope="project", project_id=7),
                spec=models.EnvironmentAssetSpec(image="ubuntu"),
            )
        )
    assert conflict.value.status == 409

    deleted = env_api.delete_environment_asset_by_id(asset_id=asset_id)
    assert deleted.status_code == 202
    assert deleted.data["code"] == 202
    assert deleted.data["message"]

    with pytest.raises(NotFoundException) as missing:
        env_api.get_environment_asset_by_id(asset_id=asset_id)
    assert missing.value.status == 404
    after = env_api.list_environment_assets(name="e1-renamed")
    assert after.data["entries"] == []


def test_the_same_name_in_another_project_is_not_a_conflict(admin_runapy):
    env_api = admin_runapy.workload_assets.environment
    for project_id in (7, 8):
        answer = env_api.create_environment_asset(
            environment_creation_request=models.EnvironmentCreationRequest(
                meta=models.AssetCreationRequest(
                    name="shared", scope="project", project_id=project_id
                ),
                spec=models.EnvironmentAssetSpec(image="ubuntu"),
            )
        )
        assert answer.status_code == 202
        assert answer.data["meta"]["projectId"] == project_id
    assert len(env_api.list_environment_assets(name="shared").data["entries"]) == 2


def test_a_create_in_an_unknown_project_is_a_bad_request_for_runapy(admin_runapy):
    env_api = admin_runapy.workload_assets.environment
    with pytest.raises(BadRequestException) as bad:
        env_api.create_environment_asset(
            environment_creation_request=models.EnvironmentCreationRequest(
                meta=models.AssetCreationRequest(name="nowhere", scope="project", project_id=999),
                spec=models.EnvironmentAssetSpec(image="ubuntu"),
            )
        )
    assert bad.value.status == 400
    body = json.loads(bad.value.body)
    assert body["code"] == 400
    assert "projectId" in body["message"]
    assert env_api.list_environment_assets(name="nowhere").data["entries"] == []


def test_a_list_filtered_by_project_returns_the_project_and_its_ancestors(admin_runapy):
    env_api = admin_runapy.workload_assets.environment
    answer = env_api.list_environment_assets(project_id=7)
    assert answer.status_code == 200
    assert names_of(answer.data["entries"]) == {"tenant-env", "cluster-env", "d1-env", "p7-env"}


def test_runapy_reads_projects_departments_and_clusters(admin_runapy):
    org = admin_runapy.organizations

    projects = org.projects.get_projects()
    assert projects.status_code == 200
    assert {p["name"] for p in projects.data["projects"]} == {
        "team-a",
        "team-b",
        "team-c",
        "team-d",
    }

    project = org.projects.get_project(project_id="7")
    assert project.status_code == 200
    assert project.data["name"] == "team-a"
    assert project.data["parentId"] == "d1"
    assert project.data["clusterId"] == C1

    departments = org.departments.get_departments()
    assert departments.status_code == 200
    assert {d["id"] for d in departments.data["departments"]} == {"d1", "d2", "d3"}

    clusters = org.clusters.get_clusters()
    assert clusters.status_code == 200
    assert {c["uuid"] for c in clusters.data} == {C1, C2}


def test_an_unknown_project_is_not_found_for_runapy(admin_runapy):
    with pytest.raises(NotFoundException):
        admin_runapy.organizations.projects.get_project(project_id="999")


def test_a_project_scoped_account_sees_only_its_project_chain(live_server, small_org):
    credentials = create_service_account("p7-bot", "L1 researcher", "project", 7)
    client = runapy_client(live_server, credentials)

    envs = client.workload_assets.environment.list_environment_assets()
    assert names_of(envs.data["entries"]) == {"tenant-env", "cluster-env", "d1-env", "p7-env"}

    projects = client.organizations.projects.get_projects()
    assert [p["id"] for p in projects.data["projects"]] == ["7"]
    departments = client.organizations.departments.get_departments()
    assert [d["id"] for d in departments.data["departments"]] == ["d1"]
    clusters = client.organizations.clusters.get_clusters()
    assert [c["uuid"] for c in clusters.data] == [C1]

    with pytest.raises(NotFoundException):
        client.organizations.projects.get_project(project_id="8")


def test_a_project_scoped_researcher_creates_in_its_project_but_not_in_a_sibling(
    live_server, small_org
):
    credentials = create_service_account("p7-bot", "L1 researcher", "project", 7)
    env_api = runapy_client(live_server, credentials).workload_assets.environment

    created = env_api.create_environment_asset(
        environment_creation_request=models.EnvironmentCreationRequest(
            meta=models.AssetCreationRequest(name="mine", scope="project", project_id=7),
            spec=models.EnvironmentAssetSpec(image="ubuntu"),
        )
    )
    assert created.status_code == 202
    assert created.data["meta"]["createdBy"] == credentials["clientId"]

    # Project 8 is invisible to this account, so it reads as unknown (no existence leak).
    with pytest.raises(BadRequestException):
        env_api.create_environment_asset(
            environment_creation_request=models.EnvironmentCreationRequest(
                meta=models.AssetCreationRequest(name="theirs", scope="project", project_id=8),
                spec=models.EnvironmentAssetSpec(image="ubuntu"),
            )
        )
