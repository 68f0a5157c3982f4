"""The environment form's pickers: an env var's credential by name (and its key), and the image
from a registry's repositories and tags, each listing only what the user may use."""

import html
import re

import pytest
from django.contrib.auth import get_user_model

from envadmin.backends.local import LocalBackend
from envadmin.contract.errors import BackendError
from envadmin.inventory.models import Credential, Environment, Registry

from .test_environment_form_errors import FORM, errors_of, posted
from .upstream_stub import Reply

PICKER = "/environments/image-picker"
ROW = "/environments/row/env"


def options(body: str, name: str) -> dict[str, str]:
    """{value: label} of the select called `name`."""
    select = re.search(rf'<select[^>]* name="{re.escape(name)}"[^>]*>(.*?)</select>', body, re.S)
    assert select, f"no select {name}"
    found = re.findall(r'<option value="([^"]*)"[^>]*>(.*?)</option>', select.group(1))
    return {value: html.unescape(label) for value, label in found if value}


def credential_id(name: str) -> str:
    return str(Credential.objects.get(name=name).id)


def registry_id(name: str) -> str:
    return str(Registry.objects.get(name=name).id)


# --- the credential picker ---------------------------------------------------------------


def test_a_researcher_picks_only_from_their_project_chain(org, signed_in):
    client = signed_in("L1 researcher", "project:7")
    row = client.get(ROW, {"index": "0", "placement": "project:7"}).content.decode()
    listed = set(options(row, "env-0-credential").values())
    # Tenant, cluster c1, department d1, project 7: the chain of project 7, and nothing else.
    assert listed == {
        "dockerhub (docker-registry)", "c1-keys (access-key)", "d1-ngc (ngc-api-key)",
        "hf-token (generic-secret)",
    }  # fmt: skip


def test_the_credentials_follow_the_placement_chosen(org, editor):
    chosen = {"env-0-name": "T", "env-0-source": "credential"}
    page = editor.post(FORM, posted(refresh_hints="1", placement="department:d2", **chosen))
    listed = {
        label.split(" ")[0] for label in options(page.content.decode(), "env-0-credential").values()
    }
    assert listed == {"dockerhub", "c1-keys"}


def test_a_generic_secret_offers_its_keys(org, editor):
    chosen = {"env-0-name": "HF_TOKEN", "env-0-source": "credential",
              "env-0-credential": credential_id("hf-token")}  # fmt: skip
    page = editor.post(FORM, posted(refresh_hints="1", **chosen)).content.decode()
    assert set(options(page, "env-0-key")) == {"token", "user"}
    # Another kind of credential has no key names known: the key is typed.
    chosen["env-0-credential"] = credential_id("dockerhub")
    page = editor.post(FORM, posted(refresh_hints="1", **chosen)).content.decode()
    assert re.search(r'<input type="text" name="env-0-key"', page)


def test_the_saved_document_holds_the_credentials_asset_id_and_key(org, editor):
    hf_token = credential_id("hf-token")
    response = editor.post(FORM, posted(**{
        "env-0-name": "HF_TOKEN", "env-0-source": "credential", "env-0-credential": hf_token,
        "env-0-key": "token",
    }))  # fmt: skip
    assert response.status_code == 302, errors_of(response.content.decode())
    spec = Environment.objects.get(name="fresh").spec
    assert spec["environmentVariables"] == [
        {"name": "HF_TOKEN", "credential": {"assetId": hf_token, "key": "token"}}
    ]


def test_editing_shows_the_credential_by_name_and_keeps_an_unknown_one(org, editor):
    environment = Environment.objects.get(name="p7-env")
    known, unknown = credential_id("hf-token"), "00000000-0000-4000-8000-00000000beef"
    environment.spec["environmentVariables"] = [
        {"name": "A", "credential": {"assetId": known, "key": "token"}},
        {"name": "B", "credential": {"assetId": unknown, "key": "k"}},
    ]
    environment.save()
    page = editor.get(f"/environments/{environment.id}/edit").content.decode()
    assert re.search(rf'<option value="{known}" selected>hf-token \(generic-secret\)', page)
    assert re.search(rf'<option value="{unknown}" selected>{unknown} \(not in the list\)', page)
    assert "it is kept as is" in page


# --- the image picker --------------------------------------------------------------------


def test_the_picker_goes_registry_repository_tag(org, editor):
    internal = registry_id("internal")
    first = editor.get(PICKER).content.decode()
    assert internal in first and "c2-registry" in first
    repositories = editor.get(PICKER, {"registry": internal}).content.decode()
    assert re.findall(r'name="repository" value="([^"]+)"', repositories) == [
        "ml/jax",
        "ml/pytorch",
    ]
    searched = editor.get(PICKER, {"registry": internal, "repository_search": "TORCH"}).content
    assert re.findall(r'name="repository" value="([^"]+)"', searched.decode()) == ["ml/pytorch"]
    tags = editor.get(
        PICKER, {"registry": internal, "repository": "ml/pytorch", "tag_search": "06"}
    ).content.decode()
    assert re.findall(r'data-image-ref="([^"]+)"', tags) == [
        "registry.example.com/ml/pytorch:24.06-py3"
    ]


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ({"registry": "not-a-registry"}, "Registry not-a-registry not found."),
        ({"registry": "x" * 65}, "At most 64 characters."),
        ({"repository_search": "x" * 101}, "At most 100 characters."),
        ({"registry": "internal", "tag_search": "x" * 101}, "At most 100 characters."),
        ({"registry": "internal", "repository": "x" * 256}, "At most 255 characters."),
    ],
)
def test_bad_picker_input_is_a_message_not_an_error(org, editor, query, said):
    if query.get("registry") == "internal":
        query = {**query, "registry": registry_id("internal")}
    response = editor.get(PICKER, query)
    assert response.status_code == 200
    assert said in html.unescape(response.content.decode())


def test_a_registry_out_of_reach_reads_as_not_found(org, signed_in):
    client = signed_in("L1 researcher", "project:7")
    outside = registry_id("c2-registry")
    body = client.get(PICKER).content.decode()
    assert outside not in body and registry_id("internal") in body
    body = client.get(PICKER, {"registry": outside}).content.decode()
    assert f"Registry {outside} not found." in body


def test_an_unknown_repository_is_said_next_to_the_picker(org, editor):
    body = editor.get(PICKER, {"registry": registry_id("internal"), "repository": "nope/x"})
    assert "Repository nope/x not found" in body.content.decode()


def test_the_form_offers_the_picker(org, editor):
    page = editor.get(FORM).content.decode()
    assert 'id="image-picker"' in page and f'hx-get="{PICKER}"' in page


# --- proxy mode: Run:ai's answers and failures ---------------------------------------------


@pytest.fixture
def proxy_page(db, settings, proxy, stub, client):
    """The test client signed in locally, its pages reading Run:ai (`stub`) with a service token;
    `answer(path) -> Reply` answers every other request."""
    settings.RUNAI_CLIENT_ID, settings.RUNAI_CLIENT_SECRET = "sa", "secret"
    client.force_login(get_user_model().objects.create_user("local", password="x"))

    def route(answer):
        stub.handler = lambda seen: (
            Reply(200, {"accessToken": "a.b.c", "expiresIn": 600})
            if seen.path.startswith("/api/v1/token")
            else answer(seen.path)
        )

    return client, route


def test_run_ais_failure_in_the_image_picker_is_a_message(proxy_page):
    client, route = proxy_page
    route(lambda path: Reply(500, {"code": 500, "message": "Registry service down."}))
    response = client.get(PICKER)
    assert response.status_code == 200
    assert "Registries could not be read: " in response.content.decode()


def test_a_registry_run_ai_does_not_know_is_said_next_to_the_registry(proxy_page):
    client, route = proxy_page
    entry = {"meta": {"id": "r1", "name": "hub"}, "spec": {"url": "hub.example.com"}}
    route(lambda path: Reply(200, {"entries": [entry]}) if path.endswith("/registries")
          else Reply(404, {"code": 404, "message": "Registry gone not found."}))  # fmt: skip
    body = client.get(PICKER, {"registry": "gone"}).content.decode()
    assert re.search(r'<p class="error" id="picker-registry-error">[^<]*not found', body)


def test_run_ais_failure_to_list_credentials_is_a_note_on_the_field(proxy_page):
    client, route = proxy_page
    route(lambda path: Reply(503, {"code": 503, "message": "Try later."}))
    response = client.get(ROW, {"index": "0", "placement": "project:7"})
    assert response.status_code == 200
    assert "Credentials could not be listed" in response.content.decode()
    assert options(response.content.decode(), "env-0-credential") == {}


# --- the detail page names the credentials -----------------------------------------------


def env_vars_naming(*credentials: str) -> Environment:
    environment = Environment.objects.get(name="p7-env")
    environment.spec["environmentVariables"] = [
        {"name": f"V{n}", "credential": {"assetId": asset_id, "key": "token"}}
        for n, asset_id in enumerate(credentials)
    ]
    environment.save()
    return environment


def credential_cells(page: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", cell)
        for cell in re.findall(r"<td>credential (.*?) / token</td>", page)
    ]


UNKNOWN = "00000000-0000-4000-8000-00000000beef"


def test_the_detail_page_names_each_credential_the_caller_can_see(org, signed_in):
    hf_token, p8_git = credential_id("hf-token"), credential_id("p8-git")
    environment = env_vars_naming(hf_token, p8_git, UNKNOWN)

    admin = signed_in("System administrator", "tenant")
    page = admin.get(f"/environments/{environment.id}").content.decode()
    assert credential_cells(page) == ["hf-token (generic-secret)", "p8-git (password)", UNKNOWN]

    # A researcher of project 7 sees the environment, not project 8's credential: its id only.
    researcher = signed_in("L1 researcher", "project:7")
    page = researcher.get(f"/environments/{environment.id}").content.decode()
    assert credential_cells(page) == ["hf-token (generic-secret)", p8_git, UNKNOWN]
    assert "p8-git" not in page


def test_a_failed_credential_list_leaves_the_ids(org, editor, monkeypatch):
    def refuse(self, caller, params):
        raise BackendError("Credentials are down.")

    monkeypatch.setattr(LocalBackend, "list_credentials", refuse)
    hf_token = credential_id("hf-token")
    environment = env_vars_naming(hf_token)
    response = editor.get(f"/environments/{environment.id}")
    assert response.status_code == 200
    assert credential_cells(response.content.decode()) == [hf_token]


def test_the_detail_page_lists_no_credentials_when_no_env_var_names_one(org, editor, monkeypatch):
    calls = []
    monkeypatch.setattr(LocalBackend, "list_credentials", lambda *a: calls.append(a) or {})
    environment = Environment.objects.get(name="p7-env")
    assert editor.get(f"/environments/{environment.id}").status_code == 200
    assert calls == []
