"""The API list's streamed bytes (stored fragments, inventory/listing.py; local_list.py) say
the same as the documents LocalBackend._documents builds, and the fragments follow every write."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone

from envadmin.accounts.access import Caller
from envadmin.backends.local import LocalBackend
from envadmin.inventory import listing
from envadmin.inventory.models import Environment, Project, Workload

from .contract import assert_matches_contract

DEMO = Path(__file__).resolve().parents[1] / "envadmin" / "demo" / "demo.yaml"
URL = "/api/v1/asset/environment"
ADMIN = Caller("fragments-check", "app", (("System administrator", "tenant"),))


def streamed(params, caller=ADMIN) -> dict:
    chunks = list(LocalBackend().list_environments_json(caller, params))
    return json.loads(b"".join(chunks))


def built(params, caller=ADMIN) -> dict:
    # Through JSON as the renderer sends it, so both sides are compared as a client reads them.
    return json.loads(json.dumps(LocalBackend().list_environments(caller, params)))


@pytest.fixture
def demo(db):
    call_command("load_snapshot", str(DEMO), stdout=StringIO())
    now = timezone.now()
    # Names and values needing escaping, unicode, every optional field and none of them.
    odd = Environment(
        name='quote"back\\slash-ü-✓', description="line\nbreak \u2028 <tag> 𝄞",
        scope="project", scope_key="project:7", project_id=7, supports_workspace=True,
        supports_training=False, supports_distributed=True, dist_framework="PyTorch",
        auto_delete=True, private=False,
        spec={"image": "ünïcode:1", "command": "echo \"hi\"\t", "environmentVariables": [
            {"name": "A", "value": "\\x00 \u0007"}], "nested": {"n": 1.5, "big": 2**62}},
        created_by="ö@example.com", created_at=now, updated_by="ö", updated_at=now,
    )  # fmt: skip
    bare = Environment(
        name="bare", scope="tenant", scope_key="tenant", spec={},
        created_by="t", created_at=now, updated_by="t", updated_at=now,
    )  # fmt: skip
    for env in (odd, bare):
        env.sync_from_spec()
        env.save()
    Workload.objects.create(
        name="w-odd", type="workspace", status="Running", project_id=7, environment=odd,
        created_at=now,
    )  # fmt: skip


PARAMS = [
    {},
    {"usageInfo": "true", "statusInfo": "true"},
    {"projectId": "7", "usageInfo": "true"},
    {"scope": "cluster"},
    {"scope": "department", "statusInfo": "true"},
    {"isDistributed": "true", "distributedFramework": "PyTorch"},
    *(
        {"usageInfo": "true", "complyToProject": str(p), "complyToWorkloadType": kind}
        for p in (1, 7)
        for kind in ("Workspace", "Training", "Inference")
    ),
    {
        "complyToProject": "7",
        "complyToWorkloadType": "Distributed",
        "complyToReplicaType": "Master",
    },
    {"complyToProject": "7", "complyToWorkloadType": "Distributed"},
]


@pytest.mark.parametrize("params", PARAMS, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()))
def test_the_streamed_list_says_what_the_documents_say(demo, params):
    new, old = streamed(params), built(params)
    assert len(old["entries"]) > 0
    assert new == old


def test_the_fixture_covers_every_shape(demo):
    """What the comparisons above must have met, or they prove little."""
    entries = [
        entry
        for project, kind in (("1", "Workspace"), ("7", "Distributed"))
        for entry in streamed(
            {"usageInfo": "true", "complyToProject": project, "complyToWorkloadType": kind}
        )["entries"]
    ]
    assert {e["meta"]["scope"] for e in entries} == {"tenant", "cluster", "department", "project"}
    assert any(e["compliance"]["imposed"] for e in entries)
    assert any(e["compliance"]["reason"] for e in entries)
    assert any(e["usedBy"]["workspaces"] for e in entries)
    assert any(e["usageTimes"]["lastUsedByWorkload"] for e in entries)
    assert any("departmentId" in e["meta"] and "projectName" in e["meta"] for e in entries)


def test_a_visible_part_of_the_tree_only(demo):
    caller = Caller("p7", "app", (("Environment administrator", "project:7"),))
    params = {"usageInfo": "true", "complyToProject": "7", "complyToWorkloadType": "Workspace"}
    new, old = streamed(params, caller), built(params, caller)
    assert new == old
    assert len(new["entries"]) < len(streamed({})["entries"])


def test_fragments_follow_updates_renames_and_writes_that_bypass_save(demo):
    env = Environment.objects.get(name="bare")
    env.name, env.spec, env.update_count = "renamed", {"image": "new:2"}, 5
    env.save(update_fields=["name", "spec", "update_count"])
    Environment.objects.filter(scope="cluster").update(description="bulk-set")
    Environment.objects.bulk_update([env], ["private"])
    # An org unit's rename must show without rewriting its environments' rows.
    Project.objects.filter(pk=7).update(name="seven-renamed")
    assert Environment.objects.filter(scope="cluster", listed_meta="").exists()
    params = {"usageInfo": "true"}
    new = streamed(params)
    assert new == built(params)
    names = {e["meta"]["name"]: e for e in new["entries"]}
    assert names["renamed"]["spec"] == {"image": "new:2"}
    assert names["renamed"]["meta"]["updateCount"] == 5
    assert {e["meta"].get("projectName") for e in new["entries"]} >= {"seven-renamed"}
    assert all(
        e["meta"].get("description") == "bulk-set"
        for e in new["entries"]
        if e["meta"]["scope"] == "cluster"
    )


def test_the_api_streams_a_valid_answer(demo, client_for):
    client = client_for()
    response = client.get(URL, {"usageInfo": "true", "statusInfo": "true"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/json"
    assert_matches_contract("environment", response)
    assert len(response.json()["entries"]) == Environment.objects.count()


def test_a_bad_parameter_is_still_the_contracts_error(demo, client_for):
    response = client_for().get(
        URL, {"complyToProject": "999999", "complyToWorkloadType": "Workspace"}
    )
    assert response.status_code == 400
    assert not response.streaming
    assert set(response.json()) >= {"code", "message"}


def test_a_failing_first_read_is_an_error_answer_not_a_cut_body(demo, client_for, monkeypatch):
    def failing(*args, **kwargs):
        raise OperationalError("canceling statement due to statement timeout")

    monkeypatch.setattr("envadmin.backends.local_list._Entries.chunk", failing)
    client = client_for()
    client.raise_request_exception = False
    assert client.get(URL).status_code == 500


@pytest.mark.parametrize("params", [{}, PARAMS[2], PARAMS[6]])
def test_a_list_is_sent_in_chunks(demo, monkeypatch, params):
    """Chunks keep the list's order, and each finds its own last uses."""
    monkeypatch.setattr("envadmin.backends.local_list.CHUNK", 4)
    chunks = list(LocalBackend().list_environments_json(ADMIN, params))
    assert len(chunks) > 3
    assert json.loads(b"".join(chunks)) == built(params)


def test_a_row_deleted_between_the_two_reads_is_left_out(demo, monkeypatch):
    """The keys are read first, then the rows a chunk at a time (local_list.py): a row gone
    meanwhile leaves no gap, no null and no broken JSON, wherever it was."""
    from envadmin.backends import local_list

    monkeypatch.setattr(local_list, "CHUNK", 3)
    read_keys = local_list._ordered_keys
    names = [e["meta"]["name"] for e in built({})["entries"]]
    gone = {names[0], names[3], names[4], names[5], names[-1]}  # a chunk's first, a whole chunk

    def keys_then_deletes(queryset):
        keys = read_keys(queryset)
        Environment.objects.filter(name__in=gone).delete()
        return keys

    monkeypatch.setattr(local_list, "_ordered_keys", keys_then_deletes)
    answer = streamed({"usageInfo": "true"})
    assert [e["meta"]["name"] for e in answer["entries"]] == [n for n in names if n not in gone]


def test_a_row_moved_out_of_sight_between_the_two_reads_is_left_out(demo, monkeypatch):
    """The second read finds rows by id alone: what the caller may see is checked again."""
    from envadmin.backends import local_list

    caller = Caller("p7", "app", (("Environment administrator", "project:7"),))
    read_keys = local_list._ordered_keys
    before = [e["meta"]["name"] for e in streamed({}, caller)["entries"]]
    moved = Environment.objects.filter(scope="project", project_id=7).first()

    def keys_then_moves(queryset):
        keys = read_keys(queryset)
        Environment.objects.filter(pk=moved.pk).update(scope_key="project:1")
        return keys

    monkeypatch.setattr(local_list, "_ordered_keys", keys_then_moves)
    after = [e["meta"]["name"] for e in streamed({}, caller)["entries"]]
    assert moved.name in before
    assert after == [name for name in before if name != moved.name]


def test_a_caller_who_sees_nothing_gets_an_empty_list(demo):
    """No visible node makes the keys' query empty before it is written (Django raises
    EmptyResultSet for an empty IN): an empty list, not a 500."""
    nobody = Caller("nobody", "app", ())
    assert streamed({"usageInfo": "true"}, nobody) == {"entries": []}
    assert streamed({}, nobody) == built({}, nobody)


def _digests_agree() -> None:
    """Every row's spec digest is the digest of the fragment it holds ("" for none)."""
    for fragment, digest in Environment.objects.values_list("listed_spec", "spec_digest"):
        assert digest == listing.spec_digest(fragment)


def test_the_spec_digest_follows_every_write_of_the_fragment(demo):
    assert Environment.objects.exclude(spec_digest="").count() == Environment.objects.count()
    _digests_agree()
    env = Environment.objects.get(name="bare")
    before = env.spec_digest
    env.spec = {"image": "new:2"}
    env.save(update_fields=["spec"])
    env.refresh_from_db()
    assert env.spec_digest not in ("", before)
    env.spec = {"image": "new:3"}
    Environment.objects.bulk_update([env], ["spec"])
    _digests_agree()
    # A queryset update empties the fragment, and the digest with it; a raw fragment written
    # without its digest leaves none either (the matrix then reads the text).
    Environment.objects.filter(name="bare").update(spec={"image": "new:4"})
    Environment.objects.filter(scope="cluster").update(listed_spec="{}")
    emptied = Environment.objects.filter(name="bare") | Environment.objects.filter(scope="cluster")
    assert set(emptied.values_list("spec_digest", flat=True)) == {""}
    assert Environment.objects.get(name="bare").listed_spec == ""
