"""The environments file: read within bounds, checked as a whole, written stably.

```yaml
environments:
  - meta: {name, scope, projectName, departmentName, clusterName, description, ...}
    spec: {...}
prune:
  - {scope: project, projectName: team-a}
```
Placement is by name so that a file moves between tenants; ids are accepted too.
"""

import unicodedata
from dataclasses import dataclass, field

import yaml

from envadmin.contract.choices import DIST_FRAMEWORKS, INT32_MAX, NAME_MAX, SUPPORTED_TYPE_KEYS
from envadmin.contract.inputs import InputError, load_yaml

from .schema import spec_problems

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ENTRIES = 5000
ASSET_SCOPES = ("tenant", "cluster", "department", "project")
SCOPE_ORDER = {scope: index for index, scope in enumerate(ASSET_SCOPES)}
# The placement keys each scope takes, by name or by id; the narrowest one is needed.
PLACEMENT_NAMES = ("clusterName", "departmentName", "projectName")
PLACEMENT_IDS = ("clusterId", "departmentId", "projectId")
NEEDED = {
    "cluster": ("clusterName", "clusterId"),
    "department": ("departmentName", "departmentId"),
    "project": ("projectName", "projectId"),
}
META_KEYS = frozenset(
    {"name", "scope", "description", "workloadSupportedTypes", "autoDelete", "private"}
    | set(PLACEMENT_NAMES)
    | set(PLACEMENT_IDS)
)


class FileError(ValueError):
    """A file refused as a whole: every problem, each naming its entry."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def name_key(name: str) -> str:
    """A name as the server compares names: NFC, then case folded."""
    return unicodedata.normalize("NFC", name).casefold()


@dataclass
class Entry:
    index: int
    meta: dict
    spec: dict

    @property
    def label(self) -> str:
        return f"environments[{self.index}] ({self.meta.get('name')})"


@dataclass
class EnvironmentsFile:
    entries: list[Entry] = field(default_factory=list)
    prune: list[dict] = field(default_factory=list)


def read(text: str) -> EnvironmentsFile:
    """The file, or FileError with every problem found."""
    try:
        data = load_yaml(text, max_bytes=MAX_FILE_BYTES)
    except InputError as error:
        raise FileError([f"The file was refused: {error}"]) from None
    if not isinstance(data, dict):
        raise FileError(["The file must be a mapping with 'environments' (and 'prune')."])
    problems = [f"{key}: not a key of an environments file." for key in data.keys() - {
        "environments", "prune"}]  # fmt: skip
    entries = data.get("environments") or []
    prune = data.get("prune") or []
    if not isinstance(entries, list):
        raise FileError(problems + ["environments: must be a list."])
    if not isinstance(prune, list):
        raise FileError(problems + ["prune: must be a list."])
    if len(entries) > MAX_ENTRIES:
        raise FileError(problems + [f"environments: at most {MAX_ENTRIES} entries."])
    result = EnvironmentsFile()
    seen: dict[tuple, str] = {}
    for index, item in enumerate(entries):
        entry, entry_problems = _entry(index, item)
        problems += entry_problems
        if entry is not None and not entry_problems:
            identity = (placement_as_written(entry.meta), name_key(entry.meta["name"]))
            if identity in seen:
                problems.append(f"{entry.label}: the same environment as {seen[identity]}.")
            seen.setdefault(identity, entry.label)
            result.entries.append(entry)
    for index, item in enumerate(prune):
        where = f"prune[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: must be a mapping like {{scope: project, projectName: a}}.")
            continue
        problems += [f"{where}: {p}" for p in _placement_problems(item, {"scope"})]
        result.prune.append(item)
    if problems:
        raise FileError(problems)
    return result


def _entry(index: int, item) -> tuple[Entry | None, list[str]]:
    where = f"environments[{index}]"
    if not isinstance(item, dict):
        return None, [f"{where}: must be a mapping with meta and spec."]
    meta, spec = item.get("meta"), item.get("spec")
    if isinstance(meta, dict) and isinstance(meta.get("name"), str):
        where += f" ({meta['name']})"
    problems = [f"{where}.{key}: not a key of an entry (meta, spec)." for key in sorted(
        item.keys() - {"meta", "spec"})]  # fmt: skip
    if not isinstance(meta, dict):
        return None, problems + [f"{where}: meta must be a mapping."]
    if spec is None:
        spec = {}
    problems += [f"{where}: meta.{p}" for p in _meta_problems(meta)]
    problems += [f"{where}: {p}" for p in spec_problems(spec)]
    return Entry(index, meta, spec), problems


def _meta_problems(meta: dict) -> list[str]:
    problems = [f"{key}: not a meta field an environments file takes." for key in sorted(
        meta.keys() - META_KEYS)]  # fmt: skip
    name = meta.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append("name: required, a non-empty string.")
    elif len(name) > NAME_MAX:
        problems.append(f"name: at most {NAME_MAX} characters.")
    description = meta.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > 250):
        problems.append("description: must be a string of at most 250 characters.")
    for flag in ("autoDelete", "private"):
        if flag in meta and not isinstance(meta[flag], bool):
            problems.append(f"{flag}: must be true or false.")
    problems += _types_problems(meta.get("workloadSupportedTypes"))
    return problems + _placement_problems(meta, META_KEYS)


def _types_problems(types) -> list[str]:
    if types is None:
        return []
    if not isinstance(types, dict):
        return ["workloadSupportedTypes: must be a mapping."]
    problems = []
    for key, value in types.items():
        if key == "distFramework":
            if value is not None and value not in DIST_FRAMEWORKS:
                problems.append(f"workloadSupportedTypes.distFramework: one of {DIST_FRAMEWORKS}.")
        elif key not in SUPPORTED_TYPE_KEYS:
            problems.append(f"workloadSupportedTypes.{key}: not a workload type.")
        elif value is not None and not isinstance(value, bool):
            problems.append(f"workloadSupportedTypes.{key}: must be true or false.")
    return problems


def _placement_problems(where: dict, allowed: set | frozenset) -> list[str]:
    """Problems of a placement ({scope, <node>Name | <node>Id, ...}) in meta or in prune."""
    problems = []
    if allowed is not META_KEYS:
        extra = where.keys() - {"scope", *PLACEMENT_NAMES, *PLACEMENT_IDS}
        problems += [f"{key}: not a placement key." for key in sorted(extra)]
    scope = where.get("scope")
    if scope not in ASSET_SCOPES:
        return problems + [f"scope: must be one of {', '.join(ASSET_SCOPES)}."]
    for key in PLACEMENT_NAMES + ("departmentId", "clusterId"):
        if key in where and (not isinstance(where[key], str) or not where[key]):
            problems.append(f"{key}: must be a non-empty string.")
    project_id = where.get("projectId")
    if project_id is not None and (
        isinstance(project_id, bool) or not isinstance(project_id, int)
        or not 0 <= project_id <= INT32_MAX
    ):  # fmt: skip
        problems.append("projectId: must be a project id (an integer).")
    if scope in NEEDED and not any(where.get(key) is not None for key in NEEDED[scope]):
        problems.append(f"{' or '.join(NEEDED[scope])}: required for scope '{scope}'.")
    return problems


def placement_as_written(meta: dict) -> tuple:
    return (meta.get("scope"),) + tuple(
        str(meta.get(key)) for key in PLACEMENT_NAMES + PLACEMENT_IDS
    )


# --- writing -----------------------------------------------------------------------------------


def write(entries: list[dict]) -> str:
    """YAML of {meta, spec, ids} entries (see engine.exported): sorted keys, ordered by
    placement then name, each entry's ids as a comment above it."""
    ordered = sorted(entries, key=lambda e: sort_key(e["meta"]))
    lines = ["# envadmin environments file: `envadmin plan FILE`, `envadmin apply FILE`."]
    if not ordered:
        return "\n".join(lines + ["environments: []", ""])
    lines.append("environments:")
    for entry in ordered:
        ids = ", ".join(f"{k}: {v}" for k, v in entry.get("ids", {}).items())
        lines.append(f"# {ids}")
        body = {"meta": entry["meta"], "spec": entry["spec"]}
        lines.append(
            yaml.safe_dump([body], sort_keys=True, allow_unicode=True, width=100).rstrip("\n")
        )
    return "\n".join(lines) + "\n"


def sort_key(meta: dict) -> tuple:
    return (
        SCOPE_ORDER.get(meta.get("scope"), 9),
        *(str(meta.get(key) or "") for key in ("clusterName", "departmentName", "projectName")),
        name_key(str(meta.get("name") or "")),
    )
