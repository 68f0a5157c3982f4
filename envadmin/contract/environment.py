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
    UniqueNamesListField,
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
# Kubernetes' rule for an environment variable's name (a C identifier, plus '-' and '.').
ENV_VAR_NAME = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*", re.ASCII)

# Messages of the rules between fields, named so a face can say them in its own words.
REQUIRED = "This field is required."
ENV_VAR_NAME_RULE = (
    "Must start with a letter, '-', '_' or '.', and hold only letters, digits, '-', '_' and '.'."
)
VALUE_OR_INSTRUCTIONS = "Give a value, or instructions for the person who submits the workload."
TTY_NEEDS_STDIN = "A TTY needs stdin: set stdin to true."
UID_NEEDS_CUSTOM = "Only allowed when uidGidSource is 'custom'."

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


def _missing(attrs: dict, keys, failed) -> dict:
    """The keys among `keys` that are neither given nor wrong in themselves."""
    return {key: [REQUIRED] for key in keys if not attrs.get(key) and key not in failed}


class CredentialSerializer(StrictSerializer):
    assetId = optional(StrictUUIDField)
    key = _text()

    def field_rules(self, attrs, failed):
        return _missing(attrs, ("assetId", "key"), failed)


class ConfigMapSerializer(StrictSerializer):
    name = _text()
    key = _text()

    def validate_name(self, value):
        if value and not CONFIG_MAP_NAME.fullmatch(value):
            raise serializers.ValidationError("Must be a lowercase DNS label (a-z, 0-9, '-').")
        return value

    def field_rules(self, attrs, failed):
        return _missing(attrs, ("name", "key"), failed)


class PodFieldRefSerializer(StrictSerializer):
    path = _text()

    def field_rules(self, attrs, failed):
        return _missing(attrs, ("path",), failed)


ENV_VAR_SOURCES = ("value", "credential", "configMap", "podFieldRef")


class EnvironmentVariableSerializer(StrictSerializer):
    name = _text()
    value = optional(StrictCharField, allow_blank=True)
    credential = optional(CredentialSerializer)
    configMap = optional(ConfigMapSerializer)
    podFieldRef = optional(PodFieldRefSerializer)
    exclude = _flag()
    description = optional(StrictCharField, allow_blank=True)

    def validate_name(self, value):
        if value and not ENV_VAR_NAME.fullmatch(value):
            raise serializers.ValidationError(ENV_VAR_NAME_RULE)
        return value

    def field_rules(self, attrs, failed):
        errors = _missing(attrs, ("name",), failed)
        if failed & set(ENV_VAR_SOURCES):
            return errors  # a source that is wrong in itself says so; no rule about sources
        sources = [key for key in ENV_VAR_SOURCES if attrs.get(key) is not None]
        if len(sources) > 1:
            errors[sources[1]] = [
                f"Give exactly one source; this variable already has {sources[0]}."
            ]
        # No value and no other source: either it excludes a policy default, or it is left
        # for the person who submits a workload, who then needs instructions (as in Run:ai).
        given = attrs.get("value") or set(sources) - {"value"}
        instructions = (attrs.get("description") or "").strip()
        if not given and not attrs.get("exclude") and not instructions:
            errors["value"] = [VALUE_OR_INSTRUCTIONS]
        return errors


# --- connections -----------------------------------------------------------------------------


class NodePortInfoSerializer(StrictSerializer):
    isCustomPort = optional(StrictBooleanField)


class ExternalUrlInfoSerializer(StrictSerializer):
    isCustomUrl = optional(StrictBooleanField)
    externalUrl = _text()


class ServingPortInfoSerializer(StrictSerializer):
    protocol = _choice(SERVING_PROTOCOLS)


def _needed(message: str) -> dict:
    """Error messages of a required field that say what it is needed for."""
    return {"error_messages": {"required": message, "null": message, "blank": message}}


class InternalToolInfoSerializer(StrictSerializer):
    toolType = StrictChoiceField(INTERNAL_TOOL_TYPES, **_needed("Choose the tool."))
    connectionType = StrictChoiceField(
        CONNECTION_TYPES, **_needed("Connection type is required for an internal tool.")
    )
    containerPort = StrictIntegerField(
        min_value=1, max_value=65535, **_needed("Container port is required for an internal tool.")
    )
    nodePortInfo = optional(NodePortInfoSerializer)
    externalUrlInfo = optional(ExternalUrlInfoSerializer)
    servingPortInfo = optional(ServingPortInfoSerializer)


class ExternalToolInfoSerializer(StrictSerializer):
    toolType = StrictChoiceField(EXTERNAL_TOOL_TYPES, **_needed("Choose the tool."))
    externalUrl = StrictCharField(min_length=1, **_needed("URL is required for an external tool."))


class ConnectionSerializer(StrictSerializer):
    name = StrictCharField(min_length=1, max_length=NAME_MAX, **_needed("A tool needs a name."))
    isExternal = optional(StrictBooleanField)
    internalToolInfo = optional(InternalToolInfoSerializer)
    externalToolInfo = optional(ExternalToolInfoSerializer)

    # For isExternal false and true: (the info it needs, why), (the info it takes not, why).
    TOOL_INFO = {
        False: (
            ("internalToolInfo", "An internal tool needs internalToolInfo with a port."),
            ("externalToolInfo", "Set isExternal to true for an external tool."),
        ),
        True: (
            ("externalToolInfo", "An external tool needs externalToolInfo with its URL."),
            ("internalToolInfo", "An external connection takes no internalToolInfo."),
        ),
    }

    def field_rules(self, attrs, failed):
        if "isExternal" in failed:
            return {}
        (needed, why_needed), (unwanted, why_not) = self.TOOL_INFO[bool(attrs.get("isExternal"))]
        errors = {}
        if not attrs.get(needed) and needed not in failed:
            errors[needed] = [why_needed]
        if attrs.get(unwanted):
            errors[unwanted] = [why_not]
        return errors


# --- probes ----------------------------------------------------------------------------------


class HttpGetSerializer(StrictSerializer):
    path = _text(allow_blank=True)
    port = _int(1, 65535)
    host = _text(max_length=253)
    scheme = _choice(PROBE_SCHEMES)

    def validate_path(self, value):
        if value and not PROBE_PATH.fullmatch(value):
            raise serializers.ValidationError(
                "Must start with '/' and hold only letters, digits, '-', '_', '.', '/'."
            )
        return value

    def validate_host(self, value):
        if value and not HOSTNAME.fullmatch(value):
            raise serializers.ValidationError("Must be a valid host name.")
        return value


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
        UniqueNamesListField,
        what="environment variable",
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
        UniqueNamesListField,
        what="connection",
        child=ConnectionSerializer(),
        max_length=MAX_CONNECTIONS,
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

    def field_rules(self, attrs, failed):
        errors = {}
        if attrs.get("tty") and not attrs.get("stdin") and "stdin" not in failed:
            errors["tty"] = [TTY_NEEDS_STDIN]
        if attrs.get("uidGidSource") != "custom" and "uidGidSource" not in failed:
            for key in ("runAsUid", "runAsGid", "supplementalGroups"):
                if attrs.get(key) not in (None, ""):
                    errors[key] = [UID_NEEDS_CUSTOM]
        return errors


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

    def field_rules(self, attrs, failed):
        key = SCOPE_ID_FIELDS.get(attrs.get("scope"))
        if key and attrs.get(key) is None and key not in failed:
            return {key: [f"Required for an asset of scope '{attrs['scope']}'."]}
        return {}


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
    """A clean EnvironmentCreationRequest, or InvalidRequest naming every bad field."""
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
