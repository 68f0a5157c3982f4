"""Policy documents as flat {json path: value} maps, and back.

A policy's `rules` nest groups (`security`, `probes.readiness`, distributed `worker`/`master`)
around rule objects; a rule object is recognised by its keys, so fields envadmin does not know
(compute, storage, ...) flatten and merge the same way as the ones it judges. The item rules of
a list (`environmentVariables.instances`, `storage.pvc.instances`) are a rule of their own,
beside the rules of the items' attributes (`storage.pvc.attributes.claimName`).

ENVIRONMENT_FIELDS names the policy fields an environment carries, each with its place in the
environment's spec: what a policy check and the compliance engine judge.
"""

RULE_KEYS = frozenset(
    {"required", "canEdit", "options", "min", "max", "step", "canAdd", "locked",
     "sourceOfRule", "defaultFrom"}
)  # fmt: skip


# policy field path -> (path in the environment spec, kind of value)
ENVIRONMENT_FIELDS: dict[str, tuple[str, str]] = {
    "image": ("image", "string"),
    "imagePullPolicy": ("imagePullPolicy", "string"),
    "command": ("command", "string"),
    "args": ("args", "string"),
    "workingDir": ("workingDir", "string"),
    "createHomeDir": ("createHomeDir", "boolean"),
    "stdin": ("stdin", "boolean"),
    "tty": ("tty", "boolean"),
    "environmentVariables": ("environmentVariables", "instances"),
    "security.runAsUid": ("runAsUid", "integer"),
    "security.runAsGid": ("runAsGid", "integer"),
    "security.supplementalGroups": ("supplementalGroups", "string"),
    "security.uidGidSource": ("uidGidSource", "string"),
    "security.capabilities": ("capabilities", "array"),
    "security.allowPrivilegeEscalation": ("allowPrivilegeEscalation", "boolean"),
    "security.hostIpc": ("hostIpc", "boolean"),
    "security.hostNetwork": ("hostNetwork", "boolean"),
    "security.readOnlyRootFilesystem": ("readOnlyRootFilesystem", "boolean"),
    "security.runAsNonRoot": ("runAsNonRoot", "boolean"),
    "security.seccompProfileType": ("seccompProfileType", "string"),
    **{
        f"probes.readiness.{name}": (f"probes.readiness.{name}", "integer")
        for name in (
            "initialDelaySeconds",
            "periodSeconds",
            "timeoutSeconds",
            "successThreshold",
            "failureThreshold",
        )
    },  # fmt: skip
    "probes.readiness.handler.httpGet.path": ("probes.readiness.handler.httpGet.path", "string"),
    "probes.readiness.handler.httpGet.port": ("probes.readiness.handler.httpGet.port", "integer"),
    "probes.readiness.handler.httpGet.host": ("probes.readiness.handler.httpGet.host", "string"),
    "probes.readiness.handler.httpGet.scheme": (
        "probes.readiness.handler.httpGet.scheme",
        "string",
    ),
}


def is_rule(value) -> bool:
    return isinstance(value, dict) and bool(value.keys() & RULE_KEYS)


class DuplicateRulePath(ValueError):
    """One field ruled twice in one document, once nested and once as a dotted key."""


def flatten_rules(rules, prefix: str = "", *, strict: bool = False) -> dict[str, dict]:
    """{dotted field path: rule}; with `strict`, a path spelled twice raises DuplicateRulePath
    (otherwise the later spelling silently replaces the earlier one)."""
    flat: dict[str, dict] = {}
    for key, value in (rules or {}).items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if key == "instances" and isinstance(value, dict) or is_rule(value):
            found = {path: value}
        elif isinstance(value, dict):
            found = flatten_rules(value, path, strict=strict)
        elif value is not None:
            found = {path: value}  # not a rule object: kept as given
        else:
            continue
        if strict and flat.keys() & found.keys():
            raise DuplicateRulePath(min(flat.keys() & found.keys()))
        flat.update(found)
    return flat


def unflatten(flat: dict[str, object]) -> dict:
    tree: dict = {}
    for path, value in flat.items():
        node = tree
        *parents, last = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return tree


def lookup(document, path: str | tuple[str, ...]):
    """The value at a dotted path (or its parts), or None."""
    node = document
    for part in path.split(".") if isinstance(path, str) else path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def deep_merge(base: dict, override: dict) -> dict:
    """`override` wins leaf by leaf; lists are replaced whole; None in override is ignored."""
    merged = dict(base)
    for key, value in (override or {}).items():
        if value is None:
            continue
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def remove_path(document: dict, path: str) -> dict:
    """A copy of `document` without the value at `path` (empty groups pruned)."""
    head, _, rest = path.partition(".")
    if head not in document:
        return document
    copy = dict(document)
    if not rest:
        del copy[head]
    elif isinstance(copy[head], dict):
        inner = remove_path(copy[head], rest)
        if inner:
            copy[head] = inner
        else:
            del copy[head]
    return copy
