"""Acceptance 1 (UI): B's web admin in Debian's Chromium lists, creates, edits and deletes on A.

The demo user signs in at B with their Run:ai (A) credentials: B asks A's token endpoint with
the password grant and keeps the tokens in its session, server-side. Every change made in B's
pages is checked on A through A's own API.
"""

import re
import uuid

import pytest
from playwright.sync_api import expect

from .conftest import DEMO_PASSWORD, DEMO_USER, ENVIRONMENTS

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

TEAM_A = "cluster-a / research / team-a"


def field(page, name):
    return page.locator(f"#id_{name}")


def sign_in(page, servers):
    page.goto("/login")
    page.get_by_label("Username").fill(DEMO_USER)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{servers.b.url}/environments/")


def test_b_s_ui_lists_creates_edits_and_deletes_on_a(b_page, servers, on_a):
    page = b_page
    sign_in(page, servers)

    # B keeps A's tokens for the user server-side: none reaches the browser.
    tokens = servers.session_tokens()
    assert tokens, "B's session holds no Run:ai token after the password grant"
    servers.remember(*tokens)
    visible = page.content() + " ".join(c["value"] for c in page.context.cookies())
    assert not [token for token in tokens if token in visible]

    # The list is A's list.
    on_a_entries = on_a.get(ENVIRONMENTS).json()["entries"]
    expect(page.locator("#env-count")).to_have_text(f"{len(on_a_entries)} environments")
    shown = page.locator("tr[data-name]")
    expect(shown.first).to_be_visible()
    names_on_a = {entry["meta"]["name"] for entry in on_a_entries}
    assert set(shown.evaluate_all("rows => rows.map(r => r.dataset.name)")) <= names_on_a
    page.goto("/environments/?q=tf-mnist")
    expect(page.locator("tr[data-name]")).to_have_count(1)
    expect(page.locator("tr[data-name]")).to_have_attribute("data-name", "tf-mnist")

    # Create through B's form: it is on A.
    name = f"e2e-ui-{uuid.uuid4().hex[:8]}"
    page.goto("/environments/")
    page.get_by_role("link", name="New environment").click()
    expect(page.locator("h1")).to_have_text("New environment")
    field(page, "placement").select_option(label=TEAM_A)
    field(page, "name").fill(name)
    field(page, "description").fill("Made in B's form.")
    field(page, "image").fill("python:3.11")
    field(page, "workspace").check()
    page.get_by_role("button", name="Create environment").click()
    expect(page.locator(".flash.success")).to_have_text(f"Environment '{name}' was created.")
    expect(page.locator("h1")).to_have_text(name)

    entries = on_a.get(ENVIRONMENTS, params={"name": name}).json()["entries"]
    assert len(entries) == 1
    created = entries[0]
    asset_id = created["meta"]["id"]
    assert page.url.rstrip("/").endswith(f"/environments/{asset_id}")
    assert created["meta"]["projectId"] == 1
    assert created["meta"]["description"] == "Made in B's form."
    assert created["meta"]["workloadSupportedTypes"]["workspace"] is True
    assert created["spec"]["image"] == "python:3.11"
    # B acted with the user's own Run:ai token, not with a service account.
    assert created["meta"]["createdBy"] == DEMO_USER

    # Edit: the change is on A.
    page.locator(".page-head").get_by_role("link", name="Edit").click()
    expect(page.locator("h1")).to_have_text(f"Edit “{name}”")
    expect(field(page, "image")).to_have_value("python:3.11")
    field(page, "description").fill("Edited in B's form.")
    field(page, "image").fill("python:3.12")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".flash.success")).to_have_text(f"Environment '{name}' was saved.")
    expect(page.locator(".lead")).to_have_text("Edited in B's form.")

    edited = on_a.get(f"{ENVIRONMENTS}/{asset_id}").json()
    assert edited["meta"]["description"] == "Edited in B's form."
    assert edited["spec"]["image"] == "python:3.12"
    assert edited["meta"]["updateCount"] == 1
    assert edited["meta"]["updatedBy"] == DEMO_USER

    # Delete after the confirmation: gone from A.
    page.goto(f"/environments/?q={name}")
    page.locator(f'tr[data-name="{name}"]').get_by_role("link", name="Delete").click()
    expect(page.locator("h1")).to_have_text(f"Delete “{name}”?")
    assert on_a.get(f"{ENVIRONMENTS}/{asset_id}").status_code == 200  # not before confirming
    page.get_by_role("button", name="Delete environment").click()
    # Back to the list as it was left: still searching for the name.
    expect(page).to_have_url(re.compile(rf"/environments/\?q={name}$"))
    expect(page.locator(".flash.success")).to_have_text(f"Environment '{name}' was deleted.")
    expect(page.locator(f'tr[data-name="{name}"]')).to_have_count(0)
    assert on_a.get(f"{ENVIRONMENTS}/{asset_id}").status_code == 404
    assert on_a.get(ENVIRONMENTS, params={"name": name}).json()["entries"] == []

    servers.remember(*servers.session_tokens())  # renewed ones too, if any
