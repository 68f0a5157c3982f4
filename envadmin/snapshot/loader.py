"""Load an org tree and its assets from one YAML file, all or nothing.

Environments and policies go through the local backend, so a snapshot obeys exactly the rules
of the API. Every entry is checked, all problems are reported together (each naming its entry),
and on any problem the transaction is rolled back: nothing is loaded.
"""

import uuid
from datetime import UTC, datetime
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from envadmin.accounts.access import Caller
from envadmin.accounts.models import AccessRule, Role, SubjectType
from envadmin.backends.local import LocalBackend
from envadmin.contract.choices import (
    CREDENTIAL_KINDS,
    MAX_ASSET_TEXT,
    MAX_REPOSITORIES,
    MAX_SECRET_KEYS,
    MAX_TAGS,
    SCOPE_ID_FIELDS,
    SCOPES,
    SUPPORTED_TYPE_KEYS,
)
from envadmin.contract.errors import BackendError
from envadmin.contract.inputs import InputError, body_problem, load_yaml
from envadmin.contract.policy import POLICY_PATHS
from envadmin.inventory.models import (
    Cluster,
    Credential,
    Department,
    Environment,
    Project,
    Registry,
    Template,
    Workload,
    fold_name,
    scope_key,
)
from envadmin.inventory.orgtree import OrgTree

SECTIONS = (
    "clusters", "departments", "projects", "environments", "workloads", "templates", "policies",
    "users", "credentials", "registries",
)  # fmt: skip
# Keys a snapshot may add to an environment's meta beyond the creation request (built-ins).
META_EXTRAS = ("readOnly", "createdBy", "createdAt")
LOADER = Caller(
    "snapshot", SubjectType.APPLICATION, ((Role.SYSTEM_ADMINISTRATOR, "tenant"),), origin="snapshot"
)
INT32 = (-(2**31), 2**31 - 1)
# A snapshot of tens of thousands of environments is a few tens of megabytes of YAML.
MAX_BYTES = 256 * 1024 * 1024
# A problem quotes the entry it is about; an oversized value is cut, not printed whole.
MAX_MESSAGE = 500


class SnapshotError(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class _Problems(list):
    def append(self, problem: str):
        super().append(problem if len(problem) <= MAX_MESSAGE else problem[:MAX_MESSAGE] + "…")

    def check(self, label: str, fn):
        """Run fn(); record its failure under `label` and carry on with the next entry."""
        try:
            with transaction.atomic():
                return fn()
        except BackendError as exc:
            self.append(f"{label}: {exc.details or exc.message}")
        # DatabaseError: what the model checks let through and the database still refuses
        # (a value PostgreSQL cannot store) is this entry's problem, not a traceback.
        except (KeyError, TypeError, ValueError, ValidationError, DatabaseError) as exc:
            self.append(f"{label}: {_describe(exc)}")
        return None


def _describe(exc) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):  # "__all__" holds the model's constraint messages
            return "; ".join(
                " ".join(v) if k == "__all__" else f"{k}: {' '.join(v)}"
                for k, v in exc.message_dict.items()
            )
        return " ".join(exc.messages)
    if isinstance(exc, IntegrityError):
        return "already exists (or clashes with an existing entry)"
    if isinstance(exc, DatabaseError):
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return f"refused by the database: {first_line}"
    return str(exc)


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return {list: "a list", dict: "a mapping"}.get(type(value), type(value).__name__)


def _text(entry: dict, key: str) -> str:
    """entry[key] as it is: a snapshot is data, so 12 or null is not quietly the text '12'."""
    value = entry[key]
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string, not {_kind(value)}")
    return value


def _project_id(value, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} must be an integer")
    if not INT32[0] <= value <= INT32[1]:
        raise ValueError(f"{key} must fit in 32 bits ({INT32[0]} to {INT32[1]})")
    return value


def _create(instance):
    """Save after the model's own checks, so an over-long name is reported, not a DataError."""
    instance.full_clean()
    instance.save(force_insert=True)
    return instance


def read_file(path) -> dict:
    """Parse a snapshot file within the bounds every input path has (envadmin.contract.inputs)."""
    try:
        if Path(path).stat().st_size > MAX_BYTES:
            raise SnapshotError([f"{path}: larger than {MAX_BYTES:,} bytes"])
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise SnapshotError([f"{path}: {exc.strerror}"]) from None
    except UnicodeDecodeError as exc:
        raise SnapshotError([f"{path}: not UTF-8 text ({exc.reason})"]) from None
    try:
        return load_yaml(text, max_bytes=MAX_BYTES, json_only=False)
    except InputError as exc:
        raise SnapshotError([f"{path}: {exc}"]) from None


def load(data) -> dict:
    """Load a parsed snapshot; returns counts per section or raises SnapshotError."""
    if not isinstance(data, dict):
        raise SnapshotError(["The snapshot must be a mapping of sections."])
    problem = body_problem(data)
    if problem:
        raise SnapshotError([f"The snapshot {problem.removeprefix('body: ')}"])
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
    _create(Cluster(id=uuid.UUID(str(entry["id"])), name=_text(entry, "name")))


def _load_departments(entry):
    cluster = Cluster.objects.filter(pk=uuid.UUID(str(entry["clusterId"]))).first()
    if cluster is None:
        raise ValueError(f"clusterId {entry['clusterId']} is not a cluster of the snapshot")
    _create(Department(id=_text(entry, "id"), name=_text(entry, "name"), cluster=cluster))


def _load_projects(entry):
    department = Department.objects.filter(pk=str(entry["departmentId"])).first()
    if department is None:
        raise ValueError(f"departmentId {entry['departmentId']} is not a department")
    project_id = _project_id(entry["id"], "id")
    _create(Project(id=project_id, name=_text(entry, "name"), department=department))


def _load_environments(entry):
    meta = dict(entry.get("meta") or {})
    extras = {key: meta.pop(key) for key in META_EXTRAS if key in meta}
    document = LocalBackend().create_environment(LOADER, {**entry, "meta": meta})
    env = Environment.objects.get(pk=document["meta"]["id"])
    read_only = extras.get("readOnly", False)
    if not isinstance(read_only, bool):
        raise ValueError(f"meta.readOnly must be true or false, not {_kind(read_only)}")
    env.read_only = read_only
    created_by = extras.get("createdBy") or "admin@envadmin.local"
    if not isinstance(created_by, str):
        raise ValueError(f"meta.createdBy must be a string, not {_kind(created_by)}")
    # The rest of the row passed the API's validation; only the snapshot's extras need checks.
    limit = Environment._meta.get_field("created_by").max_length
    if len(created_by) > limit:
        raise ValueError(f"meta.createdBy must be at most {limit} characters")
    env.created_by = env.updated_by = created_by
    env.created_at = env.updated_at = _when(extras.get("createdAt"))
    env.save()


def _environment_named(name, node_key) -> Environment:
    """The environment of that name usable at the node, nearest scope first."""
    tree = OrgTree.load()
    chain = tree.chain(node_key)
    candidates = {
        e.scope_key: e
        for e in Environment.objects.filter(name_key=fold_name(name), scope_key__in=chain)
    }
    for key in chain:
        if key in candidates:
            return candidates[key]
    raise ValueError(f"no environment named '{name}' is usable in {node_key}")


def _load_workloads(entry):
    kind = entry["type"]
    if kind not in SUPPORTED_TYPE_KEYS:
        raise ValueError(f"type must be one of {', '.join(SUPPORTED_TYPE_KEYS)}")
    project = Project.objects.filter(pk=_project_id(entry["projectId"], "projectId")).first()
    if project is None:
        raise ValueError(f"projectId {entry['projectId']} is not a project")
    env = None
    if entry.get("environment"):
        env = _environment_named(entry["environment"], scope_key("project", project.id))
    _create(
        Workload(
            id=uuid.UUID(str(entry.get("id") or uuid.uuid4())),
            name=_text(entry, "name"),
            type=kind,
            status=_text(entry, "status"),
            project=project,
            environment=env,
            created_at=_when(entry.get("createdAt")),
        )
    )


def _node_key(entry) -> str:
    scope = entry["scope"]
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
    if scope in ("system", "tenant"):
        return scope
    id_field = SCOPE_ID_FIELDS[scope]
    key = scope_key(scope, entry[id_field])
    if key not in OrgTree.load():
        raise ValueError(f"{id_field} {entry[id_field]} is not a {scope} of the snapshot")
    return key


def _load_templates(entry):
    key = _node_key(entry)
    env = _environment_named(entry["environment"], key) if entry.get("environment") else None
    _create(
        Template(
            id=uuid.UUID(str(entry.get("id") or uuid.uuid4())),
            name=_text(entry, "name"),
            scope=entry["scope"],
            scope_key=key,
            environment=env,
        )
    )


def _load_policies(entry):
    """{workloadType, scope, <scope id>, name, policy: {...}, imposedEnvironments: [names]}:
    written through the policy API's own checks (conflicts along the branch included)."""
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
    for field in SCOPE_ID_FIELDS.values():
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
    username, password = _text(entry, "username"), _text(entry, "password")
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        raise ValueError(f"user {username} already exists")
    user = user_model(
        username=username,
        email=_text(entry, "email") if entry.get("email") is not None else "",
        is_staff=role == Role.SYSTEM_ADMINISTRATOR,
        is_superuser=role == Role.SYSTEM_ADMINISTRATOR,
    )
    validate_password(password, user)
    user.set_password(password)
    _create(user)
    _create(AccessRule(subject_type=SubjectType.USER, subject=username, role=role, scope_key=key))


PLACEMENT_KEYS = {"scope", *SCOPE_ID_FIELDS.values()}
CREDENTIAL_KEYS = {"name", "kind", "keys", "createdBy", "createdAt", *PLACEMENT_KEYS}
REGISTRY_KEYS = {"name", "url", "repositories", "createdBy", "createdAt", *PLACEMENT_KEYS}


def _only_keys(entry: dict, allowed: set[str]) -> None:
    unknown = sorted(str(key) for key in set(entry) - allowed)
    if unknown:
        raise ValueError(
            f"unknown keys {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )


def _short_text(value, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string, not {_kind(value)}")
    if len(value) > MAX_ASSET_TEXT:
        raise ValueError(f"{what} must be at most {MAX_ASSET_TEXT} characters")
    return value


def _text_list(value, what: str, limit: int) -> list[str]:
    if not isinstance(value, list):
        raise ValueError(f"{what} must be a list, not {_kind(value)}")
    if len(value) > limit:
        raise ValueError(f"{what}: at most {limit} entries")
    items = [_short_text(item, f"{what} entry") for item in value]
    repeated = sorted({item for item in items if items.count(item) > 1})
    if repeated:
        raise ValueError(f"{what}: {', '.join(repeated)} given more than once")
    return items


def _placed(model, entry: dict, **fields):
    """A credential or registry at the entry's placement, unless its name is taken there."""
    name = _short_text(entry["name"], "name")
    key = _node_key(entry)
    if model.objects.filter(scope_key=key, name=name).exists():
        raise ValueError(f"a {model._meta.verbose_name} named '{name}' already exists in {key}")
    created_by = entry.get("createdBy") or "admin@envadmin.local"
    _create(
        model(
            name=name,
            scope=entry["scope"],
            scope_key=key,
            project_id=(
                _project_id(entry["projectId"], "projectId")
                if entry["scope"] == "project"
                else None
            ),
            created_by=_short_text(created_by, "createdBy"),
            created_at=_when(entry.get("createdAt")),
            **fields,
        )
    )


def _load_credentials(entry):
    """{name, kind, scope, <scope id>, keys?}: never a secret value (envadmin holds none)."""
    _only_keys(entry, CREDENTIAL_KEYS)
    kind = entry["kind"]
    if kind not in CREDENTIAL_KINDS:
        raise ValueError(f"kind must be one of {', '.join(CREDENTIAL_KINDS)}")
    keys = _text_list(entry.get("keys") or [], "keys", MAX_SECRET_KEYS)
    if keys and kind != "generic-secret":
        raise ValueError("keys: only a generic-secret credential has key names")
    _placed(Credential, entry, kind=kind, keys=keys)


def _load_registries(entry):
    """{name, url, scope, <scope id>, repositories: {repository: [tags]}}."""
    _only_keys(entry, REGISTRY_KEYS)
    url = _short_text(entry["url"], "url")
    repositories = entry.get("repositories") or {}
    if not isinstance(repositories, dict):
        raise ValueError(
            f"repositories must be a mapping of repository to tags, not {_kind(repositories)}"
        )
    if len(repositories) > MAX_REPOSITORIES:
        raise ValueError(f"repositories: at most {MAX_REPOSITORIES}")
    checked = {
        _short_text(name, "repository name"): _text_list(tags, f"repositories.{name}", MAX_TAGS)
        for name, tags in repositories.items()
    }
    _placed(Registry, entry, url=url, repositories=checked)
