"""The compliance matrix over the local store: one read of the rows, verdicts kept across
requests (compliance.verdicts, the API list's too), a second read of the specs of the rows
with none kept.

A row's four verdicts depend only on what the judges read: their policies and the row's
placement as seen from the project (each judge's context), the row's spec and supported types,
and its id when a policy imposes it. All of it is read in this request and digested into the
key (the spec as its stored digest: the text is read only to be judged), so a policy or
environment written by any process shows at once, and a verdict already made for the same
content is not made again (nearly every environment has a spec of its own, so only verdicts
kept across requests spare the judging)."""

from functools import lru_cache
from types import SimpleNamespace

from django.db import connection
from django.db.models import Case, F, JSONField, When

from envadmin.accounts.access import Caller
from envadmin.compliance import verdicts
from envadmin.compliance.states import compliance_state
from envadmin.compliance.verdicts import VERDICTS
from envadmin.contract.choices import WORKLOAD_TYPE_KEYS
from envadmin.inventory import documents, listing
from envadmin.inventory.documents import uuid_text
from envadmin.inventory.lookups import among
from envadmin.inventory.models import Environment
from envadmin.policies.models import Policy

from .base import MatrixRow

TYPE_COLUMNS = (
    "supports_workspace", "supports_training", "supports_inference", "supports_distributed",
    "dist_framework",
)  # fmt: skip
COLUMNS = ("name", "scope", "scope_key", "project_id", "spec_digest", *TYPE_COLUMNS, "id")


class LocalMatrixOperations:
    """Mixed into LocalBackend: uses its _context, project_key and compliance_for."""

    def compliance_matrix(self, caller: Caller, project, workload_types):
        if any(kind not in WORKLOAD_TYPE_KEYS for kind in workload_types):
            return super().compliance_matrix(caller, project, workload_types)
        tree, access = self._context(caller)
        project_key = self.project_key(project, tree, access, "complyToProject")
        # What a list with projectId asks for (inventory/filters.py): the project's chain.
        keys = sorted(set(tree.chain(project_key)) & set(access.visible))
        if not keys:  # a project the caller may review but sees nothing on the chain of
            return [], []
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
        # Raw rows: Django's converters would cost more than the select itself. A row's spec
        # is read as its digest (inventory/listing.py), the text only for verdicts to make.
        with connection.cursor() as cursor:
            cursor.execute(_select(connection.vendor, len(keys)), keys)
            fetched = cursor.fetchall()
        placements: dict[str, dict] = {}
        rows, unjudged = [], []
        for name, scope, scope_key, project_id, digest, *types, raw_id in fetched:
            env_id = uuid_text(raw_id)
            meta = placements.get(scope_key)
            if meta is None:
                node = SimpleNamespace(scope=scope, scope_key=scope_key, project_id=project_id)
                meta = {"scope": scope, **documents.placement_of(node, tree)}
                placements[scope_key] = meta
            cells = None
            if digest:  # none: a row written without a fragment, its text is built below
                cells = VERDICTS.get(verdict_keys.key_of_digest(scope_key, types, env_id, digest))
            if cells is None:
                unjudged.append((len(rows), scope_key, types, raw_id))
            rows.append(MatrixRow(env_id, name, meta, cells))
        if unjudged:
            _judge_rows(rows, unjudged, judges, verdict_keys)
            # Deleted between the two reads: gone from the matrix too.
            rows = [row for row in rows if row.cells is not None]
        return rows, []


def _judge_rows(rows: list, unjudged: list, judges, verdict_keys) -> None:
    """Fill in the cells of `unjudged` rows ((index, scope key, types, raw id)) from their spec
    text, read now. Each is kept under the digest of the text judged, which a write since the
    first read may have changed: a verdict is never kept under another text's key."""
    texts = _spec_texts([raw_id for *_, raw_id in unjudged])
    for index, scope_key, types, _ in unjudged:
        row = rows[index]
        spec = texts.get(row.id)
        if spec is None:
            continue
        key = verdict_keys.key_of_digest(scope_key, types, row.id, listing.spec_digest(spec))
        cells = VERDICTS.get(key)
        if cells is None:
            cells = _judged(judges, row.id, spec, types, scope_key)
            VERDICTS.put(key, cells)
        rows[index] = row._replace(cells=cells)


@lru_cache(maxsize=64)
def _select(vendor: str, keys: int) -> str:
    """The SELECT of the rows placed at `keys` scope keys (its parameters), written by the ORM
    once per number of keys; unordered, as the page sorts by name (SQLite sorting whole rows,
    fragments and all, costs more than the page's sort)."""
    # Distinct placeholders: the ORM drops repeated values of an IN list.
    query = Environment.objects.order_by().filter(scope_key__in=[str(n) for n in range(keys)])
    # The condition of the index that holds every column named (inventory/models.py).
    query = query.filter(spec_digest__isnull=False)
    sql, _ = query.values_list(*COLUMNS).query.sql_with_params()
    return sql


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


def _spec_texts(raw_ids: list) -> dict[str, str]:
    """The spec fragments of the rows `raw_ids` (as the cursor returned them) by id, in one
    read; built from the spec for rows written without one. Rows gone since are left out."""
    unwritten = Case(When(listed_spec="", then=F("spec")), output_field=JSONField())
    rows = Environment.objects.order_by().filter(pk__in=among(raw_ids))
    return {
        str(env_id): fragment or listing.spec_text(spec)
        for env_id, fragment, spec in rows.values_list("id", "listed_spec", unwritten)
    }
