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


# The distinct scope keys of templates, one seek each in the scope_key index (a loose index
# scan): a few hundred nodes, where reading every template cost a list page 10 ms at 20,000
# templates. A template without an environment counts too: stricter, never wrong.
TEMPLATE_SCOPES = (
    "WITH RECURSIVE t(key) AS (SELECT min(scope_key) FROM inventory_template"
    " UNION ALL SELECT (SELECT min(scope_key) FROM inventory_template WHERE scope_key > t.key)"
    " FROM t WHERE t.key IS NOT NULL) SELECT key FROM t WHERE key IS NOT NULL"
)


class UsedBy(Func):
    """The usedBy object of the row's environment as JSON text, for a caller who may see
    `visible_keys` (scope keys, projects as "project:<id>").

    With `stored` (the default), a caller who sees every project and every template's scope
    gets the fragment the database keeps per environment (inventory_environment_usage, kept by
    the triggers of migration 0010), read by primary key instead of rebuilt from ~5 workloads.
    Whether the caller sees everything is asked in the same statement, so it holds for the
    very rows read; an environment without a kept fragment is rebuilt as before."""

    output_field = TextField()

    def __init__(self, visible_keys, environment: str = "id", stored: bool = True):
        super().__init__(F(environment))
        self.stored = stored
        self.scope_keys = sorted(visible_keys)
        self.project_ids = sorted(
            int(key.split(":", 1)[1]) for key in visible_keys if key.startswith("project:")
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        outer, outer_params = compiler.compile(self.source_expressions[0])
        projects = ", ".join(["%s"] * len(self.project_ids))
        scopes = ", ".join(["%s"] * len(self.scope_keys))
        sql = usage_sql("sqlite", outer, f"IN ({projects})", f"IN ({scopes})")
        params = [*outer_params, *self.project_ids, *outer_params, *self.scope_keys]
        if not self.stored:
            return sql, params
        covers = (
            f"NOT EXISTS (SELECT 1 FROM inventory_project WHERE id NOT IN ({projects}))"
            f" AND NOT EXISTS (SELECT 1 FROM ({TEMPLATE_SCOPES}) s WHERE s.key NOT IN ({scopes}))"
        )
        return _kept(covers, outer, sql), [
            *self.project_ids, *self.scope_keys, *outer_params, *params
        ]  # fmt: skip

    def as_postgresql(self, compiler, connection, **extra_context):
        outer, outer_params = compiler.compile(self.source_expressions[0])
        sql = usage_sql("postgresql", outer, "= ANY(%s)", "= ANY(%s)")
        params = [*outer_params, self.project_ids, *outer_params, self.scope_keys]
        if not self.stored:
            return sql, params
        covers = (
            "NOT EXISTS (SELECT 1 FROM inventory_project WHERE NOT (id = ANY(%s)))"
            f" AND NOT EXISTS (SELECT 1 FROM ({TEMPLATE_SCOPES}) s WHERE NOT (s.key = ANY(%s)))"
        )
        return _kept(covers, outer, sql), [
            self.project_ids, self.scope_keys, *outer_params, *params
        ]  # fmt: skip

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError("UsedBy is written for SQLite and PostgreSQL only.")


def _kept(covers: str, outer: str, rebuilt: str) -> str:
    """The kept fragment when `covers` (uncorrelated: evaluated once a statement), else or
    when none is kept the `rebuilt` one (coalesce stops at the first value)."""
    kept = f"(SELECT k.used_by FROM {KEPT_TABLE} k WHERE k.environment_id = {outer})"
    return f"coalesce(CASE WHEN {covers} THEN {kept} END, {rebuilt})"


KEPT_TABLE = "inventory_environment_usage"


def usage_sql(vendor: str, outer: str, projects: str | None = None, scopes: str | None = None):
    """usedBy of the environment whose id is the SQL `outer`, as JSON text: the one writer of
    its shape, for readers and for the triggers that keep it. `projects` and `scopes` filter
    workloads by project id and templates by scope key (e.g. "IN (%s, %s)"); None: all."""
    workload_filter = f" AND w.project_id {projects}" if projects else ""
    template_filter = f" AND t.scope_key {scopes}" if scopes else ""
    if vendor == "sqlite":
        quote = "json_quote({})".format
        workload = _object(_sqlite_uuid("w.id"), quote("w.name"), quote("w.status"))
        template = _object(_sqlite_uuid("t.id"), quote("t.name"))
        # An aggregate over a subquery with ORDER BY is never flattened (SQLite's rule): the
        # subquery runs as a co-routine in that order, which group_concat keeps.
        workloads = (
            f"(SELECT {_lists('group_concat(item)')} FROM (SELECT w.type, {workload} AS item"
            f" FROM inventory_workload w WHERE w.environment_id = {outer}{workload_filter}"
            " ORDER BY w.created_at, w.name))"
        )
        templates = (
            f"(SELECT coalesce(group_concat(item), '') FROM (SELECT {template} AS item"
            f" FROM inventory_template t WHERE t.environment_id = {outer}{template_filter}"
            " ORDER BY t.name))"
        )
    elif vendor == "postgresql":
        quote = "to_json({})::text".format
        workload = _object("w.id::text", quote("w.name"), quote("w.status"))
        template = _object("t.id::text", quote("t.name"))
        ordered = f"string_agg({workload}, ',' ORDER BY w.created_at, w.name)"
        workloads = (
            f"(SELECT {_lists(ordered)} FROM inventory_workload w"
            f" WHERE w.environment_id = {outer}{workload_filter})"
        )
        templates = (
            f"(SELECT coalesce(string_agg({template}, ',' ORDER BY t.name), '')"
            f" FROM inventory_template t WHERE t.environment_id = {outer}{template_filter})"
        )
    else:
        raise NotSupportedError("usedBy is written for SQLite and PostgreSQL only.")
    return _usage(workloads, templates)


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
