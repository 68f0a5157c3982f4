"""The environment form's errors: every problem of a submit at once, in the form's words, in a
summary linking to each field; and the rules the form adds to the contract's (an image)."""

import html
import re
from types import SimpleNamespace

import pytest

from envadmin.backends.base import EnvironmentBackend
from envadmin.inventory.models import Environment
from envadmin.ui.forms import ConnectionFormSet

from .conftest import environment_document, post_json

FORM = "/environments/new"


def posted(**fields) -> dict:
    """A create form's data: a valid environment in project 7, with `fields` on top."""
    data = {
        "placement": "project:7", "name": "fresh", "image": "python:3.11",
        "env-TOTAL_FORMS": "0", "env-INITIAL_FORMS": "0",
        "conn-TOTAL_FORMS": "0", "conn-INITIAL_FORMS": "0",
    }  # fmt: skip
    rows = {key.split("-")[0] for key in fields if key[:4] in ("env-", "conn")}
    for kind in rows:
        indexes = {int(key.split("-")[1]) for key in fields if key.startswith(f"{kind}-")}
        data[f"{kind}-TOTAL_FORMS"] = str(max(indexes) + 1)
    return {**data, **fields}


def errors_of(body: str) -> dict[str, str]:
    """{control id: its error text} of a rendered form."""
    return {
        found: html.unescape(text)
        for found, text in re.findall(r'<p class="error" id="id_(.+?)_error">(.*?)</p>', body)
    }


def summary_of(body: str) -> list[tuple[str, str]]:
    """The error summary's (href, text) items."""
    block = re.search(r'<div class="error-summary".*?</div>', body, re.S)
    if not block:
        return []
    return [
        (href, html.unescape(text))
        for href, text in re.findall(r'<a href="(#[^"]+)">(.*?)</a>', block.group(0))
    ]


@pytest.fixture
def submit(editor):
    def post(**fields):
        response = editor.post(FORM, posted(**fields))
        assert response.status_code in (200, 302)
        return response

    return post


def test_a_valid_form_still_creates(submit):
    assert submit().status_code == 302
    assert Environment.objects.filter(name="fresh").exists()


def test_the_form_requires_an_image_the_api_does_not(org, submit, admin):
    body = submit(image="").content.decode()
    assert errors_of(body) == {"image": "Image is required: the container image workloads run."}
    assert not Environment.objects.filter(name="fresh").exists()
    api = post_json(admin, "/api/v1/asset/environment", environment_document("no-image", spec={}))
    assert api.status_code == 202


def test_every_mistake_of_a_submit_is_reported_at_once(submit):
    body = submit(
        name="p7-env",  # taken in project 7
        image="",
        tty="true",
        runAsGid="100",
        **{"env-0-name": "A=B", "env-0-source": "value", "env-0-value": "1",
           "conn-0-name": "lab", "conn-0-tool": "jupyter-notebook"},
    ).content.decode()  # fmt: skip
    errors = errors_of(body)
    assert errors == {
        "name": "An environment named 'p7-env' already exists here: choose another name.",
        "image": "Image is required: the container image workloads run.",
        "tty": "A TTY needs stdin: set Stdin to Yes.",
        "runAsGid": "Only used when “User and group ids from” is custom: choose custom, or "
        "leave this empty.",
        "env-0-name": "Use letters, digits, '-', '_' and '.', not starting with a digit "
        "(for example MY_VAR).",
        "conn-0-connectionType": "Connection type is required for an internal tool.",
        "conn-0-containerPort": "Container port is required for an internal tool.",
    }
    summary = summary_of(body)
    assert "7 problems" in body
    # Each summary item links to the control whose error it repeats, in page order.
    assert [href for href, _ in summary] == [
        "#id_name", "#id_image", "#id_conn-0-connectionType", "#id_conn-0-containerPort",
        "#id_env-0-name", "#id_runAsGid", "#id_tty",
    ]  # fmt: skip
    for href, text in summary:
        assert errors[href[4:]] in text
        assert f'id="{href[1:]}"' in body
    assert "may not be null" not in body and "This field is required" not in body


def test_a_field_with_an_error_of_its_own_gets_no_second_one(submit):
    # "abc" is no port: the form says so, and the contract's "port is required" (it saw no
    # port) is not added on top.
    body = submit(
        **{"conn-0-name": "lab", "conn-0-tool": "jupyter-notebook",
           "conn-0-connectionType": "NodePort", "conn-0-containerPort": "abc"}
    ).content.decode()  # fmt: skip
    assert errors_of(body) == {"conn-0-containerPort": "Enter a whole number."}


@pytest.mark.parametrize("name", ["1ST", "MY VAR", "A=B", "é"])
def test_the_form_refuses_an_env_var_name_kubernetes_refuses(submit, name):
    body = submit(
        **{"env-0-name": name, "env-0-source": "value", "env-0-value": "1"}
    ).content.decode()
    assert "not starting with a digit" in errors_of(body)["env-0-name"]
    assert not Environment.objects.filter(name="fresh").exists()


def test_an_empty_value_without_instructions_is_refused_in_the_form(submit):
    body = submit(**{"env-0-name": "WANDB_KEY", "env-0-source": "value"}).content.decode()
    assert errors_of(body) == {
        "env-0-value": "Give a value, or instructions for the person who submits the workload."
    }


def test_an_empty_value_with_instructions_is_left_for_the_submitter(submit):
    response = submit(
        **{"env-0-name": "WANDB_KEY", "env-0-source": "value",
           "env-0-description": "Your W&B API key."}
    )  # fmt: skip
    assert response.status_code == 302
    spec = Environment.objects.get(name="fresh").spec
    assert spec["environmentVariables"] == [
        {"name": "WANDB_KEY", "value": "", "description": "Your W&B API key."}
    ]


def test_a_missing_part_of_a_source_is_named_in_the_row(submit):
    body = submit(
        **{"env-0-name": "TOKEN", "env-0-source": "credential", "env-0-key": "token"}
    ).content.decode()
    assert errors_of(body) == {"env-0-credential": "Choose the credential."}


@pytest.mark.parametrize(
    ("tool", "connection", "hidden"),
    [
        ("", "", {"connectionType", "containerPort", "externalUrl", "custom", "protocol"}),
        ("wandb", "", {"connectionType", "containerPort", "custom", "protocol"}),
        ("jupyter-notebook", "NodePort", {"externalUrl", "protocol"}),
        ("jupyter-notebook", "ServingPort", {"externalUrl", "custom"}),
        ("custom", "ExternalUrl", {"protocol"}),
    ],
)
def test_a_tool_row_is_rendered_with_the_fields_of_its_tool(tool, connection, hidden):
    rows = ConnectionFormSet(initial=[{"tool": tool, "connectionType": connection}], prefix="c")
    row = rows.forms[0]
    off = {name for name, field in row.fields.items() if getattr(field, "show_when", None)
           and not field.fits}  # fmt: skip
    assert off == hidden


def test_a_tool_row_marks_its_hidden_fields_in_the_page(editor):
    body = editor.post(
        FORM, posted(image="", **{"conn-0-name": "runs", "conn-0-tool": "comet"})
    ).content.decode()
    wrappers = dict(re.findall(r'data-show-when="([^"]+)"( data-fit="off")?', body))
    assert wrappers == {
        "internal": ' data-fit="off"',
        "external internal:ExternalUrl": "",
        "internal:NodePort internal:ExternalUrl": ' data-fit="off"',
        "internal:ServingPort": ' data-fit="off"',
    }


def test_the_interfaces_name_check_compares_placement_and_name_as_run_ai_does():
    """The default (proxy mode) asks the list, then keeps only the same placement and name."""
    entries = [
        {"meta": {"id": "1", "name": "Lab", "scope": "project", "projectId": 7}},
        {"meta": {"id": "2", "name": "lab", "scope": "project", "projectId": 8}},
        {"meta": {"id": "3", "name": "lab", "scope": "department", "departmentId": "7"}},
    ]
    asked = []

    def list_environments(caller, params):
        asked.append(params)
        return {"entries": entries}

    fake = SimpleNamespace(list_environments=list_environments)
    taken = EnvironmentBackend.environment_name_taken
    meta = {"name": "lab", "scope": "project", "projectId": 7}
    assert taken(fake, None, meta) is True
    assert asked == [{"name": "lab", "scope": "project", "projectId": "7"}]
    assert taken(fake, None, meta, exclude_id="1") is False  # its own name, on an edit
    assert taken(fake, None, {**meta, "projectId": 9}) is False
    assert taken(fake, None, {"name": "lab", "scope": "tenant"}) is False


def test_a_field_of_another_kind_of_tool_shows_when_it_has_an_error(editor):
    # A port typed for an internal tool, then the tool changed to an external one: the bad
    # port blocks the save, so it stays in sight with its error.
    body = editor.post(
        FORM, posted(**{"conn-0-name": "runs", "conn-0-tool": "comet",
                        "conn-0-externalUrl": "https://comet.example",
                        "conn-0-containerPort": "abc"})
    ).content.decode()  # fmt: skip
    assert errors_of(body) == {"conn-0-containerPort": "Enter a whole number."}
    port = re.search(r'<div class="field has-error" data-show-when="internal"([^>]*)>', body)
    assert port and "data-fit" not in port.group(1)
