"""The API's whole list as JSON bytes, streamed: the embedded backend's fast path.

Each row brings its stored fragments (inventory/listing.py); the placement, usage, status and
compliance are spliced in as bytes, so no document is built and no encoder walks the answer.
The listed rows' keys are read first, in the list's order (a narrow sort: sorting whole rows
with their fragments cost the database more than reading them); then their rows, a chunk of
keys at a time, each chunk sent as it is written, so the serving
process holds one chunk, not the whole answer. A row deleted between the two reads is left out;
one written meanwhile is sent as it is now. Everything that can refuse the request (parameters,
the compliance project, the policies) runs before the first byte: an error is still the
contract's error answer. The content equals LocalBackend._documents' (tests
compare them); only the order of meta's keys differs (tenantId and the placement come last)."""

from collections.abc import Iterator
from itertools import chain
from types import SimpleNamespace

import orjson
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import ExpressionWrapper, F, TextField, Value

from envadmin.accounts.access import Caller
from envadmin.compliance import verdicts
from envadmin.compliance.verdicts import VERDICTS
from envadmin.contract.choices import WORKLOAD_TYPE_KEYS
from envadmin.inventory import documents, listing
from envadmin.inventory.documents import UUIDText, timestamp
from envadmin.inventory.lookups import among
from envadmin.inventory.models import Environment
from envadmin.inventory.usage import UsedBy

from .base import Params

# Rows a read covers, one query each: a list of 10,000 is one read, as one of 1,000 is. The
# serving process holds a chunk's rows (about 2 KB each) while it writes their entries, a
# slice of SLICE at a time: written at once, a chunk's entries, their text and its bytes came
# to 5 KB a row, and grew a worker by 241 to 260 MB at 100,000.
CHUNK = 10_000
SLICE = 1_000
STATUS = ',"status":{"status":"No status"}'
ROW_FIELDS = (
    "listed_meta", "listed_spec", "scope", "scope_key", "project_id", "supports_workspace",
    "supports_training", "supports_inference", "supports_distributed", "dist_framework",
)  # fmt: skip


SCOPE_KEY = 3 + ROW_FIELDS.index("scope_key")  # in a row read by _Entries.chunk


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
        # usedBy comes with each row, written by the database: memory stays bounded at any
        # size.
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
            # Every last use in the project at once: one index range, a few rows per
            # environment its workloads use, where asking per chunk costs a lookup per row.
            last_used = documents.last_used(None, project, workload_type)
        # The rows' keys are read first, in order, then their rows a chunk at a time, by key
        # alone (an id is never reused): SQLite spends a quarter of that read checking an IN
        # list per row, so only what the caller may see is checked again, in Python.
        key = _row_key()
        keys = _ordered_keys(filterset.qs.annotate(key=key))
        columns = Environment.objects.order_by().annotate(
            key=key, id_text=UUIDText("id"), used_by=used_by
        )
        columns = columns.values_list("key", "id_text", "used_by", *ROW_FIELDS)
        entries = _Entries(tree, with_usage, status, judge, last_used, self._environment_rows)
        entries.columns, entries.visible = columns, access.visible
        batches = (keys[start : start + CHUNK] for start in range(0, len(keys), CHUNK))
        # The first chunk is read now, so a failing query is the view's error, not a cut body.
        first = entries.chunk(next(batches, []))
        return _stream(first, entries, batches)


def _row_key():
    """What a row is found by, as the database returns it: no UUID objects. (SQLite's rowid
    measured no faster than the id, and a deleted row's rowid may be given to a new row.)"""
    return ExpressionWrapper(F("pk"), output_field=TextField())


def _ordered_keys(queryset) -> list:
    """The row keys `queryset` lists, in its order, as the database returns them: no converter
    runs, so 100,000 of them cost a list of strings (SQLite) or of uuids (PostgreSQL)."""
    try:
        sql, params = queryset.values_list("key").query.sql_with_params()
    except EmptyResultSet:  # a caller who sees nothing: Django's own iteration says so too
        return []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _stream(first: Iterator[str], entries: "_Entries", batches) -> Iterator[bytes]:
    yield b'{"entries":['
    written = False
    for texts in chain([first], map(entries.chunk, batches)):
        for text in texts:
            if written:  # a byte of its own: prefixed, the slice would be copied
                yield b","
            yield text.encode()
            written = True
    yield b"]}"


class _Entries:
    """Writes rows as entries; what many rows share (placements, usage-less answers) is
    written once per request, verdicts once per process (compliance.verdicts)."""

    def __init__(self, tree, with_usage, status, judge, last_used, environment_rows):
        self.tree, self.with_usage, self.status = tree, with_usage, status
        self.judge, self.last_used = judge, last_used or {}
        self.environment_rows = environment_rows
        self.tenant = f',"tenantId":{_json(settings.ENVADMIN_TENANT_ID)}'
        self.placements: dict[str, str] = {}
        if judge is not None:
            self.keys = verdicts.Keys(lambda key: judge.context(key).hex(), judge.imposed)

    columns = None  # the query of every column a row is written from, keyed by its key
    visible: frozenset = frozenset()  # the scope keys the caller may see

    def chunk(self, batch: list) -> Iterator[str]:
        """The entries of `batch` (keys as _ordered_keys returns them), in its order, in
        slices; its rows are read now. A row deleted meanwhile is left out, and so is one moved
        where the caller cannot see it."""
        if not batch:
            return iter(())
        # Raw rows: Django's converters and iterator would cost more than the read itself.
        sql, params = self.columns.filter(key__in=among(batch)).query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found = {row[0]: row for row in cursor.fetchall()}
        visible = self.visible
        chunk = [row for key in batch if (row := found.get(key)) and row[SCOPE_KEY] in visible]
        return self.slices(chunk)

    def slices(self, rows: list) -> Iterator[str]:
        """The entries of `rows`, SLICE of them joined at a time, written as they are asked for
        (the rows were read when the chunk was: a failing read is still the view's error)."""
        entry = self.entry
        for start in range(0, len(rows), SLICE):
            yield ",".join([entry(row) for row in rows[start : start + SLICE]])

    def entry(self, row) -> str:
        """One entry: the row's fragments with what the request adds, in one string."""
        env_id, used_by, meta, spec, scope, scope_key, project_id = row[1:8]
        if not meta or not spec:  # written before the fragments existed, or unencodable
            meta, spec = self.rebuilt(env_id)
        placement = self.placements.get(scope_key)
        if placement is None:
            placement = self.placement(scope, scope_key, project_id)
        text = f'{{"meta":{{{meta}{self.tenant}{placement}}},"spec":{spec}'
        if self.with_usage:
            text = f'{text},"usedBy":{used_by}{self.status}'
        elif self.status:
            text += self.status
        if self.judge is None:
            return text + "}"
        last = self.last_used.get(env_id)
        last = "null" if last is None else _json(timestamp(last))
        compliance = self.compliance(env_id, spec, scope_key, row[8:])
        return f'{text},"compliance":{compliance},"usageTimes":{{"lastUsedByWorkload":{last}}}}}'

    def placement(self, scope, scope_key, project_id) -> str:
        """The placement's meta members, written once per node (its key names the node)."""
        node = SimpleNamespace(scope=scope, scope_key=scope_key, project_id=project_id)
        placement = documents.placement_of(node, self.tree)
        placement = {k: v for k, v in placement.items() if v is not None}
        written = "," + _json(placement)[1:-1] if placement else ""
        self.placements[scope_key] = written
        return written

    def compliance(self, env_id: str, spec: str, scope_key: str, types) -> str:
        """The verdict kept under this row's key (compliance.verdicts), or judged now and
        kept."""
        key = self.keys.key(scope_key, types, env_id, spec)
        written = VERDICTS.get(key)
        if written is None:
            supported = listing.supported_types_of_columns(types)
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
        spec = listing.spec_text(env.spec)
        return meta, spec
