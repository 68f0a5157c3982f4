"""Lifecycle in the browser: deprecate an environment on its detail page, see the badge and the
message there and on the list; archiving it while a template uses it is refused."""

import pytest
from playwright.sync_api import expect

from .test_accessibility import SUBJECT, environment_url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_deprecate_then_archive_on_the_detail_page(page, login):
    login("admin")
    page.goto(environment_url(page))
    expect(page.locator("#lifecycle-banner")).to_have_count(0)
    page.locator("#lc-state").select_option("deprecated")
    page.locator("#lc-message").fill("Use the CUDA 12 image instead.")
    page.locator("#lc-replacement").select_option(index=1)
    page.get_by_role("button", name="Save lifecycle").click()

    banner = page.locator("#lifecycle-banner")
    expect(banner.locator(".badge.lifecycle.deprecated")).to_have_text("Deprecated")
    expect(banner).to_contain_text("Use the CUDA 12 image instead.")
    expect(banner.get_by_role("link")).to_be_visible()  # the replacement

    page.goto(f"/environments/?q={SUBJECT}&scope=department")
    row = page.locator(f'tr[data-name="{SUBJECT}"]')
    expect(row.locator(".badge.lifecycle.deprecated")).to_be_visible()
    expect(row).to_contain_text("Use the CUDA 12 image instead.")

    # A template uses it: archiving is refused, the message names the template.
    page.goto(environment_url(page))
    page.locator("#lc-state").select_option("archived")
    page.get_by_role("button", name="Save lifecycle").click()
    expect(page.locator("#lifecycle [role=alert]")).to_contain_text("research-workspace")
    expect(page.locator("#lifecycle-banner .badge.lifecycle.deprecated")).to_be_visible()
