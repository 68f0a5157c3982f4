"""The nodes of the org tree by their full path ("cluster-a / research / team-a"): what the
scope picker and the project pickers offer, and how a chosen path or an old-style query
(scope + ids) is read back."""

from dataclasses import dataclass

from envadmin.contract.choices import POLICY_SCOPES, SCOPE_ID_FIELDS

from .context import OrgIndex
from .params import whole


@dataclass(frozen=True)
class Node:
    scope: str  # tenant, cluster, department or project
    id: str  # "" for the tenant
    name: str
    path: str

    @property
    def params(self) -> dict[str, str]:
        """The query that names this node: ?scope=department&departmentId=d1."""
        if self.scope == "tenant":
            return {"scope": "tenant"}
        return {"scope": self.scope, SCOPE_ID_FIELDS[self.scope]: self.id}

    @property
    def title(self) -> str:
        """The node by kind and name: department research."""
        return self.scope if self.scope == "tenant" else f"{self.scope} {self.name}"

    @property
    def described(self) -> str:
        """The node by kind and full path: department cluster-a / research."""
        return "the tenant" if self.scope == "tenant" else f"{self.scope} {self.path}"


class NodeError(ValueError):
    """A query that names no node, or several that contradict one another."""


class OrgNodes:
    """Every node the user can see, in tree order (tenant, then each cluster followed by its
    departments, each followed by its projects), found by key, path or query."""

    def __init__(self, org: OrgIndex):
        self.org = org
        self.all = [Node("tenant", "", "tenant", "tenant")]
        # (scope, id) -> the (scope, id) of every ancestor the user can see
        self.parents: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for cluster_id, cluster in sorted(org.clusters.items(), key=lambda item: item[1]):
            self.all.append(Node("cluster", cluster_id.lower(), cluster, cluster))
            for department_id, _ in _children(org.departments, "clusterId", cluster_id):
                self._add_department(department_id)
        # A user placed below a cluster or a department may see a node without its parent.
        for department_id in org.departments:
            if ("department", department_id) not in self.parents:
                self._add_department(department_id)
        added = {node.id for node in self.all if node.scope == "project"}
        for project_id in sorted(org.projects, key=org.project_label):
            if str(project_id) not in added:
                self._add_project(project_id)
        self.by_key = {(node.scope, node.id): node for node in self.all}

    def _add_department(self, department_id: str) -> None:
        department = self.org.departments[department_id]
        cluster_id = str(department.get("clusterId") or "")
        cluster = self.org.clusters.get(cluster_id)
        path = f"{cluster} / {department['name']}" if cluster else department["name"]
        self.all.append(Node("department", department_id, department["name"], path))
        self.parents[("department", department_id)] = (
            [("cluster", cluster_id.lower())] if cluster else []
        )
        for project_id, _ in _children(self.org.projects, "parentId", department_id):
            self._add_project(project_id)

    def _add_project(self, project_id: int) -> None:
        project = self.org.projects[project_id]
        label = self.org.project_label(project_id)
        self.all.append(Node("project", str(project_id), project["name"], label))
        department = ("department", str(project.get("parentId")))
        cluster = ("cluster", str(project.get("clusterId") or "").lower())
        ancestors = [department, *self.parents.get(department, [])]
        self.parents[("project", str(project_id))] = ancestors + (
            [cluster] if cluster[1] and cluster not in ancestors else []
        )

    def get(self, scope: str, node_id) -> Node | None:
        """The node of a scope and id (a rule's sourceOfRule, say), if the user can see it."""
        node_id = "" if scope == "tenant" else str(node_id)
        return self.by_key.get((scope, node_id.lower() if scope == "cluster" else node_id))

    def by_path(self, text: str) -> Node:
        """The node a picker's text names: its path, spaces and case aside."""
        wanted = _normal(text)
        found = [node for node in self.all if _normal(node.path) == wanted]
        if len(found) == 1:
            return found[0]
        if found:
            raise NodeError(f"Several scopes are called {text.strip()}: pick one from the list.")
        raise NodeError(f"No scope is called {text.strip()}: pick one from the list.")

    def from_query(self, query) -> Node | None:
        """The node an old-style query names (scope with clusterId, departmentId, projectId),
        or None when it names no scope. Every id given must lie on the branch of the scope's
        node: `scope=project&projectId=1&departmentId=d2`, project 1 being in d1, is an error
        rather than a guess."""
        scope = query.get("scope") or ""
        if not scope:
            return None
        if scope not in POLICY_SCOPES:
            raise NodeError(f"Unknown scope {scope}: one of {', '.join(POLICY_SCOPES)}.")
        given = {s: str(query.get(f)) for s, f in SCOPE_ID_FIELDS.items() if query.get(f)}
        if scope == "tenant":
            node = self.all[0]
        elif scope not in given:
            raise NodeError(f"Choose which {scope}: the query names none.")
        else:
            node = self.get(scope, given[scope].strip())
            if node is None:
                raise NodeError(f"There is no {scope} {given[scope]} that you can see.")
        for other, value in given.items():
            if not self.on_branch(node, other, value.strip()):
                raise NodeError(
                    f"The query also names a {other} that is not on the branch of "
                    f"{node.title}: choose one scope in the picker."
                )
        return node

    def on_branch(self, node: Node, scope: str, node_id: str) -> bool:
        """Whether (scope, id) is the node, one of its ancestors or one of its descendants."""
        other = self.get(scope, node_id)
        if other is None:
            return False
        key, other_key = (node.scope, node.id), (other.scope, other.id)
        return (
            node.scope == "tenant"
            or key == other_key
            or other_key in self.parents.get(key, [])
            or key in self.parents.get(other_key, [])
        )


def _children(items: dict, parent_key: str, parent_id: str):
    found = [(key, item) for key, item in items.items() if str(item.get(parent_key)) == parent_id]
    return sorted(found, key=lambda pair: pair[1]["name"].lower())


def _normal(text: str) -> str:
    return " / ".join(part.strip().lower() for part in str(text).split("/"))


def project_by_text(org: OrgIndex, text: str) -> int | None:
    """The project a picker names, by id (old links, forms) or by full path; None if none."""
    number = whole(text)
    if number in org.projects:
        return number
    wanted = _normal(text)
    found = [pid for pid, path in org.project_choices if _normal(path) == wanted]
    return found[0] if len(found) == 1 else None
