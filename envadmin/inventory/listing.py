"""Ready-to-send JSON fragments of an environment, stored on its row for the API list.

A list of 100,000 environments cannot afford a dict per document and an encoder pass over it:
each row keeps `listed_meta` (its meta fields as JSON members, without braces) and
`listed_spec` (its spec as compact JSON), written whenever the row is (Environment.save,
bulk_create, bulk_update; QuerySet.update empties them and the list rebuilds those rows). The
placement (cluster, department, project ids and the project's name) and the tenant id are left
out: an org unit's rename or a tenant setting must not make thousands of fragments stale, so
the list splices them in per node. An empty fragment means "build it from the row" (rows
written before the columns existed, or a value orjson refuses).

`spec_digest` is `listed_spec`'s digest, written with it (empty when it is): the compliance
matrix knows by it whether a spec is one it judged already, without reading the spec."""

import json
from datetime import UTC, datetime
from hashlib import blake2b

import orjson
from django.utils.dateparse import parse_datetime

# The columns each fragment is made of: a write of any of them rewrites that fragment.
META_FIELDS = frozenset({
    "id", "name", "description", "scope", "auto_delete", "private", "supports_workspace",
    "supports_training", "supports_inference", "supports_distributed", "dist_framework",
    "created_by", "created_at", "updated_by", "updated_at", "update_count",
})  # fmt: skip
SPEC_FIELDS = frozenset({"spec"})


def _time(value) -> str | None:
    """As documents.timestamp() and RunaiTimestamp write it: UTC, milliseconds cut."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def supported_types(env) -> dict:
    """meta.workloadSupportedTypes of an environment row (documents.py writes it the same way)."""
    columns = (env.supports_workspace, env.supports_training, env.supports_inference,
               env.supports_distributed, env.dist_framework)  # fmt: skip
    return supported_types_of_columns(columns)


def meta_core(env) -> dict:
    """The placement-free meta of documents.environment_meta, in its key order."""
    meta = {
        "name": env.name,
        "description": env.description,
        "scope": env.scope,
        "autoDelete": env.auto_delete,
        "private": env.private,
        "workloadSupportedTypes": supported_types(env),
        "id": str(env.id),
        "kind": "environment",
        "createdBy": env.created_by,
        "createdAt": _time(env.created_at),
        "updatedBy": env.updated_by,
        "updatedAt": _time(env.updated_at),
        "updateCount": env.update_count,
    }
    return {k: v for k, v in meta.items() if v is not None}


def meta_fragment(env) -> str:
    try:
        return orjson.dumps(meta_core(env)).decode()[1:-1]
    except (orjson.JSONEncodeError, TypeError):  # e.g. an expression not yet saved
        return ""


def spec_fragment(spec) -> str:
    try:
        return orjson.dumps(spec).decode()
    except orjson.JSONEncodeError:  # integers beyond 64 bits: the list builds it the old way
        return ""


def spec_text(spec) -> str:
    """The spec as compact JSON whether or not orjson can write it: its fragment, else the json
    module's text (integers past 64 bits)."""
    return spec_fragment(spec) or json.dumps(spec, separators=(",", ":"), allow_nan=False)


def spec_digest(fragment: str) -> str:
    """BLAKE2b of 16 bytes, in hex, of a spec fragment; "" for none."""
    return blake2b(fragment.encode(), digest_size=16).hexdigest() if fragment else ""


def fill(env, fields=None) -> set[str]:
    """Rewrite the fragments `fields` (None: all) touch; returns the columns it wrote."""
    written = set()
    if fields is None or META_FIELDS & set(fields):
        env.listed_meta = meta_fragment(env)
        written.add("listed_meta")
    if fields is None or SPEC_FIELDS & set(fields):
        env.listed_spec = spec_fragment(env.spec)
        env.spec_digest = spec_digest(env.listed_spec)
        written |= {"listed_spec", "spec_digest"}
    return written


TYPE_NAMES = ("workspace", "training", "inference", "distributed", "distFramework")


def supported_types_of_columns(values) -> dict:
    """meta.workloadSupportedTypes from its raw columns (supports_workspace ... dist_framework,
    as a cursor returns them: SQLite answers booleans as 0 and 1)."""
    return {
        name: bool(value) if type(value) is int else value
        for name, value in zip(TYPE_NAMES, values, strict=True)
        if value is not None
    }
