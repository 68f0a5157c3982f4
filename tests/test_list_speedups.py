"""What the list's speed-ups (issue 7) must not change: shared judgements, usage ids, the GC."""

import gc
import uuid
from datetime import UTC, datetime

import pytest

from envadmin.backends.local import paused_gc
from envadmin.compliance.engine import compile_policy
from envadmin.inventory.documents import timestamp
from envadmin.inventory.models import Environment, Workload

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


@pytest.mark.parametrize("micro", [0, 1, 123999, 999999])
def test_times_written_by_the_database_read_as_the_documents_write_them(org, admin, micro):
    add_environments(1)
    when = datetime(2024, 2, 29, 23, 59, 58, micro, tzinfo=UTC)
    Environment.objects.filter(name="bulk-0").update(created_at=when, updated_at=when)
    env = Environment.objects.get(name="bulk-0")
    listed = admin.get(URL, {"name": "bulk-0"}).json()["entries"][0]["meta"]
    assert listed["createdAt"] == listed["updatedAt"] == timestamp(env.created_at)
    assert listed["createdAt"] == f"2024-02-29T23:59:58.{micro // 1000:03d}Z"
