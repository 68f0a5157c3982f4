"""The org tree in memory: tenant > clusters > departments > projects, loaded in three queries.

Visibility and authorization are questions about ancestors and subtrees of scope keys; answering
them from this small structure keeps every list request at a fixed number of queries.
"""

from dataclasses import dataclass, field

from .models import Cluster, Department, Project, scope_key

TENANT = "tenant"
SYSTEM = "system"


@dataclass
class Node:
    key: str
    scope: str
    id: object
    name: str
    parent: str | None
    children: list[str] = field(default_factory=list)


class OrgTree:
    def __init__(self, clusters, departments, projects, tenant_name="tenant"):
        self.nodes: dict[str, Node] = {
            SYSTEM: Node(SYSTEM, "system", None, "system", None),
            TENANT: Node(TENANT, "tenant", None, tenant_name, SYSTEM),
        }
        self.nodes[SYSTEM].children.append(TENANT)
        self._chains: dict[str, tuple[str, ...]] = {}
        self.clusters = {str(c.id): c for c in clusters}
        self.departments = {str(d.id): d for d in departments}
        self.projects = {int(p.id): p for p in projects}
        for c in clusters:
            self._add(scope_key("cluster", c.id), "cluster", c.id, c.name, TENANT)
        for d in departments:
            self._add(
                scope_key("department", d.id), "department", d.id, d.name,
                scope_key("cluster", d.cluster_id),
            )  # fmt: skip
        for p in projects:
            self._add(
                scope_key("project", p.id), "project", p.id, p.name,
                scope_key("department", p.department_id),
            )  # fmt: skip

    def _add(self, key, scope, node_id, name, parent):
        self.nodes[key] = Node(key, scope, node_id, name, parent)
        self.nodes[parent].children.append(key)

    @classmethod
    def load(cls) -> "OrgTree":
        from django.conf import settings

        return cls(
            list(Cluster.objects.all()),
            list(Department.objects.all()),
            list(Project.objects.all()),
            tenant_name=settings.ENVADMIN_TENANT_NAME,
        )

    def __contains__(self, key: str) -> bool:
        return key in self.nodes

    def chain(self, key: str) -> list[str]:
        """The node and its ancestors up to system, nearest first; empty for an unknown node."""
        # Asked once or twice per environment of a list: remembered (the tree never changes).
        cached = self._chains.get(key)
        if cached is None:
            cached = self._chains[key] = tuple(self._walk_up(key))
        return list(cached)

    def _walk_up(self, key: str) -> list[str]:
        keys = []
        while key is not None and key in self.nodes:
            keys.append(key)
            key = self.nodes[key].parent
        return keys

    def subtree(self, key: str) -> set[str]:
        """The node and every node below it; empty for an unknown node."""
        if key not in self.nodes:
            return set()
        found, stack = set(), [key]
        while stack:
            current = stack.pop()
            found.add(current)
            stack.extend(self.nodes[current].children)
        return found

    def path(self, key: str) -> str:
        """Human-readable position, e.g. 'cluster-a / research / team-a'."""
        names = [self.nodes[k].name for k in reversed(self.chain(key)) if k not in (SYSTEM, TENANT)]
        return " / ".join(names) or self.nodes.get(key, Node(key, "", None, key, None)).name

    def cluster_of(self, key: str):
        """The cluster id (uuid string) above or at the node, or None for tenant/system."""
        for k in self.chain(key):
            if self.nodes[k].scope == "cluster":
                return str(self.nodes[k].id)
        return None
