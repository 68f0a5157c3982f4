"""What the effective policies of a project ask of each environment field, for a form to show.

`field_hints` reads the same rules the engine judges (ENVIRONMENT_FIELDS), for every workload
type an environment will serve at once: the environment must satisfy them all, so the strictest
bound wins, an option is forbidden when any type forbids it, and every reason names its type
and the policy that sets it.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from envadmin.contract.policy_paths import ENVIRONMENT_FIELDS, flatten_rules, lookup

from .engine import REPLICA_SECTIONS, default_source_label


@dataclass(frozen=True)
class Source:
    """Which workload type's policy says it, and which node's policy ("department research")."""

    kind: str
    policy: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.policy}"


@dataclass(frozen=True)
class Options:
    allowed: tuple[tuple[str, str], ...]  # (value, displayed)
    source: Source


@dataclass(frozen=True)
class Bound:
    value: int
    source: Source
    start: int = 0  # a step counts from its rule's min (engine rule)


@dataclass(frozen=True)
class Setting:
    """A policy default, or the value a canEdit: false rule fixes (None: fixed to unset)."""

    value: object
    source: Source


@dataclass
class FieldHint:
    kind: str
    options: list[Options] = field(default_factory=list)
    min: Bound | None = None
    max: Bound | None = None
    steps: list[Bound] = field(default_factory=list)
    locks: list[Setting] = field(default_factory=list)
    required: list[Source] = field(default_factory=list)
    defaults: list[Setting] = field(default_factory=list)
    can_add: list[Setting] = field(default_factory=list)  # env vars: the names allowed
    locked_items: list[Setting] = field(default_factory=list)  # env vars that stay

    def forbidden(self, value) -> list[str]:
        """Why `value` (one option; an item, for a list field) is not allowed: [] if it is."""
        text = str(value).lower() if isinstance(value, bool) else str(value)
        return [
            f"not allowed for {rule.source.kind} by {rule.source.policy}"
            for rule in self.options
            if text not in {allowed for allowed, _ in rule.allowed}
        ]

    @property
    def step(self) -> Bound | None:
        """The one step a number input can carry: only when a single policy sets one."""
        return self.steps[0] if len(self.steps) == 1 else None

    def range_text(self) -> str:
        """ "1000 or more", "at most 8", "between 1 and 8", with any step: what a person reads."""
        low, high = self.min, self.max
        if low and high:
            text = f"between {low.value} and {high.value}"
        elif low:
            text = f"{low.value} or more"
        elif high:
            text = f"at most {high.value}"
        else:
            text = ""
        for step in self.steps:
            if step.value == 1:
                continue  # every whole number: nothing to tell
            text += (", " if text else "") + f"in steps of {step.value} from {step.start}"
        return text

    def range_sources(self) -> list[Source]:
        found = [b.source for b in (self.min, self.max, *self.steps) if b]
        return list(dict.fromkeys(found))

    @property
    def default(self) -> Setting | None:
        """The default to offer: only when every type that gives one agrees on it."""
        values = {repr(d.value) for d in self.defaults}
        return self.defaults[0] if len(values) == 1 else None


def field_hints(
    policies: Iterable[tuple[str, dict | None]],
    source_label: Callable[[dict | None], str] = default_source_label,
) -> dict[str, FieldHint]:
    """{spec path (as ENVIRONMENT_FIELDS names it): FieldHint} of the fields any of `policies`
    rules or gives a default. `policies`: [(workload type, effective policy)]; a Distributed
    policy's worker and master sections both apply, each named as its own type."""
    hints: dict[str, FieldHint] = {}
    for kind, section_defaults, rules in _sections(policies):
        flat = flatten_rules(rules)
        for path, (spec_path, value_kind) in ENVIRONMENT_FIELDS.items():
            rule = flat.get(f"{path}.instances" if value_kind == "instances" else path)
            default = lookup(section_defaults, path)
            if not isinstance(rule, dict) and _empty(default):
                continue
            hint = hints.setdefault(spec_path, FieldHint(value_kind))
            source = Source(kind, source_label((rule or {}).get("sourceOfRule")))
            if not _empty(default) and value_kind != "instances":
                hint.defaults.append(Setting(default, Source(kind, "its policy default")))
            if isinstance(rule, dict):
                _read_rule(hint, rule, value_kind, default, source)
    return hints


def _sections(policies):
    for kind, effective in policies:
        effective = effective or {}
        defaults, rules = effective.get("defaults") or {}, effective.get("rules") or {}
        if kind != "Distributed":
            yield kind, defaults, rules
            continue
        for replica, name in REPLICA_SECTIONS.items():
            yield f"{kind} {replica.lower()}", defaults.get(name) or {}, rules.get(name) or {}


def _read_rule(hint: FieldHint, rule: dict, value_kind: str, default, source: Source):
    if value_kind == "instances":
        names = [
            v.get("name") for v in (default or {}).get("instances") or [] if isinstance(v, dict)
        ]
        if rule.get("canAdd") is False:
            hint.can_add.append(Setting(names, source))
        if rule.get("locked"):
            hint.locked_items.append(Setting(list(rule["locked"]), source))
        return
    if rule.get("required") and _empty(default):
        hint.required.append(source)
    options = [o for o in rule.get("options") or [] if isinstance(o, dict) and "value" in o]
    if options:
        allowed = tuple((str(o["value"]), str(o.get("displayed") or o["value"])) for o in options)
        hint.options.append(Options(allowed, source))
    if value_kind == "integer":
        low, high, step = rule.get("min"), rule.get("max"), rule.get("step")
        if _number(low) and (hint.min is None or low > hint.min.value):
            hint.min = Bound(low, source)
        if _number(high) and (hint.max is None or high < hint.max.value):
            hint.max = Bound(high, source)
        if _number(step) and step > 0:
            hint.steps.append(Bound(step, source, low if _number(low) else 0))
    # canEdit is true by default for scalars and false for lists (as the engine reads it).
    can_edit = rule.get("canEdit")
    if can_edit is False or (can_edit is None and value_kind == "array"):
        hint.locks.append(Setting(None if _empty(default) else default, source))


def _number(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}
