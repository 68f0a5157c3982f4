"""Reference §6, role by role: what each role may see and change, and how refusals read."""

import pytest

from envadmin.inventory.models import Environment

from .conftest import environment_document, post_json, put_json
from .contract import assert_matches_contract

URL = "/api/v1/asset/environment"
WRITERS = ["System administrator", "Environment administrator", "Research manager", "L1 researcher"]
READERS = ["L2 researcher", "Viewer"]


def env_id(name):
    return str(Environment.objects.get(name=name).id)


def update_document(name, image="python:3.13"):
    return {"meta": {"name": name}, "spec": {"image": image}}


def names(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200
    return {entry["meta"]["name"] for entry in response.json()["entries"]}


@pytest.mark.parametrize("role", WRITERS + READERS)
def test_every_role_sees_its_project_and_the_ancestors_only(org, client_for, role):
    client = client_for(role, "project:7")
    assert names(client) == {"tenant-env", "cluster-env", "d1-env", "p7-env"}


@pytest.mark.parametrize("role", WRITERS)
def test_writers_create_edit_and_delete_in_their_subtree(org, client_for, role):
    client = client_for(role, "project:7")
    created = post_json(client, URL, environment_document("mine"))
    assert created.status_code == 202, created.content
    asset = created.json()["meta"]["id"]
    updated = put_json(client, f"{URL}/{asset}", update_document("mine-renamed"))
    assert updated.status_code == 202
    assert updated.json()["meta"]["updateCount"] == 1
    edited_existing = put_json(client, f"{URL}/{env_id('p7-env')}", update_document("p7-env"))
    assert edited_existing.status_code == 202
    deleted = client.delete(f"{URL}/{asset}")
    assert deleted.status_code == 202
    assert deleted.json() == {"code": 202, "message": "Request has been accepted."}
    assert not Environment.objects.filter(pk=asset).exists()


@pytest.mark.parametrize("role", READERS)
def test_view_only_roles_are_refused_every_write_with_403(org, client_for, role):
    client = client_for(role, "project:7")
    before = list(Environment.objects.values_list("id", "name", "update_count", "spec"))
    target = f"{URL}/{env_id('p7-env')}"
    for response in (
        post_json(client, URL, environment_document("mine")),
        put_json(client, target, update_document("p7-env")),
        client.delete(target),
    ):
        assert response.status_code == 403
        assert_matches_contract("environment", response)
        assert response.json()["code"] == 403
    assert list(Environment.objects.values_list("id", "name", "update_count", "spec")) == before


@pytest.mark.parametrize("role", WRITERS)
def test_writers_may_not_change_ancestor_assets_they_can_see(org, client_for, role):
    client = client_for(role, "project:7")
    target = f"{URL}/{env_id('cluster-env')}"
    assert client.get(target).status_code == 200
    assert put_json(client, target, update_document("cluster-env")).status_code == 403
    assert client.delete(target).status_code == 403
    tenant_create = post_json(client, URL, environment_document("t", scope="tenant"))
    assert tenant_create.status_code == 403
    assert_matches_contract("environment", tenant_create)


@pytest.mark.parametrize("role", WRITERS + READERS)
def test_assets_outside_the_reach_answer_404_without_data(org, client_for, role):
    client = client_for(role, "project:7")
    target = f"{URL}/{env_id('p8-env')}"
    for response in (
        client.get(target),
        put_json(client, target, update_document("p8-env")),
        client.delete(target),
    ):
        assert response.status_code == 404
        assert_matches_contract("environment", response)
        assert "p8-env" not in response.content.decode()
    assert Environment.objects.filter(name="p8-env", update_count=0).exists()


def test_creating_in_an_unseen_project_reads_as_a_missing_project(org, client_for):
    client = client_for("L1 researcher", "project:7")
    response = post_json(client, URL, environment_document("x", projectId=8))
    assert response.status_code == 400
    assert response.json()["message"].startswith("meta.projectId")


def test_a_department_manager_reaches_every_project_of_the_department(org, client_for):
    client = client_for("Research manager", "department:d1")
    assert names(client) == {"tenant-env", "cluster-env", "d1-env", "p7-env", "p8-env"}
    response = post_json(client, URL, environment_document("for-b", projectId=8))
    assert response.status_code == 202
    assert (
        put_json(client, f"{URL}/{env_id('d1-env')}", update_document("d1-env")).status_code == 202
    )
    assert client.get(f"{URL}/{env_id('d2-env')}").status_code == 404


def test_a_tenant_administrator_sees_everything(org, client_for):
    client = client_for("System administrator", "tenant")
    assert len(names(client)) == Environment.objects.count() == 8


def test_nobody_edits_or_deletes_a_read_only_environment(org, admin):
    target = f"{URL}/{env_id('tenant-env')}"
    for response in (put_json(admin, target, update_document("tenant-env")), admin.delete(target)):
        assert response.status_code == 403
        assert "read-only" in response.json()["message"]
        assert_matches_contract("environment", response)
    assert Environment.objects.get(name="tenant-env").update_count == 0


def test_nobody_creates_at_system_scope(org, admin):
    response = post_json(admin, URL, environment_document("sys", scope="system"))
    assert response.status_code == 403


def test_a_caller_without_rules_sees_nothing(org, client_for, db):
    from rest_framework.test import APIClient

    from envadmin.accounts.models import ServiceAccount
    from envadmin.accounts.tokens import issue

    account, _ = ServiceAccount.create("no-rules")
    client = APIClient()
    token = issue(account)["accessToken"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert names(client) == set()
    assert client.get(f"{URL}/{env_id('tenant-env')}").status_code == 404
