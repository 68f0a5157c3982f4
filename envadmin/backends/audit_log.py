"""GET /api/v1/audit/log (and /log/file) answered from envadmin's audit trail, in Run:ai's
AuditLog record shape (audit.openapi.json). Only a System administrator on the tenant may read
it, as in Run:ai.

Each environment change is one record: entity_type "environment", its method and status as the
API answers them. "observed" events (versions envadmin read, made by nobody it knows) are not
actions anyone took, so they are left out.
"""

import csv
import io
import ipaddress
import json
import re
import uuid
from datetime import UTC

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from envadmin.accounts.access import Caller
from envadmin.accounts.models import Role
from envadmin.audit.models import Action, ActorType, AuditEvent
from envadmin.contract.errors import Forbidden, InvalidRequest
from envadmin.inventory.orgquery import COMPARE, MATCH

MAX_SAMPLES = 1000
# Run:ai's AuditLogFilter pattern; filterBy is one comma-separated list (explode: false).
FILTER = re.compile(
    r"(timestamp|subject|subject_type|source_ip|action|result|url|entity_type|entity_name|"
    r"cluster_name)(==|!=|<=|>=|=@|!@|=\^|=\$)(.+)",
    re.DOTALL,
)
SORT_FIELDS = (
    "timestamp", "subject", "subject_type", "source_ip", "action", "http_method", "result", "url",
    "entity_type", "entity_name", "entity_id",
)  # fmt: skip
# What the API answered for each recorded action.
HTTP = {
    Action.CREATE: ("create", "POST", 202),
    Action.UPDATE: ("update", "PUT", 202),
    Action.RESTORE: ("update", "PUT", 202),
    Action.DELETE: ("delete", "DELETE", 202),
}
FILE_TYPES = ("CSV", "JSON")
CSV_COLUMNS = (
    "id", "timestamp", "tenant_id", "subject", "subject_type", "source_ip", "action",
    "http_method", "entity_type", "entity_name", "entity_id", "result", "http_status_code",
    "cluster_name", "cluster_id",
)  # fmt: skip


def _invalid(name: str, message: str) -> InvalidRequest:
    return InvalidRequest(f"{name}: {message}", field_errors={name: [message]})


def may_read(caller: Caller) -> None:
    if (Role.SYSTEM_ADMINISTRATOR, "tenant") not in caller.rules:
        raise Forbidden("Only a System administrator on the tenant may read the audit log.")


def _moment(params, name: str):
    raw = params.get(name)
    if not raw:
        raise _invalid(name, "required: an ISO 8601 date-time.")
    try:
        moment = parse_datetime(raw) if len(raw) <= 64 else None
    except ValueError:  # well formed but no such moment (month 13)
        moment = None
    if moment is None:
        raise _invalid(name, f"'{raw[:64]}' is not an ISO 8601 date-time.")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)


def _integer(params, name: str, default: int, high: int) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    if not re.fullmatch(r"\d{1,10}", raw) or int(raw) > high:
        raise _invalid(name, f"must be an integer from 0 to {high}.")
    return int(raw)


def _filters(params) -> list:
    values = params.getlist("filterBy") if hasattr(params, "getlist") else [params.get("filterBy")]
    expressions = [part for value in values if value for part in value.split(",")]
    if len(expressions) > 20:
        raise _invalid("filterBy", "at most 20 filters.")
    predicates = []
    for expression in expressions:
        match = FILTER.fullmatch(expression)
        if not match:
            raise _invalid(
                "filterBy", f"'{expression[:100]}' is not field<operator>value of Run:ai's fields."
            )
        field, op, wanted = match.groups()
        if field == "timestamp":
            if op not in COMPARE:
                raise _invalid("filterBy", "timestamp takes only ==, !=, <= and >=.")
            moment = _moment({"filterBy": wanted}, "filterBy")
            predicates.append(
                lambda r, op=op, m=moment: COMPARE[op](parse_datetime(r["timestamp"]), m)
            )
        elif op in COMPARE:
            predicates.append(lambda r, f=field, op=op, w=wanted: COMPARE[op](str(r.get(f, "")), w))
        else:
            lowered = wanted.lower()
            predicates.append(
                lambda r, f=field, op=op, w=lowered: MATCH[op](str(r.get(f, "")).lower(), w)
            )
    return predicates


def query(params, *, paged: bool = True) -> dict:
    """The checked parameters: start, end, offset, numberOfSamples, sortBy, sortOrder, filters."""
    start, end = _moment(params, "start"), _moment(params, "end")
    if start > end:
        raise _invalid("start", "must not be after end.")
    sort_by = params.get("sortBy") or "timestamp"
    if sort_by not in SORT_FIELDS:
        raise _invalid("sortBy", f"must be one of {', '.join(SORT_FIELDS)}.")
    order = params.get("sortOrder") or "asc"
    if order not in ("asc", "desc"):
        raise _invalid("sortOrder", "must be asc or desc.")
    return {
        "start": start,
        "end": end,
        "offset": _integer(params, "offset", 0, 2**31 - 1) if paged else 0,
        "samples": _integer(params, "numberOfSamples", 20, MAX_SAMPLES),
        "sort_by": sort_by,
        "order": order,
        "filters": _filters(params),
    }


def record_of(event: AuditEvent, tree) -> dict:
    action, method, status = HTTP[event.action]
    record = {
        "id": str(uuid.UUID(int=event.pk)),
        "timestamp": event.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "tenant_id": str(settings.ENVADMIN_TENANT_ID),
        "subject": event.actor,
        "subject_type": "App" if event.actor_type == ActorType.APPLICATION else "User",
        "action": action,
        "http_method": method,
        "entity_type": "environment",
        "entity_name": event.asset_name,
        "entity_id": event.asset_id,
        "result": "Succeeded",
        "http_status_code": status,
        "metadata": {"origin": event.origin, "scope": event.scope_path},
    }
    try:
        if isinstance(ipaddress.ip_address(event.address), ipaddress.IPv4Address):
            record["source_ip"] = event.address
    except ValueError:
        pass
    cluster = tree.cluster_of(event.scope_key) if event.scope_key in tree else None
    if cluster:
        record["cluster_id"] = cluster
        record["cluster_name"] = tree.nodes[f"cluster:{cluster}"].name
    return record


def answer(events, tree, checked: dict) -> dict:
    """{total, next?, audit_logs, logs}: the contract requires `logs` while it describes
    `audit_logs` (what runapy reads), so both carry the same records."""
    events = events.filter(at__gte=checked["start"], at__lte=checked["end"]).exclude(
        action=Action.OBSERVED
    )
    records = [record_of(e, tree) for e in events.order_by("at", "id")]
    records = [r for r in records if all(holds(r) for holds in checked["filters"])]
    records.sort(
        key=lambda r: str(r.get(checked["sort_by"], "")), reverse=checked["order"] == "desc"
    )
    offset, samples = checked["offset"], checked["samples"]
    window = records[offset : offset + samples]
    result = {"total": len(records), "audit_logs": window, "logs": window}
    if offset + samples < len(records):
        result["next"] = offset + samples
    return result


def as_file(records: list[dict], file_type: str) -> tuple[bytes, str]:
    """(content, file name) of the records as Run:ai's download gives them."""
    if file_type == "JSON":
        return json.dumps(records, indent=1).encode(), "audit-log.json"
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue().encode(), "audit-log.csv"


def file_type_of(params) -> str:
    file_type = params.get("file_type") or "CSV"
    if file_type not in FILE_TYPES:
        raise _invalid("file_type", "must be CSV or JSON.")
    return file_type
