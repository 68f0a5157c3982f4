"""The local model rendered as Run:ai's documents (environment and org-unit contracts)."""

import json
from datetime import datetime

import orjson
from django.conf import settings
from django.db import NotSupportedError
from django.db.models import CharField, F, Func, Max
from django.db.models.functions import Cast

from . import listing
from .models import Environment, Workload
from .usage import WORKLOAD_LISTS, UsedBy

# usedBy's list of each workload type
WORKLOAD_USAGE_KEYS = {kind: key for key, kind in WORKLOAD_LISTS}


def load_json(text: str | None):
    """A stored JSON value: orjson where it can (several times faster), else the json module
    (NaN, integers beyond 64 bits and lone surrogates, which orjson refuses)."""
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def timestamp(value: datetime | str | None) -> str | None:
    """Run:ai's form of a time; a string is one already written so by RunaiTimestamp."""
    if value is None or isinstance(value, str):
        return value
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class RunaiTimestamp(Func):
    """A time column written by the database as timestamp() writes it (2024-05-01T10:00:00.123Z,
    milliseconds cut, not rounded): a list skips parsing and formatting two times per row."""

    output_field = CharField()

    def __init__(self, field: str):
        super().__init__(F(field))

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django keeps UTC times as text, "YYYY-MM-DD HH:MM:SS" and ".ffffff" when not whole.
        sql, params = compiler.compile(self.source_expressions[0])
        parts = [
            f"substr({sql}, 1, 10)", "'T'", f"substr({sql}, 12, 8)", "'.'",
            f"substr(substr({sql}, 21) || '000', 1, 3)", "'Z'",
        ]  # fmt: skip
        return " || ".join(parts), params * 3

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"""to_char({sql} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')""", params

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError("RunaiTimestamp is written for SQLite and PostgreSQL only.")


def _without_none(mapping: dict) -> dict:
    return {key: value for key, value in mapping.items() if value is not None}


def workload_supported_types(env: Environment) -> dict:
    return listing.supported_types(env)


def environment_meta(env: Environment, tree, placements: dict | None = None) -> dict:
    """`placements` may be a dict kept across the environments of one list: the ids and names
    of a placement are then read from the tree once per node, not once per environment."""
    meta = {
        "name": env.name,
        "description": env.description,
        "scope": env.scope,
        "autoDelete": env.auto_delete,
        "private": env.private,
        "workloadSupportedTypes": workload_supported_types(env),
        "id": str(env.id),
        "kind": "environment",
        "tenantId": settings.ENVADMIN_TENANT_ID,
        "createdBy": env.created_by,
        "createdAt": timestamp(env.created_at),
        "updatedBy": env.updated_by,
        "updatedAt": timestamp(env.updated_at),
        "updateCount": env.update_count,
    }
    placement_key = (env.scope, env.scope_key, env.project_id)
    placement = None if placements is None else placements.get(placement_key)
    if placement is None:
        placement = _placement(env, tree)
        if placements is not None:
            placements[placement_key] = placement
    meta.update(placement)
    return _without_none(meta)


def _placement(env, tree) -> dict:
    """Like Run:ai, an asset below tenant names every node of its placement."""
    placement = {}
    if env.scope in ("cluster", "department", "project"):
        placement["clusterId"] = tree.cluster_of(env.scope_key)
    if env.scope in ("department", "project"):
        placement["departmentId"] = _department_of(env, tree)
    if env.scope == "project":
        placement["projectId"] = env.project_id
        node = tree.nodes.get(env.scope_key)
        placement["projectName"] = node.name if node else None
    return placement


def _department_of(env, tree):
    for key in tree.chain(env.scope_key):
        if tree.nodes[key].scope == "department":
            return str(tree.nodes[key].id)
    return None


def environment_document(env, tree, usage=None, with_status=False, placements=None) -> dict:
    meta = environment_meta(env, tree, placements)
    document = {"meta": meta, "spec": env.spec}
    if usage is not None:
        document["usedBy"] = usage.get(meta["id"]) or empty_usage()
    if with_status:
        # Environments are not synced to clusters, so Run:ai reports no status for them.
        document["status"] = {"status": "No status"}
    return document


def empty_usage() -> dict:
    usage = {key: [] for key in WORKLOAD_USAGE_KEYS.values()}
    usage["templates"] = []
    return usage


class UUIDText(Func):
    """A uuid column as Run:ai writes it (8-4-4-4-12 hex digits), made by the database: reading
    uuids as text skips building a UUID object per row, tens of thousands per list."""

    output_field = CharField()

    def __init__(self, field: str):
        super().__init__(Cast(field, output_field=CharField()))

    def as_sql(self, compiler, connection, **extra_context):
        return compiler.compile(self.source_expressions[0])  # PostgreSQL writes it so already

    def as_sqlite(self, compiler, connection, **extra_context):
        # SQLite keeps Django's uuids as 32 hex digits: put the dashes in.
        text, params = compiler.compile(self.source_expressions[0])
        parts = [f"substr({text}, {start}, {length})" for start, length in _UUID_GROUPS]
        return " || '-' || ".join(parts), params * len(parts)


_UUID_GROUPS = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))


def uuid_text(raw) -> str:
    """A uuid column's raw value as UUIDText writes it: SQLite's 32 hex digits dashed (in
    Python, cheaper than SQLite's five substr per row), PostgreSQL's UUID as str() writes it."""
    if type(raw) is str and len(raw) == 32:
        return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"
    return str(raw)


def _as_text(field: str) -> UUIDText:
    return UUIDText(field)


def usage_by_environment(environment_ids, visible_keys) -> dict:
    """usedBy, keyed by environment id text, for many environments in one query: the
    workloads and templates the caller may see. `environment_ids` may be a queryset."""
    rows = (
        Environment.objects.filter(pk__in=environment_ids)
        .order_by()
        .annotate(id_text=_as_text("id"), used_by=UsedBy(visible_keys))
        .values_list("id_text", "used_by")
    )
    return {env_id: orjson.loads(used_by) for env_id, used_by in rows}


def last_used(environment_ids, project_id, workload_type) -> dict:
    """{environment id: time of the newest workload of that type in that project}, one query;
    `environment_ids` None: of every environment the project's workloads of that type use."""
    workloads = Workload.objects.filter(project_id=project_id, type=workload_type)
    if environment_ids is not None:
        workloads = workloads.filter(environment_id__in=environment_ids)
    rows = (
        workloads.annotate(env_text=_as_text("environment_id"))
        .values("env_text")
        .annotate(last=Max("created_at"))
        .values_list("env_text", "last")
    )
    return dict(rows)


# --- org units --------------------------------------------------------------------------------


def cluster_document(cluster) -> dict:
    return {
        "uuid": str(cluster.id),
        "tenantId": settings.ENVADMIN_TENANT_ID,
        "name": cluster.name,
        "createdAt": timestamp(cluster.created_at),
    }


# `parent` and `children` are left out: the contract types their ids as uuids, while
# departments and projects have string and integer ids (parentId carries the link).
def department_document(department, tree) -> dict:
    return {
        "id": str(department.id),
        "name": department.name,
        "clusterId": str(department.cluster_id),
        "description": "",
        "createdAt": timestamp(department.created_at),
        "updatedAt": timestamp(department.created_at),
        "totalResources": {},
        "resources": [],
    }


def project_document(project, tree) -> dict:
    department = tree.departments[str(project.department_id)]
    return {
        "id": str(project.id),
        "name": project.name,
        "clusterId": str(department.cluster_id),
        "parentId": str(department.id),
        "description": "",
        "createdAt": timestamp(project.created_at),
        "updatedAt": timestamp(project.created_at),
        "enforceRunaiScheduler": True,
        "totalResources": {},
        "effective": {},
        "status": {},
        "resources": [],
    }


def placement_of(asset, tree) -> dict:
    """The meta placement fields of any placed asset (scope, scope_key, project_id)."""
    return _placement(asset, tree)
