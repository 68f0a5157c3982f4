"""The form's pickers in a browser: an image from a registry's repositories and tags, and an
env var's credential by name then its key; the saved document holds both references."""

import pytest
from playwright.sync_api import expect
from rest_framework.test import APIClient

from envadmin.accounts.tokens import issue
from envadmin.inventory.models import Credential, Environment

from ..conftest import make_account
from .test_form import TEAM_A, field

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_picker_opens_in_place_and_leaves_the_draft_compliance_alone(login):
    """The form's target and sync are not inherited (hx-disinherit): inherited, the picker's
    first step was swapped into the compliance panel (then wiped by the next draft compliance)
    and opening it cancelled the draft's compliance request."""
    page = login("admin")
    page.goto("/environments/new")
    field(page, "placement").select_option(label=TEAM_A)
    field(page, "workspace").check()
    page.wait_for_load_state("networkidle")
    page.evaluate(
        """window.formAborts = 0;
        const form = document.getElementById("env-form");
        form.addEventListener("htmx:abort", (e) => {
            if (e.target === form) window.formAborts++;
        })"""
    )

    page.get_by_text("Pick from a registry").click()
    expect(page.locator("#image-picker #picker-registry")).to_be_visible()
    page.wait_for_load_state("networkidle")
    expect(page.locator("#compliance-panel select")).to_have_count(0)
    expect(page.locator("#picker-registry")).to_have_count(1)
    assert page.evaluate("window.formAborts") == 0


def test_a_control_typed_into_as_soon_as_it_is_swapped_in_is_heard(login):
    """htmx wires swapped-in controls when it settles: with its default 20 ms settle delay, a
    search typed into right after the registry step arrived was never sent (base.html sets
    the delay to 0). The typing here happens in the swap's own task, before any timer."""
    page = login("admin")
    page.goto("/environments/new")
    page.get_by_text("Pick from a registry").click()
    picker = page.locator("#image-picker")
    expect(picker.get_by_label("Registry", exact=True)).to_be_visible()
    page.evaluate(
        """document.getElementById("image-picker-body").addEventListener("htmx:afterSwap", () =>
            queueMicrotask(() => {
                const search = document.getElementById("picker-repository-search");
                search.value = "torch";
                search.dispatchEvent(new Event("input", {bubbles: true}));
            }), {once: true})"""
    )
    picker.get_by_label("Registry", exact=True).select_option(
        label="internal (registry.example.com)"
    )
    expect(picker.get_by_role("radio", name="ml/pytorch")).to_have_count(1)
    expect(picker.get_by_role("radio", name="ml/jax")).to_have_count(0)


def test_pick_an_image_and_a_credential_by_name_then_save(login):
    page = login("admin")
    page.goto("/environments/new")
    field(page, "placement").select_option(label=TEAM_A)
    field(page, "name").fill("picked")
    field(page, "workspace").check()

    # Registry, then a searched repository, then a tag: the image field is filled. Every step
    # is looked for inside the picker: its first step once landed in the compliance panel.
    page.get_by_text("Pick from a registry").click()
    picker = page.locator("#image-picker")
    picker.get_by_label("Registry", exact=True).select_option(
        label="internal (registry.example.com)"
    )
    picker.get_by_label("Search repositories").fill("torch")
    expect(picker.get_by_role("radio", name="ml/jax")).to_have_count(0)
    picker.get_by_role("radio", name="ml/pytorch").check()
    picker.get_by_label("Search tags of ml/pytorch").fill("06")
    expect(picker.get_by_role("button", name="Use image registry.example.com/ml/pytorch:24.05-py3")
           ).to_have_count(0)  # fmt: skip
    picker.get_by_role("button", name="Use image registry.example.com/ml/pytorch:24.06-py3").click()
    expect(field(page, "image")).to_have_value("registry.example.com/ml/pytorch:24.06-py3")
    expect(page.locator("#picker-status")).to_contain_text("Image set to")

    # The credential by name; its keys become the key's choices.
    page.get_by_role("button", name="Add a variable").click()
    field(page, "env-0-name").fill("HF_TOKEN")
    field(page, "env-0-source").select_option("credential")
    field(page, "env-0-credential").select_option(label="hf-token (generic-secret)")
    expect(page.locator("select#id_env-0-key")).to_be_visible()
    field(page, "env-0-key").select_option("token")

    page.get_by_role("button", name="Create environment").click()
    expect(page.locator(".flash.success")).to_have_text("Environment 'picked' was created.")

    saved = Environment.objects.get(name="picked")
    account, _ = make_account("System administrator", "tenant")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {issue(account)['accessToken']}")
    spec = api.get(f"/api/v1/asset/environment/{saved.id}").json()["spec"]
    assert spec["image"] == "registry.example.com/ml/pytorch:24.06-py3"
    hf_token = Credential.objects.get(name="hf-token")
    assert spec["environmentVariables"] == [
        {"name": "HF_TOKEN", "credential": {"assetId": str(hf_token.id), "key": "token"}}
    ]
