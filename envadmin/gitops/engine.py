"""Environments as code: identity, diff, plan and apply, over any Target.

One engine for the command line (an HTTP target speaking Run:ai's API) and the web admin (a
target over envadmin's backend with the signed-in user's caller): whatever one can do, the
other does the same way. An environment's identity is its placement (scope and node) and its
name as the server compares names (NFC, case folded).
"""

from collections.abc import Callable
from typing import Protocol

from envadmin.contract import diff

from .files import NEEDED, PLACEMENT_IDS, Entry, EnvironmentsFile, FileError, name_key, sort_key

PLAN_FORMAT = "envadmin-plan/1"
# Run:ai's preinstalled environments: read-only, never exported by default, never pruned.
BUILTIN_CREATORS = frozenset({"system@run.ai", "system"})
PREFERRED_ID = {"cluster": "clusterId", "department": "departmentId", "project": "projectId"}


class Refused(Exception):
    """A target refused one call: its HTTP status and message."""

    def __init__(self, status: int, message: str):
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message


class Target(Protocol):
    def environments(self, params: dict | None = None) -> list[dict]: ...
    def clusters(self) -> list[dict]: ...
    def departments(self) -> list[dict]: ...
    def projects(self) -> list[dict]: ...
    def get(self, asset_id: str) -> dict: ...
    def create(self, document: dict) -> dict: ...
    def update(self, asset_id: str, document: dict, if_match: int | None) -> dict: ...
    def delete(self, asset_id: str, if_match: int | None) -> None: ...


def quiet(message: str) -> None:
    """Progress that goes nowhere (the command line passes one that writes to stderr)."""


def is_builtin(document: dict) -> bool:
    meta = document.get("meta") or {}
    return meta.get("scope") == "system" or meta.get("createdBy") in BUILTIN_CREATORS


# --- the org tree by name and by id ----------------------------------------------------------


class Org:
    """Clusters, departments and projects of a target, to turn names into ids and back."""

    def __init__(self, clusters: list[dict], departments: list[dict], projects: list[dict]):
        self.clusters = {str(c["uuid"]).lower(): c for c in clusters if c.get("uuid")}
        self.departments = {str(d["id"]): d for d in departments if d.get("id") is not None}
        self.projects = {str(p["id"]): p for p in projects if p.get("id") is not None}

    @classmethod
    def of(cls, target: Target) -> "Org":
        return cls(target.clusters(), target.departments(), target.projects())

    def cluster_name(self, uuid) -> str | None:
        return (self.clusters.get(str(uuid).lower()) or {}).get("name")

    def department_name(self, department_id) -> str | None:
        return (self.departments.get(str(department_id)) or {}).get("name")

    def names(self, meta: dict) -> dict:
        """The names of an environment's placement, as a file writes them."""
        scope, names = meta.get("scope"), {}
        if scope in ("cluster", "department", "project") and meta.get("clusterId"):
            names["clusterName"] = self.cluster_name(meta["clusterId"])
        if scope in ("department", "project") and meta.get("departmentId") is not None:
            names["departmentName"] = self.department_name(meta["departmentId"])
        if scope == "project":
            project = self.projects.get(str(meta.get("projectId"))) or {}
            names["projectName"] = project.get("name") or meta.get("projectName")
        return {key: value for key, value in names.items() if value}

    def resolve(self, where: dict) -> tuple[str, str]:
        """(scope, node id) of a placement written by name or id; ValueError saying why not."""
        scope = where["scope"]
        if scope == "tenant":
            return scope, ""
        kind = scope
        id_key, name_key_ = PREFERRED_ID[kind], NEEDED[kind][0]
        nodes = {"cluster": self.clusters, "department": self.departments,
                 "project": self.projects}[kind]  # fmt: skip
        if where.get(id_key) is not None:
            node_id = str(where[id_key]).lower() if kind == "cluster" else str(where[id_key])
            if node_id not in nodes:
                raise ValueError(f"meta.{id_key}: no {kind} {where[id_key]} on this target.")
            return scope, node_id
        wanted = where[name_key_]
        found = [key for key, node in nodes.items() if node.get("name") == wanted]
        found = [key for key in found if self._within(kind, nodes[key], where)]
        if not found:
            raise ValueError(f"meta.{name_key_}: no {kind} named {wanted!r} on this target.")
        if len(found) > 1:
            raise ValueError(
                f"meta.{name_key_}: {len(found)} {kind}s are named {wanted!r}; "
                "name its department or cluster too, or give its id."
            )
        return scope, found[0]

    def _within(self, kind: str, node: dict, where: dict) -> bool:
        """Whether a department or project lies under the department and cluster `where` names."""
        cluster = where.get("clusterName")
        if kind == "cluster":
            return True
        if cluster and self.cluster_name(node.get("clusterId")) != cluster:
            return False
        department = where.get("departmentName")
        if kind == "project" and department:
            return self.department_name(node.get("parentId")) == department
        return True

    def label(self, placement: tuple[str, str]) -> str:
        scope, node_id = placement
        if scope == "cluster":
            return f"cluster {self.cluster_name(node_id) or node_id}"
        if scope == "department":
            return f"department {self.department_name(node_id) or node_id}"
        if scope == "project":
            return f"project {(self.projects.get(node_id) or {}).get('name') or node_id}"
        return scope


def placement_of(document: dict) -> tuple[str, str]:
    meta = document.get("meta") or {}
    scope = meta.get("scope")
    id_key = PREFERRED_ID.get(scope)
    if not id_key:
        return scope, ""
    node_id = str(meta.get(id_key))
    return scope, node_id.lower() if scope == "cluster" else node_id


# --- export ------------------------------------------------------------------------------------


def exported(documents: list[dict], org: Org, *, include_builtin: bool = False) -> list[dict]:
    """Entries ({meta, spec, ids}) as a file holds them: placement by name, server-kept fields
    left out, ids kept aside for the comment above each entry."""
    entries = []
    for document in documents:
        if is_builtin(document) and not include_builtin:
            continue
        source = document.get("meta") or {}
        meta = {"name": source.get("name"), "scope": source.get("scope"), **org.names(source)}
        if source.get("description"):
            meta["description"] = source["description"]
        types = {k: v for k, v in (source.get("workloadSupportedTypes") or {}).items() if v}
        if types:
            meta["workloadSupportedTypes"] = types
        for flag in ("autoDelete", "private"):
            if source.get(flag):
                meta[flag] = True
        ids = {"id": source.get("id")}
        ids.update({k: source[k] for k in PLACEMENT_IDS if k in source})
        ids["updateCount"] = source.get("updateCount")
        entries.append({"meta": meta, "spec": document.get("spec") or {}, "ids": ids})
    return sorted(entries, key=lambda e: sort_key(e["meta"]))


# --- plan --------------------------------------------------------------------------------------


def wanted_document(entry: Entry, placement: tuple[str, str]) -> dict:
    """The EnvironmentCreationRequest an entry stands for on this target."""
    scope, node_id = placement
    meta = {"name": entry.meta["name"], "scope": scope}
    if scope == "project":
        meta["projectId"] = int(node_id)
    elif scope in PREFERRED_ID:
        meta[PREFERRED_ID[scope]] = node_id
    for key in ("description", "workloadSupportedTypes", "autoDelete", "private"):
        if entry.meta.get(key) is not None:
            meta[key] = entry.meta[key]
    return {"meta": meta, "spec": entry.spec}


def update_request(document: dict) -> dict:
    return diff.editable(document)


def comparable(document: dict) -> dict:
    """What an update can change, with an empty description read as none (a file leaves it
    out, a server may keep "")."""
    editable = diff.editable(document)
    if not editable["meta"].get("description"):
        editable["meta"].pop("description", None)
    return editable


def _types_differ(wanted: dict, current: dict) -> bool:
    """Whether a file's workloadSupportedTypes (when it gives them) differ from the server's;
    unset and false are the same."""
    if wanted.get("workloadSupportedTypes") is None:
        return False

    def types(meta):
        return {k: v for k, v in (meta.get("workloadSupportedTypes") or {}).items() if v}

    return types(wanted) != types(current)


def make_plan(
    target: Target, file: EnvironmentsFile, *, prune: bool = False, progress: Callable = quiet
) -> dict:
    """{"format", "items": [...]}; FileError (nothing sent yet) when an entry's placement cannot
    be resolved on this target or two entries turn out to be one environment."""
    progress("Reading the org tree…")
    org = Org.of(target)
    problems, resolved = [], []
    for entry in file.entries:
        try:
            resolved.append((entry, org.resolve(entry.meta)))
        except ValueError as error:
            problems.append(f"{entry.label}: {error}")
    prune_places = []
    for index, where in enumerate(file.prune):
        try:
            prune_places.append(org.resolve(where))
        except ValueError as error:
            problems.append(f"prune[{index}]: {str(error).removeprefix('meta.')}")
    seen = {}
    for entry, placement in resolved:
        identity = (placement, name_key(entry.meta["name"]))
        if identity in seen:
            problems.append(f"{entry.label}: the same environment as {seen[identity]}.")
        seen.setdefault(identity, entry.label)
    if problems:
        raise FileError(problems)

    progress("Reading the environments…")
    current = {}
    for document in target.environments():
        key = (placement_of(document), name_key((document.get("meta") or {}).get("name") or ""))
        current[key] = document
    items = []
    for entry, placement in resolved:
        wanted = wanted_document(entry, placement)
        found = current.get((placement, name_key(entry.meta["name"])))
        item = {"entry": entry.label, "name": entry.meta["name"], "placement": org.label(placement)}
        if found is None:
            items.append({**item, "action": "create", "document": wanted})
            continue
        meta = found["meta"]
        changes = diff.changes(comparable(found), comparable(wanted))
        item.update(id=meta.get("id"), updateCount=meta.get("updateCount"))
        if is_builtin(found) and changes:
            items.append({**item, "action": "refused", "reason": "built in (read-only)"})
        elif _types_differ(entry.meta, meta):
            reason = "workloadSupportedTypes is fixed at creation: make a copy under a new name"
            items.append({**item, "action": "refused", "reason": reason})
        elif changes:
            items.append(
                {**item, "action": "update", "changes": changes, "document": update_request(wanted)}
            )
        else:
            items.append({**item, "action": "no change"})
    if prune:
        items += _deletions(current, set(seen), set(prune_places), org)
    return {"format": PLAN_FORMAT, "items": items}


def _deletions(current: dict, kept: set, places: set, org: Org) -> list[dict]:
    """Environments in the prune placements that the file does not name; never a built-in."""
    items = []
    for (placement, key), document in sorted(current.items(), key=lambda pair: pair[0]):
        if placement not in places or (placement, key) in kept or is_builtin(document):
            continue
        meta = document["meta"]
        items.append({
            "entry": None, "name": meta.get("name"), "placement": org.label(placement),
            "action": "delete", "id": meta.get("id"), "updateCount": meta.get("updateCount"),
        })  # fmt: skip
    return items


def counts(plan: dict) -> dict:
    totals = {"create": 0, "update": 0, "delete": 0, "no change": 0, "refused": 0}
    for item in plan["items"]:
        totals[item["action"]] += 1
    return totals


def has_changes(plan: dict) -> bool:
    return any(item["action"] in ("create", "update", "delete") for item in plan["items"])


def is_plan(data) -> bool:
    return isinstance(data, dict) and data.get("format") == PLAN_FORMAT


# --- apply -------------------------------------------------------------------------------------


def apply_plan(target: Target, plan: dict, *, progress: Callable = quiet) -> list[dict]:
    """Each change applied on its own: [{..item, "result": created | updated | deleted |
    conflict | refused, "message"?}]. An environment whose updateCount moved since the plan
    is not touched: a conflict."""
    changes = [item for item in plan["items"] if item["action"] in ("create", "update", "delete")]
    results = []
    for number, item in enumerate(changes, 1):
        progress(f"[{number}/{len(changes)}] {item['action']} {item['placement']} / {item['name']}")
        results.append({**item, **_apply_one(target, item)})
    return results


def _apply_one(target: Target, item: dict) -> dict:
    try:
        if item["action"] == "create":
            created = target.create(item["document"])
            return {"result": "created", "id": (created.get("meta") or {}).get("id")}
        count = item.get("updateCount")
        try:
            now = target.get(item["id"])
        except Refused as error:
            if error.status == 404:
                return {"result": "conflict", "message": "deleted since the plan"}
            raise
        moved = (now.get("meta") or {}).get("updateCount")
        if count is not None and moved != count:
            return {
                "result": "conflict",
                "message": f"changed since the plan (updateCount {count} → {moved}); not touched",
            }
        if item["action"] == "update":
            target.update(item["id"], item["document"], count)
            return {"result": "updated"}
        target.delete(item["id"], count)
        return {"result": "deleted"}
    except Refused as error:
        if error.status == 412:
            return {"result": "conflict", "message": error.message}
        return {"result": "refused", "message": f"{error.status} {error.message}"}


def failed(results: list[dict]) -> bool:
    return any(result["result"] in ("conflict", "refused") for result in results)
