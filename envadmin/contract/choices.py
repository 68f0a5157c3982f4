"""Run:ai's vocabulary, defined once: scopes, workload types, tools and connections, limits.

Plain Python with no Django imports, so the pure compliance engine can use it too.
"""

# Numbers and lengths the contract's documents are held to (the serializers and the gitops file
# check use the same ones).
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
NAME_MAX = 255

# Where an asset or a policy is placed, broadest first.
SCOPES = ("system", "tenant", "cluster", "department", "project")
POLICY_SCOPES = ("tenant", "cluster", "department", "project")
# The meta field that names the node of a scope below the tenant.
SCOPE_ID_FIELDS = {"cluster": "clusterId", "department": "departmentId", "project": "projectId"}

# Workload types as the policy API and compliance parameters name them, and the key each has
# in an environment's meta.workloadSupportedTypes and usedBy.
WORKLOAD_TYPES = ("Workspace", "Training", "Distributed", "Inference")
WORKLOAD_TYPE_KEYS = {
    "Workspace": "workspace",
    "Training": "training",
    "Distributed": "distributed",
    "Inference": "inference",
}
SUPPORTED_TYPE_KEYS = tuple(WORKLOAD_TYPE_KEYS.values())
USED_BY_KEYS = {
    "workspace": "workspaces",
    "training": "trainings",
    "distributed": "distributed",
    "inference": "inferences",
}
DIST_FRAMEWORKS = ("MPI", "PyTorch", "TF", "XGBoost")

# Tools: internal ones run in the workload, external ones are reached by URL.
INTERNAL_TOOL_TYPES = (
    "jupyter-notebook", "pycharm", "visual-studio-code", "tensorboard", "rstudio", "mlflow",
    "custom", "matlab", "chatbot-ui",
)  # fmt: skip
EXTERNAL_TOOL_TYPES = ("wandb", "comet")
TOOL_TYPES = INTERNAL_TOOL_TYPES + EXTERNAL_TOOL_TYPES
CONNECTION_TYPES = ("LoadBalancer", "NodePort", "ExternalUrl", "ServingPort")

# The most rows any CSV export writes.
CSV_ROW_LIMIT = 20_000

# What the list shows of an environment's compliance (Run:ai's ComplianceInfo) for the project
# and workload type it is reviewed for; also the values of the list's compliance filter.
COMPLIANCE_STATES = {
    "compliant": "Compliant",
    "not-compliant": "Not compliant",
    "imposed": "Imposed",
    # The environment does not support the workload type: no news about the policy.
    "not-supported": "n/a",
}

# Credential kinds as snapshots name them, and the kind (and spec key) Run:ai gives each.
CREDENTIAL_KINDS = {
    "access-key": "accessKey",
    "password": "password",
    "docker-registry": "dockerRegistry",
    "generic-secret": "genericSecret",
    "ngc-api-key": "ngcApiKey",
}
# Bounds of what a snapshot may hold of credentials and registries.
MAX_SECRET_KEYS = 50
MAX_REPOSITORIES = 500
MAX_TAGS = 500
MAX_ASSET_TEXT = 255
