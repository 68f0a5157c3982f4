"""Policy write requests of policy.openapi.json (overwrite and change), checked for shape.

Rules and defaults of the fields an environment carries are type-checked; rules of other
fields only need to be rule objects and are kept as given. Every number, wherever it is, must
lie in the range the contract gives its field (policy_numbers.py).
"""

import hashlib
import json
import uuid

from .choices import POLICY_SCOPES, SCOPE_ID_FIELDS, USED_BY_KEYS
from .errors import InvalidRequest
from .fields import INT32_MAX
from .policy_numbers import number_problem
from .policy_paths import ENVIRONMENT_FIELDS, DuplicateRulePath, flatten_rules, lookup

# URL segment -> workload type of the local model.
POLICY_PATHS = {plural: kind for kind, plural in USED_BY_KEYS.items()}
DISTRIBUTED_SECTIONS = ("worker", "master")
BOOLEAN_RULE_KEYS = ("required", "canEdit", "canAdd")
INTEGER_RULE_KEYS = ("min", "max", "step")
# envadmin's cap on any list in a policy (Run:ai's contract sets none).
MAX_POLICY_LIST = 1_000
KIND_CHECKS = {
    "string": (lambda v: isinstance(v, str), "a string"),
    "integer": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "boolean": (lambda v: isinstance(v, bool), "a boolean"),
    "array": (lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v), "a list"),
}


def _fail(path: str, message: str):
    raise InvalidRequest(f"{path}: {message}", field_errors={path: [message]})


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_meta(meta) -> dict:
    if not isinstance(meta, dict):
        _fail("meta", "Must be an object with name and scope.")
    name = meta.get("name")
    if not isinstance(name, str) or not name.strip():
        _fail("meta.name", "A policy needs a name.")
    if len(name) > 255:
        _fail("meta.name", "At most 255 characters.")
    scope = meta.get("scope")
    if scope not in POLICY_SCOPES:
        _fail("meta.scope", f"Must be one of: {', '.join(POLICY_SCOPES)}.")
    clean = {"name": name, "scope": scope}
    id_field = SCOPE_ID_FIELDS
    for key in SCOPE_ID_FIELDS.values():
        value = meta.get(key)
        if value is None:
            continue
        if key == "projectId" and not _is_int(value):
            _fail("meta.projectId", "Must be an integer.")
        if key == "projectId" and not -INT32_MAX - 1 <= value <= INT32_MAX:
            _fail("meta.projectId", "Must be a project id (an int32).")
        if key == "clusterId":
            try:
                value = str(uuid.UUID(str(value)))
            except ValueError:
                _fail("meta.clusterId", "Must be a UUID.")
        if key == "departmentId" and not isinstance(value, str):
            _fail("meta.departmentId", "Must be a string.")
        clean[key] = value
    if scope in id_field and id_field[scope] not in clean:
        _fail(f"meta.{id_field[scope]}", f"Required for a policy of scope '{scope}'.")
    for below in POLICY_SCOPES[POLICY_SCOPES.index(scope) + 1 :]:
        if id_field[below] in clean:
            _fail(f"meta.{id_field[below]}", f"Not used for a policy of scope '{scope}'.")
    return clean


def _check_rule(path: str, rule: dict):
    for key in BOOLEAN_RULE_KEYS:
        if rule.get(key) is not None and not isinstance(rule[key], bool):
            _fail(f"{path}.{key}", "Must be true or false.")
    for key in INTEGER_RULE_KEYS:
        if rule.get(key) is not None and not _is_int(rule[key]):
            _fail(f"{path}.{key}", "Must be an integer.")
    if _is_int(rule.get("min")) and _is_int(rule.get("max")) and rule["min"] > rule["max"]:
        _fail(f"{path}.min", f"min {rule['min']} is above max {rule['max']}.")
    if _is_int(rule.get("step")) and rule["step"] <= 0:
        _fail(f"{path}.step", "Must be a positive integer.")
    options = rule.get("options")
    if options is not None:
        if not isinstance(options, list):
            _fail(f"{path}.options", "Must be a list of {value, displayed}.")
        for index, option in enumerate(options):
            if not isinstance(option, dict) or not isinstance(option.get("value"), str):
                _fail(f"{path}.options[{index}].value", "Each option needs a string value.")
    locked = rule.get("locked")
    if locked is not None and (
        not isinstance(locked, list) or not all(isinstance(n, str) for n in locked)
    ):
        _fail(f"{path}.locked", "Must be a list of item keys.")


def _check_defaults(path: str, defaults: dict):
    for field, (_, kind) in ENVIRONMENT_FIELDS.items():
        value = lookup(defaults, field)
        if value is None:
            continue
        if kind == "instances":
            instances = value.get("instances") if isinstance(value, dict) else None
            if not isinstance(instances, list) or not all(
                isinstance(v, dict) and isinstance(v.get("name"), str) for v in instances
            ):
                _fail(f"{path}.{field}", "Must be {instances: [{name, value, ...}]}.")
            continue
        check, expected = KIND_CHECKS[kind]
        if not check(value):
            _fail(f"{path}.{field}", f"Must be {expected}.")


def _check_assets(path: str, assets):
    if assets is None:
        return
    if not isinstance(assets, list):
        _fail(path, "Must be a list of asset ids.")
    for index, asset in enumerate(assets):
        try:
            uuid.UUID(str(asset))
        except ValueError:
            _fail(f"{path}[{index}]", f"'{asset}' is not an asset id (a UUID).")


def _check_list_lengths(policy: dict):
    """No list in a policy (options, locked items, default instances, imposed assets) longer
    than MAX_POLICY_LIST: each is shown, merged and judged against every environment."""
    stack = [("policy", policy)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, list):
            if len(value) > MAX_POLICY_LIST:
                _fail(path, f"At most {MAX_POLICY_LIST} items.")
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(value))
        elif isinstance(value, dict):
            stack.extend((f"{path}.{key}", item) for key, item in value.items())


def validate_policy(policy, workload_type: str) -> dict:
    """A clean {defaults, rules, imposedAssets}; sourceOfRule and status are server-kept."""
    if policy is None:
        return {}
    if not isinstance(policy, dict):
        _fail("policy", "Must be an object {defaults, rules, imposedAssets}.")
    _check_list_lengths(policy)
    clean = {}
    for key in ("defaults", "rules"):
        value = policy.get(key)
        if value is not None and not isinstance(value, dict):
            _fail(f"policy.{key}", "Must be an object.")
        if value:
            clean[key] = value
    rules = clean.get("rules") or {}
    try:
        flat_rules = flatten_rules(rules, strict=True)
    except DuplicateRulePath as duplicate:
        _fail(f"policy.rules.{duplicate}", "Ruled twice: once nested and once as a dotted key.")
    for path, rule in flat_rules.items():
        if not isinstance(rule, dict):
            # Every leaf of `rules` is a rule object; anything else would hide the rules of a
            # whole group (e.g. "security": "none") from the one-rule-per-branch check.
            _fail(f"policy.rules.{path}", "Must be a rule object such as {required, canEdit}.")
        rule.pop("sourceOfRule", None)
        _check_rule(f"policy.rules.{path}", rule)
    defaults = clean.get("defaults") or {}
    sections = DISTRIBUTED_SECTIONS if workload_type == "distributed" else (None,)
    for section in sections:
        prefix = f"policy.defaults.{section}" if section else "policy.defaults"
        part = defaults.get(section) if section else defaults
        if isinstance(part, dict):
            _check_defaults(prefix, part)
    assets = policy.get("imposedAssets")
    if workload_type == "distributed" and assets is not None:
        if not isinstance(assets, dict):
            _fail("policy.imposedAssets", "Must be {worker: [...], master: [...]}.")
        for section, ids in assets.items():
            _check_assets(f"policy.imposedAssets.{section}", ids)
    else:
        _check_assets("policy.imposedAssets", assets)
    if assets is not None:
        clean["imposedAssets"] = assets
    problem = number_problem(clean, workload_type)
    if problem:
        _fail(*problem)
    return clean


def validate_policy_request(body, workload_type: str, partial: bool = False) -> dict:
    """{meta, policy, reset} of a PUT (overwrite) or PATCH (change, with `reset`)."""
    if not isinstance(body, dict):
        _fail("body", "The request body must be a JSON object.")
    allowed = {"meta", "policy"} | ({"reset"} if partial else set())
    unknown = sorted(set(body) - allowed)
    if unknown:
        _fail(unknown[0], "This field is not part of the contract.")
    clean = {
        "meta": validate_meta(body.get("meta")),
        "policy": validate_policy(body.get("policy"), workload_type),
    }
    reset = body.get("reset")
    if reset is not None:
        if not isinstance(reset, list) or not all(isinstance(p, str) and p for p in reset):
            _fail("reset", "Must be a list of field paths.")
        if len(reset) > MAX_POLICY_LIST:
            _fail("reset", f"At most {MAX_POLICY_LIST} items.")
        clean["reset"] = reset
    return clean


def policy_version(document: dict) -> str:
    """The entity tag of a node's own policy, from a GET or write answer: a digest of its meta
    (id, updatedAt, ...) and rules. The effective part depends on other nodes and is left out.
    A node without a policy has a version too, so If-Match can ask that none was written since.
    """
    own = {"meta": document.get("meta"), "policy": document.get("policy")}
    text = json.dumps(own, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
