"""A stale edit in the form: the version it was opened on, and the user's changes reapplied on top.

The edit form carries a signed copy of the version it was opened on. Saving after someone else
changed the environment is refused; the form comes back showing the current version with the
fields this user changed set to their values, and lists what the other person changed, so nothing
is overwritten silently and nothing typed is lost.
"""

from dataclasses import dataclass, field

from django.core import signing

from envadmin.contract import diff

from .form_documents import initial_from_document
from .forms import ConnectionFormSet, EnvironmentForm, EnvironmentVariableFormSet

SALT = "envadmin.ui.edit-version"


def sign(document: dict) -> str:
    """The hidden `version` field: updateCount and editable content of the opened document."""
    meta = document["meta"]
    # Run:ai may leave updateCount out (the contract does not require it): then None.
    payload = {"id": meta["id"], "n": meta.get("updateCount"), "doc": diff.editable(document)}
    return signing.dumps(payload, salt=SALT, compress=True)


def opened_version(token: str, asset_id: str) -> dict | None:
    """The payload of a `version` field, or None if it is not ours (tampered, other asset)."""
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    return payload if payload.get("id") == str(asset_id) else None


@dataclass
class Reapplied:
    """What the refused form shows."""

    initial: dict
    variables: list[dict]
    connections: list[dict]
    theirs: list[str]  # what the other person changed, one line per field
    mine: list[str] = field(default_factory=list)  # labels of the fields reapplied from the user
    both: list[str] = field(default_factory=list)  # labels changed by both: the user's value kept


def _as_document(version: dict, current: dict) -> dict:
    """The opened version as a document with the current (fixed) placement and types."""
    meta = {k: v for k, v in current["meta"].items() if k not in diff.EDITABLE_META}
    meta.update(version["doc"]["meta"])
    return {"meta": meta, "spec": version["doc"]["spec"]}


def _rows(formset) -> list[dict]:
    """The rows the user posted, as initial data, without the removed and blank ones."""
    rows = []
    for row in formset.forms:
        if row["DELETE"].data if "DELETE" in row.fields else False:
            continue
        values = {name: row[name].data for name in row.fields if name != "DELETE"}
        if any(v not in (None, "", False) for k, v in values.items() if k != "source"):
            rows.append(values)
    return rows


def reapply(data, version: dict, current: dict, placement_key: str, placements) -> Reapplied:
    """The current version with the fields the user changed (against what they opened) on top."""
    opened = _as_document(version, current)
    base_initial, base_vars, base_conns = initial_from_document(opened, placement_key)
    now_initial, now_vars, now_conns = initial_from_document(current, placement_key)
    posted = EnvironmentForm(
        data, initial=base_initial, placements=placements, placement_fixed=True
    )
    result = Reapplied(
        initial=dict(now_initial),
        variables=now_vars,
        connections=now_conns,
        theirs=[diff.describe(c) for c in diff.changes(version["doc"], diff.editable(current))],
    )
    for name in posted.changed_data:
        result.initial[name] = posted[name].data
        label = str(posted[name].label)
        result.mine.append(label)
        if base_initial.get(name) != now_initial.get(name):
            result.both.append(label)
    formsets = [
        ("Environment variables", EnvironmentVariableFormSet, "env", base_vars, now_vars),
        ("Tools", ConnectionFormSet, "conn", base_conns, now_conns),
    ]
    for label, formset_class, prefix, base_rows, now_rows in formsets:
        formset = formset_class(data, initial=base_rows, prefix=prefix)
        # Not validated: a refused form may hold errors, and the user's rows are kept as typed.
        if formset.management_form.is_valid() and formset.has_changed():
            rows = _rows(formset)
            if prefix == "env":
                result.variables = rows
            else:
                result.connections = rows
            result.mine.append(label)
            if base_rows != now_rows:
                result.both.append(label)
    return result
