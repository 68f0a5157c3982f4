"""The environments list as a person browses it: rows, columns, extra filters, sort, CSV.

The backend answers Run:ai's list (placement and workload-type filters, usage, compliance);
this module adds what Run:ai's page adds on top: free text, tool type, image, creator and
compliance-state filters, sorting by any column and the row shape the table and CSV share.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils.dateparse import parse_datetime

from envadmin.contract.choices import SUPPORTED_TYPE_KEYS, USED_BY_KEYS

from .context import OrgIndex


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    default: bool = True


COLUMNS = [
    Column("name", "Environment"),
    Column("description", "Description", default=False),
    Column("scope", "Scope"),
    Column("image", "Image"),
    Column("architecture", "Architecture", default=False),
    Column("tools", "Tools"),
    Column("workloads", "Workloads"),
    Column("workload_types", "Workload types"),
    Column("templates", "Templates", default=False),
    Column("created_by", "Created by", default=False),
    Column("created_at", "Creation time", default=False),
    Column("updated_at", "Last updated"),
    Column("cluster", "Cluster", default=False),
    Column("compliance", "Compliance"),
]
COLUMN_KEYS = [c.key for c in COLUMNS]
DEFAULT_COLUMNS = [c.key for c in COLUMNS if c.default]
COMPLIANCE_STATES = {
    "compliant": "Compliant",
    "not-compliant": "Not compliant",
    "imposed": "Imposed",
}
PAGE_SIZES = [10, 25, 50, 100]


def _when(value) -> datetime | None:
    return parse_datetime(value) if value else None


def row_of(document: dict, org: OrgIndex) -> dict:
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
        "scope_path": org.scope_path(meta),
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
        "cluster": org.cluster_name(meta),
        "compliance": document.get("compliance"),
    }


def compliance_state(row) -> str:
    compliance = row["compliance"]
    if compliance is None:
        return ""
    if compliance.get("imposed"):
        return "imposed"
    return "compliant" if compliance.get("compliance") else "not-compliant"


def matches(row: dict, filters: dict) -> bool:
    """The filters the backend's list does not know; each a case-insensitive contains."""
    text = (filters.get("q") or "").strip().lower()
    if text:
        haystack = " ".join(
            [row["name"], row["description"], row["image"], row["scope_path"], row["created_by"]]
            + [t["tool"] or "" for t in row["tools"]]
        ).lower()
        if text not in haystack:
            return False
    if filters.get("tool") and filters["tool"] not in {t["tool"] for t in row["tools"]}:
        return False
    if filters.get("image") and filters["image"].lower() not in row["image"].lower():
        return False
    if filters.get("created_by") and filters["created_by"].lower() not in row["created_by"].lower():
        return False
    state = filters.get("compliance")
    return not state or compliance_state(row) == state


def _sort_value(row: dict, key: str):
    value = row.get(key)
    if key in ("workloads", "templates", "tools", "workload_types"):
        return len(value or [])
    if key == "scope":
        return row["scope_path"].lower()
    if key == "compliance":
        return {"imposed": 0, "compliant": 1, "not-compliant": 2, "": 3}[compliance_state(row)]
    if isinstance(value, datetime):
        return value.timestamp()
    return (value or "").lower() if isinstance(value, str) else value


def sort_rows(rows: list[dict], sort: str) -> list[dict]:
    key = sort.lstrip("-")
    if key not in COLUMN_KEYS:
        key, sort = "name", "name"
    # Secondary key on name keeps the order stable and predictable across pages.
    rows = sorted(rows, key=lambda r: r["name"].lower())
    return sorted(rows, key=lambda r: _sort_value(r, key), reverse=sort.startswith("-"))


def csv_table(rows: list[dict], columns: list[str]) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the list's CSV export: the chosen columns, as the page shows them."""
    labels = {c.key: c.label for c in COLUMNS}
    header = ["Id"] + [labels[c] for c in columns]
    return header, ([row["id"]] + [_csv_cell(row, c) for c in columns] for row in rows)


def _csv_cell(row, column) -> str:
    value = row.get(column)
    if column == "scope":
        return row["scope_path"]
    if column == "tools":
        return "; ".join(f"{t['tool']} ({t['connection']})" for t in value)
    if column == "workloads":
        return "; ".join(f"{w['name']} ({w['type']}, {w.get('status', '')})" for w in value)
    if column == "templates":
        return "; ".join(t["name"] for t in value)
    if column == "workload_types":
        return ", ".join(value)
    if column == "compliance":
        state = compliance_state(row)
        reasons = len((row["compliance"] or {}).get("reason") or [])
        return f"{COMPLIANCE_STATES.get(state, '')}" + (f" ({reasons})" if reasons else "")
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else str(value)
