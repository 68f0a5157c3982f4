"""The fixes on the environment form: the draft panel offers them, "Apply these fixes" puts them
in the form field by field, and "Make a compliant copy" opens the copy form with them."""

import html
import json
import re

import pytest

from envadmin.inventory.models import Environment

from .conftest import form_data
from .test_form_policy_hints import policy

NEW = "/environments/new"
PREVIEW = "/environments/preview"
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/environments/new"}


@pytest.fixture
def policies(editor, admin):
    policy(admin, "workspaces", "department", departmentId="d1", rules={
        "imagePullPolicy": {"options": [{"value": "IfNotPresent", "displayed": "If not present"},
                                        {"value": "Never"}]},
        "security": {"runAsUid": {"min": 1000, "step": 100}},
    }, defaults={"imagePullPolicy": "IfNotPresent"})  # fmt: skip
    return editor


def typed(client, **data):
    base = form_data(client.get(NEW).content.decode())
    return {**base, "name": "mine", "image": "python:3", "placement": "project:7",
            "workspace": "on", "imagePullPolicy": "Always", "uidGidSource": "custom",
            "runAsUid": "1234", "command": "python train.py", **data}  # fmt: skip


def text(page):
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def test_the_panel_offers_the_fixes_of_a_draft_that_does_not_comply(policies):
    body = policies.post(PREVIEW, typed(policies), **HTMX).content.decode()
    assert "Not compliant (2)" in body
    assert "Apply these fixes" in body
    assert 'hx-post="/environments/new"' in body
    shown = text(body)
    assert (
        "Pull policy: Always → IfNotPresent (because Pull policy 'Always' is not allowed" in shown
    )
    assert "1234 → 1200 (because" in shown


def test_a_compliant_draft_is_offered_no_fixes(policies):
    data = typed(policies, imagePullPolicy="Never", runAsUid="1300")
    body = policies.post(PREVIEW, data, **HTMX).content.decode()
    assert "Compliant" in body and "Apply these fixes" not in body


def test_applying_the_fixes_changes_only_the_fixed_fields(policies):
    data = typed(policies, **{"env-TOTAL_FORMS": "1", "env-INITIAL_FORMS": "0",
                              "env-0-name": "KEEP", "env-0-source": "value",
                              "env-0-value": "1"})  # fmt: skip
    response = policies.post(NEW, {**data, "apply_fixes": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    trigger = json.loads(response["HX-Trigger-After-Settle"])
    assert trigger == {"fixes-applied": {"target": "#env-form"}}
    body = response.content.decode()
    assert 'id="applied-fixes"' in body
    assert "Pull policy: Always → IfNotPresent" in text(body)
    fixed = form_data(body)
    assert fixed["imagePullPolicy"] == "IfNotPresent" and fixed["runAsUid"] == "1200"
    # everything else as typed, and nothing saved
    assert fixed["command"] == "python train.py" and fixed["name"] == "mine"
    assert fixed["env-0-name"] == "KEEP" and fixed["env-0-value"] == "1"
    assert not Environment.objects.filter(name="mine").exists()
    judged = policies.post(PREVIEW, {**fixed, "name": "mine"}, **HTMX).content.decode()
    assert "Compliant" in judged and "Not compliant" not in judged


def test_variables_the_policy_does_not_permit_are_removed_from_the_form(policies, admin):
    policy(admin, "trainings", "tenant", rules={
        "environmentVariables": {"instances": {"canAdd": False}},
    })  # fmt: skip
    rows = {"env-TOTAL_FORMS": "2", "env-INITIAL_FORMS": "0",
            "env-0-name": "EXTRA", "env-0-source": "value", "env-0-value": "1",
            "env-1-name": "OTHER", "env-1-source": "value", "env-1-value": "2"}  # fmt: skip
    data = typed(policies, imagePullPolicy="Never", runAsUid="1300", training="on", **rows)
    body = policies.post(NEW, {**data, "apply_fixes": "1"}, HTTP_HX_REQUEST="true")
    fixed = form_data(body.content.decode())
    assert fixed["env-TOTAL_FORMS"] == "0"
    assert "env-0-name" not in fixed
    assert "Environment variables: EXTRA removed" in text(body.content.decode())


@pytest.fixture
def violating(policies):
    """An environment of the tenant that team-a (project 7) sees, breaking its Workspace rules."""
    answer = policies.post(NEW, typed(policies, placement="tenant", name="shared"))
    assert answer.status_code == 302, answer.content.decode()[:3000]
    return Environment.objects.get(name="shared")


def test_the_detail_page_and_the_matrix_offer_a_compliant_copy(policies, violating):
    link = f"/environments/{violating.id}/copy?compliant_for=7"
    policies.post("/environments/review-as", {"project": "7", "workload_type": "Workspace"})
    detail = policies.get(f"/environments/{violating.id}").content.decode()
    assert f'href="{link}"' in detail
    assert "Make a compliant copy for c1 / research / team-a" in text(detail)
    matrix = policies.get("/compliance", {"project": "7"}).content.decode()
    assert f'href="{link}"' in matrix


def test_the_compliant_copy_form_saves_a_compliant_environment(policies, violating, admin):
    page = policies.get(f"/environments/{violating.id}/copy?compliant_for=7").content.decode()
    assert "Changed to comply with the policies of c1 / research / team-a" in page
    data = form_data(page)
    assert data["name"] == "shared-team-a"
    assert data["placement"] == "project:7"
    assert data["imagePullPolicy"] == "IfNotPresent" and data["runAsUid"] == "1200"
    assert data["command"] == "python train.py"
    saved = policies.post(f"/environments/{violating.id}/copy?compliant_for=7", data)
    assert saved.status_code == 302, saved.content.decode()[:3000]
    copy = Environment.objects.get(name="shared-team-a")
    answer = admin.get(f"/api/v1/asset/environment/{copy.id}",
                       {"complyToProject": 7, "complyToWorkloadType": "Workspace"})  # fmt: skip
    assert answer.json()["compliance"]["compliance"] is True


def test_a_compliant_copy_goes_only_where_the_user_may_create(signed_in, org, violating):
    client = signed_in("L1 researcher", "project:8", name="bob")
    refused = client.get(f"/environments/{violating.id}/copy?compliant_for=7", follow=True)
    assert "You may not create environments in that project." in refused.content.decode()
    assert form_data(refused.content.decode())["name"] == ""  # a plain copy instead
    client.post("/environments/review-as", {"project": "8", "workload_type": "Workspace"})
    detail = client.get(f"/environments/{violating.id}").content.decode()
    assert "compliant_for=7" not in detail
    assert f"/environments/{violating.id}/copy?compliant_for=8" in detail


def test_changes_land_on_their_controls_and_rows_keep_their_other_values(db):
    from django.http import QueryDict

    from envadmin.ui.compliance_fixes import apply_to_data

    data = QueryDict(mutable=True)
    data.update({"hostIpc": "true", "runAsUid": "5", "env-TOTAL_FORMS": "3",
                 "env-INITIAL_FORMS": "0", "env-0-name": "GONE", "env-0-value": "x",
                 "env-1-name": "LOCKED", "env-1-exclude": "on", "env-2-name": "KEPT",
                 "env-2-value": "typed"})  # fmt: skip
    data.setlist("capabilities", ["CHOWN", "KILL"])
    changes = [
        {"field": "security.hostIpc", "from": True, "to": None, "because": "b"},
        {"field": "security.runAsUid", "from": 5, "to": 1000, "because": "b"},
        {"field": "security.capabilities", "from": ["CHOWN", "KILL"], "to": ["CHOWN"],
         "because": "b"},
        {"field": "environmentVariables", "from": {"name": "GONE"}, "to": None, "because": "b"},
        {"field": "environmentVariables", "from": {"name": "LOCKED", "exclude": True},
         "to": {"name": "LOCKED"}, "because": "b"},
        {"field": "workloadSupportedTypes.training", "from": None, "to": True, "because": "b"},
    ]  # fmt: skip

    apply_to_data(data, changes)

    assert "hostIpc" not in data and data["runAsUid"] == "1000"
    assert data.getlist("capabilities") == ["CHOWN"]
    assert data["training"] == "on"
    assert data["env-TOTAL_FORMS"] == "2"
    assert (data["env-0-name"], data.get("env-0-exclude")) == ("LOCKED", None)
    assert (data["env-1-name"], data["env-1-value"]) == ("KEPT", "typed")
    assert "env-2-name" not in data
