"""Whether an environment document from Run:ai has the shape the web admin's pages rely on.

The API passes Run:ai's answers on as they are; the pages read fields. An entry with a field of
an unexpected type, an unknown scope or a missing id or name is left out of a page's list, and
the page says which upstream path and field, instead of failing as a whole.
"""

from .choices import SCOPES
from .errors import BackendError

ENVIRONMENTS_PATH = "GET /api/v1/asset/environment"
# Fields the pages read, by the JSON type they must have when present (null counts as absent).
OBJECT_FIELDS = ("meta.workloadSupportedTypes", "spec.probes", "usedBy", "compliance")
LIST_OF_OBJECTS_FIELDS = ("spec.connections", "spec.environmentVariables")
TEXT_FIELDS = ("meta.description", "meta.createdBy", "meta.createdAt", "meta.updatedAt",
               "spec.image", "spec.imagePullPolicy", "spec.workingDir")  # fmt: skip


class UnusableAnswer(BackendError):
    """Run:ai answered, but with something a page cannot be made of: a bad gateway answer."""

    status = 502
    default_message = "Run:ai sent an answer this page could not use."


def unusable_field(document) -> str | None:
    """The first field of `document` the pages cannot use, or None when they can use it all."""
    if not isinstance(document, dict):
        return "(the entry is not an object)"
    meta = document.get("meta")
    if not isinstance(meta, dict):
        return "meta"
    ident = meta.get("id")
    if isinstance(ident, bool) or not isinstance(ident, str | int) or ident == "":
        return "meta.id"
    if not isinstance(meta.get("name"), str):
        return "meta.name"
    if meta.get("scope") not in SCOPES:
        return "meta.scope"
    if document.get("spec") is not None and not isinstance(document["spec"], dict):
        return "spec"
    spec = document.get("spec")
    parents = {"meta": meta, "spec": spec if isinstance(spec, dict) else None, "": document}
    for name, parent, leaf, types in _CHECKS:
        container = parents[parent]
        value = container.get(leaf) if container is not None else None
        if value is None:
            continue
        if types is list:
            if not isinstance(value, list) or not all(isinstance(v, dict | None) for v in value):
                return name
        elif not isinstance(value, types):
            return name
    return None


def _check(name: str, types) -> tuple:
    parent, _, leaf = name.rpartition(".")
    return name, parent, leaf, types


# (field, its parent in the document, its key there, the types it may have): each field one
# dict read, as a list checks these fields of every one of thousands of entries.
_CHECKS = (
    *[_check(name, dict) for name in OBJECT_FIELDS],
    *[_check(name, list) for name in LIST_OF_OBJECTS_FIELDS],
    *[_check(name, str) for name in TEXT_FIELDS],
)


def usable_entries(entries, path: str = ENVIRONMENTS_PATH) -> tuple[list[dict], list[str]]:
    """(the entries the pages can use, one line per unusable field naming `path`)."""
    if not isinstance(entries, list):
        return [], [f"{path}: 'entries' is not a list."]
    kept, problems = [], []
    for entry in entries:
        field = unusable_field(entry)
        if field is None:
            kept.append(entry)
            continue
        problem = (
            f"{path}: entries whose '{field}' is missing or of an unexpected type are left out."
        )
        if problem not in problems:
            problems.append(problem)
    return kept, problems
