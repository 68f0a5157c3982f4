"""Admins' trips from the list and back: date columns sort newest first on the first click, the
delete confirmation names the scope, a delete returns to the list with its filters, and a page
that is not there says so once."""

import html
import re
import uuid
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone

from envadmin.inventory.models import Environment

LIST = "/environments/"


def header_link(body: str, label: str) -> str:
    found = re.search(rf'<a href="([^"]*)" hx-get="[^"]*">{label}', body)
    assert found, f"no header {label}"
    link = html.unescape(found.group(1))
    return LIST + link if link.startswith("?") else link


def names_in_order(body: str) -> list[str]:
    return re.findall(r'<tr data-name="([^"]+)"', body)


@pytest.mark.parametrize("label", ["Last updated", "Creation time"])
def test_the_first_click_on_a_date_column_sorts_newest_first(editor, label):
    editor.post(f"{LIST}columns", {"columns": ["name", "created_at", "updated_at"]})
    newest = Environment.objects.get(name="p8-env")
    later = timezone.now() + timedelta(days=1)
    Environment.objects.filter(pk=newest.pk).update(created_at=later, updated_at=later)

    first = header_link(editor.get(LIST).content.decode(), label)
    assert re.search(r"[?&]sort=-(created|updated)_at\b", first)
    body = editor.get(first).content.decode()
    assert names_in_order(body)[0] == "p8-env"
    assert 'aria-sort="descending"' in body
    # The second click turns it round: oldest first.
    second = header_link(body, label)
    assert re.search(r"[?&]sort=(created|updated)_at\b", second)
    assert names_in_order(editor.get(second).content.decode())[-1] == "p8-env"


def test_other_columns_still_sort_a_to_z_first(editor):
    first = header_link(editor.get(LIST, {"sort": "updated_at"}).content.decode(), "Image")
    assert re.search(r"[?&]sort=image\b", first)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("p7-env", 'c1 / research / team-a <span class="muted">(project)</span>'),
        ("d2-env", 'c1 / vision <span class="muted">(department)</span>'),
        ("c2-env", 'c2 <span class="muted">(cluster)</span>'),
    ],
)
def test_the_delete_confirmation_shows_the_scope_path(editor, name, shown):
    env = Environment.objects.get(name=name)
    body = editor.get(f"{LIST}{env.id}/delete").content.decode()
    assert f'<dd id="delete-scope">{shown}</dd>' in body


FILTERED = f"{LIST}?isWorkspace=true&sort=-name"


def test_a_delete_returns_to_the_filtered_list(editor):
    env = Environment.objects.get(name="p7-env")
    listed = editor.get(FILTERED).content.decode()
    carried = f"?next={quote(FILTERED, safe='')}"
    # The list's links pass the list on: to the detail page, and straight to the delete.
    assert f'href="{LIST}{env.id}{carried}"' in listed
    assert f'href="{LIST}{env.id}/delete{carried}"' in listed
    detail = editor.get(f"{LIST}{env.id}{carried}").content.decode()
    assert f'href="{LIST}{env.id}/delete{html.escape(carried)}"' in detail
    assert f'<a href="{html.escape(FILTERED)}">Environments</a>' in detail

    confirm = editor.get(f"{LIST}{env.id}/delete{carried}").content.decode()
    assert f'name="next" value="{html.escape(FILTERED)}"' in confirm
    version = re.search(r'name="version" value="(\d+)"', confirm).group(1)
    done = editor.post(f"{LIST}{env.id}/delete", {"version": version, "next": FILTERED})
    assert done.status_code == 302 and done.url == FILTERED
    assert not Environment.objects.filter(pk=env.pk).exists()
    # The list comes back filtered, with the message of the delete.
    back = editor.get(done.url).content.decode()
    assert "Environment &#x27;p7-env&#x27; was deleted." in back
    assert set(names_in_order(back)) == {"tenant-env", "d2-env", "p8-env"}


def test_a_delete_by_htmx_returns_to_the_filtered_list(editor):
    env = Environment.objects.get(name="p8-env")
    done = editor.post(
        f"{LIST}{env.id}/delete",
        {"version": env.update_count, "next": FILTERED},
        HTTP_HX_REQUEST="true",
    )
    assert done.headers["HX-Redirect"] == FILTERED


@pytest.mark.parametrize(
    "target",
    ["//evil.example/environments/", "https://evil.example/environments/?q=x", "/activity",
     "{detail}", ""],
)  # fmt: skip
def test_a_delete_returns_only_to_this_site_s_list(editor, target):
    env = Environment.objects.get(name="p7-env")
    target = target.format(detail=f"{LIST}{env.id}")  # the deleted one's page: gone after
    done = editor.post(f"{LIST}{env.id}/delete", {"version": env.update_count, "next": target})
    assert done.status_code == 302 and done.url == LIST
    confirm = editor.get(f"{LIST}{Environment.objects.first().id}/delete", {"next": target})
    assert f'name="next" value="{LIST}"' in confirm.content.decode()


def test_a_missing_environment_is_said_once(editor):
    missing = uuid.uuid4()
    response = editor.get(f"{LIST}{missing}")
    assert response.status_code == 404
    body = response.content.decode()
    main = re.search(r"<main.*</main>", body, re.S).group(0)
    assert main.count(str(missing)) == 1 and body.lower().count("not found") == 1
    assert 'class="flash' not in body  # no flash message repeating it
    title = re.search(r"<title>(.*?)</title>", body, re.S).group(1)
    heading = re.search(r"<h1>(.*?)</h1>", body, re.S).group(1)
    assert "not found" not in title.lower() and "not found" not in heading.lower()
    # The next page does not bring it back as a flash message either.
    assert str(missing) not in editor.get(LIST).content.decode()


def test_an_unknown_address_is_a_page_of_the_site(editor):
    response = editor.get("/no/such/page")
    assert response.status_code == 404
    body = response.content.decode()
    assert "<h1>Page not found</h1>" in body and body.count("Page not found") == 2  # title, h1
    assert f'href="{LIST}"' in body
