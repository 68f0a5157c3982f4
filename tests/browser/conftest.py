"""Browser tests: Debian's Chromium through pytest-playwright, against pytest-django's live server.

Every test gets a fresh demo snapshot (envadmin/demo/demo.yaml) in a transactional database.
"""

import os
from pathlib import Path

import pytest

from envadmin.snapshot import loader

from ..conftest import watch_for_failures

# Playwright's sync API runs an event loop in the test thread; Django's ORM must still be usable.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "envadmin" / "demo" / "demo.yaml"
SCREENSHOTS = ROOT / "docs" / "screenshots"
PASSWORD = "envadmin-demo"


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1440, "height": 900}}


@pytest.fixture(scope="session")
def demo_document():
    return loader.read_file(DEMO)


@pytest.fixture
def demo(transactional_db, demo_document):
    """The demo org, environments, policies and users, loaded fresh for each test."""
    loader.load(demo_document)


@pytest.fixture(scope="session")
def base_url(live_server):
    """Playwright resolves page.goto("/environments/") against the live server."""
    return live_server.url


@pytest.fixture
def login(page, live_server, demo):
    """login(username) signs in through the form and lands on the environments list."""

    def sign_in(username="admin", password=PASSWORD):
        page.goto("/login")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/environments/")
        return page

    return sign_in


@pytest.fixture
def screenshot(page):
    """screenshot(name) writes docs/screenshots/<name>.png of the current page."""

    def take(name, **kwargs):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        # caret="initial": hiding the caret makes Playwright add a style to the page, which the
        # CSP refuses, and the refusal can reach the test's console watch after the picture.
        kwargs.setdefault("caret", "initial")
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), **kwargs)

    return take


@pytest.fixture(autouse=True)
def no_browser_errors(page):
    """Fails a test whose pages throw a JavaScript error or get a server error back."""
    problems = watch_for_failures(page)
    yield
    assert not problems, "\n".join(problems)
