"""POST /api/envadmin/v1/bulk: one action over many environments, each item on its own."""

import pytest

from envadmin.audit.models import Revision
from envadmin.inventory.models import Environment

from .conftest import environment_document, error_message, post_json

BULK = "/api/envadmin/v1/bulk"
ENVIRONMENTS = "/api/v1/asset/environment"


def create(client, name, image="nvcr.io/nvidia/pytorch:24.01-py3", project=7) -> dict:
    document = environment_document(name=name, projectId=project, spec={"image": image})
    response = post_json(client, ENVIRONMENTS, document)
    assert response.status_code == 202, response.content
    return response.json()


def images() -> dict[str, str]:
    return dict(Environment.objects.values_list("name", "image"))


def by_id(response) -> dict[str, dict]:
    assert response.status_code == 200, response.content
    return {result["id"]: result for result in response.json()["results"]}


@pytest.fixture
def researcher(client_for):
    """Writes in project 7 only; sees its ancestors' environments (cannot change them)."""
    return client_for("L1 researcher", "project:7")


@pytest.fixture
def mixed(org, admin, researcher):
    """Three of the researcher's own environments, one edited since (its ifMatch is stale), one
    in another project (invisible to the researcher) and one at the tenant (visible, locked)."""
    fine = [create(admin, f"fine-{n}") for n in range(3)]
    stale = create(admin, "stale")
    post_json(admin, BULK, {"action": "set-image", "items": [{"id": stale["meta"]["id"]}],
                            "image": ":edited"})  # fmt: skip
    hidden = create(admin, "other-project", project=8)
    tenant = Environment.objects.get(name="d1-env")
    return fine, stale, hidden, str(tenant.pk)


def test_each_item_is_answered_and_applied_on_its_own(mixed, researcher):
    fine, stale, hidden, locked = mixed
    before = images()
    items = [{"id": f["meta"]["id"], "ifMatch": 0} for f in fine]
    items += [{"id": stale["meta"]["id"], "ifMatch": 0}, {"id": hidden["meta"]["id"]},
              {"id": locked}]  # fmt: skip
    results = by_id(post_json(researcher, BULK, {"action": "set-image", "image": ":24.06-py3",
                                                 "items": items}))  # fmt: skip
    assert [r["id"] for r in results.values()] == [i["id"] for i in items]  # in order
    for asset in fine:
        result = results[asset["meta"]["id"]]
        assert result["status"] == 202
        assert result["changes"] == [{"field": "spec.image",
                                      "before": "nvcr.io/nvidia/pytorch:24.01-py3",
                                      "after": "nvcr.io/nvidia/pytorch:24.06-py3"}]  # fmt: skip
        # Its own revision, to undo it by.
        assert (
            Revision.objects.filter(asset_id=asset["meta"]["id"]).first().revision
            == (result["revision"])
        )
    assert results[stale["meta"]["id"]]["status"] == 412
    assert results[hidden["meta"]["id"]]["status"] == 404
    assert results[locked]["status"] == 403
    after = images()
    changed = {name for name in after if after[name] != before[name]}
    assert changed == {"fine-0", "fine-1", "fine-2"}
    assert after["fine-0"] == "nvcr.io/nvidia/pytorch:24.06-py3"


def test_a_dry_run_answers_the_same_and_writes_nothing(mixed, researcher):
    fine, stale, hidden, locked = mixed
    items = [{"id": f["meta"]["id"]} for f in fine]
    items += [{"id": stale["meta"]["id"], "ifMatch": 0}, {"id": hidden["meta"]["id"]},
              {"id": locked}]  # fmt: skip
    before, revisions = images(), Revision.objects.count()
    body = {"action": "set-image", "image": "python:3.12", "items": items, "dryRun": True}
    dry = by_id(post_json(researcher, BULK, body))
    assert images() == before and Revision.objects.count() == revisions
    assert {i: r["status"] for i, r in dry.items()} == {
        **{f["meta"]["id"]: 202 for f in fine},
        stale["meta"]["id"]: 412, hidden["meta"]["id"]: 404, locked: 403,
    }  # fmt: skip
    assert dry[fine[0]["meta"]["id"]]["changes"][0]["after"] == "python:3.12"
    real = by_id(post_json(researcher, BULK, {**body, "dryRun": False}))
    assert {i: r["status"] for i, r in real.items()} == {i: r["status"] for i, r in dry.items()}
    assert images()["fine-1"] == "python:3.12"


def test_delete_each_deletable_one(mixed, researcher):
    fine, stale, hidden, locked = mixed
    items = [{"id": fine[0]["meta"]["id"]}, {"id": stale["meta"]["id"], "ifMatch": 0},
             {"id": hidden["meta"]["id"]}, {"id": locked}]  # fmt: skip
    dry = by_id(post_json(researcher, BULK, {"action": "delete", "items": items, "dryRun": True}))
    assert Environment.objects.filter(name="fine-0").exists()
    results = by_id(post_json(researcher, BULK, {"action": "delete", "items": items}))
    assert [r["status"] for r in results.values()] == [202, 412, 404, 403]
    assert [r["status"] for r in dry.values()] == [202, 412, 404, 403]
    remaining = set(Environment.objects.values_list("name", flat=True))
    assert "fine-0" not in remaining and {"stale", "other-project", "d1-env"} <= remaining
    # The delete is a revision: the environment can be brought back.
    deleted = Revision.objects.get(asset_id=fine[0]["meta"]["id"], action="delete")
    assert results[fine[0]["meta"]["id"]]["revision"] == deleted.revision


def test_a_viewer_is_refused_item_by_item(org, admin, client_for):
    asset = create(admin, "mine")
    viewer = client_for("Viewer", "project:7")
    for dry_run in (True, False):
        body = {"action": "delete", "dryRun": dry_run, "items": [{"id": asset["meta"]["id"]}]}
        results = by_id(post_json(viewer, BULK, body))
        assert results[asset["meta"]["id"]]["status"] == 403
    assert Environment.objects.filter(name="mine").exists()


def test_tag_only_keeps_each_repository(org, admin):
    one = create(admin, "one", image="nvcr.io/nvidia/pytorch:24.01-py3")
    two = create(admin, "two", image="registry.local:5000/team/cuda@sha256:" + "a" * 64)
    three = create(admin, "three", image="python")
    items = [{"id": a["meta"]["id"]} for a in (one, two, three)]
    by_id(post_json(admin, BULK, {"action": "set-image", "image": ":24.06", "items": items}))
    assert {k: v for k, v in images().items() if k in ("one", "two", "three")} == {
        "one": "nvcr.io/nvidia/pytorch:24.06",
        "two": "registry.local:5000/team/cuda:24.06",
        "three": "python:24.06",
    }


def test_an_unchanged_image_is_not_a_new_revision(org, admin):
    asset = create(admin, "same", image="python:3.11")
    revisions = Revision.objects.count()
    results = by_id(post_json(admin, BULK, {"action": "set-image", "image": "python:3.11",
                                            "items": [{"id": asset["meta"]["id"]}]}))  # fmt: skip
    assert results[asset["meta"]["id"]]["status"] == 202
    assert "Unchanged" in results[asset["meta"]["id"]]["message"]
    assert Revision.objects.count() == revisions


ONE = [{"id": "a"}]


@pytest.mark.parametrize(
    "body, field",
    [
        ([], "body"),
        ({"action": "explode", "items": ONE}, "action"),
        # Found by schemathesis: an object is not hashable, and was a 500.
        ({"action": {}, "items": ONE, "message": ""}, "action"),
        ({"action": ["delete"], "items": ONE}, "action"),
        ({"action": "delete"}, "items"),
        ({"action": "delete", "items": []}, "items"),
        ({"action": "delete", "items": [{"id": str(n)} for n in range(1001)]}, "items"),
        ({"action": "delete", "items": [{"id": "a"}, {"id": "a"}]}, "items[1].id"),
        ({"action": "delete", "items": [{"id": "x" * 65}]}, "items[0].id"),
        ({"action": "delete", "items": [{"id": "a", "ifMatch": "3"}]}, "items[0].ifMatch"),
        ({"action": "delete", "items": [{"id": "a", "ifMatch": -1}]}, "items[0].ifMatch"),
        ({"action": "delete", "items": [{"id": "a", "other": 1}]}, "items[0].other"),
        ({"action": "delete", "items": ["a"]}, "items[0]"),
        ({"action": "delete", "items": ONE, "dryRun": "yes"}, "dryRun"),
        ({"action": "delete", "items": ONE, "image": "python"}, "image"),
        ({"action": "delete", "items": ONE, "message": "old"}, "message"),
        ({"action": "delete", "items": ONE, "extra": 1}, "extra"),
        ({"action": "set-image", "items": ONE}, "image"),
        ({"action": "set-image", "items": ONE, "image": "Not An Image"}, "image"),
        ({"action": "set-image", "items": ONE, "image": ":bad tag"}, "image"),
        ({"action": "set-image", "items": ONE, "image": "a" * 401}, "image"),
        ({"action": "set-image", "items": ONE, "image": ":" + "t" * 129}, "image"),
    ],
)
def test_a_malformed_request_is_refused_whole(org, admin, body, field):
    before = images()
    message = error_message(post_json(admin, BULK, body))
    assert message.startswith(f"{field}:") or (field == "body" and "JSON object" in message)
    assert images() == before


def test_anonymous_is_refused(org, client):
    response = post_json(client, BULK, {"action": "delete", "items": ONE})
    assert response.status_code == 401


def states() -> dict[str, str]:
    from envadmin.lifecycle.service import lifecycle_of

    ids = {str(pk): name for pk, name in Environment.objects.values_list("pk", "name")}
    return {ids[i]: lifecycle["state"] for i, lifecycle in lifecycle_of(list(ids)).items()}


def test_lifecycle_actions_item_by_item(mixed, researcher):
    fine, stale, hidden, locked = mixed
    used = str(Environment.objects.get(name="p7-env").pk)  # template t-p7 uses it
    items = [{"id": fine[0]["meta"]["id"]}, {"id": used}, {"id": stale["meta"]["id"], "ifMatch": 0},
             {"id": hidden["meta"]["id"]}, {"id": locked}]  # fmt: skip
    body = {"action": "archive", "items": items, "message": "Use fine-1."}
    dry = by_id(post_json(researcher, BULK, {**body, "dryRun": True}))
    assert set(states().values()) == {"active"}
    assert [r["status"] for r in dry.values()] == [202, 409, 412, 404, 403]
    assert "t-p7" in dry[used]["message"]
    results = by_id(post_json(researcher, BULK, body))
    assert [r["status"] for r in results.values()] == [202, 409, 412, 404, 403]
    assert results[fine[0]["meta"]["id"]]["changes"] == [
        {"field": "lifecycle.state", "before": "active", "after": "archived"},
        {"field": "lifecycle.message", "before": "", "after": "Use fine-1."},
    ]
    archived = {name for name, state in states().items() if state != "active"}
    assert archived == {"fine-0"}
    again = by_id(post_json(researcher, BULK, {"action": "activate", "items": items[:1]}))
    assert again[fine[0]["meta"]["id"]]["status"] == 202
    assert states()["fine-0"] == "active"


def test_deprecate_names_its_replacement(org, admin):
    old, new = create(admin, "old"), create(admin, "new")
    body = {"action": "deprecate", "items": [{"id": old["meta"]["id"]}], "message": "CUDA 11",
            "replacement": new["meta"]["id"]}  # fmt: skip
    results = by_id(post_json(admin, BULK, body))
    assert results[old["meta"]["id"]]["status"] == 202
    assert states()["old"] == "deprecated"
    missing = by_id(post_json(admin, BULK, {**body, "replacement": "nope"}))
    assert missing[old["meta"]["id"]]["status"] == 400
