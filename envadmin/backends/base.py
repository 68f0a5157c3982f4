"""The one interface both faces (API and UI) call, whatever holds the environments.

Documents in and out are Run:ai's own (environment.openapi.json, org-unit.openapi.json), so a
backend that forwards to a real Run:ai control plane fits beside the local one unchanged.
Failures are raised as envadmin.contract.errors.BackendError subclasses.
"""

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import NamedTuple

import orjson

from envadmin.accounts.access import Caller
from envadmin.compliance.fixes import fix_environment
from envadmin.compliance.states import compliance_state
from envadmin.contract import diff
from envadmin.contract.choices import SCOPE_ID_FIELDS, WORKLOAD_TYPE_KEYS
from envadmin.contract.environment import validate_creation
from envadmin.contract.errors import InvalidRequest, PreconditionFailed
from envadmin.contract.policy import policy_version
from envadmin.contract.usable import usable_entries
from envadmin.lifecycle.service import lifecycle_of

from .audit_log import as_file as audit_file
from .audit_log import file_type_of as audit_file_type
from .environment_rows import NO_FILTERS, OrgNames, RowFilters, row_of, sort_rows
from .org_units import OrgUnits, read_org_units
from .revision_operations import RevisionOperations

Params = Mapping[str, str]


class MatrixRow(NamedTuple):
    """An environment of the compliance matrix. `meta` holds at least its scope and placement
    ids (rows of one node may share it); `cells` has a (compliance or None, state) pair per
    workload type asked, in their order. Rows alike in every verdict may share one `cells`
    tuple: read them, never change them."""

    id: str
    name: str
    meta: dict
    cells: tuple


class EnvironmentBackend(RevisionOperations, ABC):
    # --- environments: the five operations of Run:ai's environment API -----------------------
    @abstractmethod
    def list_environments(self, caller: Caller, params: Params) -> dict:
        """{"entries": [EnvironmentAsset, ...]} for Run:ai's list query parameters."""

    def list_environments_json(self, caller: Caller, params: Params) -> Iterable[bytes]:
        """list_environments' answer as JSON bytes, in chunks a response can stream. This
        default writes the whole answer at once; the embedded backend streams it."""
        return [orjson.dumps(self.list_environments(caller, params), default=str)]

    @abstractmethod
    def create_environment(
        self, caller: Caller, document: dict, *, restored_from: tuple[str, int] | None = None
    ) -> dict:
        """Create from an EnvironmentCreationRequest; returns the EnvironmentAsset.
        `restored_from` (deleted asset id, revision): an undelete, as its first revision says."""

    @abstractmethod
    def get_environment(self, caller: Caller, asset_id: str, params: Params) -> dict:
        """One EnvironmentAsset; params: usageInfo, statusInfo, complyTo*."""

    @abstractmethod
    def update_environment(
        self, caller: Caller, asset_id: str, document: dict, *, if_match: int | None = None,
        restored_from: int | None = None,
    ) -> dict:  # fmt: skip
        """Apply an EnvironmentUpdateRequest (name, description, whole spec). With `if_match`,
        only if the stored updateCount still is that number (else PreconditionFailed). With
        `restored_from` (a revision number) it is recorded as a restore of that revision."""

    @abstractmethod
    def delete_environment(
        self, caller: Caller, asset_id: str, *, if_match: int | None = None
    ) -> dict:
        """Delete; returns Run:ai's {"code": 202, "message": ...}. With `if_match`, only if
        the stored updateCount still is that number (else PreconditionFailed)."""

    def browse_environments(
        self, caller: Caller, params: Params, *, names: OrgNames, filters: RowFilters = NO_FILTERS,
        sort: str = "name", offset: int = 0, limit: int = 50, problems: list | None = None,
    ) -> tuple[list[dict], int]:  # fmt: skip
        """One window of the list as the web admin shows it: Run:ai's list parameters, then the
        page's own `filters` and `sort` (environment_rows; the lifecycle is envadmin's own, in
        both modes). Returns (documents of the window,
        total). This default filters and sorts the whole list in Python, reading scope paths
        and cluster names (for search and sort) from `names`; a backend that can page in its
        store answers from there instead. Entries the rows cannot be made of are left out, and
        said so in `problems`."""
        answer = self.list_environments(caller, params)
        entries, unusable = usable_entries(
            answer.get("entries") if isinstance(answer, dict) else None
        )
        if problems is not None:
            problems += [problem for problem in unusable if problem not in problems]
        # envadmin's own lifecycle is read only when the page filters or sorts by it.
        with_lifecycle = bool(filters.lifecycle) or sort.lstrip("-") == "lifecycle"
        ids = [str(entry["meta"]["id"]) for entry in entries] if with_lifecycle else []
        states = lifecycle_of(ids) if ids else {}
        by_id = {}
        rows = []
        for entry in entries:
            row = row_of(entry, names, params.get("complyToWorkloadType"))
            if with_lifecycle:
                row["lifecycle_state"] = states[str(row["id"])]["state"]
            if filters.match(row):
                by_id[row["id"]] = entry
                rows.append(row)
        window = sort_rows(rows, sort)[offset : offset + limit]
        return [by_id[row["id"]] for row in window], len(rows)

    def environments_by_workload_type(
        self, caller: Caller, params: Params, workload_types: Sequence[str]
    ) -> dict[str, dict]:
        """{workload type: list answer}: list_environments with complyToWorkloadType set to
        each type in turn (the compliance matrix). Run:ai judges one type per list; a backend
        with a store of its own reads the environments once and judges them per type."""
        return {
            kind: self.list_environments(caller, {**params, "complyToWorkloadType": kind})
            for kind in workload_types
        }

    def compliance_matrix(
        self, caller: Caller, project, workload_types: Sequence[str]
    ) -> tuple[list[MatrixRow], list[str]]:
        """(a MatrixRow per environment `project` can see, judged for it per workload type;
        one line per unusable field of the upstream answers, whose entries are left out)."""
        params = {"projectId": str(project), "complyToProject": str(project)}
        answers = self.environments_by_workload_type(caller, params, workload_types)
        found: dict[str, tuple[dict, dict]] = {}
        problems: list[str] = []
        for kind, answer in answers.items():
            entries, unusable = usable_entries(
                answer.get("entries") if isinstance(answer, dict) else None
            )
            problems += [p for p in unusable if p not in problems]
            for entry in entries:
                meta, cells = found.setdefault(entry["meta"]["id"], (entry["meta"], {}))
                compliance = entry.get("compliance")
                cells[kind] = (compliance, compliance_state(compliance, entry["meta"], kind))
        rows = [
            MatrixRow(ident, meta["name"], meta,
                      tuple(cells.get(kind, (None, "")) for kind in workload_types))
            for ident, (meta, cells) in found.items()
        ]  # fmt: skip
        return rows, problems

    def hygiene_verdicts(self, caller: Caller, project_ids, documents: dict):
        """(newest lastUsedByWorkload per id, ids judged, ids compliant or imposed) that a list
        per project and workload type would tell of `documents` ({id: document}), or None: then
        the hygiene report asks those lists (Run:ai's only way). A backend with its own store
        answers from it at once (LocalHygieneOperations)."""
        return None

    # --- org reads: names and ids for pickers and clients -------------------------------------
    def org_units(self, caller: Caller) -> OrgUnits:
        """Every org unit `caller` sees, as far as it can be used (org_units.read_org_units).
        Read once per backend instance, which serves one request: a page that needs the units
        twice (names, then placements) waits for them, and spends their time budget, once."""
        memo = self.__dict__.setdefault("_org_units_read", {})
        key = (caller.subject, caller.token)
        if key not in memo:
            memo[key] = read_org_units(self, caller)
        return memo[key]

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

    def may_update_environment(self, caller: Caller, document: dict) -> bool:
        """Whether the caller may update the environment `document` (as read): envadmin's own
        metadata about it (its lifecycle) needs that right. This default asks allowed_actions."""
        asset_id = str(document["meta"]["id"])
        return "edit" in self.allowed_actions(caller, [asset_id]).get(asset_id, set())

    @abstractmethod
    def creatable_scopes(self, caller: Caller) -> list[dict]:
        """Placements where the caller may create: [{scope, clusterId?, departmentId?,
        projectId?, label}]."""

    def can_create(self, caller: Caller) -> bool:
        """Whether to offer "New environment" (backends may answer more cheaply)."""
        return bool(self.creatable_scopes(caller))

    def can_create_in(self, caller: Caller, key: str) -> bool:
        """Whether the caller may place an environment at the node `key` (a scope key)."""
        return key in {p["key"] for p in self.creatable_scopes(caller)}

    def environment_name_taken(self, caller: Caller, meta: dict, exclude_id=None) -> bool:
        """Whether another environment (not `exclude_id`) is named `meta["name"]` at the
        placement `meta` gives (scope and its node id). Lets a form report a taken name with
        its other errors; create and update still refuse the clash themselves. This default
        asks the list with Run:ai's name and scope filters and compares placements and
        names itself (case-insensitively, as names are unique)."""
        scope = meta.get("scope")
        id_field = SCOPE_ID_FIELDS.get(scope)
        params = {"name": meta["name"], "scope": scope}
        if id_field:
            params[id_field] = str(meta.get(id_field))
        wanted = meta["name"].casefold()
        for entry in self.list_environments(caller, params)["entries"]:
            other = entry.get("meta") or {}
            if (
                other.get("name", "").casefold() == wanted
                and other.get("scope") == scope
                and (not id_field or str(other.get(id_field)) == str(meta.get(id_field)))
                and str(other.get("id")) != str(exclude_id)
            ):
                return True
        return False

    # --- policies (policy.openapi.json) and compliance ---------------------------------------
    @abstractmethod
    def get_policy(self, caller: Caller, workload_type: str, params: Params) -> dict:
        """{meta?, policy, effective, effectiveUpdatedAt} of one node (?scope=&<id>=)."""

    @abstractmethod
    def write_policy(
        self,
        caller: Caller,
        workload_type: str,
        body,
        *,
        partial: bool,
        validate_only: bool,
        if_match: str | None = None,
    ) -> dict:
        """PUT (partial=False) or PATCH (partial=True) of a node's policy. With `if_match`, only
        if the node's own policy still has that policy_version() (else PreconditionFailed)."""

    @abstractmethod
    def delete_policy(
        self, caller: Caller, workload_type: str, params: Params, *, if_match: str | None = None
    ) -> None:
        """Delete a node's policy; with `if_match`, only that version of it."""

    @abstractmethod
    def list_policies(self, caller: Caller, params: Params) -> dict:
        """{"policies": [PolicyListEntry, ...]}"""

    def policy_impact(self, caller: Caller, body) -> dict:
        """envadmin's own: what saving a node's policy (or, with `"policy": null`, deleting
        it) would change in the compliance of every (project, environment) pair under the
        node, without saving anything (compliance/impact.py gives the answer's shape). The
        request is checked here; the policy and the caller's right to write it are judged by
        the backend as a PUT of it would be."""
        if not isinstance(body, dict):
            raise InvalidRequest("The request body must be a JSON object.")
        unknown = sorted(set(body) - {"workloadType", "meta", "policy"})
        if unknown:
            raise InvalidRequest(
                f"{unknown[0]}: not part of the request.", "Known: workloadType, meta, policy."
            )
        kind = body.get("workloadType")
        if not isinstance(kind, str) or kind not in WORKLOAD_TYPE_KEYS:
            raise InvalidRequest(f"workloadType: must be one of {', '.join(WORKLOAD_TYPE_KEYS)}.")
        if "policy" not in body:
            raise InvalidRequest("policy: required: the new policy, or null for deleting it.")
        meta = body.get("meta")
        if isinstance(meta, dict) and "name" not in meta:
            # The name changes no verdict: a PUT needs one, the question does not.
            meta = {**meta, "name": f"{kind} policy"}
        return self.impact_of_policy(caller, kind, meta, body["policy"])

    @abstractmethod
    def impact_of_policy(self, caller: Caller, workload_type: str, meta, policy) -> dict:
        """policy_impact's answer for a workload type name, the node's meta as a PUT sends it,
        and the new policy (None: deleted). Refuses as a PUT of {meta, policy} would (400,
        403, 404); lists only projects and environments the caller may see."""

    def preview_compliance(self, caller: Caller, body) -> dict:
        """{"compliance": ComplianceInfo} of an unsaved creation document (envadmin's own):
        the request checked here, the draft judged by the backend."""
        draft, project_id, kind, replica = preview_request(body)
        return {"compliance": self.draft_compliance(caller, draft, project_id, kind, replica)}

    def fix_compliance(self, caller: Caller, body) -> dict:
        """{environment, changes, compliance, unfixable} for the body of a compliance preview:
        the draft changed as little as its project's effective policy needs. `unfixable` is
        what the fixed draft still violates, as the backend judges it (placement included)."""
        draft, project_id, kind, replica = preview_request(body)
        effective, source_label = self.draft_policy(caller, project_id, kind)
        fix = fix_environment(draft, effective, kind, replica, source_label=source_label)
        fixed, changes = fix["environment"], fix["changes"]
        try:
            fixed = validate_creation(fixed)
        except InvalidRequest:
            # A policy whose options the contract refuses: no fix is offered rather than one
            # that cannot be saved.
            fixed, changes = draft, []
        compliance = self.draft_compliance(caller, fixed, project_id, kind, replica)
        return {
            "environment": fixed,
            "changes": changes,
            "compliance": compliance,
            "unfixable": compliance.get("reason") or [],
        }

    @abstractmethod
    def draft_policy(
        self, caller: Caller, project_id: int, workload_type: str
    ) -> tuple[dict, Callable[[dict | None], str]]:
        """(effective policy, source label) by which draft_compliance judges drafts for a
        project the caller must be able to see (InvalidRequest otherwise)."""

    @abstractmethod
    def draft_compliance(
        self, caller: Caller, draft: dict, project_id: int, workload_type: str, replica_type
    ) -> dict:
        """ComplianceInfo of a validated creation document ({meta, spec}) for a project the
        caller must be able to see, a workload type name and, for Distributed, a replica type."""

    # --- Run:ai's authorization, credentials, registries and audit log reads ------------------
    # Documents in and out as authorization, credentials, registry and audit.openapi.json give
    # them. The local backend answers from its own model (local_assets.py, audit_log.py); the
    # proxy forwards each call, with the caller's token, to Run:ai.
    @abstractmethod
    def permitted_scopes(self, caller: Caller, body) -> dict:
        """PermittedScopesActions {create, read, update, delete} of a {resourceType, action?}
        request: where the caller may do each action on that kind of resource."""

    @abstractmethod
    def access_rules(self, caller: Caller, params: Params) -> dict:
        """{"accessRules": {totalRecords, displayRecords, accessRules: [MeAccessRule]}} of the
        caller's own rules; params limit, offset, search."""

    @abstractmethod
    def list_credentials(self, caller: Caller, params: Params) -> dict:
        """{"entries": [CredentialsListResponseEntry]}; params name, scope, projectId,
        departmentId, clusterId, usageInfo, statusInfo. Never a secret value."""

    @abstractmethod
    def list_registries(self, caller: Caller, params: Params) -> dict:
        """{"entries": [Registry]}; params name."""

    @abstractmethod
    def get_registry(self, caller: Caller, registry_id: str) -> dict:
        """One Registry, or NotFound."""

    @abstractmethod
    def list_repositories(self, caller: Caller, registry_id: str, search: str | None) -> dict:
        """{"repositories": [name]} of a registry, those containing `search` if given."""

    @abstractmethod
    def list_tags(
        self, caller: Caller, registry_id: str, repository: str | None, search: str | None
    ) -> dict:
        """{"name": repository, "tags": [tag]}, those containing `search` if given."""

    @abstractmethod
    def audit_log(self, caller: Caller, params: Params) -> dict:
        """{total, next?, audit_logs: [AuditLog]} for start, end, offset, numberOfSamples,
        sortBy, sortOrder and filterBy; Forbidden unless the caller may read Run:ai's log."""

    def audit_log_file(self, caller: Caller, params: Params) -> tuple[bytes, str]:
        """(content, file name) of GET /api/v1/audit/log/file?file_type=CSV|JSON: the records
        audit_log() answers (from offset 0), rendered here, so both modes give one format."""
        file_type = audit_file_type(params)
        unpaged = {key: value for key, value in params.items() if key != "offset"}
        if hasattr(params, "getlist"):
            unpaged["filterBy"] = ",".join(params.getlist("filterBy"))
        answer = self.audit_log(caller, unpaged)
        records = answer.get("audit_logs") or answer.get("logs") or []
        return audit_file(records, file_type)

    # --- callers: who is calling, as each backend judges it (not part of Run:ai's API) --------
    @abstractmethod
    def answer_token_request(self, body, request) -> dict:
        """The answer to POST /api/v1/token (a grant request's body). `request`, the HTTP
        request, is what the sign-in lockout keys a password grant on."""

    @abstractmethod
    def forwarded_token_subject(self, token: str) -> str | None:
        """For an API bearer token that this backend forwards unchecked to the service that
        issued it and judges it: a name for its caller. None: envadmin issued the token, and
        the API checks it itself."""

    @abstractmethod
    def sign_in_with_password(self, request, username: str, password: str):
        """The Django user whom a password signs in through this backend's control plane, or
        None to leave the password to the next authentication backend (envadmin's own
        accounts). May keep the user's tokens in request.session."""

    @abstractmethod
    def signed_in_caller(self, user, session, address: str | None) -> Caller:
        """The web admin's signed-in Django user (and their session) as this backend sees
        them."""

    @abstractmethod
    def visible_scope_keys(self, caller: Caller) -> set[str]:
        """Scope keys (tenant, project:7, cluster:<uuid in lower case>) of the placements the
        caller can see: who may read a deleted environment's revisions, or bring it back."""

    @abstractmethod
    def visible_audit_events(self, caller: Caller, *, local_superuser: bool = False):
        """The audit events (a QuerySet of AuditEvent) the caller may read. A local superuser
        is a web admin user with Django's superuser flag."""


def preview_request(body) -> tuple[dict, int, str, str | None]:
    """(validated draft, project id, workload type, replica type) of a compliance preview's
    body, or InvalidRequest."""
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    kind, replica = body.get("workloadType"), body.get("replicaType")
    if kind not in WORKLOAD_TYPE_KEYS:
        raise InvalidRequest(f"workloadType: must be one of {', '.join(WORKLOAD_TYPE_KEYS)}.")
    if replica is not None and replica not in ("Worker", "Master"):
        raise InvalidRequest("replicaType: must be Worker or Master.")
    project_id = body.get("projectId")
    if project_id is None:
        raise InvalidRequest("projectId: a project id is required.")
    if isinstance(project_id, bool) or not isinstance(project_id, int):
        raise InvalidRequest("projectId: must be a project id (an integer).")
    return validate_creation(body.get("environment")), project_id, kind, replica


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


def stale_policy(if_match: str, current: dict, sent: dict | None = None) -> PreconditionFailed:
    """The refusal of a policy write or delete made from another version than the node's own
    policy has now (`current`: {meta, policy} as a GET answers them); `sent`: a PUT's policy."""
    meta = current.get("meta")
    if meta is None:
        state = "it has no policy now"
    else:
        state = (
            f"it was last updated by {meta.get('updatedBy') or 'someone'} at "
            f"{meta.get('updatedAt') or 'an unknown time'}"
        )
    message = (
        f'The policy is not the version "{if_match}" any more: {state}. '
        "Read it again and reapply your change."
    )
    details = None
    if sent is not None:
        lines = [
            f"policy.{c['field']} is {diff.show(c['after'])} (you sent {diff.show(c['before'])})"
            for c in diff.changes(sent, current.get("policy") or {})
        ]
        details = "Where the current version differs: " + "; ".join(lines) if lines else None
    etag = f'"{policy_version(current)}"'
    return PreconditionFailed(message, details, etag=etag)
