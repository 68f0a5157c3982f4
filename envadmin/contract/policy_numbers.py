"""Every number of a policy document against the range policy.openapi.json gives its field.

The ranges are read from the contract itself (integer formats int32 and int64, minimum and
maximum), so every integer field of defaults and rules is covered, those envadmin does not
otherwise check included. Any number, of a field the contract names or not, must also be one
an answer can carry once stored: finite (JSON has no Infinity or NaN, and PostgreSQL's jsonb
refuses them) and within 64 bits (orjson renders no wider). Floats too: jsonb keeps 1e300 as a
decimal, which reads back as an integer of 301 digits. Stored beyond that, a policy would break
every later read of its branch.
"""

import json
import math
from functools import cache
from pathlib import Path

from .choices import USED_BY_KEYS

CONTRACT = Path(__file__).parent / "runai-api" / "policy.openapi.json"
FORMAT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
# Integers the contract gives no format, and any other number.
WIDEST = FORMAT_RANGES["int64"]


@cache
def _contract() -> dict:
    return json.loads(CONTRACT.read_text())


def _schemas() -> dict:
    return _contract()["components"]["schemas"]


# Every schema of the contract lives as long as the process: folded once each, by identity.
_folded: dict[int, dict] = {}


def _merged(schema: dict) -> dict:
    folded = _folded.get(id(schema))
    if folded is None:
        folded = _folded[id(schema)] = _fold(schema)
    return folded


def _fold(schema: dict) -> dict:
    """One schema's $ref and allOf parts folded into {type, format, minimum, maximum,
    properties, items}: the only constructs the policy contract uses."""
    while "$ref" in schema:
        schema = _schemas()[schema["$ref"].rsplit("/", 1)[-1]]
    merged = {key: value for key, value in schema.items() if key != "allOf"}
    merged["properties"] = dict(schema.get("properties") or {})
    for part in schema.get("allOf", []):
        folded = _fold(part)
        merged["properties"].update(folded.pop("properties"))
        for key, value in folded.items():
            merged.setdefault(key, value)
    return merged


@cache
def _policy_schema(workload_type: str) -> dict:
    """The `policy` part of the overwrite request of one workload type."""
    path = f"/api/v2/policy/{USED_BY_KEYS[workload_type]}"
    body = _contract()["paths"][path]["put"]["requestBody"]["content"]["application/json"]
    return _merged(body["schema"])["properties"]["policy"]


def _range_problem(value: int | float, schema: dict | None) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return "Must be a finite number."
    low, high = WIDEST
    if schema and schema.get("type") == "integer":
        if isinstance(value, float):
            return "Must be an integer."
        low, high = FORMAT_RANGES.get(schema.get("format"), WIDEST)
    if schema and schema.get("minimum") is not None:
        low = max(low, schema["minimum"])
    if schema and schema.get("maximum") is not None:
        high = min(high, schema["maximum"])
    if value < low:
        return f"Must be at least {low}."
    if value > high:
        return f"Must be at most {high}."
    return None


def number_problem(policy: dict, workload_type: str) -> tuple[str, str] | None:
    """(path, message) of the first number of `policy` out of its range, in document order."""
    # Iterative: bodies may be nested as deep as the parser allows.
    stack = [(policy, _policy_schema(workload_type), "policy")]
    while stack:
        value, schema, path = stack.pop()
        node = _merged(schema) if schema is not None else None
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            problem = _range_problem(value, node)
            if problem:
                return path, problem
        elif isinstance(value, dict):
            fields = node["properties"] if node else {}
            for key, item in reversed(value.items()):
                stack.append((item, fields.get(key), f"{path}.{key}"))
        elif isinstance(value, list):
            items = node.get("items") if node else None
            for index in reversed(range(len(value))):
                stack.append((value[index], items, f"{path}[{index}]"))
    return None
