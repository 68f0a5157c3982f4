"""Proxy mode's reading of Run:ai's permitted-scopes, against a stub Run:ai: the ancestor rule,
the per-user cache, one call per page, and what is offered without an answer (issue 18)."""

import pytest
from django.test import Client

from envadmin.backends.runai_permissions import covers

from .upstream_stub import Reply

PERMITTED = "/api/v1/authorization/permitted-scopes"
C1 = "3f1c2a9e-5b7d-4c1e-9a2f-0d6b8e4c7a11"
ORG = {
    "/api/v1/clusters": [{"uuid": C1, "name": "c1"}],
    "/api/v1/org-unit/departments": {"departments": [{"id": "d1", "name": "dep", "clusterId": C1}]},
    "/api/v1/org-unit/projects": {"projects": [
        {"id": 7, "name": "team-a", "parentId": "d1", "clusterId": C1},
        {"id": 8, "name": "team-b", "parentId": "d1", "clusterId": C1},
    ]},
}  # fmt: skip
NOTHING = {"system": False, "tenants": [], "clusters": [], "departments": [], "projects": []}


def environment(number: int, project: int) -> dict:
    meta = {"id": f"e{number}", "name": f"env-{number}", "scope": "project", "projectId": project}
    return {"meta": meta, "spec": {"image": "python:3.11"}}


# Fifty rows: thirty in project 7, twenty in project 8.
ENTRIES = [environment(n, 7 if n < 30 else 8) for n in range(50)]


def actions(permitted: dict) -> dict:
    return {"create": permitted, "read": permitted, "update": permitted, "delete": permitted}


# Each user's own rights, told apart by the token Run:ai gave them.
RIGHTS = {
    "Bearer for-alice": actions({**NOTHING, "projects": ["7"]}),
    "Bearer for-bob": actions({**NOTHING, "tenants": ["1"]}),
}


def run_ai(permitted_scopes=None):
    """A stub handler: tokens for alice and bob, the org units, the list, permitted-scopes as
    `permitted_scopes(seen)` answers (default: the caller's RIGHTS)."""

    def handle(seen):
        path = seen.path.partition("?")[0]
        if path == "/api/v1/token":
            name = seen.json()["username"]
            return Reply(200, {"accessToken": f"for-{name}", "refreshToken": "r", "expiresIn": 600})
        if path == PERMITTED:
            if permitted_scopes is not None:
                return permitted_scopes(seen)
            return Reply(200, RIGHTS[seen.headers["Authorization"]])
        if path == "/api/v1/asset/environment":
            return Reply(200, {"entries": ENTRIES})
        return Reply(200, ORG.get(path, {}))

    return handle


def signed_in(name: str) -> Client:
    client = Client()
    assert client.post("/login", {"username": name, "password": "pw"}).status_code == 302
    return client


def offered(client) -> tuple[set[str], set[str], str]:
    """(ids with an Edit link, ids with a Delete link, the page) of the list's page of 50."""
    html = client.get("/environments/", {"per_page": 50}).content.decode()
    edit = {f"e{n}" for n in range(50) if f"/environments/e{n}/edit" in html}
    delete = {f"e{n}" for n in range(50) if f"/environments/e{n}/delete" in html}
    return edit, delete, html


def permitted_calls(stub) -> int:
    return len([seen for seen in stub.seen("POST") if seen.path == PERMITTED])


@pytest.mark.parametrize(
    "permitted, scope, chain, expected",
    [
        ({"projects": ["7"]}, "project", [("projects", 7), ("departments", "d1")], True),
        ({"departments": ["d1"]}, "project", [("projects", 7), ("departments", "d1")], True),
        ({"clusters": [C1.upper()]}, "department", [("departments", "d1"), ("clusters", C1)], True),
        ({"projects": ["8"]}, "project", [("projects", 7), ("departments", "d1")], False),
        # A permission on a project reaches nothing above it.
        ({"projects": ["7"]}, "department", [("departments", "d1"), ("clusters", C1)], False),
        ({"departments": ["d1"]}, "tenant", [], False),
        ({"tenants": ["1"]}, "tenant", [], True),
        ({"tenants": ["1"]}, "cluster", [("clusters", C1)], True),
        ({"tenants": ["1"]}, "system", [], False),
        ({"system": True}, "system", [], True),
        ({}, "project", [("projects", 7)], False),
        (None, "project", [("projects", 7)], False),
    ],
)
def test_a_permission_covers_its_node_and_whatever_is_under_it(permitted, scope, chain, expected):
    assert covers(permitted, scope, chain) is expected


def test_a_page_of_fifty_asks_once_and_a_second_load_not_at_all(db, proxy, stub):
    stub.handler = run_ai()
    alice = signed_in("alice")
    edit, delete, html = offered(alice)
    in_seven = {f"e{n}" for n in range(30)}
    assert edit == delete == in_seven
    assert permitted_calls(stub) == 1
    assert stub.seen("POST")[-1].json() == {"resourceType": "environments"}
    assert "New environment" in html
    offered(alice)
    assert permitted_calls(stub) == 1  # cached for RUNAI_CACHE_SECONDS


def test_each_user_gets_their_own_answer(db, proxy, stub):
    stub.handler = run_ai()
    assert offered(signed_in("alice"))[0] == {f"e{n}" for n in range(30)}
    bob_edit, _, _ = offered(signed_in("bob"))
    assert bob_edit == {f"e{n}" for n in range(50)}
    assert permitted_calls(stub) == 2
    asked_with = [s.headers["Authorization"] for s in stub.seen("POST") if s.path == PERMITTED]
    assert asked_with == ["Bearer for-alice", "Bearer for-bob"]


def test_the_cache_expires(db, proxy, stub, settings):
    settings.RUNAI_CACHE_SECONDS = 0  # Django's cache keeps nothing for 0 seconds
    stub.handler = run_ai()
    alice = signed_in("alice")
    offered(alice)
    offered(alice)
    assert permitted_calls(stub) == 2


def test_creatable_scopes_are_the_permitted_nodes_and_those_under_them(db, proxy, stub):
    rights = {**actions(NOTHING), "create": {**NOTHING, "departments": ["d1"]}}
    stub.handler = run_ai(lambda seen: Reply(200, rights))
    form = signed_in("alice").get("/environments/new").content.decode()
    assert 'value="department:d1"' in form
    assert 'value="project:7"' in form and 'value="project:8"' in form
    assert 'value="tenant"' not in form and f'value="cluster:{C1}"' not in form


@pytest.mark.parametrize(
    "reply",
    [
        Reply(404, {"code": 404, "message": "Not found"}),  # a Run:ai without the endpoint
        Reply(403, {"code": 403, "message": "Forbidden"}),
        Reply(500, {"code": 500, "message": "boom"}),
        Reply(200, {"unexpected": True}),
    ],
)
def test_without_an_answer_everything_is_offered_and_run_ai_decides(db, proxy, stub, reply):
    stub.handler = run_ai(lambda seen: reply)
    alice = signed_in("alice")
    edit, delete, html = offered(alice)
    assert edit == delete == {f"e{n}" for n in range(50)}
    assert "New environment" in html
    form = alice.get("/environments/new").content.decode()
    assert 'value="tenant"' in form and 'value="project:8"' in form
    # Asked once for the page of 50; a refusal is remembered as an answer would be, a
    # failing Run:ai is asked again on the next page.
    assert permitted_calls(stub) == (2 if reply.status >= 500 else 1)
