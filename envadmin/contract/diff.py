"""Field-by-field differences between two environment documents.

Used to say what someone else changed (a refused stale edit) and what each change did (the audit
trail). Paths read like validation errors: `spec.image`, `spec.environmentVariables[HOME].value`.
"""

import json
from typing import Any

# What an update may change; placement and workload types are fixed after creation.
EDITABLE_META = ("name", "description")
MISSING = None


def editable(document: dict | None) -> dict:
    """The part of an EnvironmentAsset an update request replaces."""
    if not document:
        return {}
    meta = document.get("meta") or {}
    return {
        "meta": {key: meta.get(key) for key in EDITABLE_META if meta.get(key) is not None},
        "spec": document.get("spec") or {},
    }


def _key(item: Any, index: int) -> str:
    # Env vars and connections are identified by their name: reordering is not a change of each.
    if isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"]:
        return item["name"]
    return str(index)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{path: leaf}; empty dicts and lists count as absent."""
    flat: dict[str, Any] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            flat.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list) and value and all(isinstance(i, dict) for i in value):
        keys = [_key(item, index) for index, item in enumerate(value)]
        if len(set(keys)) != len(keys):  # duplicate names: fall back to positions
            keys = [str(index) for index in range(len(value))]
        for key, item in zip(keys, value, strict=True):
            flat.update(flatten(item, f"{prefix}[{key}]"))
    elif value is not None and value != [] and value != {}:
        flat[prefix] = value
    return flat


def changes(before: dict | None, after: dict | None) -> list[dict]:
    """[{"field", "before", "after"}] for every leaf that differs, sorted by field."""
    old, new = flatten(before or {}), flatten(after or {})
    return [
        {"field": path, "before": old.get(path, MISSING), "after": new.get(path, MISSING)}
        for path in sorted(old.keys() | new.keys())
        if old.get(path, MISSING) != new.get(path, MISSING)
    ]


def show(value) -> str:
    return "(none)" if value is None else json.dumps(value, ensure_ascii=False)


def describe(change: dict) -> str:
    """One change as a line: `spec.image: "a" → "b"`."""
    return f"{change['field']}: {show(change['before'])} → {show(change['after'])}"


def side_by_side(before: dict | None, after: dict | None) -> list[tuple[str, str, str, bool]]:
    """Every field of two environment documents' editable parts, sorted by path:
    (field, before as shown, after as shown, whether it changed)."""
    old, new = flatten(editable(before)), flatten(editable(after))
    return [
        (path, show(old.get(path)), show(new.get(path)), old.get(path) != new.get(path))
        for path in sorted(old.keys() | new.keys())
    ]
