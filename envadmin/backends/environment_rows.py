"""An environment document as one flat row of the list, and the list's own filters and sort.

Run:ai's list answers placement and workload-type filters; the web admin's list adds free text,
tool type, image, creator and compliance-state filters and sorting by any column. A backend
that cannot do those itself (EnvironmentBackend.browse_environments' default) does them here,
over rows; the UI shows the same rows in its table and CSV.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from django.utils.dateparse import parse_datetime

from envadmin.compliance.states import compliance_state as judged_state
from envadmin.contract.choices import SUPPORTED_TYPE_KEYS, USED_BY_KEYS

# The row keys the list sorts by (its columns); any other sort is by name.
SORT_KEYS = (
    "name", "description", "scope", "image", "architecture", "tools", "workloads",
    "workload_types", "templates", "created_by", "created_at", "updated_at", "cluster",
    "compliance", "lifecycle", "status",
)  # fmt: skip
# The list's lifecycle filter: "" any; "current" all but archived (the web list's default).
LIFECYCLE_FILTERS = ("current", "active", "deprecated", "archived")
LIFECYCLE_ORDER = {"active": 0, "deprecated": 1, "archived": 2}


class OrgNames(Protocol):
    """The org names a row shows: Run:ai's documents carry ids, the list shows names."""

    def scope_path(self, meta: dict) -> str: ...

    def cluster_name(self, meta: dict) -> str: ...


@dataclass(frozen=True)
class RowFilters:
    """The list's own filters: each a case-insensitive "contains", except the tool type and the
    compliance state, which must be equal. Empty means "any"."""

    search: str = ""
    tool: str = ""
    image: str = ""
    created_by: str = ""
    compliance: str = ""
    lifecycle: str = ""

    def match(self, row: dict) -> bool:
        text = self.search.strip().lower()
        if text:
            haystack = " ".join(
                [
                    row["name"],
                    row["description"],
                    row["image"],
                    row["scope_path"],
                    row["created_by"],
                ]
                + [t["tool"] or "" for t in row["tools"]]
            ).lower()
            if text not in haystack:
                return False
        if self.tool and self.tool not in {t["tool"] for t in row["tools"]}:
            return False
        if self.image and self.image.lower() not in row["image"].lower():
            return False
        if self.created_by and self.created_by.lower() not in row["created_by"].lower():
            return False
        if self.lifecycle and not lifecycle_matches(self.lifecycle, row.get("lifecycle_state")):
            return False
        return not self.compliance or compliance_state(row) == self.compliance


def lifecycle_matches(wanted: str, state: str | None) -> bool:
    """Whether a row's lifecycle state (None: active) passes the lifecycle filter `wanted`."""
    state = state or "active"
    return state != "archived" if wanted == "current" else state == wanted


NO_FILTERS = RowFilters()


def _when(value) -> datetime | None:
    return parse_datetime(value) if value else None


def row_of(document: dict, names: OrgNames, workload_type: str | None = None) -> dict:
    """The row of `document`; `workload_type` is the type its compliance was judged for
    (complyToWorkloadType), which tells "n/a" from "not compliant"."""
    meta, spec = document["meta"], document.get("spec") or {}
    used = document.get("usedBy") or {}
    types = meta.get("workloadSupportedTypes") or {}
    tools = []
    for connection in spec.get("connections") or []:
        if connection.get("isExternal"):
            info = connection.get("externalToolInfo") or {}
            tools.append({"tool": info.get("toolType"), "connection": "External URL"})
        else:
            info = connection.get("internalToolInfo") or {}
            tools.append({"tool": info.get("toolType"), "connection": info.get("connectionType")})
    workloads = [
        {**w, "type": kind} for kind, key in USED_BY_KEYS.items() for w in used.get(key) or []
    ]
    return {
        "id": meta["id"],
        "name": meta["name"],
        "description": meta.get("description") or "",
        "scope": meta.get("scope"),
        "scope_path": names.scope_path(meta),
        "image": spec.get("image") or "",
        "architecture": "distributed" if types.get("distributed") else "standard",
        "tools": tools,
        "workloads": workloads,
        "workload_types": [k for k in SUPPORTED_TYPE_KEYS if types.get(k)],
        "dist_framework": types.get("distFramework") or "",
        "templates": used.get("templates") or [],
        "created_by": meta.get("createdBy", ""),
        "created_at": _when(meta.get("createdAt")),
        "updated_at": _when(meta.get("updatedAt")),
        "cluster": names.cluster_name(meta),
        "compliance": document.get("compliance"),
        "compliance_state": judged_state(document.get("compliance"), meta, workload_type),
        "judged_type": workload_type or "",
        # Run:ai's asset sync status: there only when the list asked for it (statusInfo).
        "status": _status(document.get("status")),
    }


def _status(status) -> dict:
    """{"status": text, "message": text} of an AssetClusterStatusInfo; empty texts without."""
    status = status if isinstance(status, dict) else {}
    return {key: status.get(key) if isinstance(status.get(key), str) else "" for key in
            ("status", "message")}  # fmt: skip


def compliance_state(row) -> str:
    """One of contract.choices.COMPLIANCE_STATES, or "" when the row was not judged."""
    return row["compliance_state"]


def _sort_value(row: dict, key: str):
    value = row.get(key)
    if key in ("workloads", "templates", "tools", "workload_types"):
        return len(value or [])
    if key == "scope":
        return row["scope_path"].lower()
    if key == "status":
        return value["status"].lower()
    if key == "lifecycle":
        return LIFECYCLE_ORDER.get(row.get("lifecycle_state") or "active", 0)
    if key == "compliance":
        order = {"imposed": 0, "compliant": 1, "not-compliant": 2, "not-supported": 3, "": 4}
        return order[compliance_state(row)]
    if isinstance(value, datetime):
        return value.timestamp()
    return (value or "").lower() if isinstance(value, str) else value


def sort_rows(rows: list[dict], sort: str) -> list[dict]:
    """Rows in the order of `sort`: a key of SORT_KEYS, "-" first for descending."""
    key = sort.lstrip("-")
    if key not in SORT_KEYS:
        key, sort = "name", "name"
    # Secondary key on name keeps the order stable and predictable across pages.
    rows = sorted(rows, key=lambda r: r["name"].lower())
    return sorted(rows, key=lambda r: _sort_value(r, key), reverse=sort.startswith("-"))
