"""An environment deleted while a write waits for its row lock: the write answers 404.

Every write reads the row it changes under a lock (SELECT ... FOR UPDATE). On PostgreSQL a
concurrent DELETE that commits while the lock is awaited leaves that read with no row, which
must read as "not found", on every face. `locked_reads_find_their_rows_deleted` plays that
concurrent DELETE on any database; the last test races real connections on PostgreSQL.
"""

import threading
import time

import pytest
import requests
from django.db import connection, connections, transaction
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

from envadmin.accounts.tokens import issue
from envadmin.inventory.models import Environment
from envadmin.policies.models import Policy

from .conftest import form_data, make_account

URL = "/api/v1/asset/environment"


@pytest.fixture
def locked_reads_find_their_rows_deleted(monkeypatch):
    """Just before a locked read runs, the rows it would lock are deleted, as by a DELETE that
    committed while the read waited for them. Returns the ids deleted so."""
    original = SQLCompiler.execute_sql
    deleted: list[str] = []

    def execute_sql(self, *args, **kwargs):
        if self.query.select_for_update and not getattr(self.query, "_racer", False):
            rows = self.query.model._base_manager.all()
            rows.query = self.query.chain()
            rows.query.select_for_update, rows.query._racer = False, True
            pks = list(rows.values_list("pk", flat=True))
            self.query.model._base_manager.filter(pk__in=pks).delete()
            deleted.extend(str(pk) for pk in pks)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "execute_sql", execute_sql)
    return deleted


def put_environment(admin, **headers):
    env = Environment.objects.get(name="p7-env")
    body = {"meta": {"name": env.name}, "spec": {"image": "python:3.12"}}
    return env.id, admin.put(f"{URL}/{env.id}", body, format="json", headers=headers)


def delete_environment(admin, **headers):
    env = Environment.objects.get(name="p7-env")
    return env.id, admin.delete(f"{URL}/{env.id}", headers=headers)


def a_policy_on_project_7() -> Policy:
    return Policy.objects.create(
        workload_type="workspace", scope="project", scope_key="project:7", name="p7",
        document={"rules": {"image": {"required": True}}}, created_by="t", updated_by="t",
        created_at=timezone.now(), updated_at=timezone.now(),
    )  # fmt: skip


def delete_policy(admin):
    return a_policy_on_project_7().pk, admin.delete(
        "/api/v2/policy/workspaces?scope=project&projectId=7"
    )


API_WRITES = {
    "PUT environment": (put_environment, "Environment {pk} not found."),
    "PUT environment with If-Match": (
        lambda admin: put_environment(admin, **{"If-Match": '"0"'}),
        "Environment {pk} not found.",
    ),
    "DELETE environment": (delete_environment, "Environment {pk} not found."),
    "DELETE environment with If-Match": (
        lambda admin: delete_environment(admin, **{"If-Match": '"0"'}),
        "Environment {pk} not found.",
    ),
    "DELETE policy": (delete_policy, "There is no workspace policy on c1 / research / team-a."),
}


@pytest.mark.parametrize(("write", "message"), API_WRITES.values(), ids=API_WRITES.keys())
def test_an_api_write_on_a_row_deleted_while_locking_is_a_404(
    org, admin, write, message, locked_reads_find_their_rows_deleted
):
    pk, response = write(admin)
    assert locked_reads_find_their_rows_deleted == [str(pk)]  # the write did lock the row
    assert response.status_code == 404, response.content
    assert response.json() == {"code": 404, "message": message.format(pk=pk)}


def test_a_ui_delete_of_a_row_deleted_while_locking_is_a_404_page(
    editor, locked_reads_find_their_rows_deleted
):
    env = Environment.objects.get(name="p7-env")
    response = editor.post(f"/environments/{env.id}/delete", {"version": "0"})
    assert locked_reads_find_their_rows_deleted == [str(env.id)]
    assert response.status_code == 404
    assert f"Environment {env.id} not found." in response.content.decode()


def test_a_ui_save_of_a_row_deleted_while_locking_says_it_is_gone(
    editor, locked_reads_find_their_rows_deleted
):
    env = Environment.objects.get(name="p7-env")
    url = f"/environments/{env.id}/edit"
    response = editor.post(url, form_data(editor.get(url).content.decode()))
    assert locked_reads_find_their_rows_deleted == [str(env.id)]
    assert response.status_code == 200  # the form, holding what was typed, with the reason
    assert f"Environment {env.id} not found." in response.content.decode()


# --- real connections racing on PostgreSQL ----------------------------------------------------


def waiting_for_locks() -> int:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_writes_waiting_on_a_delete_that_commits_answer_404(live_server):
    if connection.vendor != "postgresql":
        pytest.skip("Row locks need PostgreSQL: SQLite has no SELECT ... FOR UPDATE.")
    from envadmin.snapshot import loader as snapshot

    from .conftest import DATA

    snapshot.load(snapshot.read_file(DATA / "small.yaml"))
    env = Environment.objects.get(name="p7-env")
    a_policy_on_project_7()
    account, _ = make_account("System administrator", "tenant")
    token = issue(account)["accessToken"]
    locked, release = threading.Event(), threading.Event()

    def delete_holding_the_locks():
        # Its own connection (Django's are per thread): deletes, then commits when told to.
        try:
            with transaction.atomic():
                Environment.objects.filter(pk=env.pk).delete()
                Policy.objects.filter(scope_key="project:7").delete()
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()

    writes = {
        ("PUT", f"{URL}/{env.id}"): f"Environment {env.id} not found.",
        ("DELETE", f"{URL}/{env.id}"): f"Environment {env.id} not found.",
        ("DELETE", "/api/v2/policy/workspaces?scope=project&projectId=7"): (
            "There is no workspace policy on c1 / research / team-a."
        ),
    }
    answers: dict[tuple, requests.Response] = {}

    def write(method, path):
        answers[method, path] = requests.request(
            method, f"{live_server.url}{path}", timeout=60,
            json={"meta": {"name": env.name}, "spec": {"image": "python:3.12"}},
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip

    deleter = threading.Thread(target=delete_holding_the_locks)
    writers = [threading.Thread(target=write, args=key) for key in writes]
    deleter.start()
    try:
        assert locked.wait(30)
        for writer in writers:
            writer.start()
        deadline = time.monotonic() + 30
        while waiting_for_locks() < len(writers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert waiting_for_locks() == len(writers), "the writes never waited for the row locks"
    finally:
        release.set()
        for thread in (deleter, *writers):
            if thread.ident is not None:  # started
                thread.join(60)
    for key, message in writes.items():
        assert answers[key].status_code == 404, (key, answers[key].text)
        assert answers[key].json() == {"code": 404, "message": message}
