"""Every version of an environment through the API (local mode): revisions, compare, restore,
deleted environments and undelete, and who may do which."""

import pytest
from django.core.management import call_command

from envadmin.audit.models import AuditEvent, Revision
from envadmin.inventory.models import Environment

from .conftest import environment_document, error_message, post_json, put_json

ENVIRONMENTS = "/api/v1/asset/environment"
OURS = "/api/envadmin/v1/environments"


def create(client, **kwargs) -> dict:
    response = post_json(client, ENVIRONMENTS, environment_document(**kwargs))
    assert response.status_code == 202, response.content
    return response.json()


def edit(client, asset: dict, **changes) -> dict:
    """PUT the asset with `changes` applied to its meta (name, description) and spec."""
    meta = {"name": changes.pop("name", asset["meta"]["name"])}
    description = changes.pop("description", asset["meta"].get("description"))
    if description is not None:
        meta["description"] = description
    spec = {**asset["spec"], **changes}
    response = put_json(
        client, f"{ENVIRONMENTS}/{asset['meta']['id']}", {"meta": meta, "spec": spec}
    )
    assert response.status_code == 202, response.content
    return response.json()


@pytest.fixture
def edited(org, admin):
    """An environment created and edited twice: revisions 1 (create), 2 and 3 (updates)."""
    asset = create(admin, name="versioned", spec={"image": "python:3.10"})
    asset = edit(admin, asset, image="python:3.11", description="second")
    asset = edit(admin, asset, image="python:3.12", workingDir="/work")
    return asset


def test_each_change_is_a_revision_with_its_whole_document(edited, admin):
    asset_id = edited["meta"]["id"]
    answer = admin.get(f"{OURS}/{asset_id}/revisions")
    assert answer.status_code == 200
    revisions = answer.json()["revisions"]
    assert [r["revision"] for r in revisions] == [3, 2, 1]
    assert [r["action"] for r in revisions] == ["update", "update", "create"]
    assert [r["updateCount"] for r in revisions] == [2, 1, 0]
    assert {r["origin"] for r in revisions} == {"api"}
    assert {"field": "spec.image", "before": "python:3.11", "after": "python:3.12"} in revisions[0][
        "changes"
    ]
    one = admin.get(f"{OURS}/{asset_id}/revisions/2").json()
    assert one["document"]["spec"]["image"] == "python:3.11"
    assert one["document"]["meta"]["description"] == "second"
    # The document is what a GET answered right after the change.
    latest = admin.get(f"{OURS}/{asset_id}/revisions/3").json()["document"]
    assert latest == admin.get(f"{ENVIRONMENTS}/{asset_id}").json()


def test_compare_names_every_changed_field(edited, admin):
    asset_id = edited["meta"]["id"]
    answer = admin.get(f"{OURS}/{asset_id}/compare?from=1&to=3")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["from"], body["to"]) == (1, 3)
    assert {c["field"]: (c["before"], c["after"]) for c in body["changes"]} == {
        "spec.image": ("python:3.10", "python:3.12"),
        "spec.workingDir": (None, "/work"),
        "meta.description": (None, "second"),
    }


@pytest.mark.parametrize(
    "query", ["", "?from=1", "?from=x&to=2", "?from=0&to=2", "?from=1&to=2&extra=1"]
)
def test_compare_needs_two_revision_numbers(edited, admin, query):
    answer = admin.get(f"{OURS}/{edited['meta']['id']}/compare{query}")
    assert error_message(answer, 400)


def test_an_unknown_revision_is_404(edited, admin):
    asset_id = edited["meta"]["id"]
    assert error_message(admin.get(f"{OURS}/{asset_id}/revisions/9"), 404)
    assert error_message(admin.get(f"{OURS}/{asset_id}/compare?from=1&to=9"), 404)
    assert error_message(admin.post(f"{OURS}/{asset_id}/revisions/9/restore"), 404)
    assert error_message(admin.get(f"{OURS}/{asset_id}/revisions/abc"), 400)


def test_restore_brings_back_revision_one_and_records_a_restore(edited, admin):
    asset_id = edited["meta"]["id"]
    answer = admin.post(f"{OURS}/{asset_id}/revisions/1/restore", HTTP_IF_MATCH='"2"')
    assert answer.status_code == 202, answer.content
    restored = answer.json()
    first = admin.get(f"{OURS}/{asset_id}/revisions/1").json()["document"]
    assert restored["spec"] == first["spec"]
    assert "description" not in restored["meta"]
    assert restored["meta"]["updateCount"] == 3
    assert answer["ETag"] == '"3"'
    newest = admin.get(f"{OURS}/{asset_id}/revisions").json()["revisions"][0]
    assert newest["revision"] == 4
    assert newest["action"] == "restore"
    assert newest["restoredFrom"] == 1
    assert AuditEvent.objects.filter(asset_id=asset_id, action="restore").count() == 1


def test_a_stale_if_match_on_restore_is_412_and_changes_nothing(edited, admin):
    asset_id = edited["meta"]["id"]
    answer = admin.post(f"{OURS}/{asset_id}/revisions/1/restore", HTTP_IF_MATCH='"1"')
    assert error_message(answer, 412)
    assert answer["ETag"] == '"2"'
    env = Environment.objects.get(pk=asset_id)
    assert (env.update_count, env.spec["image"]) == (2, "python:3.12")
    assert Revision.objects.filter(asset_id=asset_id).count() == 3


def test_a_restore_onto_a_name_now_taken_is_409(org, admin):
    asset = create(admin, name="first-name")
    edit(admin, asset, name="second-name")
    create(admin, name="first-name")
    answer = admin.post(f"{OURS}/{asset['meta']['id']}/revisions/1/restore")
    assert error_message(answer, 409)
    assert Environment.objects.get(pk=asset["meta"]["id"]).name == "second-name"


def test_delete_then_undelete_brings_it_back_under_a_new_id(edited, admin):
    asset_id = edited["meta"]["id"]
    assert admin.delete(f"{ENVIRONMENTS}/{asset_id}").status_code == 202
    revisions = admin.get(f"{OURS}/{asset_id}/revisions").json()["revisions"]
    assert (revisions[0]["revision"], revisions[0]["action"]) == (4, "delete")
    entries = admin.get(f"{OURS}/deleted").json()["entries"]
    entry = next(e for e in entries if e["id"] == asset_id)
    assert entry["name"] == "versioned"
    assert entry["lastRevision"] == 4
    assert entry["deletedBy"]
    assert entry["scopePath"]

    answer = admin.post(f"{OURS}/{asset_id}/undelete")
    assert answer.status_code == 202, answer.content
    back = answer.json()
    assert back["meta"]["id"] != asset_id
    assert back["meta"]["name"] == "versioned"
    assert (back["meta"]["scope"], back["meta"]["projectId"]) == ("project", 7)
    assert back["spec"] == edited["spec"]
    first = admin.get(f"{OURS}/{back['meta']['id']}/revisions").json()["revisions"]
    assert len(first) == 1
    assert first[0]["action"] == "create"
    assert first[0]["restoredFrom"] == {"assetId": asset_id, "revision": 4}
    # Brought back: no longer listed, and not brought back twice.
    assert asset_id not in {e["id"] for e in admin.get(f"{OURS}/deleted").json()["entries"]}
    assert error_message(admin.post(f"{OURS}/{asset_id}/undelete"), 409)


def test_undelete_with_the_name_taken_is_409_and_creates_nothing(edited, admin):
    asset_id = edited["meta"]["id"]
    admin.delete(f"{ENVIRONMENTS}/{asset_id}")
    create(admin, name="versioned")
    count = Environment.objects.count()
    assert error_message(admin.post(f"{OURS}/{asset_id}/undelete"), 409)
    assert Environment.objects.count() == count
    assert asset_id in {e["id"] for e in admin.get(f"{OURS}/deleted").json()["entries"]}


def test_undelete_where_the_placement_is_gone_is_404(edited, admin):
    asset_id = edited["meta"]["id"]
    admin.delete(f"{ENVIRONMENTS}/{asset_id}")
    Revision.objects.filter(asset_id=asset_id).update(scope_key="project:999")
    count = Environment.objects.count()
    assert error_message(admin.post(f"{OURS}/{asset_id}/undelete"), 404)
    assert Environment.objects.count() == count


def test_undelete_of_an_environment_that_exists_is_404(edited, admin):
    assert error_message(admin.post(f"{OURS}/{edited['meta']['id']}/undelete"), 404)


def test_the_deleted_list_filters(edited, admin):
    asset_id = edited["meta"]["id"]
    admin.delete(f"{ENVIRONMENTS}/{asset_id}")
    ids = lambda query: {e["id"] for e in admin.get(f"{OURS}/deleted{query}").json()["entries"]}  # noqa: E731
    assert asset_id in ids("?name=VERSIONED")
    assert asset_id not in ids("?name=other")
    assert asset_id in ids("?projectId=7")
    assert asset_id not in ids("?projectId=8")
    assert asset_id in ids("?scope=project")
    assert asset_id not in ids("?scope=tenant")
    assert error_message(admin.get(f"{OURS}/deleted?bogus=1"), 400)


# --- who may do what --------------------------------------------------------------------------


@pytest.fixture
def viewer(client_for):
    return client_for("Viewer", "project:7")


@pytest.fixture
def outsider(client_for):
    return client_for("System administrator", "project:9")


def test_viewers_read_revisions_and_get_403_on_restore(edited, viewer):
    asset_id = edited["meta"]["id"]
    assert viewer.get(f"{OURS}/{asset_id}/revisions").status_code == 200
    assert viewer.get(f"{OURS}/{asset_id}/revisions/1").status_code == 200
    assert viewer.get(f"{OURS}/{asset_id}/compare?from=1&to=2").status_code == 200
    assert error_message(viewer.post(f"{OURS}/{asset_id}/revisions/1/restore"), 403)
    assert Environment.objects.get(pk=asset_id).update_count == 2


def test_outsiders_get_404_on_every_endpoint(edited, outsider):
    asset_id = edited["meta"]["id"]
    for path in ("revisions", "revisions/1", "compare?from=1&to=2"):
        assert error_message(outsider.get(f"{OURS}/{asset_id}/{path}"), 404)
    assert error_message(outsider.post(f"{OURS}/{asset_id}/revisions/1/restore"), 404)


def test_a_deleted_environment_is_readable_by_its_placement(edited, admin, viewer, outsider):
    asset_id = edited["meta"]["id"]
    admin.delete(f"{ENVIRONMENTS}/{asset_id}")
    assert viewer.get(f"{OURS}/{asset_id}/revisions").status_code == 200
    assert asset_id in {e["id"] for e in viewer.get(f"{OURS}/deleted").json()["entries"]}
    assert error_message(viewer.post(f"{OURS}/{asset_id}/undelete"), 403)
    assert error_message(outsider.get(f"{OURS}/{asset_id}/revisions"), 404)
    assert asset_id not in {e["id"] for e in outsider.get(f"{OURS}/deleted").json()["entries"]}
    assert error_message(outsider.post(f"{OURS}/{asset_id}/undelete"), 404)
    assert not Environment.objects.filter(name="versioned").exists()


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/x/revisions"),
        ("get", "/x/revisions/1"),
        ("get", "/x/compare?from=1&to=2"),
        ("post", "/x/revisions/1/restore"),
        ("get", "/deleted"),
        ("post", "/x/undelete"),
    ],
)
def test_every_endpoint_requires_a_token(db, client, method, path):
    assert error_message(getattr(client, method)(f"{OURS}{path}"), 401)


# --- retention and the first revision of what existed before -------------------------------


def test_retention_keeps_the_newest_revisions(org, admin, settings):
    settings.ENVADMIN_REVISIONS_KEEP = 2
    asset = create(admin, name="kept")
    for image in ("a:1", "a:2", "a:3"):
        asset = edit(admin, asset, image=image)
    numbers = list(
        Revision.objects.filter(asset_id=asset["meta"]["id"]).values_list("revision", flat=True)
    )
    assert sorted(numbers) == [3, 4]
    admin.delete(f"{ENVIRONMENTS}/{asset['meta']['id']}")
    numbers = Revision.objects.filter(asset_id=asset["meta"]["id"]).values_list(
        "revision", "action"
    )
    assert sorted(numbers) == [(4, "update"), (5, "delete")]


def test_retention_keeps_the_link_of_an_environment_brought_back(edited, admin, settings):
    asset_id = edited["meta"]["id"]
    admin.delete(f"{ENVIRONMENTS}/{asset_id}")
    back = admin.post(f"{OURS}/{asset_id}/undelete").json()
    settings.ENVADMIN_REVISIONS_KEEP = 1
    for image in ("b:1", "b:2"):
        back = edit(admin, back, image=image)
    kept = Revision.objects.filter(asset_id=back["meta"]["id"]).values_list("revision", flat=True)
    assert sorted(kept) == [1, 3]
    assert asset_id not in {e["id"] for e in admin.get(f"{OURS}/deleted").json()["entries"]}


def test_an_environment_from_before_revisions_gets_a_first_one(org, admin):
    # An environment with no revision (as before they were kept): its first change keeps the
    # version before it as revision 1.
    env = Environment.objects.get(name="p7-env")
    Revision.objects.filter(asset_id=str(env.pk)).delete()
    asset = admin.get(f"{ENVIRONMENTS}/{env.pk}").json()
    edit(admin, asset, image="changed:1")
    revisions = admin.get(f"{OURS}/{env.pk}/revisions").json()["revisions"]
    assert [(r["revision"], r["action"]) for r in revisions] == [(2, "update"), (1, "observed")]
    assert revisions[1]["actor"] is None
    first = admin.get(f"{OURS}/{env.pk}/revisions/1").json()["document"]
    assert first["spec"] == asset["spec"]


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_existing_environments_a_first_revision(org):
    call_command("migrate", "audit", "0002", verbosity=0)
    Revision.objects.all().delete()
    call_command("migrate", "audit", verbosity=0)
    assert Revision.objects.count() == Environment.objects.count()
    env = Environment.objects.get(name="p7-env")
    revision = Revision.objects.get(asset_id=str(env.pk))
    assert (revision.revision, revision.action, revision.update_count) == (1, "observed", 0)
    assert revision.document["spec"] == env.spec
