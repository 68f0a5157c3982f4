"""More than one machine (issue 6): two gunicorn instances on one PostgreSQL database and one
SECRET_KEY serve the same users, as behind a load balancer. A session signed in on one is signed
in on the other, an edit form opened on one is saved through the other, and failed sign-ins
counted by one lock the username on the other (the counters live in the shared database).

The instances run on pytest-django's test database (committed data: transactional_db), so SQLite,
a file per process or in memory, cannot stand in: the module skips there.
"""

import secrets
import uuid
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
import requests
from django.conf import global_settings
from django.db import connection

from envadmin.inventory.models import Environment
from envadmin.snapshot import loader

from .conftest import (
    DEMO,
    DEMO_PASSWORD,
    DEMO_USER,
    Server,
    free_ports,
    server_env,
    start,
    stop,
    wait_until_up,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="two instances need one shared server database: set DATABASE_URL=postgres://...",
    ),
]


def database_url() -> str:
    db = connection.settings_dict  # the test database once transactional_db has set it up
    credentials = f"{quote(db['USER'], safe='')}:{quote(db['PASSWORD'], safe='')}"
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def instances(transactional_db, tmp_path, settings):
    """Two gunicorns (two workers each) on the test database, sharing one SECRET_KEY."""
    # The demo users' passwords hashed as the servers check them, not with the tests' fast MD5.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    loader.load(loader.read_file(DEMO))
    key = secrets.token_urlsafe(50)
    env = server_env(database_url(), key)
    pair = [
        Server(name, f"http://127.0.0.1:{port}", tmp_path / f"{name}.log", tmp_path, key)
        for name, port in zip(("one", "two"), free_ports(2), strict=True)
    ]
    try:
        for server in pair:
            start(server, env)
        for server in pair:
            wait_until_up(server)
        yield pair
    finally:
        for server in pair:  # before transactional_db empties the tables under them
            stop(server)


class FormFields(HTMLParser):
    """Every value the form with `form_id` (None: a form without an id) would submit as it is,
    as a browser would."""

    def __init__(self, form_id: str | None):
        super().__init__()
        self.form_id, self.inside = form_id, False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._option: dict | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.fields.append((a["name"], a.get("value") or ("on" if "checked" in a else "")))
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self.fields.append((a["name"], ""))
        elif tag == "select" and a.get("name"):
            self._select, self._select_first, self._select_chosen = a["name"], None, False
        elif tag == "option" and self._select:
            self._option = {"value": a.get("value"), "selected": "selected" in a, "text": ""}

    def handle_data(self, data):
        if self._textarea:
            name, value = self.fields[-1]
            self.fields[-1] = (name, value + data)
        if self._option is not None:
            self._option["text"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self._textarea = None
            name, value = self.fields[-1]
            self.fields[-1] = (name, value.removeprefix("\n"))  # HTML drops the first newline
        elif tag == "option" and self._option is not None:
            option, self._option = self._option, None
            value = option["value"] if option["value"] is not None else option["text"].strip()
            if self._select_first is None:
                self._select_first = value
            if option["selected"] and not self._select_chosen:
                self.fields.append((self._select, value))
                self._select_chosen = True
        elif tag == "select" and self._select:
            if not self._select_chosen and self._select_first is not None:
                self.fields.append((self._select, self._select_first))
            self._select = None


def form_fields(html: str, form_id: str | None) -> list[tuple[str, str]]:
    parser = FormFields(form_id)
    parser.feed(html)
    assert parser.fields, f"no form #{form_id} on the page"
    return parser.fields


def sign_in(session: requests.Session, server: Server, username=DEMO_USER, password=DEMO_PASSWORD):
    page = session.get(f"{server.url}/login", timeout=30)
    assert page.status_code == 200
    form = {"csrfmiddlewaretoken": page_token(page.text), "username": username,
            "password": password}  # fmt: skip
    return session.post(f"{server.url}/login", data=form, allow_redirects=False, timeout=30)


def page_token(html: str) -> str:
    return next(value for name, value in form_fields(html, None) if name == "csrfmiddlewaretoken")


def test_a_session_and_a_half_done_edit_continue_on_the_other_instance(instances):
    one, two = instances
    browser = requests.Session()
    signed_in = sign_in(browser, one)
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/environments/"

    # The session cookie one set is good on two: the session lives in the shared database.
    listed = browser.get(f"{two.url}/environments/", allow_redirects=False, timeout=30)
    assert listed.status_code == 200
    assert f"<span>{DEMO_USER}</span>" in listed.text

    # Open the edit form on one, submit it (every field as the form holds it) to two.
    environment = Environment.objects.filter(read_only=False).order_by("id").first()
    edit = f"/environments/{environment.id}/edit"
    opened = browser.get(one.url + edit, timeout=30)
    assert opened.status_code == 200
    fields = form_fields(opened.text, "env-form")
    description = f"saved through instance two {uuid.uuid4().hex[:8]}"
    fields = [(n, description if n == "description" else v) for n, v in fields]
    assert "description" in dict(fields)
    saved = browser.post(two.url + edit, data=fields, allow_redirects=False, timeout=30)
    assert saved.status_code == 302, saved.text[-2000:]

    # One shows what two saved.
    detail = browser.get(one.url + saved.headers["Location"], timeout=30)
    assert detail.status_code == 200 and description in detail.text
    environment.refresh_from_db()
    assert environment.description == description

    # Neither instance logged the password or the session (their access logs are real).
    assert '"POST /login HTTP/1.1" 302' in one.log.read_text(errors="replace")
    for server in instances:
        log = server.log.read_text(errors="replace")
        leaked = DEMO_PASSWORD in log or browser.cookies["sessionid"] in log
        assert not leaked, f"{server.name}'s log ({server.log}) holds the password or session"


def test_failed_sign_ins_on_one_instance_lock_the_username_on_the_other(instances):
    one, two = instances
    attacker = requests.Session()
    for server in (one, one, one, two, two):  # ENVADMIN_LOGIN_FAILURES (5) in all
        failed = sign_in(attacker, server, password="not-the-password")
        assert failed.status_code == 200
    for server in (one, two):
        locked = sign_in(attacker, server)  # the right password, too late
        assert locked.status_code == 429
        assert "Too many failed sign-ins" in locked.text
