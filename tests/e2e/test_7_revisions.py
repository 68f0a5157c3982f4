"""Every version of an environment in proxy mode, over two real processes: B (proxy) keeps the
revisions of what it changes and what it reads on A; restores and undeletes reach A."""

import uuid

import pytest

from .conftest import ENVIRONMENTS, Api

pytestmark = pytest.mark.e2e

OURS = "/api/envadmin/v1/environments"


def creation(name, image):
    return {
        "meta": {"name": name, "scope": "project", "projectId": 1,
                 "workloadSupportedTypes": {"workspace": True}},
        "spec": {"image": image},
    }  # fmt: skip


def put(api: Api, asset: dict, image: str) -> dict:
    body = {"meta": {"name": asset["meta"]["name"]}, "spec": {**asset["spec"], "image": image}}
    answer = api.put(f"{ENVIRONMENTS}/{asset['meta']['id']}", json=body)
    assert answer.status_code == 202, answer.text
    return answer.json()


def revisions(via_b: Api, asset_id: str) -> list[dict]:
    answer = via_b.get(f"{OURS}/{asset_id}/revisions")
    assert answer.status_code == 200, answer.text
    return answer.json()["revisions"]


@pytest.fixture
def edited(via_b):
    """Created and edited twice through B: revisions 1, 2, 3 with three images."""
    name = f"e2e-rev-{uuid.uuid4().hex[:8]}"
    answer = via_b.post(ENVIRONMENTS, json=creation(name, "python:3.10"))
    assert answer.status_code == 202, answer.text
    asset = put(via_b, answer.json(), "python:3.11")
    return put(via_b, asset, "python:3.12")


def test_compare_and_restore_through_the_proxy(edited, via_b, on_a):
    asset_id = edited["meta"]["id"]
    assert [(r["revision"], r["action"]) for r in revisions(via_b, asset_id)] == [
        (3, "update"), (2, "update"), (1, "create"),
    ]  # fmt: skip
    compared = via_b.get(f"{OURS}/{asset_id}/compare", params={"from": 1, "to": 3}).json()
    assert {"field": "spec.image", "before": "python:3.10", "after": "python:3.12"} in compared[
        "changes"
    ]

    count = on_a.get(f"{ENVIRONMENTS}/{asset_id}").json()["meta"]["updateCount"]
    stale = via_b.post(f"{OURS}/{asset_id}/revisions/1/restore", headers={"If-Match": '"0"'})
    assert stale.status_code == 412, stale.text
    assert on_a.get(f"{ENVIRONMENTS}/{asset_id}").json()["spec"]["image"] == "python:3.12"

    answer = via_b.post(
        f"{OURS}/{asset_id}/revisions/1/restore", headers={"If-Match": f'"{count}"'}
    )
    assert answer.status_code == 202, answer.text
    on_a_now = on_a.get(f"{ENVIRONMENTS}/{asset_id}").json()
    assert on_a_now["spec"]["image"] == "python:3.10"
    assert on_a_now["meta"]["updateCount"] == count + 1
    newest = revisions(via_b, asset_id)[0]
    assert (newest["revision"], newest["action"], newest["restoredFrom"]) == (4, "restore", 1)
    assert newest["updateCount"] == count + 1


def test_a_change_made_on_the_upstream_is_an_observed_revision(edited, via_b, on_a):
    asset_id = edited["meta"]["id"]
    direct = put(on_a, on_a.get(f"{ENVIRONMENTS}/{asset_id}").json(), "made-on-a:1")
    assert via_b.get(f"{ENVIRONMENTS}/{asset_id}").status_code == 200
    newest = revisions(via_b, asset_id)[0]
    assert newest["action"] == "observed"
    assert newest["actor"] is None
    assert newest["updateCount"] == direct["meta"]["updateCount"]
    assert {"field": "spec.image", "before": "python:3.12", "after": "made-on-a:1"} in newest[
        "changes"
    ]
    # Read again (the list this time): the same version is not recorded twice.
    assert via_b.get(ENVIRONMENTS, params={"name": edited["meta"]["name"]}).status_code == 200
    assert revisions(via_b, asset_id)[0]["revision"] == newest["revision"]


def test_delete_then_undelete_through_the_proxy(edited, via_b, on_a):
    asset_id, name = edited["meta"]["id"], edited["meta"]["name"]
    assert via_b.delete(f"{ENVIRONMENTS}/{asset_id}").status_code == 202
    listed = via_b.get(f"{OURS}/deleted", params={"name": name}).json()["entries"]
    assert [entry["id"] for entry in listed] == [asset_id]

    # The name taken on A meanwhile: 409, and A holds no second environment of that name.
    blocker = on_a.post(ENVIRONMENTS, json=creation(name, "other:1")).json()
    refused = via_b.post(f"{OURS}/{asset_id}/undelete")
    assert refused.status_code == 409, refused.text
    assert len(on_a.get(ENVIRONMENTS, params={"name": name}).json()["entries"]) == 1
    assert on_a.delete(f"{ENVIRONMENTS}/{blocker['meta']['id']}").status_code == 202

    answer = via_b.post(f"{OURS}/{asset_id}/undelete")
    assert answer.status_code == 202, answer.text
    new_id = answer.json()["meta"]["id"]
    assert new_id != asset_id
    on_a_now = on_a.get(f"{ENVIRONMENTS}/{new_id}").json()
    assert (on_a_now["meta"]["name"], on_a_now["meta"]["projectId"]) == (name, 1)
    assert on_a_now["spec"]["image"] == "python:3.12"
    first = revisions(via_b, new_id)
    assert first[-1]["restoredFrom"] == {"assetId": asset_id, "revision": 4}
