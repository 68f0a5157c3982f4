"""The environment asset documents of Run:ai's API (environment.openapi.json), as serializers.

`validate_creation` and `validate_update` are the one place where a request document is judged:
the local backend and the UI form both go through them, so a rule exists once.
"""

import re

from rest_framework import serializers

from .choices import (
    CONNECTION_TYPES,
    DIST_FRAMEWORKS,
    EXTERNAL_TOOL_TYPES,
    INTERNAL_TOOL_TYPES,
    SCOPE_ID_FIELDS,
    SCOPES,
    WORKLOAD_TYPES,
)
from .errors import InvalidRequest
from .fields import (
    INT32_MAX,
    INT64_MAX,
    NAME_MAX,
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictIntegerField,
    StrictSerializer,
    StrictUUIDField,
    optional,
)
from .image import image_reference_error

IMAGE_PULL_POLICIES = ["Always", "Never", "IfNotPresent"]
UID_GID_SOURCES = ["fromTheImage", "fromIdpToken", "custom"]
SECCOMP_PROFILE_TYPES = ["RuntimeDefault", "Unconfined", "Localhost"]
SERVING_PROTOCOLS = ["grpc", "http"]
PROBE_SCHEMES = ["HTTP", "HTTPS"]
CAPABILITIES = [
    "AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "CHOWN", "DAC_OVERRIDE",
    "DAC_READ_SEARCH", "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE",
    "LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE",
    "NET_BROADCAST", "NET_RAW", "SETGID", "SETFCAP", "SETPCAP", "SETUID", "SYS_ADMIN", "SYS_BOOT",
    "SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT", "SYS_PTRACE", "SYS_RAWIO",
    "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "SYSLOG", "WAKE_ALARM",
]  # fmt: skip

# Patterns are applied with fullmatch and re.ASCII: '$' would accept a trailing newline and
# Unicode \d or \w would accept digits and letters of other scripts.
CONFIG_MAP_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?", re.ASCII)
PROBE_PATH = re.compile(r"(/[a-zA-Z0-9\-_./]*)?", re.ASCII)
HOSTNAME = re.compile(
    r"(?=.{1,253}\Z)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*",
    re.ASCII,
)
SUPPLEMENTAL_GROUPS = re.compile(r" *\d+ *(, *\d+ *)*", re.ASCII)

# envadmin's caps on a spec's lists (Run:ai's contract sets none). Far above what an environment
# needs, low enough that every page showing or editing one, and the form posting it back, stays
# cheap: the UI form's field budget (settings.DATA_UPLOAD_MAX_NUMBER_FIELDS) is sized from these.
MAX_ENVIRONMENT_VARIABLES = 256
MAX_CONNECTIONS = 32


def _text(**kwargs):
    kwargs.setdefault("min_length", 1)
    return optional(StrictCharField, **kwargs)


def _flag():
    return optional(StrictBooleanField)


def _int(min_value=None, max_value=INT32_MAX):
    return optional(StrictIntegerField, min_value=min_value, max_value=max_value)


def _choice(choices):
    return optional(StrictChoiceField, choices)


# --- environment variables -------------------------------------------------------------------


class CredentialSerializer(StrictSerializer):
    assetId = optional(StrictUUIDField)
    key = _text()

    def validate(self, attrs):
        for key in ("assetId", "key"):
            if not attrs.get(key):
                raise serializers.ValidationError({key: ["This field is required."]})
        return attrs


class ConfigMapSerializer(StrictSerializer):
    name = _text()
    key = _text()

    def validate(self, attrs):
        for key in ("name", "key"):
            if not attrs.get(key):
                raise serializers.ValidationError({key: ["This field is required."]})
        if not CONFIG_MAP_NAME.fullmatch(attrs["name"]):
            raise serializers.ValidationError(
                {"name": ["Must be a lowercase DNS label (a-z, 0-9, '-')."]}
            )
        return attrs


class PodFieldRefSerializer(StrictSerializer):
    path = _text()

    def validate(self, attrs):
        if not attrs.get("path"):
            raise serializers.ValidationError({"path": ["This field is required."]})
        return attrs


ENV_VAR_SOURCES = ("value", "credential", "configMap", "podFieldRef")


class EnvironmentVariableSerializer(StrictSerializer):
    name = _text()
    value = optional(StrictCharField, allow_blank=True)
    credential = optional(CredentialSerializer)
    configMap = optional(ConfigMapSerializer)
    podFieldRef = optional(PodFieldRefSerializer)
    exclude = _flag()
    description = optional(StrictCharField, allow_blank=True)

    def validate(self, attrs):
        name = attrs.get("name")
        if not name:
            raise serializers.ValidationError({"name": ["This field is required."]})
        if "=" in name:
            raise serializers.ValidationError({"name": ["Must not contain '='."]})
        sources = [key for key in ENV_VAR_SOURCES if attrs.get(key) is not None]
        if len(sources) > 1:
            raise serializers.ValidationError(
                {sources[1]: [f"Give exactly one source; this variable already has {sources[0]}."]}
            )
        # A variable with no source is only meaningful when it excludes a policy default.
        if not sources and not attrs.get("exclude"):
            raise serializers.ValidationError(
                {"value": ["Give one source: value, credential, configMap or podFieldRef."]}
            )
        return attrs


# --- connections -----------------------------------------------------------------------------


class NodePortInfoSerializer(StrictSerializer):
    isCustomPort = optional(StrictBooleanField)


class ExternalUrlInfoSerializer(StrictSerializer):
    isCustomUrl = optional(StrictBooleanField)
    externalUrl = _text()


class ServingPortInfoSerializer(StrictSerializer):
    protocol = _choice(SERVING_PROTOCOLS)


class InternalToolInfoSerializer(StrictSerializer):
    toolType = StrictChoiceField(INTERNAL_TOOL_TYPES)
    connectionType = StrictChoiceField(CONNECTION_TYPES)
    containerPort = StrictIntegerField(
        min_value=1,
        max_value=65535,
        error_messages={"required": "An internal tool needs the container port it listens on."},
    )
    nodePortInfo = optional(NodePortInfoSerializer)
    externalUrlInfo = optional(ExternalUrlInfoSerializer)
    servingPortInfo = optional(ServingPortInfoSerializer)


class ExternalToolInfoSerializer(StrictSerializer):
    toolType = StrictChoiceField(EXTERNAL_TOOL_TYPES)
    externalUrl = StrictCharField(
        min_length=1, error_messages={"required": "An external tool needs its URL."}
    )


class ConnectionSerializer(StrictSerializer):
    name = StrictCharField(min_length=1, max_length=NAME_MAX)
    isExternal = optional(StrictBooleanField)
    internalToolInfo = optional(InternalToolInfoSerializer)
    externalToolInfo = optional(ExternalToolInfoSerializer)

    def validate(self, attrs):
        if attrs.get("isExternal"):
            if not attrs.get("externalToolInfo"):
                raise serializers.ValidationError(
                    {"externalToolInfo": ["An external tool needs externalToolInfo with its URL."]}
                )
            if attrs.get("internalToolInfo"):
                raise serializers.ValidationError(
                    {"internalToolInfo": ["An external connection takes no internalToolInfo."]}
                )
        else:
            if not attrs.get("internalToolInfo"):
                raise serializers.ValidationError(
                    {"internalToolInfo": ["An internal tool needs internalToolInfo with a port."]}
                )
            if attrs.get("externalToolInfo"):
                raise serializers.ValidationError(
                    {"externalToolInfo": ["Set isExternal to true for an external tool."]}
                )
        return attrs


# --- probes ----------------------------------------------------------------------------------


class HttpGetSerializer(StrictSerializer):
    path = _text(allow_blank=True)
    port = _int(1, 65535)
    host = _text(max_length=253)
    scheme = _choice(PROBE_SCHEMES)

    def validate(self, attrs):
        if attrs.get("path") and not PROBE_PATH.fullmatch(attrs["path"]):
            raise serializers.ValidationError(
                {"path": ["Must start with '/' and hold only letters, digits, '-', '_', '.', '/'."]}
            )
        if attrs.get("host") and not HOSTNAME.fullmatch(attrs["host"]):
            raise serializers.ValidationError({"host": ["Must be a valid host name."]})
        return attrs


class ProbeHandlerSerializer(StrictSerializer):
    httpGet = optional(HttpGetSerializer)


class ProbeSerializer(StrictSerializer):
    initialDelaySeconds = _int(0)
    periodSeconds = _int(1)
    timeoutSeconds = _int(1)
    successThreshold = _int(1)
    failureThreshold = _int(1)
    handler = optional(ProbeHandlerSerializer)


class ProbesSerializer(StrictSerializer):
    readiness = optional(ProbeSerializer)


# --- the spec --------------------------------------------------------------------------------


class EnvironmentSpecSerializer(StrictSerializer):
    # Overridable by a workload.
    args = _text()
    command = _text()
    environmentVariables = optional(
        serializers.ListField,
        child=EnvironmentVariableSerializer(),
        max_length=MAX_ENVIRONMENT_VARIABLES,
    )
    runAsGid = _int(0, INT64_MAX)
    runAsUid = _int(0, INT64_MAX)
    supplementalGroups = optional(StrictCharField, allow_blank=True)
    # Fixed by the environment.
    allowPrivilegeEscalation = _flag()
    capabilities = optional(
        serializers.ListField,
        child=StrictChoiceField(CAPABILITIES),
        max_length=len(CAPABILITIES),
    )
    createHomeDir = _flag()
    hostIpc = _flag()
    hostNetwork = _flag()
    image = _text()
    imagePullPolicy = _choice(IMAGE_PULL_POLICIES)
    probes = optional(ProbesSerializer)
    readOnlyRootFilesystem = _flag()
    runAsNonRoot = _flag()
    seccompProfileType = _choice(SECCOMP_PROFILE_TYPES)
    stdin = _flag()
    tty = _flag()
    uidGidSource = _choice(UID_GID_SOURCES)
    workingDir = _text()
    connections = optional(
        serializers.ListField, child=ConnectionSerializer(), max_length=MAX_CONNECTIONS
    )
    overrideUidGidInWorkspace = optional(StrictBooleanField)

    def validate_image(self, value):
        if value is not None:
            error = image_reference_error(value)
            if error:
                raise serializers.ValidationError(error)
        return value

    def validate_supplementalGroups(self, value):
        if value and not SUPPLEMENTAL_GROUPS.fullmatch(value):
            raise serializers.ValidationError(
                "Must be a comma-separated list of group ids, for example '2,3,5'."
            )
        return value

    def validate_capabilities(self, value):
        if value and len(set(value)) != len(value):
            raise serializers.ValidationError("Each capability may be listed once.")
        return value

    def validate_environmentVariables(self, value):
        _reject_duplicates(value, "name", "environment variable")
        return value

    def validate_connections(self, value):
        _reject_duplicates(value, "name", "connection")
        return value

    def validate(self, attrs):
        if attrs.get("tty") and not attrs.get("stdin"):
            raise serializers.ValidationError({"tty": ["A TTY needs stdin: set stdin to true."]})
        if attrs.get("uidGidSource") != "custom":
            for key in ("runAsUid", "runAsGid", "supplementalGroups"):
                if attrs.get(key) not in (None, ""):
                    raise serializers.ValidationError(
                        {key: ["Only allowed when uidGidSource is 'custom'."]}
                    )
        return attrs


def _reject_duplicates(items, key, what):
    seen = set()
    for index, item in enumerate(items or []):
        name = item.get(key)
        if name in seen:
            raise serializers.ValidationError(
                {index: {key: [f"Another {what} is already named '{name}'."]}}
            )
        seen.add(name)


# --- meta ------------------------------------------------------------------------------------


class WorkloadSupportedTypesSerializer(StrictSerializer):
    inference = _flag()
    workspace = _flag()
    training = _flag()
    distributed = _flag()
    distFramework = _choice(DIST_FRAMEWORKS)


class AssetUpdatableFieldsSerializer(StrictSerializer):
    name = StrictCharField(min_length=1, max_length=NAME_MAX)
    description = _text(max_length=250)


class AssetCreationRequestSerializer(AssetUpdatableFieldsSerializer):
    scope = StrictChoiceField(SCOPES)
    clusterId = optional(StrictUUIDField)
    departmentId = _text(max_length=64)
    projectId = _int(None, INT32_MAX)
    autoDelete = _flag()
    workloadSupportedTypes = optional(WorkloadSupportedTypesSerializer)
    private = _flag()

    def validate(self, attrs):
        required_id = SCOPE_ID_FIELDS
        key = required_id.get(attrs["scope"])
        if key and attrs.get(key) is None:
            raise serializers.ValidationError(
                {key: [f"Required for an asset of scope '{attrs['scope']}'."]}
            )
        return attrs


class EnvironmentCreationRequestSerializer(StrictSerializer):
    meta = AssetCreationRequestSerializer()
    spec = EnvironmentSpecSerializer()


class EnvironmentUpdateRequestSerializer(StrictSerializer):
    meta = AssetUpdatableFieldsSerializer()
    spec = EnvironmentSpecSerializer()


class CompliancePreviewRequestSerializer(serializers.Serializer):
    """Documents the draft preview's body (the backend checks it)."""

    environment = EnvironmentCreationRequestSerializer()
    projectId = serializers.IntegerField()
    workloadType = serializers.ChoiceField(WORKLOAD_TYPES)
    replicaType = serializers.ChoiceField(["Worker", "Master"], required=False)


def check_preview_choices(body) -> None:
    """The preview's workloadType and replicaType are names: any other JSON type is a 400 here,
    before a backend looks them up (an object there was an unhashable key and a 500)."""
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    for name in ("workloadType", "replicaType"):
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            raise InvalidRequest(f"{name}: must be a string.")


def _validated(serializer_class, document) -> dict:
    if not isinstance(document, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    serializer = serializer_class(data=document)
    if not serializer.is_valid():
        raise InvalidRequest.from_field_errors(serializer.errors)
    return _plain(serializer.validated_data)


def _plain(value):
    """Plain dicts without nulls: clients send null for "not set" (runapy's from_dict does), and
    storing it as absent keeps every stored document within the contract's non-nullable fields."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def validate_creation(document) -> dict:
    """A clean EnvironmentCreationRequest, or InvalidRequest naming the first bad field."""
    return _validated(EnvironmentCreationRequestSerializer, document)


# Meta keys a client may echo back from a GET in an update. The server keeps these itself, so
# a stale copy is no change; every other echoed key must equal the stored value.
SERVER_MANAGED_META = frozenset({"updatedBy", "updatedAt", "updateCount", "deletedAt", "deletedBy"})
DERIVED_PARTS = frozenset({"usedBy", "usageTimes", "compliance", "status"})
FIXED_META = frozenset(
    {
        "scope", "clusterId", "departmentId", "projectId", "autoDelete", "private",
        "workloadSupportedTypes", "id", "kind", "tenantId", "createdBy", "createdAt",
        "projectName",
    }
)  # fmt: skip


def _same(key: str, sent, stored) -> bool:
    """Equal in value and JSON type: "7" is not 7, 0 is not false, "PROJECT" is not "project".

    Nulls inside an object mean "not set", as on create; a cluster uuid is the one value whose
    spelling may differ (upper or lower case) and still name the same thing.
    """
    if isinstance(sent, dict) and isinstance(stored, dict):
        sent, stored = _plain(sent), _plain(stored)
        return sent.keys() == stored.keys() and all(_same(k, sent[k], stored[k]) for k in sent)
    if key == "clusterId" and isinstance(sent, str) and isinstance(stored, str):
        return sent.lower() == stored.lower()
    return type(sent) is type(stored) and sent == stored


def validate_update(document, current_meta: dict | None = None) -> dict:
    """A clean EnvironmentUpdateRequest: meta.name, meta.description and the whole spec.

    Meta fields fixed at creation (placement, ids, ...) may be sent back as they were, as a
    client does when it PUTs what it got; a different value is refused, never ignored.
    """
    if isinstance(document, dict) and isinstance(document.get("meta"), dict):
        meta = dict(document["meta"])
        for key in sorted(set(meta) & (FIXED_META | SERVER_MANAGED_META)):
            sent = meta.pop(key)
            if key in SERVER_MANAGED_META or sent is None:
                continue
            stored = (current_meta or {}).get(key)
            if key in ("autoDelete", "private"):  # unset reads as false
                stored = bool(stored)
            if not _same(key, sent, stored):
                raise InvalidRequest(
                    f"meta.{key}: fixed at creation ({stored!r}); make a copy to change it.",
                    field_errors={f"meta.{key}": ["Fixed at creation; make a copy to change it."]},
                )
        document = {**document, "meta": meta}
    if isinstance(document, dict):
        # Parts of a read document that the server derives (usage, compliance, status).
        document = {k: v for k, v in document.items() if k not in DERIVED_PARTS}
    return _validated(EnvironmentUpdateRequestSerializer, document)
