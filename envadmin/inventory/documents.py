"""The local model rendered as Run:ai's documents (environment and org-unit contracts)."""

from collections import defaultdict
from datetime import datetime

from django.conf import settings
from django.db.models import CharField, Max
from django.db.models.functions import Cast

from .models import Environment, Template, Workload

WORKLOAD_USAGE_KEYS = {
    "workspace": "workspaces",
    "training": "trainings",
    "distributed": "distributed",
    "inference": "inferences",
}


def timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _without_none(mapping: dict) -> dict:
    return {key: value for key, value in mapping.items() if value is not None}


def workload_supported_types(env: Environment) -> dict:
    return _without_none(
        {
            "workspace": env.supports_workspace,
            "training": env.supports_training,
            "inference": env.supports_inference,
            "distributed": env.supports_distributed,
            "distFramework": env.dist_framework,
        }
    )


def environment_meta(env: Environment, tree) -> dict:
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
    # Like Run:ai, an asset below tenant names every node of its placement.
    if env.scope in ("cluster", "department", "project"):
        meta["clusterId"] = tree.cluster_of(env.scope_key)
    if env.scope in ("department", "project"):
        meta["departmentId"] = _department_of(env, tree)
    if env.scope == "project":
        meta["projectId"] = env.project_id
        node = tree.nodes.get(env.scope_key)
        meta["projectName"] = node.name if node else None
    return _without_none(meta)


def _department_of(env, tree):
    for key in tree.chain(env.scope_key):
        if tree.nodes[key].scope == "department":
            return str(tree.nodes[key].id)
    return None


def environment_document(env, tree, usage=None, with_status=False) -> dict:
    document = {"meta": environment_meta(env, tree), "spec": env.spec}
    if usage is not None:
        document["usedBy"] = usage.get(str(env.id)) or empty_usage()
    if with_status:
        # Environments are not synced to clusters, so Run:ai reports no status for them.
        document["status"] = {"status": "No status"}
    return document


def empty_usage() -> dict:
    usage = {key: [] for key in WORKLOAD_USAGE_KEYS.values()}
    usage["templates"] = []
    return usage


def _uuid_text(value: str) -> str:
    """A uuid as Run:ai writes it, from its text in the database (SQLite keeps 32 hex digits)."""
    if len(value) == 32:
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return value


def _as_text(field: str) -> Cast:
    # Reading uuids as text skips building a UUID object per row: tens of thousands per list.
    return Cast(field, output_field=CharField())


def usage_by_environment(environment_ids, visible_keys) -> dict:
    """usedBy, keyed by environment id text, for many environments in two queries: the
    workloads and templates the caller may see. `environment_ids` may be a queryset."""
    usage = defaultdict(empty_usage)
    visible_projects = [int(k.split(":", 1)[1]) for k in visible_keys if k.startswith("project:")]
    workloads = (
        Workload.objects.filter(environment_id__in=environment_ids, project_id__in=visible_projects)
        .order_by("created_at", "name")
        .annotate(env_text=_as_text("environment_id"), id_text=_as_text("id"))
        .values_list("env_text", "type", "id_text", "name", "status")
    )
    for env_id, kind, workload_id, name, status in workloads:
        usage[_uuid_text(env_id)][WORKLOAD_USAGE_KEYS[kind]].append(
            {"id": _uuid_text(workload_id), "name": name, "status": status}
        )
    templates = (
        Template.objects.filter(environment_id__in=environment_ids, scope_key__in=visible_keys)
        .order_by("name")
        .annotate(env_text=_as_text("environment_id"), id_text=_as_text("id"))
        .values_list("env_text", "id_text", "name")
    )
    for env_id, template_id, name in templates:
        usage[_uuid_text(env_id)]["templates"].append({"id": _uuid_text(template_id), "name": name})
    return usage


def last_used(environment_ids, project_id, workload_type) -> dict:
    """{environment id: time of the newest workload of that type in that project}, one query."""
    rows = (
        Workload.objects.filter(
            environment_id__in=environment_ids, project_id=project_id, type=workload_type
        )
        .annotate(env_text=_as_text("environment_id"))
        .values("env_text")
        .annotate(last=Max("created_at"))
        .values_list("env_text", "last")
    )
    return {_uuid_text(env_id): last for env_id, last in rows}


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
