"""Bulk actions in the web admin without JavaScript: the list's checkboxes and toolbar, the
preview (nothing written), apply, and the summary with its undo links."""

import re

import pytest
from django.contrib.auth.models import User

from envadmin.audit.models import Revision
from envadmin.inventory.models import Environment

UI = "/environments/"
PREVIEW = "/environments/bulk/preview"
APPLY = "/environments/bulk/apply"
SUMMARY = "/environments/bulk/summary"


def images(*names) -> dict:
    return dict(Environment.objects.filter(name__in=names).values_list("name", "image"))


def pk(name: str) -> str:
    return str(Environment.objects.get(name=name).pk)


def hidden(page: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" value="([^"]*)"', page)


def test_writers_get_checkboxes_and_a_toolbar_viewers_do_not(org, signed_in):
    page = signed_in().get(UI).content.decode()
    assert 'id="bulk-form"' in page
    assert f'name="ids" value="{pk("p7-env")}" form="bulk-form"' in page
    viewer = signed_in("Viewer", "project:7", name="viewer").get(UI).content.decode()
    assert 'id="bulk-form"' not in viewer and 'name="ids"' not in viewer


def test_preview_writes_nothing_then_apply_changes_each_and_summarizes(org, signed_in):
    client = signed_in("L1 researcher", "project:7")
    ids = [pk("p7-env"), pk("d1-env")]  # d1-env: visible, not theirs to change
    before = images("p7-env", "d1-env")
    revisions = Revision.objects.count()
    preview = client.post(PREVIEW, {"ids": ids, "action": "set-image", "image": ":9.9",
                                    "query": "q=env"})  # fmt: skip
    assert preview.status_code == 200
    page = preview.content.decode()
    assert images("p7-env", "d1-env") == before and Revision.objects.count() == revisions
    assert "1 of 2 can be changed" in page
    assert ":9.9" in page and "403" in page
    items = hidden(page, "item")
    assert [i.rsplit(":", 1)[0] for i in items] == ids
    answer = client.post(APPLY, {"item": items, **{k: hidden(page, k)[0] for k in
                                                   ("action", "image", "query")}})  # fmt: skip
    assert answer.status_code == 302 and answer["Location"] == SUMMARY
    after = images("p7-env", "d1-env")
    assert after["p7-env"].endswith(":9.9") and after["d1-env"] == before["d1-env"]
    summary = client.get(SUMMARY).content.decode()
    assert "Set image: 1 of 2 done" in summary
    revision = Revision.objects.filter(asset_id=ids[0]).first().revision
    assert f"{UI}{ids[0]}/revisions/{revision - 1}/restore" in summary
    assert f'href="{UI}?q=env"' in summary  # back to the filtered list


def test_a_change_after_the_preview_is_reported_not_overwritten(org, signed_in):
    client = signed_in()
    page = client.post(PREVIEW, {"ids": [pk("p7-env")], "action": "set-image",
                                 "image": "python:3.12"}).content.decode()  # fmt: skip
    Environment.objects.filter(name="p7-env").update(update_count=9)
    client.post(APPLY, {"item": hidden(page, "item"), "action": "set-image",
                        "image": "python:3.12"})  # fmt: skip
    assert "412" in client.get(SUMMARY).content.decode()
    assert images("p7-env")["p7-env"] != "python:3.12"


def test_all_matching_takes_the_filtered_list_across_pages(org, signed_in):
    client = signed_in()
    page = client.post(PREVIEW, {"all_matching": "1", "action": "delete",
                                 "query": "scope=project&page=2"}).content.decode()  # fmt: skip
    names = set(re.findall(r'<tr data-name="([^"]+)"', page))
    assert names == set(Environment.objects.filter(scope="project").values_list("name", flat=True))
    assert len(names) >= 3
    assert Environment.objects.filter(name="p8-env").exists()


def test_a_bad_image_is_said_next_to_its_field_and_nothing_is_previewed(org, signed_in):
    answer = signed_in().post(PREVIEW, {"ids": [pk("p7-env")], "action": "set-image",
                                        "image": "Not An Image"})  # fmt: skip
    assert answer.status_code == 400
    page = answer.content.decode()
    assert 'bulk-image-hint bulk-image-error"' in page and 'id="bulk-image-error"' in page
    assert 'id="bulk-preview"' not in page


@pytest.mark.parametrize("data", [{}, {"ids": [], "action": "delete"}])
def test_nothing_selected_goes_back_to_the_list(org, signed_in, data):
    answer = signed_in().post(PREVIEW, data)
    assert answer.status_code == 302 and answer["Location"].startswith(UI)


def test_archiving_offers_making_them_active_again(org, signed_in):
    client = signed_in()
    page = client.post(PREVIEW, {"ids": [pk("p8-env")], "action": "archive"}).content.decode()
    client.post(APPLY, {"item": hidden(page, "item"), "action": "archive"})
    summary = client.get(SUMMARY).content.decode()
    assert "Undo: preview making these active again" in summary
    assert hidden(summary, "ids") == [pk("p8-env")]


def test_all_matching_beyond_the_limit_takes_the_first_and_says_so(org, signed_in, monkeypatch):
    monkeypatch.setattr("envadmin.ui.views.bulk.MAX_ITEMS", 2)
    page = signed_in().post(PREVIEW, {"all_matching": "1", "action": "delete"}).content.decode()
    assert len(re.findall(r'<tr data-name="', page)) == 2
    total = Environment.objects.count()
    assert f"{total} environments match the filters: this action takes the first 2" in page


def test_a_viewer_applying_anyway_gets_403_per_row_and_nothing_changes(org, signed_in):
    client = signed_in("Viewer", "project:7")
    before = images("p7-env")
    client.post(APPLY, {"item": [f"{pk('p7-env')}:"], "action": "set-image", "image": ":1"})
    assert "403" in client.get(SUMMARY).content.decode()
    assert images("p7-env") == before


def test_the_preview_shows_the_reviewed_projects_compliance_change(org, admin, signed_in):
    from envadmin.ui.models import Preference

    from .test_environment_compliance import put_policy

    put_policy(admin, "workspaces", {"scope": "project", "projectId": 7}, {
        "rules": {"image": {"canEdit": False}}, "defaults": {"image": "python:3.11"},
    })  # fmt: skip
    client = signed_in()
    preference = Preference.of(User.objects.get())
    preference.review_project, preference.review_workload_type = 7, "Workspace"
    preference.save()
    page = client.post(PREVIEW, {"ids": [pk("p7-env")], "action": "set-image",
                                 "image": "python:3.12"}).content.decode()  # fmt: skip
    assert "Compliance for" in page
    cell = page[page.index('data-label="Compliance"') :].split("</td>")[0]
    before, after = re.findall(r'class="badge ([a-z -]+)"', cell)[:2]
    assert before != after, cell
    assert "canEdit" in cell  # the reason the new image breaks the policy
