"""Two people edit one environment at once: the second save is refused, shows what the first
changed, and saves on top of it once reviewed: nobody's change is lost."""

import re

import pytest
from playwright.sync_api import expect

from envadmin.inventory.models import Environment

from .conftest import PASSWORD
from .test_form import field, open_environment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_stale_edit_is_refused_with_what_changed_and_reapplied_on_top(
    login, browser, live_server, screenshot
):
    alice = login("admin")
    open_environment(alice, "tf-mnist")
    alice.locator(".page-head").get_by_role("link", name="Edit").click()
    edit_url = alice.url

    # Bob (the environment administrator) opens the same form in his own browser and saves first.
    bob_context = browser.new_context(base_url=live_server.url)
    try:
        bob = bob_context.new_page()
        bob.goto("/login")
        bob.get_by_label("Username").fill("envadmin")
        bob.get_by_label("Password").fill(PASSWORD)
        bob.get_by_role("button", name="Sign in").click()
        bob.goto(edit_url)
        field(bob, "image").fill("tensorflow/tensorflow:2.17.0-gpu")
        bob.get_by_role("button", name="Save changes").click()
        expect(bob.locator(".flash.success")).to_contain_text("was saved")
    finally:
        bob_context.close()

    # Alice, still on the version she opened, changes the description and saves.
    field(alice, "description").fill("Alice's notes.")
    alice.get_by_role("button", name="Save changes").click()
    notice = alice.locator("#stale-edit")
    expect(notice).to_contain_text("Not saved: envadmin changed this environment")
    expect(notice).to_contain_text(
        'spec.image: "tensorflow/tensorflow:2.16.1-gpu" → "tensorflow/tensorflow:2.17.0-gpu"'
    )
    expect(notice).to_contain_text("Your changes to Description are reapplied")
    screenshot("stale-edit")
    stored = Environment.objects.get(name="tf-mnist")
    assert stored.spec["image"] == "tensorflow/tensorflow:2.17.0-gpu"
    assert stored.description != "Alice's notes."
    # The form holds Bob's image and Alice's text; saving now keeps both.
    expect(field(alice, "image")).to_have_value("tensorflow/tensorflow:2.17.0-gpu")
    expect(field(alice, "description")).to_have_value("Alice's notes.")
    alice.get_by_role("button", name="Save changes").click()
    expect(alice.locator(".flash.success")).to_have_text("Environment 'tf-mnist' was saved.")
    expect(alice.locator(".lead")).to_have_text("Alice's notes.")
    stored.refresh_from_db()
    assert (stored.spec["image"], stored.description) == (
        "tensorflow/tensorflow:2.17.0-gpu",
        "Alice's notes.",
    )
    assert stored.update_count == 2
    # Both saves are in the History tab, each with its author and what it changed.
    alice.get_by_role("link", name=re.compile(r"^History")).click()
    expect(alice.locator("#history tbody tr")).to_have_count(3)  # the demo's create, then two
    rows = alice.locator("#history tbody tr")
    expect(rows.nth(0)).to_contain_text("admin")
    expect(rows.nth(0)).to_contain_text("meta.description")
    expect(rows.nth(1)).to_contain_text("envadmin")
    expect(rows.nth(1)).to_contain_text("spec.image")
    assert alice.url.endswith("?tab=history")
