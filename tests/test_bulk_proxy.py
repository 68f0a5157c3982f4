"""Bulk actions in proxy mode: each item is Run:ai's own read and write, its refusal kept."""

import json

from envadmin.audit.models import Revision

from .conftest import post_json
from .upstream_stub import Reply

BULK = "/api/envadmin/v1/bulk"
PATH = "/api/v1/asset/environment/"


def asset(asset_id: str, count: int, image: str) -> dict:
    meta = {"id": asset_id, "name": asset_id, "scope": "project", "projectId": 7,
            "updateCount": count}  # fmt: skip
    return {"meta": meta, "spec": {"image": image}}


class FakeRunai:
    """Environments by id; Run:ai refuses `locked` with 403 and knows no other id."""

    def __init__(self):
        self.store = {i: asset(i, 1, "nvcr.io/nvidia/cuda:12.1") for i in ("a", "b", "stale")}
        self.store["locked"] = asset("locked", 0, "python:3.11")
        self.store["stale"]["meta"]["updateCount"] = 5

    def __call__(self, seen) -> Reply:
        asset_id = seen.path.split("?")[0].removeprefix(PATH)
        if asset_id not in self.store:
            return Reply(404, {"code": 404, "message": "Not found"})
        if seen.method == "GET":
            return Reply(200, self.store[asset_id])
        if asset_id == "locked":
            return Reply(403, {"code": 403, "message": "Forbidden"})
        if seen.method == "PUT":
            sent = json.loads(seen.body)
            current = self.store[asset_id]
            count = current["meta"]["updateCount"] + 1
            current.update(spec=sent["spec"], meta={**current["meta"], "updateCount": count})
            return Reply(202, current)
        del self.store[asset_id]
        return Reply(202, {"code": 202, "message": "accepted"})


def test_set_image_in_proxy_mode(db, proxy, stub):
    fake = FakeRunai()
    stub.handler = fake
    items = [{"id": "a"}, {"id": "b", "ifMatch": 1}, {"id": "stale", "ifMatch": 1},
             {"id": "gone"}, {"id": "locked"}]  # fmt: skip
    dry = post_json(proxy, BULK, {"action": "set-image", "image": ":12.4", "items": items,
                                  "dryRun": True})  # fmt: skip
    assert dry.status_code == 200, dry.content
    assert not stub.seen("PUT")
    answer = post_json(proxy, BULK, {"action": "set-image", "image": ":12.4", "items": items})
    statuses = [r["status"] for r in answer.json()["results"]]
    assert statuses == [202, 202, 412, 404, 403]
    assert {i: fake.store[i]["spec"]["image"] for i in ("a", "b", "stale", "locked")} == {
        "a": "nvcr.io/nvidia/cuda:12.4", "b": "nvcr.io/nvidia/cuda:12.4",
        "stale": "nvcr.io/nvidia/cuda:12.1", "locked": "python:3.11",
    }  # fmt: skip
    # Each change is a revision of its own, to undo it by.
    updates = Revision.objects.filter(action="update").values_list("asset_id", flat=True)
    assert sorted(updates) == ["a", "b"]
    # Run:ai allows what it allows: a dry run cannot ask it, so "locked" looked fine.
    assert [r["status"] for r in dry.json()["results"]] == [202, 202, 412, 404, 202]
