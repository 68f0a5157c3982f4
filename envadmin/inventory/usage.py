"""usedBy written by the database: one JSON text per environment row, from one correlated
subquery over its workloads and one over its templates (both found by the environment's
index), so a list of 100,000 environments and their workloads needs no grouping in Python.

The caller sees only the workloads of the projects it may see and the templates of the scopes
it may see. Workloads come oldest first (then by name), templates by name; the keys come in
documents.empty_usage()'s order."""

from django.db import NotSupportedError
from django.db.models import F, Func, TextField

# usedBy's workload lists, in the order a document has them, and the type each one holds.
WORKLOAD_LISTS = (
    ("workspaces", "workspace"),
    ("trainings", "training"),
    ("distributed", "distributed"),
    ("inferences", "inference"),
)


class UsedBy(Func):
    """The usedBy object of the row's environment as JSON text, for a caller who may see
    `visible_keys` (scope keys, projects as "project:<id>")."""

    output_field = TextField()

    def __init__(self, visible_keys, environment: str = "id"):
        super().__init__(F(environment))
        self.scope_keys = sorted(visible_keys)
        self.project_ids = sorted(
            int(key.split(":", 1)[1]) for key in visible_keys if key.startswith("project:")
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        outer, outer_params = compiler.compile(self.source_expressions[0])
        projects = ", ".join(["%s"] * len(self.project_ids))
        scopes = ", ".join(["%s"] * len(self.scope_keys))
        quote = "json_quote({})".format
        workload = _object(_sqlite_uuid("w.id"), quote("w.name"), quote("w.status"))
        template = _object(_sqlite_uuid("t.id"), quote("t.name"))
        # An aggregate over a subquery with ORDER BY is never flattened (SQLite's rule): the
        # subquery runs as a co-routine in that order, which group_concat keeps.
        workloads = (
            f"(SELECT {_lists('group_concat(item)')} FROM (SELECT w.type, {workload} AS item"
            f" FROM inventory_workload w WHERE w.environment_id = {outer}"
            f" AND w.project_id IN ({projects}) ORDER BY w.created_at, w.name))"
        )
        templates = (
            f"(SELECT coalesce(group_concat(item), '') FROM (SELECT {template} AS item"
            f" FROM inventory_template t WHERE t.environment_id = {outer}"
            f" AND t.scope_key IN ({scopes}) ORDER BY t.name))"
        )
        params = [*outer_params, *self.project_ids, *outer_params, *self.scope_keys]
        return _usage(workloads, templates), params

    def as_postgresql(self, compiler, connection, **extra_context):
        outer, outer_params = compiler.compile(self.source_expressions[0])
        quote = "to_json({})::text".format
        workload = _object("w.id::text", quote("w.name"), quote("w.status"))
        template = _object("t.id::text", quote("t.name"))
        ordered = f"string_agg({workload}, ',' ORDER BY w.created_at, w.name)"
        workloads = (
            f"(SELECT {_lists(ordered)} FROM inventory_workload w"
            f" WHERE w.environment_id = {outer} AND w.project_id = ANY(%s))"
        )
        templates = (
            f"(SELECT coalesce(string_agg({template}, ',' ORDER BY t.name), '')"
            f" FROM inventory_template t WHERE t.environment_id = {outer}"
            f" AND t.scope_key = ANY(%s))"
        )
        params = [*outer_params, self.project_ids, *outer_params, self.scope_keys]
        return _usage(workloads, templates), params

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError("UsedBy is written for SQLite and PostgreSQL only.")


def _lists(aggregate: str) -> str:
    """The four workload lists as `"workspaces":[...],...`, one aggregate per type."""
    parts = [
        f"""'"{key}":[' || coalesce({aggregate} FILTER (WHERE type = '{kind}'), '') || ']'"""
        for key, kind in WORKLOAD_LISTS
    ]
    return " || ',' || ".join(parts)


def _usage(workloads: str, templates: str) -> str:
    return f"""('{{' || {workloads} || ',"templates":[' || {templates} || ']}}')"""


def _object(uuid: str, name: str, status: str | None = None) -> str:
    """{"id":..,"name":..[,"status":..]} written compactly; `name` and `status` are already
    quoted JSON strings, a uuid's text needs no escaping."""
    parts = [f"""'{{"id":"' || {uuid} || '","name":' || {name}"""]
    if status is not None:
        parts.append(f"""',"status":' || {status}""")
    return "(" + " || ".join(parts) + " || '}')"


def _sqlite_uuid(column: str) -> str:
    """SQLite keeps Django's uuids as 32 hex digits: Run:ai writes them with dashes."""
    groups = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))
    return " || '-' || ".join(f"substr({column}, {start}, {length})" for start, length in groups)
