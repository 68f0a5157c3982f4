"""Versions in the web admin: the History tab's revisions, compare, restore with its confirm
page, and Recently deleted with "Bring back"."""

import re

import pytest

from envadmin.audit.models import Revision
from envadmin.inventory.models import Environment

from .conftest import environment_document, post_json, put_json

UI = "/environments/"
ENVIRONMENTS = "/api/v1/asset/environment"


@pytest.fixture
def edited(org, admin):
    """An environment with three revisions: images a:1, a:2, a:3."""
    asset = post_json(admin, ENVIRONMENTS, environment_document("hist", spec={"image": "a:1"}))
    asset = asset.json()
    for image in ("a:2", "a:3"):
        body = {"meta": {"name": "hist"}, "spec": {"image": image}}
        asset = put_json(admin, f"{ENVIRONMENTS}/{asset['meta']['id']}", body).json()
    return Environment.objects.get(name="hist")


def test_the_history_tab_lists_revisions_with_restore_for_editors(edited, signed_in):
    body = signed_in().get(f"{UI}{edited.pk}", {"tab": "history"}).content.decode()
    history = body[body.index('id="history"') :]
    assert re.findall(r'data-revision="(\d+)"', history) == ["3", "2", "1"]
    assert "History (3)" in body
    # Every revision but the current one can be restored; two are picked for comparing.
    assert history.count("Restore this version") == 2
    assert f"{UI}{edited.pk}/revisions/1/restore" in history
    assert 'name="from" value="2" checked' in history and 'name="to" value="3" checked' in history


def test_viewers_see_history_but_no_restore(edited, signed_in):
    client = signed_in("Viewer", "project:7")
    body = client.get(f"{UI}{edited.pk}", {"tab": "history"}).content.decode()
    assert 'data-revision="1"' in body and "Restore this version" not in body
    assert client.get(f"{UI}{edited.pk}/revisions/1/restore").status_code == 403
    assert client.post(f"{UI}{edited.pk}/revisions/1/restore", {"version": "2"}).status_code == 403
    assert Environment.objects.get(pk=edited.pk).spec["image"] == "a:3"


def test_outsiders_get_404_on_compare_and_restore(edited, signed_in):
    client = signed_in("System administrator", "project:9")
    assert client.get(f"{UI}{edited.pk}/compare").status_code == 404
    assert client.get(f"{UI}{edited.pk}/revisions/1/restore").status_code == 404


def test_compare_shows_both_side_by_side_with_changes_marked(edited, signed_in):
    body = signed_in().get(f"{UI}{edited.pk}/compare", {"from": 1, "to": 3}).content.decode()
    assert "Revisions 1 and 3" in body
    changed = re.findall(r'<tr class="changed">\s*<th scope="row"><code>([^<]+)</code>', body)
    assert changed == ["spec.image"]
    assert "&quot;a:1&quot;" in body and "&quot;a:3&quot;" in body
    assert "<code>meta.name</code>" in body  # unchanged fields are listed too, unmarked


def test_compare_of_unknown_revisions_is_a_page_not_a_500(edited, signed_in):
    client = signed_in()
    assert client.get(f"{UI}{edited.pk}/compare", {"from": 9, "to": 1}).status_code == 404
    assert client.get(f"{UI}{edited.pk}/compare", {"from": "x"}).status_code == 400


def test_restore_confirms_with_the_diff_then_restores(edited, signed_in):
    client = signed_in()
    confirm = client.get(f"{UI}{edited.pk}/revisions/1/restore").content.decode()
    assert "Restore revision 1" in confirm
    assert re.search(r'<tr class="changed">\s*<th scope="row"><code>spec.image</code>', confirm)
    version = re.search(r'name="version" value="(\d+)"', confirm).group(1)
    done = client.post(f"{UI}{edited.pk}/revisions/1/restore", {"version": version})
    assert done.status_code == 302
    assert done["Location"] == f"{UI}{edited.pk}?tab=history"
    edited.refresh_from_db()
    assert (edited.spec["image"], edited.update_count) == ("a:1", 3)
    newest = Revision.objects.filter(asset_id=str(edited.pk)).order_by("-revision").first()
    assert (newest.action, newest.restored_from, newest.origin) == ("restore", 1, "ui")


def test_a_restore_from_a_stale_page_asks_again(edited, signed_in):
    client = signed_in()
    answer = client.post(f"{UI}{edited.pk}/revisions/1/restore", {"version": "0"})
    assert answer.status_code == 409
    assert 'id="restore-problem"' in answer.content.decode()
    edited.refresh_from_db()
    assert edited.spec["image"] == "a:3"


def test_recently_deleted_lists_and_brings_back(edited, signed_in, admin):
    admin.delete(f"{ENVIRONMENTS}/{edited.pk}")
    client = signed_in()
    listed = client.get(f"{UI}recently-deleted").content.decode()
    assert f'data-asset="{edited.pk}"' in listed and "hist" in listed
    brought = client.post(f"{UI}recently-deleted/{edited.pk}/bring-back")
    new = Environment.objects.get(name="hist")
    assert new.pk != edited.pk and new.spec["image"] == "a:3"
    assert brought["Location"] == f"{UI}{new.pk}"
    assert f'data-asset="{edited.pk}"' not in client.get(f"{UI}recently-deleted").content.decode()


def test_bring_back_refused_says_why_and_creates_nothing(edited, signed_in, admin):
    admin.delete(f"{ENVIRONMENTS}/{edited.pk}")
    post_json(admin, ENVIRONMENTS, environment_document("hist"))
    client = signed_in()
    answer = client.post(f"{UI}recently-deleted/{edited.pk}/bring-back", follow=True)
    assert "Not brought back" in answer.content.decode()
    assert Environment.objects.filter(name="hist").count() == 1


def test_outsiders_do_not_see_deleted_environments(edited, signed_in, admin):
    admin.delete(f"{ENVIRONMENTS}/{edited.pk}")
    client = signed_in("System administrator", "project:9")
    assert f'data-asset="{edited.pk}"' not in client.get(f"{UI}recently-deleted").content.decode()
    client.post(f"{UI}recently-deleted/{edited.pk}/bring-back")
    assert not Environment.objects.filter(name="hist").exists()


def test_the_list_links_to_recently_deleted(org, signed_in):
    assert f'href="{UI}recently-deleted"' in signed_in().get(UI).content.decode()
