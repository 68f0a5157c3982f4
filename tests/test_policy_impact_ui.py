"""The policy editor shows what a change does to compliance before saving it, and asks to
confirm when anything becomes non-compliant."""

import re

from envadmin.policies.models import Policy

from .conftest import put_json

PAGE = "/policies?scope=department&departmentId=d1"
BREAKING = "rules:\n  image:\n    options:\n    - value: python:3.11\n"


def opened(client, kind="workspace") -> dict:
    page = client.get(PAGE).content.decode().split(f'id="policy-{kind}"', 1)[1]
    version = re.search(r'name="version" value="([0-9a-f]+)"', page).group(1)
    return {"kind": kind.capitalize(), "version": version, "name": "d1 policy",
            "scope": "department", "departmentId": "d1"}  # fmt: skip


def confirmation(page: str) -> str:
    return re.search(r'name="confirm" value="([0-9a-f]+)"', page).group(1)


def test_a_breaking_change_shows_its_impact_and_saves_only_when_confirmed(editor):
    form = {**opened(editor), "yaml": BREAKING}
    shown = editor.post(PAGE, form)
    page = shown.content.decode()
    assert shown.status_code == 200 and not Policy.objects.exists()
    assert "Before you save: what changes" in page and "Save anyway" in page
    impact = page.split('id="impact-Workspace"', 1)[1].split("</section>", 1)[0]
    # Counts first, then the pairs by project, each with the reasons it would have.
    assert re.search(r"Saving makes <strong>(\d+)</strong>", impact).group(1) == "3"
    assert 'data-project="team-a"' in impact and 'data-project="team-b"' in impact
    assert "team-c" not in impact  # another department's project
    team_b = impact.split('data-project="team-b"', 1)[1].split("</table>", 1)[0]
    assert "p8-env" in team_b and "becomes non-compliant" in team_b
    assert "image &#x27;python:3.12&#x27; is not allowed by the policy of department" in team_b

    saved = editor.post(PAGE, {**form, "confirm": confirmation(page)})
    assert saved.status_code == 302
    assert Policy.objects.get(scope_key="department:d1").document["rules"]["image"]
    message = editor.get(saved["Location"]).content.decode()
    assert "The Workspace policy was saved." in message


def test_a_confirmation_covers_only_the_text_whose_impact_was_shown(editor):
    form = {**opened(editor), "yaml": BREAKING}
    confirm = confirmation(editor.post(PAGE, form).content.decode())
    edited = BREAKING.replace("python:3.11", "python:3.12")
    shown = editor.post(PAGE, {**form, "yaml": edited, "confirm": confirm})
    assert shown.status_code == 200 and "Before you save" in shown.content.decode()
    assert not Policy.objects.exists()


def test_a_change_that_breaks_nothing_is_saved_at_once_and_says_what_changed(editor, admin):
    meta = {"name": "d1", "scope": "department", "departmentId": "d1"}
    policy = {"rules": {"image": {"options": [{"value": "python:3.11"}]}}}
    saved = put_json(admin, "/api/v2/policy/workspaces", {"meta": meta, "policy": policy})
    assert saved.status_code == 200
    saved = editor.post(PAGE, {**opened(editor), "yaml": "{}"})
    assert saved.status_code == 302
    assert Policy.objects.get(scope_key="department:d1").document == {}
    message = editor.get(saved["Location"]).content.decode()
    assert re.search(r"pairs: \d+ became compliant", message), message


def test_a_change_without_effect_says_so(editor):
    saved = editor.post(
        PAGE, {**opened(editor), "yaml": "rules:\n  workingDir:\n    canEdit: true\n"}
    )
    assert saved.status_code == 302
    message = editor.get(saved["Location"]).content.decode()
    assert "No environment changes compliance for any project." in message


def test_an_invalid_policy_is_named_and_no_impact_shown(editor, admin):
    tenant = {"name": "t", "scope": "tenant"}
    rule = {"rules": {"image": {"required": True}}}
    assert (
        put_json(admin, "/api/v2/policy/workspaces", {"meta": tenant, "policy": rule}).status_code
        == 200
    )
    shown = editor.post(PAGE, {**opened(editor), "yaml": BREAKING})
    page = shown.content.decode()
    assert "policy.rules.image: Ruled by" in page and "Before you save" not in page
    assert not Policy.objects.filter(scope_key="department:d1").exists()


def test_an_impact_that_cannot_be_judged_is_said_and_the_save_confirmed(editor):
    from unittest import mock

    from envadmin.backends.local import LocalBackend
    from envadmin.contract.errors import Unavailable

    form = {**opened(editor), "yaml": "{}"}
    refusal = Unavailable("Cannot reach the Run:ai control plane.")
    with mock.patch.object(LocalBackend, "policy_impact", side_effect=refusal):
        shown = editor.post(PAGE, form)
    page = shown.content.decode()
    assert shown.status_code == 200 and not Policy.objects.exists()
    assert "could not be judged: Cannot reach the Run:ai control plane." in page
    assert editor.post(PAGE, {**form, "confirm": confirmation(page)}).status_code == 302
    assert Policy.objects.filter(scope_key="department:d1").exists()
