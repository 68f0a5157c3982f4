"""The triggers that keep inventory_environment_usage (models.EnvironmentUsage) exact: any
write to workloads, templates or environments, through the ORM, raw SQL or a bulk path,
rewrites the fragments it touches in its own transaction, with usage.usage_sql (the one
writer of usedBy's shape). A missing row is never wrong: readers rebuild it (usage.UsedBy).

SQLite: row triggers (one writer at a time, nothing to order). PostgreSQL: statement triggers
over transition tables, so a bulk write rewrites each environment once; each takes the kept
rows' locks first, in id order, and rewrites them in a statement of its own, whose snapshot
(READ COMMITTED: a new one per statement of a volatile function) sees whatever a concurrent
writer that held those locks committed: two transactions adding workloads to one environment
cannot each write a fragment without the other's.

Installed by migration 0010; a change of usedBy's shape needs a migration that calls
install() again (it replaces the triggers and rewrites every fragment)."""

from django.db import migrations

from .usage import KEPT_TABLE, usage_sql

# Columns whose change changes a fragment (the project and scope do not: it shows them all).
WATCHED = {
    "inventory_workload": ("id", "environment_id", "name", "status", "type", "created_at"),
    "inventory_template": ("id", "environment_id", "name"),
}
SQLITE_TRIGGERS = [
    "inventory_usage_environment_insert",
    "inventory_usage_environment_delete",
    *(f"{table}_usage_{op}" for table in WATCHED for op in ("insert", "update", "delete")),
]


POSTGRESQL_TRIGGERS = [
    *(f"inventory_usage_environment_{op}" for op in ("insert", "delete", "truncate")),
    *(
        f"{table}_usage_{op}"
        for table in WATCHED
        for op in ("insert", "update", "delete", "truncate")
    ),
]


def missing(connection) -> list[str]:
    """The triggers that should be installed and are not. On SQLite, a migration that rebuilds
    a watched table (most AlterFields do, and an AddField of a NOT NULL column: copy, drop,
    rename) drops its triggers with it, and the kept fragments would go stale: such a
    migration wraps its operations in rebuilding() (tests/test_usage_kept.py checks the
    migrated schema)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            expected = SQLITE_TRIGGERS
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
            expected = POSTGRESQL_TRIGGERS
        present = {name for (name,) in cursor.fetchall()}
    return [name for name in expected if name not in present]


def install(connection):
    statements = _sqlite() if connection.vendor == "sqlite" else _postgresql()
    with connection.cursor() as cursor:
        for statement in [*_drop(connection.vendor), *statements]:
            cursor.execute(statement)
        cursor.execute(f"DELETE FROM {KEPT_TABLE}")
        rebuilt = usage_sql(connection.vendor, "e.id")
        cursor.execute(
            f"INSERT INTO {KEPT_TABLE} (environment_id, used_by)"
            f" SELECT e.id, {rebuilt} FROM inventory_environment e"
        )


def installing(apps, schema_editor):
    """install(), as a migration's RunPython step."""
    install(schema_editor.connection)


def uninstalling(apps, schema_editor):
    """uninstall(), as a migration's RunPython step."""
    uninstall(schema_editor.connection)


def rebuilding(*operations) -> list:
    """A migration's `operations` that rebuild a watched table, between taking the triggers
    off and putting them back (rewriting every fragment), forward and in reverse."""
    return [
        migrations.RunPython(uninstalling, installing),
        *operations,
        migrations.RunPython(installing, uninstalling),
    ]


def uninstall(connection):
    with connection.cursor() as cursor:
        for statement in _drop(connection.vendor):
            cursor.execute(statement)


def _drop(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS]
    return [
        f"DROP FUNCTION IF EXISTS {name} CASCADE"  # CASCADE: its triggers too
        for name in (
            "inventory_usage_environment()",
            "inventory_usage_rows()",
            "inventory_usage_truncate()",
            "inventory_usage_refresh(uuid[])",
        )
    ]


def _sqlite() -> list[str]:
    kept = usage_sql("sqlite", f"{KEPT_TABLE}.environment_id")

    def refresh(environments: str) -> str:
        return f"UPDATE {KEPT_TABLE} SET used_by = {kept} WHERE environment_id IN ({environments});"

    statements = [
        "CREATE TRIGGER inventory_usage_environment_insert AFTER INSERT ON inventory_environment"
        f" BEGIN INSERT OR REPLACE INTO {KEPT_TABLE} (environment_id, used_by)"
        f" VALUES (NEW.id, {usage_sql('sqlite', 'NEW.id')}); END",
        "CREATE TRIGGER inventory_usage_environment_delete AFTER DELETE ON inventory_environment"
        f" BEGIN DELETE FROM {KEPT_TABLE} WHERE environment_id = OLD.id; END",
    ]
    for table, columns in WATCHED.items():
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
        statements += [
            f"CREATE TRIGGER {table}_usage_insert AFTER INSERT ON {table}"
            f" WHEN NEW.environment_id IS NOT NULL"
            f" BEGIN {refresh('NEW.environment_id')} END",
            f"CREATE TRIGGER {table}_usage_update AFTER UPDATE ON {table} WHEN {changed}"
            f" BEGIN {refresh('OLD.environment_id, NEW.environment_id')} END",
            f"CREATE TRIGGER {table}_usage_delete AFTER DELETE ON {table}"
            f" WHEN OLD.environment_id IS NOT NULL"
            f" BEGIN {refresh('OLD.environment_id')} END",
        ]
    return statements


def _postgresql() -> list[str]:
    kept = usage_sql("postgresql", "k.environment_id")
    new_kept = usage_sql("postgresql", "n.id")
    statements = [
        f"""CREATE FUNCTION inventory_usage_refresh(envs uuid[]) RETURNS void
        LANGUAGE plpgsql AS $$
        BEGIN
          IF cardinality(envs) IS NULL OR cardinality(envs) = 0 THEN RETURN; END IF;
          PERFORM 1 FROM {KEPT_TABLE} WHERE environment_id = ANY(envs)
            ORDER BY environment_id FOR UPDATE;
          UPDATE {KEPT_TABLE} k SET used_by = {kept} WHERE k.environment_id = ANY(envs);
        END $$""",
        f"""CREATE FUNCTION inventory_usage_environment() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'INSERT' THEN
            INSERT INTO {KEPT_TABLE} (environment_id, used_by)
              SELECT n.id, {new_kept} FROM new_rows n
              ON CONFLICT (environment_id) DO UPDATE SET used_by = EXCLUDED.used_by;
          ELSE
            DELETE FROM {KEPT_TABLE} WHERE environment_id IN (SELECT id FROM old_rows);
          END IF;
          RETURN NULL;
        END $$""",
        f"""CREATE FUNCTION inventory_usage_truncate() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_TABLE_NAME = 'inventory_environment' THEN
            DELETE FROM {KEPT_TABLE};
          ELSE
            UPDATE {KEPT_TABLE} k SET used_by = {kept};
          END IF;
          RETURN NULL;
        END $$""",
        "CREATE TRIGGER inventory_usage_environment_insert AFTER INSERT ON inventory_environment"
        " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT"
        " EXECUTE FUNCTION inventory_usage_environment()",
        "CREATE TRIGGER inventory_usage_environment_delete AFTER DELETE ON inventory_environment"
        " REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT"
        " EXECUTE FUNCTION inventory_usage_environment()",
        "CREATE TRIGGER inventory_usage_environment_truncate AFTER TRUNCATE"
        " ON inventory_environment FOR EACH STATEMENT EXECUTE FUNCTION inventory_usage_truncate()",
        _postgresql_rows_function(),
    ]
    for table in WATCHED:
        statements += [
            f"CREATE TRIGGER {table}_usage_insert AFTER INSERT ON {table}"
            " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT"
            " EXECUTE FUNCTION inventory_usage_rows()",
            f"CREATE TRIGGER {table}_usage_update AFTER UPDATE ON {table}"
            " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT"
            " EXECUTE FUNCTION inventory_usage_rows()",
            f"CREATE TRIGGER {table}_usage_delete AFTER DELETE ON {table}"
            " REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT"
            " EXECUTE FUNCTION inventory_usage_rows()",
            f"CREATE TRIGGER {table}_usage_truncate AFTER TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION inventory_usage_truncate()",
        ]
    return statements


def _postgresql_rows_function() -> str:
    """One function for the workload and template triggers: the environments of the rows
    written (an update: of the rows whose watched columns changed, before and after)."""

    def changed(table: str, this: str, other: str) -> str:
        same = " AND ".join(f"{this}.{c} IS NOT DISTINCT FROM {other}.{c}" for c in WATCHED[table])
        first, second = ("old_rows", "new_rows") if this == "o" else ("new_rows", "old_rows")
        return (
            f"SELECT {this}.environment_id AS e FROM {first} {this} WHERE NOT EXISTS"
            f" (SELECT 1 FROM {second} {other} WHERE {other}.id = {this}.id AND {same})"
        )

    updates = [
        f"""IF TG_TABLE_NAME = '{table}' THEN
              envs := ARRAY(SELECT DISTINCT e FROM ({changed(table, "o", "n")}
                UNION ALL {changed(table, "n", "o")}) c WHERE e IS NOT NULL);
            END IF;"""
        for table in WATCHED
    ]
    return f"""CREATE FUNCTION inventory_usage_rows() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE envs uuid[];
    BEGIN
      IF TG_OP = 'INSERT' THEN
        envs := ARRAY(SELECT DISTINCT environment_id FROM new_rows
                      WHERE environment_id IS NOT NULL);
      ELSIF TG_OP = 'DELETE' THEN
        envs := ARRAY(SELECT DISTINCT environment_id FROM old_rows
                      WHERE environment_id IS NOT NULL);
      ELSE
        {" ".join(updates)}
      END IF;
      PERFORM inventory_usage_refresh(envs);
      RETURN NULL;
    END $$"""
