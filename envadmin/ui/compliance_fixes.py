"""The fixes that make a draft comply, on the environment form: found for every workload type the
draft serves, said with the form's labels, and put into the posted form data field by field so
nothing else the user typed is lost."""

from dataclasses import dataclass, field

from envadmin.contract.choices import SUPPORTED_TYPE_KEYS, WORKLOAD_TYPE_KEYS

from .policy_hints import POLICY_FIELDS, ROW_FIELDS, form_value, shown_value

# Rounds of fixing the types one after the other: a type's fix can undo another's only when
# their policies contradict each other, and then no round ends it.
ROUNDS = 3


@dataclass
class Fixes:
    document: dict
    changes: list[dict] = field(default_factory=list)
    unfixable: list[str] = field(default_factory=list)


def fix_for_types(backend, caller, document: dict, project_id: int, kinds: list[str]) -> Fixes:
    """The draft fixed for `project_id` and every workload type in `kinds` (Workspace, ...):
    each type's fix applied in turn until none changes anything more."""
    first: dict[tuple, dict] = {}
    last: dict[tuple, dict] = {}
    answers: dict[str, dict] = {}
    current = document
    for _round in range(ROUNDS):
        moved = False
        for kind in kinds:
            body = {"environment": current, "projectId": project_id, "workloadType": kind}
            answer = answers[kind] = backend.fix_compliance(caller, body)
            for change in answer["changes"]:
                key = _change_key(change)
                first.setdefault(key, change)
                last[key] = change
                moved = True
            current = answer["environment"]
        if not moved:
            break
    changes = [
        {**first[key], "to": last[key]["to"]}
        for key in first
        if last[key]["to"] != first[key]["from"]
    ]
    unfixable = [
        f"{kind}: {reason['details']}" for kind in kinds for reason in answers[kind]["unfixable"]
    ]
    return Fixes(current, changes, list(dict.fromkeys(unfixable)))


def may_create_in(backend, caller, project: int) -> bool:
    """Whether the user may place an environment in the project (where a compliant copy goes)."""
    return backend.can_create_in(caller, f"project:{project}")


def _change_key(change: dict) -> tuple:
    # The variables of a list are changed one by one, each under the list's field.
    variable = change["from"] if isinstance(change["from"], dict) else change["to"]
    name = variable.get("name") if isinstance(variable, dict) else None
    return change["field"], name


def describe(change: dict, form) -> str:
    """ "Image pull policy: Always → IfNotPresent (because ...)", with the form's words."""
    path, old, new = change["field"], change["from"], change["to"]
    because = change["because"]
    if path.startswith("workloadSupportedTypes."):
        kind = path.split(".", 1)[1]
        label = next((k for k, v in WORKLOAD_TYPE_KEYS.items() if v == kind), kind)
        what = f"Workload types: {label} ticked"
    elif path in ROW_FIELDS:
        name = (old or new or {}).get("name", "")
        done = "removed" if new is None else "no longer excluded"
        what = f"{ROW_FIELDS[path][0]}: {name} {done}"
    else:
        name = POLICY_FIELDS.get(path)
        control = form.fields.get(name) if name else None
        label = str(control.label or name) if control is not None else path
        shown_old = shown_value(form_value(old, control), control)
        shown_new = shown_value(form_value(new, control), control)
        what = f"{label}: {shown_old} → {shown_new}"
        if control is not None:
            # Said with the form's label, as the panel's reasons are.
            because = because.replace(f"{path} ", f"{label} ")
    return f"{what} (because {because})"


def apply_to_data(data, changes: list[dict]):
    """The posted form data (a mutable QueryDict) with each change made to its control."""
    removed = set()
    for change in changes:
        path, new = change["field"], change["to"]
        if path.startswith("workloadSupportedTypes."):
            kind = path.split(".", 1)[1]
            if kind in SUPPORTED_TYPE_KEYS:
                data.pop(kind, None)
                if new:
                    data[kind] = "on"
        elif path == "environmentVariables":
            row = _row_named(data, (change["from"] or {}).get("name"))
            if row is None:
                continue
            if new is None:
                removed.add(row)
            else:
                data.pop(f"env-{row}-exclude", None)
        elif path in POLICY_FIELDS:
            name = POLICY_FIELDS[path]
            data.pop(name, None)  # None: the control left empty
            if new is not None:
                value = form_value(new, None)
                data.setlist(name, value if isinstance(value, list) else [str(value)])
    if removed:
        _drop_rows(data, removed)
    return data


def _rows(data) -> int:
    try:
        return max(0, min(int(data.get("env-TOTAL_FORMS", 0)), 1000))
    except (TypeError, ValueError):
        return 0


def _row_named(data, name) -> int | None:
    for row in range(_rows(data)):
        if data.get(f"env-{row}-name") == name and not data.get(f"env-{row}-DELETE"):
            return row
    return None


def _drop_rows(data, removed: set[int]) -> None:
    """The env var rows without `removed`, renumbered as a formset expects them."""
    total = _rows(data)
    kept = []
    for row in range(total):
        prefix = f"env-{row}-"
        values = {key[len(prefix) :]: data.getlist(key) for key in data if key.startswith(prefix)}
        for key in list(data):
            if key.startswith(prefix):
                del data[key]
        if row not in removed:
            kept.append(values)
    for row, values in enumerate(kept):
        for key, value in values.items():
            data.setlist(f"env-{row}-{key}", value)
    data["env-TOTAL_FORMS"] = str(len(kept))
