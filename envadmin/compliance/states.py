"""What a compliance answer means for the people reading it: compliant, imposed, violating the
policy, or "n/a" because the environment does not support the workload type at all.

Run:ai's answer (and the API's) stays "not compliant" for a type the environment does not
support (reference §5, our rule); every page and CSV tells that apart from a policy violation
through `compliance_state`, so the decision is made here and nowhere else.
"""

from envadmin.contract.choices import WORKLOAD_TYPE_KEYS

NOT_SUPPORTED = "not-supported"


def supports(meta: dict, workload_type: str) -> bool:
    """Whether an environment's workloadSupportedTypes include `workload_type`
    (Workspace|Training|Distributed|Inference)."""
    supported = meta.get("workloadSupportedTypes") or {}
    return bool(supported.get(WORKLOAD_TYPE_KEYS.get(workload_type, "")))


def compliance_state(compliance: dict | None, meta: dict, workload_type: str | None) -> str:
    """One of contract.choices.COMPLIANCE_STATES, or "" when the environment was not judged.
    Without a workload type the support cannot be told, and the answer is taken as it is."""
    if compliance is None:
        return ""
    if workload_type and not supports(meta, workload_type):
        return NOT_SUPPORTED
    if compliance.get("imposed"):
        return "imposed"
    return "compliant" if compliance.get("compliance") else "not-compliant"


def policy_reasons(compliance: dict | None, state: str) -> list[dict]:
    """The reasons worth a reader's attention: none for an "n/a" answer, whose only news is
    that the type is not supported (the state says so already)."""
    if state == NOT_SUPPORTED:
        return []
    return (compliance or {}).get("reason") or []
