"""Resource bounds on every input path (API, environment form, policy YAML editor, snapshot):
list lengths, nesting, text that storage cannot take (NUL, lone surrogates), YAML aliases, body
size. Each is refused with a clear message before anything is stored, never a 500, and a refused
input leaves nothing behind. Django's own refusals on the API (body too large, disallowed host)
answer in the API's JSON error body, and ?format= is not a content-negotiation switch."""

import time

import pytest
import yaml
from django.contrib.auth.models import User

from envadmin.contract.environment import MAX_CONNECTIONS, MAX_ENVIRONMENT_VARIABLES
from envadmin.contract.inputs import MAX_ALIASES, MAX_DEPTH
from envadmin.contract.policy import MAX_POLICY_LIST
from envadmin.inventory.models import Environment
from envadmin.policies.models import Policy
from envadmin.snapshot import loader as snapshot

from .conftest import environment_document, error_message, form_data, post_json
from .contract import assert_matches_contract

URL = "/api/v1/asset/environment"
POLICY_PAGE = "/policies?scope=tenant"

# A few hundred bytes that stand for 9^7 (4.8 million) strings once the aliases are expanded.
ALIAS_BOMB = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [
        f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]"
        for previous, name in zip("abcdef", "bcdefg", strict=True)
    ]
)
DEEP_YAML = "[" * 5000 + "]" * 5000
MANY_ALIASES = "a: &a [1]\n" + "\n".join(f"k{i}: *a" for i in range(MAX_ALIASES + 1))
# YAML escapes that parse into text PostgreSQL cannot store or UTF-8 cannot encode.
NUL_YAML = 'rules:\n  image:\n    required: true\n    note: "a\\0b"\n'
SURROGATE_YAML = 'rules:\n  image:\n    required: true\n    note: "\\ud800"\n'


def variables(count):
    return [{"name": f"VAR_{i}", "value": f"value {i}"} for i in range(count)]


def connections(count):
    return [
        {"name": f"tool-{i}", "isExternal": True,
         "externalToolInfo": {"toolType": "wandb", "externalUrl": f"https://w{i}.example.com"}}
        for i in range(count)
    ]  # fmt: skip


def raw_post(client, path, text, method="post"):
    return getattr(client, method)(path, data=text, content_type="application/json")


def api_error(response, status=400):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == status and body["message"]
    return body


# --- API: list caps ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, items, cap",
    [
        ("environmentVariables", variables, MAX_ENVIRONMENT_VARIABLES),
        ("connections", connections, MAX_CONNECTIONS),
    ],
)
def test_the_api_takes_a_list_at_its_cap_and_refuses_one_more(org, admin, field, items, cap):
    at_cap = environment_document("at-cap", spec={"image": "python:3.11", field: items(cap)})
    assert post_json(admin, URL, at_cap).status_code == 202
    over = environment_document("over-cap", spec={"image": "python:3.11", field: items(cap + 1)})
    body = api_error(post_json(admin, URL, over))
    assert field in body["message"] + str(body.get("details"))
    assert not Environment.objects.filter(name="over-cap").exists()


def test_capabilities_are_capped_at_the_distinct_values(org, admin):
    spec = {"image": "python:3.11", "capabilities": ["CHOWN"] * 100}
    api_error(post_json(admin, URL, environment_document("caps", spec=spec)))


# --- API: bodies the JSON parser refuses ------------------------------------------------------


@pytest.mark.parametrize(
    "method, path, text",
    [
        ("post", URL, "[" * 100_000 + "]" * 100_000),
        ("post", "/api/v1/token", '{"a":' * 50_000 + "1" + "}" * 50_000),
        # Parseable, but deep enough for recursive code further on.
        ("put", "/api/v2/policy/workspaces", '{"meta": {"name": "p", "scope": "tenant"}, '
         '"policy": {"defaults": ' + '{"a":' * 900 + "1" + "}" * 900 + "}}"),
    ],
)  # fmt: skip
def test_a_deeply_nested_body_is_a_400(org, admin, method, path, text):
    admin.raise_request_exception = False
    assert "nested deeper than" in error_message(raw_post(admin, path, text, method))


def test_a_lone_surrogate_is_refused_by_name_not_echoed_into_a_500(org, admin):
    admin.raise_request_exception = False
    text = '{"meta": {"name": "x", "scope": "\\ud800"}, "spec": {}}'
    response = raw_post(admin, URL, text)
    assert error_message(response).startswith("meta.scope: contains a lone surrogate")
    assert_matches_contract("environment", response)
    key = raw_post(admin, URL, '{"meta": {"\\udfff": 1}, "spec": {}}')
    assert error_message(key).startswith("meta: a key contains a lone surrogate")


@pytest.mark.parametrize(
    "path, text, field",
    [
        ("/api/v1/token", '{"grantType": "client_credentials", "clientID": "a\\u0000", '
         '"clientSecret": "b"}', "clientID"),
        (URL, '{"meta": {"name": "a\\u0000b", "scope": "tenant"}, "spec": {}}', "meta.name"),
        (URL, '{"meta": {"name": "a", "scope": "tenant"}, "spec": {"environmentVariables": '
         '[{"name": "A", "value": "\\u0000"}]}}', "spec.environmentVariables[0].value"),
    ],
)  # fmt: skip
def test_a_nul_in_a_body_is_a_400_naming_the_field(org, admin, path, text, field):
    message = error_message(raw_post(admin, path, text))
    assert message.startswith(f"{field}: contains a NUL character")


def test_ordinary_unicode_still_passes(org, admin):
    response = post_json(admin, URL, environment_document("ünïcode-✓", description="日本 🚀"))
    assert response.status_code == 202, response.content


# --- API: NUL in the URL ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        f"{URL}?name=%00",
        "/api/v1/org-unit/projects?search=a%00",
        f"{URL}/%00",
        "/api/v2/policy?x=%00",
    ],
)
def test_a_nul_in_an_api_url_is_a_json_400(org, admin, path):
    assert "NUL" in error_message(admin.get(path))


def test_a_nul_in_another_url_is_a_plain_400(db, client):
    response = client.get("/login?next=%00")
    assert response.status_code == 400
    assert b"NUL" in response.content


# --- API: Django's own 400s and ?format= ------------------------------------------------------


def test_a_body_over_the_upload_limit_is_a_json_400(org, admin, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = raw_post(admin, URL, '{"meta": {"name": "' + "x" * 2000 + '"}}')
    assert error_message(response) == "The request body is too large."


def test_a_disallowed_host_is_a_json_400_on_the_api(org, admin):
    assert "Host" in error_message(admin.get(URL, HTTP_HOST="evil.example"))


def test_a_format_parameter_does_not_turn_a_list_into_a_404(org, admin):
    response = admin.get(URL, {"format": "xml"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


# --- the environment form saves whatever the API accepts, at a bounded cost ---------------------


def test_an_environment_at_every_cap_edits_and_saves_unchanged_through_the_form(editor, admin):
    spec = {
        "image": "python:3.11",
        "environmentVariables": variables(MAX_ENVIRONMENT_VARIABLES),
        "connections": connections(MAX_CONNECTIONS),
        "capabilities": ["CHOWN", "KILL", "SETUID"],
    }
    assert post_json(admin, URL, environment_document("biggest", spec=spec)).status_code == 202
    env = Environment.objects.get(name="biggest")
    page = editor.get(f"/environments/{env.id}/edit")
    assert page.status_code == 200
    # Bounded: every row of a maximal environment, and not much more.
    assert len(page.content) < 3_000_000
    data = form_data(page.content.decode())
    data["description"] = "saved through the form"
    saved = editor.post(f"/environments/{env.id}/edit", data)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    env.refresh_from_db()
    assert env.description == "saved through the form"
    assert len(env.spec["environmentVariables"]) == MAX_ENVIRONMENT_VARIABLES
    assert len(env.spec["connections"]) == MAX_CONNECTIONS


# --- the policy YAML editor -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, message",
    [
        (ALIAS_BOMB, "values once aliases are expanded"),
        (MANY_ALIASES, f"more than {MAX_ALIASES} aliases"),
        (DEEP_YAML, f"nested deeper than {MAX_DEPTH} levels"),
        (NUL_YAML, "NUL character"),
        (SURROGATE_YAML, "lone surrogate"),
        ("rules: [" + "1," * 200_000 + "1]", "larger than"),
        ("rules: {image: {required: true, when: 2020-01-01}}", "not a JSON value"),
        ("rules: {image: [unclosed", "not valid YAML"),
    ],
    ids=["alias-bomb", "many-aliases", "deep", "nul", "surrogate", "oversized", "date", "syntax"],
)
def test_the_policy_editor_refuses_unbounded_yaml_quickly_and_stores_nothing(editor, text, message):
    started = time.perf_counter()
    response = editor.post(POLICY_PAGE, {"kind": "Workspace", "yaml": text})
    assert time.perf_counter() - started < 5
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Policy.objects.exists()


def test_the_policy_editor_goes_through_the_policy_apis_checks(editor):
    # What the API refuses (a rule that is not an object), the editor refuses the same way.
    response = editor.post(POLICY_PAGE, {"kind": "Workspace", "yaml": "rules: {image: 7}"})
    assert response.status_code == 200 and "rules.image" in response.content.decode()
    assert not Policy.objects.exists()


# --- snapshots --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, message",
    [
        (ALIAS_BOMB, "values once aliases are expanded"),
        (DEEP_YAML, f"nested deeper than {MAX_DEPTH} levels"),
        ('clusters: [{id: "\\0", name: x}]', "NUL character"),
    ],
    ids=["alias-bomb", "deep", "nul"],
)
def test_a_snapshot_file_out_of_bounds_is_a_short_clear_error(db, tmp_path, text, message):
    path = tmp_path / "snapshot.yaml"
    path.write_text(text)
    started = time.perf_counter()
    with pytest.raises(snapshot.SnapshotError) as refused:
        snapshot.load(snapshot.read_file(path))
    assert time.perf_counter() - started < 5
    assert message in str(refused.value)
    assert len(str(refused.value)) < 2_000


def test_a_snapshot_problem_never_quotes_a_huge_value(db):
    huge = "x" * 5_000_000
    with pytest.raises(snapshot.SnapshotError) as refused:
        snapshot.load({"clusters": [{"id": huge, "name": "c"}]})
    assert len(str(refused.value)) < 2_000


def test_snapshot_users_get_djangos_password_validators(db, settings):
    document = yaml.safe_load(
        "users: [{username: weak, password: abc, role: Viewer, scope: tenant}]"
    )
    with pytest.raises(snapshot.SnapshotError) as refused:
        snapshot.load(document)
    assert "too short" in str(refused.value)
    assert not User.objects.filter(username="weak").exists()


# --- policies: list caps -----------------------------------------------------------------------

OVER_CAP = range(MAX_POLICY_LIST + 1)


@pytest.mark.parametrize(
    "policy, field",
    [
        ({"rules": {"imagePullPolicy": {"options": [{"value": f"v{i}"} for i in OVER_CAP]}}},
         "policy.rules.imagePullPolicy.options"),
        ({"imposedAssets": ["5b4d7e6c-1f3a-4a57-9a70-111111111111"] * (MAX_POLICY_LIST + 1)},
         "policy.imposedAssets"),
        ({"defaults": {"environmentVariables": {"instances": [{"name": f"A{i}"}
                                                              for i in OVER_CAP]}}},
         "policy.defaults.environmentVariables.instances"),
    ],
    ids=["options", "imposed-assets", "instances"],
)  # fmt: skip
def test_a_policy_list_over_the_cap_is_refused_on_the_api_and_in_the_editor(
    editor, admin, policy, field
):
    body = {"meta": {"name": "big", "scope": "tenant"}, "policy": policy}
    answer = admin.put("/api/v2/policy/workspaces", data=body, content_type="application/json")
    assert field in api_error(answer)["message"]
    page = editor.post(POLICY_PAGE, {"kind": "Workspace", "yaml": yaml.safe_dump(policy)})
    assert page.status_code == 200 and field in page.content.decode()
    assert not Policy.objects.exists()


# --- found on a second read ------------------------------------------------------------------


def test_an_integer_too_long_to_read_is_a_message_not_a_500(editor, tmp_path):
    huge = "rules:\n  image:\n    max: " + "1" * 5000 + "\n"
    response = editor.post(POLICY_PAGE, {"kind": "Workspace", "yaml": huge})
    assert response.status_code == 200 and "not valid YAML" in response.content.decode()
    path = tmp_path / "snapshot.yaml"
    path.write_text("clusters: [{id: " + "1" * 5000 + ", name: c}]")
    with pytest.raises(snapshot.SnapshotError, match="not valid YAML"):
        snapshot.read_file(path)


def test_a_policy_editor_save_without_its_version_is_checked_but_not_written(editor):
    text = "rules:\n  imagePullPolicy:\n    required: true\n"
    response = editor.post(POLICY_PAGE, {"kind": "Workspace", "yaml": text})
    assert response.status_code == 200 and "Reload the page" in response.content.decode()
    assert not Policy.objects.exists()


def test_a_huge_api_body_is_refused_after_a_bounded_walk(org, admin):
    body = '{"meta": {"name": "x", "scope": "tenant"}, "spec": {"args": [' + "0," * 200_000 + "0]}}"
    started = time.perf_counter()
    response = admin.post(URL, data=body, content_type="application/json")
    assert time.perf_counter() - started < 5
    assert "values" in api_error(response)["message"]
