"""Recording a change: one call from each backend's write, with the documents before and after.

The local backend calls it inside the transaction of the write, so a failed write records
nothing and a committed one is always recorded. The proxy backend calls it after Run:ai
acknowledged the change; there a failed recording is logged and the change still reported
as done (it happened: answering an error would invite a second, duplicate change).
"""

import logging

from envadmin.accounts.access import Caller
from envadmin.accounts.models import SubjectType
from envadmin.contract import diff

from . import revisions
from .models import Action, ActorType, AuditEvent, Origin
from .placement import readable_scope, scope_of

logger = logging.getLogger(__name__)


def record(
    caller: Caller,
    action: str,
    before: dict | None,
    after: dict | None,
    *,
    asset_id: str | None = None,
    scope_path: str | None = None,
    restored_from: tuple[str, int] | None = None,
) -> AuditEvent:
    """Save one event and its revision. `before` is None for a create, `after` None for a
    delete; either may be partial in proxy mode (a failed read before a delete): the event
    keeps what is known. `restored_from`: (asset id, revision) a restore or undelete went back
    to."""
    before, after = _document(before), _document(after)
    meta = {**_meta(before), **_meta(after)}
    scope, key = scope_of(meta)
    event = AuditEvent.objects.create(
        **_actor(caller),
        action=Action(action),
        asset_id=str(meta.get("id") or asset_id or "")[:64],
        asset_name=str(meta.get("name") or "")[:255],
        scope=scope[:16],
        scope_key=key[:80],
        scope_path=(scope_path or readable_scope(meta, key))[:1024],
        update_count=_count(meta.get("updateCount")),
        changes=diff.changes(diff.editable(before), diff.editable(after)),
    )
    revisions.from_event(event, before, after, restored_from)
    return event


def _actor(caller: Caller) -> dict:
    return {
        "actor": caller.subject[:255],
        "actor_type": (
            ActorType.APPLICATION
            if caller.subject_type == SubjectType.APPLICATION
            else ActorType.USER
        ),
        "origin": Origin(caller.origin) if caller.origin in Origin.values else Origin.API,
        "client_id": caller.subject[:255],
        "address": (caller.address or "")[:64],
    }


def _document(value) -> dict | None:
    return value if isinstance(value, dict) else None


def _meta(document: dict | None) -> dict:
    meta = (document or {}).get("meta")
    return meta if isinstance(meta, dict) else {}


def _count(value) -> int | None:
    # A 32-bit column: whatever else an upstream answers is "unknown", not a failed write.
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31:
        return value
    return None


def record_acknowledged(caller: Caller, action: str, before, after, **kwargs) -> None:
    """record() for a change another system already made (proxy mode): never raises."""
    try:
        record(caller, action, before, after, **kwargs)
    except Exception:
        logger.exception("Run:ai made the %s but envadmin could not record it", action)


def record_metadata(caller: Caller, document: dict, changes: list[dict]) -> AuditEvent:
    """An event for a change of envadmin's own metadata about an environment (its lifecycle):
    `document` is the environment as read, unchanged, so no revision is kept for it."""
    meta = _meta(document)
    scope, key = scope_of(meta)
    return AuditEvent.objects.create(
        **_actor(caller),
        action=Action.UPDATE,
        asset_id=str(meta.get("id") or "")[:64],
        asset_name=str(meta.get("name") or "")[:255],
        scope=scope[:16],
        scope_key=key[:80],
        scope_path=readable_scope(meta, key)[:1024],
        update_count=_count(meta.get("updateCount")),
        changes=changes,
    )
