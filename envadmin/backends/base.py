"""The one interface both faces (API and UI) call, whatever holds the environments.

Documents in and out are Run:ai's own (environment.openapi.json, org-unit.openapi.json), so a
backend that forwards to a real Run:ai control plane fits beside the local one unchanged.
Failures are raised as envadmin.contract.errors.BackendError subclasses.
"""

from abc import ABC, abstractmethod
from collections.abc import Mapping

from envadmin.accounts.access import Caller
from envadmin.contract import diff
from envadmin.contract.errors import PreconditionFailed

from .environment_rows import NO_FILTERS, OrgNames, RowFilters, row_of, sort_rows

Params = Mapping[str, str]


class EnvironmentBackend(ABC):
    # --- environments: the five operations of Run:ai's environment API -----------------------
    @abstractmethod
    def list_environments(self, caller: Caller, params: Params) -> dict:
        """{"entries": [EnvironmentAsset, ...]} for Run:ai's list query parameters."""

    @abstractmethod
    def create_environment(self, caller: Caller, document: dict) -> dict:
        """Create from an EnvironmentCreationRequest; returns the EnvironmentAsset."""

    @abstractmethod
    def get_environment(self, caller: Caller, asset_id: str, params: Params) -> dict:
        """One EnvironmentAsset; params: usageInfo, statusInfo, complyTo*."""

    @abstractmethod
    def update_environment(
        self, caller: Caller, asset_id: str, document: dict, *, if_match: int | None = None
    ) -> dict:
        """Apply an EnvironmentUpdateRequest (name, description, whole spec). With `if_match`,
        only if the stored updateCount still is that number (else PreconditionFailed)."""

    @abstractmethod
    def delete_environment(
        self, caller: Caller, asset_id: str, *, if_match: int | None = None
    ) -> dict:
        """Delete; returns Run:ai's {"code": 202, "message": ...}. With `if_match`, only if
        the stored updateCount still is that number (else PreconditionFailed)."""

    def browse_environments(
        self, caller: Caller, params: Params, *, names: OrgNames, filters: RowFilters = NO_FILTERS,
        sort: str = "name", offset: int = 0, limit: int = 50,
    ) -> tuple[list[dict], int]:  # fmt: skip
        """One window of the list as the web admin shows it: Run:ai's list parameters, then the
        page's own `filters` and `sort` (environment_rows). Returns (documents of the window,
        total). This default filters and sorts the whole list in Python, reading scope paths
        and cluster names (for search and sort) from `names`; a backend that can page in its
        store answers from there instead."""
        entries = self.list_environments(caller, params)["entries"]
        by_id = {}
        rows = []
        for entry in entries:
            row = row_of(entry, names)
            if filters.match(row):
                by_id[row["id"]] = entry
                rows.append(row)
        window = sort_rows(rows, sort)[offset : offset + limit]
        return [by_id[row["id"]] for row in window], len(rows)

    # --- org reads: names and ids for pickers and clients -------------------------------------
    @abstractmethod
    def list_projects(self, caller: Caller, params: Params) -> dict:
        """{"projects": [Project, ...], "next"?: int}"""

    @abstractmethod
    def get_project(self, caller: Caller, project_id: str) -> dict: ...

    @abstractmethod
    def list_departments(self, caller: Caller, params: Params) -> dict:
        """{"departments": [Department, ...], "next"?: int}"""

    @abstractmethod
    def get_department(self, caller: Caller, department_id: str) -> dict: ...

    @abstractmethod
    def list_clusters(self, caller: Caller, params: Params) -> list:
        """[DisplayedCluster, ...]"""

    @abstractmethod
    def get_cluster(self, caller: Caller, cluster_uuid: str) -> dict: ...

    # --- what the UI may offer (not part of Run:ai's API) -------------------------------------
    @abstractmethod
    def allowed_actions(self, caller: Caller, asset_ids: list[str]) -> dict[str, set[str]]:
        """{asset id: {"edit", "delete"} or fewer}: a forbidden action is not offered."""

    @abstractmethod
    def creatable_scopes(self, caller: Caller) -> list[dict]:
        """Placements where the caller may create: [{scope, clusterId?, departmentId?,
        projectId?, label}]."""

    def can_create(self, caller: Caller) -> bool:
        """Whether to offer "New environment" (backends may answer more cheaply)."""
        return bool(self.creatable_scopes(caller))

    # --- policies (policy.openapi.json) and compliance ---------------------------------------
    @abstractmethod
    def get_policy(self, caller: Caller, workload_type: str, params: Params) -> dict:
        """{meta?, policy, effective, effectiveUpdatedAt} of one node (?scope=&<id>=)."""

    @abstractmethod
    def write_policy(
        self, caller: Caller, workload_type: str, body, *, partial: bool, validate_only: bool
    ) -> dict:
        """PUT (partial=False) or PATCH (partial=True) of a node's policy."""

    @abstractmethod
    def delete_policy(self, caller: Caller, workload_type: str, params: Params) -> None: ...

    @abstractmethod
    def list_policies(self, caller: Caller, params: Params) -> dict:
        """{"policies": [PolicyListEntry, ...]}"""

    @abstractmethod
    def preview_compliance(self, caller: Caller, body) -> dict:
        """{"compliance": ComplianceInfo} of an unsaved creation document (envadmin's own)."""


def stale_edit(if_match: int, current: dict, sent: dict | None = None) -> PreconditionFailed:
    """The refusal of an update made from an old version: which version is current, who made it,
    and field by field how the current version differs from what was sent."""
    meta = current.get("meta") or {}
    message = (
        f"The environment was changed since updateCount {if_match}: it is now "
        f"{meta.get('updateCount')} (last updated by {meta.get('updatedBy') or 'someone'} at "
        f"{meta.get('updatedAt') or 'an unknown time'}). Read it again and reapply your change."
    )
    lines = [
        f"{c['field']} is {diff.show(c['after'])} (you sent {diff.show(c['before'])})"
        for c in diff.changes(diff.editable(sent), diff.editable(current))
    ]
    details = "Where the current version differs: " + "; ".join(lines) if lines else None
    return PreconditionFailed(message, details, current=current)


def get_backend() -> EnvironmentBackend:
    """The backend chosen by settings.ENVADMIN_BACKEND."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    if settings.ENVADMIN_BACKEND == "local":
        from .local import LocalBackend

        return LocalBackend()
    if settings.ENVADMIN_BACKEND == "runai":
        from .runai import RunaiBackend

        return RunaiBackend()
    raise ImproperlyConfigured(
        f"ENVADMIN_BACKEND={settings.ENVADMIN_BACKEND!r} is not available; use 'local' or 'runai'."
    )


def is_proxy() -> bool:
    from django.conf import settings

    return settings.ENVADMIN_BACKEND == "runai"
