"""A real server loses its database and gets it back: 503s saying so while it is away, then the
same browser session and token are served again, by the same process.

The server (gunicorn, two workers, connections kept for a minute) reaches PostgreSQL through a
TCP relay on loopback; closing the relay drops the connections the workers hold and refuses new
ones, as a database restart or a network cut does. The shared PostgreSQL server itself is never
touched. SQLite has no connection to cut: the module skips there.
"""

import secrets
import socket
import threading

import pytest
import requests
from django.conf import global_settings
from django.contrib.auth.models import User
from django.db import connection

from envadmin.accounts.models import AccessRule, SubjectType

from ..conftest import DATA, make_account
from .conftest import Server, free_ports, server_env, start, stop, wait_until_up
from .test_5_two_instances import database_url, sign_in

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="cutting a server off its database needs a database server: "
        "set DATABASE_URL=postgres://...",
    ),
]

PASSWORD = "outage-pass-123"
ROUNDS = 4  # enough for both workers to meet the cut and the return


class Relay:
    """Forwards a loopback port to the database server while open; closed, it refuses
    connections and has dropped every connection it carried."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = free_ports(1)[0]
        self._listener: socket.socket | None = None
        self._carried: set[socket.socket] = set()
        self._lock = threading.Lock()

    def open(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        listener.settimeout(0.1)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def close(self):
        listener, self._listener = self._listener, None
        listener.close()
        with self._lock:
            carried, self._carried = self._carried, set()
        for end in carried:
            _close(end)

    def _accept(self, listener):
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self._carried |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(source, sink), daemon=True).start()


def _pipe(source: socket.socket, sink: socket.socket):
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        _close(source)
        _close(sink)


def _close(end: socket.socket):
    try:
        end.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    end.close()


@pytest.fixture
def behind_relay(transactional_db, tmp_path, settings):
    """(server, relay, API token): a gunicorn on the test database through an open relay."""
    from envadmin.snapshot import loader as snapshot

    # The user's password hashed as the server checks it, not with the tests' fast MD5.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    snapshot.load(snapshot.read_file(DATA / "small.yaml"))
    User.objects.create_superuser("outage", password=PASSWORD)
    AccessRule.objects.create(subject_type=SubjectType.USER, subject="outage",
                              role="System administrator", scope_key="tenant")  # fmt: skip
    account, secret = make_account("System administrator", "tenant")
    database = connection.settings_dict
    relay = Relay((database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432)))
    relay.open()
    url = database_url().replace(f":{database['PORT']}/", f":{relay.port}/")
    key = secrets.token_urlsafe(50)
    server = Server("cut", f"http://127.0.0.1:{free_ports(1)[0]}", tmp_path / "cut.log",
                    tmp_path, key)  # fmt: skip
    try:
        start(server, server_env(url, key, DATABASE_CONN_MAX_AGE="60"))
        wait_until_up(server)
        grant = {"grantType": "client_credentials", "clientID": account.client_id,
                 "clientSecret": secret}  # fmt: skip
        answer = requests.post(f"{server.url}/api/v1/token", json=grant, timeout=30)
        assert answer.status_code == 200, answer.text
        yield server, relay, answer.json()["accessToken"]
    finally:
        stop(server)  # before transactional_db empties the tables under it
        if relay._listener is not None:
            relay.close()


def test_a_server_answers_503_without_its_database_and_recovers_without_a_restart(behind_relay):
    server, relay, token = behind_relay
    browser = requests.Session()
    assert sign_in(browser, server, "outage", PASSWORD).status_code == 302

    def faces() -> dict[str, requests.Response]:
        get = {"allow_redirects": False, "timeout": 30}
        return {
            "list page": browser.get(f"{server.url}/environments/", **get),
            "htmx table": browser.get(
                f"{server.url}/environments/?sort=-name", headers={"HX-Request": "true"}, **get
            ),
            "admin": browser.get(f"{server.url}/admin/", **get),
            "sign-in page": requests.get(f"{server.url}/login", **get),
            "api": requests.get(
                f"{server.url}/api/v1/asset/environment",
                headers={"Authorization": f"Bearer {token}"},
                **get,
            ),  # fmt: skip
        }

    def log_tail() -> str:
        return server.log.read_text(errors="replace")[-3000:]

    for _ in range(ROUNDS):  # both workers hold a connection through the relay
        assert {k: r.status_code for k, r in faces().items()} == dict.fromkeys(faces(), 200)
    pid = server.process.pid

    relay.close()
    for _ in range(ROUNDS):
        for face, answer in faces().items():
            assert answer.status_code == 503, (face, answer.status_code, log_tail())
            assert answer.headers["Retry-After"] == "5"
            if face == "api":
                assert answer.json()["details"] == "The database is unavailable."
            else:
                assert "The database is unreachable" in answer.text, face

    relay.open()
    for _ in range(ROUNDS):
        statuses = {face: answer.status_code for face, answer in faces().items()}
        assert statuses == dict.fromkeys(statuses, 200), log_tail()
    assert server.process.poll() is None and server.process.pid == pid
