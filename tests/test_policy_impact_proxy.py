"""Policy impact in proxy mode, against a stub Run:ai: built from Run:ai's reads (the policy of
each node of the branch, the environment list of each project), judged by envadmin's engine;
Run:ai judges the policy and the caller's right to write it through a validateOnly PUT."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from envadmin.backends.runai import MAX_IMPACT_PROJECTS

from .upstream_stub import Reply

URL = "/api/envadmin/v1/policy-impact"
C1 = "3f1c2a9e-5b7d-4c1e-9a2f-0d6b8e4c7a11"
PROJECTS = [
    {"id": 7, "name": "team-a", "parentId": "d1", "clusterId": C1},
    {"id": 8, "name": "team-b", "parentId": "d1", "clusterId": C1},
    {"id": 9, "name": "team-c", "parentId": "d2", "clusterId": C1},
]
SUPPORTS = {"workspace": True}


def environment(number, image, scope="project", **ids):
    meta = {"id": f"00000000-0000-0000-0000-00000000000{number}", "name": f"env-{number}",
            "scope": scope, "workloadSupportedTypes": SUPPORTS, **ids}  # fmt: skip
    return {"meta": meta, "spec": {"image": image}}


TENANT_ENV = environment(1, "jupyter", "tenant")
VISIBLE = {
    "7": [TENANT_ENV, environment(2, "python:3.11", projectId=7)],
    "8": [TENANT_ENV, environment(3, "python:3.12", projectId=8)],
    "9": [TENANT_ENV, environment(4, "python:3.12", projectId=9)],
}
# The tenant already rules the pull policy; d1 has a policy of its own that allows any image.
POLICIES = {
    ("tenant", ""): {
        "rules": {"imagePullPolicy": {"required": True}},
        "defaults": {"imagePullPolicy": "Always"},
    },  # fmt: skip
    ("department", "d1"): {"rules": {"workingDir": {"canEdit": True}}},
}


def run_ai(seen):
    parts = urlsplit(seen.path)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    if seen.method == "PUT":
        return Reply(200, {})
    if parts.path == "/api/v1/org-unit/projects":
        return Reply(200, {"projects": PROJECTS})
    if parts.path == "/api/v2/policy/workspaces":
        scope = query["scope"]
        node = query.get({"cluster": "clusterId", "department": "departmentId",
                          "project": "projectId"}.get(scope, ""), "")  # fmt: skip
        return Reply(200, {"policy": POLICIES.get((scope, node)), "effective": {}})
    if parts.path == "/api/v1/asset/environment":
        return Reply(200, {"entries": VISIBLE[query["projectId"]]})
    return Reply(404, {"code": 404, "message": f"no {parts.path}"})


def ask(proxy, policy, meta=None):
    meta = meta or {"name": "d1", "scope": "department", "departmentId": "d1"}
    body = {"workloadType": "Workspace", "policy": policy, "meta": meta}
    return proxy.post(URL, data=json.dumps(body), content_type="application/json")


def test_the_impact_is_judged_from_run_ais_policies_and_lists(db, proxy, stub):
    stub.handler = run_ai
    rule = {"rules": {"image": {"options": [{"value": "python:3.11"}]}}}
    response = ask(proxy, rule)
    assert response.status_code == 200, response.content
    answer = response.json()
    pairs = {(c["projectId"], c["assetName"]) for c in answer["changes"]}
    assert pairs == {(7, "env-1"), (8, "env-1"), (8, "env-3")}  # d1's projects only
    assert answer["summary"]["becomeNonCompliant"] == 3
    assert answer["judged"] == {"projects": 2, "environments": 3, "pairs": 4}
    # The tenant's default pull policy still counts: its rule gave no reason before or after.
    assert all(len(c["after"]["reason"]) == 1 for c in answer["changes"])
    # Run:ai judged the very body a PUT would send, without saving it.
    put = stub.seen("PUT")
    assert len(put) == 1 and "validateOnly=true" in put[0].path
    assert put[0].json()["policy"] == rule
    lists = [s.path for s in stub.seen("GET") if s.path.startswith("/api/v1/asset/environment")]
    assert sorted(lists) == [f"/api/v1/asset/environment?projectId={p}" for p in (7, 8)]


def test_deleting_the_node_policy_is_asked_as_rewriting_it(db, proxy, stub):
    stub.handler = run_ai
    POLICIES[("department", "d1")] = {"rules": {"image": {"options": [{"value": "jupyter"}]}}}
    try:
        answer = ask(proxy, None).json()
    finally:
        POLICIES[("department", "d1")] = {"rules": {"workingDir": {"canEdit": True}}}
    became = {(c["projectId"], c["assetName"]) for c in answer["changes"]}
    assert became == {(7, "env-2"), (8, "env-3")}
    assert answer["summary"]["becomeCompliant"] == 2
    assert stub.seen("PUT")[0].json()["policy"]["rules"]["image"]


@pytest.mark.parametrize(
    "reply, status",
    [
        (Reply(403, {"code": 403, "message": "Permission denied"}), 403),
        (Reply(400, {"code": 400, "message": "policy.rules: bad"}), 400),
        (Reply(500, {"code": 500, "message": "boom"}), 502),
    ],
)
def test_run_ais_refusal_of_the_validate_only_put_is_the_answer(db, proxy, stub, reply, status):
    def refuse(seen):
        return reply if seen.method == "PUT" else run_ai(seen)

    stub.handler = refuse
    response = ask(proxy, {"rules": {}})
    assert response.status_code == status
    assert response.json()["code"] == status
    assert not [s for s in stub.seen("GET") if "asset/environment" in s.path]


def test_an_invalid_policy_is_refused_before_run_ai_is_asked(db, proxy, stub):
    stub.handler = run_ai
    response = ask(proxy, {"rules": {"security": {"runAsUid": {"min": 5, "max": 1}}}})
    assert (
        response.status_code == 400
        and "policy.rules.security.runAsUid.min" in response.json()["message"]
    )
    assert stub.seen() == []


def test_too_many_projects_under_the_node_is_a_400_not_a_storm_of_calls(db, proxy, stub):
    many = [{"id": n, "name": f"p{n}", "parentId": "d1", "clusterId": C1}
            for n in range(1, MAX_IMPACT_PROJECTS + 2)]  # fmt: skip

    def crowded(seen):
        if seen.path.startswith("/api/v1/org-unit/projects"):
            return Reply(200, {"projects": many})
        return run_ai(seen)

    stub.handler = crowded
    response = ask(proxy, {"rules": {}}, meta={"name": "t", "scope": "tenant"})
    assert response.status_code == 400 and "lower node" in response.json()["message"]
    assert not [s for s in stub.seen("GET") if "asset/environment" in s.path]


def test_odd_answers_from_run_ai_are_left_out_not_a_500(db, proxy, stub):
    def odd(seen):
        path = urlsplit(seen.path).path
        if path == "/api/v1/org-unit/projects":
            return Reply(200, {"projects": [*PROJECTS, {"id": "x"}, "nonsense"]})
        if path == "/api/v1/asset/environment":
            return Reply(200, {"entries": [*VISIBLE["7"], {"meta": None}, 3]})
        if path == "/api/v2/policy/workspaces" and seen.method == "GET":
            return Reply(200, {"policy": "not a policy"})
        return run_ai(seen)

    stub.handler = odd
    response = ask(proxy, {"rules": {"image": {"options": [{"value": "python:3.11"}]}}})
    assert response.status_code == 200, response.content
    assert response.json()["judged"]["projects"] == 2


def test_the_projects_under_the_node_are_found_on_any_page(db, proxy, stub):
    others = [{"id": n, "name": f"p{n}", "parentId": "d9", "clusterId": C1} for n in range(20, 520)]

    def paged(seen):
        parts = urlsplit(seen.path)
        if parts.path == "/api/v1/org-unit/projects":
            offset = int(parse_qs(parts.query).get("offset", ["0"])[0])
            if offset == 0:
                return Reply(200, {"projects": others, "next": 500})
            return Reply(200, {"projects": PROJECTS})
        return run_ai(seen)

    stub.handler = paged
    answer = ask(proxy, {"rules": {"image": {"options": [{"value": "python:3.11"}]}}}).json()
    assert answer["judged"]["projects"] == 2
