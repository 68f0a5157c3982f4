"""fix_environment: the smallest change that makes an environment comply (table and property
tests over random policies and environments)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envadmin.compliance.engine import evaluate
from envadmin.compliance.fixes import fix_environment
from envadmin.contract.policy_paths import ENVIRONMENT_FIELDS, lookup


def env(spec=None, types=("workspace",), **meta):
    supported = dict.fromkeys(types, True)
    return {
        "meta": {"name": "e", "scope": "tenant", "workloadSupportedTypes": supported, **meta},
        "spec": {"image": "python:3.12", **(spec or {})},
    }


def options(*values):
    return {"options": [{"value": v} for v in values]}


TABLE = [
    # (rules, defaults, spec, the fixed spec's changed field, its new value)
    ({"imagePullPolicy": options("IfNotPresent", "Never")}, {"imagePullPolicy": "Never"},
     {"imagePullPolicy": "Always"}, "imagePullPolicy", "Never"),
    ({"imagePullPolicy": options("IfNotPresent", "Never")}, {},
     {"imagePullPolicy": "Always"}, "imagePullPolicy", "IfNotPresent"),
    # a default outside the options is not taken: the first option is
    ({"imagePullPolicy": options("IfNotPresent", "Never")}, {"imagePullPolicy": "Always"},
     {"imagePullPolicy": "Always"}, "imagePullPolicy", "IfNotPresent"),
    ({"security": {"runAsUid": {"min": 1000, "max": 2000}}}, {},
     {"runAsUid": 0}, "runAsUid", 1000),
    ({"security": {"runAsUid": {"min": 1000, "max": 2000}}}, {},
     {"runAsUid": 5000}, "runAsUid", 2000),
    ({"security": {"runAsUid": {"min": 1000, "step": 10}}}, {},
     {"runAsUid": 1016}, "runAsUid", 1020),
    ({"security": {"runAsUid": {"min": 1000, "step": 10}}}, {},
     {"runAsUid": 1014}, "runAsUid", 1010),
    ({"security": {"runAsUid": {"min": 1000, "max": 1015, "step": 10}}}, {},
     {"runAsUid": 1016}, "runAsUid", 1010),
    ({"security": {"runAsUid": {"step": 5}}}, {}, {"runAsUid": -7}, "runAsUid", -5),
    ({"security": {"hostIpc": {"canEdit": False}}}, {"security": {"hostIpc": False}},
     {"hostIpc": True}, "hostIpc", False),
    ({"security": {"hostIpc": {"canEdit": False}}}, {}, {"hostIpc": True}, "hostIpc", None),
    ({"tty": options("false")}, {}, {"tty": True}, "tty", False),
    ({"security": {"capabilities": {**options("CHOWN"), "canEdit": True}}}, {},
     {"capabilities": ["KILL", "CHOWN"]}, "capabilities", ["CHOWN"]),
    # arrays are locked unless a rule says canEdit: true
    ({"security": {"capabilities": options("CHOWN")}}, {"security": {"capabilities": ["CHOWN"]}},
     {"capabilities": ["KILL"]}, "capabilities", ["CHOWN"]),
    ({"probes": {"readiness": {"periodSeconds": {"max": 30}}}}, {},
     {"probes": {"readiness": {"periodSeconds": 60, "timeoutSeconds": 5}}},
     "probes.readiness.periodSeconds", 30),
]  # fmt: skip


@pytest.mark.parametrize(("rules", "defaults", "spec", "path", "fixed"), TABLE)
def test_a_rule_is_met_by_the_smallest_change(rules, defaults, spec, path, fixed):
    environment = env(spec)
    effective = {"rules": rules, "defaults": defaults}
    assert not evaluate(environment, effective, "Workspace")["compliance"]

    result = fix_environment(environment, effective, "Workspace")

    assert result["unfixable"] == []
    assert evaluate(result["environment"], effective, "Workspace")["compliance"]
    assert lookup(result["environment"]["spec"], path) == fixed
    assert type(lookup(result["environment"]["spec"], path)) is type(fixed)
    (change,) = result["changes"]
    assert change["from"] == lookup(environment["spec"], path)
    assert change["to"] == fixed
    reasons = evaluate(environment, effective, "Workspace")["reason"]
    assert change["because"] == " ".join(r["details"] for r in reasons)
    # every other value stays as it was
    untouched = {k: v for k, v in result["environment"]["spec"].items() if k != path.split(".")[0]}
    assert untouched == {k: v for k, v in environment["spec"].items() if k != path.split(".")[0]}
    assert environment == env(spec)  # the input is not changed


def test_environment_variables_the_policy_does_not_permit_are_removed_and_locked_ones_kept():
    effective = {
        "rules": {"environmentVariables": {"instances": {"canAdd": False, "locked": ["HOME"]}}},
        "defaults": {"environmentVariables": {"instances": [{"name": "HOME", "value": "/h"}]}},
    }
    environment = env({"environmentVariables": [
        {"name": "HOME", "exclude": True}, {"name": "EXTRA", "value": "1"},
    ]})  # fmt: skip

    result = fix_environment(environment, effective, "Workspace")

    assert result["environment"]["spec"]["environmentVariables"] == [{"name": "HOME"}]
    assert [(c["from"]["name"], c["to"]) for c in result["changes"]] == [
        ("HOME", {"name": "HOME"}), ("EXTRA", None),
    ]  # fmt: skip
    assert evaluate(result["environment"], effective, "Workspace")["compliance"]


def test_the_workload_type_is_ticked():
    result = fix_environment(env(types=("training",)), {}, "Workspace")
    assert result["environment"]["meta"]["workloadSupportedTypes"] == {
        "training": True, "workspace": True,
    }  # fmt: skip
    assert result["changes"][0]["field"] == "workloadSupportedTypes.workspace"
    assert "does not support Workspace" in result["changes"][0]["because"]
    assert result["unfixable"] == []


def test_a_required_field_without_a_default_is_unfixable():
    effective = {"rules": {"workingDir": {"required": True}}, "defaults": {}}
    result = fix_environment(env(), effective, "Workspace")
    assert result["changes"] == []
    assert [r["rule"] for r in result["unfixable"]] == ["required"]


def test_the_placement_is_unfixable():
    result = fix_environment(env(), {}, "Workspace", visible=False, visibility_note="far away.")
    assert result["changes"] == []
    assert result["unfixable"][0]["details"].endswith("far away.")


def test_distributed_fixes_both_replicas_or_reports_their_conflict():
    effective = {
        "rules": {"master": {"imagePullPolicy": options("Never", "IfNotPresent")},
                  "worker": {"imagePullPolicy": options("IfNotPresent")}},
        "defaults": {},
    }  # fmt: skip
    environment = env({"imagePullPolicy": "Always"}, types=("distributed",))
    both = fix_environment(environment, effective, "Distributed")
    assert both["environment"]["spec"]["imagePullPolicy"] == "IfNotPresent"
    assert both["unfixable"] == []
    master = fix_environment(environment, effective, "Distributed", "Master")
    assert master["environment"]["spec"]["imagePullPolicy"] == "Never"

    effective["rules"]["worker"] = {"imagePullPolicy": options("Always")}
    conflict = fix_environment(environment, effective, "Distributed")
    assert conflict["unfixable"]
    assert {r["field"] for r in conflict["unfixable"]} <= {
        "master.imagePullPolicy",
        "worker.imagePullPolicy",
    }


# --- property tests -------------------------------------------------------------------------

STRING_VALUES = ["a", "b", "c"]
KIND_VALUES = {
    "string": st.sampled_from(STRING_VALUES),
    "boolean": st.booleans(),
    "integer": st.integers(-20, 20),
    "array": st.lists(st.sampled_from(STRING_VALUES), max_size=3, unique=True),
}
FIELDS = {
    "imagePullPolicy": "string",
    "workingDir": "string",
    "tty": "boolean",
    "security.hostIpc": "boolean",
    "security.runAsUid": "integer",
    "probes.readiness.periodSeconds": "integer",
    "security.capabilities": "array",
}
NAMES = ["A", "B", "C"]


@st.composite
def rules_and_default(draw, kind):
    rule = {}
    if draw(st.booleans()):
        rule["required"] = True
    if draw(st.booleans()):
        rule["canEdit"] = draw(st.booleans())
    if kind == "integer":
        for key in ("min", "max"):
            if draw(st.booleans()):
                rule[key] = draw(st.integers(-20, 20))
        if draw(st.booleans()):
            rule["step"] = draw(st.integers(1, 7))
    elif draw(st.booleans()):
        pool = ["true", "false"] if kind == "boolean" else STRING_VALUES
        chosen = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
        rule["options"] = [{"value": v} for v in chosen]
    default = draw(st.none() | KIND_VALUES[kind])
    return rule, default


@st.composite
def policies(draw):
    rules, defaults = {}, {}
    for field, kind in FIELDS.items():
        if draw(st.booleans()):
            rule, default = draw(rules_and_default(kind))
            if rule:
                _put(rules, field, rule)
            if default is not None:
                _put(defaults, field, default)
    if draw(st.booleans()):
        locked = draw(st.lists(st.sampled_from(NAMES), max_size=2, unique=True))
        instances = {"locked": locked}
        if draw(st.booleans()):
            instances["canAdd"] = draw(st.booleans())
        rules["environmentVariables"] = {"instances": instances}
        defined = draw(st.lists(st.sampled_from(NAMES), max_size=2, unique=True))
        defaults["environmentVariables"] = {"instances": [{"name": n} for n in defined]}
    return {"rules": rules, "defaults": defaults}


@st.composite
def environments(draw):
    spec = {"image": "python:3.12"}
    for field, kind in FIELDS.items():
        if draw(st.booleans()):
            _put(spec, ENVIRONMENT_FIELDS[field][0], draw(KIND_VALUES[kind]))
    variables = draw(st.lists(st.sampled_from(NAMES), max_size=3, unique=True))
    if variables:
        spec["environmentVariables"] = [
            {"name": n, **({"exclude": True} if draw(st.booleans()) else {"value": "v"})}
            for n in variables
        ]
    types = draw(st.lists(st.sampled_from(["workspace", "training"]), max_size=2, unique=True))
    return env(spec, types=types)


def _put(tree, path, value):
    *parents, last = path.split(".")
    for part in parents:
        tree = tree.setdefault(part, {})
    tree[last] = value


def _spec_values(environment):
    values = {}
    for field, (path, _kind) in ENVIRONMENT_FIELDS.items():
        values[field] = lookup(environment["spec"], path)
    values["workloadSupportedTypes"] = environment["meta"].get("workloadSupportedTypes")
    values["rest"] = {
        k: v
        for k, v in environment["spec"].items()
        if k not in {p.split(".")[0] for p, _ in ENVIRONMENT_FIELDS.values()}
    }
    return values  # fmt: skip


def _consistent(effective):
    """Whether every rule's default meets the rule and a number rule has a valid value: then
    only a required field without a default can be left unfixable."""
    defaults_only = {"meta": {"workloadSupportedTypes": {"workspace": True}}, "spec": {}}
    for field, (path, _kind) in ENVIRONMENT_FIELDS.items():
        default = lookup(effective["defaults"], field)
        if default is not None and not isinstance(default, dict):
            _put(defaults_only["spec"], path, default)
    judged = evaluate(defaults_only, effective, "Workspace")["reason"]
    if any(r.get("rule") != "required" for r in judged):
        return False
    runs = [lookup(effective["rules"], f) for f in FIELDS if FIELDS[f] == "integer"]
    for rule in filter(None, runs):
        low, high, step = rule.get("min"), rule.get("max"), rule.get("step") or 1
        start = low if low is not None else 0
        if low is not None and high is not None and low > high:
            return False
        if high is not None and low is None:
            continue  # the grid reaches down without end
        if high is not None and not any((n - start) % step == 0 for n in range(start, high + 1)):
            return False
    return True


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies(), environments())
def test_the_fix_complies_unless_it_reports_unfixable(effective, environment):
    result = fix_environment(environment, effective, "Workspace")
    after = evaluate(result["environment"], effective, "Workspace")

    assert after["compliance"] == (result["unfixable"] == [])
    assert after["reason"] == result["unfixable"]
    if _consistent(effective):
        assert {r.get("rule") for r in result["unfixable"]} <= {"required"}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies(), environments())
def test_the_fix_changes_only_fields_named_in_a_reason(effective, environment):
    reasons = evaluate(environment, effective, "Workspace")["reason"]
    named = {r.get("field", "workloadSupportedTypes") for r in reasons}

    result = fix_environment(environment, effective, "Workspace")

    before, after = _spec_values(environment), _spec_values(result["environment"])
    changed = {key for key in before if before[key] != after[key]}
    assert changed <= named
    assert {c["field"].split(".workspace")[0] for c in result["changes"]} <= named
    assert all(c["because"] for c in result["changes"])


def test_a_locked_excluded_variable_the_policy_does_not_permit_is_removed():
    # Found by hypothesis: including it again would break canAdd; removing it breaks neither.
    effective = {
        "rules": {"environmentVariables": {"instances": {"locked": ["A"], "canAdd": False}}},
        "defaults": {"environmentVariables": {"instances": []}},
    }
    environment = {
        "meta": {"name": "e", "scope": "tenant", "workloadSupportedTypes": {"workspace": True}},
        "spec": {"image": "python:3.12", "environmentVariables": [{"name": "A", "exclude": True}]},
    }

    result = fix_environment(environment, effective, "Workspace")

    assert result["unfixable"] == []
    assert result["environment"]["spec"]["environmentVariables"] == []
    assert evaluate(result["environment"], effective, "Workspace")["compliance"] is True
