"""Where a recorded environment was placed, from its document's meta, in the terms the audit
trail and revisions filter on."""

from envadmin.contract.choices import SCOPE_ID_FIELDS


def scope_of(meta: dict) -> tuple[str, str]:
    """(scope type, scope key as inventory.models.scope_key() spells it) of a document's meta."""
    scope = str(meta.get("scope") or "")
    if scope in SCOPE_ID_FIELDS and meta.get(SCOPE_ID_FIELDS[scope]) not in (None, ""):
        node_id = str(meta[SCOPE_ID_FIELDS[scope]])
        return scope, f"{scope}:{node_id.lower() if scope == 'cluster' else node_id}"
    return scope, scope


def readable_scope(meta: dict, key: str) -> str:
    """A scope's name when the caller knows no org tree (proxy mode)."""
    if meta.get("scope") == "project" and meta.get("projectName"):
        return f"project {meta['projectName']}"
    return key.replace(":", " ")
