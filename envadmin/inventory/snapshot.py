"""Load an org tree and its assets from one YAML file, all or nothing.

Environments go through the local backend, so a snapshot obeys exactly the rules of the API.
Every entry is checked, all problems are reported together (each naming its entry), and on any
problem the transaction is rolled back: nothing is loaded.
"""

import uuid
from datetime import UTC, datetime

import yaml
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from envadmin.accounts.access import Caller
from envadmin.accounts.models import AccessRule, Role, SubjectType
from envadmin.contract.errors import BackendError

from .models import (
    Cluster,
    Department,
    Environment,
    Project,
    Scope,
    Template,
    Workload,
    WorkloadType,
    scope_key,
)
from .orgtree import OrgTree

SECTIONS = (
    "clusters", "departments", "projects", "environments", "workloads", "templates", "policies",
    "users",
)  # fmt: skip
# Keys a snapshot may add to an environment's meta beyond the creation request (built-ins).
META_EXTRAS = ("readOnly", "createdBy", "createdAt")
LOADER = Caller("snapshot", SubjectType.APPLICATION, ((Role.SYSTEM_ADMINISTRATOR, "tenant"),))


class SnapshotError(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class _Problems(list):
    def check(self, label: str, fn):
        """Run fn(); record its failure under `label` and carry on with the next entry."""
        try:
            with transaction.atomic():
                return fn()
        except BackendError as exc:
            self.append(f"{label}: {exc.details or exc.message}")
        except (KeyError, TypeError, ValueError, IntegrityError) as exc:
            self.append(f"{label}: {_describe(exc)}")
        return None


def _describe(exc) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    if isinstance(exc, IntegrityError):
        return "already exists (or clashes with an existing entry)"
    return str(exc)


def read_file(path) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except OSError as exc:
        raise SnapshotError([f"{path}: {exc.strerror}"]) from None
    except yaml.YAMLError as exc:
        raise SnapshotError([f"{path}: not valid YAML: {exc}"]) from None
    return data


def load(data) -> dict:
    """Load a parsed snapshot; returns counts per section or raises SnapshotError."""
    if not isinstance(data, dict):
        raise SnapshotError(["The snapshot must be a mapping of sections."])
    unknown = sorted(set(data) - set(SECTIONS))
    problems = _Problems(f"unknown section '{name}'" for name in unknown)
    for section in SECTIONS:
        if not isinstance(data.get(section) or [], list):
            problems.append(f"{section}: must be a list")
    if problems:
        raise SnapshotError(problems)
    counts = {}
    with transaction.atomic():
        for section in SECTIONS:
            loader = globals()[f"_load_{section}"]
            entries = data.get(section) or []
            for index, entry in enumerate(entries):
                label = _label(section, index, entry)
                if not isinstance(entry, dict):
                    problems.append(f"{label}: must be a mapping")
                    continue
                problems.check(label, lambda entry=entry, loader=loader: loader(entry))
            counts[section] = len(entries)
        if problems:
            transaction.set_rollback(True)
    if problems:
        raise SnapshotError(problems)
    return counts


def _label(section, index, entry) -> str:
    name = None
    if isinstance(entry, dict):
        name = entry.get("name") or entry.get("username") or (entry.get("meta") or {}).get("name")
    return f"{section}[{index}]" + (f" ({name})" if name else "")


def _when(value) -> datetime:
    if value is None:
        return timezone.now()
    if isinstance(value, datetime):
        moment = value
    else:
        moment = parse_datetime(str(value))
        if moment is None:
            raise ValueError(f"'{value}' is not an ISO 8601 date-time")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)


def _load_clusters(entry):
    Cluster.objects.create(id=uuid.UUID(str(entry["id"])), name=str(entry["name"]))


def _load_departments(entry):
    cluster = Cluster.objects.filter(pk=uuid.UUID(str(entry["clusterId"]))).first()
    if cluster is None:
        raise ValueError(f"clusterId {entry['clusterId']} is not a cluster of the snapshot")
    Department.objects.create(id=str(entry["id"]), name=str(entry["name"]), cluster=cluster)


def _load_projects(entry):
    department = Department.objects.filter(pk=str(entry["departmentId"])).first()
    if department is None:
        raise ValueError(f"departmentId {entry['departmentId']} is not a department")
    if isinstance(entry["id"], bool) or not isinstance(entry["id"], int):
        raise ValueError("id must be an integer")
    Project.objects.create(id=entry["id"], name=str(entry["name"]), department=department)


def _load_environments(entry):
    from envadmin.backends.local import LocalBackend

    meta = dict(entry.get("meta") or {})
    extras = {key: meta.pop(key) for key in META_EXTRAS if key in meta}
    document = LocalBackend().create_environment(LOADER, {**entry, "meta": meta})
    env = Environment.objects.get(pk=document["meta"]["id"])
    env.read_only = bool(extras.get("readOnly", False))
    env.created_by = env.updated_by = str(extras.get("createdBy") or "admin@envadmin.local")
    env.created_at = env.updated_at = _when(extras.get("createdAt"))
    env.save()


def _environment_named(name, node_key) -> Environment:
    """The environment of that name usable at the node, nearest scope first."""
    tree = OrgTree.load()
    chain = tree.chain(node_key)
    candidates = {
        e.scope_key: e for e in Environment.objects.filter(name__iexact=name, scope_key__in=chain)
    }
    for key in chain:
        if key in candidates:
            return candidates[key]
    raise ValueError(f"no environment named '{name}' is usable in {node_key}")


def _load_workloads(entry):
    kind = entry["type"]
    if kind not in WorkloadType.values:
        raise ValueError(f"type must be one of {', '.join(WorkloadType.values)}")
    if isinstance(entry["projectId"], bool) or not isinstance(entry["projectId"], int):
        raise ValueError("projectId must be an integer")
    project = Project.objects.filter(pk=entry["projectId"]).first()
    if project is None:
        raise ValueError(f"projectId {entry['projectId']} is not a project")
    env = None
    if entry.get("environment"):
        env = _environment_named(entry["environment"], scope_key("project", project.id))
    Workload.objects.create(
        id=uuid.UUID(str(entry.get("id") or uuid.uuid4())),
        name=str(entry["name"]),
        type=kind,
        status=str(entry["status"]),
        project=project,
        environment=env,
        created_at=_when(entry.get("createdAt")),
    )


def _node_key(entry) -> str:
    scope = entry["scope"]
    if scope not in Scope.values:
        raise ValueError(f"scope must be one of {', '.join(Scope.values)}")
    if scope in ("system", "tenant"):
        return scope
    id_field = {"cluster": "clusterId", "department": "departmentId", "project": "projectId"}[scope]
    key = scope_key(scope, entry[id_field])
    if key not in OrgTree.load():
        raise ValueError(f"{id_field} {entry[id_field]} is not a {scope} of the snapshot")
    return key


def _load_templates(entry):
    key = _node_key(entry)
    env = _environment_named(entry["environment"], key) if entry.get("environment") else None
    Template.objects.create(
        id=uuid.UUID(str(entry.get("id") or uuid.uuid4())),
        name=str(entry["name"]),
        scope=entry["scope"],
        scope_key=key,
        environment=env,
    )


def _load_policies(entry):
    """{workloadType, scope, <scope id>, name, policy: {...}, imposedEnvironments: [names]}:
    written through the policy API's own checks (conflicts along the branch included)."""
    from envadmin.backends.local import LocalBackend
    from envadmin.contract.policy import POLICY_PATHS

    kind = entry["workloadType"]
    if kind not in POLICY_PATHS.values():
        raise ValueError(f"workloadType must be one of {', '.join(POLICY_PATHS.values())}")
    key = _node_key(entry)
    policy = dict(entry.get("policy") or {})
    names = entry.get("imposedEnvironments") or []
    if names and kind == "distributed":
        # Per replica section; a plain list imposes on both.
        sections = names if isinstance(names, dict) else {"worker": names, "master": names}
        assets = dict(policy.get("imposedAssets") or {})
        for section, section_names in sections.items():
            ids = [str(_environment_named(name, key).id) for name in section_names]
            assets[section] = list(assets.get(section) or []) + ids
        policy["imposedAssets"] = assets
    elif names:
        ids = [str(_environment_named(name, key).id) for name in names]
        policy["imposedAssets"] = list(policy.get("imposedAssets") or []) + ids
    meta = {"name": entry.get("name") or f"{kind}-{key}", "scope": entry["scope"]}
    for field in ("clusterId", "departmentId", "projectId"):
        if entry.get(field) is not None:
            meta[field] = entry[field]
    LocalBackend().write_policy(
        LOADER, kind, {"meta": meta, "policy": policy}, partial=False, validate_only=False
    )


def _load_users(entry):
    """Demo users: {username, password, role, scope, <scope id>}; envadmin's own extension."""
    role = entry["role"]
    if role not in Role.values:
        raise ValueError(f"role must be one of: {', '.join(Role.values)}")
    key = _node_key(entry)
    user_model = get_user_model()
    if user_model.objects.filter(username=entry["username"]).exists():
        raise ValueError(f"user {entry['username']} already exists")
    user_model.objects.create_user(
        username=str(entry["username"]),
        password=str(entry["password"]),
        email=str(entry.get("email") or ""),
        is_staff=role == Role.SYSTEM_ADMINISTRATOR,
        is_superuser=role == Role.SYSTEM_ADMINISTRATOR,
    )
    AccessRule.objects.create(
        subject_type=SubjectType.USER, subject=entry["username"], role=role, scope_key=key
    )
