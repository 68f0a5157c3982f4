import html
import json
import os
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from envadmin.accounts.models import AccessRule, ServiceAccount, SubjectType
from envadmin.accounts.tokens import issue
from envadmin.snapshot import loader

# CI runs the property tests on hypothesis's fixed examples, so a red run is a change's fault;
# a session run explores new ones (what it finds becomes a table test).
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


DATA = Path(__file__).parent / "data"
# Ids of the small org tree in tests/data/small.yaml.
C1 = "3f1c2a9e-5b7d-4c1e-9a2f-0d6b8e4c7a11"
C2 = "8a2b4c6d-1e3f-4a5b-8c7d-9e0f1a2b3c4d"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Secrets are still hashed, just not with 600,000 PBKDF2 rounds per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def org(db):
    """The small org tree with its environments, workloads and templates."""
    loader.load(loader.read_file(DATA / "small.yaml"))


def make_account(role: str, key: str, name: str | None = None):
    account, secret = ServiceAccount.create(name or f"{role}@{key}")
    AccessRule.objects.create(
        subject_type=SubjectType.APPLICATION, subject=account.client_id, role=role, scope_key=key
    )
    return account, secret


@pytest.fixture
def client_for(db):
    """client_for(role, scope_key) -> an APIClient authenticated as a service account."""

    def build(role="System administrator", key="tenant"):
        account, _ = make_account(role, key)
        client = APIClient()
        token = issue(account)["accessToken"]
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return build


@pytest.fixture
def admin(client_for):
    return client_for()


# Proxy mode against a stub Run:ai on loopback (tests/upstream_stub.py).
PROXY_TOKEN = "header.payload.signature"


@pytest.fixture
def stub():
    from .upstream_stub import UpstreamStub

    with UpstreamStub() as upstream:
        yield upstream


@pytest.fixture
def proxy(settings, stub):
    """An API client of envadmin in proxy mode, forwarding to `stub` with PROXY_TOKEN."""
    settings.ENVADMIN_BACKEND = "runai"
    settings.RUNAI_URL = stub.url
    settings.RUNAI_READ_TIMEOUT = 0.5
    settings.RUNAI_RETRIES = 1
    settings.RUNAI_CLIENT_ID = ""
    settings.RUNAI_CLIENT_SECRET = ""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {PROXY_TOKEN}")
    return client


def environment_document(name="my-env", scope="project", **meta):
    """A valid creation document; `meta` overrides placement and fields."""
    base = {"name": name, "scope": scope}
    if scope == "project":
        base["projectId"] = 7
    base.update(meta)
    spec = base.pop("spec", {"image": "python:3.11"})
    return {"meta": base, "spec": spec}


def post_json(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def put_json(client, url, body):
    return client.put(url, data=json.dumps(body), content_type="application/json")


def error_message(response, status=400) -> str:
    """The message of an API error answer, after checking it is the JSON error body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == status
    return body["message"]


# The browser tests (tests/browser, tests/e2e) drive Debian's Chromium, never a downloaded one,
# with the flags this closed network needs.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


def watch_for_failures(page) -> list[str]:
    """Collects the JavaScript errors a page throws and the 5xx answers it gets; a browser test
    asserts the list is empty at its end."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    page.on(
        "response",
        lambda response: (
            response.status >= 500 and problems.append(f"{response.status} from {response.url}")
        ),
    )
    return problems


@pytest.fixture(autouse=True)
def fresh_cache(settings, request):
    """Each test starts with an empty cache of its own: throttle counters (tests sign in many
    times) and proxy mode's cached org units never carry over. The servers the e2e tests start
    keep the database cache; test_security.py checks it too."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": request.node.nodeid,
        }
    }


def csp_violations(page) -> list[str]:
    """What Chromium refuses under the Content-Security-Policy: it reports each refusal (an
    inline script or style, an eval, a foreign source) as a console error."""
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            # htmx reports the eval it may not do (an hx-trigger filter) as its own error.
            and ("Content Security Policy" in message.text or "evalDisallowed" in message.text)
            and refused.append(f"CSP violation on {page.url}: {message.text}")
        ),
    )
    return refused


@pytest.fixture(autouse=True)
def no_csp_violations(request):
    """Every browser test (tests/browser, tests/e2e) fails if a page breaks the CSP."""
    if "page" not in request.fixturenames:
        yield
        return
    refused = csp_violations(request.getfixturevalue("page"))
    yield
    assert not refused, "\n".join(refused)


# --- a signed-in editor and the forms they post ---------------------------------------------


@pytest.fixture
def editor(client, org):
    """A browser signed in as alice, System administrator over the tenant."""
    user = User.objects.create_user("alice")
    AccessRule.objects.create(subject_type=SubjectType.USER, subject="alice",
                              role="System administrator", scope_key="tenant")  # fmt: skip
    client.force_login(user)
    return client


@pytest.fixture
def signed_in(client, db):
    """signed_in(role, key) signs the test client in as a user with that one access rule."""

    def sign_in(role="System administrator", key="tenant", name=None):
        user = User.objects.create_user(name or f"{role}-{key}".replace(" ", "-"))
        AccessRule.objects.create(
            subject_type=SubjectType.USER, subject=user.username, role=role, scope_key=key
        )
        client.force_login(user)
        return client

    return sign_in


def always_list(value) -> list:
    return value if isinstance(value, list) else [value]


def form_data(page: str) -> dict:
    """Every input, select and textarea of a form page as a browser would post them."""
    data: dict = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or name.group(1) == "csrfmiddlewaretoken":
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if kind and kind.group(1) == "checkbox":
            # A ticked box posts its value ("on" without one); boxes sharing a name, a list.
            if "checked" in tag:
                ticked = html.unescape(value.group(1)) if value else "on"
                if name.group(1) in data:
                    data[name.group(1)] = [*always_list(data[name.group(1)]), ticked]
                else:
                    data[name.group(1)] = ticked
            continue
        data[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for name, body in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.findall(r'<option value="([^"]*)"[^>]*selected', body)
        if chosen:
            data[name] = [html.unescape(v) for v in chosen] if len(chosen) > 1 else chosen[0]
    for name, body in re.findall(r'<textarea name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        data[name] = html.unescape(body.strip("\n"))
    return data
