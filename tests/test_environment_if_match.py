"""No lost edits: If-Match on an environment's PUT and DELETE (412 naming what differs).

Writers racing for real, on PostgreSQL, are in test_concurrent_writes.py.
"""

import json

import pytest

from envadmin.accounts.models import SubjectType
from envadmin.backends.base import stale_edit
from envadmin.contract.diff import changes, describe, editable, flatten

from .conftest import environment_document, post_json, put_json
from .contract import assert_matches_contract
from .upstream_stub import Reply

URL = "/api/v1/asset/environment"


def created(client, **spec):
    document = environment_document("shared", spec={"image": "python:3.11", **spec})
    response = post_json(client, URL, document)
    assert response.status_code == 202, response.content
    return response.json()


def put(client, asset_id, body, **headers):
    return client.put(
        f"{URL}/{asset_id}", data=json.dumps(body), content_type="application/json", headers=headers
    )


def test_get_and_put_carry_the_update_count_as_etag(org, admin):
    asset = created(admin)
    asset_id = asset["meta"]["id"]
    assert admin.get(f"{URL}/{asset_id}").headers["ETag"] == '"0"'
    body = {"meta": {"name": "shared"}, "spec": {"image": "python:3.12"}}
    response = put(admin, asset_id, body, **{"If-Match": '"0"'})
    assert response.status_code == 202, response.content
    assert_matches_contract("environment", response)
    assert response.headers["ETag"] == '"1"'
    assert response.json()["meta"]["updateCount"] == 1


@pytest.mark.parametrize("header", ['"0"', "0", 'W/"0"'])
def test_if_match_spellings_of_the_current_version_are_accepted(org, admin, header):
    asset_id = created(admin)["meta"]["id"]
    response = put(admin, asset_id, {"meta": {"name": "shared"}, "spec": {"image": "x"}},
                   **{"If-Match": header})  # fmt: skip
    assert response.status_code == 202, response.content


def test_a_stale_if_match_is_refused_with_what_changed_and_nothing_is_written(org, admin):
    asset_id = created(admin, command="train.py")["meta"]["id"]
    # Alice and Bob both read version 0; Bob saves first.
    bob = {"meta": {"name": "shared"}, "spec": {"image": "python:3.12", "command": "train.py"}}
    assert put(admin, asset_id, bob, **{"If-Match": '"0"'}).status_code == 202
    alice = {"meta": {"name": "shared", "description": "mine"},
             "spec": {"image": "python:3.11", "command": "train.py"}}  # fmt: skip
    response = put(admin, asset_id, alice, **{"If-Match": '"0"'})
    assert response.status_code == 412
    body = response.json()
    assert body["code"] == 412
    assert "updateCount 0" in body["message"] and "now 1" in body["message"]
    assert 'spec.image is "python:3.12" (you sent "python:3.11")' in body["details"]
    assert 'meta.description is (none) (you sent "mine")' in body["details"]
    assert "spec.command" not in body["details"]  # equal on both sides: not listed
    assert response.headers["ETag"] == '"1"'
    stored = admin.get(f"{URL}/{asset_id}").json()
    assert stored["spec"]["image"] == "python:3.12" and "description" not in stored["meta"]
    # Re-read, reapply, save with the new version: accepted.
    assert put(admin, asset_id, alice, **{"If-Match": '"1"'}).status_code == 202


def test_without_if_match_the_last_write_wins_as_in_runai(org, admin):
    asset_id = created(admin)["meta"]["id"]
    for image in ("a:1", "b:2"):
        response = put_json(admin, f"{URL}/{asset_id}", {"meta": {"name": "shared"},
                                                          "spec": {"image": image}})  # fmt: skip
        assert response.status_code == 202
    assert admin.get(f"{URL}/{asset_id}").json()["spec"]["image"] == "b:2"


@pytest.mark.parametrize("header", ["abc", '"1", "2"', "-1", '"1.5"'])
def test_a_malformed_if_match_is_a_400_with_the_contract_body(org, admin, header):
    asset_id = created(admin)["meta"]["id"]
    response = put(admin, asset_id, {"meta": {"name": "shared"}, "spec": {"image": "x"}},
                   **{"If-Match": header})  # fmt: skip
    assert response.status_code == 400
    assert response.json()["code"] == 400 and "If-Match" in response.json()["message"]
    assert admin.get(f"{URL}/{asset_id}").json()["meta"]["updateCount"] == 0


def test_if_match_star_means_any_version(org, admin):
    asset_id = created(admin)["meta"]["id"]
    response = put(admin, asset_id, {"meta": {"name": "shared"}, "spec": {"image": "x"}},
                   **{"If-Match": "*"})  # fmt: skip
    assert response.status_code == 202


def test_our_openapi_documents_if_match_and_412(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    document = json.loads(schema.content) if schema["Content-Type"].endswith("json") else None
    if document is None:
        import yaml

        document = yaml.safe_load(schema.content)
    put_operation = document["paths"]["/api/v1/asset/environment/{asset_id}"]["put"]
    headers = [p["name"] for p in put_operation["parameters"] if p["in"] == "header"]
    assert "If-Match" in headers
    assert "412" in put_operation["responses"]


# --- the diff the refusals and the audit trail are made of ------------------------------------


def test_diff_names_env_vars_and_connections_by_name_not_position():
    before = {"spec": {"environmentVariables": [{"name": "A", "value": "1"},
                                                 {"name": "B", "value": "2"}]}}  # fmt: skip
    after = {"spec": {"environmentVariables": [{"name": "B", "value": "2"},
                                                {"name": "A", "value": "3"}]}}  # fmt: skip
    assert changes(before, after) == [
        {"field": "spec.environmentVariables[A].value", "before": "1", "after": "3"}
    ]


def test_diff_of_a_creation_and_a_deletion_lists_every_field():
    document = {"meta": {"name": "n", "description": "d", "updateCount": 4},
                "spec": {"image": "i", "args": "--x"}}  # fmt: skip
    fields = ["meta.description", "meta.name", "spec.args", "spec.image"]
    assert [c["field"] for c in changes(None, editable(document))] == fields
    assert [c["after"] for c in changes(editable(document), None)] == [None] * 4
    assert flatten({"spec": {"connections": [], "x": {}}}) == {}


def test_stale_edit_without_differences_has_no_details():
    current = {"meta": {"name": "n", "updateCount": 2, "updatedBy": "bob"}, "spec": {"image": "i"}}
    error = stale_edit(1, current, {"meta": {"name": "n"}, "spec": {"image": "i"}})
    assert error.status == 412 and error.details is None and "bob" in error.message
    assert describe({"field": "f", "before": None, "after": 3}) == "f: (none) → 3"


# --- proxy mode: Run:ai has no If-Match, envadmin compares just before the PUT --------------


def test_in_proxy_mode_a_stale_if_match_sends_no_put_to_runai(db, proxy, stub):
    current = {"meta": {"id": "e1", "name": "n", "updateCount": 5, "updatedBy": "bob"},
               "spec": {"image": "new"}}  # fmt: skip
    stub.default = Reply(200, current)
    body = {"meta": {"name": "n"}, "spec": {"image": "old"}}
    refused = put(proxy, "e1", body, **{"If-Match": '"4"'})
    assert refused.status_code == 412
    assert 'spec.image is "new" (you sent "old")' in refused.json()["details"]
    assert stub.seen("PUT") == []
    accepted = put(proxy, "e1", body, **{"If-Match": '"5"'})
    assert accepted.status_code == 202
    assert [seen.json() for seen in stub.seen("PUT")] == [body]


# --- delete: the version the caller saw, or nothing ------------------------------------------


def test_a_delete_with_a_stale_if_match_is_refused_and_the_environment_stays(org, admin):
    asset_id = created(admin)["meta"]["id"]
    body = {"meta": {"name": "shared"}, "spec": {"image": "changed"}}
    assert put(admin, asset_id, body).status_code == 202
    refused = admin.delete(f"{URL}/{asset_id}", headers={"If-Match": '"0"'})
    assert refused.status_code == 412 and "now 1" in refused.json()["message"]
    assert refused.headers["ETag"] == '"1"'
    assert admin.get(f"{URL}/{asset_id}").status_code == 200
    assert admin.delete(f"{URL}/{asset_id}", headers={"If-Match": '"1"'}).status_code == 202
    assert admin.get(f"{URL}/{asset_id}").status_code == 404


def test_the_ui_delete_confirms_the_version_it_showed(org, client, admin):
    from django.contrib.auth.models import User

    from envadmin.accounts.models import AccessRule

    User.objects.create_user("carol")
    AccessRule.objects.create(subject_type=SubjectType.USER, subject="carol",
                              role="System administrator", scope_key="tenant")  # fmt: skip
    client.force_login(User.objects.get(username="carol"))
    asset_id = created(admin)["meta"]["id"]
    page = client.get(f"/environments/{asset_id}/delete")
    assert page.status_code == 200, (page.status_code, page.get("Location"))
    page = page.content.decode()
    assert 'name="version" value="0"' in page
    assert put(admin, asset_id, {"meta": {"name": "shared"}, "spec": {"image": "x"}}).status_code
    asked_again = client.post(f"/environments/{asset_id}/delete", {"version": "0"})
    assert asked_again.status_code == 409
    text = asked_again.content.decode()
    assert "Not deleted." in text and 'name="version" value="1"' in text
    assert admin.get(f"{URL}/{asset_id}").status_code == 200
    # Without a version (not from the confirm page) it is asked again too.
    assert client.post(f"/environments/{asset_id}/delete").status_code == 409
    assert client.post(f"/environments/{asset_id}/delete", {"version": "1"}).status_code == 302
    assert admin.get(f"{URL}/{asset_id}").status_code == 404


def test_in_proxy_mode_a_stale_if_match_sends_no_delete_to_runai(db, proxy, stub):
    stub.default = Reply(200, {"meta": {"id": "e1", "name": "n", "updateCount": 2}})
    refused = proxy.delete(f"{URL}/e1", headers={"If-Match": '"1"'})
    assert refused.status_code == 412
    assert stub.seen("DELETE") == []
