"""GET /api/envadmin/v1/hygiene on a fixture built for it: never used, unused for N days,
identical specs and non-compliant everywhere, over what the caller may see only."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from envadmin.inventory.models import Environment, Workload

from .conftest import error_message, put_json
from .factories import add_environment
from .upstream_stub import Reply

URL = "/api/envadmin/v1/hygiene"


def used(env, days_ago, project_id):
    Workload.objects.create(
        id=uuid.uuid4(), name=f"w-{env.name}", type="workspace", status="Completed",
        project_id=project_id, environment=env,
        created_at=timezone.now() - timedelta(days=days_ago),
    )  # fmt: skip


@pytest.fixture
def catalogue(org, admin):
    """On the small org: a stale and a recent one (project 8), two with one spec in projects 8
    and 9, a never-used one in project 9, and a d1 workspace policy that p8-env breaks."""
    used(add_environment("stale", project_id=8, image="stale:1", workspace=True), 200, 8)
    used(add_environment("recent", project_id=8, image="recent:1", workspace=True), 10, 8)
    add_environment("dup-a", project_id=8, image="same:1", training=True)
    add_environment("dup-b", project_id=9, image="same:1", training=True)
    add_environment("never-9", project_id=9, image="never:1", training=True)
    policy = {"meta": {"name": "p", "scope": "department", "departmentId": "d1"},
              "policy": {"rules": {"workingDir": {"required": True}}}}  # fmt: skip
    answer = put_json(admin, "/api/v2/policy/workspaces", policy)
    assert answer.status_code == 200, answer.content


def names(entries):
    return {e["name"] for e in entries}


def report(client, **params):
    answer = client.get(URL, params)
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_the_tenant_admin_sees_each_kind(catalogue, admin):
    found = report(admin, unusedDays=90)
    never = names(found["neverUsed"])
    assert {"never-9", "dup-a", "dup-b", "p8-env"} <= never
    # Used by a workload, or by a template (p7-env and tenant-env have both).
    assert not never & {"stale", "recent", "p7-env", "tenant-env", "cluster-env"}
    assert [(e["name"], e["path"]) for e in found["unused"]] == [
        ("stale", "c1 / research / team-b")
    ]
    assert found["unused"][0]["lastUsed"].endswith("Z")
    groups = [names(group) for group in found["duplicates"]]
    assert {"dup-a", "dup-b"} in groups
    assert not any("stale" in g or "recent" in g for g in groups)
    # p8-env supports Workspace only, seen only by project 8, under d1's policy.
    noncompliant = names(found["nonCompliantEverywhere"])
    assert "p8-env" in noncompliant
    assert not noncompliant & {"d2-env", "dup-a", "tenant-env"}
    entry = next(e for e in found["neverUsed"] if e["name"] == "never-9")
    assert entry == {
        "id": str(Environment.objects.get(name="never-9").id), "name": "never-9",
        "path": "c1 / vision / team-c", "state": "active",
    }  # fmt: skip


def test_fewer_days_make_more_unused(catalogue, admin):
    unused = names(report(admin, unusedDays=5)["unused"])
    assert {"stale", "recent"} <= unused
    assert not unused & {"never-9", "dup-a"}  # never used is not "unused for a while"


def test_nothing_the_caller_cannot_see(catalogue, client_for):
    found = report(client_for("Viewer", "department:d1"), unusedDays=90)
    everything = [
        e for key in ("neverUsed", "unused", "nonCompliantEverywhere") for e in found[key]
    ]
    everything += [e for group in found["duplicates"] for e in group]
    hidden = {"dup-b", "never-9", "p9-env", "d2-env", "c2-env"}
    assert not names(everything) & hidden
    assert "dup-a" in names(found["neverUsed"])
    # dup-b is out of reach: dup-a has no twin the caller can see.
    assert not any("dup-a" in names(group) for group in found["duplicates"])


@pytest.mark.parametrize("value", ["0", "3651", "-1", "ninety", "1e3", "²", "99999999999"])
def test_unused_days_out_of_bounds_is_400(catalogue, admin, value):
    assert error_message(admin.get(URL, {"unusedDays": value})).startswith("unusedDays:")


def test_an_unknown_parameter_is_400(org, admin):
    error_message(admin.get(URL, {"days": "3"}))


def test_without_a_token_it_is_unauthorized(client, db):
    error_message(client.get(URL), 401)


def test_proxy_mode_reads_usage_and_compliance_from_runai_lists(db, proxy, stub):
    def document(asset_id, image, **extra):
        meta = {"id": asset_id, "name": asset_id, "scope": "project", "projectId": 7,
                "clusterId": "c", "departmentId": "d", "updateCount": 1,
                "workloadSupportedTypes": {"workspace": True}}  # fmt: skip
        return {"meta": meta, "spec": {"image": image}, "usedBy": {"workspaces": []}, **extra}

    old = {"usageTimes": {"lastUsedByWorkload": "2020-01-01T00:00:00.000Z"}}
    bad = {"compliance": {"imposed": False, "compliance": False, "reason": []}}
    good = {"compliance": {"imposed": False, "compliance": True, "reason": []}}

    def answer(seen):
        path, _, query = seen.path.partition("?")
        if path == "/api/v1/asset/environment":
            if "complyToWorkloadType=Workspace" in query:
                return Reply(200, {"entries": [
                    document("a", "x:1", **old, **good), document("b", "x:1", **bad),
                ]})  # fmt: skip
            if "complyTo" in query:
                return Reply(200, {"entries": []})
            return Reply(200, {"entries": [document("a", "x:1"), document("b", "x:1")]})
        if path == "/api/v1/org-unit/projects":
            project = {"id": "7", "name": "team-a", "clusterId": "c", "parentId": "d"}
            return Reply(200, {"projects": [project]})
        if path == "/api/v1/org-unit/departments":
            return Reply(200, {"departments": [{"id": "d", "name": "research", "clusterId": "c"}]})
        if path == "/api/v1/clusters":
            return Reply(200, [{"uuid": "c", "name": "c1"}])
        return Reply(404, {"code": 404, "message": "no"})

    stub.handler = answer
    found = report(proxy, unusedDays=90)
    assert [(e["id"], e["path"]) for e in found["unused"]] == [("a", "c1 / research / 7")]
    assert names(found["neverUsed"]) == {"b"}
    assert [names(group) for group in found["duplicates"]] == [{"a", "b"}]
    assert names(found["nonCompliantEverywhere"]) == {"b"}
