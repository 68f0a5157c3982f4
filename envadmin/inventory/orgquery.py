"""filterBy, sortBy and sortOrder of the org-unit lists (org-unit.openapi.json), over documents.

The lists are small and already in memory (the org tree), so filtering and sorting the rendered
documents keeps one meaning for a field: the value the client reads is the value it filters on.
"""

import operator
import re
from datetime import UTC

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from envadmin.contract.errors import InvalidRequest

# Comparisons take the field's type (dates and integer ids are not compared as text); the
# matches work on text and ignore case, as `search` does.
COMPARE = {"==": operator.eq, "!=": operator.ne, "<=": operator.le, ">=": operator.ge}
MATCH = {
    "=@": lambda text, part: part in text,
    "!@": lambda text, part: part not in text,
    "=^": str.startswith,
    "=$": str.endswith,
}
FILTER = re.compile(r"([A-Za-z]+)(==|!=|<=|>=|=@|!@|=\^|=\$)(.+)", re.DOTALL)
# Fields each list filters and sorts on, with how their values compare.
PROJECT_FIELDS = {
    "id": "integer", "name": "text", "clusterId": "text", "departmentId": "text",
    "parentId": "text", "parentName": "text", "createdAt": "date",
}  # fmt: skip
DEPARTMENT_FIELDS = {"id": "text", "name": "text", "clusterId": "text", "createdAt": "date"}


def _invalid(parameter: str, message: str) -> InvalidRequest:
    return InvalidRequest(f"{parameter}: {message}", field_errors={parameter: [message]})


def _values(params, name: str) -> list[str]:
    """All values of a repeated parameter, from a QueryDict or a plain mapping."""
    if hasattr(params, "getlist"):
        return params.getlist(name)
    value = params.get(name)
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _typed(kind: str, raw: str):
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            raise _invalid("filterBy", f"'{raw}' is not an integer.") from None
    if kind == "date":
        moment = parse_datetime(raw)
        if moment is None:
            raise _invalid("filterBy", f"'{raw}' is not an ISO 8601 date-time.")
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)
    return raw


def _predicate(expression: str, fields: dict[str, str], value_of):
    match = FILTER.fullmatch(expression)
    if not match:
        operators = ", ".join([*COMPARE, *MATCH])
        raise _invalid("filterBy", f"'{expression}' is not field<operator>value ({operators}).")
    field, op, raw = match.groups()
    if field not in fields:
        raise _invalid("filterBy", f"unknown field '{field}'; one of: {', '.join(fields)}.")
    kind = fields[field]
    if op in COMPARE:
        wanted = _typed(kind, raw)
        return lambda document: COMPARE[op](_typed(kind, value_of(document, field)), wanted)
    if kind == "date":
        raise _invalid("filterBy", f"{field} takes only ==, !=, <= and >=.")
    return lambda document: MATCH[op](value_of(document, field).lower(), raw.lower())


def filter_and_sort(documents: list[dict], params, fields: dict[str, str], value_of=None):
    """The documents passing every filterBy, ordered by sortBy (name) and sortOrder (asc).

    `value_of(document, field)` reads a field as text; by default the document's own key.
    """
    value_of = value_of or (lambda document, field: str(document[field]))
    predicates = [_predicate(e, fields, value_of) for e in _values(params, "filterBy")]
    sort_by = params.get("sortBy") or "name"
    if sort_by not in fields:
        raise _invalid("sortBy", f"'{sort_by}' is not one of: {', '.join(fields)}.")
    order = params.get("sortOrder") or "asc"
    if order not in ("asc", "desc"):
        raise _invalid("sortOrder", f"'{order}' is not one of: asc, desc.")
    kept = [d for d in documents if all(holds(d) for holds in predicates)]
    kind = fields[sort_by]
    # The name, then the id, break ties so that pages do not overlap.
    return sorted(
        kept,
        key=lambda d: (_typed(kind, value_of(d, sort_by)), d["name"], d["id"]),
        reverse=order == "desc",
    )
