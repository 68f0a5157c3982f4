"""Web security (issue 6): headers and CSP, production settings, CSRF, throttling, no secrets in
logs; the sign-in lockout on every sign-in path, per address too, counted where no cache culls
it; the client address behind trusted proxies."""

import json
import logging
import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import authenticate, get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from envadmin.accounts.models import AccessRule, SubjectType
from envadmin.audit.models import AuditEvent
from envadmin.backends import get_backend
from envadmin.security import lockout
from envadmin.security.clients import client_address
from envadmin.security.models import LoginFailures
from envadmin.ui.context import caller_for

from .conftest import environment_document, make_account, post_json
from .upstream_stub import Reply, UpstreamStub

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "/api/v1/token"
PASSWORD = "correct-horse-battery"
DATABASE_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "envadmin_cache",
    }
}


def directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    parts = (part.split() for part in policy.split(";") if part.strip())
    return {name: values for name, *values in parts}


def assert_security_headers(response):
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert "'unsafe-inline'" not in policy["style-src"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.fixture
def user(db):
    user = get_user_model().objects.create_user("alice", password=PASSWORD)
    AccessRule.objects.create(
        subject_type=SubjectType.USER, subject="alice", role="System administrator",
        scope_key="tenant",
    )  # fmt: skip
    return user


def sign_in(client, username="alice", password=PASSWORD):
    return client.post("/login", {"username": username, "password": password})


# --- headers ------------------------------------------------------------------------------------


def test_a_page_carries_the_csp_and_security_headers(client, db):
    response = client.get("/login")
    assert response.status_code == 200
    assert_security_headers(response)
    # No inline script, no inline style, no inline event handler on the page itself.
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)


def test_an_api_response_carries_the_csp_and_security_headers(admin):
    response = admin.get("/api/v1/asset/environment")
    assert response.status_code == 200
    assert_security_headers(response)


def test_swagger_ui_s_inline_code_runs_by_nonce_not_unsafe_inline(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    policy = directives(response)
    nonces = set(re.findall(r'nonce="([^"]+)"', response.content.decode()))
    assert len(nonces) == 1  # the inline script and style share the request's nonce
    assert f"'nonce-{nonces.pop()}'" in policy["script-src"]
    assert "'unsafe-inline'" not in policy["script-src"]


# --- production settings (a subprocess: settings are read once, at import) ------------------


def run_django(code: str, tmp_path, **env) -> subprocess.CompletedProcess:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ENVADMIN_"))
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="envadmin.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        **env,
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


PRODUCTION = {
    "DJANGO_SECURE": "1",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "envadmin.example.com",
}

PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="envadmin.example.com")
plain = client.get("/login")
https = client.get("/login", secure=True)
csrf = https.cookies["csrftoken"]
print(json.dumps({
    "plain_status": plain.status_code, "plain_location": plain.headers.get("Location"),
    "hsts": https.headers.get("Strict-Transport-Security"),
    "csp": https.headers.get("Content-Security-Policy"),
    "csrf_secure": bool(csrf["secure"]), "csrf_httponly": bool(csrf["httponly"]),
    "session_secure": settings.SESSION_COOKIE_SECURE,
    "session_httponly": settings.SESSION_COOKIE_HTTPONLY,
}))
"""


def test_production_settings_send_hsts_secure_cookies_and_redirect_to_https(tmp_path):
    done = run_django(PROBE, tmp_path, **PRODUCTION)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["plain_status"] == 301
    assert seen["plain_location"] == "https://envadmin.example.com/login"
    assert seen["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert "frame-ancestors 'none'" in seen["csp"]
    assert seen["csrf_secure"] and seen["csrf_httponly"]
    assert seen["session_secure"] and seen["session_httponly"]


def test_local_runs_keep_plain_http_cookies(settings):
    # `make run` and the live-server tests serve http on loopback: secure cookies would be lost.
    assert settings.SESSION_COOKIE_SECURE is False
    assert settings.SECURE_SSL_REDIRECT is False
    assert settings.SECURE_HSTS_SECONDS == 0


def manage_check_deploy(tmp_path, **env):
    code = "import sys; from django.core.management import execute_from_command_line; "
    code += (
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])"
    )
    return run_django(code, tmp_path, **env)


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    done = manage_check_deploy(tmp_path, **PRODUCTION)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_check_deploy_flags_the_development_setup(tmp_path):
    # The same command without DJANGO_SECURE: the check really looks (HSTS, cookies, ...).
    done = manage_check_deploy(tmp_path, DJANGO_SECRET_KEY=secrets.token_urlsafe(50))
    assert done.returncode != 0
    assert "security.W004" in done.stderr and "security.W012" in done.stderr


@pytest.mark.parametrize(
    "missing",
    [
        {"DJANGO_SECRET_KEY": ""},
        {"DJANGO_SECRET_KEY": "envadmin-insecure-development-key-change-me"},
        {"DJANGO_DEBUG": "1"},
    ],
)
def test_production_refuses_to_start_without_a_real_key_or_with_debug(tmp_path, missing):
    env = {**PRODUCTION, **missing}
    if not env["DJANGO_SECRET_KEY"]:
        del env["DJANGO_SECRET_KEY"]
    done = manage_check_deploy(tmp_path, **env)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert "DJANGO_SECRET_KEY" in done.stderr or "DJANGO_DEBUG" in done.stderr


# --- CSRF ---------------------------------------------------------------------------------------


@pytest.fixture
def strict_client(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def csrf_token_of(client) -> str:
    page = client.get(reverse("environments:list")).content.decode()
    return re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)


def test_a_ui_form_post_without_the_csrf_token_is_refused(strict_client, org):
    form = {"project": "7", "workload_type": "Workspace", "next": "/environments/"}
    url = reverse("environments:review-as")
    assert strict_client.post(url, form).status_code == 403
    form["csrfmiddlewaretoken"] = csrf_token_of(strict_client)
    assert strict_client.post(url, form).status_code == 302


def test_an_htmx_post_without_the_csrf_token_is_refused(strict_client, org):
    url = reverse("environments:preview")
    refused = strict_client.post(url, {"name": "x"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 403
    # What htmx sends: the token from <body hx-headers> in the X-CSRFToken header.
    token = csrf_token_of(strict_client)
    accepted = strict_client.post(
        url, {"name": "x"}, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token
    )
    assert accepted.status_code != 403


# --- sign-in throttling -------------------------------------------------------------------------


def test_sign_in_is_locked_after_five_failures_for_that_username(client, user, settings):
    for _ in range(settings.ENVADMIN_LOGIN_FAILURES):
        failed = sign_in(client, password="wrong")
        assert failed.status_code == 200 and "didn't match" in failed.content.decode()
    locked = sign_in(client)  # even the right password
    assert locked.status_code == 429
    assert "Too many failed sign-ins for this username" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # Another username from the same address is not affected.
    assert sign_in(client, username="bob", password="wrong").status_code == 200


def test_a_success_clears_the_failures(client, user, settings):
    for _ in range(settings.ENVADMIN_LOGIN_FAILURES - 1):
        sign_in(client, password="wrong")
    assert sign_in(client).status_code == 302
    client.logout()
    for _ in range(settings.ENVADMIN_LOGIN_FAILURES - 1):
        assert sign_in(client, password="wrong").status_code == 200
    assert sign_in(client).status_code == 302


def test_the_password_grant_shares_the_sign_in_lockout(client, user, settings):
    wrong = {"grantType": "password", "username": "alice", "password": "wrong"}
    for _ in range(settings.ENVADMIN_LOGIN_FAILURES):
        assert post_json(client, TOKEN, wrong).status_code == 400
    locked = post_json(client, TOKEN, {**wrong, "password": PASSWORD})
    assert locked.status_code == 429
    assert locked.json()["code"] == 429
    assert "Too many failed sign-ins" in locked.json()["message"]
    assert sign_in(client).status_code == 429  # and the form too


# --- token endpoint throttling ------------------------------------------------------------------


def test_the_token_endpoint_is_rate_limited_with_the_contract_body(client, db, settings):
    settings.ENVADMIN_TOKEN_RATE = "3/minute"
    account, secret = make_account("Viewer", "tenant")
    body = {"grantType": "client_credentials", "clientID": account.client_id,
            "clientSecret": secret}  # fmt: skip
    for _ in range(3):
        assert post_json(client, TOKEN, body).status_code == 200
    throttled = post_json(client, TOKEN, body)
    assert throttled.status_code == 429
    document = throttled.json()
    assert document["code"] == 429 and "throttled" in document["message"]
    assert set(document) <= {"code", "message", "details"}
    assert 0 < int(throttled.headers["Retry-After"]) <= 60
    # Counted per client address: another address still gets tokens.
    other = post_json(Client(REMOTE_ADDR="10.0.0.9"), TOKEN, body)
    assert other.status_code == 200


# --- counters in the shared database, where no cache culls them ----------------------------------


def test_failure_counters_live_in_the_shared_database_hashed(db):
    for _ in range(django_settings.ENVADMIN_LOGIN_FAILURES):
        lockout.record_failure("Alice", "192.0.2.1")
    keys = list(LoginFailures.objects.values_list("key", flat=True))
    assert any(key.startswith("user:") for key in keys)
    assert not any("alice" in key.lower() for key in keys)  # hashed, not as written
    assert lockout.refusal("alice", "192.0.2.1")  # a username in any case
    assert lockout.refusal("alice", "192.0.2.2") is None


def test_a_flood_of_failures_with_other_usernames_does_not_unlock_the_victim(
    client, user, settings
):
    # The production cache at Django's default size (MAX_ENTRIES=300): were the counters in it,
    # the flood would cull the victim's key.
    settings.CACHES = DATABASE_CACHE
    for _ in range(settings.ENVADMIN_LOGIN_FAILURES):
        sign_in(client, password="wrong")
    assert sign_in(client).status_code == 429
    for number in range(320):  # from 16 addresses: under the per-address cap
        address = f"198.51.100.{number % 16}"
        flood = Client(REMOTE_ADDR=address)
        assert sign_in(flood, username=f"junk-{number}", password="x").status_code == 200
    locked = sign_in(client)
    assert locked.status_code == 429 and "_auth_user_id" not in client.session


# --- every sign-in path shares the lockout ------------------------------------------------------


def admin_sign_in(client, username="alice", password=PASSWORD):
    return client.post("/admin/login/", {"username": username, "password": password,
                                         "next": "/admin/"})  # fmt: skip


def test_admin_login_failures_lock_the_user_there_on_login_and_on_the_token_endpoint(
    client, user, settings, monkeypatch
):
    user.is_staff = True
    user.save()
    for _ in range(settings.ENVADMIN_LOGIN_FAILURES):
        failed = admin_sign_in(client, password="wrong")
        assert failed.status_code == 200 and "correct username and password" in failed.text
    sixth = admin_sign_in(client, password="wrong")
    assert sixth.status_code == 429 and "Too many failed sign-ins" in sixth.text
    refused = admin_sign_in(client)  # the right password, locked out
    assert (
        refused.status_code == 429 and "Too many failed sign-ins for this username" in refused.text
    )
    assert "_auth_user_id" not in client.session
    assert sign_in(client).status_code == 429
    grant = {"grantType": "password", "username": "alice", "password": PASSWORD}
    assert post_json(client, TOKEN, grant).status_code == 429
    # Once the window has ended, the right password works again.
    later = timezone.now() + timedelta(seconds=settings.ENVADMIN_LOGIN_LOCKOUT_SECONDS + 1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    signed_in = admin_sign_in(client)
    assert signed_in.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)


def test_authenticate_itself_refuses_a_locked_user(rf, user, settings):
    # Any caller of authenticate() with a request, present or future, meets the lockout.
    for _ in range(settings.ENVADMIN_LOGIN_FAILURES):
        assert authenticate(rf.post("/"), username="alice", password="wrong") is None
    assert authenticate(rf.post("/"), username="alice", password=PASSWORD) is None
    elsewhere = rf.post("/", REMOTE_ADDR="192.0.2.50")
    assert authenticate(elsewhere, username="alice", password=PASSWORD) == user


def test_in_proxy_mode_run_ai_s_refusals_count_and_a_locked_user_never_reaches_run_ai(
    client, db, settings
):
    with UpstreamStub() as stub:
        settings.ENVADMIN_BACKEND, settings.RUNAI_URL = "runai", stub.url
        stub.default = Reply(401, {"code": 401, "message": "Invalid credentials"})
        wrong = {"grantType": "password", "username": "carol", "password": "wrong"}
        for _ in range(settings.ENVADMIN_LOGIN_FAILURES):
            assert post_json(client, TOKEN, wrong).status_code in (400, 401)
        asked = len(stub.seen("POST"))
        assert post_json(client, TOKEN, wrong).status_code == 429
        assert sign_in(client, username="carol").status_code == 429
        assert len(stub.seen("POST")) == asked  # neither was sent to Run:ai


# --- password spraying: a cap per address --------------------------------------------------------


def test_an_address_past_its_failure_cap_is_refused_for_every_username(client, user, settings):
    settings.ENVADMIN_LOGIN_ADDRESS_FAILURES = 4
    for number in range(4):  # one try per username: no username reaches its own limit
        assert sign_in(client, username=f"user-{number}", password="guess").status_code == 200
    locked = sign_in(client)  # another username, the right password
    assert locked.status_code == 429
    assert "Too many failed sign-ins from this address. Try again in 15 minutes." in locked.text
    grant = {"grantType": "password", "username": "alice", "password": PASSWORD}
    answer = post_json(client, TOKEN, grant)
    assert answer.status_code == 429 and "from this address" in answer.json()["message"]
    # Other addresses are not affected.
    assert sign_in(Client(REMOTE_ADDR="192.0.2.77")).status_code == 302


def test_a_success_does_not_reset_the_address_cap(client, user, settings):
    settings.ENVADMIN_LOGIN_ADDRESS_FAILURES = 3
    sign_in(client, username="x1", password="guess")
    sign_in(client, username="x2", password="guess")
    assert sign_in(client).status_code == 302  # the sprayer's own account
    client.logout()
    sign_in(client, username="x3", password="guess")
    assert sign_in(client).status_code == 429


# --- the client address behind reverse proxies ---------------------------------------------------

FORWARDED = "203.0.113.5, 198.51.100.7"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, FORWARDED, "10.0.0.1"),  # never trusted without the setting
        (1, FORWARDED, "198.51.100.7"),  # what the one proxy appended
        (2, FORWARDED, "203.0.113.5"),
        (3, FORWARDED, "10.0.0.1"),  # fewer entries than proxies: ignored
        (1, None, "10.0.0.1"),
        (1, "not-an-address", "10.0.0.1"),
    ],
)
def test_client_address_takes_the_entry_the_trusted_proxies_vouch_for(
    rf, settings, proxies, forwarded, expected
):
    settings.ENVADMIN_TRUSTED_PROXIES = proxies
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    assert client_address(rf.get("/", REMOTE_ADDR="10.0.0.1", **headers)) == expected


def test_a_spoofed_forwarded_header_does_not_escape_the_lockout(client, user, settings):
    assert settings.ENVADMIN_TRUSTED_PROXIES == 0
    for number in range(settings.ENVADMIN_LOGIN_FAILURES):
        client.post("/login", {"username": "alice", "password": "wrong"},
                    HTTP_X_FORWARDED_FOR=f"203.0.113.{number}")  # fmt: skip
    spoofed = client.post("/login", {"username": "alice", "password": PASSWORD},
                          HTTP_X_FORWARDED_FOR="203.0.113.200")  # fmt: skip
    assert spoofed.status_code == 429


def test_behind_a_trusted_proxy_clients_are_told_apart_by_the_forwarded_address(user, settings):
    settings.ENVADMIN_TRUSTED_PROXIES = 1
    proxy = Client(REMOTE_ADDR="10.0.0.1")  # every request arrives from the proxy
    for _ in range(settings.ENVADMIN_LOGIN_FAILURES):
        proxy.post("/login", {"username": "alice", "password": "wrong"},
                   HTTP_X_FORWARDED_FOR="203.0.113.9")  # fmt: skip
    attacker = proxy.post("/login", {"username": "alice", "password": PASSWORD},
                          HTTP_X_FORWARDED_FOR="203.0.113.9")  # fmt: skip
    assert attacker.status_code == 429
    owner = proxy.post("/login", {"username": "alice", "password": PASSWORD},
                       HTTP_X_FORWARDED_FOR="198.51.100.3")  # fmt: skip
    assert owner.status_code == 302


@pytest.mark.parametrize(("proxies", "expected"), [(0, "10.0.0.1"), (1, "198.51.100.7")])
def test_the_audit_trail_records_the_same_client_address(org, admin, rf, user, settings,
                                                         proxies, expected):  # fmt: skip
    settings.ENVADMIN_TRUSTED_PROXIES = proxies
    created = admin.post(
        "/api/v1/asset/environment", data=json.dumps(environment_document()),
        content_type="application/json", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=FORWARDED,
    )  # fmt: skip
    assert created.status_code == 202, created.content
    assert AuditEvent.objects.get(asset_id=created.json()["meta"]["id"]).address == expected
    # The UI's caller carries it too.
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=FORWARDED)
    request.user, request.session = user, {}
    assert caller_for(request, get_backend()).address == expected


# --- secrets never logged -----------------------------------------------------------------------


def test_failed_sign_ins_and_grants_log_no_password_or_secret(client, user, caplog):
    caplog.set_level(logging.DEBUG)
    password = "never-log-" + secrets.token_hex(8)
    secret = "never-log-" + secrets.token_hex(8)
    sign_in(client, password=password)
    post_json(client, TOKEN, {"grantType": "password", "username": "alice", "password": password})
    post_json(client, TOKEN, {"grantType": "client_credentials", "clientID": "x",
                              "clientSecret": secret})  # fmt: skip
    answer = post_json(client, TOKEN, {"grantType": "password", "username": "alice",
                                       "password": PASSWORD})  # fmt: skip
    assert answer.status_code == 200
    assert caplog.records  # the requests were logged (4xx warnings) ...
    for value in (password, secret, PASSWORD, answer.json()["accessToken"]):
        assert value not in caplog.text  # ... without what they carried
