"""The list's optional "Status" column: Run:ai's asset sync status (statusInfo), asked for only
when the column is shown, in the page and the CSV, in local and proxy mode (issue 18)."""

import csv
import io

from django.test import Client

from .upstream_stub import Reply

LIST = "/environments/"
FAILED = {"status": "Failed", "message": "cluster c1 unreachable"}


def choose(client, *columns):
    assert client.post("/environments/columns", {"columns": columns}).status_code == 302


def csv_rows(client) -> list[dict]:
    answer = client.get(LIST, {"format": "csv"})
    return list(csv.DictReader(io.StringIO(answer.content.decode())))


def test_local_mode_shows_no_status(editor):
    assert "sync-status" not in editor.get(LIST).content.decode()  # not a default column
    choose(editor, "name", "status")
    html = editor.get(LIST).content.decode()
    assert '<td data-label="Status" class="sync-status">No status</td>' in html
    rows = csv_rows(editor)
    assert rows and {row["Status"] for row in rows} == {"No status"}


def run_ai(seen):
    path, _, query = seen.path.partition("?")
    if path == "/api/v1/token":
        return Reply(200, {"accessToken": "t", "refreshToken": "r", "expiresIn": 600})
    if path == "/api/v1/asset/environment":
        meta = {"id": "e1", "name": "env-1", "scope": "tenant"}
        entry = {"meta": meta, "spec": {"image": "python:3.11"}}
        if "statusInfo=true" in query:  # as Run:ai: the status only when asked for
            entry["status"] = FAILED
        return Reply(200, {"entries": [entry]})
    org = {"/api/v1/clusters": [], "/api/v1/org-unit/departments": {"departments": []},
           "/api/v1/org-unit/projects": {"projects": []}}  # fmt: skip
    return Reply(200, org.get(path, {"create": {}, "read": {}, "update": {}, "delete": {}}))


def listed_with_status(stub) -> list[bool]:
    asked = [s.path for s in stub.seen("GET") if s.path.startswith("/api/v1/asset/environment")]
    return ["statusInfo=true" in path for path in asked]


def test_proxy_mode_asks_for_the_status_only_when_it_is_shown(db, proxy, stub):
    stub.handler = run_ai
    client = Client()
    assert client.post("/login", {"username": "alice", "password": "pw"}).status_code == 302
    assert "sync-status" not in client.get(LIST).content.decode()
    assert listed_with_status(stub) == [False]
    choose(client, "name", "status")
    html = client.get(LIST).content.decode()
    assert 'class="sync-status" title="cluster c1 unreachable">Failed</td>' in html
    assert [row["Status"] for row in csv_rows(client)] == ["Failed"]
    assert listed_with_status(stub) == [False, True, True]
