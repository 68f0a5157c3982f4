"""No lost policy changes: a policy's ETag and If-Match on its PUT, PATCH and DELETE.

Writers racing for real, on PostgreSQL, are in test_concurrent_writes.py.
"""

import json
import re

import pytest

from envadmin.policies.models import Policy

from .contract import assert_matches_contract
from .upstream_stub import Reply

BASE = "/api/v2/policy/workspaces"
TENANT = {"name": "tenant-policy", "scope": "tenant"}


def write(client, method, policy, if_match=None, query=""):
    headers = {"If-Match": if_match} if if_match is not None else {}
    return getattr(client, method)(
        BASE + query,
        data=json.dumps({"meta": TENANT, "policy": policy}),
        content_type="application/json",
        headers=headers,
    )


def rules(**fields):
    return {"rules": {field: rule for field, rule in fields.items()}}


def stored_rules():
    return Policy.objects.get(scope_key="tenant").document.get("rules", {})


def etag(client) -> str:
    response = client.get(BASE, {"scope": "tenant"})
    assert response.status_code == 200
    return response.headers["ETag"]


def assert_refused(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == status and isinstance(body["message"], str)
    return body


def test_get_put_and_patch_answer_the_version_a_later_get_gives(org, admin):
    put = write(admin, "put", rules(image={"required": True}), if_match=etag(admin))
    assert put.status_code == 200
    assert_matches_contract("policy", put)
    assert put.headers["ETag"] == etag(admin)
    patch = write(admin, "patch", rules(command={"canEdit": False}), if_match=put.headers["ETag"])
    assert patch.status_code == 200
    assert patch.headers["ETag"] not in (put.headers["ETag"], None)
    assert patch.headers["ETag"] == etag(admin)
    assert sorted(stored_rules()) == ["command", "image"]


@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_write_from_an_old_version_is_a_412_and_changes_nothing(org, admin, method):
    read = write(admin, "put", rules(image={"required": True})).headers["ETag"]
    newer = write(admin, "put", rules(image={"required": False}))  # someone else's
    refused = write(admin, method, rules(args={"required": True}), if_match=read)
    body = assert_refused(refused, 412)
    assert body["message"].startswith(f"The policy is not the version {read} any more")
    assert "last updated by" in body["message"]
    assert refused.headers["ETag"] == newer.headers["ETag"] == etag(admin)
    assert stored_rules() == {"image": {"required": False}}
    if method == "put":  # the whole policy was sent: what differs from it is named
        assert "policy.rules.image.required is false (you sent (none))" in body["details"]
        assert "policy.rules.args.required is (none) (you sent true)" in body["details"]
    # Read again, reapply: accepted.
    again = write(admin, method, rules(args={"required": True}), if_match=refused.headers["ETag"])
    assert again.status_code == 200


def test_a_delete_from_an_old_version_is_a_412_and_the_policy_stays(org, admin):
    read = write(admin, "put", rules(image={"required": True})).headers["ETag"]
    newer = write(admin, "put", rules(image={"required": False})).headers["ETag"]
    refused = admin.delete(f"{BASE}?scope=tenant", headers={"If-Match": read})
    assert_refused(refused, 412)
    assert Policy.objects.filter(scope_key="tenant").exists()
    deleted = admin.delete(f"{BASE}?scope=tenant", headers={"If-Match": newer})
    assert deleted.status_code == 204
    assert not Policy.objects.exists()


def test_the_version_of_no_policy_lets_a_write_ask_that_none_was_made_since(org, admin):
    nothing = etag(admin)
    assert write(admin, "put", rules(image={"required": True}), if_match=nothing).status_code == 200
    late = write(admin, "put", rules(args={"required": True}), if_match=nothing)
    body = assert_refused(late, 412)
    assert "last updated by" in body["message"]
    assert stored_rules() == {"image": {"required": True}}


def test_a_policy_deleted_and_written_again_is_another_version(org, admin):
    policy = rules(image={"required": True})
    read = write(admin, "put", policy).headers["ETag"]
    assert admin.delete(f"{BASE}?scope=tenant").status_code == 204
    gone = write(admin, "patch", rules(args={"required": True}), if_match=read)
    assert "it has no policy now" in assert_refused(gone, 412)["message"]
    assert not Policy.objects.exists()
    write(admin, "put", policy)
    assert_refused(write(admin, "put", policy, if_match=read), 412)


@pytest.mark.parametrize("header", ["abc", '"1"', '"0f"', "W/", '"' + "g" * 32 + '"'])
def test_a_malformed_if_match_is_a_400_and_changes_nothing(org, admin, header):
    write(admin, "put", rules(image={"required": True}))
    body = assert_refused(write(admin, "put", {}, if_match=header), 400)
    assert body["message"].startswith("If-Match: ")
    assert_refused(admin.delete(f"{BASE}?scope=tenant", headers={"If-Match": header}), 400)
    assert stored_rules() == {"image": {"required": True}}


@pytest.mark.parametrize("spelling", ["{}", "W/{}", "{!s}"])
def test_if_match_spellings_of_the_current_version_and_star_are_accepted(org, admin, spelling):
    current = etag(admin)
    tag = spelling.format(current) if spelling != "{!s}" else current.strip('"')
    assert write(admin, "put", rules(image={"required": True}), if_match=tag).status_code == 200
    assert write(admin, "put", rules(args={"required": True}), if_match="*").status_code == 200
    assert stored_rules() == {"args": {"required": True}}


def test_a_validated_draft_answers_no_version(org, admin):
    checked = write(admin, "put", {}, if_match=etag(admin), query="?validateOnly=true")
    assert checked.status_code == 200
    assert "ETag" not in checked.headers
    assert not Policy.objects.exists()


def test_our_openapi_documents_if_match_and_412_on_policy_writes(client):
    document = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for method in ("put", "patch", "delete"):
        operation = document["paths"][BASE][method]
        headers = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
        assert headers == ["If-Match"], method
        assert "412" in operation["responses"], method
    put_parameters = {p["name"]: p for p in document["paths"][BASE]["put"]["parameters"]}
    assert put_parameters["validateOnly"]["schema"]["type"] == "boolean"


# --- proxy mode: Run:ai has no If-Match, envadmin compares just before the write -------------


def test_in_proxy_mode_a_stale_if_match_sends_no_write_to_runai(db, proxy, stub):
    current = {"meta": {"id": "p1", "name": "n", "scope": "tenant", "updatedBy": "bob"},
               "policy": {"rules": {"image": {"required": True}}}, "effective": {}}  # fmt: skip
    stub.default = Reply(200, current)
    read = proxy.get(BASE, {"scope": "tenant"}).headers["ETag"]
    body = {"meta": TENANT, "policy": {}}
    stub.default = Reply(200, {**current, "policy": {}})  # someone changed it since
    refused = proxy.put(BASE, data=json.dumps(body), content_type="application/json",
                        headers={"If-Match": read})  # fmt: skip
    assert_refused(refused, 412)
    assert stub.seen("PUT") == []
    assert "scope=tenant" in stub.seen("GET")[-1].path
    accepted = proxy.put(BASE, data=json.dumps(body), content_type="application/json",
                         headers={"If-Match": refused.headers["ETag"]})  # fmt: skip
    assert accepted.status_code == 200
    assert [seen.json() for seen in stub.seen("PUT")] == [body]
    deleted = proxy.delete(f"{BASE}?scope=tenant", headers={"If-Match": read})
    assert_refused(deleted, 412)
    assert stub.seen("DELETE") == []


# --- the policy YAML editor saves only on the version it was opened on -------------------------


def editor_version(page: str, kind: str = "workspace") -> str:
    section = page.split(f'id="policy-{kind}"', 1)[1]
    return re.search(r'name="version" value="([0-9a-f]+)"', section).group(1)


def test_the_policy_editor_refuses_a_save_on_a_version_someone_else_replaced(admin, editor):
    client = editor
    opened = editor_version(client.get("/policies?scope=tenant").content.decode())
    # Meanwhile someone rules runAsUid through the API.
    assert write(admin, "put", rules(**{"security.runAsUid": {"min": 1}})).status_code == 200
    mine = {"kind": "Workspace", "version": opened, "name": "mine",
            "yaml": "rules:\n  imagePullPolicy:\n    required: true\n"}  # fmt: skip
    refused = client.post("/policies?scope=tenant", mine)
    page = refused.content.decode()
    assert refused.status_code == 200 and "Not saved" in page
    assert "imagePullPolicy" in page  # the user's text is kept
    assert "security.runAsUid" in stored_rules()  # theirs is not overwritten
    # Saving again from the version now shown is a deliberate replacement, and goes through.
    again = client.post("/policies?scope=tenant", {**mine, "version": editor_version(page)})
    # The required pull policy breaks environments: the editor shows that and asks to confirm.
    confirm = re.search(r'name="confirm" value="([0-9a-f]+)"', again.content.decode()).group(1)
    assert "security.runAsUid" in stored_rules()
    saved = client.post(
        "/policies?scope=tenant", {**mine, "version": editor_version(page), "confirm": confirm}
    )
    assert saved.status_code == 302
    assert "imagePullPolicy" in stored_rules() and "security.runAsUid" not in stored_rules()
