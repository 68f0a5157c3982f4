"""Signing in and out."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_and_out(page, demo):
    # A page asked for before signing in comes back after it.
    page.goto("/compliance?project=2")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.get_by_role("heading", name="Sign in to envadmin")).to_be_visible()

    page.get_by_label("Username").fill("researcher")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Your username and password didn't match. Please try again."
    )
    expect(page.get_by_label("Username")).to_have_value("researcher")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/compliance\?project=2$"))
    expect(page.locator(".topbar .user")).to_contain_text("researcher")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    page.goto("/environments/")
    expect(page).to_have_url(re.compile(r"/login\?next=/environments/"))


def test_researcher_sees_only_what_their_project_may(login):
    page = login("researcher")
    # project 1 sees its own, its department's, cluster-a's and the tenant's environments.
    expect(page.locator("#env-count")).to_have_text("18 environments")
    mine = page.locator('tr[data-name="xgboost-tabular"]')
    expect(mine.get_by_role("link", name="Edit")).to_be_visible()
    # The tenant's environments are usable but not the researcher's to change.
    tenant = page.locator('tr[data-name="vscode"]')
    expect(tenant.get_by_role("link", name="Copy")).to_be_visible()
    expect(tenant.get_by_role("link", name="Edit")).to_have_count(0)
