"""The edit form refuses a save on an old version, shows what changed and reapplies the edit."""

import html
import json

import pytest

from envadmin.inventory.models import Environment
from envadmin.ui import stale

from .conftest import form_data, put_json

LIST = "/environments/"


def someone_else_changes(env, admin, **spec):
    document = admin.get(f"/api/v1/asset/environment/{env.id}").json()
    document["spec"].update(spec)
    answer = put_json(admin, f"/api/v1/asset/environment/{env.id}", document)
    assert answer.status_code == 202


def test_a_save_on_an_old_version_is_refused_with_their_changes_and_mine_reapplied(editor, admin):
    env = Environment.objects.get(name="p7-env")
    url = f"{LIST}{env.id}/edit"
    data = form_data(editor.get(url).content.decode())
    assert data["version"] and data["image"] == env.spec["image"]
    # Alice edits the description; meanwhile Bob changes the image through the API.
    data["description"] = "alice was here"
    someone_else_changes(env, admin, image="bob/image:2")
    refused = editor.post(url, data)
    assert refused.status_code == 409
    page = refused.content.decode()
    assert "Not saved" in page and "changed this environment while you were editing" in page
    assert html.escape('spec.image: "python:3.11" → "bob/image:2"') in page
    assert "Your changes to <strong>Description</strong>" in page
    env.refresh_from_db()
    assert (env.description, env.spec["image"]) == (None, "bob/image:2")  # nothing overwritten
    # The form now holds Bob's image and Alice's description, on Bob's version: saving works.
    again = form_data(page)
    assert again["image"] == "bob/image:2" and again["description"] == "alice was here"
    assert again["version"] != data["version"]
    saved = editor.post(url, again)
    assert saved.status_code == 302
    env.refresh_from_db()
    assert (env.description, env.spec["image"]) == ("alice was here", "bob/image:2")


def test_a_field_changed_by_both_is_named_and_keeps_my_value(editor, admin):
    env = Environment.objects.get(name="p7-env")
    url = f"{LIST}{env.id}/edit"
    data = form_data(editor.get(url).content.decode())
    data["image"] = "alice/image:1"
    someone_else_changes(env, admin, image="bob/image:2")
    page = editor.post(url, data).content.decode()
    assert "Both of you changed Image" in page
    assert form_data(page)["image"] == "alice/image:1"
    env.refresh_from_db()
    assert env.spec["image"] == "bob/image:2"


def test_env_var_rows_are_reapplied_whole_when_i_changed_them(editor, admin):
    env = Environment.objects.get(name="p7-env")
    url = f"{LIST}{env.id}/edit"
    data = form_data(editor.get(url).content.decode())
    index = int(data["env-TOTAL_FORMS"])
    data.update({f"env-{index}-name": "ALICE", f"env-{index}-source": "value",
                 f"env-{index}-value": "1", "env-TOTAL_FORMS": str(index + 1)})  # fmt: skip
    someone_else_changes(env, admin, command="bob.sh")
    page = editor.post(url, data).content.decode()
    again = form_data(page)
    assert again["command"] == "bob.sh"
    assert "ALICE" in [again[k] for k in again if k.startswith("env-") and k.endswith("-name")]
    assert editor.post(url, again).status_code == 302
    env.refresh_from_db()
    assert env.spec["command"] == "bob.sh"
    assert {"name": "ALICE", "value": "1"} in env.spec["environmentVariables"]


def test_a_race_between_reading_and_saving_is_caught_by_the_database_row_lock(
    editor, admin, monkeypatch
):
    """The version matched when the page checked, but another save landed before ours."""
    env = Environment.objects.get(name="p7-env")
    url = f"{LIST}{env.id}/edit"
    data = form_data(editor.get(url).content.decode())
    data["description"] = "mine"
    from envadmin.backends.local import LocalBackend

    original = LocalBackend.update_environment

    def late(self, caller, asset_id, document, *, if_match=None):
        Environment.objects.filter(pk=asset_id).update(update_count=99)
        return original(self, caller, asset_id, document, if_match=if_match)

    monkeypatch.setattr(LocalBackend, "update_environment", late)
    assert editor.post(url, data).status_code == 409
    env.refresh_from_db()
    assert env.description is None


@pytest.mark.parametrize("version", ["", "forged", None])
def test_a_missing_or_forged_version_is_refused_next_to_the_form(editor, version):
    env = Environment.objects.get(name="p7-env")
    url = f"{LIST}{env.id}/edit"
    data = form_data(editor.get(url).content.decode())
    data["description"] = "x"
    if version is None:
        del data["version"]
    else:
        data["version"] = version
    page = editor.post(url, data)
    assert page.status_code == 200 and "could not be verified" in page.content.decode()
    env.refresh_from_db()
    assert env.description is None


def test_a_version_of_another_environment_is_not_accepted(org):
    env, other = Environment.objects.all()[:2]
    token = stale.sign({"meta": {"id": str(other.id), "updateCount": 0}, "spec": {}})
    assert stale.opened_version(token, str(env.id)) is None
    assert stale.opened_version(token, str(other.id))["n"] == 0
    assert json.loads(json.dumps(stale.opened_version(token, str(other.id))))  # plain data


def test_a_stale_form_with_errors_is_refused_as_stale_and_keeps_what_i_typed(editor, admin):
    env = Environment.objects.get(name="p7-env")
    url = f"{LIST}{env.id}/edit"
    data = form_data(editor.get(url).content.decode())
    someone_else_changes(env, admin, image="bob/image:2")
    data.update(name="", description="half done")
    refused = editor.post(url, data)
    assert refused.status_code == 409
    again = form_data(refused.content.decode())
    assert (again["image"], again["description"]) == ("bob/image:2", "half done")
    env.refresh_from_db()
    assert env.spec["image"] == "bob/image:2"


def test_a_form_shown_again_with_errors_keeps_the_version_it_was_opened_on(editor, admin):
    """An error, then someone else's save, then a second attempt: still refused as stale."""
    env = Environment.objects.get(name="p7-env")
    url = f"{LIST}{env.id}/edit"
    data = form_data(editor.get(url).content.decode())
    data["name"] = ""
    with_error = editor.post(url, data)
    assert with_error.status_code == 200 and "Name is required." in with_error.content.decode()
    data = form_data(with_error.content.decode())
    someone_else_changes(env, admin, image="bob/image:2")
    data["name"] = "p7-env"
    assert editor.post(url, data).status_code == 409
    env.refresh_from_db()
    assert env.spec["image"] == "bob/image:2"


def test_an_unverifiable_form_shown_again_cannot_be_saved_as_it_is(editor):
    env = Environment.objects.get(name="p7-env")
    url = f"{LIST}{env.id}/edit"
    data = form_data(editor.get(url).content.decode())
    data.update(version="forged", description="x")
    shown = editor.post(url, data)
    again = form_data(shown.content.decode())
    assert again["version"] == "" and again["description"] == "x"
    assert "could not be verified" in editor.post(url, again).content.decode()
    env.refresh_from_db()
    assert env.description is None
