"""One action over many environments (POST /api/envadmin/v1/bulk and the list's toolbar).

Each item is read, checked and written on its own through the backend's ordinary operations,
so every change is a revision of its own (undone like any other) and one item's refusal never
undoes another's change. A dry run does the same reads and checks and writes nothing.
"""

from dataclasses import dataclass

from django.db import transaction

from envadmin.accounts.access import Caller
from envadmin.audit.models import Revision
from envadmin.contract import diff
from envadmin.contract.errors import BackendError, Forbidden, InvalidRequest
from envadmin.contract.image import IMAGE_REFERENCE, TAG, image_reference_error
from envadmin.lifecycle.service import change_lifecycle, lifecycle_of

from .base import EnvironmentBackend, stale_edit
from .revision_operations import restore_document

LIFECYCLE_STATES = {"deprecate": "deprecated", "archive": "archived", "activate": "active"}
ACTIONS = ("delete", "deprecate", "archive", "activate", "set-image")
MAX_ITEMS = 1000
MAX_ID_LENGTH = 64
MAX_IMAGE_LENGTH = 400
MAX_MESSAGE_LENGTH = 1000
MAX_COUNT = 2**31 - 1
KEYS = {"action", "items", "image", "message", "replacement", "dryRun"}
ITEM_KEYS = {"id", "ifMatch"}


@dataclass(frozen=True)
class Item:
    id: str
    if_match: int | None = None


@dataclass(frozen=True)
class BulkRequest:
    action: str
    items: tuple[Item, ...]
    image: str | None = None
    message: str | None = None
    replacement: str | None = None
    dry_run: bool = False


def _text(body: dict, key: str, limit: int, errors: dict) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        errors[key] = ["Must be a string."]
    elif len(value) > limit:
        errors[key] = [f"At most {limit} characters."]
    return value if key not in errors else None


def _item(index: int, entry, errors: dict) -> Item | None:
    path = f"items[{index}]"
    if not isinstance(entry, dict):
        errors[path] = ['Must be an object: {"id": "...", "ifMatch": 3}.']
        return None
    unknown = sorted(set(entry) - ITEM_KEYS)
    if unknown:
        errors[f"{path}.{unknown[0]}"] = ["Unknown field (known: id, ifMatch)."]
    asset_id, if_match = entry.get("id"), entry.get("ifMatch")
    if not isinstance(asset_id, str) or not asset_id.strip() or len(asset_id) > MAX_ID_LENGTH:
        errors[f"{path}.id"] = [f"An environment id (1 to {MAX_ID_LENGTH} characters)."]
    if if_match is not None and (
        isinstance(if_match, bool)
        or not isinstance(if_match, int)
        or not 0 <= if_match <= MAX_COUNT
    ):
        errors[f"{path}.ifMatch"] = ["The updateCount the change is based on (an integer ≥ 0)."]
    if any(key.startswith(path) for key in errors):
        return None
    return Item(asset_id.strip(), if_match)


def parse(body) -> BulkRequest:
    """The request checked whole, before any item is touched: every mistake is a 400."""
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(body) - KEYS)
    if unknown:
        errors[unknown[0]] = [f"Unknown field (known: {', '.join(sorted(KEYS))})."]
    action = body.get("action")
    if not isinstance(action, str) or action not in ACTIONS:
        errors["action"] = [f"One of {', '.join(ACTIONS)}."]
        action = None  # an object or a list is not hashable: the checks below look it up
    dry_run = body.get("dryRun", False)
    if not isinstance(dry_run, bool):
        errors["dryRun"] = ["true or false."]
    image = _text(body, "image", MAX_IMAGE_LENGTH, errors)
    message = _text(body, "message", MAX_MESSAGE_LENGTH, errors)
    replacement = _text(body, "replacement", MAX_ID_LENGTH, errors)
    if action == "set-image":
        problem = image_problem(image)
        if problem:
            errors["image"] = [problem]
    elif image is not None:
        errors["image"] = ["Only with set-image."]
    if action not in LIFECYCLE_STATES:
        for key, value in (("message", message), ("replacement", replacement)):
            if value is not None:
                errors[key] = ["Only with deprecate, archive or activate."]
    raw_items = body.get("items")
    items: list[Item] = []
    if not isinstance(raw_items, list) or not raw_items:
        errors["items"] = ['At least one {"id": ...}.']
    elif len(raw_items) > MAX_ITEMS:
        errors["items"] = [f"At most {MAX_ITEMS} items a request (received {len(raw_items)})."]
    else:
        items = [item for i, e in enumerate(raw_items) if (item := _item(i, e, errors))]
        seen: set[str] = set()
        for index, item in enumerate(items):
            if item.id in seen:
                errors.setdefault(f"items[{index}].id", [f"{item.id} is listed twice."])
            seen.add(item.id)
    if errors:
        raise InvalidRequest.from_field_errors(errors)
    return BulkRequest(action, tuple(items), image, message, replacement, dry_run)


def image_problem(value: str | None) -> str | None:
    """Why `value` is neither an image reference nor a ":tag", or None."""
    if not value:
        return 'An image reference, or ":tag" to change only the tag.'
    if value.startswith(":"):
        return None if TAG.fullmatch(value[1:]) else f"'{value[1:]}' is not a valid image tag."
    return image_reference_error(value)


def new_image(current: str | None, wanted: str) -> str | None:
    """The image an environment gets: `wanted`, or with a ":tag" its own repository with that
    tag (a digest pins other content, so it is dropped). None if it has no image to retag."""
    if not wanted.startswith(":"):
        return wanted
    match = IMAGE_REFERENCE.fullmatch(current or "")
    return f"{match.group('name')}{wanted}" if match else None


def _check_version(document: dict, if_match: int | None) -> None:
    if if_match is not None and (document.get("meta") or {}).get("updateCount") != if_match:
        raise stale_edit(if_match, document)


def _may(backend, caller, asset_id: str, action: str) -> None:
    """For a dry run: the refusal the write would meet."""
    if action not in backend.allowed_actions(caller, [asset_id]).get(asset_id, set()):
        raise Forbidden("You may not change this environment.")


def _latest_revision(asset_id: str) -> int | None:
    # The caller just changed it: no need to ask the backend again whether they may read it.
    return Revision.objects.filter(asset_id=asset_id).values_list("revision", flat=True).first()


class Bulk:
    def __init__(self, backend: EnvironmentBackend, caller: Caller, request: BulkRequest):
        self.backend, self.caller, self.request = backend, caller, request
        # Each item's document as read before its change: a page shows names and versions.
        self.documents: dict[str, dict] = {}

    def run(self) -> list[dict]:
        return [self.one(item) for item in self.request.items]

    def one(self, item: Item) -> dict:
        try:
            document = self.documents[item.id] = self.backend.get_environment(
                self.caller, item.id, {}
            )
            _check_version(document, item.if_match)
            result = getattr(self, self.request.action.replace("-", "_"))(item, document)
        except BackendError as error:
            result = {"status": error.status, "message": error.message}
        return {"id": item.id, **result}

    def delete(self, item: Item, document: dict) -> dict:
        name = document["meta"].get("name")
        if self.request.dry_run:
            _may(self.backend, self.caller, item.id, "delete")
            return {"status": 202, "message": f"Would delete {name}."}
        self.backend.delete_environment(self.caller, item.id, if_match=item.if_match)
        revision = _latest_revision(item.id)
        return {"status": 202, "message": f"Deleted {name}.", "revision": revision}

    def set_image(self, item: Item, document: dict) -> dict:
        spec = document.get("spec") or {}
        image = new_image(spec.get("image"), self.request.image)
        if image is None:
            return {"status": 409, "message": "It has no image whose tag could change."}
        if image == spec.get("image"):
            return {"status": 202, "message": f"Unchanged: the image already is {image}."}
        update = restore_document(document)
        update["spec"] = {**update["spec"], "image": image}
        changes = diff.changes(diff.editable(document), update)
        if self.request.dry_run:
            _may(self.backend, self.caller, item.id, "edit")
            return {
                "status": 202,
                "message": f"Would set the image to {image}.",
                "changes": changes,
            }
        # The version read is the one changed: a write in between answers 412, not a lost edit.
        version = document["meta"].get("updateCount")
        self.backend.update_environment(self.caller, item.id, update, if_match=version)
        revision = _latest_revision(item.id)
        return {
            "status": 202, "message": f"Image set to {image}.", "changes": changes,
            "revision": revision,
        }  # fmt: skip

    def _lifecycle(self, item: Item, document: dict) -> dict:
        # ifMatch was compared with the version read in one(): the lifecycle is not part of
        # the environment's document, so no write of it can slip in between.
        state = LIFECYCLE_STATES[self.request.action]
        body = {"state": state}
        if state != "active":
            body.update(message=self.request.message, replacement=self.request.replacement)
        before = lifecycle_of([item.id])[item.id]
        # The lifecycle is envadmin's own row in both modes and the checks only read the
        # backend: a dry run is the change itself, rolled back.
        with transaction.atomic():
            after = change_lifecycle(self.backend, self.caller, item.id, body)
            transaction.set_rollback(self.request.dry_run)
        changes = [
            {"field": f"lifecycle.{key}", "before": before[key], "after": after[key]}
            for key in ("state", "message", "replacement")
            if before[key] != after[key]
        ]
        done = "Would be" if self.request.dry_run else "Now"
        if not changes:
            return {"status": 202, "message": f"Unchanged: already {state}."}
        return {"status": 202, "message": f"{done} {state}.", "changes": changes}

    deprecate = archive = activate = _lifecycle
