"""Compliance of an environment with an effective policy (reference §5, our rule).

`evaluate` is a pure function of Run:ai documents. It judges only the policy fields that an
environment carries; other rules of the policy (compute, storage, ...) concern the workload.
"""

from collections.abc import Callable

from envadmin.contract.choices import SUPPORTED_TYPE_KEYS
from envadmin.contract.policy_paths import ENVIRONMENT_FIELDS, flatten_rules, lookup

from .states import supports

REPLICA_SECTIONS = {"Worker": "worker", "Master": "master"}
# Distinct answers a compiled judge keeps (a few hundred bytes each, reasons shared).
MEMO_LIMIT = 20_000


def default_source_label(source: dict | None) -> str:
    if not source:
        return "the policy"
    scope = source.get("scope", "")
    node = source.get("projectId") or source.get("departmentId") or source.get("clusterId")
    return f"the {scope} policy" + (f" of {node}" if node else "")


def evaluate(
    environment: dict,
    effective: dict | None,
    workload_type: str,
    replica_type: str | None = None,
    visible: bool = True,
    *,
    source_label: Callable[[dict | None], str] = default_source_label,
    visibility_note: str = "",
) -> dict:
    """{imposed, compliance, reason[]} of `environment` ({meta, spec}) for a workload type
    (Workspace|Training|Distributed|Inference) under `effective` {defaults, rules, imposedAssets}.
    """
    judge = compile_policy(effective, workload_type, replica_type, source_label=source_label)
    return judge(environment, visible, visibility_note)


def compile_policy(
    effective: dict | None,
    workload_type: str,
    replica_type: str | None = None,
    *,
    source_label: Callable[[dict | None], str] = default_source_label,
) -> Callable[..., dict]:
    """`evaluate` split in two: the policy is read once, then judge(environment, visible,
    visibility_note) is called per environment (a list judges thousands against one policy)."""
    sections = []
    for prefix, defaults, rules, assets in _sections(effective or {}, workload_type, replica_type):
        flat = flatten_rules(rules)
        checks = []
        for field, (spec_path, kind) in ENVIRONMENT_FIELDS.items():
            rule = flat.get(f"{field}.instances" if kind == "instances" else field)
            if isinstance(rule, dict):
                source = source_label(rule.get("sourceOfRule"))
                default = lookup(defaults, field)
                checks.append((field, tuple(spec_path.split(".")), kind, rule, default, source))
        sections.append((prefix, checks, set(assets or [])))

    # Environments share most ruled values (a few images, pull policies, uids...): each check
    # judges a value once per list, and so does the supported-types check. repr() keys tell
    # True from 1 and 1.0, which the rules treat apart. The reason objects are shared between
    # environments and never changed; every environment gets a list of its own.
    checks = [(prefix, check) for prefix, section_checks, _ in sections for check in section_checks]
    judged: dict[tuple, list[dict]] = {}
    # Whole answers too, keyed by the verdict of every check (a list of `judged`, by identity,
    # as it lives as long as the judge; the variables' reasons as text): environments alike in
    # what the policy reads share one answer. Bounded, so 100,000 different environments keep
    # its memory.
    answers: dict[tuple, list[dict]] = {}

    def judge(environment: dict, visible: bool = True, visibility_note: str = "") -> dict:
        meta = environment.get("meta") or {}
        spec = environment.get("spec") or {}
        key = (None, repr(meta.get("workloadSupportedTypes")), visible, visibility_note)
        found = judged.get(key)
        if found is None:
            found = judged[key] = _non_policy_reasons(meta, workload_type, visible, visibility_note)
        verdicts = [found]
        if not isinstance(spec, dict):
            spec = {}  # lookup() finds nothing in anything else either
        for index, (prefix, (field, spec_path, kind, rule, default, source)) in enumerate(checks):
            # Most ruled fields sit at the top of the spec: one dict read, not a path walk.
            value = spec.get(spec_path[0]) if len(spec_path) == 1 else lookup(spec, spec_path)
            if kind == "instances":  # environment variables: nearly every list is different
                verdicts.append(tuple(_judge_instances(field, kind, value, default, rule, source)))
                continue
            # A string keys as itself (no repr to make); anything else by repr, in a longer
            # tuple, so "None" and None never share a key.
            key = (index, value) if type(value) is str else (index, None, repr(value))
            found = judged.get(key)
            if found is None:
                found = judged[key] = [
                    {"field": prefix + field, "rule": rule_kind, "details": details}
                    for rule_kind, details in _judge_value(
                        field, kind, value, default, rule, source
                    )
                ]
            verdicts.append(found)
        key = tuple([v if type(v) is tuple else id(v) for v in verdicts])
        reasons = answers.get(key)
        if reasons is None:
            reasons = list(verdicts[0])
            for (prefix, (field, *_)), verdict in zip(checks, verdicts[1:], strict=True):
                if type(verdict) is tuple:
                    reasons += [{"field": prefix + field, "rule": rule_kind, "details": details}
                                for rule_kind, details in verdict]  # fmt: skip
                else:
                    reasons += verdict
            if len(answers) < MEMO_LIMIT:
                answers[key] = reasons
        asset_id = meta.get("id")
        imposed = asset_id is not None and any(asset_id in assets for _, _, assets in sections)
        return {"imposed": imposed, "compliance": not reasons, "reason": list(reasons)}

    # What the judge reads of its policy, for callers holding many policies (the impact of a
    # change judges every project's chain): two judges alike in it answer alike.
    judge.signature = repr((workload_type, [
        (prefix, [(field, spec_path, kind, _rule_read(rule), _default_read(kind, default), source)
                  for field, spec_path, kind, rule, default, source in section_checks],
         sorted(map(repr, assets)))
        for prefix, section_checks, assets in sections
    ]))  # fmt: skip
    # The ids the policy imposes: for any other environment the verdict depends on its meta's
    # supported types and its spec only, so a list may judge each distinct pair once.
    judge.imposed = frozenset(asset for _, _, assets in sections for asset in assets)
    return judge


def _rule_read(rule: dict) -> list:
    # sourceOfRule is read through source_label only; the label is part of the signature.
    return sorted((key, repr(value)) for key, value in rule.items() if key != "sourceOfRule")


def _default_read(kind: str, default) -> str:
    """A default as the checks read it: of environment variables, their names only."""
    if kind == "instances" and isinstance(default, dict):
        instances = default.get("instances") or []
        return repr([v.get("name") for v in instances if isinstance(v, dict)])
    return repr(default)


def _sections(effective, workload_type, replica_type):
    """(field prefix, defaults, rules, imposed assets) for each policy section to judge."""
    defaults = effective.get("defaults") or {}
    rules = effective.get("rules") or {}
    imposed = effective.get("imposedAssets")
    if workload_type != "Distributed":
        yield "", defaults, rules, imposed if isinstance(imposed, list) else []
        return
    # A distributed policy has a section per replica; without a replica type both are judged.
    names = [REPLICA_SECTIONS[replica_type]] if replica_type else ["master", "worker"]
    for name in names:
        assets = imposed.get(name) if isinstance(imposed, dict) else []
        yield f"{name}.", defaults.get(name) or {}, rules.get(name) or {}, assets


def _non_policy_reasons(meta, workload_type, visible, visibility_note) -> list[dict]:
    reasons = []
    if not supports(meta, workload_type):
        supported = meta.get("workloadSupportedTypes") or {}
        kinds = [k for k in SUPPORTED_TYPE_KEYS if supported.get(k)]
        reasons.append(
            {
                "details": f"The environment does not support {workload_type} workloads "
                f"(it supports: {', '.join(kinds) or 'none'})."
            }
        )
    if not visible:
        reasons.append(
            {
                "details": "The project cannot use this environment: "
                + (visibility_note or "it belongs to a scope outside the project's chain.")
            }
        )
    return reasons


def _empty(value) -> bool:
    return value is None or value == "" or value == []


def _shown(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return f"'{value}'" if isinstance(value, str) else str(value)


def _judge_value(field, kind, value, default, rule, source):
    if rule.get("required") and _empty(value) and _empty(default):
        yield (
            "required",
            (
                f"{field} is required by {source}, but the environment does not set it "
                "and the policy gives no default."
            ),
        )
    options = [o.get("value") for o in rule.get("options") or [] if isinstance(o, dict)]
    if options and not _empty(value):
        allowed = ", ".join(str(o) for o in options)
        items = value if kind == "array" else [value]
        for item in items:
            if _option_text(item) not in options and item not in options:
                what = (
                    f"{field} item {_shown(item)}" if kind == "array" else f"{field} {_shown(item)}"
                )
                yield "options", f"{what} is not allowed by {source}: choose from {allowed}."
    if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
        low, high, step = rule.get("min"), rule.get("max"), rule.get("step")
        if low is not None and value < low:
            yield "min", f"{field} is {value}, below the minimum of {low} set by {source}."
        if high is not None and value > high:
            yield "max", f"{field} is {value}, above the maximum of {high} set by {source}."
        if step and (value - (low or 0)) % step:
            start = low or 0
            yield (
                "step",
                (
                    f"{field} is {value}, but {source} allows only steps of {step} from {start} "
                    f"({start}, {start + step}, {start + 2 * step}, ...)."
                ),
            )
    # canEdit is true by default for scalars and false for arrays (reference §5).
    can_edit = rule.get("canEdit")
    if can_edit is None:
        can_edit = kind != "array"
    if not can_edit and not _empty(value) and not _same(value, default):
        fixed = "unset" if _empty(default) else _shown(default)
        yield "canEdit", f"{field} is {_shown(value)}, but {source} fixes it to {fixed}."


def _option_text(value) -> str:
    """Options are strings: a boolean is written as JSON writes it, "true" or "false"."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _same(value, default) -> bool:
    if isinstance(value, list) and isinstance(default, list):
        return sorted(map(str, value)) == sorted(map(str, default))
    return value == default


def _judge_instances(field, kind, value, default, rule, source):
    instances = rule  # the item rules {canAdd, locked}
    variables = [v for v in value or [] if isinstance(v, dict)]
    defined = [v.get("name") for v in (default or {}).get("instances") or [] if isinstance(v, dict)]
    if instances.get("canAdd") is False:
        for variable in variables:
            if variable.get("name") not in defined and not variable.get("exclude"):
                allowed = ", ".join(defined) or "none"
                yield (
                    "canAdd",
                    (
                        f"Environment variable '{variable.get('name')}' may not be added: {source} "
                        f"permits only the variables it defines ({allowed})."
                    ),
                )
    locked = set(instances.get("locked") or [])
    for variable in variables:
        if variable.get("exclude") and variable.get("name") in locked:
            yield (
                "locked",
                (
                    f"Environment variable '{variable.get('name')}' is locked by {source} "
                    "and may not be excluded."
                ),
            )
