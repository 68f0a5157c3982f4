"""What a change of one node's policy does to compliance, before it is saved.

Every project under the node is judged twice, under the policy chain it has and under the one
it would have, against every environment it can see. Projects whose two chains read alike (the
compiled judges' signatures: the same checks, whatever else their documents hold) share one
group, and an environment is judged once per group however many of its projects see it: the
work grows with the environments and the distinct judges, not with the (project, environment)
pairs.
"""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .effective import merge
from .engine import compile_policy, default_source_label

# The pairs an answer lists; the summary counts them all. Past this many a person reads the
# counts, not the list.
MAX_CHANGES = 1_000

Chain = list[tuple[dict, dict]]  # [(sourceOfRule, policy document)], tenant first


@dataclass(frozen=True)
class ProjectCase:
    id: object
    name: str
    before: Chain
    after: Chain
    environment_ids: tuple[str, ...]  # the environments the project can see


def policy_impact(
    cases: Iterable[ProjectCase],
    environments: dict[str, dict],
    workload_type: str,
    *,
    source_label: Callable[[dict | None], str] = default_source_label,
    max_changes: int = MAX_CHANGES,
) -> dict:
    """{summary, changes, judged, truncated}: the (project, environment) pairs whose compliance
    ({imposed, compliance, reason[]}) differs between the two chains, for `workload_type`
    (Workspace|Training|Distributed|Inference; Distributed judged without a replica type, as
    the environment list does). `environments` maps asset ids to documents ({meta, spec})."""
    groups: dict[tuple, tuple[Callable, Callable, dict]] = {}
    compiled: dict[str, Callable] = {}
    # (sort key, case, asset id, _judged(...)) per changed pair
    changed: list[tuple] = []
    projects, pairs, seen = 0, 0, set()
    for case in cases:
        projects += 1
        # Chains that differ only in what no check reads (a variable's default value, a rule
        # of a field environments do not carry) compile to alike judges: one group.
        before, after = (_compiled(compiled, c, workload_type) for c in (case.before, case.after))
        key = (before.signature, after.signature)
        group = groups.get(key)
        if group is None:
            group = groups[key] = (before, after, {})
        judge_before, judge_after, judged = group
        ids = case.environment_ids
        pairs += len(ids)
        for asset_id in ids:
            if asset_id not in judged:
                judged[asset_id] = _judged(environments[asset_id], judge_before, judge_after)
                seen.add(asset_id)
        project = (case.name.lower(), str(case.id))
        changed += [((*project, judged[a][4], a), case, a, judged[a]) for a in ids if judged[a]]
    changed.sort(key=lambda item: item[0])
    counts = {"becomeNonCompliant": 0, "becomeCompliant": 0, "reasonsChanged": 0}
    for _, _, _, found in changed:
        counts[found[2]] += 1
    listed = []
    for _, case, asset_id, (before, after, _, name, _) in changed[:max_changes]:
        labels = {s.get("scope"): source_label(s) for s, _ in case.before + case.after}
        listed.append({
            "projectId": case.id, "projectName": case.name, "assetId": asset_id,
            "assetName": name, "before": _named(before, labels), "after": _named(after, labels),
        })  # fmt: skip
    return {
        "summary": {
            **counts,
            "projects": len({item[1].id for item in changed}),
            "environments": len({item[2] for item in changed}),
        },
        "changes": listed,
        "truncated": len(changed) > max_changes,
        "judged": {"projects": projects, "environments": len(seen), "pairs": pairs},
    }


# Projects whose chains hold the same documents at the same levels are judged alike but for
# the names of the nodes in their reasons: compiled with a placeholder per level, named per
# project only for the pairs listed. A label names its node's scope ("the policy of department
# 'x'"), so two levels never read alike and comparing placeholders compares the reasons.
def _compile(chain: Chain, workload_type: str) -> Callable:
    return compile_policy(merge(_shape(chain)), workload_type, source_label=_placeholder)


def _compiled(compiled: dict, chain: Chain, workload_type: str) -> Callable:
    key = _chain_key(chain)
    judge = compiled.get(key)
    if judge is None:
        judge = compiled[key] = _compile(chain, workload_type)
    return judge


def _shape(chain: Chain) -> Chain:
    return [({"scope": (source or {}).get("scope")}, document) for source, document in chain]


def _placeholder(source: dict | None) -> str:
    return f"\x00{(source or {}).get('scope')}\x00"


def _named(compliance: dict, labels: dict) -> dict:
    reasons = []
    for reason in compliance["reason"]:
        details = reason.get("details", "")
        if "\x00" in details:
            for scope, label in labels.items():
                details = details.replace(_placeholder({"scope": scope}), label)
            reason = {**reason, "details": details}
        reasons.append(reason)
    return {**compliance, "reason": reasons}


def _judged(document: dict, judge_before: Callable, judge_after: Callable) -> tuple:
    """() when the environment's compliance stays, else (before, after, kind of change, its
    name, its name for sorting)."""
    before, after = judge_before(document), judge_after(document)
    if before == after:
        return ()
    name = (document.get("meta") or {}).get("name", "")
    return before, after, _kind_of_change(before, after), name, name.lower()


def _chain_key(chain: Chain) -> str:
    return json.dumps(_shape(chain), sort_keys=True, default=str)


def _kind_of_change(before: dict, after: dict) -> str:
    if before["compliance"] and not after["compliance"]:
        return "becomeNonCompliant"
    if after["compliance"] and not before["compliance"]:
        return "becomeCompliant"
    return "reasonsChanged"  # the same verdict for other reasons, or imposed now or no more
