"""An environment spec checked against Run:ai's own schema (environment.openapi.json), in plain
Python: unknown keys, JSON types, enums, lengths and bounds, each problem with its path.

envadmin's full rules (envadmin.contract.environment) are DRF serializers and need Django; the
command line must not. This check finds what a file can get wrong by itself; the rules between
fields (a TTY needs stdin, ...) are the server's, reported per item when it refuses.
"""

import json
import re
from functools import cache
from pathlib import Path

from envadmin.contract.choices import INT64_MAX
from envadmin.contract.image import image_reference_error

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "contract/runai-api/environment.openapi.json"
JSON_TYPES = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}
MAX_LIST = 1000  # far above the server's own caps (256 variables, 32 connections)


@cache
def _schemas() -> dict:
    return json.loads(SCHEMA_FILE.read_text())["components"]["schemas"]


def _resolved(schema: dict) -> dict:
    """The schema with its $ref followed and its allOf parts merged into one."""
    while "$ref" in schema:
        schema = _schemas()[schema["$ref"].rpartition("/")[2]]
    if "allOf" not in schema:
        return schema
    merged = {k: v for k, v in schema.items() if k != "allOf"}
    properties = dict(merged.get("properties") or {})
    for part in schema["allOf"]:
        part = _resolved(part)
        properties.update(part.get("properties") or {})
        merged.setdefault("type", part.get("type"))
    merged["properties"] = properties
    merged.setdefault("type", "object")
    return merged


def spec_problems(spec) -> list[str]:
    """["spec.image: ...", ...]: what is wrong with `spec` as an EnvironmentAssetSpec."""
    problems: list[str] = []
    _check(spec, _resolved({"$ref": "#/EnvironmentAssetSpec"}), "spec", problems)
    if isinstance(spec, dict) and isinstance(spec.get("image"), str) and spec["image"]:
        error = image_reference_error(spec["image"])
        if error:
            problems.append(f"spec.image: {error}.")
    return problems


def _type_name(value) -> str:
    if value is None:
        return "null"
    for name, kinds in JSON_TYPES.items():
        if isinstance(value, kinds) and not (name != "boolean" and isinstance(value, bool)):
            return name
    return type(value).__name__


def _check(value, schema: dict, path: str, problems: list[str]) -> None:
    schema = _resolved(schema)
    if value is None:
        return  # null is "not set", as the server reads it
    kind = schema.get("type") or ("object" if "properties" in schema else None)
    if kind and _type_name(value) not in ({kind, "integer"} if kind == "number" else {kind}):
        problems.append(f"{path}: must be {kind_article(kind)}, not {_type_name(value)}.")
        return
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{path}: must be one of {', '.join(map(str, schema['enum']))}.")
    if isinstance(value, str):
        _check_string(value, schema, path, problems)
    elif isinstance(value, int) and not isinstance(value, bool):
        low, high = schema.get("minimum", -INT64_MAX - 1), schema.get("maximum", INT64_MAX)
        if not low <= value <= high:
            problems.append(f"{path}: must be between {low} and {high}.")
    elif isinstance(value, dict):
        properties = schema.get("properties") or {}
        for key in sorted(set(schema.get("required") or ()) - value.keys()):
            problems.append(f"{path}.{key}: required.")
        for key, item in value.items():
            if key not in properties:
                problems.append(f"{path}.{key}: not a field of Run:ai's environment spec.")
            else:
                _check(item, properties[key], f"{path}.{key}", problems)
    elif isinstance(value, list):
        if len(value) > MAX_LIST:
            problems.append(f"{path}: at most {MAX_LIST} items.")
            return
        for index, item in enumerate(value):
            _check(item, schema.get("items") or {}, f"{path}[{index}]", problems)


def _check_string(value: str, schema: dict, path: str, problems: list[str]) -> None:
    if len(value) < schema.get("minLength", 0):
        problems.append(f"{path}: must not be empty.")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        problems.append(f"{path}: at most {schema['maxLength']} characters.")
    pattern = schema.get("pattern")
    if pattern and pattern != ".*" and not re.search(pattern, value):
        problems.append(f"{path}: does not match {pattern}.")


def kind_article(kind: str) -> str:
    articles = {"integer": "an integer", "object": "a mapping", "array": "a list"}
    return articles.get(kind, f"a {kind}")
