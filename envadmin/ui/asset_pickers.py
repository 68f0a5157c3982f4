"""What the form's pickers list from Run:ai's credentials and registries, for the caller.

Both modes answer through the backend (local: its own model; proxy: Run:ai), so a picker shows
exactly what Run:ai would let the user pick; a failure is a message, never an empty guess.
"""

from dataclasses import dataclass, field

from envadmin.contract.choices import CREDENTIAL_KINDS, SCOPE_ID_FIELDS
from envadmin.contract.errors import BackendError

# Run:ai's spec key of each kind ("genericSecret") back to the kind's name ("generic-secret").
KIND_NAMES = {spec_key: name for name, spec_key in CREDENTIAL_KINDS.items()}
# Bounds of the image picker's query parameters: Run:ai's names fit well inside them.
MAX_ID = 64
MAX_REPOSITORY = 255
MAX_SEARCH = 100


@dataclass(frozen=True)
class CredentialChoice:
    id: str
    name: str
    kind: str
    keys: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.name} ({self.kind})"


@dataclass
class Credentials:
    """The credentials usable at a placement, or why they could not be listed."""

    choices: list[CredentialChoice] = field(default_factory=list)
    error: str = ""

    def get(self, credential_id) -> CredentialChoice | None:
        return next((c for c in self.choices if c.id == credential_id), None)


def placement_filters(placement: dict | None) -> dict:
    """The credentials list's parameters for a placement: its node, whose ancestor chain the
    list answers (a tenant placement: the tenant's own)."""
    if not placement:
        return {}
    id_field = SCOPE_ID_FIELDS.get(placement.get("scope"))
    if id_field and placement.get(id_field) not in (None, ""):
        return {id_field: str(placement[id_field])}
    return {"scope": placement["scope"]} if placement.get("scope") else {}


def credential_choice(entry: dict) -> CredentialChoice:
    meta, spec = entry.get("meta") or {}, entry.get("spec") or {}
    kind = meta.get("kind") or next(iter(spec), "")
    pairs = (spec.get(kind) or {}).get("keyValuePairs") or []
    keys = tuple(p["key"] for p in pairs if isinstance(p, dict) and p.get("key"))
    return CredentialChoice(
        id=str(meta.get("id", "")), name=meta.get("name", ""), kind=KIND_NAMES.get(kind, kind),
        keys=keys,
    )  # fmt: skip


def usable_credentials(backend, caller, placement: dict | None) -> Credentials:
    try:
        answer = backend.list_credentials(caller, placement_filters(placement))
    except BackendError as error:
        return Credentials(error=f"Credentials could not be listed: {error.message}")
    choices = [credential_choice(e) for e in answer.get("entries") or [] if isinstance(e, dict)]
    return Credentials(sorted((c for c in choices if c.id), key=lambda c: (c.name, c.id)))


def bounded(value: str | None, limit: int) -> tuple[str, str]:
    """(the parameter, "") when it fits its bound, else ("", a message for the user)."""
    value = (value or "").strip()
    if len(value) > limit:
        return "", f"At most {limit} characters."
    return value, ""


def image_reference(registry_url: str, repository: str, tag: str) -> str:
    """What the image field gets: the registry's host (no scheme), the repository and tag."""
    host = registry_url.split("://", 1)[-1].rstrip("/")
    return f"{host}/{repository}:{tag}"
