"""The API's whole list as JSON bytes, streamed: the embedded backend's fast path.

Each row brings its stored fragments (inventory/listing.py); the placement, usage, status and
compliance are spliced in as bytes, so no document is built and no encoder walks the answer.
The rows are read in chunks from one cursor and each chunk is sent as it is written, so the
serving process holds one chunk, not the whole answer. Everything that can refuse the request
(parameters, the compliance project, the policies) runs before the first byte: an error is
still the contract's error answer. The content equals LocalBackend._documents' (tests
compare them); only the order of meta's keys differs (tenantId and the placement come last)."""

import json
from collections.abc import Iterator
from types import SimpleNamespace

import orjson
from django.conf import settings
from django.db.models import TextField, Value

from envadmin.accounts.access import Caller
from envadmin.compliance import verdicts
from envadmin.compliance.verdicts import VERDICTS
from envadmin.contract.choices import WORKLOAD_TYPE_KEYS
from envadmin.inventory import documents, listing
from envadmin.inventory.documents import UUIDText, timestamp
from envadmin.inventory.models import Environment
from envadmin.inventory.usage import UsedBy

from .base import Params

CHUNK = 10_000  # rows a read covers: last use is read per chunk, one query each
STATUS = ',"status":{"status":"No status"}'
ROW_FIELDS = (
    "listed_meta", "listed_spec", "scope", "scope_key", "project_id", "supports_workspace",
    "supports_training", "supports_inference", "supports_distributed", "dist_framework",
)  # fmt: skip


def _json(value) -> str:
    return orjson.dumps(value, default=str).decode()


class LocalListOperations:
    """Mixed into LocalBackend: uses its _context, _query, _environment_rows, project_key and
    compliance_for."""

    def list_environments_json(self, caller: Caller, params: Params) -> Iterator[bytes]:
        tree, access = self._context(caller)
        visible = Environment.objects.filter(scope_key__any=access.visible)
        filterset = self._query(params, tree, access, visible)
        cleaned = filterset.form.cleaned_data
        # usedBy comes with each row, written by the database; last use is read per chunk,
        # for its ids: memory stays bounded at any size.
        with_usage = bool(cleaned.get("usageInfo"))
        # A caller who sees every node may get the fragments the database keeps (the query
        # itself checks that nothing is hidden from them); others get theirs rebuilt.
        everything = access.visible.issuperset(tree.nodes)
        used_by = (
            UsedBy(access.visible, stored=everything) if with_usage else Value(None, TextField())
        )
        status = STATUS if cleaned.get("statusInfo") else ""
        judge = last_used = None
        project, kind = cleaned.get("complyToProject"), cleaned.get("complyToWorkloadType")
        if project is not None and kind:
            project_key = self.project_key(project, tree, access, "complyToProject")
            judge = self.compliance_for(tree, project_key, kind, cleaned.get("complyToReplicaType"))
            workload_type = WORKLOAD_TYPE_KEYS[kind]
            last_used = lambda ids: documents.last_used(ids, project, workload_type)  # noqa: E731
        rows = (
            filterset.qs.annotate(id_text=UUIDText("id"), used_by=used_by)
            .values_list("id_text", "used_by", *ROW_FIELDS)
            .iterator(chunk_size=CHUNK)
        )
        entries = _Entries(tree, with_usage, status, judge, last_used, self._environment_rows)
        # A list that fits one chunk asks for its last use by the query that selected it:
        # sending 10,000 ids back costs more than the database's own subquery.
        entries.all_ids = filterset.qs.order_by().values("id")
        # The first chunk is read now, so a failing query is the view's error, not a cut body.
        first = entries.chunk(rows)
        return _stream(first, entries, rows)


def _stream(first: str, entries: "_Entries", rows) -> Iterator[bytes]:
    yield ('{"entries":[' + first).encode()
    while chunk := entries.chunk(rows):
        yield ("," + chunk).encode()
    yield b"]}"


class _Entries:
    """Writes rows as entries; what many rows share (placements, usage-less answers) is
    written once per request, verdicts once per process (compliance.verdicts)."""

    def __init__(self, tree, with_usage, status, judge, last_used_of, environment_rows):
        self.tree, self.with_usage, self.status = tree, with_usage, status
        self.judge, self.last_used_of = judge, last_used_of
        self.last_used: dict = {}
        self.environment_rows = environment_rows
        self.tenant = f',"tenantId":{_json(settings.ENVADMIN_TENANT_ID)}'
        self.placements: dict[tuple, str] = {}
        if judge is not None:
            self.keys = verdicts.Keys(lambda key: judge.context(key).hex(), judge.imposed)

    all_ids = None  # the query of every listed id, for a list that fits one chunk
    pending = None  # the row read past a full chunk, to tell whether another one follows
    first = True

    def chunk(self, rows) -> str:
        chunk = [self.pending] if self.pending is not None else []
        self.pending = None
        for row in rows:
            if len(chunk) == CHUNK:
                self.pending = row
                break
            chunk.append(row)
        if not chunk:
            return ""
        alone = self.first and self.pending is None and self.all_ids is not None
        self.first = False
        ids = self.all_ids if alone else [row[0] for row in chunk]
        if self.last_used_of is not None:
            self.last_used = self.last_used_of(ids)
        return ",".join([self.entry(row) for row in chunk])

    def entry(self, row) -> str:
        (env_id, used_by, meta, spec, scope, scope_key, project_id, *types) = row
        if not meta or not spec:  # written before the fragments existed, or unencodable
            meta, spec = self.rebuilt(env_id)
        parts = ['{"meta":{', meta, self.tenant, self.placement(scope, scope_key, project_id)]
        parts += ['},"spec":', spec]
        if self.with_usage:
            parts += [',"usedBy":', used_by]
        parts.append(self.status)
        if self.judge is not None:
            parts += [',"compliance":', self.compliance(env_id, spec, scope_key, types)]
            last = timestamp(self.last_used.get(env_id))
            parts += [',"usageTimes":{"lastUsedByWorkload":', _json(last), "}"]
        parts.append("}")
        return "".join(parts)

    def placement(self, scope, scope_key, project_id) -> str:
        key = (scope, scope_key, project_id)
        written = self.placements.get(key)
        if written is None:
            node = SimpleNamespace(scope=scope, scope_key=scope_key, project_id=project_id)
            placement = documents.placement_of(node, self.tree)
            placement = {k: v for k, v in placement.items() if v is not None}
            written = self.placements[key] = "," + _json(placement)[1:-1] if placement else ""
        return written

    def compliance(self, env_id: str, spec: str, scope_key: str, types) -> str:
        """The verdict kept under this row's key (compliance.verdicts), or judged now and
        kept."""
        key = self.keys.key(scope_key, types, env_id, spec)
        written = VERDICTS.get(key)
        if written is None:
            names = ("workspace", "training", "inference", "distributed", "distFramework")
            supported = {k: v for k, v in zip(names, types, strict=True) if v is not None}
            meta = {"workloadSupportedTypes": supported, "id": env_id}
            document = {"meta": meta, "spec": documents.load_json(spec)}
            written = _json(self.judge(document, scope_key))
            VERDICTS.put(key, written)  # rows alike in verdict share one text there
        return written

    def rebuilt(self, env_id: str) -> tuple[str, str]:
        """A row without fragments: the old way, from its columns (values orjson cannot
        write go through the json module, as the renderer's default would fail on them)."""
        (env,) = self.environment_rows(Environment.objects.filter(pk=env_id))
        meta = listing.meta_fragment(env)
        spec = listing.spec_fragment(env.spec) or _json_module(env.spec)
        return meta, spec


def _json_module(value) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)
