"""Policy impact over the local model: one query for the branch's policies, one for the
environments the node's projects can see, then the pure judgement of compliance/impact.py."""

from envadmin.accounts.access import Caller
from envadmin.compliance.impact import ProjectCase, policy_impact
from envadmin.contract.choices import WORKLOAD_TYPE_KEYS
from envadmin.inventory.models import Environment
from envadmin.process_tuning import paused_gc

from .local_policies import branch_of, label_of, refuse_conflicts, source_of


class LocalImpactOperations:
    """Mixed into LocalBackend; `_context`, `_policy_write_node`, `_policies_on`,
    `_environment_rows` and `_documents` come from there."""

    @paused_gc()
    def impact_of_policy(self, caller: Caller, workload_type: str, meta, policy) -> dict:
        kind = WORKLOAD_TYPE_KEYS[workload_type]
        # Refused exactly as the PUT of this policy would be: shape, node, right to write.
        clean, tree, key = self._policy_write_node(
            caller, kind, {"meta": meta, "policy": policy}, partial=False
        )
        _, access = self._context(caller)
        policies = self._policies_on(branch_of(tree, key), kind)
        new_document = None if policy is None else clean["policy"]
        if new_document is not None:
            refuse_conflicts(tree, key, new_document, policies)
        projects = sorted(
            k for k in tree.subtree(key) if tree.nodes[k].scope == "project" and access.can_view(k)
        )
        placements = {p: [k for k in tree.chain(p) if access.can_view(k)] for p in projects}
        seen = set().union(*placements.values()) if placements else set()
        rows = self._environment_rows(Environment.objects.filter(scope_key__any=seen))
        documents = self._documents(rows, tree, access, {})
        by_placement: dict[str, list[str]] = {}
        environments = {}
        for row, document in zip(rows, documents, strict=True):
            environments[document["meta"]["id"]] = document
            by_placement.setdefault(row.scope_key, []).append(document["meta"]["id"])
        own = {k: p.document for k, p in policies.items()}
        after = {**own, key: new_document}

        def chain(project: str, documents: dict) -> list[tuple[dict, dict]]:
            nodes = [k for k in reversed(tree.chain(project)) if k != "system"]
            return [(source_of(tree, k), documents[k]) for k in nodes if documents.get(k)]

        cases = (
            ProjectCase(
                id=tree.nodes[p].id, name=tree.nodes[p].name,
                before=chain(p, own), after=chain(p, after),
                environment_ids=tuple(a for k in placements[p] for a in by_placement.get(k, ())),
            )
            for p in projects
        )  # fmt: skip
        return policy_impact(
            cases, environments, workload_type, source_label=lambda s: label_of(tree, s)
        )
