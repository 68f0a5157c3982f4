"""Keeping every version of an environment: one Revision per recorded change, plus `observed`
ones for versions envadmin read but did not make (proxy mode, or data from before revisions).

Numbers are max + 1 per environment. The local backend records under the row lock its write
takes, so two writers never race for a number; in proxy mode there is no lock, and the unique
(asset_id, revision) constraint with a retry settles the race instead.
"""

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, Max, OuterRef, Q, QuerySet

from envadmin.contract import diff
from envadmin.contract.environment import DERIVED_PARTS

from .models import Action, Revision
from .placement import readable_scope, scope_of

logger = logging.getLogger(__name__)

ATTEMPTS = 5
# Ids per query when looking up many environments at once (SQLite's variable limit is 32,766).
CHUNK = 900


def stored(document: dict) -> dict:
    """A document as a revision keeps it: without what a read derives (usage, compliance)."""
    return {key: value for key, value in document.items() if key not in DERIVED_PARTS}


def latest(asset_id: str) -> Revision | None:
    return Revision.objects.filter(asset_id=asset_id).order_by("-revision").first()


def add(asset_id: str, document: dict, **fields) -> Revision | None:
    """Save the next revision of `asset_id`; None if it is an observed version already kept."""
    for _ in range(ATTEMPTS):
        top = Revision.objects.filter(asset_id=asset_id).aggregate(Max("revision"))
        number = (top["revision__max"] or 0) + 1
        try:
            with transaction.atomic():
                revision = Revision.objects.create(
                    asset_id=asset_id, revision=number, document=stored(document), **fields
                )
        except IntegrityError:
            # Another process took the number, or recorded the same outside change first.
            if fields.get("action") == Action.OBSERVED and is_known(
                asset_id, fields.get("update_count")
            ):
                return None
            continue
        prune(asset_id, number)
        return revision
    raise IntegrityError(f"No free revision number for {asset_id} after {ATTEMPTS} attempts.")


def is_known(asset_id: str, update_count) -> bool:
    return Revision.objects.filter(asset_id=asset_id, update_count=update_count).exists()


def prune(asset_id: str, newest: int) -> None:
    """ENVADMIN_REVISIONS_KEEP: drop the oldest beyond the bound (never the newest). An
    undeleted environment's first revision stays: it is what marks the deleted one as brought
    back (else it would be offered again)."""
    keep = settings.ENVADMIN_REVISIONS_KEEP
    if keep and newest > keep:
        Revision.objects.filter(asset_id=asset_id, revision__lte=newest - keep).exclude(
            ~Q(restored_from_asset="") & ~Q(restored_from_asset=F("asset_id"))
        ).delete()


def from_event(event, before: dict | None, after: dict | None, restored_from=None) -> None:
    """The revision of a recorded change (create, update, restore, delete)."""
    document = after if after is not None else before
    if not event.asset_id or not isinstance(document, dict):
        return
    if before is not None:
        # A version envadmin has not kept (from before revisions, or made outside envadmin).
        observe([before])
    asset, number = restored_from if restored_from else ("", None)
    add(
        event.asset_id,
        document,
        action=event.action,
        at=event.at,
        actor=event.actor,
        origin=event.origin,
        event_id=event.id,
        update_count=event.update_count,
        asset_name=event.asset_name,
        scope_key=event.scope_key,
        scope_path=event.scope_path,
        changes=event.changes,
        restored_from_asset=asset,
        restored_from_revision=number,
    )


def _identity(document) -> tuple[str, int] | None:
    meta = document.get("meta") if isinstance(document, dict) else None
    if not isinstance(meta, dict) or not meta.get("id"):
        return None
    count = meta.get("updateCount")
    if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count < 2**31:
        return None
    return str(meta["id"])[:64], count


def observe(documents) -> int:
    """Record an `observed` revision for each document whose (id, updateCount) has none yet.
    One query finds what is known; environments seen for the first time are inserted in bulk.
    Returns how many were recorded."""
    wanted = {}
    for document in documents:
        identity = _identity(document)
        if identity:
            wanted[identity] = document
    if not wanted:
        return 0
    ids = sorted({asset for asset, _ in wanted})
    known, numbered = set(), {}
    for start in range(0, len(ids), CHUNK):
        rows = Revision.objects.filter(asset_id__in=ids[start : start + CHUNK])
        known |= set(rows.values_list("asset_id", "update_count"))
        numbered.update(rows.values_list("asset_id").annotate(top=Max("revision")))
    new = {key: document for key, document in wanted.items() if key not in known}
    first, later = [], []
    for (asset, count), document in new.items():
        meta = document["meta"]
        scope, key = scope_of(meta)
        fields = {
            "action": Action.OBSERVED,
            "update_count": count,
            "asset_name": str(meta.get("name") or "")[:255],
            "scope_key": key[:80],
            "scope_path": readable_scope(meta, key)[:1024],
        }
        if asset in numbered:
            previous = latest(asset)
            fields["changes"] = diff.changes(
                diff.editable(previous.document if previous else None), diff.editable(document)
            )
            later.append((asset, document, fields))
        else:
            first.append(Revision(asset_id=asset, revision=1, document=stored(document), **fields))
    # ignore_conflicts: a concurrent reader that recorded the same version first wins.
    Revision.objects.bulk_create(first, ignore_conflicts=True)
    for asset, document, fields in later:
        add(asset, document, **fields)
    return len(first) + len(later)


def observe_quietly(documents) -> None:
    """observe() for a read: a failure to record is logged, never a failed read."""
    try:
        observe(documents)
    except Exception:
        logger.exception("envadmin could not record the environments it read as revisions")


def deleted() -> QuerySet:
    """The delete revisions that are still the last of their environment and not brought back."""
    later = Revision.objects.filter(
        asset_id=OuterRef("asset_id"), revision__gt=OuterRef("revision")
    )
    brought_back = Revision.objects.filter(restored_from_asset=OuterRef("asset_id")).exclude(
        asset_id=OuterRef("asset_id")
    )
    return (
        Revision.objects.filter(action=Action.DELETE)
        .exclude(Exists(later))
        .exclude(Exists(brought_back))
        .order_by("-at", "-id")
    )
