"""Policies, effective policies and compliance over the local model (reference §5)."""

import zlib

from django.db import connection, transaction
from django.utils import timezone

from envadmin.accounts.access import Access, Caller
from envadmin.compliance import verdicts
from envadmin.compliance.effective import conflicts, merge
from envadmin.compliance.engine import compile_policy
from envadmin.contract.choices import POLICY_SCOPES, SCOPE_ID_FIELDS, WORKLOAD_TYPE_KEYS
from envadmin.contract.errors import Forbidden, InvalidRequest, NotFound
from envadmin.contract.policy import policy_version, validate_policy, validate_policy_request
from envadmin.contract.policy_paths import deep_merge, remove_path
from envadmin.inventory.documents import timestamp
from envadmin.inventory.models import scope_key
from envadmin.inventory.orgtree import OrgTree
from envadmin.policies.models import Policy

from .base import Params, stale_policy

ID_PARAMS = SCOPE_ID_FIELDS


def source_of(tree: OrgTree, key: str) -> dict:
    """sourceOfRule of a node: {scope, clusterId|departmentId|projectId}."""
    node = tree.nodes[key]
    source = {"scope": node.scope}
    if node.scope in ID_PARAMS:
        source[ID_PARAMS[node.scope]] = node.id if node.scope == "project" else str(node.id)
    return source


def label_of(tree: OrgTree, source: dict | None) -> str:
    """A team lead's name for where a rule comes from: "the policy of department 'research'"."""
    if not source:
        return "the policy"
    scope = source.get("scope")
    if scope in ID_PARAMS:
        key = scope_key(scope, source.get(ID_PARAMS[scope]))
        if key in tree:
            return f"the policy of {scope} '{tree.nodes[key].name}'"
    return f"the {scope} policy"


def _placement_key(meta: dict) -> str:
    """The org tree key of a listed environment's placement, read back from its meta."""
    scope = meta["scope"]
    return scope_key(scope, meta.get(ID_PARAMS[scope]) if scope in ID_PARAMS else None)


def policy_node(params: Params, tree: OrgTree) -> str:
    """The node named by ?scope=...&<id>=... (GET and DELETE of one policy)."""
    scope = params.get("scope")
    if scope not in POLICY_SCOPES:
        raise InvalidRequest(f"scope: must be one of {', '.join(POLICY_SCOPES)}.")
    if scope == "tenant":
        return "tenant"
    value = params.get(ID_PARAMS[scope])
    if not value:
        raise InvalidRequest(f"{ID_PARAMS[scope]}: required with scope={scope}.")
    key = scope_key(scope, str(value).lower() if scope == "cluster" else value)
    if key not in tree:
        raise NotFound(f"There is no {scope} {value}.")
    return key


def meta_node(meta: dict, tree: OrgTree) -> str:
    scope = meta["scope"]
    if scope == "tenant":
        return "tenant"
    key = scope_key(scope, meta[ID_PARAMS[scope]])
    if key not in tree:
        raise InvalidRequest(
            f"meta.{ID_PARAMS[scope]}: {scope} {meta[ID_PARAMS[scope]]} does not exist."
        )
    return key


def serialise_policy_writes(workload_type: str) -> None:
    """Hold, until the transaction ends, the right to write policies of `workload_type`.

    A write reads the policies up and down its branch to keep one rule per field and branch,
    and its own node's to merge into and to compare with If-Match: two writers must not both
    read before either writes. Every branch shares the tenant as its root, so the lock is one
    per workload type (policy writes are rare). PostgreSQL takes a transaction-scoped advisory
    lock; SQLite needs none, as every transaction there begins IMMEDIATE (settings.py) and so
    holds the one write lock from its first read.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [policy_lock_id(workload_type)])


def policy_lock_id(workload_type: str) -> int:
    return zlib.crc32(f"envadmin.policies.{workload_type}".encode())


def branch_of(tree: OrgTree, key: str) -> set[str]:
    """The nodes whose policies share fields with the node's: its chain and its subtree."""
    return (set(tree.chain(key)) | tree.subtree(key)) - {"system"}


def refuse_conflicts(tree: OrgTree, key: str, document: dict, policies: dict) -> None:
    """The 400 of a policy for `key` ruling a field that another policy of its branch
    (`policies`: scope key -> Policy) already rules."""
    others = [
        (label_of(tree, source_of(tree, k)), p.document.get("rules") or {})
        for k, p in policies.items()
        if k != key
    ]
    clashes = conflicts(document.get("rules") or {}, others)
    if clashes:
        field, holder = clashes[0]
        raise InvalidRequest(
            f"policy.rules.{field}: already ruled by {holder}; a field may carry rules "
            "in only one policy of a branch.",
            details="; ".join(f"policy.rules.{f}: ruled by {h}" for f, h in clashes),
            field_errors={f"policy.rules.{f}": [f"Ruled by {h}."] for f, h in clashes},
        )


class LocalPolicyOperations:
    """Mixed into LocalBackend; `_context` comes from there."""

    # --- effective policies -----------------------------------------------------------------

    @staticmethod
    def _policies_on(keys, workload_type: str) -> dict[str, Policy]:
        return {
            p.scope_key: p
            for p in Policy.objects.filter(workload_type=workload_type, scope_key__in=list(keys))
        }

    def effective_policy(self, tree: OrgTree, key: str, workload_type: str, policies=None):
        """Effective {defaults, rules, imposedAssets} at a node, with one query."""
        chain = [k for k in reversed(tree.chain(key)) if k != "system"]
        if policies is None:
            policies = self._policies_on(chain, workload_type)
        return merge([(source_of(tree, k), policies[k].document) for k in chain if k in policies])

    def compliance_for(self, tree, project_key, workload_type_name, replica_type, policies=None):
        """A function env_document -> compliance for one project and workload type.
        `policies`: those of the type on the project's chain, if already read."""
        effective = self.effective_policy(
            tree, project_key, WORKLOAD_TYPE_KEYS[workload_type_name], policies
        )
        chain = set(tree.chain(project_key))
        project = tree.nodes[project_key].name
        compiled = compile_policy(
            effective, workload_type_name, replica_type,
            source_label=lambda source: label_of(tree, source),
        )  # fmt: skip

        def visibility(placement_key: str) -> tuple[bool, str]:
            """(whether the project can use an environment placed there, the note if not)."""
            if placement_key in chain:
                return True, ""
            return False, f"it belongs to {tree.path(placement_key)}, outside project '{project}'."

        def judge(document: dict, placement_key: str) -> dict:
            return compiled(document, *visibility(placement_key))

        # What the judge reads besides an environment, for the list and the matrix that keep
        # verdicts across requests (compliance/verdicts.py): the compiled policy and what a
        # placement looks like from the project. The policies are read anew each request, so
        # this is never stale.
        signed = verdicts.hasher(compiled.signature, workload_type_name, repr(replica_type))

        def context(placement_key: str) -> bytes:
            return verdicts.feed(signed.copy(), repr(visibility(placement_key))).digest()

        judge.context = context
        judge.imposed = compiled.imposed
        return judge

    def environments_by_workload_type(self, caller, params, workload_types) -> dict[str, dict]:
        """The environments listed (read and made into documents) once, then judged per type:
        the same answers as a list per type, without three of the four reads."""
        project = params.get("complyToProject")
        if not project or any(kind not in WORKLOAD_TYPE_KEYS for kind in workload_types):
            return super().environments_by_workload_type(caller, params, workload_types)
        tree, access = self._context(caller)
        project_key = self.project_key(project, tree, access, "complyToProject")
        once = {k: v for k, v in params.items() if k != "complyToWorkloadType"}
        entries = self.list_environments(caller, once)["entries"]
        placements = [_placement_key(entry["meta"]) for entry in entries]
        replica = params.get("complyToReplicaType")
        answers = {}
        for kind in workload_types:
            judge = self.compliance_for(tree, project_key, kind, replica)
            answers[kind] = {"entries": [
                {**entry, "compliance": judge(entry, placement)}
                for entry, placement in zip(entries, placements, strict=True)
            ]}  # fmt: skip
        return answers

    # --- the policy API ---------------------------------------------------------------------

    def _policy_document(self, tree, key, workload_type, policies) -> dict:
        own = policies.get(key)
        document = {
            "effective": self.effective_policy(tree, key, workload_type, policies),
            "effectiveUpdatedAt": timestamp(
                max((p.updated_at for p in policies.values()), default=timezone.now())
            ),
        }
        if own is not None:
            document["meta"] = self._policy_meta(own, tree)
            document["policy"] = own.document
        else:
            document["policy"] = None
        return document

    @staticmethod
    def _policy_meta(policy: Policy, tree) -> dict:
        from django.conf import settings

        meta = {
            "id": str(policy.id),
            "name": policy.name,
            "scope": policy.scope,
            "tenantId": settings.ENVADMIN_TENANT_ID,
            "createdBy": policy.created_by,
            "createdAt": timestamp(policy.created_at),
            "updatedBy": policy.updated_by,
            "updatedAt": timestamp(policy.updated_at),
        }
        meta.update({k: v for k, v in source_of(tree, policy.scope_key).items() if k != "scope"})
        cluster = tree.cluster_of(policy.scope_key)
        if cluster:
            meta["clusterId"] = cluster
        return meta

    def get_policy(self, caller: Caller, workload_type: str, params: Params) -> dict:
        tree, access = self._context(caller)
        key = policy_node(params, tree)
        if not access.can_view(key):
            raise NotFound(f"There is no {tree.nodes[key].scope} {tree.nodes[key].id}.")
        chain = [k for k in tree.chain(key) if k != "system"]
        return self._policy_document(
            tree, key, workload_type, self._policies_on(chain, workload_type)
        )

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
        """PUT (overwrite) or PATCH (merge, with `reset`) of the policy of one node."""
        clean, tree, key = self._policy_write_node(caller, workload_type, body, partial=partial)
        with transaction.atomic():
            serialise_policy_writes(workload_type)
            policies = self._policies_on(branch_of(tree, key), workload_type)
            current = policies.get(key)
            if if_match is not None:
                sent = None if partial else clean["policy"]
                self._check_version(tree, current, if_match, sent)
            document = clean["policy"]
            if partial and current is not None:
                document = deep_merge(current.document, document)
            for path in clean.get("reset", []):
                for part in ("defaults", "rules"):
                    if isinstance(document.get(part), dict):
                        document = {**document, part: remove_path(document[part], path)}
            if partial:  # what PUT would refuse, a merge must not produce
                document = validate_policy(document, workload_type)
            refuse_conflicts(tree, key, document, policies)
            now = timezone.now()
            policy = current or Policy(
                workload_type=workload_type, scope=clean["meta"]["scope"], scope_key=key,
                created_by=caller.subject, created_at=now,
            )  # fmt: skip
            policy.name = clean["meta"]["name"]
            policy.document = document
            policy.updated_by, policy.updated_at = caller.subject, now
            policies[key] = policy
            if not validate_only:
                policy.save()
                # Answered as a later read will find it (numbers as the database keeps them),
                # so the answer's ETag is the one a GET gives.
                policy.refresh_from_db(fields=["document"])
        return self._policy_document(tree, key, workload_type, policies)

    def _policy_write_node(self, caller: Caller, workload_type: str, body, *, partial: bool):
        """What a policy write checks before it reads any policy: the request's shape, its
        node, and the caller's right to write there. (clean request, tree, node key)."""
        clean = validate_policy_request(body, workload_type, partial=partial)
        tree, access = self._context(caller)
        key = meta_node(clean["meta"], tree)
        if not access.can_write_policy(key):
            raise Forbidden(
                f"Only a system administrator over {tree.path(key)} may change its policies."
            )
        return clean, tree, key

    def _check_version(self, tree, current: Policy | None, if_match: str, sent=None) -> None:
        own = {"meta": None, "policy": None}
        if current is not None:
            own = {"meta": self._policy_meta(current, tree), "policy": current.document}
        if policy_version(own) != if_match:
            raise stale_policy(if_match, own, sent)

    def delete_policy(
        self, caller: Caller, workload_type: str, params: Params, *, if_match: str | None = None
    ) -> None:
        tree, access = self._context(caller)
        key = policy_node(params, tree)
        if not access.can_view(key):
            raise NotFound(f"There is no {tree.nodes[key].scope} {tree.nodes[key].id}.")
        with transaction.atomic():
            serialise_policy_writes(workload_type)
            # Row-locked as well: of two deletes, the second waits here, then finds nothing (404).
            policies = Policy.objects.select_for_update()
            policy = policies.filter(workload_type=workload_type, scope_key=key).first()
            if policy is None:
                raise NotFound(f"There is no {workload_type} policy on {tree.path(key)}.")
            if not access.can_write_policy(key):
                raise Forbidden(
                    f"Only a system administrator over {tree.path(key)} may change its policies."
                )
            if if_match is not None:
                self._check_version(tree, policy, if_match)
            policy.delete()

    def list_policies(self, caller: Caller, params: Params) -> dict:
        tree, access = self._context(caller)
        policies = Policy.objects.filter(scope_key__any=access.visible)
        kind = params.get("workloadType")
        if kind:
            if kind not in WORKLOAD_TYPE_KEYS:
                raise InvalidRequest(
                    f"workloadType: must be one of {', '.join(WORKLOAD_TYPE_KEYS)}."
                )
            policies = policies.filter(workload_type=WORKLOAD_TYPE_KEYS[kind])
        scope = params.get("scope")
        if scope:
            if scope not in POLICY_SCOPES:
                raise InvalidRequest(f"scope: must be one of {', '.join(POLICY_SCOPES)}.")
            policies = policies.filter(scope=scope)
        for scope_name, param in ID_PARAMS.items():
            if params.get(param):
                value = params[param].lower() if scope_name == "cluster" else params[param]
                policies = policies.filter(scope_key=scope_key(scope_name, value))
        return {
            "policies": [
                {"type": p.workload_type, "meta": self._policy_meta(p, tree)} for p in policies
            ]
        }

    # --- the draft preview ------------------------------------------------------------------

    def draft_policy(self, caller, project_id, workload_type):
        tree, access = self._context(caller)
        project_key = self.project_key(project_id, tree, access, "projectId")
        effective = self.effective_policy(tree, project_key, WORKLOAD_TYPE_KEYS[workload_type])
        return effective, lambda source: label_of(tree, source)

    def draft_compliance(self, caller, draft, project_id, workload_type, replica_type) -> dict:
        tree, access = self._context(caller)
        project_key = self.project_key(project_id, tree, access, "projectId")
        placement = self._placement_key(draft["meta"], tree, access)
        judge = self.compliance_for(tree, project_key, workload_type, replica_type)
        return judge({"meta": draft["meta"], "spec": draft["spec"]}, placement)

    @staticmethod
    def project_key(project_id, tree: OrgTree, access: Access, name: str) -> str:
        if isinstance(project_id, bool) or project_id is None:
            raise InvalidRequest(f"{name}: a project id is required.")
        try:
            key = scope_key("project", int(project_id))
        except (TypeError, ValueError):
            raise InvalidRequest(f"{name}: must be a project id (an integer).") from None
        if key not in tree or not access.can_view(key):
            raise InvalidRequest(f"{name}: project {project_id} does not exist.")
        return key
