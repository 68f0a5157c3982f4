"""The environment form: Run:ai's groups of fields, turned into the contract's document.

The form judges nothing itself: it builds the creation (or update) document and the backend
validates it with the same rules as the API; `apply_errors` puts each message next to its
field.
"""

import re

from django import forms
from django.forms import formset_factory

from envadmin.contract.choices import (
    CONNECTION_TYPES,
    DIST_FRAMEWORKS,
    EXTERNAL_TOOL_TYPES,
    SCOPE_ID_FIELDS,
    SUPPORTED_TYPE_KEYS,
    TOOL_TYPES,
)
from envadmin.contract.environment import (
    CAPABILITIES,
    IMAGE_PULL_POLICIES,
    PROBE_SCHEMES,
    SECCOMP_PROFILE_TYPES,
    SERVING_PROTOCOLS,
    UID_GID_SOURCES,
)


def _choices(values, blank="—"):
    return [("", blank)] + [(v, v) for v in values]


TRI_STATE = [("", "Not set"), ("true", "Yes"), ("false", "No")]
ENV_SOURCES = [
    ("value", "Value"),
    ("credential", "Credential (secret asset)"),
    ("configMap", "Config map"),
    ("podFieldRef", "Pod field"),
    ("none", "None (exclude a policy default)"),
]


class TriStateField(forms.TypedChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            choices=TRI_STATE,
            coerce=lambda v: {"true": True, "false": False}.get(v),
            empty_value=None,
            required=False,
            **kwargs,
        )


def _int(**kwargs):
    return forms.IntegerField(required=False, **kwargs)


def _text(**kwargs):
    return forms.CharField(required=False, strip=False, **kwargs)


class EnvironmentForm(forms.Form):
    # Placement (fixed after creation).
    placement = forms.ChoiceField(label="Scope", help_text="Where the environment can be used.")
    # Name and description.
    name = forms.CharField(max_length=255, strip=False)
    description = _text(max_length=250, widget=forms.Textarea(attrs={"rows": 2}))
    # Image.
    image = _text(label="Image", help_text="e.g. nvcr.io/nvidia/pytorch:24.05-py3")
    imagePullPolicy = forms.ChoiceField(
        label="Pull policy", required=False, choices=_choices(IMAGE_PULL_POLICIES, "Default")
    )
    # Architecture and workload types.
    workspace = forms.BooleanField(required=False, label="Workspace")
    training = forms.BooleanField(required=False, label="Training")
    inference = forms.BooleanField(required=False, label="Inference")
    distributed = forms.BooleanField(required=False, label="Distributed")
    distFramework = forms.ChoiceField(
        label="Framework", required=False, choices=_choices(DIST_FRAMEWORKS)
    )
    # Runtime.
    command = _text()
    args = _text(label="Arguments")
    workingDir = _text(label="Working directory")
    # Security.
    uidGidSource = forms.ChoiceField(
        label="User and group ids from",
        required=False,
        choices=_choices(UID_GID_SOURCES, "Default"),
    )
    runAsUid = _int(label="User id (uid)")
    runAsGid = _int(label="Group id (gid)")
    supplementalGroups = _text(label="Supplemental groups", help_text="e.g. 2,3,5")
    overrideUidGidInWorkspace = forms.BooleanField(
        required=False, label="Allow workspaces to override uid/gid"
    )
    capabilities = forms.MultipleChoiceField(
        required=False, choices=[(c, c) for c in CAPABILITIES],
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )  # fmt: skip
    seccompProfileType = forms.ChoiceField(
        label="Seccomp profile", required=False, choices=_choices(SECCOMP_PROFILE_TYPES, "Default")
    )
    runAsNonRoot = TriStateField(label="Run as non-root")
    readOnlyRootFilesystem = TriStateField(label="Read-only root filesystem")
    allowPrivilegeEscalation = TriStateField(label="Allow privilege escalation")
    hostIpc = TriStateField(label="Host IPC")
    hostNetwork = TriStateField(label="Host network")
    createHomeDir = TriStateField(label="Create home directory")
    stdin = TriStateField(label="Stdin")
    tty = TriStateField(label="TTY")
    # Readiness probe.
    probe_initialDelaySeconds = _int(label="Initial delay (s)")
    probe_periodSeconds = _int(label="Period (s)")
    probe_timeoutSeconds = _int(label="Timeout (s)")
    probe_successThreshold = _int(label="Success threshold")
    probe_failureThreshold = _int(label="Failure threshold")
    probe_path = _text(label="HTTP path")
    probe_port = _int(label="HTTP port")
    probe_host = _text(label="HTTP host")
    probe_scheme = forms.ChoiceField(
        label="Scheme", required=False, choices=_choices(PROBE_SCHEMES)
    )

    GROUPS = [
        ("Placement", ["placement"]),
        ("Name and description", ["name", "description"]),
        ("Image", ["image", "imagePullPolicy"]),
        (
            "Architecture and workload types",
            [*SUPPORTED_TYPE_KEYS, "distFramework"],
        ),
        ("Runtime", ["command", "args", "workingDir"]),
        (
            "Security",
            [
                "uidGidSource",
                "runAsUid",
                "runAsGid",
                "supplementalGroups",
                "overrideUidGidInWorkspace",
                "capabilities",
                "seccompProfileType",
                "runAsNonRoot",
                "readOnlyRootFilesystem",
                "allowPrivilegeEscalation",
                "hostIpc",
                "hostNetwork",
                "createHomeDir",
                "stdin",
                "tty",
            ],
        ),  # fmt: skip
        (
            "Readiness probe",
            [
                "probe_initialDelaySeconds",
                "probe_periodSeconds",
                "probe_timeoutSeconds",
                "probe_successThreshold",
                "probe_failureThreshold",
                "probe_path",
                "probe_port",
                "probe_host",
                "probe_scheme",
            ],
        ),  # fmt: skip
    ]

    def __init__(self, *args, placements=(), placement_fixed=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["placement"].choices = [(p["key"], p["label"]) for p in placements]
        self.placements = {p["key"]: p for p in placements}
        if placement_fixed:
            self.fields["placement"].disabled = True
            self.fields["placement"].required = False
            for key in (*SUPPORTED_TYPE_KEYS, "distFramework"):
                self.fields[key].disabled = True

    def grouped(self):
        return [(title, [self[name] for name in names]) for title, names in self.GROUPS]


class EnvironmentVariableForm(forms.Form):
    name = _text()
    source = forms.ChoiceField(choices=ENV_SOURCES, initial="value", required=False)
    value = _text(help_text="The value, or the pod field path (e.g. metadata.name).")
    ref = _text(label="Asset id / config map", help_text="Credential asset id or config map name")
    key = _text(label="Key")
    description = _text(label="Instructions")
    exclude = forms.BooleanField(required=False)


class ConnectionForm(forms.Form):
    name = _text()
    tool = forms.ChoiceField(
        choices=_choices(TOOL_TYPES, "Choose a tool"),
        required=False,
    )
    connectionType = forms.ChoiceField(
        label="Connection", choices=_choices(CONNECTION_TYPES, "—"), required=False
    )
    containerPort = _int(label="Container port")
    externalUrl = _text(label="URL", help_text="External tool URL, or an ExternalUrl default")
    custom = forms.BooleanField(required=False, label="Set per workload")
    protocol = forms.ChoiceField(
        label="Serving protocol", choices=_choices(SERVING_PROTOCOLS), required=False
    )


EnvironmentVariableFormSet = formset_factory(EnvironmentVariableForm, extra=0, can_delete=True)
ConnectionFormSet = formset_factory(ConnectionForm, extra=0, can_delete=True)


# --- form data -> document --------------------------------------------------------------------


def _set(target: dict, key: str, value):
    if value not in (None, "", []):
        target[key] = value


def _variable(data: dict) -> dict | None:
    if not data or data.get("DELETE") or not (data.get("name") or data.get("value")):
        return None
    variable = {"name": data.get("name") or ""}
    source = data.get("source") or "value"
    if source == "value":
        variable["value"] = data.get("value") or ""
    elif source == "credential":
        variable["credential"] = {
            "assetId": data.get("ref") or None,
            "key": data.get("key") or None,
        }
    elif source == "configMap":
        variable["configMap"] = {"name": data.get("ref") or None, "key": data.get("key") or None}
    elif source == "podFieldRef":
        variable["podFieldRef"] = {"path": data.get("value") or None}
    _set(variable, "description", data.get("description"))
    if data.get("exclude"):
        variable["exclude"] = True
    return variable


def _connection(data: dict) -> dict | None:
    if not data or data.get("DELETE") or not (data.get("name") or data.get("tool")):
        return None
    tool = data.get("tool") or ""
    connection = {"name": data.get("name") or ""}
    if tool in EXTERNAL_TOOL_TYPES:
        connection["isExternal"] = True
        connection["externalToolInfo"] = {"toolType": tool, "externalUrl": data.get("externalUrl")}
        return connection
    info = {"toolType": tool or None, "connectionType": data.get("connectionType") or None}
    _set(info, "containerPort", data.get("containerPort"))
    kind = data.get("connectionType")
    if kind == "ExternalUrl":
        url_info = {"isCustomUrl": bool(data.get("custom"))}
        _set(url_info, "externalUrl", data.get("externalUrl"))
        info["externalUrlInfo"] = url_info
    elif kind == "NodePort":
        info["nodePortInfo"] = {"isCustomPort": bool(data.get("custom"))}
    elif kind == "ServingPort" and data.get("protocol"):
        info["servingPortInfo"] = {"protocol": data["protocol"]}
    connection["internalToolInfo"] = info
    return connection


def build_spec(data: dict, variables: list[dict], connections: list[dict]) -> dict:
    spec: dict = {}
    for key in ("image", "imagePullPolicy", "command", "args", "workingDir", "uidGidSource",
                "supplementalGroups", "seccompProfileType"):  # fmt: skip
        _set(spec, key, data.get(key))
    for key in ("runAsUid", "runAsGid"):
        _set(spec, key, data.get(key))
    _set(spec, "capabilities", data.get("capabilities"))
    for key in ("runAsNonRoot", "readOnlyRootFilesystem", "allowPrivilegeEscalation", "hostIpc",
                "hostNetwork", "createHomeDir", "stdin", "tty"):  # fmt: skip
        if data.get(key) is not None:
            spec[key] = data[key]
    if data.get("overrideUidGidInWorkspace"):
        spec["overrideUidGidInWorkspace"] = True
    _set(spec, "environmentVariables", [v for v in map(_variable, variables) if v])
    _set(spec, "connections", [c for c in map(_connection, connections) if c])
    probe: dict = {}
    for key in ("initialDelaySeconds", "periodSeconds", "timeoutSeconds", "successThreshold",
                "failureThreshold"):  # fmt: skip
        _set(probe, key, data.get(f"probe_{key}"))
    http: dict = {}
    for key in ("path", "port", "host", "scheme"):
        _set(http, key, data.get(f"probe_{key}"))
    if http:
        probe["handler"] = {"httpGet": http}
    if probe:
        spec["probes"] = {"readiness": probe}
    return spec


def build_meta(data: dict, placement: dict | None) -> dict:
    meta = {"name": data.get("name") or ""}
    _set(meta, "description", data.get("description"))
    if placement is not None:
        meta["scope"] = placement["scope"]
        for key in SCOPE_ID_FIELDS.values():
            if key in placement:
                meta[key] = placement[key]
        types = {k: True for k in SUPPORTED_TYPE_KEYS if data.get(k)}
        _set(types, "distFramework", data.get("distFramework"))
        meta["workloadSupportedTypes"] = types
    return meta


# --- document -> form data (edit and copy) ----------------------------------------------------


def initial_from(document: dict, placement_key: str) -> tuple[dict, list[dict], list[dict]]:
    meta, spec = document["meta"], document.get("spec") or {}
    types = meta.get("workloadSupportedTypes") or {}
    initial = {
        "placement": placement_key,
        "name": meta.get("name", ""),
        "description": meta.get("description", ""),
        **{k: types.get(k, False) for k in SUPPORTED_TYPE_KEYS},
        "distFramework": types.get("distFramework", ""),
    }
    for key, value in spec.items():
        if key in ("environmentVariables", "connections", "probes"):
            continue
        if isinstance(value, bool) and key != "overrideUidGidInWorkspace":
            initial[key] = "true" if value else "false"
        else:
            initial[key] = value
    readiness = (spec.get("probes") or {}).get("readiness") or {}
    for key, value in readiness.items():
        if key != "handler":
            initial[f"probe_{key}"] = value
    http = (readiness.get("handler") or {}).get("httpGet") or {}
    for key, value in http.items():
        initial[f"probe_{key}"] = value
    variables = [_variable_initial(v) for v in spec.get("environmentVariables") or []]
    connections = [_connection_initial(c) for c in spec.get("connections") or []]
    return initial, variables, connections


def _variable_initial(variable: dict) -> dict:
    row = {
        "name": variable.get("name", ""),
        "description": variable.get("description", ""),
        "exclude": bool(variable.get("exclude")),
    }
    if "credential" in variable:
        credential = variable["credential"] or {}
        row.update(
            source="credential", ref=credential.get("assetId", ""), key=credential.get("key", "")
        )
    elif "configMap" in variable:
        config_map = variable["configMap"] or {}
        row.update(
            source="configMap", ref=config_map.get("name", ""), key=config_map.get("key", "")
        )
    elif "podFieldRef" in variable:
        row.update(source="podFieldRef", value=(variable["podFieldRef"] or {}).get("path", ""))
    elif "value" in variable:
        row.update(source="value", value=variable["value"])
    else:
        row["source"] = "none"
    return row


def _connection_initial(connection: dict) -> dict:
    row = {"name": connection.get("name", "")}
    if connection.get("isExternal"):
        info = connection.get("externalToolInfo") or {}
        row.update(tool=info.get("toolType", ""), externalUrl=info.get("externalUrl", ""))
        return row
    info = connection.get("internalToolInfo") or {}
    row.update(
        tool=info.get("toolType", ""),
        connectionType=info.get("connectionType", ""),
        containerPort=info.get("containerPort"),
    )
    url = info.get("externalUrlInfo") or {}
    row.update(externalUrl=url.get("externalUrl", ""), custom=bool(url.get("isCustomUrl")))
    if info.get("nodePortInfo"):
        row["custom"] = bool(info["nodePortInfo"].get("isCustomPort"))
    row["protocol"] = (info.get("servingPortInfo") or {}).get("protocol", "")
    return row


# --- backend errors -> form fields ------------------------------------------------------------

ROW_ERROR = re.compile(r"^spec\.(environmentVariables|connections)\[(\d+)\]\.?(.*)$")
CONNECTION_FIELDS = {
    "internalToolInfo.toolType": "tool",
    "externalToolInfo.toolType": "tool",
    "internalToolInfo.containerPort": "containerPort",
    "internalToolInfo.connectionType": "connectionType",
    "internalToolInfo": "tool",
    "externalToolInfo": "externalUrl",
    "externalToolInfo.externalUrl": "externalUrl",
    "internalToolInfo.externalUrlInfo.externalUrl": "externalUrl",
    "internalToolInfo.servingPortInfo.protocol": "protocol",
    "name": "name",
}
VARIABLE_FIELDS = {
    "name": "name", "value": "value", "description": "description",
    "credential.assetId": "ref", "credential.key": "key", "configMap.name": "ref",
    "configMap.key": "key", "podFieldRef.path": "value", "credential": "source",
    "configMap": "source", "podFieldRef": "source",
}  # fmt: skip


def apply_errors(field_errors: dict, form, variables, connections, variable_rows, connection_rows):
    """Put each backend message next to its field; what has no field goes on top."""
    variable_forms = _kept_forms(variables, variable_rows)
    connection_forms = _kept_forms(connections, connection_rows)
    for path, messages in field_errors.items():
        text = " ".join(messages)
        row = ROW_ERROR.match(path)
        if row:
            kind, index, rest = row.group(1), int(row.group(2)), row.group(3)
            forms_list, names = (
                (variable_forms, VARIABLE_FIELDS)
                if kind == "environmentVariables"
                else (connection_forms, CONNECTION_FIELDS)
            )
            if index < len(forms_list):
                target = forms_list[index]
                field = names.get(rest) or next(
                    (v for k, v in names.items() if rest.startswith(k)), None
                )
                target.add_error(field if field in target.fields else None, text)
                continue
        field = _form_field(path)
        if field and field in form.fields:
            form.add_error(field, text)
        else:
            form.add_error(None, f"{path}: {text}")


def _kept_forms(formset, rows):
    """The formset's forms that produced a document row, in document order."""
    return [f for f, data in zip(formset.forms, rows, strict=False) if data is not None]


def _form_field(path: str) -> str | None:
    head, _, rest = path.partition(".")
    if head == "meta":
        return {"name": "name", "description": "description"}.get(rest, "placement")
    if head == "spec":
        if rest.startswith("probes.readiness.handler.httpGet."):
            return "probe_" + rest.rsplit(".", 1)[1]
        if rest.startswith("probes.readiness."):
            return "probe_" + rest.rsplit(".", 1)[1]
        return rest.split(".")[0].split("[")[0]
    return None
