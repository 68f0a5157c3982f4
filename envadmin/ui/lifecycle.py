"""What the pages show of an environment's lifecycle: its badge, message and replacement (detail
and forms), the state form's choices, and the create form's copy sources."""

from envadmin.backends.environment_rows import RowFilters
from envadmin.contract.errors import BackendError
from envadmin.lifecycle.service import STATES, lifecycle_of

# The state form's replacement picker and the create form's copy sources list at most this
# many environments of each kind (by name); beyond, the API takes any id.
PICKER_LIMIT = 300


def lifecycle_context(backend, caller, document: dict) -> dict:
    """{"lifecycle": {state, message, replacement}, "replacement": {id, name} or None}: the
    replacement only when the caller can see it."""
    asset_id = str(document["meta"]["id"])
    lifecycle = lifecycle_of([asset_id])[asset_id]
    replacement = None
    if lifecycle["replacement"]:
        try:
            other = backend.get_environment(caller, lifecycle["replacement"], {})
        except BackendError:
            other = None
        if other is not None:
            replacement = {"id": str(other["meta"]["id"]), "name": other["meta"]["name"]}
    return {"lifecycle": lifecycle, "replacement": replacement}


def _named(backend, caller, org, state: str) -> list[tuple[str, str]]:
    entries, _ = backend.browse_environments(
        caller, {}, names=org, filters=RowFilters(lifecycle=state), sort="name",
        limit=PICKER_LIMIT,
    )  # fmt: skip
    return [
        (str(e["meta"]["id"]), f"{e['meta']['name']} · {org.scope_path(e['meta'])}")
        for e in entries
    ]


def copy_sources(backend, caller, org) -> dict:
    """{"active": [(id, label)], "deprecated": [(id, label)]}: never an archived one, the
    deprecated ones apart (the form lists them last)."""
    return {state: _named(backend, caller, org, state) for state in ("active", "deprecated")}


def replacement_choices(backend, caller, org, asset_id: str) -> list[tuple[str, str]]:
    """The state form's replacement picker: environments not archived, other than this one."""
    sources = copy_sources(backend, caller, org)
    return [c for c in sources["active"] + sources["deprecated"] if c[0] != str(asset_id)]


STATE_CHOICES = [(state, state.capitalize()) for state in STATES]
