"""Lifecycle in the web admin: the list hides archived environments by default (a filter shows
them), badges and messages on list, detail and forms, the detail page's state form, the copy
warning, copy sources, the CSV column, in local and proxy mode; and the Cleanup page."""

import re

import pytest
from django.contrib.auth import get_user_model

from envadmin.inventory.models import Environment
from envadmin.lifecycle.models import Lifecycle

from .test_ui_views import LIST, names_in, user_with
from .upstream_stub import Reply

EVERY = {"tenant-env", "cluster-env", "d1-env", "d2-env", "p7-env", "p8-env", "p9-env", "c2-env"}


def env_id(name):
    return str(Environment.objects.get(name=name).id)


def set_state(name, state, message="", replacement=None):
    Lifecycle.objects.update_or_create(
        asset_id=env_id(name),
        defaults={"state": state, "message": message, "replacement": replacement},
    )


@pytest.fixture
def admin_ui(client, org):
    client.force_login(user_with("System administrator", "tenant"))
    return client


@pytest.fixture
def states(org):
    set_state("p8-env", "deprecated", "Python 3.12 image is going away", env_id("p7-env"))
    set_state("c2-env", "archived", "Cluster c2 retired")


def test_the_list_hides_archived_by_default_and_a_filter_shows_them(admin_ui, states):
    assert names_in(admin_ui.get(LIST)) == EVERY - {"c2-env"}
    assert names_in(admin_ui.get(LIST, {"lifecycle": "archived"})) == {"c2-env"}
    assert names_in(admin_ui.get(LIST, {"lifecycle": "deprecated"})) == {"p8-env"}
    assert names_in(admin_ui.get(LIST, {"lifecycle": "active"})) == EVERY - {"c2-env", "p8-env"}
    assert names_in(admin_ui.get(LIST, {"lifecycle": "all"})) == EVERY
    # The count says what the table shows.
    assert "7 environments" in admin_ui.get(LIST).content.decode()


def test_the_list_sorted_by_lifecycle_puts_deprecated_after_active(admin_ui, states):
    body = admin_ui.get(LIST, {"sort": "lifecycle", "lifecycle": "all"}).content.decode()
    order = re.findall(r'<tr data-name="([^"]+)"', body)
    assert order[-2:] == ["p8-env", "c2-env"]


def test_an_unknown_lifecycle_filter_is_named_next_to_its_control(admin_ui, states):
    response = admin_ui.get(LIST, {"lifecycle": "gone"})
    assert response.status_code == 200
    assert re.search(r'id="f-lifecycle_error"><p class="error">', response.content.decode())


def test_a_deprecated_row_has_its_badge_and_message(admin_ui, states):
    body = admin_ui.get(LIST).content.decode()
    row = re.search(r'<tr data-name="p8-env">.*?</tr>', body, re.S).group(0)
    assert 'class="badge lifecycle deprecated"' in row
    assert "Python 3.12 image is going away" in row


def test_the_csv_shows_and_filters_the_state(admin_ui, states):
    admin_ui.post("/environments/columns", {"columns": ["name", "lifecycle"]})
    csv = admin_ui.get(LIST, {"format": "csv", "lifecycle": "all"}).content.decode()
    assert "Lifecycle" in csv.splitlines()[0]
    assert "deprecated: Python 3.12 image is going away" in csv
    assert "archived: Cluster c2 retired" in csv
    only = admin_ui.get(LIST, {"format": "csv", "lifecycle": "deprecated"}).content.decode()
    assert len(only.strip().splitlines()) == 2 and "p8-env" in only


def test_the_detail_page_shows_the_banner_with_the_replacement(admin_ui, states):
    body = admin_ui.get(f"/environments/{env_id('p8-env')}").content.decode()
    banner = re.search(r'id="lifecycle-banner">(.*?)</div>', body, re.S).group(1)
    assert "Deprecated" in banner and "going away" in banner
    assert f'href="/environments/{env_id("p7-env")}"' in banner


def test_who_may_update_changes_the_state_on_the_detail_page(admin_ui, states):
    url = f"/environments/{env_id('d2-env')}"
    assert 'action="' + url + '/lifecycle"' in admin_ui.get(url).content.decode()
    body = {"state": "deprecated", "message": "use p7", "replacement": env_id("p7-env")}
    response = admin_ui.post(f"{url}/lifecycle", body)
    assert response.status_code == 302 and response.url == url
    assert Lifecycle.objects.get(asset_id=env_id("d2-env")).message == "use p7"
    assert "badge lifecycle deprecated" in admin_ui.get(url).content.decode()


def test_archiving_what_a_template_uses_is_refused_on_the_page(admin_ui, states):
    url = f"/environments/{env_id('p7-env')}"
    response = admin_ui.post(f"{url}/lifecycle", {"state": "archived", "message": ""})
    assert response.status_code == 409
    assert "t-p7" in response.content.decode()
    assert not Lifecycle.objects.filter(asset_id=env_id("p7-env")).exists()


def test_a_bad_message_is_named_next_to_its_field(admin_ui, states):
    url = f"/environments/{env_id('d2-env')}"
    response = admin_ui.post(f"{url}/lifecycle", {"state": "deprecated", "message": "x" * 501})
    assert response.status_code == 400
    errors = re.search(r'id="lc-message-error">(.*?)</div>', response.content.decode()).group(1)
    assert "500" in errors


def test_a_viewer_gets_no_state_form_and_a_post_is_refused(client, states):
    client.force_login(user_with("Viewer", "tenant"))
    url = f"/environments/{env_id('d2-env')}"
    assert "/lifecycle" not in client.get(url).content.decode()
    response = client.post(f"{url}/lifecycle", {"state": "archived"})
    assert response.status_code == 403
    assert not Lifecycle.objects.filter(asset_id=env_id("d2-env")).exists()


def test_copying_a_deprecated_one_warns_and_offers_its_replacement(admin_ui, states):
    body = admin_ui.get(f"/environments/{env_id('p8-env')}/copy").content.decode()
    banner = re.search(r'id="lifecycle-banner"[^>]*>(.*?)</div>', body, re.S).group(1)
    assert "You are copying a deprecated environment" in banner
    assert f'href="/environments/{env_id("p7-env")}/copy"' in banner
    # An active one's copy has no warning.
    plain = admin_ui.get(f"/environments/{env_id('p7-env')}/copy").content.decode()
    assert "lifecycle-banner" not in plain


def test_the_edit_form_shows_the_badge(admin_ui, states):
    body = admin_ui.get(f"/environments/{env_id('p8-env')}/edit").content.decode()
    assert "badge lifecycle deprecated" in body


def test_copy_sources_put_deprecated_last_and_never_offer_archived(admin_ui, states):
    body = admin_ui.get("/environments/new").content.decode()
    picker = re.search(r'<select id="copy-from".*?</select>', body, re.S).group(0)
    ids = re.findall(r'<option value="([^"]+)"', picker)
    assert ids[-1] == env_id("p8-env")
    assert env_id("c2-env") not in ids and env_id("p7-env") in ids
    assert re.search(r'<optgroup label="Deprecated"><option value="' + env_id("p8-env"), picker)
    chosen = admin_ui.get("/environments/new", {"copy_from": env_id("p7-env")})
    assert chosen.status_code == 302 and chosen.url.endswith(f"{env_id('p7-env')}/copy")
    # An odd value is no redirect and no error: just the form.
    assert admin_ui.get("/environments/new", {"copy_from": "a/b"}).status_code == 200


# --- proxy mode: the same list default over Run:ai's list -----------------------------------


def proxy_environment(asset_id, name):
    meta = {"id": asset_id, "name": name, "scope": "tenant", "updateCount": 1}
    return {"meta": meta, "spec": {"image": "python:3.11"}, "usedBy": {"templates": []}}


def test_proxy_mode_list_hides_archived_and_shows_badges(db, settings, proxy, stub, client):
    settings.RUNAI_CLIENT_ID, settings.RUNAI_CLIENT_SECRET = "sa", "secret"
    entries = [proxy_environment(f"e{n}", f"env-{n}") for n in range(3)]
    answers = {
        "/api/v1/token": {"accessToken": "a.b.c", "expiresIn": 600},
        "/api/v1/asset/environment": {"entries": entries},
        "/api/v1/clusters": [],
        "/api/v1/org-unit/departments": {"departments": []},
        "/api/v1/org-unit/projects": {"projects": []},
    }
    stub.handler = lambda seen: Reply(200, answers.get(seen.path.split("?")[0], {}))
    Lifecycle.objects.create(asset_id="e1", state="archived")
    Lifecycle.objects.create(asset_id="e2", state="deprecated", message="old")
    client.force_login(get_user_model().objects.create_user("local", password="x"))
    assert names_in(client.get(LIST)) == {"env-0", "env-2"}
    assert names_in(client.get(LIST, {"lifecycle": "archived"})) == {"env-1"}
    assert "badge lifecycle deprecated" in client.get(LIST).content.decode()
    # Run:ai's own list, through envadmin's API, still lists the archived one.
    listed = proxy.get("/api/v1/asset/environment").json()["entries"]
    assert {e["meta"]["id"] for e in listed} == {"e0", "e1", "e2"}


# --- the Cleanup page -----------------------------------------------------------------------


def test_the_cleanup_page_shows_the_four_sections_with_links(admin_ui, states):
    body = admin_ui.get("/environments/cleanup").content.decode()
    for title in ("Never used", "Unused for more than 90 days", "Identical specs",
                  "Non-compliant everywhere"):  # fmt: skip
        assert title in body
    # Never used, and archived: linked, with its badge.
    assert (
        f'href="/environments/{env_id("c2-env")}">c2-env</a> <span class="badge lifecycle archived"'
        in body
    )
    assert 'aria-current="page">Cleanup</a>' in body


def test_the_cleanup_page_names_bad_days_next_to_the_field(admin_ui):
    response = admin_ui.get("/environments/cleanup", {"unusedDays": "0"})
    assert response.status_code == 400
    errors = re.search(r'id="unused-days-error">(.*?)</div>', response.content.decode()).group(1)
    assert "1 to 3650" in errors


def test_ticked_cleanup_entries_go_to_the_bulk_preview_and_archive_when_applied(admin_ui, states):
    body = admin_ui.get("/environments/cleanup").content.decode()
    # Each entry has a checkbox of the page's bulk form.
    target = env_id("p9-env")
    assert f'name="ids" value="{target}" form="cleanup-bulk"' in body
    assert 'id="cleanup-bulk"' in body and 'action="/environments/bulk/preview"' in body

    preview = admin_ui.post(
        "/environments/bulk/preview", {"ids": [target], "action": "archive", "message": "Old"}
    )
    assert preview.status_code == 200
    assert Lifecycle.objects.filter(asset_id=target).count() == 0  # a preview writes nothing
    items = re.findall(r'name="item" value="([^"]+)"', preview.content.decode())
    applied = admin_ui.post(
        "/environments/bulk/apply",
        {"item": items, "action": "archive", "message": "Old"},
    )
    assert applied.status_code in (200, 302)
    assert Lifecycle.objects.get(asset_id=target).state == "archived"


def test_a_viewer_gets_no_checkboxes_on_the_cleanup_page(client, org):
    client.force_login(user_with("Viewer", "tenant", name="cleanup-viewer"))
    body = client.get("/environments/cleanup").content.decode()
    assert 'form="cleanup-bulk"' not in body and 'id="cleanup-bulk"' not in body
