"""Fixes that make an environment comply, in the browser: "Apply these fixes" in the form, and
"Make a compliant copy" from the compliance matrix."""

import pytest
from playwright.sync_api import expect
from rest_framework.test import APIClient

from envadmin.accounts.tokens import issue
from envadmin.inventory.models import Environment

from ..conftest import make_account
from .test_form import TEAM_A, field

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_applying_the_fixes_turns_the_panel_green(login):
    page = login("admin")
    page.goto("/environments/new")
    panel = page.locator("#compliance-panel")
    field(page, "placement").select_option(label=TEAM_A)
    field(page, "name").fill("fixed-draft")
    field(page, "description").fill("Typed before the fixes.")
    field(page, "image").fill("pytorch/pytorch:2.3.0")
    field(page, "workspace").check()
    # research's workspace policy wants uid and gid of 1000 or more
    field(page, "uidGidSource").select_option("custom")
    field(page, "runAsUid").fill("5")
    field(page, "runAsGid").fill("7")
    workspace = panel.locator('[data-kind="Workspace"]')
    expect(workspace.locator(".badge")).to_have_text("Not compliant (2)")
    fixes = panel.locator("#preview-fixes")
    expect(fixes).to_contain_text("User id (uid): 5 → 1000")

    fixes.get_by_role("button", name="Apply these fixes").click()

    expect(page.locator("#applied-fixes")).to_contain_text("User id (uid): 5 → 1000")
    expect(field(page, "runAsUid")).to_have_value("1000")
    expect(field(page, "runAsGid")).to_have_value("1000")
    expect(workspace.locator(".badge")).to_have_text("Compliant")
    expect(panel.locator("#preview-fixes")).to_have_count(0)
    # what was typed besides stays
    expect(field(page, "description")).to_have_value("Typed before the fixes.")
    expect(field(page, "name")).to_have_value("fixed-draft")

    page.get_by_role("button", name="Create environment").click()
    expect(page.locator(".flash.success")).to_have_text("Environment 'fixed-draft' was created.")


def test_a_compliant_copy_from_the_matrix_is_saved_compliant(login):
    page = login("admin")
    page.goto("/compliance?project=1&problems=1")
    original = "jupyter-lab"  # a tenant environment breaking team-a's rules, all fixable
    row = page.locator(f'#compliance-matrix tbody tr[data-name="{original}"]')
    expect(row.locator("td .badge", has_text="Not compliant").first).to_be_visible()
    row.get_by_role("link", name="Make a compliant copy for cluster-a / research / team-a").click()

    expect(page.locator("h1")).to_have_text(f"Copy “{original}”")
    expect(page.locator("#applied-fixes")).to_contain_text("Changed to comply with the policies")
    expect(field(page, "name")).to_have_value(f"{original}-team-a")
    expect(field(page, "placement")).to_have_value("project:1")
    expect(page.locator("#compliance-panel .badge").first).to_be_visible()
    for badge in page.locator("#compliance-panel .badge").all():
        expect(badge).to_have_text("Compliant")

    page.get_by_role("button", name="Create environment").click()
    expect(page.locator(".flash.success")).to_have_text(
        f"Environment '{original}-team-a' was created."
    )

    copy = Environment.objects.get(name=f"{original}-team-a")
    account, _ = make_account("System administrator", "tenant")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {issue(account)['accessToken']}")
    kinds = [k for k in ("Workspace", "Training", "Distributed", "Inference")
             if getattr(copy, f"supports_{k.lower()}")]  # fmt: skip
    assert kinds
    for kind in kinds:
        answer = api.get(f"/api/v1/asset/environment/{copy.id}",
                         {"complyToProject": 1, "complyToWorkloadType": kind})  # fmt: skip
        assert answer.json()["compliance"]["compliance"] is True, (kind, answer.json())
