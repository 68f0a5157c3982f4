"""`field__any=values`: the rows of `field__in=values`, with the values as one array on PostgreSQL.

A caller's visible scope keys (or projects) are hundreds of values in most queries of a request:
Django's IN prepares each value, makes one parameter of each, and psycopg quotes and merges them
into the query one by one in Python, a third of an API list's CPU at 200 projects. Here plain
strings or integers become one array literal, written at once, and `= ANY(%s)` takes it
(PostgreSQL plans an IN list as that same `= ANY(ARRAY[...])`). Other databases keep Django's IN.
"""

import orjson
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Field, ForeignObject
from django.db.models.expressions import RawSQL
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In
from django.utils.datastructures import OrderedSet


def _plain(values, kind: type) -> bool:
    """Values that need no preparation: a collection of `kind` and None (bool is not an int)."""
    return isinstance(values, (set, frozenset, list, tuple)) and all(
        type(value) is kind or value is None for value in values
    )


def _array_literal(values) -> str:
    """PostgreSQL's text form of an array: each element quoted, so any character is kept."""
    quoted = (str(v).replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return "{" + ",".join(f'"{v}"' for v in quoted) + "}"


class _ArrayMixin:
    # The Python type of values that skip Django's per-value preparation, for this field.
    def plain_kind(self) -> type | None:
        internal = self.lhs.output_field.get_internal_type()
        if internal in ("CharField", "TextField", "SlugField"):
            return str
        if internal in ("IntegerField", "BigIntegerField", "AutoField", "BigAutoField"):
            return int
        return None

    def get_prep_lookup(self):
        kind = self.plain_kind()
        if kind is not None and _plain(self.rhs, kind):
            return list(self.rhs)  # what the preparation would give, without a call per value
        return super().get_prep_lookup()

    def as_postgresql(self, compiler, connection):
        if not self.rhs_is_direct_value():  # a subquery or expressions: Django's IN
            return self.as_sql(compiler, connection)
        values = OrderedSet(self.rhs)
        values.discard(None)  # as IN: NULL is never equal to anything
        if not values:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        kind = self.plain_kind()
        if kind is not None and _plain(self.rhs, kind):
            cast = "text[]" if kind is str else "bigint[]"
            return f"{lhs} = ANY(%s::{cast})", (*lhs_params, _array_literal(values))
        field = self.lhs.output_field
        array = [field.get_db_prep_value(v, connection, prepared=True) for v in values]
        return f"{lhs} = ANY(%s)", (*lhs_params, array)


@Field.register_lookup
class AnyOf(_ArrayMixin, In):
    lookup_name = "any"


@ForeignObject.register_lookup
class RelatedAnyOf(_ArrayMixin, RelatedIn):
    """`project_id__any=[...]` on a foreign key: ids, or model objects as RelatedIn takes them."""

    lookup_name = "any"

    def plain_kind(self) -> type | None:
        # The column's own type: a foreign key holds its target's values.
        field = self.lhs.output_field
        target = getattr(field, "target_field", field)
        internal = target.get_internal_type()
        if internal in ("CharField", "TextField"):
            return str
        if internal in ("IntegerField", "BigIntegerField", "AutoField", "BigAutoField"):
            return int
        return None


def among(raw_values: list) -> RawSQL:
    """A subquery of `raw_values` sent as one parameter, for `field__in=among(...)`: values of a
    column as the database returned them (SQLite's hex uuids, psycopg's uuids), so
    none is prepared one by one: a JSON array SQLite's json_each reads, or a PostgreSQL array."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s)", (list(raw_values),))
    return RawSQL("SELECT value FROM json_each(%s)", (orjson.dumps(raw_values).decode(),))
