"""What a change of one node's policy does to compliance, before it is saved.

Every project under the node is judged twice, under the policy chain it has and under the one
it would have, against every environment it can see. Projects whose two chains are the same
share one compiled judge each way, and an environment is judged once per such group however
many of its projects see it: the work grows with the environments and the distinct chains,
not with the (project, environment) pairs.
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
    groups: dict[tuple[str, str], tuple[Callable, Callable, dict]] = {}
    changes: list[dict] = []
    counts = {"becomeNonCompliant": 0, "becomeCompliant": 0, "reasonsChanged": 0}
    projects, changed_assets, seen_assets = 0, set(), set()
    pairs = 0
    for case in cases:
        projects += 1
        key = (_chain_key(case.before), _chain_key(case.after))
        group = groups.get(key)
        if group is None:
            group = groups[key] = (
                compile_policy(merge(case.before), workload_type, source_label=source_label),
                compile_policy(merge(case.after), workload_type, source_label=source_label),
                {},
            )
        judge_before, judge_after, judged = group
        for asset_id in case.environment_ids:
            pairs += 1
            found = judged.get(asset_id)
            if found is None:
                document = environments[asset_id]
                before, after = judge_before(document), judge_after(document)
                found = judged[asset_id] = (before, after) if before != after else ()
            seen_assets.add(asset_id)
            if not found:
                continue
            before, after = found
            counts[_kind_of_change(before, after)] += 1
            changed_assets.add(asset_id)
            meta = environments[asset_id].get("meta") or {}
            changes.append({
                "projectId": case.id, "projectName": case.name,
                "assetId": asset_id, "assetName": meta.get("name", ""),
                "before": before, "after": after,
            })  # fmt: skip
    changes.sort(key=lambda c: (c["projectName"].lower(), str(c["projectId"]),
                                c["assetName"].lower(), c["assetId"]))  # fmt: skip
    return {
        "summary": {
            **counts,
            "projects": len({c["projectId"] for c in changes}),
            "environments": len(changed_assets),
        },
        "changes": changes[:max_changes],
        "truncated": len(changes) > max_changes,
        "judged": {"projects": projects, "environments": len(seen_assets), "pairs": pairs},
    }


def _chain_key(chain: Chain) -> str:
    return json.dumps(chain, sort_keys=True, default=str)


def _kind_of_change(before: dict, after: dict) -> str:
    if before["compliance"] and not after["compliance"]:
        return "becomeNonCompliant"
    if after["compliance"] and not before["compliance"]:
        return "becomeCompliant"
    return "reasonsChanged"  # the same verdict for other reasons, or imposed now or no more
