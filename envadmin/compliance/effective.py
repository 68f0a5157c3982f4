"""The effective policy of a node: the merge of the policies along its chain (reference §5).

A field carries a rule in only one policy of a branch, so each effective rule comes from
exactly one node and records it in `sourceOfRule`. Defaults: the lowest node wins.
"""

import copy

from envadmin.contract.policy_paths import deep_merge, flatten_rules, unflatten


def merge(chain: list[tuple[dict, dict]]) -> dict:
    """`chain` is [(sourceOfRule, policy document)] from the top (tenant) down to the node."""
    rules: dict[str, dict] = {}
    defaults: dict = {}
    imposed: list | dict | None = None
    for source, document in chain:
        for path, rule in flatten_rules(document.get("rules")).items():
            # Writes refuse a second rule on a field of the branch; if one slips in anyway
            # (an older store), the higher node's rule stands.
            if path not in rules:
                rule = copy.deepcopy(rule)
                if isinstance(rule, dict):
                    rule["sourceOfRule"] = source
                rules[path] = rule
        defaults = deep_merge(defaults, document.get("defaults") or {})
        imposed = _merge_imposed(imposed, document.get("imposedAssets"))
    effective = {"defaults": defaults, "rules": unflatten(rules)}
    if imposed is not None:
        effective["imposedAssets"] = imposed
    return effective


def _merge_imposed(current, more):
    if more is None:
        return current
    if isinstance(more, dict):  # distributed: {"worker": [...], "master": [...]}
        current = dict(current) if isinstance(current, dict) else {}
        for section, assets in more.items():
            current[section] = _merge_imposed(current.get(section), assets)
        return current
    merged = list(current or []) if isinstance(current, list) else []
    merged.extend(asset for asset in more if asset not in merged)
    return merged


def conflicts(new_rules: dict, others: list[tuple[str, dict]]) -> list[tuple[str, str]]:
    """[(field path, label of the node holding it)] for rules of `new_rules` that another
    policy of the same branch (ancestor or descendant, given as (label, rules)) already has."""
    wanted = set(flatten_rules(new_rules))
    found = []
    for label, rules in others:
        held = set(flatten_rules(rules))
        # A path also clashes with a path inside it ("a.b" and "a.b.c" rule the same field).
        for path in sorted(p for p in wanted if any(_overlap(p, h) for h in held)):
            found.append((path, label))
    return found


def _overlap(one: str, other: str) -> bool:
    return one == other or one.startswith(other + ".") or other.startswith(one + ".")
