"""Audit events for people: change lines for the pages, and the rows of the CSV export."""

from envadmin.contract import diff

from .models import Action, AuditEvent

CSV_COLUMNS = [
    ("Time", "at"), ("Actor", "actor"), ("Actor type", "actor_type"), ("Origin", "origin"),
    ("Client id", "client_id"), ("Address", "address"), ("Action", "action"),
    ("Environment id", "asset_id"), ("Environment", "asset_name"), ("Scope", "scope"),
    ("Scope key", "scope_key"), ("Scope path", "scope_path"), ("Update count", "update_count"),
]  # fmt: skip


def with_change_lines(events) -> list[AuditEvent]:
    """The events, each with `lines`: (field, before, after) as the pages show them."""
    events = list(events)
    for event in events:
        event.lines = [
            (change["field"], diff.show(change["before"]), diff.show(change["after"]))
            for change in event.changes or []
        ]
    return events


def deleted_among(asset_ids) -> set[str]:
    """Which of these environments have been deleted (so a page does not link to them)."""
    return set(
        AuditEvent.objects.filter(action=Action.DELETE, asset_id__in=set(asset_ids)).values_list(
            "asset_id", flat=True
        )
    )


CSV_HEADER = [label for label, _ in CSV_COLUMNS] + ["Changes"]


def csv_rows(events):
    """The CSV export's rows (under CSV_HEADER), one an event."""
    for event in events:
        changes = "; ".join(diff.describe(change) for change in event.changes or [])
        yield [getattr(event, name) for _, name in CSV_COLUMNS] + [changes]
