"""Proxy mode's observed revisions against a stub Run:ai: a read records the versions it has
not seen, once, in a fixed number of queries however long the list; a failing record never
fails the read."""

from unittest import mock

from django.db import connection
from django.db.models.query import QuerySet
from django.test.utils import CaptureQueriesContext

from envadmin.audit import revisions
from envadmin.audit.models import Revision

from .upstream_stub import Reply

URL = "/api/v1/asset/environment"


def asset(number: int, count: int = 0, image: str = "img:1") -> dict:
    meta = {"id": f"id-{number}", "name": f"env-{number}", "scope": "project", "projectId": 7,
            "projectName": "team-a", "updateCount": count}  # fmt: skip
    return {"meta": meta, "spec": {"image": image}, "usedBy": {"workspaces": []}}


def test_a_list_records_each_unseen_version_once_in_a_fixed_number_of_queries(db, proxy, stub):
    entries = [asset(n) for n in range(200)]
    stub.default = Reply(200, {"entries": entries})
    with CaptureQueriesContext(connection) as queries:
        assert proxy.get(URL).status_code == 200
    recorded = Revision.objects.filter(action="observed")
    assert recorded.count() == 200
    first = recorded.get(asset_id="id-3")
    assert (first.revision, first.update_count, first.actor) == (1, 0, "")
    assert "usedBy" not in first.document  # what a read derives is not kept
    assert first.scope_path == "project team-a"
    assert len(queries) <= 6

    with CaptureQueriesContext(connection) as again:
        assert proxy.get(URL).status_code == 200
    assert Revision.objects.count() == 200
    assert len(again) <= 3


def test_a_new_update_count_is_a_new_observed_revision_with_its_changes(db, proxy, stub):
    stub.script(Reply(200, asset(1)), Reply(200, asset(1, count=1, image="img:2")))
    proxy.get(f"{URL}/id-1")
    proxy.get(f"{URL}/id-1")
    newest = Revision.objects.filter(asset_id="id-1").order_by("-revision").first()
    assert (newest.revision, newest.update_count) == (2, 1)
    assert newest.changes == [{"field": "spec.image", "before": "img:1", "after": "img:2"}]


def test_a_failing_record_never_fails_the_read(db, proxy, stub):
    stub.script(Reply(200, asset(1)))
    with mock.patch("envadmin.audit.revisions.observe", side_effect=RuntimeError("db gone")):
        answer = proxy.get(f"{URL}/id-1")
    assert answer.status_code == 200 and answer.json()["meta"]["id"] == "id-1"


def test_a_revision_number_taken_meanwhile_is_retried(db):
    # Proxy mode holds no lock: another process may take the number between max() and insert.
    Revision.objects.create(
        asset_id="a", revision=1, action="create", document={}, scope_key="tenant"
    )
    real, calls = QuerySet.aggregate, []

    def stale_once(self, *args, **kwargs):
        calls.append(1)
        return {"revision__max": 0} if len(calls) == 1 else real(self, *args, **kwargs)

    with mock.patch.object(QuerySet, "aggregate", stale_once):
        added = revisions.add("a", {"meta": {}}, action="update", scope_key="tenant")
    assert added.revision == 2 and len(calls) == 2
