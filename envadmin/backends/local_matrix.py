"""The compliance matrix over the local store: one read of the rows, verdicts kept across
requests (compliance.verdicts, the API list's too).

A row's four verdicts depend only on what the judges read: their policies and the row's
placement as seen from the project (each judge's context), the row's spec and supported types,
and its id when a policy imposes it. All of it is read in this request and digested into the
key, so a policy or environment written by any process shows at once, and a verdict already
made for the same content is not made again (nearly every environment has a spec of its own,
so only verdicts kept across requests spare the judging)."""

import json
from types import SimpleNamespace

from django.db import connection

from envadmin.accounts.access import Caller
from envadmin.compliance import verdicts
from envadmin.compliance.states import compliance_state
from envadmin.compliance.verdicts import VERDICTS
from envadmin.contract.choices import WORKLOAD_TYPE_KEYS
from envadmin.inventory import documents, listing
from envadmin.inventory.documents import UUIDText
from envadmin.inventory.models import Environment
from envadmin.policies.models import Policy

from .base import MatrixRow

TYPE_COLUMNS = (
    "supports_workspace", "supports_training", "supports_inference", "supports_distributed",
    "dist_framework",
)  # fmt: skip
# The order the database returns them in: model fields, then the annotation.
COLUMNS = ("name", "scope", "scope_key", "project_id", "listed_spec", *TYPE_COLUMNS, "id_text")


class LocalMatrixOperations:
    """Mixed into LocalBackend: uses its _context, project_key and compliance_for."""

    def compliance_matrix(self, caller: Caller, project, workload_types):
        if any(kind not in WORKLOAD_TYPE_KEYS for kind in workload_types):
            return super().compliance_matrix(caller, project, workload_types)
        tree, access = self._context(caller)
        project_key = self.project_key(project, tree, access, "complyToProject")
        # What a list with projectId asks for (inventory/filters.py): the project's chain.
        keys = sorted(set(tree.chain(project_key)) & set(access.visible))
        # The policies of the four types on the project's chain, in one read.
        policies: dict[str, dict] = {WORKLOAD_TYPE_KEYS[kind]: {} for kind in workload_types}
        for policy in Policy.objects.filter(scope_key__in=tree.chain(project_key)):
            policies.setdefault(policy.workload_type, {})[policy.scope_key] = policy
        judges = [
            (kind, self.compliance_for(tree, project_key, kind, None,
                                       policies[WORKLOAD_TYPE_KEYS[kind]]))
            for kind in workload_types
        ]  # fmt: skip
        imposed = frozenset().union(*(judge.imposed for _, judge in judges))
        # "matrix": a row's cells, never one list's verdict, even for a single type.
        verdict_keys = verdicts.Keys(
            lambda key: "matrix" + "".join(judge.context(key).hex() for _, judge in judges),
            imposed,
        )
        # Raw rows: Django's converters would cost more than the select itself.
        query = Environment.objects.filter(scope_key__in=keys).annotate(id_text=UUIDText("id"))
        query = query.values_list(*COLUMNS)
        with connection.cursor() as cursor:
            cursor.execute(*query.query.sql_with_params())
            fetched = cursor.fetchall()
        specs = _rebuilt_specs([row[-1] for row in fetched if not row[4]])
        placements: dict[str, dict] = {}
        rows = []
        for name, scope, scope_key, project_id, spec, *types, env_id in fetched:
            spec = spec or specs.get(env_id)
            if spec is None:  # deleted between the two reads: gone from the matrix too
                continue
            meta = placements.get(scope_key)
            if meta is None:
                node = SimpleNamespace(scope=scope, scope_key=scope_key, project_id=project_id)
                meta = {"scope": scope, **documents.placement_of(node, tree)}
                placements[scope_key] = meta
            key = verdict_keys.key(scope_key, types, env_id, spec)
            cells = VERDICTS.get(key)
            if cells is None:
                cells = _judged(judges, env_id, spec, types, scope_key)
                VERDICTS.put(key, cells)
            rows.append(MatrixRow(env_id, name, meta, cells))
        return rows, []


def _judged(judges, env_id: str, spec: str, types, scope_key: str) -> tuple:
    supported = listing.supported_types_of_columns(types)
    meta = {"workloadSupportedTypes": supported, "id": env_id}
    document = {"meta": meta, "spec": documents.load_json(spec)}
    cells = []
    for kind, judge in judges:
        compliance = judge(document, scope_key)
        cells.append((compliance, compliance_state(compliance, meta, kind)))
    cells = tuple(cells)
    # Alike cells are one object, across requests: less memory, and the page writes the
    # markup of each distinct one once (ui.templatetags.ui).
    key = verdicts.hasher("cells", repr(cells)).digest()
    shared = VERDICTS.get(key)
    if shared is None:
        VERDICTS.put(key, cells)
        shared = cells
    return shared


def _rebuilt_specs(env_ids: list[str]) -> dict[str, str]:
    """The spec text of rows written without a stored fragment (see inventory/listing.py)."""
    if not env_ids:
        return {}
    rows = Environment.objects.filter(pk__in=env_ids).annotate(id_text=UUIDText("id"))
    return {
        env_id: listing.spec_fragment(spec) or json.dumps(spec, separators=(",", ":"))
        for env_id, spec in rows.values_list("id_text", "spec")
    }
