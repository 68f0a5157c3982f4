"""How the environment API judges creation and update documents, through the real endpoints.

Every rejection is a 400 in the contract's error body whose message starts with the path of the
offending field, and leaves the stored environments exactly as they were.
"""

import copy
import json
import uuid

import pytest
from jsonschema import Draft4Validator

from envadmin.inventory.models import Environment

from .conftest import C1, C2, environment_document, post_json, put_json
from .contract import CONTRACT_DIR, assert_matches_contract

URL = "/api/v1/asset/environment"
CREDENTIAL_ID = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
DROP = object()  # a key to leave out of a document


def _merge(base: dict, changes: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if value is DROP:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def spec(**fields) -> dict:
    """A spec holding a valid image plus `fields`."""
    return _merge({"image": "python:3.11"}, fields)


def create_with_spec(**fields) -> dict:
    return environment_document(spec=spec(**fields))


def create_with_meta(**fields) -> dict:
    return {"meta": _merge(environment_document()["meta"], fields), "spec": spec()}


def env_var(**fields) -> dict:
    return _merge({"name": "HOME", "value": "/home/me"}, fields)


def internal(name="jupyter", **info) -> dict:
    tool = {"toolType": "jupyter-notebook", "connectionType": "LoadBalancer", "containerPort": 8888}
    return {"name": name, "isExternal": False, "internalToolInfo": _merge(tool, info)}


def external(name="wandb", **info) -> dict:
    tool = {"toolType": "wandb", "externalUrl": "https://wandb.ai/team/${PROJECT_NAME}"}
    return {"name": name, "isExternal": True, "externalToolInfo": _merge(tool, info)}


def readiness(handler=None, **probe) -> dict:
    body = _merge({"periodSeconds": 10}, probe)
    if handler is not None:
        body["handler"] = {"httpGet": handler}
    return {"readiness": body}


def custom_ids(**fields) -> dict:
    return {"uidGidSource": "custom", **fields}


# --- bad documents: (spec fields, path the message must name) ---------------------------------

BAD_SPECS = [
    # enums
    pytest.param(
        {"imagePullPolicy": "Sometimes"}, "spec.imagePullPolicy", id="imagePullPolicy enum"
    ),
    pytest.param(
        {"imagePullPolicy": "always"},
        "spec.imagePullPolicy",
        id="imagePullPolicy is case sensitive",
    ),
    pytest.param({"uidGidSource": "fromLdap"}, "spec.uidGidSource", id="uidGidSource enum"),
    pytest.param(
        {"seccompProfileType": "Default"}, "spec.seccompProfileType", id="seccompProfileType enum"
    ),
    pytest.param(
        {"capabilities": ["CHOWN", "CAP_KILL"]}, "spec.capabilities[1]", id="capability enum"
    ),
    pytest.param(
        {"connections": [internal(toolType="notebook")]},
        "spec.connections[0].internalToolInfo.toolType",
        id="internal toolType enum",
    ),
    pytest.param(
        {"connections": [internal(toolType="wandb")]},
        "spec.connections[0].internalToolInfo.toolType",
        id="external tool type used as internal",
    ),
    pytest.param(
        {"connections": [external(toolType="jupyter-notebook")]},
        "spec.connections[0].externalToolInfo.toolType",
        id="external toolType enum",
    ),
    pytest.param(
        {"connections": [internal(connectionType="ClusterIP")]},
        "spec.connections[0].internalToolInfo.connectionType",
        id="connectionType enum",
    ),
    pytest.param(
        {
            "connections": [
                internal(connectionType="ServingPort", servingPortInfo={"protocol": "tcp"})
            ]
        },
        "spec.connections[0].internalToolInfo.servingPortInfo.protocol",
        id="serving protocol enum",
    ),
    pytest.param(
        {"probes": readiness({"path": "/", "scheme": "FTP"})},
        "spec.probes.readiness.handler.httpGet.scheme",
        id="probe scheme enum",
    ),
    # ranges
    pytest.param(
        {"connections": [internal(containerPort=0)]},
        "spec.connections[0].internalToolInfo.containerPort",
        id="containerPort 0",
    ),
    pytest.param(
        {"connections": [internal(containerPort=65536)]},
        "spec.connections[0].internalToolInfo.containerPort",
        id="containerPort 65536",
    ),
    pytest.param(
        {"probes": readiness(periodSeconds=0)},
        "spec.probes.readiness.periodSeconds",
        id="probe periodSeconds 0",
    ),
    pytest.param(
        {"probes": readiness(initialDelaySeconds=-1)},
        "spec.probes.readiness.initialDelaySeconds",
        id="probe initialDelaySeconds -1",
    ),
    pytest.param(
        {"probes": readiness({"path": "/", "port": 70000})},
        "spec.probes.readiness.handler.httpGet.port",
        id="probe port 70000",
    ),
    pytest.param(custom_ids(runAsUid=-1), "spec.runAsUid", id="runAsUid -1"),
    pytest.param(custom_ids(runAsGid=2**63), "spec.runAsGid", id="runAsGid beyond int64"),
    # patterns
    pytest.param(
        {"environmentVariables": [env_var(value=DROP, configMap={"name": "My-Map", "key": "k"})]},
        "spec.environmentVariables[0].configMap.name",
        id="configMap name uppercase",
    ),
    pytest.param(
        {"probes": readiness({"path": "healthz"})},
        "spec.probes.readiness.handler.httpGet.path",
        id="probe path without leading slash",
    ),
    pytest.param(
        {"probes": readiness({"path": "/health?x=1"})},
        "spec.probes.readiness.handler.httpGet.path",
        id="probe path with query string",
    ),
    pytest.param(
        {"probes": readiness({"path": "/", "host": "bad_host!"})},
        "spec.probes.readiness.handler.httpGet.host",
        id="probe host invalid",
    ),
    pytest.param({"image": "Ubuntu:22.04"}, "spec.image", id="image reference invalid"),
    # wrong types
    pytest.param({"image": 12}, "spec.image", id="image 12"),
    pytest.param({"stdin": "yes"}, "spec.stdin", id="stdin yes"),
    pytest.param({"hostNetwork": 1}, "spec.hostNetwork", id="hostNetwork 1"),
    pytest.param({"capabilities": "CHOWN"}, "spec.capabilities", id="capabilities a string"),
    pytest.param({"environmentVariables": {}}, "spec.environmentVariables", id="env vars {}"),
    pytest.param(
        {"environmentVariables": ["HOME=/home"]},
        "spec.environmentVariables[0]",
        id="env var a string",
    ),
    pytest.param(
        {"connections": [internal(containerPort="8888")]},
        "spec.connections[0].internalToolInfo.containerPort",
        id="containerPort a string",
    ),
    pytest.param({"probes": "readiness"}, "spec.probes", id="probes a string"),
    pytest.param(
        {"probes": readiness(periodSeconds=1.5)},
        "spec.probes.readiness.periodSeconds",
        id="periodSeconds a float",
    ),
    # overlong strings
    pytest.param({"command": "x" * 5000}, "spec.command", id="command 5000 chars"),
    pytest.param({"args": "x" * 5000}, "spec.args", id="args 5000 chars"),
    # empty strings where the contract wants at least one character
    pytest.param({"image": ""}, "spec.image", id="image empty"),
    pytest.param({"workingDir": ""}, "spec.workingDir", id="workingDir empty"),
    # unknown keys
    pytest.param({"foo": 1}, "spec.foo", id="unknown key spec.foo"),
    pytest.param(
        {"environmentVariables": [env_var(secret=True)]},
        "spec.environmentVariables[0].secret",
        id="unknown key in an env var",
    ),
    pytest.param(
        {"connections": [internal(port=80)]},
        "spec.connections[0].internalToolInfo.port",
        id="unknown key in internalToolInfo",
    ),
    # environment variables
    pytest.param(
        {"environmentVariables": [env_var(credential={"assetId": CREDENTIAL_ID, "key": "k"})]},
        "spec.environmentVariables[0].credential",
        id="env var with two sources",
    ),
    pytest.param(
        {"environmentVariables": [env_var(value=DROP)]},
        "spec.environmentVariables[0].value",
        id="env var with no source and no exclude",
    ),
    pytest.param(
        {"environmentVariables": [env_var(value=DROP, exclude=False)]},
        "spec.environmentVariables[0].value",
        id="env var with no source and exclude false",
    ),
    pytest.param(
        {"environmentVariables": [env_var(name="A=B")]},
        "spec.environmentVariables[0].name",
        id="env var name containing =",
    ),
    pytest.param(
        {"environmentVariables": [env_var(name="")]},
        "spec.environmentVariables[0].name",
        id="env var name empty",
    ),
    pytest.param(
        {"environmentVariables": [env_var(name=DROP)]},
        "spec.environmentVariables[0].name",
        id="env var without a name",
    ),
    pytest.param(
        {"environmentVariables": [env_var(), env_var(name="PATH"), env_var(value="/other")]},
        "spec.environmentVariables[2].name",
        id="duplicate env var names",
    ),
    pytest.param(
        {"environmentVariables": [env_var(value=DROP, credential={"assetId": CREDENTIAL_ID})]},
        "spec.environmentVariables[0].credential.key",
        id="credential without key",
    ),
    pytest.param(
        {"environmentVariables": [env_var(value=DROP, credential={"assetId": "abc", "key": "k"})]},
        "spec.environmentVariables[0].credential.assetId",
        id="credential assetId not a uuid",
    ),
    pytest.param(
        {"environmentVariables": [env_var(value=DROP, credential={"key": "k"})]},
        "spec.environmentVariables[0].credential.assetId",
        id="credential without assetId",
    ),
    pytest.param(
        {"environmentVariables": [env_var(value=DROP, configMap={"name": "my-map"})]},
        "spec.environmentVariables[0].configMap.key",
        id="configMap without key",
    ),
    pytest.param(
        {"environmentVariables": [env_var(value=DROP, podFieldRef={})]},
        "spec.environmentVariables[0].podFieldRef.path",
        id="podFieldRef without path",
    ),
    # connections
    pytest.param(
        {"connections": [internal(), external(name="jupyter")]},
        "spec.connections[1].name",
        id="duplicate connection names",
    ),
    pytest.param(
        {"connections": [internal(containerPort=DROP)]},
        "spec.connections[0].internalToolInfo.containerPort",
        id="internal tool without containerPort",
    ),
    pytest.param(
        {"connections": [{"name": "jupyter", "isExternal": False}]},
        "spec.connections[0].internalToolInfo",
        id="internal connection without internalToolInfo",
    ),
    pytest.param(
        {"connections": [{"name": "jupyter"}]},
        "spec.connections[0].internalToolInfo",
        id="connection without any tool info",
    ),
    pytest.param(
        {"connections": [external(externalUrl=DROP)]},
        "spec.connections[0].externalToolInfo.externalUrl",
        id="external tool without URL",
    ),
    pytest.param(
        {"connections": [{"name": "wandb", "isExternal": True}]},
        "spec.connections[0].externalToolInfo",
        id="external connection without externalToolInfo",
    ),
    pytest.param(
        {"connections": [{**external(), "internalToolInfo": internal()["internalToolInfo"]}]},
        "spec.connections[0].internalToolInfo",
        id="isExternal with internalToolInfo",
    ),
    pytest.param(
        {"connections": [{**internal(), "externalToolInfo": external()["externalToolInfo"]}]},
        "spec.connections[0].externalToolInfo",
        id="internal connection with externalToolInfo",
    ),
    pytest.param(
        {"connections": [{"internalToolInfo": internal()["internalToolInfo"]}]},
        "spec.connections[0].name",
        id="connection without a name",
    ),
    # cross-field rules
    pytest.param({"tty": True}, "spec.tty", id="tty without stdin"),
    pytest.param({"tty": True, "stdin": False}, "spec.tty", id="tty with stdin false"),
    pytest.param(
        {"uidGidSource": "fromTheImage", "runAsUid": 1000},
        "spec.runAsUid",
        id="runAsUid with uidGidSource fromTheImage",
    ),
    pytest.param({"runAsGid": 1000}, "spec.runAsGid", id="runAsGid without uidGidSource"),
    pytest.param(
        {"uidGidSource": "fromIdpToken", "supplementalGroups": "2,3"},
        "spec.supplementalGroups",
        id="supplementalGroups with uidGidSource fromIdpToken",
    ),
    pytest.param(
        custom_ids(supplementalGroups="a,b"), "spec.supplementalGroups", id="supplementalGroups a,b"
    ),
    pytest.param(
        custom_ids(supplementalGroups="1,,2"),
        "spec.supplementalGroups",
        id="supplementalGroups 1,,2",
    ),
    pytest.param(
        custom_ids(supplementalGroups="1,2,"),
        "spec.supplementalGroups",
        id="supplementalGroups trailing comma",
    ),
    pytest.param(
        {"capabilities": ["CHOWN", "KILL", "CHOWN"]},
        "spec.capabilities",
        id="duplicate capabilities",
    ),
]

BAD_METAS = [
    pytest.param(create_with_meta(scope="org"), "meta.scope", id="scope enum"),
    pytest.param(create_with_meta(scope=DROP), "meta.scope", id="missing scope"),
    pytest.param(create_with_meta(name=DROP), "meta.name", id="missing meta.name"),
    pytest.param(create_with_meta(name=None), "meta.name", id="meta.name null"),
    pytest.param(create_with_meta(name=""), "meta.name", id="meta.name empty"),
    pytest.param(create_with_meta(name="n" * 256), "meta.name", id="name 256 chars"),
    pytest.param(
        create_with_meta(description="d" * 251), "meta.description", id="description 251 chars"
    ),
    pytest.param(create_with_meta(description=""), "meta.description", id="description empty"),
    pytest.param(create_with_meta(projectId="7"), "meta.projectId", id="projectId a string"),
    pytest.param(create_with_meta(projectId=True), "meta.projectId", id="projectId a boolean"),
    pytest.param(
        create_with_meta(projectId=DROP), "meta.projectId", id="scope project without projectId"
    ),
    pytest.param(
        create_with_meta(scope="cluster", projectId=DROP),
        "meta.clusterId",
        id="scope cluster without clusterId",
    ),
    pytest.param(
        create_with_meta(scope="department", projectId=DROP),
        "meta.departmentId",
        id="scope department without departmentId",
    ),
    pytest.param(
        create_with_meta(scope="cluster", projectId=DROP, clusterId="c1"),
        "meta.clusterId",
        id="clusterId not a uuid",
    ),
    pytest.param(
        create_with_meta(scope="department", projectId=DROP, departmentId=1),
        "meta.departmentId",
        id="departmentId a number",
    ),
    pytest.param(create_with_meta(bar=1), "meta.bar", id="unknown key meta.bar"),
    pytest.param(create_with_meta(id=CREDENTIAL_ID), "meta.id", id="read-only meta.id"),
    pytest.param(
        create_with_meta(workloadSupportedTypes={"distFramework": "JAX"}),
        "meta.workloadSupportedTypes.distFramework",
        id="distFramework enum",
    ),
    pytest.param(
        create_with_meta(workloadSupportedTypes={"workspace": "true"}),
        "meta.workloadSupportedTypes.workspace",
        id="workspace flag a string",
    ),
    pytest.param(create_with_meta(autoDelete="no"), "meta.autoDelete", id="autoDelete a string"),
    pytest.param(create_with_meta(projectId=99), "meta.projectId", id="projectId of no project"),
    pytest.param(
        create_with_meta(clusterId="8a2b4c6d-1e3f-4a5b-8c7d-9e0f1a2b3c4d"),
        "meta.clusterId",
        id="clusterId not the project's cluster",
    ),
    pytest.param({"spec": spec()}, "meta", id="missing meta"),
    pytest.param({"meta": environment_document()["meta"]}, "spec", id="missing spec"),
    pytest.param({**environment_document(), "spec": None}, "spec", id="spec null"),
    pytest.param({**environment_document(), "meta": "x"}, "meta", id="meta a string"),
    pytest.param({**environment_document(), "usedBy": {}}, "usedBy", id="unknown top-level key"),
]


# --- accepted documents -----------------------------------------------------------------------

DIGEST = "sha256:" + "0123456789abcdef" * 4

ALL_NULLS = {
    "meta": {
        "name": "all-nulls",
        "scope": "project",
        "projectId": 7,
        "description": None,
        "clusterId": None,
        "departmentId": None,
        "autoDelete": None,
        "private": None,
        "workloadSupportedTypes": {
            "inference": None,
            "workspace": None,
            "training": None,
            "distributed": None,
            "distFramework": None,
        },
    },
    "spec": {
        "image": "python:3.11",
        "args": None,
        "command": None,
        "environmentVariables": [
            {
                "name": "HOME",
                "value": "/home/me",
                "credential": None,
                "configMap": None,
                "podFieldRef": None,
                "exclude": None,
                "description": None,
            }
        ],
        "runAsGid": None,
        "runAsUid": None,
        "supplementalGroups": None,
        "allowPrivilegeEscalation": None,
        "capabilities": None,
        "createHomeDir": None,
        "hostIpc": None,
        "hostNetwork": None,
        "imagePullPolicy": None,
        "probes": {
            "readiness": {
                "initialDelaySeconds": None,
                "periodSeconds": None,
                "timeoutSeconds": None,
                "successThreshold": None,
                "failureThreshold": None,
                "handler": {"httpGet": {"path": None, "port": None, "host": None, "scheme": None}},
            }
        },
        "readOnlyRootFilesystem": None,
        "runAsNonRoot": None,
        "seccompProfileType": None,
        "stdin": None,
        "tty": None,
        "uidGidSource": None,
        "workingDir": None,
        "connections": [
            {
                "name": "jupyter",
                "isExternal": None,
                "internalToolInfo": {
                    "toolType": "jupyter-notebook",
                    "connectionType": "NodePort",
                    "containerPort": 8888,
                    "nodePortInfo": {"isCustomPort": None},
                    "externalUrlInfo": None,
                    "servingPortInfo": None,
                },
                "externalToolInfo": None,
            }
        ],
        "overrideUidGidInWorkspace": None,
    },
}

FULL_SECURITY = {
    "uidGidSource": "custom",
    "runAsUid": 1000,
    "runAsGid": 1000,
    "supplementalGroups": "2, 3,5",
    "overrideUidGidInWorkspace": True,
    "capabilities": ["CHOWN", "KILL", "NET_BIND_SERVICE", "SYS_PTRACE"],
    "seccompProfileType": "RuntimeDefault",
    "runAsNonRoot": True,
    "readOnlyRootFilesystem": True,
    "allowPrivilegeEscalation": False,
    "hostIpc": False,
    "hostNetwork": False,
    "createHomeDir": True,
}

GOOD_DOCUMENTS = [
    pytest.param(ALL_NULLS, id="explicit nulls everywhere"),
    pytest.param(
        create_with_spec(environmentVariables=[env_var(value=DROP, exclude=True)]),
        id="env var excluded without a source",
    ),
    pytest.param(
        create_with_spec(
            environmentVariables=[
                env_var(),
                env_var(
                    name="TOKEN", value=DROP, credential={"assetId": CREDENTIAL_ID, "key": "t"}
                ),
                env_var(name="CONF", value=DROP, configMap={"name": "my-map", "key": "k"}),
                env_var(name="POD", value=DROP, podFieldRef={"path": "metadata.name"}),
                env_var(name="EMPTY", value="", description="Fill me in."),
            ]
        ),
        id="env vars of every source",
    ),
    pytest.param(
        create_with_spec(uidGidSource="custom", supplementalGroups=""),
        id="empty supplementalGroups with custom uid source",
    ),
    pytest.param(
        create_with_spec(connections=[external()]),
        id="external wandb connection with a placeholder URL",
    ),
    pytest.param(
        create_with_spec(
            connections=[
                internal(),
                internal(
                    "vscode",
                    toolType="visual-studio-code",
                    containerPort=8080,
                    connectionType="ExternalUrl",
                    externalUrlInfo={"isCustomUrl": True, "externalUrl": "https://x.io/a"},
                ),
                internal(
                    "serve",
                    toolType="custom",
                    containerPort=8000,
                    connectionType="ServingPort",
                    servingPortInfo={"protocol": "grpc"},
                ),
                internal(
                    "tb",
                    toolType="tensorboard",
                    containerPort=6006,
                    connectionType="NodePort",
                    nodePortInfo={"isCustomPort": False},
                ),
                external("comet", toolType="comet", externalUrl="https://comet.com/${USER}"),
            ]
        ),
        id="connections of every kind",
    ),
    pytest.param(create_with_spec(**FULL_SECURITY), id="full security block"),
    pytest.param(
        create_with_spec(
            probes=readiness(
                {"path": "/healthz", "port": 8080, "host": "svc.local", "scheme": "HTTPS"},
                initialDelaySeconds=0,
                periodSeconds=1,
                timeoutSeconds=1,
                successThreshold=1,
                failureThreshold=3,
            )
        ),
        id="readiness probe with httpGet",
    ),
    pytest.param(
        create_with_spec(probes=readiness({"path": ""})), id="readiness probe with empty path"
    ),
    pytest.param(
        create_with_spec(
            image=f"nvcr.io/nvidia/pytorch:24.05-py3@{DIGEST}",
            imagePullPolicy="IfNotPresent",
            workingDir="/workspace",
            command="python",
            args="-m train --epochs 3",
            stdin=True,
            tty=True,
        ),
        id="image with digest, command and a tty",
    ),
    pytest.param(
        create_with_meta(name="n" * 255, description="d" * 250),
        id="name and description at their limits",
    ),
    pytest.param(create_with_meta(scope="tenant", projectId=DROP), id="tenant scope"),
    pytest.param(
        create_with_meta(scope="cluster", projectId=DROP, clusterId=C1), id="cluster scope"
    ),
    pytest.param(
        create_with_meta(scope="department", projectId=DROP, departmentId="d1"),
        id="department scope",
    ),
    pytest.param(
        create_with_meta(clusterId=C1, departmentId="d1"), id="project scope with its ancestors"
    ),
] + [
    pytest.param(
        create_with_meta(
            name=f"dist-{framework.lower()}",
            workloadSupportedTypes={"distributed": True, "distFramework": framework},
        ),
        id=f"distFramework {framework}",
    )
    for framework in ["MPI", "PyTorch", "TF", "XGBoost"]
]


# --- helpers ----------------------------------------------------------------------------------


def error_schema_validator() -> Draft4Validator:
    contract = json.loads((CONTRACT_DIR / "environment.openapi.json").read_text())
    return Draft4Validator(contract["components"]["schemas"]["Error"])


def assert_error_body(response, status: int) -> dict:
    """The contract's Error body {code, message, details?}, with code equal to the status."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    error_schema_validator().validate(body)
    assert set(body) <= {"code", "message", "details"}
    assert body["code"] == status
    assert body["message"]
    return body


def assert_rejected(response, path: str) -> dict:
    body = assert_error_body(response, 400)
    assert_matches_contract("environment", response)
    assert body["message"].startswith(f"{path}:"), body
    return body


def stored(env_id) -> tuple:
    env = Environment.objects.get(pk=env_id)
    return env.name, env.description, env.spec, env.update_count, env.updated_at


def contains_null(value) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(contains_null(item) for item in value.values())
    if isinstance(value, list):
        return any(contains_null(item) for item in value)
    return False


@pytest.fixture
def p7_env(org):
    return Environment.objects.get(name="p7-env")


def update_document(env, spec_fields=None, **meta) -> dict:
    return {"meta": {"name": env.name, **meta}, "spec": spec(**(spec_fields or {}))}


# --- creation: rejected ----------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "path"), BAD_SPECS)
def test_it_rejects_a_creation_with_a_bad_spec_naming_the_field(org, admin, fields, path):
    before = Environment.objects.count()
    response = post_json(admin, URL, environment_document(spec=spec(**fields)))
    assert_rejected(response, path)
    assert Environment.objects.count() == before


@pytest.mark.parametrize(("document", "path"), BAD_METAS)
def test_it_rejects_a_creation_with_bad_meta_naming_the_field(org, admin, document, path):
    before = Environment.objects.count()
    response = post_json(admin, URL, document)
    assert_rejected(response, path)
    assert Environment.objects.count() == before


def test_it_rejects_a_creation_with_several_errors_listing_them_all_in_details(org, admin):
    document = create_with_spec(imagePullPolicy="Sometimes", stdin="yes")
    body = assert_rejected(post_json(admin, URL, document), "spec.imagePullPolicy")
    assert "spec.stdin" in body["details"]


@pytest.mark.parametrize(
    ("document", "path"),
    [
        pytest.param(
            create_with_spec(
                environmentVariables=[env_var(value=DROP, credential={"assetId": 1, "key": "k"})]
            ),
            "spec.environmentVariables[0].credential.assetId",
            id="credential assetId",
        ),
        pytest.param(
            create_with_meta(scope="cluster", projectId=DROP, clusterId=uuid.UUID(C1).int),
            "meta.clusterId",
            id="meta clusterId",
        ),
    ],
)
def test_it_rejects_a_uuid_sent_as_a_json_integer(org, admin, document, path):
    """The contract's uuids are strings; a number must not be read as UUID(int=...)."""
    before = Environment.objects.count()
    response = post_json(admin, URL, document)
    assert Environment.objects.count() == before
    assert_rejected(response, path)


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        pytest.param({"image": "ubuntu\n"}, "spec.image", id="image"),
        pytest.param(
            {"environmentVariables": [env_var(value=DROP, configMap={"name": "m\n", "key": "k"})]},
            "spec.environmentVariables[0].configMap.name",
            id="configMap name",
        ),
        pytest.param(
            {"probes": readiness({"path": "/healthz\n"})},
            "spec.probes.readiness.handler.httpGet.path",
            id="probe path",
        ),
        pytest.param(
            {"probes": readiness({"path": "/", "host": "example.com\n"})},
            "spec.probes.readiness.handler.httpGet.host",
            id="probe host",
        ),
        pytest.param(
            custom_ids(supplementalGroups="2,3\n"), "spec.supplementalGroups", id="groups"
        ),
        pytest.param(
            custom_ids(supplementalGroups="\u0661,\u0662"),
            "spec.supplementalGroups",
            id="groups in non-ascii digits",
        ),
    ],
)
def test_it_rejects_a_pattern_checked_value_with_a_trailing_newline_or_foreign_digits(
    org, admin, fields, path
):
    before = Environment.objects.count()
    response = post_json(admin, URL, create_with_spec(**fields))
    assert Environment.objects.count() == before
    assert_rejected(response, path)


# --- creation: accepted ----------------------------------------------------------------------


@pytest.mark.parametrize("document", GOOD_DOCUMENTS)
def test_it_accepts_a_valid_creation_document(org, admin, document):
    before = Environment.objects.count()
    response = post_json(admin, URL, document)
    assert response.status_code == 202, response.json()
    assert_matches_contract("environment", response)
    body = response.json()
    assert body["meta"]["name"] == document["meta"]["name"]
    assert not contains_null(body["spec"]), body["spec"]
    assert Environment.objects.count() == before + 1
    env = Environment.objects.get(pk=body["meta"]["id"])
    assert env.spec == body["spec"]


def test_it_accepts_explicit_nulls_as_absent_fields(org, admin):
    response = post_json(admin, URL, ALL_NULLS)
    assert response.status_code == 202, response.json()
    spec_ = response.json()["spec"]
    assert spec_ == {
        "image": "python:3.11",
        "environmentVariables": [{"name": "HOME", "value": "/home/me"}],
        "probes": {"readiness": {"handler": {"httpGet": {}}}},
        "connections": [
            {
                "name": "jupyter",
                "internalToolInfo": {
                    "toolType": "jupyter-notebook",
                    "connectionType": "NodePort",
                    "containerPort": 8888,
                    "nodePortInfo": {},
                },
            }
        ],
    }
    fetched = admin.get(f"{URL}/{response.json()['meta']['id']}")
    assert fetched.status_code == 200
    assert_matches_contract("environment", fetched)
    assert fetched.json()["spec"] == spec_


def test_it_keeps_an_external_url_placeholder_verbatim(org, admin):
    response = post_json(admin, URL, create_with_spec(connections=[external()]))
    assert response.status_code == 202
    tool = response.json()["spec"]["connections"][0]["externalToolInfo"]
    assert tool == {"toolType": "wandb", "externalUrl": "https://wandb.ai/team/${PROJECT_NAME}"}


# --- creation: bodies that are not a JSON object ---------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param('{"meta": {"name": "x",', id="malformed JSON"),
        pytest.param("{'meta': {}}", id="single-quoted pseudo JSON"),
        pytest.param(json.dumps([environment_document()]), id="a JSON array"),
        pytest.param(json.dumps("my-env"), id="a JSON string"),
        pytest.param("42", id="a JSON number"),
        pytest.param("null", id="JSON null"),
        pytest.param("", id="an empty body"),
    ],
)
def test_it_rejects_a_body_that_is_not_a_json_object(org, admin, raw):
    before = Environment.objects.count()
    response = admin.post(URL, data=raw, content_type="application/json")
    assert_error_body(response, 400)
    assert_matches_contract("environment", response)
    assert Environment.objects.count() == before


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml"],
)
def test_it_rejects_a_body_of_another_content_type(org, admin, content_type):
    before = Environment.objects.count()
    raw = json.dumps(environment_document())
    response = admin.post(URL, data=raw, content_type=content_type)
    assert 400 <= response.status_code < 500
    body = assert_error_body(response, response.status_code)
    assert response.status_code == 415, body
    assert Environment.objects.count() == before


# --- update ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "path"), BAD_SPECS)
def test_it_rejects_an_update_with_a_bad_spec_leaving_the_environment_unchanged(
    admin, p7_env, fields, path
):
    before, count = stored(p7_env.pk), Environment.objects.count()
    response = put_json(admin, f"{URL}/{p7_env.pk}", update_document(p7_env, fields))
    assert_rejected(response, path)
    assert stored(p7_env.pk) == before
    assert Environment.objects.count() == count


@pytest.mark.parametrize(
    ("meta", "path"),
    [
        pytest.param({"scope": "tenant"}, "meta.scope", id="meta.scope"),
        pytest.param({"projectId": 8}, "meta.projectId", id="meta.projectId"),
        pytest.param({"clusterId": C2}, "meta.clusterId", id="meta.clusterId"),
        pytest.param(
            {"workloadSupportedTypes": {"training": True}},
            "meta.workloadSupportedTypes",
            id="meta.workloadSupportedTypes",
        ),
        pytest.param({"name": ""}, "meta.name", id="empty name"),
        pytest.param({"name": "n" * 256}, "meta.name", id="name 256 chars"),
        pytest.param({"description": "d" * 251}, "meta.description", id="description 251"),
        pytest.param({"bar": 1}, "meta.bar", id="unknown key meta.bar"),
    ],
)
def test_it_rejects_an_update_that_touches_placement_or_bad_meta(admin, p7_env, meta, path):
    before = stored(p7_env.pk)
    response = put_json(admin, f"{URL}/{p7_env.pk}", update_document(p7_env, **meta))
    assert_rejected(response, path)
    assert stored(p7_env.pk) == before


def test_it_rejects_an_update_without_a_spec(admin, p7_env):
    before = stored(p7_env.pk)
    response = put_json(admin, f"{URL}/{p7_env.pk}", {"meta": {"name": "renamed"}})
    assert_rejected(response, "spec")
    assert stored(p7_env.pk) == before


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("{not json", id="malformed JSON"),
        pytest.param("[]", id="a JSON array"),
        pytest.param('"spec"', id="a JSON string"),
        pytest.param("", id="an empty body"),
    ],
)
def test_it_rejects_an_update_body_that_is_not_a_json_object(admin, p7_env, raw):
    before = stored(p7_env.pk)
    response = admin.put(f"{URL}/{p7_env.pk}", data=raw, content_type="application/json")
    assert_error_body(response, 400)
    assert_matches_contract("environment", response)
    assert stored(p7_env.pk) == before


def test_it_rejects_an_update_sent_as_text_plain(admin, p7_env):
    before = stored(p7_env.pk)
    raw = json.dumps(update_document(p7_env, {"image": "ubuntu"}))
    response = admin.put(f"{URL}/{p7_env.pk}", data=raw, content_type="text/plain")
    assert_error_body(response, 415)
    assert stored(p7_env.pk) == before


def test_it_accepts_an_update_and_counts_it(admin, p7_env):
    count = p7_env.update_count
    document = update_document(p7_env, {"image": "ubuntu:22.04", **FULL_SECURITY}, description=None)
    response = put_json(admin, f"{URL}/{p7_env.pk}", document)
    assert response.status_code == 202, response.json()
    assert_matches_contract("environment", response)
    assert response.json()["meta"]["updateCount"] == count + 1
    p7_env.refresh_from_db()
    assert p7_env.spec == spec(image="ubuntu:22.04", **FULL_SECURITY)
    assert p7_env.update_count == count + 1


def test_it_accepts_an_update_with_explicit_nulls(admin, p7_env):
    document = {"meta": {"name": p7_env.name, "description": None}, "spec": ALL_NULLS["spec"]}
    response = put_json(admin, f"{URL}/{p7_env.pk}", document)
    assert response.status_code == 202, response.json()
    assert_matches_contract("environment", response)
    assert not contains_null(response.json()["spec"])
