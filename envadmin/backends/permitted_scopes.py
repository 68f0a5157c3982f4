"""POST /api/v1/authorization/permitted-scopes: its request checked, its answer shaped.

Every node a permission covers is listed (a rule on the tenant lists the tenant and each
cluster, department and project under it), so a client needs no org tree to read it.
"""

from django.conf import settings

from envadmin.contract.errors import InvalidRequest

ACTIONS = ("create", "read", "update", "delete")
# authorization.openapi.json's ResourceType.
RESOURCE_TYPES = (
    "department", "tenant", "project", "cluster", "cluster-config", "nodepools", "nodes",
    "settings", "security-settings", "branding-settings", "users", "apps", "service-account",
    "dashboards-overview", "dashboards-analytics", "dashboards-consumption", "roles",
    "access_rules", "jobs", "workloads", "workspaces", "trainings", "inferences", "environments",
    "pvc-assets", "git-assets", "host-path-assets", "nfs-assets", "s3-assets",
    "compute-resources", "templates", "credentials", "events-history", "policies",
    "cm-volume-assets", "datavolumes", "secret-volume-assets", "storage-class-configuration",
    "access-keys", "workload-properties", "network-topologies", "registries",
    "scrapeable-metrics",
)  # fmt: skip
PLURAL = {"cluster": "clusters", "department": "departments", "project": "projects"}


def resource_type_of(body) -> tuple[str, str | None]:
    """(resourceType, action or None) of a request body, or InvalidRequest."""
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    kind, action = body.get("resourceType"), body.get("action")
    if kind not in RESOURCE_TYPES:
        message = "required: one of Run:ai's resource types, such as environments or policies."
        raise InvalidRequest(f"resourceType: {message}", field_errors={"resourceType": [message]})
    if action is not None and action not in ACTIONS:
        message = f"must be one of {', '.join(ACTIONS)}, or absent."
        raise InvalidRequest(f"action: {message}", field_errors={"action": [message]})
    return kind, action


def nothing_permitted() -> dict:
    return {"system": False, "tenants": [], "clusters": [], "departments": [], "projects": []}


def empty_actions() -> dict:
    return {action: nothing_permitted() for action in ACTIONS}


def permitted(tree, keys: set[str]) -> dict:
    """PermittedScopes of a set of scope keys of the org tree."""
    answer = nothing_permitted()
    for key in keys:
        node = tree.nodes.get(key)
        if node is None:
            continue
        if node.scope == "system":
            answer["system"] = True
        elif node.scope == "tenant":
            answer["tenants"].append(str(settings.ENVADMIN_TENANT_ID))
        else:
            answer[PLURAL[node.scope]].append(str(node.id))
    for field in PLURAL.values():
        answer[field].sort()
    return answer
