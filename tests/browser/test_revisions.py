"""Versions in the browser: compare two revisions, restore one and find it in History; delete
an environment and bring it back from Recently deleted."""

import re

import pytest
from playwright.sync_api import expect

from envadmin.accounts.access import Caller
from envadmin.accounts.models import SubjectType
from envadmin.backends.local import LocalBackend
from envadmin.inventory.models import Environment

from .test_form import open_environment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN = Caller("admin", SubjectType.USER, (("System administrator", "tenant"),), origin="api")


def edit_image(env: Environment, image: str) -> None:
    document = {"meta": {"name": env.name, "description": env.description}, "spec": env.spec}
    document["spec"] = {**env.spec, "image": image}
    LocalBackend().update_environment(ADMIN, str(env.pk), document)
    env.refresh_from_db()


def test_compare_two_revisions_and_restore_one(login, screenshot):
    page = login("admin")
    env = Environment.objects.get(name="tf-mnist")
    original = env.spec["image"]
    edit_image(env, "tensorflow/tensorflow:2.17.0-gpu")
    edit_image(env, "tensorflow/tensorflow:2.18.0-gpu")

    open_environment(page, "tf-mnist")
    page.get_by_role("link", name=re.compile(r"^History")).click()
    rows = page.locator("#history tbody tr")
    expect(rows).to_have_count(3)
    page.get_by_label("Compare from revision 1").check()
    page.get_by_label("Compare to revision 3").check()
    page.get_by_role("button", name="Compare selected revisions").click()
    expect(page.locator("h1")).to_contain_text("Revisions 1 and 3")
    changed = page.locator("tr.changed")
    expect(changed).to_have_count(1)
    expect(changed).to_contain_text("spec.image")
    expect(changed).to_contain_text(original)
    expect(changed).to_contain_text("2.18.0")
    screenshot("revisions-compare")

    page.get_by_role("link", name="tf-mnist").click()
    page.get_by_role("link", name="Restore this version (revision 1)").click()
    expect(page.locator("h1")).to_contain_text("Restore revision 1")
    expect(page.locator("tr.changed")).to_contain_text("spec.image")
    page.get_by_role("button", name="Restore revision 1").click()
    expect(page.locator(".flash.success")).to_contain_text("restored to revision 1")
    expect(rows).to_have_count(4)
    expect(rows.nth(0)).to_contain_text("restore")
    expect(rows.nth(0)).to_contain_text("back to revision 1")
    screenshot("revisions-history")
    env.refresh_from_db()
    assert env.spec["image"] == original


def test_bring_back_a_deleted_environment(login):
    page = login("admin")
    open_environment(page, "tf-mnist")
    old_id = str(Environment.objects.get(name="tf-mnist").pk)
    page.locator(".page-head").get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete environment").click()
    expect(page.locator(".flash.success")).to_contain_text("was deleted")

    page.get_by_role("link", name="Recently deleted environments").click()
    expect(page.locator("h1")).to_have_text("Recently deleted")
    page.get_by_role("button", name="Bring back tf-mnist").click()
    expect(page.locator(".flash.success")).to_contain_text("was brought back")
    expect(page.locator("h1")).to_have_text("tf-mnist")
    back = Environment.objects.get(name="tf-mnist")
    assert str(back.pk) != old_id and back.project_id == 2
    page.get_by_role("link", name=re.compile(r"^History")).click()
    expect(page.locator("#history tbody tr")).to_have_count(1)
    expect(page.locator("#history")).to_contain_text("brought back after its deletion")
