"""Reading and changing environments' lifecycle: what the API, the web admin and bulk actions
call. The environment itself (its existence, who may see and change it, its usage) is the
backend's word, passed in; the lifecycle is envadmin's own row (models.Lifecycle)."""

from django.db import transaction

from envadmin.accounts.access import Caller
from envadmin.audit.record import record_metadata
from envadmin.contract.errors import Conflict, Forbidden, InvalidRequest, NotFound

from .models import ID_LENGTH, MESSAGE_LENGTH, Lifecycle, State

STATES = tuple(State.values)
FIELDS = ("state", "message", "replacement")
# Beyond this many ids, one query reads every row instead of a long IN list (SQLite caps its
# variables; the table only holds environments whose lifecycle was ever set).
IN_LIST_LIMIT = 900


def default() -> dict:
    return {"state": State.ACTIVE.value, "message": "", "replacement": None}


def lifecycle_of(asset_ids: list[str]) -> dict[str, dict]:
    """{asset id: {state, message, replacement}} for each id, in one query; active for ids
    that have no row."""
    ids = [str(asset_id) for asset_id in asset_ids]
    rows = (
        Lifecycle.objects.all()
        if len(ids) > IN_LIST_LIMIT
        else Lifecycle.objects.filter(asset_id__in=ids)
    )
    wanted = set(ids)
    found = {row.asset_id: row.as_dict() for row in rows if row.asset_id in wanted}
    return {asset_id: found.get(asset_id) or default() for asset_id in ids}


def ids_in_state(state: str) -> list[str]:
    """Asset ids whose lifecycle is `state` (not for active: most active ones have no row)."""
    return list(Lifecycle.objects.filter(state=state).values_list("asset_id", flat=True))


def validate(body) -> dict:
    """A PUT body as {state, message, replacement}; anything else is an InvalidRequest with
    the message next to its field."""
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise InvalidRequest(
            f"{unknown[0]}: unknown field.",
            "Known: state, message, replacement.",
            field_errors={unknown[0]: ["Unknown field."]},
        )
    errors = {}
    state = body.get("state")
    if state not in STATES:
        errors["state"] = [f"Must be one of {', '.join(STATES)}."]
    message = body.get("message", "")
    if message is None:
        message = ""
    if not isinstance(message, str):
        errors["message"] = ["Must be text."]
    elif len(message) > MESSAGE_LENGTH:
        errors["message"] = [f"At most {MESSAGE_LENGTH} characters."]
    elif "\x00" in message:  # PostgreSQL keeps no NUL in text
        errors["message"] = ["Must not contain a NUL character."]
    replacement = body.get("replacement")
    if replacement == "":
        replacement = None
    if replacement is not None and (
        not isinstance(replacement, str) or len(replacement) > ID_LENGTH or "\x00" in replacement
    ):
        errors["replacement"] = [f"Must be an environment id (at most {ID_LENGTH} characters)."]
    if errors:
        raise InvalidRequest.from_field_errors(errors)
    return {"state": state, "message": message.strip(), "replacement": replacement}


def change_lifecycle(backend, caller: Caller, asset_id: str, body: dict) -> dict:
    """Set an environment's lifecycle for a caller who may update it; returns the new one.
    Refuses (Conflict) archiving an environment a template uses, naming the templates."""
    wanted = validate(body)
    document = backend.get_environment(caller, str(asset_id), {"usageInfo": "true"})
    meta = document.get("meta") or {}
    asset_id = str(meta.get("id") or asset_id)
    if not backend.may_update_environment(caller, document):
        raise Forbidden(f"You may not change environment '{meta.get('name', asset_id)}'.")
    if wanted["replacement"] is not None:
        wanted["replacement"] = _replacement(backend, caller, asset_id, wanted["replacement"])
    if wanted["state"] == State.ARCHIVED:
        templates = ((document.get("usedBy") or {}).get("templates")) or []
        if templates:
            names = ", ".join(f"'{t.get('name') or t.get('id')}'" for t in templates)
            raise Conflict(
                f"Environment '{meta.get('name', asset_id)}' is used by templates {names}: "
                "it cannot be archived while a template uses it.",
                "Change those templates to another environment first, or deprecate it instead.",
            )
    with transaction.atomic():
        row, _ = Lifecycle.objects.select_for_update().get_or_create(asset_id=asset_id)
        before = row.as_dict()
        row.state, row.message, row.replacement = (wanted[f] for f in FIELDS)
        row.updated_by = caller.subject[:255]
        row.save()
        changes = [
            {"field": f"lifecycle.{field}", "before": before[field], "after": wanted[field]}
            for field in FIELDS
            if before[field] != wanted[field]
        ]
        if changes:
            record_metadata(caller, document, changes)
    return row.as_dict()


def _replacement(backend, caller: Caller, asset_id: str, replacement: str) -> str:
    """The replacement's own id, once it is known to be another environment the caller can
    see that is not archived."""
    problem = None
    try:
        other = backend.get_environment(caller, replacement, {})
    except (NotFound, InvalidRequest):
        problem = "No environment you can see has this id."
    else:
        replacement = str((other.get("meta") or {}).get("id") or replacement)
        if replacement == asset_id:
            problem = "An environment cannot replace itself."
        elif lifecycle_of([replacement])[replacement]["state"] == State.ARCHIVED:
            problem = "That environment is archived: name an active one."
    if problem:
        raise InvalidRequest.from_field_errors({"replacement": [problem]})
    return replacement
