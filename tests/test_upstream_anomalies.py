"""Proxy mode against a control plane whose answers envadmin cannot fully use: paging that
never ends, org units without a usable id. Pages answer quickly with what they have and a
banner naming the upstream path; they never hang."""

import time

import pytest
from django.contrib.auth import get_user_model

from envadmin.backends.org_units import read_all_pages

from .upstream_stub import Reply

CLUSTER = {"uuid": "c-1", "name": "gpu-cluster", "tenantId": 1, "createdAt": "2024-01-01T00:00:00Z"}
DEPARTMENT = {"id": "3", "name": "research", "clusterId": "c-1"}
PROJECT = {"id": "7", "name": "team-a", "parentId": "3", "clusterId": "c-1"}


def run_ai(departments=None, projects=None):
    """A stub Run:ai handler: a token for anyone, the given org-unit pages, no environments."""

    def answer(seen):
        path = seen.path.partition("?")[0]
        if path == "/api/v1/token":
            return Reply(200, {"accessToken": "a.b.c", "expiresIn": 600})
        if path == "/api/v1/clusters":
            return Reply(200, [CLUSTER])
        if path == "/api/v1/org-unit/departments":
            return Reply(200, (departments or (lambda s: {"departments": [DEPARTMENT]}))(seen))
        if path == "/api/v1/org-unit/projects":
            return Reply(200, (projects or (lambda s: {"projects": [PROJECT]}))(seen))
        return Reply(200, {"entries": []})

    return answer


@pytest.fixture
def ui(db, settings, proxy, stub, client):
    settings.RUNAI_CLIENT_ID, settings.RUNAI_CLIENT_SECRET = "sa", "secret"
    client.force_login(get_user_model().objects.create_user("local", password="x"))
    return client


def offset_of(seen) -> int:
    query = dict(part.split("=", 1) for part in seen.path.partition("?")[2].split("&") if part)
    return int(query.get("offset", 0))


def test_a_next_that_never_advances_stops_at_once_with_a_banner(ui, stub):
    stub.handler = run_ai(departments=lambda seen: {"departments": [DEPARTMENT], "next": 1})
    started = time.monotonic()
    page = ui.get("/environments/")
    assert time.monotonic() - started < 5
    body = page.content.decode()
    assert page.status_code == 200
    assert "Run:ai sent answers envadmin could not fully use" in body
    assert "GET /api/v1/org-unit/departments: &#x27;next&#x27; is 1 after offset 1" in body
    asked = [seen for seen in stub.seen("GET") if "/org-unit/departments" in seen.path]
    assert [offset_of(seen) for seen in asked] == [0, 1]
    assert "team-a" in ui.get("/environments/new").content.decode()  # what was read is used


def test_a_list_that_always_has_one_more_page_stops_at_the_page_limit(ui, stub, settings):
    settings.RUNAI_MAX_PAGES = 4

    def endless(seen):
        offset = offset_of(seen)
        return {"projects": [{**PROJECT, "id": str(7 + offset)}], "next": offset + 1}

    stub.handler = run_ai(projects=endless)
    body = ui.get("/environments/new").content.decode()
    assert "GET /api/v1/org-unit/projects: more than 4 pages" in body
    asked = [seen for seen in stub.seen("GET") if "/org-unit/projects" in seen.path]
    assert len(asked) == 4
    assert "gpu-cluster / research / team-a" in body  # the pages read before the limit


def test_org_units_without_a_usable_id_are_left_out_and_named(ui, stub):
    odd = {**PROJECT, "id": "not-a-number", "name": "odd"}
    stub.handler = run_ai(projects=lambda seen: {"projects": [PROJECT, odd]})
    page = ui.get("/environments/new")
    body = page.content.decode()
    assert page.status_code == 200
    assert "GET /api/v1/org-unit/projects: entries whose &#x27;id&#x27; is missing" in body
    assert "team-a" in body and ">odd<" not in body


class Pages:
    """A list method answering scripted pages, recording the offsets asked for."""

    def __init__(self, *pages):
        self.pages, self.offsets = list(pages), []

    def __call__(self, caller, params):
        self.offsets.append(params["offset"])
        return self.pages.pop(0) if self.pages else {"units": []}


FIRST = {"units": [{"id": 1}], "next": 1}


@pytest.mark.parametrize(
    "pages, offsets, problem",
    [
        (({"units": [{"id": 1}], "next": 2}, {"units": [{"id": 2}]}), [0, 2], ""),
        (({"units": [{"id": 1}], "next": 0},), [0], "'next' is 0 after offset 0"),
        (({"units": [{"id": 1}], "next": 5}, {"units": [{"id": 2}], "next": 3}), [0, 5],
         "'next' is 3 after offset 5"),
        (({"units": [{"id": 1}], "next": "2"},), [0], "'next' is '2'"),
        (({"units": [{"id": 1}], "next": True},), [0], "'next' is True"),
        ((FIRST, {"units": [], "next": 9}), [0, 1], "an empty page at offset 1"),
        ((FIRST, {"units": "many"}), [0, 1], "no list 'units'"),
        (({"units": [{"id": 1}, 4]},), [0], "not objects"),
        ((FIRST, ["not", "a", "page"]), [0, 1], "no list 'units'"),
    ],
)  # fmt: skip
def test_paging_follows_next_only_while_it_advances(settings, pages, offsets, problem):
    settings.RUNAI_MAX_PAGES, settings.RUNAI_PAGING_SECONDS = 10, 5
    method = Pages(*pages)
    result = read_all_pages(method, None, "units")
    assert method.offsets == offsets
    assert result.items[0] == {"id": 1}
    assert (problem in result.problem) if problem else result.problem == ""


def test_paging_stops_when_its_time_is_up(settings):
    settings.RUNAI_PAGING_SECONDS = 0.05

    def slow(caller, params):
        time.sleep(0.03)
        return {"units": [{"id": params["offset"]}], "next": params["offset"] + 1}

    result = read_all_pages(slow, None, "units")
    assert "not finished within 0.05 s" in result.problem
    assert 1 <= len(result.items) < 10


ODD_ENTRIES = [
    {"meta": {"id": "e-1", "name": "fine", "scope": "tenant"}, "spec": {"image": "python:3.12"}},
    {"meta": {"id": "e-2", "name": 42, "scope": "galaxy", "projectId": "x"}, "spec": None},
    {"meta": {"id": "e-3", "name": "no-spec", "scope": "project", "projectId": 7}},
    {"meta": {"id": "e-4", "name": "odd-lists", "scope": "tenant"},
     "spec": {"environmentVariables": [None, 3], "connections": "none", "probes": 5}},
]  # fmt: skip


def odd_run_ai(seen):
    bare = seen.path.partition("?")[0]
    if bare.startswith("/api/v1/asset/environment/"):
        wanted = bare.rpartition("/")[2]
        return Reply(200, next(e for e in ODD_ENTRIES if e["meta"]["id"] == wanted))
    if bare == "/api/v1/asset/environment":
        return Reply(200, {"entries": ODD_ENTRIES})
    return run_ai()(seen)


@pytest.mark.parametrize("path", ["/environments/", "/compliance", "/org"])
def test_list_pages_leave_out_unusable_environments_and_name_the_field(ui, stub, path):
    stub.handler = odd_run_ai
    response = ui.get(path)
    body = response.content.decode()
    assert response.status_code == 200
    assert "GET /api/v1/asset/environment: entries whose &#x27;meta.name&#x27; is missing" in body
    if path != "/org":
        assert "fine" in body and "odd-lists" not in body and "no-spec" in body


@pytest.mark.parametrize(
    "path, status",
    [("/environments/e-4/edit", 502), ("/environments/e-2", 200), ("/environments/e-2/edit", 200),
     ("/environments/e-3/copy", 200)],
)  # fmt: skip
def test_a_single_unusable_environment_is_a_page_naming_run_ai_never_a_500(ui, stub, path, status):
    stub.handler = odd_run_ai
    response = ui.get(path)
    assert response.status_code == status
    if status == 502:
        assert "Run:ai's answer could not be used" in response.content.decode()
