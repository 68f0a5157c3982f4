"""The environments list's columns, page sizes and CSV: what the table shows of each row.

The rows themselves, their filters and sort are envadmin.backends.environment_rows'.
"""

from dataclasses import dataclass
from datetime import datetime

from envadmin.backends.environment_rows import compliance_state
from envadmin.compliance.states import policy_reasons
from envadmin.contract.choices import COMPLIANCE_STATES


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    default: bool = True
    # Times are read newest first: the first click on their header sorts descending.
    newest_first: bool = False

    def next_sort(self, current: str) -> str:
        """The sort a click on this column's header asks for, the list being sorted by
        `current`: its first direction, then the other one."""
        first, other = (
            (f"-{self.key}", self.key) if self.newest_first else (self.key, f"-{self.key}")
        )
        return other if current == first else first


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
    Column("created_at", "Creation time", default=False, newest_first=True),
    Column("updated_at", "Last updated", newest_first=True),
    Column("cluster", "Cluster", default=False),
    Column("compliance", "Compliance"),
    Column("lifecycle", "Lifecycle", default=False),
    # Run:ai's asset sync status: the list asks for it (statusInfo) only when it is shown.
    Column("status", "Status", default=False),
]
COLUMN_KEYS = [c.key for c in COLUMNS]
DEFAULT_COLUMNS = [c.key for c in COLUMNS if c.default]
PAGE_SIZES = [10, 25, 50, 100]


def csv_table(
    rows: list[dict], columns: list[str], reasons: bool = False
) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the list's CSV export: the chosen columns, as the page shows them,
    then with `reasons` (when reviewing as a project) why each row is not compliant."""
    labels = {c.key: c.label for c in COLUMNS}
    header = ["Id"] + [labels[c] for c in columns] + (["Reasons"] if reasons else [])
    return header, (
        [row["id"]]
        + [_csv_cell(row, c) for c in columns]
        + ([_csv_reasons(row)] if reasons else [])
        for row in rows
    )


def lifecycle_text(lifecycle: dict | None) -> str:
    """ "active", or "deprecated: <message>" as the CSV writes a lifecycle."""
    lifecycle = lifecycle or {"state": "active"}
    message = lifecycle.get("message")
    return f"{lifecycle['state']}: {message}" if message else lifecycle["state"]


def _csv_reasons(row) -> str:
    """The reasons as the compliance matrix's CSV writes them."""
    found = policy_reasons(row["compliance"], compliance_state(row))
    return " | ".join(r["details"] for r in found)


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
        reasons = len(policy_reasons(row["compliance"], state))
        return f"{COMPLIANCE_STATES.get(state, '')}" + (f" ({reasons})" if reasons else "")
    if column == "lifecycle":
        return lifecycle_text(value)
    if column == "status":
        return value["status"]
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else str(value)
