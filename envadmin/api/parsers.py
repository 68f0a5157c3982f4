"""The JSON parser of every API view: DRF's, plus refusals of bodies nothing downstream can take.

Each of these reached a handler and ended as a 500: a body nested past the interpreter's
recursion limit (RecursionError in json), one nested deep enough for recursive code later on
(error flattening, policy merging), a lone surrogate that cannot be encoded as UTF-8 when a
message echoes it, and a NUL that PostgreSQL refuses in text columns.
"""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Far beyond any Run:ai document (a policy is about ten levels deep), far below the recursion
# limit of the code that walks documents recursively.
MAX_DEPTH = 64


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.") from None
        problem = body_problem(data)
        if problem:
            raise ParseError(problem)
        return data


def _string_problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character (\\u0000), which is not allowed"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (\\ud800-\\udfff), which is not valid text"
    return None


def body_problem(data) -> str | None:
    """The first part of a parsed body that envadmin refuses, as a message naming its path."""
    # Iterative on purpose: a recursive walk would fail on the very bodies it must refuse.
    stack = [(data, "body", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"{path}: nested deeper than {MAX_DEPTH} levels."
        if isinstance(value, str):
            problem = _string_problem(value)
            if problem:
                return f"{path}: {problem}."
        elif isinstance(value, dict):
            for key in value:
                problem = _string_problem(key)
                if problem:
                    return f"{path}: a key {problem}."
            # Reversed onto the stack so that problems are found in document order.
            for key, item in reversed(value.items()):
                stack.append((item, key if path == "body" else f"{path}.{key}", depth + 1))
        elif isinstance(value, list):
            for index in reversed(range(len(value))):
                stack.append((value[index], f"{path}[{index}]", depth + 1))
    return None
