"""The environment form without a request: a document shown in the form and posted back unchanged
comes out as the same document, and each backend error lands on the field it names."""

import re

import pytest
from django import forms
from django.contrib.auth.models import User

from envadmin.accounts.models import AccessRule, SubjectType
from envadmin.contract.choices import SCOPE_ID_FIELDS
from envadmin.contract.environment import validate_creation
from envadmin.ui.form_documents import (
    build_meta,
    build_spec,
    initial_from_document,
    placement_from_key,
    placement_key,
)
from envadmin.ui.form_errors import apply_backend_errors
from envadmin.ui.forms import ConnectionFormSet, EnvironmentForm, EnvironmentVariableFormSet

from .conftest import C1, post_json

PLACEMENTS = [{"scope": "project", "projectId": 7, "key": "project:7", "label": "c1 / d1 / p7"}]
CREDENTIAL = "0b7e4c3a-1d2f-4e5a-9b8c-7d6e5f4a3b21"

RICH = {
    "meta": {
        "name": "rich",
        "description": "Every field the form has.",
        "scope": "project",
        "projectId": 7,
        "workloadSupportedTypes": {
            "workspace": True, "training": True, "distributed": True, "inference": True,
            "distFramework": "PyTorch",
        },
    },
    "spec": {
        "image": "nvcr.io/nvidia/pytorch:24.05-py3",
        "imagePullPolicy": "IfNotPresent",
        "command": "python",
        "args": "train.py --epochs 3",
        "workingDir": "/workspace",
        "uidGidSource": "custom",
        "runAsUid": 1000,
        "runAsGid": 100,
        "supplementalGroups": "2,3,5",
        "overrideUidGidInWorkspace": True,
        "capabilities": ["NET_ADMIN", "SYS_PTRACE"],
        "seccompProfileType": "RuntimeDefault",
        "runAsNonRoot": True,
        "readOnlyRootFilesystem": False,
        "allowPrivilegeEscalation": False,
        "hostIpc": False,
        "hostNetwork": True,
        "createHomeDir": True,
        "stdin": True,
        "tty": True,
        "environmentVariables": [
            {"name": "PLAIN", "value": "1", "description": "A value."},
            {"name": "EMPTY", "value": "", "description": "Your W&B project."},
            {"name": "TOKEN", "credential": {"assetId": CREDENTIAL, "key": "token"}},
            {"name": "SETTINGS", "configMap": {"name": "settings", "key": "mode"}},
            {"name": "POD", "podFieldRef": {"path": "metadata.name"}},
            {"name": "POLICY_DEFAULT", "exclude": True, "description": "Not this one."},
        ],
        "connections": [
            {"name": "lab", "internalToolInfo": {"toolType": "jupyter-notebook",
             "connectionType": "NodePort", "containerPort": 8888,
             "nodePortInfo": {"isCustomPort": True}}},
            {"name": "code", "internalToolInfo": {"toolType": "visual-studio-code",
             "connectionType": "ExternalUrl", "containerPort": 8080,
             "externalUrlInfo": {"isCustomUrl": False, "externalUrl": "https://code.example"}}},
            {"name": "serve", "internalToolInfo": {"toolType": "custom",
             "connectionType": "ServingPort", "containerPort": 9000,
             "servingPortInfo": {"protocol": "grpc"}}},
            {"name": "board", "internalToolInfo": {"toolType": "tensorboard",
             "connectionType": "LoadBalancer", "containerPort": 6006}},
            {"name": "runs", "isExternal": True,
             "externalToolInfo": {"toolType": "wandb", "externalUrl": "https://wandb.example"}},
        ],
        "probes": {"readiness": {
            "initialDelaySeconds": 5, "periodSeconds": 10, "timeoutSeconds": 2,
            "successThreshold": 1, "failureThreshold": 3,
            "handler": {"httpGet": {"path": "/ready", "port": 8080, "host": "localhost",
                                    "scheme": "HTTPS"}},
        }},
    },
}  # fmt: skip


def browser_post(*forms_shown) -> dict:
    """What a browser posts for unbound forms as rendered: each widget's shown value."""
    data: dict = {}
    for form in forms_shown:
        for field in form:
            value = field.value()
            if isinstance(field.field.widget, forms.CheckboxInput):
                if value:
                    data[field.html_name] = "on"
            elif value is not None:
                data[field.html_name] = value
    return data


def shown_forms(document: dict):
    initial, variables, connections = initial_from_document(document, "project:7")
    env = EnvironmentVariableFormSet(initial=variables, prefix="env")
    conn = ConnectionFormSet(initial=connections, prefix="conn")
    return [
        EnvironmentForm(initial=initial, placements=PLACEMENTS),
        env.management_form, *env.forms, conn.management_form, *conn.forms,
    ]  # fmt: skip


def bound_forms(data: dict):
    form = EnvironmentForm(data, placements=PLACEMENTS)
    variables = EnvironmentVariableFormSet(data, prefix="env")
    connections = ConnectionFormSet(data, prefix="conn")
    assert form.is_valid(), form.errors
    assert variables.is_valid(), variables.errors
    assert connections.is_valid(), connections.errors
    return form, variables, connections


def test_the_rich_document_is_one_the_backend_accepts_as_it_is():
    assert validate_creation(RICH) == RICH


def test_a_document_shown_and_posted_back_unchanged_is_the_same_document():
    form, variables, connections = bound_forms(browser_post(*shown_forms(RICH)))
    data = form.cleaned_data
    document = {
        "meta": build_meta(data, form.placements[data["placement"]]),
        "spec": build_spec(data, variables.cleaned_data, connections.cleaned_data),
    }
    assert document == RICH


def test_an_edit_sends_only_the_editable_meta():
    form, _, _ = bound_forms(browser_post(*shown_forms(RICH)))
    assert build_meta(form.cleaned_data, None) == {
        "name": "rich",
        "description": "Every field the form has.",
    }


def test_removed_and_blank_rows_are_left_out_of_the_document():
    data = browser_post(*shown_forms(RICH))
    data["env-0-DELETE"] = "on"
    data["conn-4-DELETE"] = "on"
    data.update({"env-TOTAL_FORMS": "7", "env-6-source": "value"})  # added, left blank
    form, variables, connections = bound_forms(data)
    spec = build_spec(form.cleaned_data, variables.cleaned_data, connections.cleaned_data)
    assert spec["environmentVariables"] == RICH["spec"]["environmentVariables"][1:]
    assert spec["connections"] == RICH["spec"]["connections"][:4]


@pytest.mark.parametrize(
    "meta",
    [
        {"scope": "tenant"},
        {"scope": "cluster", "clusterId": C1},
        {"scope": "department", "departmentId": "12"},
        {"scope": "project", "projectId": 7},
    ],
    ids=lambda meta: meta["scope"],
)
def test_a_placement_key_names_the_scope_and_its_node(meta):
    placement = placement_from_key(placement_key(meta))
    assert {k: v for k, v in placement.items() if k in ("scope", *SCOPE_ID_FIELDS.values())} == meta


@pytest.mark.parametrize(("kind", "legend"), [("env", "Environment variable"), ("conn", "Tool")])
def test_a_row_added_in_place_is_marked_up_as_the_rows_the_form_shows(
    org, admin, client, kind, legend
):
    created = post_json(admin, "/api/v1/asset/environment", RICH)
    assert created.status_code == 202, created.content
    user = User.objects.create_user("alice")
    AccessRule.objects.create(subject_type=SubjectType.USER, subject="alice",
                              role="System administrator", scope_key="tenant")  # fmt: skip
    client.force_login(user)
    page = client.get(f"/environments/{created.json()['meta']['id']}/edit").content.decode()
    added = client.get(f"/environments/row/{kind}?index=9").content.decode()
    # Each row's legend numbers it, as its fields' labels do: "Tool 2", "Name (Tool 2)".
    opening = f'<fieldset class="row {kind}-row">\n  <legend class="visually-hidden">{legend} '
    shown = RICH["spec"]["environmentVariables" if kind == "env" else "connections"]
    numbers = re.findall(re.escape(opening) + r"(\d+)</legend>", page)
    assert numbers == [str(n) for n in range(1, len(shown) + 1)]
    assert added.startswith(f"{opening}10</legend>")
    assert f'name="{kind}-0-DELETE"' in page and f'name="{kind}-9-DELETE"' in added


# --- backend errors -> form fields ------------------------------------------------------------

# Rows as posted: a blank and a removed env var come before the two the document holds, so the
# document's index differs from the formset's.
POSTED = {
    "placement": "project:7", "name": "e", "image": "python:3.11", "probe_path": "x",
    "env-TOTAL_FORMS": "4", "env-INITIAL_FORMS": "0",
    "env-0-source": "value",
    "env-1-name": "GONE", "env-1-value": "x", "env-1-DELETE": "on",
    "env-2-name": "A", "env-2-source": "value", "env-2-value": "1",
    "env-3-name": "T", "env-3-source": "credential", "env-3-credential": "bad", "env-3-key": "k",
    "conn-TOTAL_FORMS": "3", "conn-INITIAL_FORMS": "0",
    "conn-0-name": "lab", "conn-0-tool": "jupyter-notebook", "conn-0-connectionType": "NodePort",
    "conn-1-tool": "", "conn-1-name": "",
    "conn-2-name": "runs", "conn-2-tool": "wandb",
}  # fmt: skip


@pytest.mark.parametrize(
    ("path", "where", "field", "said"),
    [
        ("spec.environmentVariables[0].value", "env-2", "value", "Wrong."),
        ("spec.environmentVariables[1].credential.assetId", "env-3", "credential", "Wrong."),
        ("spec.environmentVariables[1].credential", "env-3", "source", "Wrong."),
        ("spec.environmentVariables[1]", "env-3", None, "Wrong."),
        ("spec.connections[0].internalToolInfo.containerPort", "conn-0", "containerPort", "Wrong."),
        (
            "spec.connections[0].internalToolInfo.nodePortInfo.isCustomPort",
            "conn-0",
            "tool",
            "Wrong.",
        ),
        ("spec.connections[1].externalToolInfo.externalUrl", "conn-2", "externalUrl", "Wrong."),
        ("spec.connections[1].name", "conn-2", "name", "Wrong."),
        ("meta.name", "form", "name", "Wrong."),
        ("meta.projectId", "form", "placement", "Wrong."),
        ("spec.image", "form", "image", "Wrong."),
        ("spec.probes.readiness.handler.httpGet.path", "form", "probe_path", "Wrong."),
        ("spec.probes.readiness.periodSeconds", "form", "probe_periodSeconds", "Wrong."),
        ("spec.environmentVariables[2].name", "form", None, "Environment variable 3, name: Wrong."),
        ("body", "form", None, "Wrong."),
    ],
)
def test_a_backend_error_lands_on_the_field_its_path_names(path, where, field, said):
    form, variables, connections = bound_forms(POSTED)
    apply_backend_errors({path: ["Wrong."]}, form, variables, connections)
    rows = {row.prefix: row for row in (*variables.forms, *connections.forms)}
    target = form if where == "form" else rows[where]
    # What no field holds goes on top of the form named as a person would, or on top of its row.
    assert target.errors == {field or "__all__": [said]}
    others = [row for row in rows.values() if row is not target]
    assert [row.errors for row in others] == [{}] * len(others)
    if target is not form:
        assert form.errors == {}
