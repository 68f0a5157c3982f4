"""The environment form's data turned into the contract's document, and a document back into
the form's initial data (edit, copy, and a refused stale edit).

Nothing here judges a value: the backend validates the document with the same rules as the API.
"""

from typing import NamedTuple

from envadmin.contract.choices import EXTERNAL_TOOL_TYPES, SCOPE_ID_FIELDS, SUPPORTED_TYPE_KEYS

from .params import whole

# Spec flags the form offers as "not set", yes or no.
TRI_STATE_FLAGS = (
    "runAsNonRoot", "readOnlyRootFilesystem", "allowPrivilegeEscalation", "hostIpc", "hostNetwork",
    "createHomeDir", "stdin", "tty",
)  # fmt: skip
# Spec fields the form holds as they are in the document, copied when set.
SPEC_VALUES = (
    "image", "imagePullPolicy", "command", "args", "workingDir", "uidGidSource",
    "supplementalGroups", "seccompProfileType", "runAsUid", "runAsGid", "capabilities",
)  # fmt: skip
PROBE_TIMINGS = (
    "initialDelaySeconds", "periodSeconds", "timeoutSeconds", "successThreshold",
    "failureThreshold",
)  # fmt: skip
PROBE_HTTP = ("path", "port", "host", "scheme")
# Spec fields the form holds in formsets or several fields rather than one field each.
COMPOSITE = ("environmentVariables", "connections", "probes")


def placement_key(meta: dict) -> str:
    """The form's placement choice for a document's scope ("tenant", "project:7")."""
    scope = meta.get("scope")
    if scope not in SCOPE_ID_FIELDS:
        return scope
    return f"{scope}:{meta.get(SCOPE_ID_FIELDS[scope])}"


def placement_from_key(key: str) -> dict:
    """A placement choice rebuilt from its key alone, labelled with the key."""
    scope, _, node = key.partition(":")
    placement = {"scope": scope, "key": key, "label": key}
    if scope in SCOPE_ID_FIELDS:
        placement[SCOPE_ID_FIELDS[scope]] = whole(node, node) if scope == "project" else node
    return placement


# --- form data -> document --------------------------------------------------------------------


def _set(target: dict, key: str, value):
    if value not in (None, "", []):
        target[key] = value


def variable_from_row(row: dict) -> dict | None:
    """The document's env var for a cleaned form row; None for a removed or blank row."""
    if not row or row.get("DELETE") or not (row.get("name") or row.get("value")):
        return None
    variable = {"name": row.get("name") or ""}
    source = row.get("source") or "value"
    if source == "value":
        variable["value"] = row.get("value") or ""
    elif source == "credential":
        variable["credential"] = {
            "assetId": row.get("credential") or None,
            "key": row.get("key") or None,
        }
    elif source == "configMap":
        variable["configMap"] = {"name": row.get("ref") or None, "key": row.get("key") or None}
    elif source == "podFieldRef":
        variable["podFieldRef"] = {"path": row.get("value") or None}
    _set(variable, "description", row.get("description"))
    if row.get("exclude"):
        variable["exclude"] = True
    return variable


def connection_from_row(row: dict) -> dict | None:
    """The document's connection for a cleaned form row; None for a removed or blank row."""
    if not row or row.get("DELETE") or not (row.get("name") or row.get("tool")):
        return None
    tool = row.get("tool") or ""
    connection = {"name": row.get("name") or ""}
    if tool in EXTERNAL_TOOL_TYPES:
        connection["isExternal"] = True
        connection["externalToolInfo"] = {"toolType": tool, "externalUrl": row.get("externalUrl")}
        return connection
    kind = row.get("connectionType")
    info = {"toolType": tool or None, "connectionType": kind or None}
    _set(info, "containerPort", row.get("containerPort"))
    if kind == "ExternalUrl":
        url_info = {"isCustomUrl": bool(row.get("custom"))}
        _set(url_info, "externalUrl", row.get("externalUrl"))
        info["externalUrlInfo"] = url_info
    elif kind == "NodePort":
        info["nodePortInfo"] = {"isCustomPort": bool(row.get("custom"))}
    elif kind == "ServingPort" and row.get("protocol"):
        info["servingPortInfo"] = {"protocol": row["protocol"]}
    connection["internalToolInfo"] = info
    return connection


def build_spec(data: dict, variable_rows: list[dict], connection_rows: list[dict]) -> dict:
    """The spec from the main form's cleaned data and its two formsets' rows."""
    spec: dict = {}
    for key in SPEC_VALUES:
        _set(spec, key, data.get(key))
    for key in TRI_STATE_FLAGS:
        if data.get(key) is not None:
            spec[key] = data[key]
    if data.get("overrideUidGidInWorkspace"):
        spec["overrideUidGidInWorkspace"] = True
    _set(spec, "environmentVariables", [v for v in map(variable_from_row, variable_rows) if v])
    _set(spec, "connections", [c for c in map(connection_from_row, connection_rows) if c])
    probe: dict = {}
    for key in PROBE_TIMINGS:
        _set(probe, key, data.get(f"probe_{key}"))
    http: dict = {}
    for key in PROBE_HTTP:
        _set(http, key, data.get(f"probe_{key}"))
    if http:
        probe["handler"] = {"httpGet": http}
    if probe:
        spec["probes"] = {"readiness": probe}
    return spec


def build_meta(data: dict, placement: dict | None) -> dict:
    """The meta; with a placement (create, copy) also the scope and workload types."""
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


# --- document -> form data --------------------------------------------------------------------


class FormInitial(NamedTuple):
    """Initial data of the main form and of its env var and connection formsets."""

    initial: dict
    variables: list[dict]
    connections: list[dict]


def initial_from_document(document: dict, placement: str) -> FormInitial:
    """What the form shows for a document; `placement` is its placement key."""
    meta, spec = document["meta"], document.get("spec") or {}
    types = meta.get("workloadSupportedTypes") or {}
    initial = {
        "placement": placement,
        "name": meta.get("name", ""),
        "description": meta.get("description", ""),
        **{k: types.get(k, False) for k in SUPPORTED_TYPE_KEYS},
        "distFramework": types.get("distFramework", ""),
    }
    for key, value in spec.items():
        if key in COMPOSITE:
            continue
        if key in TRI_STATE_FLAGS:
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
    return FormInitial(
        initial,
        # Run:ai's lists may hold nulls: a row is made of each entry that is an object.
        [
            row_from_variable(v)
            for v in spec.get("environmentVariables") or []
            if isinstance(v, dict)
        ],
        [row_from_connection(c) for c in spec.get("connections") or [] if isinstance(c, dict)],
    )


def row_from_variable(variable: dict) -> dict:
    """An env var formset row's initial data."""
    row = {
        "name": variable.get("name", ""),
        "description": variable.get("description", ""),
        "exclude": bool(variable.get("exclude")),
    }
    if "credential" in variable:
        credential = variable["credential"] or {}
        row.update(
            source="credential",
            credential=credential.get("assetId", ""),
            key=credential.get("key", ""),
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


def row_from_connection(connection: dict) -> dict:
    """A connection formset row's initial data."""
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
