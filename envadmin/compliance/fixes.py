"""The smallest change that makes an environment comply with an effective policy.

`fix_environment` reads the rules the engine judges and touches only the fields the engine
finds a reason on: a value outside the options becomes the policy default when the options
allow it (else the first option), a number moves to the nearest value in [min, max] on the
step grid, a field the policy locks goes back to its default (or is removed when the policy
sets none), environment variables the policy does not permit are removed and locked ones are
no longer excluded, and the workload type is ticked when the environment does not support it.
What no change can fix (a required field without a default, a policy that contradicts
itself, the environment's placement) is reported in `unfixable`: exactly the reasons the
fixed environment still has.
"""

import copy
from collections.abc import Callable

from envadmin.contract.choices import WORKLOAD_TYPE_KEYS
from envadmin.contract.policy_paths import ENVIRONMENT_FIELDS, flatten_rules, lookup

from .engine import (
    _empty,
    _judge_instances,
    _judge_value,
    _option_text,
    _sections,
    default_source_label,
    evaluate,
)
from .states import supports


def fix_environment(
    environment: dict,
    effective: dict | None,
    workload_type: str,
    replica_type: str | None = None,
    *,
    source_label: Callable[[dict | None], str] = default_source_label,
    visible: bool = True,
    visibility_note: str = "",
) -> dict:
    """{"environment": the fixed {meta, spec}, "changes": [{field, from, to, because}],
    "unfixable": [the reasons the fixed environment still has]}."""
    fixed = copy.deepcopy(environment)
    meta = fixed.setdefault("meta", {})
    spec = fixed.get("spec")
    if not isinstance(spec, dict):
        spec = fixed["spec"] = {}
    changes: list[dict] = []

    before = evaluate(environment, effective, workload_type, replica_type, visible,
                      source_label=source_label, visibility_note=visibility_note)  # fmt: skip
    if not supports(meta, workload_type):
        key = WORKLOAD_TYPE_KEYS[workload_type]
        supported = dict(meta.get("workloadSupportedTypes") or {})
        because = next(r["details"] for r in before["reason"] if "field" not in r)
        changes.append(_change(f"workloadSupportedTypes.{key}", supported.get(key), True, because))
        supported[key] = True
        meta["workloadSupportedTypes"] = supported

    # A distributed environment serves both replicas with one spec: a field is fixed against
    # the rules of every section that rules it, one section after the other.
    rules_of: dict[str, list[tuple]] = {}
    for _prefix, defaults, rules, _assets in _sections(
        effective or {}, workload_type, replica_type
    ):
        flat = flatten_rules(rules)
        for field, (_path, kind) in ENVIRONMENT_FIELDS.items():
            rule = flat.get(f"{field}.instances" if kind == "instances" else field)
            if isinstance(rule, dict):
                source = source_label(rule.get("sourceOfRule"))
                rules_of.setdefault(field, []).append((rule, lookup(defaults, field), source))

    for field, rules in rules_of.items():
        spec_path, kind = ENVIRONMENT_FIELDS[field]
        if kind == "instances":
            changes += _fix_variables(spec, spec_path, field, rules)
        else:
            changes += _fix_value(spec, spec_path, field, kind, rules)

    after = evaluate(fixed, effective, workload_type, replica_type, visible,
                     source_label=source_label, visibility_note=visibility_note)  # fmt: skip
    return {"environment": fixed, "changes": changes, "unfixable": after["reason"]}


def _change(field, old, new, because) -> dict:
    return {"field": field, "from": old, "to": new, "because": because}


def _fix_value(spec, spec_path, field, kind, rules) -> list[dict]:
    value = lookup(spec, spec_path)
    reasons = [
        details
        for rule, default, source in rules
        for _kind, details in _judge_value(field, kind, value, default, rule, source)
    ]
    if not reasons:
        return []
    target = value
    for rule, default, _source in rules:
        target = _fixed_value(kind, target, rule, default)
    if target == value and type(target) is type(value):
        return []  # nothing to change: the reasons stay, as unfixable
    _set(spec, spec_path, target)
    return [_change(field, value, target, " ".join(dict.fromkeys(reasons)))]


def _fixed_value(kind, value, rule, default):
    """`value` changed as little as `rule` needs (None: the field removed)."""
    can_edit = rule.get("canEdit")
    if can_edit is None:
        can_edit = kind != "array"
    if not can_edit:
        return None if _empty(default) else copy.deepcopy(default)
    if _empty(value):
        return value  # a required field without a default: nothing to give it
    options = [o.get("value") for o in rule.get("options") or [] if isinstance(o, dict)]
    if options:
        value = _allowed(kind, value, options, default)
    if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
        value = _on_grid(value, rule.get("min"), rule.get("max"), rule.get("step"))
    return value


def _allowed(kind, value, options, default):
    def ok(item):
        return _option_text(item) in options or item in options

    if kind == "array":
        return [item for item in value if ok(item)]
    if ok(value):
        return value
    if not _empty(default) and ok(default):
        return copy.deepcopy(default)
    return _typed(kind, options[0], value)


def _typed(kind, option, fallback):
    """An option (a string) as a value of the field's kind; the old value when it is none."""
    if kind == "boolean" and _option_text(option) in ("true", "false"):
        return _option_text(option) == "true"
    if kind == "integer":
        try:
            return int(option)
        except (TypeError, ValueError):
            return fallback
    return option if kind != "boolean" else fallback


def _on_grid(value: int, low, high, step) -> int:
    """The valid value nearest to `value`: in [low, high], and low + k * step (0 + k * step
    without a min). `value` itself when no valid value exists (the policy contradicts itself)."""
    numbers = [n for n in (low, high, step) if n is not None]
    if any(isinstance(n, bool) or not isinstance(n, int) for n in numbers):
        return value
    clamped = max(value, low) if low is not None else value
    clamped = min(clamped, high) if high is not None else clamped
    if not step or step < 0:
        return clamped if low is None or high is None or low <= high else value
    start = low or 0
    below = start + (clamped - start) // step * step
    candidates = sorted(
        (
            n
            for n in (below, below + step)
            if (low is None or n >= low) and (high is None or n <= high)
        ),
        key=lambda n: (abs(n - value), n),
    )
    return candidates[0] if candidates else value


def _fix_variables(spec, spec_path, field, rules) -> list[dict]:
    variables = lookup(spec, spec_path)
    if not isinstance(variables, list):
        return []
    changes = []
    kept = []
    for variable in variables:
        if not isinstance(variable, dict):
            kept.append(variable)
            continue
        reasons = [
            details
            for rule, default, source in rules
            for _kind, details in _judge_instances(field, "instances", [variable], default, rule,
                                                   source)
        ]  # fmt: skip
        if not reasons:
            kept.append(variable)
            continue
        because = " ".join(dict.fromkeys(reasons))
        locked = any(variable.get("name") in set(rule.get("locked") or []) for rule, *_ in rules)
        new = None  # a variable the policy does not permit
        if variable.get("exclude") and locked:
            included = {k: v for k, v in variable.items() if k != "exclude"}
            # Locked but not permitted either (canAdd false and no such default): included,
            # it would break canAdd; removed, it breaks neither rule.
            if not any(
                list(_judge_instances(field, "instances", [included], default, rule, source))
                for rule, default, source in rules
            ):
                new = included
                kept.append(new)
        changes.append(_change(field, variable, new, because))
    if changes:
        _set(spec, spec_path, kept)
    return changes


def _set(spec: dict, path: str, value) -> None:
    """Set (or, for None, remove) the value at a dotted path of the spec, in place."""
    *parents, last = path.split(".")
    node = spec
    trail = []
    for part in parents:
        if not isinstance(node.get(part), dict):
            if value is None:
                return
            node[part] = {}
        trail.append((node, part))
        node = node[part]
    if value is None:
        node.pop(last, None)
        for parent, part in reversed(trail):  # groups left empty go too
            if parent[part]:
                break
            del parent[part]
    else:
        node[last] = value
