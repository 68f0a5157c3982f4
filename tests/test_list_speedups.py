"""What the list's speed-ups (issue 7) must not change: shared judgements, usage ids, the GC."""

import gc
import uuid
from datetime import UTC, datetime

import pytest

from envadmin import process_tuning
from envadmin.compliance.engine import compile_policy
from envadmin.inventory.documents import timestamp
from envadmin.inventory.models import Environment, Workload
from envadmin.process_tuning import paused_gc

from .factories import add_environments

URL = "/api/v1/asset/environment"


def environment(uid, supported=None):
    meta = {"id": str(uuid.uuid4()), "workloadSupportedTypes": supported or {"workspace": True}}
    return {"meta": meta, "spec": {"image": "img", "runAsUid": uid}}


def test_judgements_shared_between_environments_keep_values_of_other_types_apart():
    judge = compile_policy({"rules": {"security": {"runAsUid": {"min": 5}}}}, "Workspace")
    low, boolean, low_again = (judge(environment(v)) for v in (1, True, 1))
    assert [r["rule"] for r in low["reason"]] == ["min"]
    assert boolean["compliance"] and boolean["reason"] == []  # True is not the number 1
    assert low_again == low and low_again["reason"] is not low["reason"]
    unsupported = judge(environment(1, {"training": True}))
    assert (
        len(unsupported["reason"]) == 2
        and "does not support" in unsupported["reason"][0]["details"]
    )


def test_used_by_ids_are_the_workloads_own(org, admin):
    add_environments(3)
    entries = admin.get(URL, {"usageInfo": "true", "projectId": 7}).json()["entries"]
    listed = {
        w["id"] for e in entries for w in e["usedBy"]["workspaces"] + e["usedBy"]["trainings"]
    }
    assert listed and listed <= {str(pk) for pk in Workload.objects.values_list("id", flat=True)}


def test_paused_gc_enables_the_collector_again_without_freezing_anything():
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        kept = [{"n": i} for i in range(10_000)]
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert len(kept) == 10_000


def test_what_paused_gc_promotes_is_fully_collected_every_so_often(monkeypatch):
    """Promoted objects wait for a full collection: one runs every FULL_COLLECTION_EVERY lists,
    so reference cycles of earlier requests cannot pile up."""
    full = []
    monkeypatch.setattr(process_tuning, "_promotions", 0)
    monkeypatch.setattr(process_tuning.gc, "collect", lambda *args: full.append(args) or 0)
    for _ in range(2 * process_tuning.FULL_COLLECTION_EVERY):
        with paused_gc():
            pass
    assert full == [(), ()]


def test_an_answer_lets_go_of_its_documents_once_rendered(org, admin):
    """DRF's response, view and request form a reference cycle: once rendered, the documents
    and the cycle through the response are dropped, so reference counting frees them."""
    add_environments(50)
    was_enabled = gc.isenabled()
    gc.collect()  # what earlier tests left in cycles is gone first
    gc.disable()  # only reference counting may free anything here
    try:
        response = admin.get("/api/v1/asset/environment")
        # (not response.json(): the test client keeps its parsed copy in a cycle of its own)
        assert response.status_code == 200 and response.content.count(b'"meta"') > 50
        assert response.data is None and response.renderer_context is None
        del response
        alive = [o for o in gc.get_objects() if type(o) is dict and type(o.get("entries")) is list]
        assert alive == []
    finally:
        if was_enabled:
            gc.enable()


@pytest.mark.parametrize("micro", [0, 1, 123999, 999999])
def test_times_written_by_the_database_read_as_the_documents_write_them(org, admin, micro):
    add_environments(1)
    when = datetime(2024, 2, 29, 23, 59, 58, micro, tzinfo=UTC)
    Environment.objects.filter(name="bulk-0").update(created_at=when, updated_at=when)
    env = Environment.objects.get(name="bulk-0")
    listed = admin.get(URL, {"name": "bulk-0"}).json()["entries"][0]["meta"]
    assert listed["createdAt"] == listed["updatedAt"] == timestamp(env.created_at)
    assert listed["createdAt"] == f"2024-02-29T23:59:58.{micro // 1000:03d}Z"
