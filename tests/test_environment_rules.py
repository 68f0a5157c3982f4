"""The contract reports every problem of a document at once, names env vars as Kubernetes does,
and lets an env var go without a value only with instructions for the submitter."""

import pytest

from envadmin.contract.environment import validate_creation
from envadmin.contract.errors import InvalidRequest
from envadmin.inventory.models import Environment

from .conftest import environment_document, post_json

URL = "/api/v1/asset/environment"


def problems(spec: dict) -> dict:
    """The contract's {path: [messages]} for a creation document with this spec."""
    with pytest.raises(InvalidRequest) as refused:
        validate_creation(environment_document(spec={"image": "python:3.11", **spec}))
    return refused.value.field_errors


MANY_MISTAKES = {
    "tty": True,
    "runAsUid": 1000,
    "runAsGid": 100,
    "imagePullPolicy": "Sometimes",
    "environmentVariables": [
        {"name": "1ST", "value": "x"},
        {"name": "OK", "value": "y"},
        {"name": "OK", "value": "z"},
        {"name": "EMPTY"},
    ],
    "connections": [
        {"name": "lab", "internalToolInfo": {"toolType": "jupyter-notebook",
                                             "connectionType": "NodePort"}},
        {"name": "runs", "isExternal": True, "externalToolInfo": {"toolType": "wandb"}},
    ],
}  # fmt: skip
MANY_PATHS = {
    "spec.tty",
    "spec.runAsUid",
    "spec.runAsGid",
    "spec.imagePullPolicy",
    "spec.environmentVariables[0].name",
    "spec.environmentVariables[2].name",
    "spec.environmentVariables[3].value",
    "spec.connections[0].internalToolInfo.containerPort",
    "spec.connections[1].externalToolInfo.externalUrl",
}


def test_the_contract_reports_every_problem_of_a_document_at_once():
    assert set(problems(MANY_MISTAKES)) == MANY_PATHS


def test_rules_between_fields_are_judged_even_when_a_field_is_wrong():
    # A wrong field elsewhere in the spec no longer hides tty's and uid's rules.
    found = problems({"image": "Bad Image", "tty": True, "runAsUid": 5, "foo": 1})
    assert set(found) == {"spec.image", "spec.tty", "spec.runAsUid", "spec.foo"}


def test_a_field_wrong_in_itself_gets_no_second_message_from_a_rule():
    found = problems({"tty": True, "stdin": "yes", "uidGidSource": "ldap", "runAsUid": 5})
    # stdin and uidGidSource are wrong in themselves: no rule guesses what they meant.
    assert set(found) == {"spec.stdin", "spec.uidGidSource"}


def test_an_api_400_names_every_bad_field_in_its_details(org, admin):
    response = post_json(admin, URL, environment_document(spec=MANY_MISTAKES))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 400
    assert body["message"].startswith("spec.")
    for path in MANY_PATHS:
        assert f"{path}: " in body["details"]
    assert not Environment.objects.filter(name="my-env").exists()


@pytest.mark.parametrize(
    "name",
    ["HOME", "_private", ".dot", "-dash", "my.var-2", "a", "A_1.b-c"],
)
def test_an_env_var_name_of_kubernetes_shape_is_taken(org, admin, name):
    spec = {"image": "python:3.11", "environmentVariables": [{"name": name, "value": "1"}]}
    response = post_json(admin, URL, environment_document(spec=spec))
    assert response.status_code == 202, response.json()


@pytest.mark.parametrize(
    "name",
    ["1ST", "A=B", "MY VAR", "héllo", "a/b", "a:b", "x\n", "9"],
)
def test_an_env_var_name_kubernetes_refuses_is_a_400(org, admin, name):
    spec = {"image": "python:3.11", "environmentVariables": [{"name": name, "value": "1"}]}
    response = post_json(admin, URL, environment_document(spec=spec))
    assert response.status_code == 400
    assert response.json()["message"].startswith("spec.environmentVariables[0].name: Must start")


@pytest.mark.parametrize(
    "variable",
    [
        pytest.param({"name": "A", "value": "", "description": "Your W&B key."}, id="empty"),
        pytest.param({"name": "A", "description": "Your W&B key."}, id="absent"),
        pytest.param({"name": "A", "exclude": True}, id="excluding a policy default"),
        pytest.param({"name": "A", "value": "1"}, id="a value"),
    ],
)
def test_an_env_var_without_a_value_needs_instructions_or_exclude(variable):
    document = environment_document(spec={"environmentVariables": [variable]})
    assert validate_creation(document)["spec"]["environmentVariables"] == [variable]


@pytest.mark.parametrize(
    "variable",
    [
        pytest.param({"name": "A", "value": ""}, id="empty"),
        pytest.param({"name": "A"}, id="absent"),
        pytest.param({"name": "A", "value": "", "description": "  "}, id="blank instructions"),
        pytest.param({"name": "A", "exclude": False, "description": ""}, id="exclude false"),
    ],
)
def test_an_env_var_with_no_value_no_source_and_no_instructions_is_refused(variable):
    found = problems({"environmentVariables": [variable]})
    assert found == {
        "spec.environmentVariables[0].value": [
            "Give a value, or instructions for the person who submits the workload."
        ]
    }


def test_the_api_keeps_the_image_optional(org, admin):
    response = post_json(admin, URL, environment_document(spec={}))
    assert response.status_code == 202, response.json()
