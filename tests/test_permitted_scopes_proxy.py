"""Proxy mode offers only what Run:ai permits (issue 18): two real processes. "Run:ai" is a
local-mode envadmin served by gunicorn on its own SQLite file with the demo data; the envadmin
under test runs here in proxy mode against it, and its users sign in with their demo passwords
(Run:ai's password grant). What each user may change is worked out independently of
permitted-scopes: from the placements of the environments Run:ai lists to them."""

import re
import secrets

import pytest
import requests

from .e2e.conftest import (
    DEMO,
    DEMO_PASSWORD,
    Server,
    free_ports,
    manage,
    server_env,
    start,
    stop,
    wait_until_up,
)

ENVIRONMENTS = "/api/v1/asset/environment"
ROW = re.compile(r'<tr data-name="[^"]*">(.*?)</tr>', re.S)
DETAIL = re.compile(r'href="/environments/([^"/?]+)[?"]')


@pytest.fixture(scope="module")
def runai(tmp_path_factory) -> Server:
    """A local-mode envadmin with the demo data, standing in for Run:ai."""
    tmp = tmp_path_factory.mktemp("runai")
    server = Server("runai", f"http://127.0.0.1:{free_ports(1)[0]}", tmp / "runai.log",
                    tmp / "runai.sqlite3", secrets.token_urlsafe(50))  # fmt: skip
    env = server_env(server.database, server.secret_key)
    manage(env, "migrate", "-v", "0")
    manage(env, "load_snapshot", str(DEMO))
    try:
        start(server, env)
        wait_until_up(server)
        yield server
    finally:
        stop(server)


@pytest.fixture
def sign_in(db, settings, client, runai):
    """Signs `client` in to the proxy-mode envadmin as a demo user; returns the user's own
    token at Run:ai, to list what Run:ai shows them."""
    settings.ENVADMIN_BACKEND = "runai"
    settings.RUNAI_URL = runai.url
    settings.RUNAI_CLIENT_ID = settings.RUNAI_CLIENT_SECRET = ""

    def as_user(username: str) -> str:
        answer = client.post("/login", {"username": username, "password": DEMO_PASSWORD})
        assert answer.status_code == 302, answer.content
        body = {"grantType": "password", "username": username, "password": DEMO_PASSWORD}
        token = requests.post(f"{runai.url}/api/v1/token", json=body, timeout=60)
        return token.json()["accessToken"]

    return as_user


def listed_by_runai(runai: Server, token: str) -> list[dict]:
    answer = requests.get(
        runai.url + ENVIRONMENTS, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )
    assert answer.status_code == 200, answer.text
    return [entry["meta"] for entry in answer.json()["entries"]]


def list_page(client) -> tuple[str, dict[str, set[str]]]:
    """(the page, {environment id: the actions its row offers}) of the web list."""
    page = client.get("/environments/", {"per_page": 100, "lifecycle": ""})
    assert page.status_code == 200
    html = page.content.decode()
    actions = {}
    for row in ROW.findall(html):
        asset_id = DETAIL.search(row).group(1)
        offered = {"edit"} if f"/environments/{asset_id}/edit" in row else set()
        actions[asset_id] = offered | ({"delete"} if f"{asset_id}/delete" in row else set())
    return html, actions


def placements(client) -> set[str]:
    """The scope keys the create form offers."""
    form = client.get("/environments/new")
    assert form.status_code == 200
    select = re.search(r'<select name="placement".*?</select>', form.content.decode(), re.S)
    return set(re.findall(r'<option value="([^"]+)"', select.group(0)))


def test_a_viewer_is_offered_no_change(sign_in, client, runai):
    metas = listed_by_runai(runai, sign_in("viewer"))
    html, actions = list_page(client)
    assert set(actions) == {meta["id"] for meta in metas} and actions
    assert all(offered == set() for offered in actions.values())
    assert "New environment" not in html
    some = next(iter(actions))
    detail = client.get(f"/environments/{some}").content.decode()
    assert f"/environments/{some}/edit" not in detail
    assert f"/environments/{some}/delete" not in detail


def test_an_l1_researcher_creates_and_changes_only_in_their_project(sign_in, client, runai):
    metas = listed_by_runai(runai, sign_in("researcher"))  # L1 researcher on project 1
    own = {m["id"] for m in metas if m["scope"] == "project" and str(m.get("projectId")) == "1"}
    html, actions = list_page(client)
    assert set(actions) == {meta["id"] for meta in metas} and own and set(actions) - own
    assert {i for i, offered in actions.items() if offered == {"edit", "delete"}} == own
    assert all(offered == set() for i, offered in actions.items() if i not in own)
    assert "New environment" in html
    assert placements(client) == {"project:1"}
    mine, other = sorted(own)[0], sorted(set(actions) - own)[0]
    for asset_id, editable in ((mine, True), (other, False)):
        detail = client.get(f"/environments/{asset_id}").content.decode()
        assert (f"/environments/{asset_id}/edit" in detail) is editable


def test_an_administrator_is_offered_everything(sign_in, client, runai):
    metas = listed_by_runai(runai, sign_in("admin"))
    html, actions = list_page(client)
    assert set(actions) == {meta["id"] for meta in metas}
    assert all(offered == {"edit", "delete"} for offered in actions.values())
    offered = placements(client)
    assert "tenant" in offered and "project:1" in offered and len(offered) > 5
