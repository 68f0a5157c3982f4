"""End to end (issue 5): two real gunicorn servers on loopback, B proxying to A.

A runs in local mode on its own SQLite file with the demo snapshot and a tenant service account;
B runs in proxy mode (ENVADMIN_BACKEND=runai, RUNAI_URL=A) on its own SQLite file, which holds
only B's sessions and users. Tests talk to B over real HTTP and check the data on A directly.
Both servers log at DEBUG into files in the session's tmp dir; the last module greps them for
every secret and token the tests met (`Servers.seen` plus the tokens B keeps in its sessions).

SQLite files are used for A and B even when the test run itself uses PostgreSQL: the servers are
separate processes with separate databases, independent of the test database.
"""

import contextlib
import json
import os
import secrets
import socket
import sqlite3
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from django.core import signing
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from tests.contract import spec

from ..conftest import watch_for_failures

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
PYTHON = BIN / "python"
GUNICORN = BIN / "gunicorn"
DEMO = ROOT / "envadmin" / "demo" / "demo.yaml"
DEMO_USER = "admin"
DEMO_PASSWORD = "envadmin-demo"
ENVIRONMENTS = "/api/v1/asset/environment"
STARTUP_SECONDS = 30
# Settings of the test run that must not leak into the servers: each gets its own below.
INHERITED_PREFIXES_DROPPED = ("DATABASE_", "RUNAI_", "ENVADMIN_", "DJANGO_")


@dataclass
class Server:
    name: str
    url: str
    log: Path
    database: Path
    secret_key: str = field(repr=False)
    process: subprocess.Popen | None = field(default=None, repr=False)


@dataclass
class Servers:
    a: Server
    b: Server
    client_id: str
    client_secret: str = field(repr=False)
    # Every access and refresh token the tests met; the log check greps for each.
    seen: set[str] = field(default_factory=set, repr=False)

    def remember(self, *tokens):
        self.seen.update(token for token in tokens if token)

    def session_tokens(self) -> set[str]:
        """The Run:ai tokens B keeps server-side in its sessions (UI users' password grants)."""
        found = set()
        with contextlib.closing(sqlite3.connect(self.b.database)) as db:
            rows = db.execute("SELECT session_data FROM django_session").fetchall()
        for (data,) in rows:
            session = signing.loads(
                data,
                key=self.b.secret_key,
                salt="django.contrib.sessions.SessionStore",
                serializer=signing.JSONSerializer,
            )
            tokens = session.get("runai_tokens") or {}
            found.update(t for t in (tokens.get("access"), tokens.get("refresh")) if t)
        return found


def free_ports(count: int) -> list[int]:
    """Ports the OS hands out for port 0, all bound at once so that they differ."""
    with contextlib.ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]


def server_env(database: Path | str, secret_key: str, **extra) -> dict:
    """A server's environment; `database` is a SQLite file or a database URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(INHERITED_PREFIXES_DROPPED)}
    env.update(
        DATABASE_URL=database if isinstance(database, str) else f"sqlite:///{database}",
        DJANGO_SETTINGS_MODULE="envadmin.settings",
        DJANGO_SECRET_KEY=secret_key,
        DJANGO_DEBUG="false",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        ENVADMIN_LOG_LEVEL="DEBUG",
        PYTHONUNBUFFERED="1",  # every log line is in the file when the log check reads it
        **extra,
    )
    return env


def manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [str(PYTHON), "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if done.returncode:
        pytest.fail(f"manage.py {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def start(server: Server, env: dict) -> None:
    port = server.url.rpartition(":")[2]
    with open(server.log, "ab") as log:
        server.process = subprocess.Popen(
            [
                str(GUNICORN), "envadmin.wsgi:application",
                "-w", "2",
                "-b", f"127.0.0.1:{port}",
                "--access-logfile", "-",
                "--error-logfile", "-",
                "--graceful-timeout", "5",
                "--no-control-socket",  # two masters must not share ~/.gunicorn/gunicorn.ctl
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip


def wait_until_up(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(
                f"server {server.name} exited with {server.process.returncode}:\n"
                + server.log.read_text(errors="replace")[-3000:]
            )
        try:
            if requests.get(f"{server.url}/login", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail(
        f"server {server.name} did not answer GET /login within {STARTUP_SECONDS} s:\n"
        + server.log.read_text(errors="replace")[-3000:]
    )


def stop(server: Server) -> None:
    process = server.process
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@pytest.fixture(scope="session")
def servers(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    a_port, b_port = free_ports(2)
    a = Server("A", f"http://127.0.0.1:{a_port}", tmp / "a.log", tmp / "a.sqlite3",
               secrets.token_urlsafe(50))  # fmt: skip
    b = Server("B", f"http://127.0.0.1:{b_port}", tmp / "b.log", tmp / "b.sqlite3",
               secrets.token_urlsafe(50))  # fmt: skip
    a_env = server_env(a.database, a.secret_key)
    b_env = server_env(b.database, b.secret_key, ENVADMIN_BACKEND="runai", RUNAI_URL=a.url)
    b_migrate = None
    try:
        # B's database is migrated while A's is prepared.
        b_migrate = subprocess.Popen(
            [str(PYTHON), "manage.py", "migrate", "-v", "0"],
            cwd=ROOT,
            env=b_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        manage(a_env, "migrate", "-v", "0")
        manage(a_env, "load_snapshot", str(DEMO))
        account = manage(
            a_env, "create_service_account", "e2e",
            "--role", "System administrator", "--scope", "tenant",
        )  # fmt: skip
        credentials = json.loads(account)
        start(a, a_env)
        output, _ = b_migrate.communicate(timeout=180)
        if b_migrate.returncode:
            pytest.fail(f"migrating B's database failed:\n{output}")
        start(b, b_env)
        wait_until_up(a)
        wait_until_up(b)
        yield Servers(a, b, credentials["clientId"], credentials["clientSecret"])
    finally:
        if b_migrate is not None and b_migrate.poll() is None:
            b_migrate.kill()
            b_migrate.wait()
        stop(b)
        stop(a)


# --- HTTP helpers -----------------------------------------------------------------------------


def assert_contract(name: str, response: requests.Response) -> None:
    """Validate a real `requests` response (status, content type, body) against `name`."""
    spec(name).validate_response(
        RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response)
    )


class Api:
    """Calls to one server, with or without a bearer token."""

    def __repr__(self):  # the token stays out of failure reports
        return f"<Api {self.base_url}>"

    def __init__(self, base_url: str, token: str | None = None):
        self.base_url = base_url
        self.token = token

    def request(self, method, path, **kwargs) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return requests.request(method, self.base_url + path, headers=headers, timeout=30, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def put(self, path, **kwargs):
        return self.request("PUT", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)


def client_credentials(servers: Servers) -> dict:
    return {
        "grantType": "client_credentials",
        "clientID": servers.client_id,
        "clientSecret": servers.client_secret,
    }


def grant(servers: Servers, base_url: str) -> dict:
    answer = requests.post(f"{base_url}/api/v1/token", json=client_credentials(servers), timeout=30)
    assert answer.status_code == 200, answer.text
    document = answer.json()
    servers.remember(document.get("accessToken"), document.get("refreshToken"))
    return document


@pytest.fixture(scope="session")
def on_a(servers) -> Api:
    """A directly, as the service account: where the tests check what B did."""
    return Api(servers.a.url, grant(servers, servers.a.url)["accessToken"])


@pytest.fixture(scope="session")
def via_b(servers) -> Api:
    """B, with a token B obtained from A for the service account."""
    return Api(servers.b.url, grant(servers, servers.b.url)["accessToken"])


# --- the browser (pytest-playwright, Debian's Chromium), against B ---------------------------


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, servers):
    # base_url set here too: pytest-playwright's own (session-scoped) browser_context_args may
    # already hold tests/browser's live server URL when both folders run in one session.
    return {
        **browser_context_args,
        "viewport": {"width": 1440, "height": 900},
        "base_url": servers.b.url,
    }


@pytest.fixture(scope="session")
def base_url(servers):
    """Playwright resolves page.goto("/login") against B."""
    return servers.b.url


@pytest.fixture
def b_page(page):
    """The page, failing the test if it throws a JavaScript error or gets a 5xx from B."""
    problems = watch_for_failures(page)
    yield page
    assert not problems, "\n".join(problems)
