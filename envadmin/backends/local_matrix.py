"""The compliance matrix over the local store: one read of the rows, verdicts from a memo.

A row's four verdicts depend only on what the judges read: their policies (each judge's
signature), the row's spec and supported types, its placement's visibility from the project,
and its id when a policy imposes it. All of it is read in this request and is the memo's key,
so a policy or environment written by any process shows at once, and a verdict already made
for the same content is not made again (nearly every environment has a spec of its own, so
only a memo kept across requests spares the judging)."""

import json
from types import SimpleNamespace

from django.db import connection

from envadmin.accounts.access import Caller
from envadmin.compliance.memo import VerdictMemo
from envadmin.compliance.states import compliance_state
from envadmin.contract.choices import WORKLOAD_TYPE_KEYS
from envadmin.inventory import documents, listing
from envadmin.inventory.documents import UUIDText
from envadmin.inventory.models import Environment
from envadmin.policies.models import Policy

from .base import MatrixRow

# A verdict entry is its key (mostly the spec text, ~600 characters in bench/dataset.py) and
# shared cells: 40,000 of them, or 32 M characters of specs, bound the memo to tens of MB.
VERDICTS = VerdictMemo(max_entries=40_000, max_chars=32 * 1024 * 1024)
# Alike cells are one object (less memory, and the page writes each distinct one once).
SHARED_CELLS = VerdictMemo(max_entries=10_000, max_chars=16 * 1024 * 1024)
# The judges' signatures of a request as one object, so that keys compare by identity.
SIGNATURES = VerdictMemo(max_entries=256, max_chars=16 * 1024 * 1024)
TYPE_COLUMNS = (
    "supports_workspace", "supports_training", "supports_inference", "supports_distributed",
    "dist_framework",
)  # fmt: skip
TYPE_NAMES = ("workspace", "training", "inference", "distributed", "distFramework")
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
        signatures = tuple(judge.signature for _, judge in judges)
        token = SIGNATURES.get(signatures)
        if token is None:
            SIGNATURES.put(signatures, signatures, sum(map(len, signatures)))
            token = signatures
        imposed = frozenset().union(*(judge.imposed for _, judge in judges))
        # Raw rows: Django's converters would cost more than the select itself.
        query = Environment.objects.filter(scope_key__in=keys).annotate(id_text=UUIDText("id"))
        query = query.values_list(*COLUMNS)
        with connection.cursor() as cursor:
            cursor.execute(*query.query.sql_with_params())
            fetched = cursor.fetchall()
        specs = _rebuilt_specs([row[-1] for row in fetched if not row[4]])
        placements: dict[str, tuple] = {}
        rows = []
        for name, scope, scope_key, project_id, spec, *types, env_id in fetched:
            spec = spec or specs[env_id]
            place = placements.get(scope_key)
            if place is None:
                node = SimpleNamespace(scope=scope, scope_key=scope_key, project_id=project_id)
                meta = {"scope": scope, **documents.placement_of(node, tree)}
                place = placements[scope_key] = (meta, *judges[0][1].visibility(scope_key))
            meta, seen, note = place
            key = (token, seen, note, spec, *types, env_id if env_id in imposed else None)
            cells = VERDICTS.get(key)
            if cells is None:
                cells = _judged(judges, env_id, spec, types, scope_key)
                VERDICTS.put(key, cells, len(spec) + len(note))
            rows.append(MatrixRow(env_id, name, meta, cells))
        return rows, []


def _judged(judges, env_id: str, spec: str, types, scope_key: str) -> tuple:
    supported = {k: _read(v) for k, v in zip(TYPE_NAMES, types, strict=True) if v is not None}
    meta = {"workloadSupportedTypes": supported, "id": env_id}
    document = {"meta": meta, "spec": documents.load_json(spec)}
    cells = []
    for kind, judge in judges:
        compliance = judge(document, scope_key)
        cells.append((compliance, compliance_state(compliance, meta, kind)))
    cells = tuple(cells)
    shown = repr(cells)
    shared = SHARED_CELLS.get(shown)
    if shared is None:
        SHARED_CELLS.put(shown, cells, len(shown))
        shared = cells
    return shared


def _read(value):
    """A raw column value as the ORM reads it: SQLite answers booleans as 0 and 1."""
    return bool(value) if type(value) is int else value


def _rebuilt_specs(env_ids: list[str]) -> dict[str, str]:
    """The spec text of rows written without a stored fragment (see inventory/listing.py)."""
    if not env_ids:
        return {}
    rows = Environment.objects.filter(pk__in=env_ids).annotate(id_text=UUIDText("id"))
    return {
        env_id: listing.spec_fragment(spec) or json.dumps(spec, separators=(",", ":"))
        for env_id, spec in rows.values_list("id_text", "spec")
    }
