"""The names of the org units a caller may see, read from the backend: what pages, CSV and
envadmin's own reports (hygiene) show as an environment's placement path."""

from dataclasses import dataclass, field
from functools import cached_property

from envadmin.accounts.access import Caller

from .base import EnvironmentBackend


@dataclass
class OrgIndex:
    """Names of clusters, departments and projects the user may see, from the backend."""

    clusters: dict[str, str] = field(default_factory=dict)
    departments: dict[str, dict] = field(default_factory=dict)
    projects: dict[int, dict] = field(default_factory=dict)
    # What in the control plane's answers could not be used: the pages show it in a banner.
    problems: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, backend: EnvironmentBackend, caller: Caller) -> "OrgIndex":
        units = backend.org_units(caller)
        clusters = {uuid: cluster["name"] for uuid, cluster in units.clusters.items()}
        return cls(clusters, units.departments, units.projects, units.problems)

    def scope_path(self, meta: dict) -> str:
        scope = meta.get("scope")
        if scope in ("tenant", "system"):
            return scope
        names = [self.clusters.get(meta.get("clusterId"), "")]
        if scope in ("department", "project"):
            names.append(self.departments.get(str(meta.get("departmentId")), {}).get("name", ""))
        if scope == "project":
            names.append(meta.get("projectName") or str(meta.get("projectId")))
        return " / ".join(name for name in names if name) or scope

    def cluster_name(self, meta: dict) -> str:
        return self.clusters.get(meta.get("clusterId"), "")

    @cached_property
    def project_choices(self) -> list[tuple[int, str]]:
        """(id, path) of every project, by path: what the project pickers offer."""
        return sorted(
            ((pid, self.project_label(pid)) for pid in self.projects), key=lambda item: item[1]
        )

    def project_label(self, project_id) -> str:
        project = self.projects.get(int(project_id)) if project_id not in (None, "") else None
        if not project:
            return ""
        department = self.departments.get(str(project.get("parentId")), {})
        cluster = self.clusters.get(project.get("clusterId"), "")
        return " / ".join(n for n in (cluster, department.get("name"), project["name"]) if n)
