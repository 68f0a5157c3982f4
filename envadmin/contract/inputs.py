"""Bounds every input path applies before a document reaches validation: the API's JSON bodies,
the policy YAML editor and snapshot files all go through `body_problem`; YAML goes through
`load_yaml` first.

What is refused here is what nothing downstream can take: a document nested past what the
recursive code that walks documents can handle, a lone surrogate that cannot be encoded as
UTF-8 when a message echoes it, a NUL that PostgreSQL refuses in text columns, and YAML whose
aliases expand to far more than was sent (a few hundred bytes can stand for gigabytes).
"""

import json

import yaml

# Far beyond any Run:ai document (a policy is about ten levels deep), far below the recursion
# limit of the code that walks documents recursively.
MAX_DEPTH = 64
# YAML anchors are legitimate shorthand, but each alias repeats its whole anchored subtree.
MAX_ALIASES = 100
# Scalars, sequences and mappings after aliases are expanded: a snapshot of tens of thousands
# of environments stays well below; an alias bomb is far above.
MAX_NODES = 5_000_000


class InputError(ValueError):
    """A document refused before validation; the message names where and why."""


def _string_problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character (\\u0000), which is not allowed"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (\\ud800-\\udfff), which is not valid text"
    return None


def body_problem(data, max_nodes: int = MAX_NODES) -> str | None:
    """The first part of a parsed document that envadmin refuses, as a message naming its path."""
    # Iterative on purpose: a recursive walk would fail on the very documents it must refuse.
    stack = [(data, "body", 0)]
    seen = 0
    while stack:
        value, path, depth = stack.pop()
        seen += 1
        if seen > max_nodes:
            return f"more than {max_nodes} values once expanded."
        if depth > MAX_DEPTH:
            return f"{path}: nested deeper than {MAX_DEPTH} levels."
        if isinstance(value, str):
            problem = _string_problem(value)
            if problem:
                return f"{path}: {problem}."
        elif isinstance(value, dict):
            for key in value:
                problem = _string_problem(key) if isinstance(key, str) else None
                if problem:
                    return f"{path}: a key {problem}."
            # Reversed onto the stack so that problems are found in document order.
            for key, item in reversed(value.items()):
                stack.append((item, key if path == "body" else f"{path}.{key}", depth + 1))
        elif isinstance(value, list):
            for index in reversed(range(len(value))):
                stack.append((value[index], f"{path}[{index}]", depth + 1))
    return None


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader that stops at MAX_DEPTH levels and MAX_ALIASES aliases while
    composing, before any construction (the composer itself recurses per level)."""

    def __init__(self, stream):
        super().__init__(stream)
        self.depth = 0
        self.aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise InputError(f"uses more than {MAX_ALIASES} aliases (*name).")
            return super().compose_node(parent, index)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise InputError(f"nested deeper than {MAX_DEPTH} levels.")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def load_yaml(text: str, *, max_bytes: int, max_nodes: int = MAX_NODES, json_only: bool = True):
    """Parse one YAML document within bounds; InputError otherwise. With `json_only`, into plain
    JSON values (a date is refused); without, YAML's own types such as timestamps are kept."""
    if len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise InputError(f"larger than {max_bytes:,} bytes.")
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        # Bound the expanded size before anything walks it (json.dumps expands every alias).
        if _expanded_size(node) > max_nodes:
            raise InputError(f"more than {max_nodes:,} values once aliases are expanded.")
        data = loader.construct_document(node)
    except InputError:
        raise
    except (yaml.YAMLError, ValueError) as error:  # ValueError: an integer too long to read
        raise InputError(f"not valid YAML: {_short(error)}") from None
    except RecursionError:
        raise InputError(f"nested deeper than {MAX_DEPTH} levels.") from None
    finally:
        loader.dispose()
    problem = body_problem(data, max_nodes=max_nodes)
    if problem:
        raise InputError(problem.removeprefix("body: ").removeprefix("body"))
    if not json_only:
        return data
    try:
        return json.loads(json.dumps(data))
    except (TypeError, ValueError) as error:  # dates, sets and other values JSON cannot hold
        raise InputError(f"not a JSON value: {_short(error)}") from None


def _expanded_size(root) -> int:
    """How many values the composed document stands for once every alias is expanded, counted
    once per distinct node (an alias is the same node object again), without expanding."""
    sizes: dict[int, int] = {}
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
            continue
        children = _children(node)
        if children_done:
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
        else:
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
    return sizes[id(root)]


def _children(node) -> list:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return list(node.value)


def _short(error, limit: int = 300) -> str:
    """An error message fit to show: the parser may quote a whole oversized value."""
    text = str(error)
    return text if len(text) <= limit else text[:limit] + "…"
