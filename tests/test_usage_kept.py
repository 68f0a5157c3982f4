"""usedBy kept by the database (inventory_environment_usage, migration 0010's triggers): after
writes through every path the kept fragment of every environment equals the one rebuilt from
the rows with full visibility, byte for byte; lists read it only for who sees everything; the
migration backfills it and its reverse drops the triggers."""

import random
import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from envadmin.inventory import documents, listing, usage_triggers
from envadmin.inventory.models import (
    Environment,
    EnvironmentUsage,
    Project,
    Template,
    Workload,
)
from envadmin.inventory.usage import UsedBy

from .conftest import C1, C2
from .factories import add_environments
from .test_usage_reader import NAMES, VIEWERS, expected_usage, visible_keys

URL = "/api/v1/asset/environment"
KINDS = list(documents.WORKLOAD_USAGE_KEYS)
SCOPES = ["tenant", f"cluster:{C1}", f"cluster:{C2}", "department:d1", "project:8", "project:7"]


def everything() -> set[str]:
    projects = {f"project:{p}" for p in Project.objects.values_list("id", flat=True)}
    return projects | set(Template.objects.values_list("scope_key", flat=True)) | {"tenant"}


def rebuilt() -> dict:
    """Every environment's usedBy rebuilt from its rows (the reader before any was kept)."""
    rows = Environment.objects.annotate(u=UsedBy(everything(), stored=False))
    return dict(rows.values_list("id", "u"))


def kept() -> dict:
    return dict(EnvironmentUsage.objects.values_list("environment_id", "used_by"))


def assert_kept_exact(label: str):
    now_kept, now_rebuilt = kept(), rebuilt()
    assert now_kept.keys() == now_rebuilt.keys(), label
    for env_id, text in now_rebuilt.items():
        assert now_kept[env_id] == text, (label, env_id)


def workload(rng, envs, projects, **fields):
    values = {
        "name": f"{rng.choice(NAMES)} {rng.randrange(1000):03d}",
        "type": rng.choice(KINDS),
        "status": rng.choice(["Running", "Stopped", 'odd "status"']),
        "project": rng.choice(projects),
        "environment": rng.choice(envs),
        "created_at": datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(40)),
    }
    return Workload(**{**values, **fields})


def template(rng, envs, **fields):
    key = rng.choice(SCOPES)
    values = {
        "name": f"{rng.choice(NAMES)} t{rng.randrange(100):02d}",
        "scope": key.split(":", 1)[0],
        "scope_key": key,
        "environment": rng.choice(envs),
    }
    return Template(**{**values, **fields})


@pytest.mark.django_db(transaction=True)
def test_every_write_path_keeps_the_fragment_exact(org):
    assert_kept_exact("the snapshot loader")
    assert any(
        orjson.loads(t)["workspaces"] or orjson.loads(t)["trainings"] for t in kept().values()
    )
    rng = random.Random(19)
    add_environments(30)
    envs = list(Environment.objects.all())
    projects = list(Project.objects.all())
    assert_kept_exact("environments created")
    for step in range(60):
        action = rng.randrange(12)
        if action == 0:
            workload(rng, envs, projects).save()
        elif action == 1:
            Workload.objects.bulk_create([workload(rng, envs, projects) for _ in range(8)])
        elif action == 2 and Workload.objects.exists():
            w = rng.choice(list(Workload.objects.all()))
            field = rng.choice(["name", "status", "type", "project", "environment", "created_at"])
            setattr(w, field, getattr(workload(rng, envs + [None], projects), field))
            w.save()
        elif action == 3:
            ids = list(Workload.objects.values_list("id", flat=True)[: rng.randrange(1, 6)])
            Workload.objects.filter(id__in=ids).update(
                status=rng.choice(["Done", "Failed"]), environment=rng.choice(envs)
            )
        elif action == 4 and Workload.objects.exists():
            rng.choice(list(Workload.objects.all())).delete()
        elif action == 5:
            Workload.objects.filter(name__startswith=rng.choice(NAMES)[:3]).delete()
        elif action == 6:
            template(rng, envs).save()
        elif action == 7:
            Template.objects.bulk_create([template(rng, envs) for _ in range(3)])
        elif action == 8 and Template.objects.exists():
            t = rng.choice(list(Template.objects.all()))
            t.name, t.environment = f"renamed {step}", rng.choice(envs + [None])
            t.save()
        elif action == 9:
            Template.objects.filter(scope_key=rng.choice(SCOPES)).update(name=f"moved {step}")
            Template.objects.filter(name__startswith="plain").delete()
        elif action == 10:
            # An environment's own save (listed fragments and all) never touches its usage.
            env = rng.choice(envs)
            env.description = f"step {step}"
            env.save()
            Environment.objects.filter(pk=rng.choice(envs).pk).update(name=f"renamed-{step}")
        else:
            # Deleted: its workloads and templates are set to NULL, its kept row goes.
            env = envs.pop(rng.randrange(len(envs)))
            env.delete()
        assert_kept_exact(f"step {step}, action {action}")
    project = Project.objects.filter(workloads__isnull=False).first()
    project_envs = {w.environment_id for w in project.workloads.all()}
    Environment.objects.filter(project=project).delete()
    project.delete()  # its workloads go with it (CASCADE)
    assert_kept_exact("a project deleted")
    assert project_envs and not Workload.objects.filter(project_id=project.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_workload_written_before_its_environment_in_one_transaction(org):
    """Foreign keys are checked at commit: the environment's insert finds its workload."""
    env_id, now = uuid.uuid4(), datetime(2026, 3, 1, tzinfo=UTC)
    with transaction.atomic():
        Workload.objects.create(
            name="early", type="training", status="Running", project_id=7,
            environment_id=env_id, created_at=now,
        )  # fmt: skip
        Environment.objects.create(
            id=env_id, name="late", scope="tenant", scope_key="tenant", spec={},
            created_by="t", created_at=now, updated_by="t", updated_at=now,
        )  # fmt: skip
    assert "early" in kept()[env_id]
    assert_kept_exact("a workload before its environment")


@pytest.mark.parametrize("role, key", VIEWERS)
def test_lists_read_the_same_as_before_for_every_viewer(org, client_for, role, key):
    Template.objects.create(
        name="t", scope="tenant", scope_key="tenant", environment=Environment.objects.first()
    )
    expected = expected_usage(visible_keys(role, key))
    response = client_for(role, key).get(URL, {"usageInfo": "true"})
    body = orjson.loads(b"".join(response.streaming_content))
    assert body["entries"]
    for entry in body["entries"]:
        assert entry["usedBy"] == expected[entry["meta"]["id"]], entry["meta"]["name"]
    read = documents.usage_by_environment(Environment.objects.values("id"), visible_keys(role, key))
    assert read == expected


def test_a_template_outside_the_tree_is_hidden_from_the_tenant_admin_as_before(org, client_for):
    """Its scope is no node of the tree: nobody's visible keys name it, so the kept fragment
    (which holds it) must not be read, whoever asks."""
    env = Environment.objects.first()
    stray = Template.objects.create(
        name="stray", scope="project", scope_key="project:999", environment=env
    )
    assert "stray" in EnvironmentUsage.objects.get(pk=env.pk).used_by
    response = client_for("System administrator", "tenant").get(URL, {"usageInfo": "true"})
    body = orjson.loads(b"".join(response.streaming_content))
    (entry,) = [e for e in body["entries"] if e["meta"]["id"] == str(env.pk)]
    assert str(stray.pk) not in orjson.dumps(entry["usedBy"]).decode()
    assert (
        entry["usedBy"]
        == expected_usage(visible_keys("System administrator", "tenant"))[str(env.pk)]
    )


def test_the_tenant_admin_reads_the_kept_fragment(org, client_for):
    """Proof that the kept row is what is read: a row changed behind the triggers' back."""
    admin = client_for("System administrator", "tenant")
    env = Environment.objects.filter(workloads__isnull=False).first()
    EnvironmentUsage.objects.filter(pk=env.pk).update(
        used_by='{"workspaces":[],"trainings":[],"distributed":[],"inferences":[],'
        '"templates":[{"id":"x","name":"marker"}]}'
    )
    response = admin.get(URL, {"usageInfo": "true"})
    body = orjson.loads(b"".join(response.streaming_content))
    (entry,) = [e for e in body["entries"] if e["meta"]["id"] == str(env.pk)]
    assert entry["usedBy"]["templates"] == [{"id": "x", "name": "marker"}]
    viewer = client_for("L1 researcher", "project:7").get(URL, {"usageInfo": "true"})
    body = orjson.loads(b"".join(viewer.streaming_content))
    assert all(e["usedBy"]["templates"] != [{"id": "x", "name": "marker"}] for e in body["entries"])
    # Without a kept row the fragment is rebuilt.
    EnvironmentUsage.objects.filter(pk=env.pk).delete()
    response = admin.get(URL, {"usageInfo": "true"})
    body = orjson.loads(b"".join(response.streaming_content))
    (entry,) = [e for e in body["entries"] if e["meta"]["id"] == str(env.pk)]
    assert (
        entry["usedBy"]
        == expected_usage(visible_keys("System administrator", "tenant"))[str(env.pk)]
    )


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def test_the_migrated_schema_has_every_trigger(db):
    """A later migration that rebuilds a watched table on SQLite would drop its triggers."""
    assert usage_triggers.missing(connection) == []


@pytest.mark.django_db(transaction=True)
def test_the_migration_backfills_and_its_reverse_drops_the_triggers(org):
    before = rebuilt()
    # Read with today's model, which names columns added after 0009.
    env = Environment.objects.first()
    migrate([("inventory", "0009_list_page_index")])
    with connection.cursor() as cursor:
        assert "inventory_environment_usage" not in connection.introspection.table_names(cursor)
    every = (
        usage_triggers.SQLITE_TRIGGERS
        if connection.vendor == "sqlite"
        else usage_triggers.POSTGRESQL_TRIGGERS
    )
    assert usage_triggers.missing(connection) == every  # the reverse dropped them all
    # Written while no trigger exists: the forward migration must still see it.
    Workload.objects.create(
        name="during", type="workspace", status="Running", project_id=7, environment=env,
        created_at=datetime(2026, 2, 1, tzinfo=UTC),
    )  # fmt: skip
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    assert usage_triggers.missing(connection) == []
    assert_kept_exact("after the forward migration")
    assert kept() != before and "during" in kept()[env.pk]


@pytest.mark.django_db(transaction=True)
def test_the_spec_digest_migration_keeps_the_triggers_both_ways(org):
    """0011 adds a NOT NULL column: SQLite rebuilds the table, which drops its triggers; the
    migration puts them back, forward and in reverse, and fills every row's digest."""
    env = Environment.objects.first()
    migrate([("inventory", "0010_environment_usage")])
    assert usage_triggers.missing(connection) == []
    Workload.objects.create(
        name="at-0010", type="workspace", status="Running", project_id=7, environment_id=env.pk,
        created_at=datetime(2026, 2, 1, tzinfo=UTC),
    )  # fmt: skip
    assert "at-0010" in kept()[env.pk]  # kept by a trigger of the table 0010 left
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    assert usage_triggers.missing(connection) == []
    Workload.objects.create(
        name="after-0011", type="workspace", status="Running", project_id=7, environment=env,
        created_at=datetime(2026, 2, 2, tzinfo=UTC),
    )  # fmt: skip
    assert "after-0011" in kept()[env.pk]
    assert_kept_exact("after 0011 forward")
    rows = Environment.objects.values_list("listed_spec", "spec_digest")
    assert rows and all(digest == listing.spec_digest(text) != "" for text, digest in rows)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_on_one_environment_both_show(org):
    """PostgreSQL: B's trigger waits for A's lock on the kept row, then rewrites it from a
    snapshot taken after A committed: B's fragment holds A's workload too. (SQLite has one
    writer at a time: B's transaction does not even begin before A's ends.)"""
    import threading
    import time

    if connection.vendor != "postgresql":
        pytest.skip("one writer at a time on SQLite")
    env = Environment.objects.first()
    started, errors = threading.Event(), []

    def write(name, hold: bool):
        try:
            with transaction.atomic():
                Workload.objects.create(
                    name=name, type="workspace", status="Running", project_id=7,
                    environment=env, created_at=datetime(2026, 4, 1, tzinfo=UTC),
                )  # fmt: skip
                if hold:
                    started.set()
                    time.sleep(0.8)  # B is waiting on the kept row's lock by now
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    a = threading.Thread(target=write, args=("first-writer", True))
    a.start()
    started.wait(10)
    b = threading.Thread(target=write, args=("second-writer", False))
    b.start()
    a.join(20)
    b.join(20)
    assert not errors
    text = kept()[env.pk]
    assert "first-writer" in text and "second-writer" in text
    assert_kept_exact("two concurrent writers")
