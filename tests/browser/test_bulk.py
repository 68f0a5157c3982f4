"""Bulk actions in the browser: tick rows, preview, apply, summary; all matching across pages."""

import re

import pytest
from playwright.sync_api import expect

from envadmin.inventory.models import Environment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_select_rows_preview_apply_and_see_the_summary(login, screenshot):
    page = login("admin")
    page.goto("/environments/?scope=project&sort=name")
    rows = page.locator("#env-table tbody tr[data-name]")
    chosen = [rows.nth(i).get_attribute("data-name") for i in range(3)]
    for index in range(3):
        rows.nth(index).locator("input[name=ids]").check()
    toolbar = page.locator("#bulk-form")
    toolbar.get_by_label("Bulk action").select_option("set-image")
    toolbar.get_by_label("Image", exact=True).fill(":bulk-1")
    before = dict(Environment.objects.filter(name__in=chosen).values_list("name", "image"))
    toolbar.get_by_role("button", name="Preview").click()

    preview = page.locator("#bulk-preview tbody tr")
    expect(preview).to_have_count(3)
    expect(page.locator("#bulk-ready")).to_contain_text("3 of 3 can be changed")
    assert dict(Environment.objects.filter(name__in=chosen).values_list("name", "image")) == before
    expect(preview.first).to_contain_text(":bulk-1")
    page.get_by_role("button", name="Apply to 3 environments").click()

    expect(page.locator("h1")).to_have_text("Set image: 3 of 3 done")
    expect(page.locator("#bulk-summary tbody tr")).to_have_count(3)
    expect(
        page.locator("#bulk-summary").get_by_role("link", name=re.compile("^Undo"))
    ).to_have_count(3)
    after = dict(Environment.objects.filter(name__in=chosen).values_list("name", "image"))
    assert all(image.endswith(":bulk-1") for image in after.values()), after
    screenshot("bulk-summary")
    # Undo leads to the restore confirmation of the revision before.
    page.locator("#bulk-summary").get_by_role("link", name=re.compile("^Undo")).first.click()
    expect(page).to_have_url(re.compile(r"/revisions/\d+/restore$"))


def test_select_all_matching_a_filter_across_pages(login):
    page = login("admin")
    page.goto("/environments/?scope=project&per_page=10")
    expect(page.locator("#env-count")).to_have_text("14 environments")
    expect(page.locator("#env-table tbody tr[data-name]")).to_have_count(10)
    toolbar = page.locator("#bulk-form")
    toolbar.get_by_label("Bulk action").select_option("deprecate")
    toolbar.get_by_label("Message", exact=True).fill("Moving to the 24.x images.")
    toolbar.get_by_label(re.compile("All 14 matching")).check()
    toolbar.get_by_role("button", name="Preview").click()
    expect(page.locator("#bulk-preview tbody tr")).to_have_count(14)
    page.get_by_role("button", name=re.compile("^Apply to")).click()
    expect(page.locator("#bulk-summary tbody tr")).to_have_count(14)
    expect(page.locator("h1")).to_contain_text("Deprecate:")
