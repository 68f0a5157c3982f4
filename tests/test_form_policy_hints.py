"""The environment form shows what the judged project's policies ask, and the draft compliance
panel judges every ticked type (ui/policy_hints.py, views/form.py)."""

import re

import pytest

from .conftest import form_data, put_json

NEW = "/environments/new"
PREVIEW = "/environments/preview"


def policy(admin, kind, scope, rules=None, defaults=None, **node):
    answer = put_json(admin, f"/api/v2/policy/{kind}", {
        "meta": {"name": f"{kind}-{scope}", "scope": scope, **node},
        "policy": {"rules": rules or {}, "defaults": defaults or {}},
    })  # fmt: skip
    assert answer.status_code == 200, answer.content


@pytest.fixture
def policies(editor, admin):
    """Workspace on research (d1): no Never pull policy, uid 1000 or more, hostNetwork fixed
    off; Training on the tenant: uid at most 2000, image required."""
    policy(admin, "workspaces", "department", departmentId="d1", rules={
        "imagePullPolicy": {"options": [{"value": "IfNotPresent", "displayed": "If not present"},
                                        {"value": "Always"}]},
        "security": {"runAsUid": {"min": 1000}, "hostNetwork": {"canEdit": False}},
    }, defaults={"security": {"hostNetwork": False}, "workingDir": "/home/work"})  # fmt: skip
    policy(admin, "trainings", "tenant", rules={
        "security": {"runAsUid": {"max": 2000}}, "image": {"required": True},
    })  # fmt: skip
    return editor


def page(client, data=None, **extra):
    """The form page: GET, or a POST of `data` (the new form's own fields under it)."""
    if data is None:
        return client.get(NEW).content.decode()
    base = form_data(client.get(NEW).content.decode())
    return client.post(NEW, {**base, **data}, **extra).content.decode()


def control(body, name):
    """The opening tag of a form control by name."""
    found = re.search(rf'<(?:input|select)[^>]*name="{name}"[^>]*>', body)
    assert found, name
    return found.group(0)


def option(body, name, value):
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', body, re.S).group(0)
    return re.search(rf'<option value="{value}"[^>]*>[^<]*</option>', select).group(0)


def hint(body, name):
    found = re.search(rf'<div class="policy-hint" id="id_{name}-policy">(.*?)</div>', body, re.S)
    return re.sub(r"\s+", " ", found.group(1)) if found else ""


REFRESH = {"refresh_hints": "1", "placement": "project:7", "workspace": "on"}


def test_the_placement_project_and_ticked_type_put_their_policy_on_the_fields(policies):
    body = page(policies, REFRESH, HTTP_HX_REQUEST="true")
    assert "Policy hints for project <strong>c1 / research / team-a</strong>, Workspace" in body
    never = option(body, "imagePullPolicy", "Never")
    assert "disabled" in never
    assert "not allowed for Workspace by department research" in never
    assert "disabled" not in option(body, "imagePullPolicy", "Always")
    uid = control(body, "runAsUid")
    assert 'min="1000"' in uid and "max=" not in uid
    assert 'aria-describedby="id_runAsUid-policy"' in uid
    assert "1000 or more (set by department research for Workspace)" in hint(body, "runAsUid")
    # Locked, with its value and who fixes it; the control holds the fixed value.
    network = control(body, "hostNetwork")
    assert "disabled" in network
    assert "Fixed to <strong>No</strong> by department research for Workspace" in hint(
        body, "hostNetwork"
    )
    assert 'value="false" selected' in body.split('name="hostNetwork"')[1].split("</select>")[0]
    # A default is offered, not filled in.
    assert "Use policy default: /home/work" in hint(body, "workingDir")
    assert 'value="" ' not in control(body, "workingDir")  # the field itself stays empty
    # Nothing was judged: no errors on a refresh.
    assert "has-error" not in body


def test_several_types_combine_and_required_is_marked(policies):
    body = page(policies, {**REFRESH, "training": "on"}, HTTP_HX_REQUEST="true")
    uid = control(body, "runAsUid")
    assert 'min="1000"' in uid and 'max="2000"' in uid
    text = hint(body, "runAsUid")
    assert "Between 1000 and 2000" in text
    assert "department research for Workspace" in text and "tenant for Training" in text
    assert 'aria-required="true"' in control(body, "image")
    assert "Required by tenant for Training" in hint(body, "image")
    # Unticked, Training's rules are gone again.
    body = page(policies, REFRESH, HTTP_HX_REQUEST="true")
    assert "aria-required" not in control(body, "image") and "max=" not in control(body, "runAsUid")


def test_values_typed_survive_and_a_forbidden_value_already_chosen_is_kept(policies):
    data = {**REFRESH, "imagePullPolicy": "Never", "runAsUid": "5", "name": "typed"}
    body = page(policies, data, HTTP_HX_REQUEST="true")
    never = option(body, "imagePullPolicy", "Never")
    assert "selected" in never and "disabled" not in never and "not allowed" in never
    assert 'value="5"' in control(body, "runAsUid")
    assert 'value="typed"' in control(body, "name")


def test_a_value_other_than_the_fixed_one_is_left_to_the_user(policies):
    body = page(policies, {**REFRESH, "hostNetwork": "true"}, HTTP_HX_REQUEST="true")
    assert "disabled" not in control(body, "hostNetwork")
    assert "this value does not comply" in hint(body, "hostNetwork")


def test_use_policy_default_fills_in_only_that_field(policies):
    data = {**REFRESH, "policy_default": "workingDir", "command": "python"}
    body = page(policies, data, HTTP_HX_REQUEST="true")
    assert 'value="/home/work"' in control(body, "workingDir")
    assert 'value="python"' in control(body, "command")
    assert "The policy default." in hint(body, "workingDir")


def test_a_locked_field_saves_the_fixed_value(policies):
    from envadmin.inventory.models import Environment

    data = {"placement": "project:7", "workspace": "on", "name": "locked", "image": "python:3"}
    answer = policies.post(NEW, {**form_data(page(policies)), **data})
    assert answer.status_code == 302, answer.content.decode()[:3000]
    assert Environment.objects.get(name="locked").spec.get("hostNetwork") is False


def test_without_a_project_placement_the_panel_project_is_used(policies):
    body = page(policies, {"refresh_hints": "1", "placement": "tenant", "workspace": "on"},
                HTTP_HX_REQUEST="true")  # fmt: skip
    assert "min=" not in control(body, "runAsUid")
    data = {"refresh_hints": "1", "placement": "tenant", "workspace": "on",
            "preview_project": "8"}  # fmt: skip
    body = page(policies, data, HTTP_HX_REQUEST="true")
    assert "Policy hints for project <strong>c1 / research / team-b</strong>" in body
    assert 'min="1000"' in control(body, "runAsUid")


# --- the draft compliance panel -------------------------------------------------------------


def preview(client, **data):
    base = form_data(client.get(NEW).content.decode())
    return client.post(PREVIEW, {**base, "name": "d", "image": "python:3", **data},
                       HTTP_HX_REQUEST="true").content.decode()  # fmt: skip


def test_the_panel_defaults_to_the_placement_project(policies):
    body = preview(
        policies, placement="project:8", workspace="on", runAsUid="5", uidGidSource="custom"
    )
    assert "For project <strong>c1 / research / team-b</strong>" in body
    assert "Not compliant (1)" in body
    # A project chosen in the panel wins over the placement's.
    body = preview(policies, placement="project:8", workspace="on", preview_project="9")
    assert "For project <strong>c1 / vision / team-c</strong>" in body


def test_the_panel_shows_every_ticked_type_with_linked_reasons(policies):
    body = preview(policies, placement="project:7", workspace="on", training="on",
                   inference="on", runAsUid="5000", imagePullPolicy="Never",
                   uidGidSource="custom")  # fmt: skip
    kinds = re.findall(r'<section class="preview-type" aria-label="(\w+)"', body)
    assert kinds == ["Workspace", "Training", "Inference"]
    workspace, training, inference = body.split('<section class="preview-type"')[1:]
    assert "Not compliant (1)" in workspace  # Never; 5000 is fine for Workspace
    assert (
        '<a href="#id_imagePullPolicy">Pull policy</a>: Pull policy &#x27;Never&#x27;' in workspace
    )
    assert '<a href="#id_runAsUid">User id (uid)</a>: User id (uid) is 5000, above' in training
    assert "Compliant" in inference and "meets the policy" in inference


def test_the_panel_asks_for_a_type_or_a_project(policies):
    assert "Tick a workload type" in preview(policies, placement="project:7")
    assert "Choose a project" in preview(policies, placement="tenant", workspace="on")


def test_the_panel_keeps_its_project_after_a_failed_submit(policies):
    base = form_data(page(policies))
    data = {**base, "placement": "tenant", "workspace": "on", "name": "", "preview_project": "9"}
    body = policies.post(NEW, data).content.decode()
    assert "has-error" in body
    assert '<option value="9" selected>' in body


def test_the_panel_comes_before_the_submit_button_and_its_region_stays(policies):
    body = page(policies)
    assert body.index('<aside class="card preview-card"') < body.index('class="button primary"')
    # htmx swaps the region's content: the live region itself is in the page, not the answer.
    assert 'id="compliance-panel" class="preview" aria-live="polite"' in body
    assert 'hx-target="#compliance-panel" hx-swap="innerHTML"' in body
    assert "compliance-panel" not in preview(policies, placement="project:7", workspace="on")


def test_the_edit_form_reads_its_fixed_placement_and_types(policies):
    from envadmin.inventory.models import Environment

    env = Environment.objects.get(name="p7-env")  # project 7 (team-a), workspace only
    body = policies.get(f"/environments/{env.id}/edit").content.decode()
    assert "Policy hints for project <strong>c1 / research / team-a</strong>, Workspace." in body
    assert 'min="1000"' in control(body, "runAsUid")
    # The fixed placement and types offer no refresh; the panel project still does.
    assert "hx-post" not in control(body, "placement")
    assert "refresh_hints" in control(body, "preview_project")


def test_environment_variable_rules_are_told_above_the_rows(editor, admin):
    policy(
        admin,
        "trainings",
        "department",
        departmentId="d1",
        rules={
            "environmentVariables": {"instances": {"canAdd": False, "locked": ["HTTPS_PROXY"]}},
        },
        defaults={"environmentVariables": {"instances": [{"name": "HTTPS_PROXY", "value": "p"}]}},
    )
    body = page(editor, {"refresh_hints": "1", "placement": "project:7", "training": "on"},
                HTTP_HX_REQUEST="true")  # fmt: skip
    note = re.search(r'id="env-rows-policy">(.*?)</div>', body, re.S).group(1)
    assert "Only these may be added: HTTPS_PROXY (set by department research for Training)" in note
    assert "These may not be excluded: HTTPS_PROXY" in note


def test_a_field_with_a_hint_and_an_error_is_described_by_both(policies):
    """The hint joins Django's own description ids (help text, error), never replaces them."""
    body = page(policies, {"placement": "project:7", "workspace": "on", "image": "x",
                           "uidGidSource": "", "runAsUid": "500"})  # fmt: skip
    uid = control(body, "runAsUid")
    described = re.search(r'aria-describedby="([^"]*)"', uid).group(1).split()
    assert described == ["id_runAsUid_error", "id_runAsUid-policy"]
    assert 'id="id_runAsUid_error"' in body
    supplemental = control(body, "supplementalGroups")
    assert "id_supplementalGroups_helptext" in supplemental
