"""Policy rules and defaults in plain language, as the policies page shows them.

Pure functions over the policy API's shapes: a rule object ({required, canEdit, options, min,
max, step, canAdd, locked, defaultFrom}) becomes short phrases ("at most 4", "one of: If not
present, Always"), a defaults document becomes (field label, value) pairs. Nothing here prints
Python or JSON syntax: a reader of the page should never meet a brace or a quote.
"""

from .environment import (
    CAPABILITIES,
    IMAGE_PULL_POLICIES,
    PROBE_SCHEMES,
    SECCOMP_PROFILE_TYPES,
    UID_GID_SOURCES,
)

# The environment form's labels, by policy field path.
FIELD_LABELS = {
    "image": "Image",
    "imagePullPolicy": "Pull policy",
    "command": "Command",
    "args": "Arguments",
    "workingDir": "Working directory",
    "createHomeDir": "Create home directory",
    "stdin": "Stdin",
    "tty": "TTY",
    "environmentVariables": "Environment variables",
    "environmentVariables.instances": "Environment variables",
    "security.runAsUid": "User id (uid)",
    "security.runAsGid": "Group id (gid)",
    "security.supplementalGroups": "Supplemental groups",
    "security.uidGidSource": "User and group ids from",
    "security.capabilities": "Capabilities",
    "security.allowPrivilegeEscalation": "Allow privilege escalation",
    "security.hostIpc": "Host IPC",
    "security.hostNetwork": "Host network",
    "security.readOnlyRootFilesystem": "Read-only root filesystem",
    "security.runAsNonRoot": "Run as non-root",
    "security.seccompProfileType": "Seccomp profile",
    "probes.readiness.initialDelaySeconds": "Readiness: initial delay (s)",
    "probes.readiness.periodSeconds": "Readiness: period (s)",
    "probes.readiness.timeoutSeconds": "Readiness: timeout (s)",
    "probes.readiness.successThreshold": "Readiness: success threshold",
    "probes.readiness.failureThreshold": "Readiness: failure threshold",
    "probes.readiness.handler.httpGet.path": "Readiness: HTTP path",
    "probes.readiness.handler.httpGet.port": "Readiness: HTTP port",
    "probes.readiness.handler.httpGet.host": "Readiness: HTTP host",
    "probes.readiness.handler.httpGet.scheme": "Readiness: scheme",
    # Rules on the workload rather than the environment, common in policies.
    "compute.gpuDevicesRequest": "GPU devices",
    "compute.gpuMemoryRequest": "GPU memory",
    "compute.cpuCoreRequest": "CPU cores",
    "compute.cpuMemoryRequest": "CPU memory",
}

# Every value a field can take, where the contract fixes them: what an `options` rule leaves
# out is then named too ("not allowed: Never").
FIELD_VALUES = {
    "imagePullPolicy": IMAGE_PULL_POLICIES,
    "security.uidGidSource": UID_GID_SOURCES,
    "security.seccompProfileType": SECCOMP_PROFILE_TYPES,
    "security.capabilities": CAPABILITIES,
    "probes.readiness.handler.httpGet.scheme": PROBE_SCHEMES,
}

# A distributed policy holds a section per replica type.
REPLICA_SECTIONS = {"worker": "Worker", "master": "Master"}


def split_replica(path: str) -> tuple[str, str]:
    """("Worker", "security.capabilities") for "worker.security.capabilities"; ("", path)
    for a path outside a replica section."""
    head, _, rest = path.partition(".")
    if head in REPLICA_SECTIONS and rest:
        return REPLICA_SECTIONS[head], rest
    return "", path


def field_label(path: str) -> str:
    """The label a person knows a field by, or its path when the form has no such field."""
    replica, field = split_replica(path)
    label = FIELD_LABELS.get(field, "")
    if replica:
        return f"{replica}: {label or field}"
    return label or field


def field_values(path: str) -> list[str] | None:
    return FIELD_VALUES.get(split_replica(path)[1])


def rule_phrases(rule: dict, known_values: list[str] | None = None) -> list[str]:
    """The rule as short phrases, in the order a reader needs them.

    `known_values` are every value the field can take; with them, an `options` rule also
    names the values it leaves out.
    """
    phrases = []
    if rule.get("required") is True:
        phrases.append("required")
    if rule.get("canEdit") is False:
        phrases.append("fixed: cannot be edited")
    elif rule.get("canEdit") is True:
        phrases.append("can be edited")
    bounds = _bounds(rule.get("min"), rule.get("max"), rule.get("step"))
    if bounds:
        phrases.append(bounds)
    if isinstance(rule.get("options"), list):
        phrases += _options(rule["options"], known_values)
    if rule.get("canAdd") is False:
        phrases.append("no entries may be added beyond the defaults")
    elif rule.get("canAdd") is True:
        phrases.append("entries may be added")
    if rule.get("locked"):
        phrases.append(f"cannot be removed: {plain(rule['locked'])}")
    if rule.get("defaultFrom") not in (None, "", {}):
        source = rule["defaultFrom"]
        source = source.get("field", source) if isinstance(source, dict) else source
        phrases.append(f"default taken from {plain(source)}")
    known = {"required", "canEdit", "min", "max", "step", "options", "canAdd", "locked",
             "defaultFrom", "sourceOfRule"}  # fmt: skip
    # Keys Run:ai may add later are still shown, in words, rather than dropped.
    phrases += [f"{key}: {plain(value)}" for key, value in rule.items() if key not in known]
    return phrases or ["no constraint"]


def rule_text(rule: dict, known_values: list[str] | None = None) -> str:
    """The rule as one sentence: "required; between 1 and 8, in steps of 2"."""
    return "; ".join(rule_phrases(rule, known_values))


def _bounds(low, high, step) -> str:
    if low is not None and high is not None:
        text = f"between {low} and {high}"
    elif low is not None:
        text = f"at least {low}"
    elif high is not None:
        text = f"at most {high}"
    else:
        text = ""
    # A step of 1 allows every whole number: nothing to say.
    # (steps count from the minimum, which "between" already names).
    if step is not None and step != 1:
        text = f"{text}, in steps of {step}" if text else f"in steps of {step}"
    return text


def _options(options: list, known_values: list[str] | None) -> list[str]:
    allowed = [_option_value(option) for option in options]
    if not allowed:
        return ["no value allowed"]
    shown = [_option_label(option) for option in options]
    phrases = [f"one of: {', '.join(shown)}"]
    refused = [value for value in known_values or [] if value not in allowed]
    if refused and len(refused) <= 5:
        phrases.append(f"not allowed: {', '.join(refused)}")
    return phrases


def _option_value(option) -> str:
    return str(option.get("value")) if isinstance(option, dict) else str(option)


def _option_label(option) -> str:
    if isinstance(option, dict):
        return str(option.get("displayed") or option.get("value"))
    return str(option)


def default_items(defaults: dict) -> list[tuple[str, str, list[str]]]:
    """(field path, label, values in words) for every default, in path order: a list (of
    environment variables, say) gives a value per item, since items may hold commas."""
    items = []
    for path, value in sorted(_flatten(defaults or {}, "").items()):
        values = [plain(item) for item in value] if isinstance(value, list) else [plain(value)]
        items.append((path, field_label(path), values or ["none"]))
    return items


def _flatten(document: dict, prefix: str) -> dict:
    flat = {}
    for key, value in document.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        # Environment variables are a list under `instances`: one entry for the list.
        if key == "instances" and isinstance(value, list):
            flat[prefix or path] = value
        elif isinstance(value, dict) and value:
            flat.update(_flatten(value, path))
        elif value is not None:
            flat[path] = value
    return flat


def plain(value) -> str:
    """A value in words: yes/no, lists joined by commas, objects as "key: value"."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "none"
    if isinstance(value, list):
        return ", ".join(plain(item) for item in value) or "none"
    if isinstance(value, dict):
        if "name" in value:
            return _variable(value)
        return ", ".join(f"{key} {plain(item)}" for key, item in value.items())
    return str(value)


def _variable(entry: dict) -> str:
    """An environment variable default: "NAME = value", "NAME from pod field spec.nodeName"."""
    name = entry["name"]
    if entry.get("exclude"):
        return f"{name} (excluded)"
    if "value" in entry and entry["value"] is not None:
        return f"{name} = {entry['value']}"
    sources = {"podFieldRef": "pod field", "credential": "credential", "configMap": "config map"}
    for key, words in sources.items():
        if isinstance(entry.get(key), dict):
            return f"{name} from {words} {plain(list(entry[key].values()))}"
    others = {k: v for k, v in entry.items() if k != "name"}
    return f"{name} ({plain(others)})" if others else name
