"""Web security (issue 6): headers and CSP, production settings, CSRF, throttling, no secrets in
logs, and the shared cache the throttles count in."""

import json
import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.urls import reverse

from envadmin.accounts.models import AccessRule, SubjectType
from envadmin.security import throttles

from .conftest import make_account, post_json

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


# --- counters in the shared (database) cache ----------------------------------------------------


def test_throttle_counters_live_in_the_database_cache_every_instance_reads(db, settings):
    settings.CACHES = DATABASE_CACHE
    for _ in range(settings.ENVADMIN_LOGIN_FAILURES):
        throttles.record_failure("Alice", "192.0.2.1")
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM envadmin_cache")
        keys = [row[0] for row in cursor.fetchall()]
    assert any("login-failures:" in key for key in keys)
    assert not any("alice" in key.lower() for key in keys)  # hashed, not as written
    assert throttles.is_locked("alice", "192.0.2.1")  # a username in any case
    assert not throttles.is_locked("alice", "192.0.2.2")


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
