"""Environment names are unique per scope after NFC and case folding, the same on SQLite and
PostgreSQL, enforced by the database; the name itself is kept as typed."""

import html
import logging
import re
import uuid
from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.models.functions import Upper

from envadmin.inventory.models import Environment, fold_name

from .conftest import environment_document, post_json, put_json
from .contract import assert_matches_contract
from .factories import add_environments
from .test_ui_views import user_with

URL = "/api/v1/asset/environment"
FORM = "/environments/new"

# Each pair is one name: the second must be refused where the first exists.
SAME_NAME = [
    pytest.param("Abc", "abc", id="ASCII case"),
    pytest.param("Ärger", "ärger", id="non-ASCII case"),
    pytest.param("Straße-Ä", "straße-ä", id="sharp s and umlaut"),
    pytest.param("Straße", "STRASSE", id="case folding, not lower-casing"),
    pytest.param("caf\u00e9", "cafe\u0301", id="NFC and NFD"),
    pytest.param("ǅ", "ǆ", id="title-case digraph"),
]
# Each pair is two names: both may live in one scope.
DIFFERENT_NAMES = [
    pytest.param("a-b", "a_b", id="hyphen and underscore"),
    pytest.param("café", "cafe", id="an accent"),
    pytest.param("ı", "i", id="dotless i"),
]


def created(client, document) -> dict:
    response = post_json(client, URL, document)
    assert response.status_code == 202, response.content
    return response.json()


def clash_body(name: str, where: str) -> dict:
    return {
        "code": 409,
        "message": "Resource with this name already exists",
        "details": f"An environment named '{name}' exists {where}.",
    }


def form_data(name: str) -> dict:
    return {
        "placement": "project:7", "name": name, "image": "python:3.12",
        "env-TOTAL_FORMS": "0", "env-INITIAL_FORMS": "0",
        "conn-TOTAL_FORMS": "0", "conn-INITIAL_FORMS": "0",
    }  # fmt: skip


@pytest.mark.parametrize("first, second", SAME_NAME)
def test_a_create_of_the_same_name_is_409(org, admin, first, second):
    created(admin, environment_document(first))
    response = post_json(admin, URL, environment_document(second))
    assert response.status_code == 409
    assert_matches_contract("environment", response)
    assert response.json() == clash_body(second, "in this scope")
    assert list(Environment.objects.filter(project_id=7, name__in=[first, second])
                .values_list("name", flat=True)) == [first]  # fmt: skip


@pytest.mark.parametrize("first, second", SAME_NAME)
def test_the_same_name_in_other_scopes_is_fine(org, admin, first, second):
    created(admin, environment_document(first))
    created(admin, environment_document(second, projectId=8))
    created(admin, environment_document(second, scope="department", departmentId="d1"))
    assert Environment.objects.filter(name_key=fold_name(first)).count() == 3


@pytest.mark.parametrize("first, second", DIFFERENT_NAMES)
def test_different_names_live_in_one_scope(org, admin, first, second):
    created(admin, environment_document(first))
    created(admin, environment_document(second))
    assert Environment.objects.filter(project_id=7, name__in=[first, second]).count() == 2


@pytest.mark.parametrize("first, second", SAME_NAME)
def test_a_rename_onto_the_same_name_is_409(org, admin, first, second):
    created(admin, environment_document(first))
    other = created(admin, environment_document("other"))["meta"]["id"]
    response = put_json(admin, f"{URL}/{other}", {"meta": {"name": second}, "spec": {}})
    assert response.status_code == 409
    assert_matches_contract("environment", response)
    assert response.json() == clash_body(second, "here")
    renamed = Environment.objects.get(pk=other)
    assert (renamed.name, renamed.name_key) == ("other", "other")


@pytest.mark.parametrize("first, second", SAME_NAME)
def test_an_environment_may_take_another_spelling_of_its_own_name(org, admin, first, second):
    asset_id = created(admin, environment_document(first))["meta"]["id"]
    response = put_json(admin, f"{URL}/{asset_id}", {"meta": {"name": second}, "spec": {}})
    assert response.status_code == 202
    # Stored and answered as typed, not in its folded form.
    assert admin.get(f"{URL}/{asset_id}").json()["meta"]["name"] == second


@pytest.mark.parametrize("first, second", SAME_NAME)
def test_the_form_shows_the_clash_next_to_the_name(org, client, first, second):
    client.force_login(user_with("System administrator", "tenant"))
    assert client.post(FORM, form_data(first)).status_code == 302
    response = client.post(FORM, form_data(second))
    assert response.status_code == 200
    error = re.search(r'id="id_name_error"[^>]*>(.*?)</', response.content.decode(), re.S)
    assert error and f"An environment named '{second}' already exists here" in html.unescape(
        error.group(1)
    )
    assert not Environment.objects.filter(name=second, project_id=7).exists()


def test_the_name_filter_stays_exact(org, admin):
    created(admin, environment_document("cafe\u0301"))

    def listed(name):
        response = admin.get(URL, {"name": name, "projectId": 7})
        return [entry["meta"]["name"] for entry in response.json()["entries"]]

    assert listed("cafe\u0301") == ["cafe\u0301"]
    assert listed("caf\u00e9") == listed("CAFE\u0301") == []


def test_a_name_whose_key_is_three_times_as_long_is_stored(org, admin):
    # U+1D160 composes to nothing and decomposes into three characters of four bytes each.
    name = "\U0001d160" * 255
    assert len(fold_name(name)) == 3 * 255
    asset_id = created(admin, environment_document(name))["meta"]["id"]
    assert Environment.objects.get(pk=asset_id).name == name
    assert post_json(admin, URL, environment_document(name)).status_code == 409


def test_a_snapshot_finds_an_environment_by_any_spelling_of_its_name(org):
    from envadmin.snapshot import loader as snapshot

    snapshot.load({
        "environments": [{"meta": {"name": "Ärger", "scope": "project", "projectId": 7},
                          "spec": {"image": "python:3.12"}}],
        "workloads": [{"name": "w-ärger", "type": "workspace", "status": "Running",
                       "projectId": 7, "environment": "ärger"}],
    })  # fmt: skip
    assert Environment.objects.get(name="Ärger").workloads.get().name == "w-ärger"


def test_a_snapshot_with_two_spellings_of_one_name_is_refused(org):
    from envadmin.snapshot import loader as snapshot

    entries = [
        {"meta": {"name": name, "scope": "project", "projectId": 7}, "spec": {"image": "x:1"}}
        for name in ("Straße-Ä", "straße-ä")
    ]
    with pytest.raises(snapshot.SnapshotError) as refused:
        snapshot.load({"environments": entries})
    assert "straße-ä" in str(refused.value) and "exists in this scope" in str(refused.value)
    assert not Environment.objects.filter(name_key=fold_name("Straße-Ä")).exists()


def test_every_write_path_keeps_the_key(org):
    add_environments(2)  # bulk_create
    first, second = Environment.objects.filter(name__startswith="bulk-").order_by("name")
    assert (first.name_key, second.name_key) == ("bulk-0", "bulk-1")
    Environment.objects.filter(pk=first.pk).update(name="Bulk-Ä")
    assert Environment.objects.get(pk=first.pk).name_key == "bulk-ä"
    second.name = "BULK-Ö"
    Environment.objects.bulk_update([second], ["name"])
    assert Environment.objects.get(pk=second.pk).name_key == "bulk-ö"
    first.name = "ǅ"
    first.save(update_fields=["name"])
    assert Environment.objects.get(pk=first.pk).name_key == "ǆ"
    with pytest.raises(TypeError):
        Environment.objects.filter(pk=first.pk).update(name=Upper("name"))


def an_environment(name: str, **placement) -> Environment:
    now = datetime.now(UTC)
    placement = placement or {"scope": "project", "scope_key": "project:7", "project_id": 7}
    return Environment(
        name=name, spec={"image": "x:1"}, **placement,
        created_by="t", created_at=now, updated_by="t", updated_at=now,
    )  # fmt: skip


@pytest.mark.parametrize("first, second", SAME_NAME)
def test_the_database_refuses_the_same_name_twice(org, first, second):
    an_environment(first).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        an_environment(second).save()  # past the backend's own check


def test_the_database_refuses_a_row_without_its_key(org):
    row = Environment.objects.get(name="p7-env")
    with pytest.raises(IntegrityError), transaction.atomic():
        Environment.objects.filter(pk=row.pk).update(name_key="")


# --- the migration that introduced the key ---------------------------------------------------

BEFORE_KEYS = [("inventory", "0003_list_indexes")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_keys_the_oldest_of_two_spellings_and_sets_the_later_apart(caplog):
    old_apps = migrate(BEFORE_KEYS)
    old_model = old_apps.get_model("inventory", "Environment")

    def row(name, day, scope_key="tenant"):
        when = datetime(2026, 1, day, tzinfo=UTC)
        return old_model.objects.create(
            id=uuid.uuid4(), name=name, scope="tenant", scope_key=scope_key, spec={},
            created_by="t", created_at=when, updated_by="t", updated_at=when,
        ).id  # fmt: skip

    # Names the old rule (LOWER per scope) let live side by side on either database.
    later = row("STRASSE", 2)
    older = row("Straße", 1)
    nfd = row("cafe\u0301", 3)
    nfc = row("caf\u00e9", 4)
    elsewhere = row("strasse", 5, scope_key="cluster:c")
    with caplog.at_level(logging.WARNING):
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    keys = dict(Environment.objects.values_list("id", "name_key"))
    assert keys == {
        older: "strasse", later: f"strasse DUPLICATE {later}",
        nfd: "café", nfc: f"café DUPLICATE {nfc}", elsewhere: "strasse",
    }  # fmt: skip
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 2
    assert str(later) in warned[0] and str(older) in warned[0] and "'STRASSE'" in warned[0]
    assert str(nfc) in warned[1] and str(nfd) in warned[1]
    # The older row holds the name: a new spelling of it, or a save of the later row, clashes.
    with pytest.raises(IntegrityError), transaction.atomic():
        Environment.objects.get(pk=later).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        an_environment("strasse", scope="tenant", scope_key="tenant").save()
