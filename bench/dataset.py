"""The data set of issue 7's benchmarks, built with bulk_create into the current database.

Import after django.setup(). `build(size)` writes, into an empty (migrated or flushed) database:

- the org tree: 1 tenant, 3 clusters, 20 departments (round robin over the clusters), 200 projects
  (round robin over the departments), with fixed ids and names;
- `size` environments spread over every level (about 5% tenant, 10% clusters, 25% departments,
  60% projects), with realistic specs drawn from a small catalogue (image, one or two connections
  with their tool types, environment variables from every source, workload types, uid/gid,
  working dir, args...);
- about 5 workloads per environment (types the environment supports, varied statuses), each in a
  project that can see its environment; 0.2 templates per environment (exactly every fifth one),
  at the environment's node or at a project below it;
- a policy on every node for each of the four workload types (896 in all), one rule per field
  per branch: the tenant rules imagePullPolicy (options) and security.hostNetwork (canEdit),
  each cluster security.runAsUid (min) and security.capabilities (options), each department
  workingDir (canEdit, with a default), each project args (required) and environmentVariables
  (locked). Distributed policies carry the same rules under `worker` and `master`. The tenant's
  policies impose two tenant environments;
- a service account with a System administrator rule at tenant and a signed access token for the
  API, and a Django superuser with a System administrator rule at tenant (subject_type "user")
  for the UI and the Django admin.

Everything is drawn from a random generator seeded per environment, so environment `i` (its
placement, spec, workloads and templates) is the same at every size: the 1,000 data set is the
first thousand environments of the 10,000 one.
"""

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction

from envadmin.accounts.access import Caller
from envadmin.accounts.models import AccessRule, Role, ServiceAccount, SubjectType
from envadmin.accounts.tokens import issue
from envadmin.backends import get_backend
from envadmin.contract.choices import POLICY_SCOPES, SUPPORTED_TYPE_KEYS
from envadmin.contract.environment import validate_creation
from envadmin.contract.policy import validate_policy
from envadmin.contract.policy_paths import flatten_rules
from envadmin.inventory.models import (
    Cluster,
    Department,
    Environment,
    Project,
    Template,
    Workload,
)
from envadmin.policies.models import Policy

SEED = 7
CLUSTERS = 3
DEPARTMENTS = 20
PROJECTS = 200
WORKLOAD_TYPES = SUPPORTED_TYPE_KEYS
# Cumulative shares of the levels an environment is placed at.
LEVELS = [(0.05, "tenant"), (0.15, "cluster"), (0.40, "department"), (1.0, "project")]
# Workloads per environment: 5 on average.
WORKLOAD_COUNTS = [0, 2, 3, 4, 5, 5, 6, 7, 8, 10]
STATUSES = ["Running"] * 4 + ["Pending", "Completed", "Completed", "Failed", "Stopped", "Stopped"]
CREATORS = ["alex@example.com", "sam@example.com", "kim@example.com", "ops@example.com"]
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
NAMESPACE = uuid.UUID("6f1c1f1e-7d1a-4c1b-9a55-000000000007")
BATCH = 2000

UI_USERNAME = "bench-admin"


def internal(name, tool, connection, port, **info):
    tool_info = {"toolType": tool, "connectionType": connection, "containerPort": port}
    if connection == "ExternalUrl":
        tool_info["externalUrlInfo"] = {"isCustomUrl": False}
    elif connection == "NodePort":
        tool_info["nodePortInfo"] = {"isCustomPort": False}
    elif connection == "ServingPort":
        tool_info["servingPortInfo"] = {"protocol": info.get("protocol", "http")}
    return {"name": name, "isExternal": False, "internalToolInfo": tool_info}


def external(name, tool, url):
    return {
        "name": name,
        "isExternal": True,
        "externalToolInfo": {"toolType": tool, "externalUrl": url},
    }


@dataclass(frozen=True)
class Kind:
    """One entry of the catalogue environments are drawn from."""

    name: str
    types: tuple[str, ...]
    image: str
    tags: tuple[str, ...]
    connections: tuple[tuple[dict, ...], ...]  # one of these sets, picked per environment
    command: str | None = None
    args: str | None = None
    framework: str | None = None
    probes: dict | None = None


SERVING_PROBES = {
    "readiness": {
        "initialDelaySeconds": 30,
        "periodSeconds": 10,
        "timeoutSeconds": 5,
        "successThreshold": 1,
        "failureThreshold": 6,
        "handler": {"httpGet": {"path": "/health", "port": 8000, "scheme": "HTTP"}},
    }
}
JUPYTER = internal("Jupyter", "jupyter-notebook", "ExternalUrl", 8888)
TENSORBOARD = internal("TensorBoard", "tensorboard", "NodePort", 6006)
WANDB = external("W&B", "wandb", "https://wandb.ai/example-team")
COMET = external("Comet", "comet", "https://www.comet.com/example-team")
CATALOGUE = [
    Kind(
        "jupyter", ("workspace",), "jupyter/scipy-notebook", ("latest", "python-3.11"),
        ((JUPYTER,), (JUPYTER, TENSORBOARD)), "start-notebook.sh",
        "--NotebookApp.base_url=/${RUNAI_PROJECT}/${RUNAI_JOB_NAME} --NotebookApp.token=''",
    ),
    Kind(
        "vscode", ("workspace",), "codercom/code-server", ("4.93.1", "latest"),
        ((internal("VS Code", "visual-studio-code", "ExternalUrl", 8080),),),
        None, "--auth none --bind-addr 0.0.0.0:8080",
    ),
    Kind(
        "pytorch", ("workspace", "training"), "nvcr.io/nvidia/pytorch", ("24.08-py3", "24.10-py3"),
        ((JUPYTER, TENSORBOARD), (JUPYTER, WANDB)), "python", "train.py --epochs 10",
    ),
    Kind(
        "tensorflow", ("training",), "tensorflow/tensorflow", ("2.17.0-gpu", "latest-gpu"),
        ((TENSORBOARD,), (TENSORBOARD, COMET)), "python", "-m trainer.task",
    ),
    Kind(
        "rstudio", ("workspace",), "rocker/rstudio", ("4.4.1", "latest"),
        ((internal("RStudio", "rstudio", "ExternalUrl", 8787),),),
    ),
    Kind(
        "mlflow", ("workspace", "training"), "ghcr.io/mlflow/mlflow", ("v2.16.2",),
        ((internal("MLflow", "mlflow", "LoadBalancer", 5000), WANDB),), "mlflow",
        "server --host 0.0.0.0",
    ),
    Kind(
        "mpi", ("training", "distributed"), "mpioperator/mpi-pi", ("openmpi", "intel"),
        ((WANDB,), (COMET,)), "mpirun", "-np 4 /home/mpiuser/pi", framework="MPI",
    ),
    Kind(
        "ddp", ("distributed",), "nvcr.io/nvidia/pytorch", ("24.08-py3",),
        ((TENSORBOARD,), (TENSORBOARD, WANDB)), "torchrun", "--nproc-per-node 8 train.py",
        framework="PyTorch",
    ),
    Kind(
        "vllm", ("inference",), "vllm/vllm-openai", ("v0.6.3", "latest"),
        ((internal("serving", "custom", "ServingPort", 8000),),), None,
        "--model meta-llama/Llama-3.1-8B-Instruct", probes=SERVING_PROBES,
    ),
    Kind(
        "triton", ("inference",), "nvcr.io/nvidia/tritonserver", ("24.08-py3",),
        ((internal("grpc", "custom", "ServingPort", 8001, protocol="grpc"),),), "tritonserver",
        "--model-repository=/models",
    ),
]  # fmt: skip
ENV_VARS = [
    {"name": "HF_HOME", "value": "/data/hf-cache"},
    {"name": "NCCL_DEBUG", "value": "INFO", "description": "NCCL log level"},
    {"name": "OMP_NUM_THREADS", "value": "8"},
    {"name": "WANDB_API_KEY", "credential": {"assetId": str(NAMESPACE), "key": "token"}},
    {"name": "DATA_ROOT", "configMap": {"name": "data-paths", "key": "root"}},
    {"name": "POD_IP", "podFieldRef": {"path": "status.podIP"}},
    {"name": "PYTHONUNBUFFERED", "value": "1"},
]


@dataclass
class Node:
    scope: str
    key: str
    fk: dict
    projects: list[int]  # the projects that can see an asset of this node
    ids: dict = field(default_factory=dict)  # placement ids for a creation document


@dataclass
class Dataset:
    size: int
    project: int  # the project the benchmarks list and judge for
    environment_id: str  # a tenant environment with workloads and a template, for the API get
    api_token: str
    ui_user: object
    counts: dict
    warnings: list[str] = field(default_factory=list)


def _org_tree():
    clusters = Cluster.objects.bulk_create(
        Cluster(id=uuid.uuid5(NAMESPACE, f"cluster-{i}"), name=f"cluster-{i}")
        for i in range(CLUSTERS)
    )
    departments = Department.objects.bulk_create(
        Department(id=f"d{i + 1}", name=f"dept-{i + 1}", cluster=clusters[i % CLUSTERS])
        for i in range(DEPARTMENTS)
    )
    projects = Project.objects.bulk_create(
        Project(id=i + 1, name=f"project-{i + 1}", department=departments[i % DEPARTMENTS])
        for i in range(PROJECTS)
    )
    by_department = {d.id: [p.id for p in projects if p.department_id == d.id] for d in departments}
    by_cluster = {
        c.id: [p for d in departments if d.cluster_id == c.id for p in by_department[d.id]]
        for c in clusters
    }
    tenant = Node("tenant", "tenant", {}, [p.id for p in projects])
    cluster_nodes = [
        Node(
            "cluster", f"cluster:{c.id}", {"cluster": c}, by_cluster[c.id], {"clusterId": str(c.id)}
        )
        for c in clusters
    ]
    department_nodes = [
        Node(
            "department", f"department:{d.id}", {"department": d}, by_department[d.id],
            {"clusterId": str(d.cluster_id), "departmentId": d.id},
        )
        for d in departments
    ]  # fmt: skip
    project_nodes = [
        Node(
            "project", f"project:{p.id}", {"project": p}, [p.id],
            {"clusterId": str(departments[(p.id - 1) % DEPARTMENTS].cluster_id),
             "departmentId": p.department_id, "projectId": p.id},
        )
        for p in projects
    ]  # fmt: skip
    return tenant, cluster_nodes, department_nodes, project_nodes


def _place(rng, tenant, clusters, departments, projects) -> Node:
    draw = rng.random()
    level = next(name for share, name in LEVELS if draw < share)
    if level == "tenant":
        return tenant
    if level == "cluster":
        return rng.choice(clusters)
    if level == "department":
        return rng.choice(departments)
    return rng.choice(projects)


def _spec(rng, kind: Kind) -> dict:
    spec = {"image": f"{kind.image}:{rng.choice(kind.tags)}"}
    pull = rng.choice(["IfNotPresent"] * 5 + ["Always"] * 3 + ["Never", None])
    if pull:
        spec["imagePullPolicy"] = pull
    if kind.command:
        spec["command"] = kind.command
    if kind.args and rng.random() < 0.8:
        spec["args"] = kind.args
    variables = rng.sample(ENV_VARS, rng.randint(0, 4))
    if variables:
        spec["environmentVariables"] = [dict(v) for v in variables]
    if rng.random() < 0.4:
        spec["uidGidSource"] = "custom"
        spec["runAsUid"] = rng.choice([0, 500, 1000, 1000, 1500, 2000, 65534])
        spec["runAsGid"] = rng.choice([0, 100, 1000])
        if rng.random() < 0.3:
            spec["supplementalGroups"] = "100,1000"
    else:
        spec["uidGidSource"] = rng.choice(["fromTheImage", "fromTheImage", "fromIdpToken"])
    if rng.random() < 0.3:
        spec["workingDir"] = rng.choice(["/workspace", "/workspace", "/home/jovyan", "/app"])
    if rng.random() < 0.3:
        spec["createHomeDir"] = True
    if rng.random() < 0.2:
        spec["capabilities"] = rng.sample(
            ["SYS_PTRACE", "NET_ADMIN", "IPC_LOCK"], rng.randint(1, 2)
        )
    if rng.random() < 0.2:
        spec["runAsNonRoot"] = True
    if rng.random() < 0.1:
        spec["hostNetwork"] = True
    if "workspace" in kind.types and rng.random() < 0.3:
        spec["stdin"] = True
        spec["tty"] = True
    spec["connections"] = [dict(c) for c in rng.choice(kind.connections)]
    if kind.probes:
        spec["probes"] = kind.probes
    return spec


def _environment(i: int, nodes) -> tuple[Environment, Node, random.Random]:
    rng = random.Random(f"{SEED}:{i}")
    node = _place(rng, *nodes)
    kind = rng.choice(CATALOGUE)
    types = set(kind.types)
    created = EPOCH + timedelta(minutes=7 * i)
    env = Environment(
        id=uuid.UUID(int=rng.getrandbits(128), version=4),
        name=f"{kind.name}-{i}",
        description=f"{kind.name} environment number {i}" if rng.random() < 0.6 else None,
        scope=node.scope,
        scope_key=node.key,
        **node.fk,
        supports_workspace="workspace" in types,
        supports_training="training" in types,
        supports_inference="inference" in types,
        supports_distributed="distributed" in types,
        dist_framework=kind.framework,
        spec=_spec(rng, kind),
        created_by=rng.choice(CREATORS),
        created_at=created,
        updated_by=rng.choice(CREATORS),
        updated_at=created + timedelta(hours=rng.randint(0, 500)),
        update_count=rng.randint(0, 5),
    )
    # Columns the model derives from the spec (the product keeps them on every write).
    if hasattr(env, "sync_from_spec"):
        env.sync_from_spec()
    return env, node, rng


def creation_document(env: Environment, node: Node) -> dict:
    """The environment as a POST body, to check generated specs against the API's contract."""
    meta = {"name": env.name, "scope": env.scope, **node.ids}
    meta["workloadSupportedTypes"] = {
        "workspace": env.supports_workspace,
        "training": env.supports_training,
        "inference": env.supports_inference,
        "distributed": env.supports_distributed,
        **({"distFramework": env.dist_framework} if env.dist_framework else {}),
    }
    if env.description:
        meta["description"] = env.description
    return {"meta": meta, "spec": env.spec}


# Columns that legitimately differ between a bulk-built row and one the product creates.
OWN_COLUMNS = {"id", "name", "created_by", "created_at", "updated_by", "updated_at", "update_count"}


def _compare_with_product(sample) -> list[str]:
    """Bulk-built rows bypass the product's write path: create the same documents through the
    backend (rolled back) and name any column the product fills differently, so a column the
    product starts to derive (while others change it) cannot silently skew the benchmark."""
    caller = Caller("bench-check", SubjectType.USER, ((Role.SYSTEM_ADMINISTRATOR, "tenant"),))
    backend = get_backend()
    differing: set[str] = set()
    with transaction.atomic():
        for env, node in sample:
            document = creation_document(env, node)
            document["meta"]["name"] = f"{env.name}-check"
            answer = backend.create_environment(caller, document)
            saved = Environment.objects.get(id=answer["meta"]["id"])
            for column in Environment._meta.concrete_fields:
                if column.name in OWN_COLUMNS:
                    continue
                if getattr(saved, column.attname) != getattr(env, column.attname):
                    differing.add(column.name)
        transaction.set_rollback(True)
    return [
        f"bulk-built environments differ from the product's in column {name}: "
        "update bench/dataset.py"
        for name in sorted(differing)
    ]


def _policy_documents(tenant, clusters, departments, projects) -> list[tuple[Node, dict]]:
    """(node, {defaults, rules}) for every node, before the split per workload type."""
    pull_options = [
        {"value": "IfNotPresent", "displayed": "If not present"},
        {"value": "Always", "displayed": "Always"},
    ]
    out = [
        (
            tenant,
            {
                "defaults": {"imagePullPolicy": "IfNotPresent", "security": {"hostNetwork": False}},
                "rules": {
                    "imagePullPolicy": {"options": pull_options},
                    "security": {"hostNetwork": {"canEdit": False}},
                },
            },
        )
    ]
    for index, node in enumerate(clusters):
        capabilities = {"options": [{"value": "SYS_PTRACE"}, {"value": "IPC_LOCK"}]}
        rules = {"security": {"runAsUid": {"min": 500 + 500 * index}, "capabilities": capabilities}}
        out.append((node, {"rules": rules}))
    for index, node in enumerate(departments):
        workdir = ["/workspace", "/home/jovyan"][index % 2]
        rules = {"workingDir": {"canEdit": False}}
        out.append((node, {"defaults": {"workingDir": workdir}, "rules": rules}))
    for node in projects:
        rules = {
            "args": {"required": True},
            "environmentVariables": {"instances": {"locked": ["HF_HOME"]}},
        }
        out.append((node, {"rules": rules}))
    return out


def _check_policies(documents, tenant, clusters, departments, projects):
    """One rule per field per branch: no two policies of a project's chain rule the same field."""
    fields = {node.key: set(flatten_rules(doc["rules"])) for node, doc in documents}
    for project in projects:
        ids = project.ids
        department = next(d for d in departments if d.ids["departmentId"] == ids["departmentId"])
        cluster = next(c for c in clusters if c.ids["clusterId"] == ids["clusterId"])
        chain = [tenant.key, cluster.key, department.key, project.key]
        seen: set[str] = set()
        for key in chain:
            clash = seen & fields[key]
            assert not clash, f"{key} rules {clash} already ruled along its branch"
            seen |= fields[key]


def build(size: int) -> Dataset:
    tenant, clusters, departments, projects = nodes = _org_tree()
    envs, placed, workloads, templates = [], [], [], []
    for i in range(size):
        env, node, rng = _environment(i, nodes)
        envs.append(env)
        placed.append(node)
        types = [t for t in WORKLOAD_TYPES if getattr(env, f"supports_{t}")]
        for j in range(rng.choice(WORKLOAD_COUNTS)):
            workloads.append(
                Workload(
                    id=uuid.UUID(int=rng.getrandbits(128), version=4),
                    name=f"{env.name}-w{j}",
                    type=rng.choice(types),
                    status=rng.choice(STATUSES),
                    project_id=rng.choice(node.projects),
                    environment=env,
                    created_at=env.created_at + timedelta(hours=rng.randint(1, 2000)),
                )
            )
        if i % 5 == 0:
            if rng.random() < 0.5 or node.scope == "project":
                key, scope = node.key, node.scope
            else:
                key, scope = f"project:{rng.choice(node.projects)}", "project"
            templates.append(
                Template(
                    id=uuid.UUID(int=rng.getrandbits(128), version=4),
                    name=f"{env.name}-template",
                    scope=scope,
                    scope_key=key,
                    environment=env,
                )
            )
    # The generated specs follow the API's contract (each catalogue entry is sampled many times).
    sample = list(zip(envs, placed, strict=True))[:200]
    for env, node in sample:
        validate_creation(creation_document(env, node))
    warnings = _compare_with_product(sample[:20])
    Environment.objects.bulk_create(envs, batch_size=BATCH)
    Workload.objects.bulk_create(workloads, batch_size=BATCH * 2)
    Template.objects.bulk_create(templates, batch_size=BATCH)

    tenant_envs = [env for env, node in zip(envs, placed, strict=True) if node is tenant]
    imposed = [str(env.id) for env in tenant_envs[:2]]
    documents = _policy_documents(*nodes)
    _check_policies(documents, tenant, clusters, departments, projects)
    policies = []
    for node, document in documents:
        for kind in WORKLOAD_TYPES:
            if kind == "distributed":
                body = {
                    part: {"worker": value, "master": value} for part, value in document.items()
                }
                if node is tenant:
                    body["imposedAssets"] = {"worker": imposed, "master": imposed}
            else:
                body = dict(document)
                if node is tenant:
                    body["imposedAssets"] = imposed
            body = validate_policy(body, kind)
            policies.append(
                Policy(
                    workload_type=kind,
                    name=f"{kind}-{node.key.replace(':', '-')}",
                    scope=node.scope,
                    scope_key=node.key,
                    document=body,
                    created_by="bench",
                    created_at=EPOCH,
                    updated_by="bench",
                    updated_at=EPOCH,
                )
            )
    Policy.objects.bulk_create(policies, batch_size=BATCH)

    account, _ = ServiceAccount.create("bench")
    user = get_user_model().objects.create_user(
        UI_USERNAME, email="bench@example.com", is_staff=True, is_superuser=True
    )  # no password: the harness signs in with force_login
    AccessRule.objects.bulk_create(
        [
            AccessRule(
                subject_type=SubjectType.APPLICATION, subject=account.client_id,
                role=Role.SYSTEM_ADMINISTRATOR, scope_key="tenant",
            ),
            AccessRule(
                subject_type=SubjectType.USER, subject=UI_USERNAME,
                role=Role.SYSTEM_ADMINISTRATOR, scope_key="tenant",
            ),
        ]
    )  # fmt: skip
    token = issue(account, with_refresh=False)["accessToken"]
    # For the API get: the first tenant environment (the same one at every size), not imposed,
    # with a template and workloads.
    with_template = {t.environment.id for t in templates}
    used = Counter(w.environment.id for w in workloads)
    candidates = [env for env in tenant_envs if str(env.id) not in imposed] or envs
    target = next(
        (env for env in candidates if env.id in with_template and used[env.id] >= 3),
        candidates[0],
    )
    return Dataset(
        size=size,
        project=1,
        environment_id=str(target.id),
        api_token=token,
        ui_user=user,
        warnings=warnings,
        counts={
            "environments": len(envs),
            "per level": {
                level: sum(1 for n in placed if n.scope == level) for level in POLICY_SCOPES
            },
            "workloads": len(workloads),
            "templates": len(templates),
            "policies": len(policies),
        },
    )
