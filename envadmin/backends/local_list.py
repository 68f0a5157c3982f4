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
from django.db.models import F, TextField
from django.db.models.functions import Cast, JSONObject

from envadmin.accounts.access import Caller
from envadmin.contract.choices import WORKLOAD_TYPE_KEYS
from envadmin.inventory import documents, listing
from envadmin.inventory.documents import UUIDText, timestamp
from envadmin.inventory.models import Environment, Template, Workload

from .base import Params

CHUNK = 10_000  # rows a read covers: usage and last use are read per chunk, 3 queries each
JUDGED_KEPT = 4096
USAGE_KEYS = (*documents.WORKLOAD_USAGE_KEYS.values(), "templates")
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
        # Usage and last use are read per chunk, for its ids: memory stays bounded at any size.
        usage = None
        if cleaned.get("usageInfo"):
            usage = lambda ids: _usage_json(ids, access.visible)  # noqa: E731
        status = STATUS if cleaned.get("statusInfo") else ""
        judge = last_used = None
        project, kind = cleaned.get("complyToProject"), cleaned.get("complyToWorkloadType")
        if project is not None and kind:
            project_key = self.project_key(project, tree, access, "complyToProject")
            judge = self.compliance_for(tree, project_key, kind, cleaned.get("complyToReplicaType"))
            workload_type = WORKLOAD_TYPE_KEYS[kind]
            last_used = lambda ids: documents.last_used(ids, project, workload_type)  # noqa: E731
        rows = (
            filterset.qs.annotate(id_text=UUIDText("id"))
            .values_list("id_text", *ROW_FIELDS)
            .iterator(chunk_size=CHUNK)
        )
        entries = _Entries(tree, usage, status, judge, last_used, self._environment_rows)
        # A list that fits one chunk asks for its usage by the query that selected it: sending
        # 10,000 ids back costs more than the database's own subquery.
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
    """Writes rows as entries; what many rows share (placements, usage-less answers, judged
    specs) is written once per request."""

    def __init__(self, tree, usage_of, status, judge, last_used_of, environment_rows):
        self.tree, self.usage_of, self.status = tree, usage_of, status
        self.judge, self.last_used_of = judge, last_used_of
        self.usage: dict = {}
        self.last_used: dict = {}
        self.environment_rows = environment_rows
        self.tenant = f',"tenantId":{_json(settings.ENVADMIN_TENANT_ID)}'
        self.placements: dict[tuple, str] = {}
        self.judged: dict[tuple, str] = {}
        self.empty_usage = ',"usedBy":' + _json(documents.empty_usage())

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
        if self.usage_of is not None:
            self.usage = self.usage_of(ids)
        if self.last_used_of is not None:
            self.last_used = self.last_used_of(ids)
        return ",".join([self.entry(row) for row in chunk])

    def entry(self, row) -> str:
        (env_id, meta, spec, scope, scope_key, project_id, *types) = row
        if not meta or not spec:  # written before the fragments existed, or unencodable
            meta, spec = self.rebuilt(env_id)
        parts = ['{"meta":{', meta, self.tenant, self.placement(scope, scope_key, project_id)]
        parts += ['},"spec":', spec]
        if self.usage_of is not None:
            used = self.usage.get(env_id)
            parts.append(self.empty_usage if used is None else ',"usedBy":' + used)
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
        """Judged once per distinct spec, supported types and placement: a list has many
        copies of a few specs, and the judge reads nothing else of an environment but its id,
        for the policy's imposed assets (judged apart; all of them if the judge cannot say)."""
        imposed = getattr(self.judge, "imposed", None)
        alone = imposed is None or env_id in imposed
        key = (env_id if alone else None, spec, scope_key, *types)
        written = self.judged.get(key)
        if written is None:
            names = ("workspace", "training", "inference", "distributed", "distFramework")
            supported = {k: v for k, v in zip(names, types, strict=True) if v is not None}
            meta = {"workloadSupportedTypes": supported, "id": env_id}
            document = {"meta": meta, "spec": documents.load_json(spec)}
            written = _json(self.judge(document, scope_key))
            if not alone:
                if len(self.judged) >= JUDGED_KEPT:  # distinct specs: keep memory bounded
                    self.judged.clear()
                self.judged[key] = written
        return written

    def rebuilt(self, env_id: str) -> tuple[str, str]:
        """A row without fragments: the old way, from its columns (values orjson cannot
        write go through the json module, as the renderer's default would fail on them)."""
        (env,) = self.environment_rows(Environment.objects.filter(pk=env_id))
        meta = listing.meta_fragment(env)
        spec = listing.spec_fragment(env.spec) or _json_module(env.spec)
        return meta, spec


def _usage_json(environment_ids, visible_keys) -> dict[str, str]:
    """usedBy as JSON text per environment id, as documents.usage_by_environment has it (same
    queries, same order): the database writes each workload's and template's object, so tens
    of thousands of them cost a string each, not a dict and an encoder pass."""
    usage: dict[str, dict[str, list[str]]] = {}
    visible_projects = [int(k.split(":", 1)[1]) for k in visible_keys if k.startswith("project:")]
    workloads = (
        Workload.objects.filter(
            environment_id__in=environment_ids, project_id__any=visible_projects
        )
        .order_by("environment_id", "created_at", "name")
        .annotate(
            env_text=UUIDText("environment_id"),
            item=_object(id=UUIDText("id"), name=F("name"), status=F("status")),
        )
        .values_list("env_text", "type", "item")
    )
    for env_id, kind, item in workloads:
        lists = usage.get(env_id)
        if lists is None:
            lists = usage[env_id] = {key: [] for key in USAGE_KEYS}
        lists[documents.WORKLOAD_USAGE_KEYS[kind]].append(item)
    templates = (
        Template.objects.filter(environment_id__in=environment_ids, scope_key__any=visible_keys)
        .order_by("name")
        .annotate(
            env_text=UUIDText("environment_id"), item=_object(id=UUIDText("id"), name=F("name"))
        )
        .values_list("env_text", "item")
    )
    for env_id, item in templates:
        lists = usage.get(env_id)
        if lists is None:
            lists = usage[env_id] = {key: [] for key in USAGE_KEYS}
        lists["templates"].append(item)
    return {
        env_id: "{" + ",".join(f'"{key}":[{",".join(items)}]' for key, items in lists.items()) + "}"
        for env_id, lists in usage.items()
    }


def _object(**members):
    """A JSON object written by the database, read as its text (not decoded)."""
    return Cast(JSONObject(**members), TextField())


def _json_module(value) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)
