"""The project's policies on the environment form: which project and workload types they are
read for, and how each field carries what they ask (compliance/form_hints.py decides that).

A policy never changes a value the user typed: a forbidden option they chose stays chosen
(marked), a field a policy fixes is locked only while it is empty or already holds the fixed
value, and a default is offered by a button that asks the server to fill it in.
"""

from envadmin.compliance.form_hints import FieldHint, field_hints
from envadmin.contract.choices import WORKLOAD_TYPE_KEYS
from envadmin.contract.errors import BackendError
from envadmin.contract.policy_paths import ENVIRONMENT_FIELDS

from .params import whole


def _form_name(spec_path: str) -> str:
    # The readiness probe's fields are flat on the form: probe_periodSeconds, probe_path, ...
    if spec_path.startswith("probes.readiness."):
        return "probe_" + spec_path.rsplit(".", 1)[-1]
    return spec_path


# spec path -> form field name, and policy path (as compliance reasons name it) -> form field.
FORM_FIELDS = {spec: _form_name(spec) for spec, _ in ENVIRONMENT_FIELDS.values()}
POLICY_FIELDS = {policy: FORM_FIELDS[spec] for policy, (spec, _) in ENVIRONMENT_FIELDS.items()}
# Policy fields the form holds as rows rather than one control: (label, anchor).
ROW_FIELDS = {"environmentVariables": ("Environment variables", "env-rows")}
REPLICA_PREFIXES = ("master.", "worker.")


def source_name(org, source: dict | None) -> str:
    """Where a rule comes from, by name: "department research", "cluster cluster-a", "tenant"."""
    scope = (source or {}).get("scope")
    if not scope:
        return "the policy"
    name = None
    if scope == "cluster":
        name = org.clusters.get(source.get("clusterId"))
    elif scope == "department":
        name = org.departments.get(str(source.get("departmentId")), {}).get("name")
    elif scope == "project":
        project_id = whole(source.get("projectId"))
        name = org.projects.get(project_id, {}).get("name") if project_id is not None else None
    return f"{scope} {name}" if name else scope


def ticked_types(form) -> list[str]:
    """The workload types (Workspace, ...) the form's boxes tick (on edit: the stored ones)."""
    return [label for label, key in WORKLOAD_TYPE_KEYS.items() if form[key].value()]


def placement_project(form) -> int | None:
    placement = form.placements.get(form["placement"].value())
    if placement and placement.get("scope") == "project":
        return whole(placement.get("projectId"))
    return None


def preview_project(choice, placement: int | None, org, fallback=None) -> int | None:
    """The project the draft is judged for: the one chosen in the panel, else the placement's
    (a project id or None), else the only project the user has, else `fallback` (the project
    they review as)."""
    only = next(iter(org.projects)) if len(org.projects) == 1 else None
    for candidate in (whole(choice), placement, only, fallback):
        if candidate is not None and candidate in org.projects:
            return candidate
    return None


def load_hints(backend, caller, org, project_id, kinds) -> dict[str, FieldHint]:
    """{form field name: FieldHint} of the project's effective policies for `kinds`."""
    policies = []
    for kind in kinds:
        params = {"scope": "project", "projectId": str(project_id)}
        try:
            document = backend.get_policy(caller, WORKLOAD_TYPE_KEYS[kind], params)
        except BackendError:
            continue  # no hints for that type; the compliance panel reports the failure
        policies.append((kind, document.get("effective")))
    hints = field_hints(policies, lambda source: source_name(org, source))
    return {FORM_FIELDS[spec]: hint for spec, hint in hints.items()}


def form_value(value, field):
    """A policy value as the form holds it (the tri-state flags hold "true"/"false")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [str(v) for v in value]
    return value


def shown_value(value, field) -> str:
    """A form value as the user sees it: a choice by its label."""
    if value in (None, "", []):
        return "unset"
    labels = {str(k): str(v) for k, v in getattr(field, "choices", [])}
    if isinstance(value, list):
        return ", ".join(labels.get(str(v), str(v)) for v in value)
    return labels.get(str(value), str(value))


def refresh_attrs(url: str) -> dict:
    """htmx attributes of a control whose change re-renders the fields with fresh hints (and a
    policy default filled in, for a "Use policy default" button). The latest such request
    replaces one still in flight, so the fields end up showing the last choice made (and
    envadmin.js drops an answer that would overwrite what was typed while it was on its way)."""
    return {
        "hx-post": url, "hx-vals": '{"refresh_hints": "1"}',
        "hx-sync": "closest .form-layout:replace",
        "hx-target": "#form-fields", "hx-select": "#form-fields", "hx-swap": "outerHTML",
    }  # fmt: skip


def apply_hints(form, hints: dict[str, FieldHint], url: str) -> None:
    """Puts the hints on the form's widgets; the policy_hint tag shows them next to each field."""
    form.policy_hints, form.policy_locks, form.hints_url = {}, {}, url
    form.row_hints = {name: hint for name, hint in hints.items() if name in ROW_FIELDS}
    for name, hint in hints.items():
        if name not in form.fields:
            continue
        form.policy_hints[name] = hint
        field = form.fields[name]
        attrs = field.widget.attrs
        for key, bound in (("min", hint.min), ("max", hint.max), ("step", hint.step)):
            if bound:
                attrs[key] = bound.value
        if hint.required:
            attrs["aria-required"] = "true"
        if hint.options and hasattr(field.widget, "create_option"):
            _mark_options(field.widget, hint)
        if hint.locks:
            form.policy_locks[name] = _lock(form, name, hint)


def _current(form, name):
    field = form.fields[name]
    if form.is_bound and not field.disabled:
        return field.widget.value_from_datadict(form.data, form.files, form.add_prefix(name))
    return form.initial.get(name, field.initial)


def _lock(form, name: str, hint: FieldHint) -> str:
    """ "fixed": the control is locked showing the fixed value (and saves it); "differs": the
    value held is another one, left for the user to change (the panel says it fails)."""
    field = form.fields[name]
    fixed = form_value(hint.locks[0].value, field)
    current = _current(form, name)
    same = (
        sorted(map(str, current)) == sorted(map(str, fixed))
        if isinstance(current, list) and isinstance(fixed, list)
        else str(current) == str(fixed)
    )
    if current in (None, "", []) or same:
        field.disabled = True
        form.initial[name] = fixed
        return "fixed"
    return "differs"


def _mark_options(widget, hint: FieldHint) -> None:
    """Options a policy forbids are disabled and say why; one the value already holds stays
    choosable (disabling it would drop the value from the post) and is marked the same way."""
    create_option = widget.create_option

    def create(name, value, label, selected, index, subindex=None, attrs=None):
        option = create_option(name, value, label, selected, index, subindex, attrs)
        reasons = hint.forbidden(value) if value not in (None, "") else []
        if reasons:
            option["label"] = f"{label} ({'; '.join(reasons)})"
            if not selected:
                option["attrs"]["disabled"] = True
        return option

    widget.create_option = create


def reason_target(form, policy_path: str | None) -> tuple[str, str] | None:
    """(label, anchor id) of the form field a compliance reason's policy path names."""
    if not policy_path:
        return None
    for prefix in REPLICA_PREFIXES:
        if policy_path.startswith(prefix):
            policy_path = policy_path[len(prefix) :]
    if policy_path in ROW_FIELDS:
        return ROW_FIELDS[policy_path]
    name = POLICY_FIELDS.get(policy_path)
    if name is None or name not in form.fields:
        return None
    return str(form.fields[name].label or name), form[name].auto_id
