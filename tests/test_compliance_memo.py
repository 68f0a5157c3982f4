"""The compiled judge answers once per distinct set of the values its policy reads: the memo
changes the cost, never the answer (property test against a fresh evaluation)."""

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envadmin.compliance import engine, impact
from envadmin.compliance.engine import compile_policy, evaluate
from envadmin.compliance.impact import ProjectCase
from envadmin.contract.policy_paths import ENVIRONMENT_FIELDS

from .test_compliance_fixes import FIELDS, KIND_VALUES, NAMES, _put, environments, policies

IDS = ["id-1", "id-2", "id-3"]
NOTES = ["", "it belongs to elsewhere."]


@st.composite
def judged_lists(draw):
    """A policy, a workload type and environments drawn from a few, so many repeat in what
    the policy reads while differing in what it does not (id, name)."""
    policy = draw(policies())
    if draw(st.booleans()):
        policy["imposedAssets"] = draw(st.lists(st.sampled_from(IDS), max_size=2, unique=True))
    workload_type = draw(st.sampled_from(["Workspace", "Training", "Distributed"]))
    if workload_type == "Distributed":
        worker = draw(policies())
        policy = {
            "rules": {"master": policy["rules"], "worker": worker["rules"]},
            "defaults": {"master": policy["defaults"], "worker": worker["defaults"]},
            "imposedAssets": {"worker": policy.get("imposedAssets") or []},
        }
    # Variants of one environment, each with one ruled field changed: alike in all else.
    base = draw(environments())
    pool = [base]
    for _ in range(draw(st.integers(0, 5))):
        spec = copy.deepcopy(base["spec"])
        if draw(st.booleans()):
            field = draw(st.sampled_from(sorted(FIELDS)))
            _put(spec, ENVIRONMENT_FIELDS[field][0], draw(KIND_VALUES[FIELDS[field]]))
        else:  # variables: values the judge does not read, names and exclusions it does
            names = draw(st.lists(st.sampled_from(NAMES), max_size=3))
            spec["environmentVariables"] = [
                {"name": n, **draw(st.sampled_from([{"exclude": True}, {"value": "v"},
                                                    {"value": "w"}, {}]))}
                for n in names
            ] + draw(st.sampled_from([[], ["not an object"]]))  # fmt: skip
        pool.append({**base, "spec": spec})
    items = []
    for index in range(draw(st.integers(1, 12))):
        environment = draw(st.sampled_from(pool))
        meta = {**environment["meta"], "id": draw(st.sampled_from(IDS)), "name": f"e{index}"}
        visible = draw(st.booleans())
        items.append(({**environment, "meta": meta}, visible, "" if visible else draw(
            st.sampled_from(NOTES))))  # fmt: skip
    return policy, workload_type, items


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(judged_lists(), st.sampled_from([1, engine.MEMO_LIMIT]))
def test_a_memoised_judge_answers_as_a_fresh_evaluation(case, limit):
    policy, workload_type, items = case
    old_limit, engine.MEMO_LIMIT = engine.MEMO_LIMIT, limit  # a full memo must answer alike
    try:
        judge = compile_policy(policy, workload_type)
        answers = [judge(env, visible, note) for env, visible, note in items]
    finally:
        engine.MEMO_LIMIT = old_limit
    for (env, visible, note), answer in zip(items, answers, strict=True):
        assert answer == evaluate(env, policy, workload_type, visible=visible, visibility_note=note)
    # Each answer is the caller's own: changing one leaves the others as they were.
    if len(answers) > 1:
        answers[0]["reason"].append({"details": "changed"})
        assert answers[1]["reason"] == judge(items[1][0], items[1][1], items[1][2])["reason"]


def test_environments_alike_in_what_the_policy_reads_share_one_answer():
    policy = {
        "rules": {"environmentVariables": {"instances": {"canAdd": False}},
                  "imagePullPolicy": {"options": [{"value": "Always"}]}},
        "defaults": {"environmentVariables": {"instances": [{"name": "A"}]}},
    }  # fmt: skip
    judge = compile_policy(policy, "Workspace")
    supported = {"workspace": True}
    spec = {"imagePullPolicy": "Never", "environmentVariables": [{"name": "B", "value": "v"}]}
    answers = [
        judge({"meta": {"id": f"id-{n}", "name": f"e{n}", "workloadSupportedTypes": supported},
               "spec": {**spec, "image": f"image:{n}", "description": str(n),
                        "environmentVariables": [{"name": "B", "value": str(n)}]}})
        for n in range(50)
    ]  # fmt: skip
    assert {r["rule"] for r in answers[0]["reason"]} == {"options", "canAdd"}
    # The image and description are not ruled and a variable's value is not read: one answer,
    # its very reason objects, for all (the variables' reasons are made anew per judgement).
    for answer in answers[1:]:
        assert answer == answers[0]
        assert all(a is b for a, b in zip(answer["reason"], answers[0]["reason"], strict=True))
    other = judge({"meta": {"id": "x", "workloadSupportedTypes": supported},
                   "spec": {**spec, "imagePullPolicy": "Always"}})  # fmt: skip
    assert [r["rule"] for r in other["reason"]] == ["canAdd"]
    # The same values seen from a placement the project cannot see: another answer.
    hidden = judge({"meta": {"id": "y", "workloadSupportedTypes": supported}, "spec": spec}, False)
    assert not hidden["compliance"] and len(hidden["reason"]) == 3


@pytest.mark.parametrize("supported", [{"workspace": True}, {"training": True}, None])
def test_supported_types_are_part_of_what_is_remembered(supported):
    judge = compile_policy({"rules": {}}, "Workspace")
    judge({"meta": {"workloadSupportedTypes": {"workspace": True}}, "spec": {}})
    answer = judge({"meta": {"workloadSupportedTypes": supported}, "spec": {}})
    assert answer["compliance"] is bool(supported and supported.get("workspace"))


def test_an_excluded_variable_is_not_mistaken_for_a_set_one():
    policy = {"rules": {"environmentVariables": {"instances": {"locked": ["A"]}}}}
    judge = compile_policy(policy, "Workspace")
    meta = {"workloadSupportedTypes": {"workspace": True}}
    kept = judge({"meta": meta, "spec": {"environmentVariables": [{"name": "A", "value": "1"}]}})
    excluded = judge(
        {"meta": meta, "spec": {"environmentVariables": [{"name": "A", "exclude": True}]}}
    )
    assert kept["compliance"] and not excluded["compliance"]
    assert excluded["reason"][0]["rule"] == "locked"


def test_projects_whose_policies_differ_only_in_what_no_check_reads_are_judged_together(
    monkeypatch,
):
    judged = []
    real = impact._judged
    monkeypatch.setattr(impact, "_judged", lambda *a: judged.append(a) or real(*a))
    supported = {"workspace": True}
    environments = {
        f"e{n}": {"meta": {"id": f"e{n}", "name": f"e{n}", "workloadSupportedTypes": supported},
                  "spec": {"image": "python:3.12", "environmentVariables": [{"name": "HOME"}]}}
        for n in range(3)
    }  # fmt: skip
    locked = {"environmentVariables": {"instances": {"canAdd": False}}}

    def project(n, home):  # its own value of a variable default: names are all a check reads
        default = {"environmentVariables": {"instances": [{"name": "HF_HOME", "value": home}]}}
        return ({"scope": "project", "projectId": n}, {"defaults": default, "rules": locked})

    rule = ({"scope": "tenant"}, {"rules": {"image": {"options": [{"value": "python:3.11"}]}}})
    cases = [
        ProjectCase(n, f"p{n}", [project(n, f"/data/{n}")], [rule, project(n, f"/data/{n}")],
                    tuple(environments))
        for n in range(4)
    ]  # fmt: skip
    answer = impact.policy_impact(cases, environments, "Workspace")
    assert len(judged) == 3  # each environment once, for the four projects together
    assert answer["judged"] == {"projects": 4, "environments": 3, "pairs": 12}
    assert answer["summary"]["reasonsChanged"] == 12  # HOME breaks canAdd; now the image too
    assert {c["projectId"] for c in answer["changes"]} == {0, 1, 2, 3}
    # A default value the checks do read (a name) makes a project a group of its own.
    cases.append(ProjectCase(9, "p9", [project(9, "x")], [rule, project(9, "x")], ("e0",)))
    cases[-1].before[0][1]["defaults"]["environmentVariables"]["instances"][0]["name"] = "HOME"
    judged.clear()
    answer = impact.policy_impact(cases, environments, "Workspace")
    assert len(judged) == 4
    nine = [c for c in answer["changes"] if c["projectId"] == 9]
    assert nine[0]["before"]["compliance"] and not nine[0]["after"]["compliance"]
