"""The hygiene report: environments never used, unused for a while, sharing one spec, or
complying for no project that can see them. Over what the caller may see, through Run:ai's
own list queries only, so it reads the same in local and proxy mode.

Usage comes from the documents' usage info: `usedBy` (current workloads and templates) and
`usageTimes.lastUsedByWorkload`, which Run:ai answers per project and workload type (with
complyToProject and complyToWorkloadType). In proxy mode the report therefore lists once per
project the caller can see and per workload type some visible environment supports: the same
pass gives each environment's compliance there. The local backend answers the same from its
store in a fixed number of queries (backend.hygiene_verdicts).
"""

import json
from collections import defaultdict
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from envadmin.accounts.access import Caller
from envadmin.compliance.states import compliance_state, supports
from envadmin.contract.choices import USED_BY_KEYS, WORKLOAD_TYPES
from envadmin.contract.errors import InvalidRequest

from .service import lifecycle_of

UNUSED_DAYS_RANGE = (1, 3650)
COMPLYING = ("compliant", "imposed")


def hygiene_report(backend, caller: Caller, names, *, unused_days: int, now=None) -> dict:
    """{neverUsed, unused, duplicates, nonCompliantEverywhere}; `names` tells placement paths
    and the projects the caller can see (an OrgIndex). Each entry is {id, name, path, state}
    (state: its lifecycle); an unused one adds lastUsed; duplicates are groups of entries."""
    documents = backend.list_environments(caller, {"usageInfo": "true"})["entries"]
    by_id = {str(d["meta"]["id"]): d for d in documents}
    last_used, judged, complying = _usage_and_compliance(backend, caller, names, by_id)
    states = lifecycle_of(list(by_id))

    def entry(asset_id: str) -> dict:
        meta = by_id[asset_id]["meta"]
        path = names.scope_path(meta)
        return {
            "id": asset_id,
            "name": meta["name"],
            "path": path,
            "state": states[asset_id]["state"],
        }

    def ordered(ids) -> list[dict]:
        return sorted((entry(i) for i in ids), key=lambda e: (e["path"].lower(), e["name"].lower()))

    cutoff = (now or timezone.now()) - timedelta(days=unused_days)
    never = [i for i, d in by_id.items() if i not in last_used and not _in_use(d)]
    unused = [i for i, when in last_used.items() if when < cutoff]
    unused_entries = [{**e, "lastUsed": _written(last_used[e["id"]])} for e in ordered(unused)]
    duplicates = sorted((ordered(group) for group in _same_specs(by_id)), key=_group_order)
    return {
        "neverUsed": ordered(never),
        "unused": unused_entries,
        "duplicates": duplicates,
        "nonCompliantEverywhere": ordered(judged - complying),
    }


def _usage_and_compliance(backend, caller, names, by_id) -> tuple[dict, set, set]:
    """(last use per id, ids judged for some project and type they support, ids complying
    for at least one of those)."""
    found = backend.hygiene_verdicts(caller, sorted(names.projects), by_id)
    if found is None:
        return _per_project(backend, caller, names, by_id)
    written, judged, complying = found
    last_used = {asset_id: _time(when) for asset_id, when in written.items()}
    return {k: when for k, when in last_used.items() if when}, judged, complying


def _per_project(backend, caller, names, by_id) -> tuple[dict, set, set]:
    """_usage_and_compliance from a list per project and workload type (Run:ai's way): a type
    no visible environment supports is not asked, its lists could only be empty."""
    last_used: dict[str, datetime] = {}
    judged, complying = set(), set()
    kinds = [k for k in WORKLOAD_TYPES if any(supports(d["meta"], k) for d in by_id.values())]
    for project_id in sorted(names.projects):
        for kind in kinds:
            params = {
                "projectId": str(project_id), f"is{kind}": "true",
                "complyToProject": str(project_id), "complyToWorkloadType": kind,
            }  # fmt: skip
            for document in backend.list_environments(caller, params)["entries"]:
                asset_id = str(document["meta"]["id"])
                if asset_id not in by_id:
                    continue
                state = compliance_state(document.get("compliance"), document["meta"], kind)
                if state == "not-supported" or not state:
                    continue
                judged.add(asset_id)
                if state in COMPLYING:
                    complying.add(asset_id)
                when = _time((document.get("usageTimes") or {}).get("lastUsedByWorkload"))
                if when and (asset_id not in last_used or when > last_used[asset_id]):
                    last_used[asset_id] = when
    return last_used, judged, complying


def _group_order(group: list[dict]) -> tuple[str, str]:
    return group[0]["path"].lower(), group[0]["name"].lower()


def _in_use(document: dict) -> bool:
    used = document.get("usedBy") or {}
    return any(used.get(key) for key in (*USED_BY_KEYS.values(), "templates"))


def _same_specs(by_id: dict) -> list[list[str]]:
    groups = defaultdict(list)
    for asset_id, document in by_id.items():
        groups[json.dumps(document.get("spec") or {}, sort_keys=True)].append(asset_id)
    return [ids for ids in groups.values() if len(ids) > 1]


def _time(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def _written(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def unused_days(value) -> int:
    """The unusedDays parameter: 90 when absent, else a whole number in UNUSED_DAYS_RANGE."""
    if value in (None, ""):
        return 90
    low, high = UNUSED_DAYS_RANGE
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 4 or not low <= int(text) <= high:
        raise InvalidRequest.from_field_errors(
            {"unusedDays": [f"Must be a whole number of days from {low} to {high}."]}
        )
    return int(text)
