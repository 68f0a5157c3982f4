"""The form's pickers in proxy mode (issue 18): B's credential and registry pickers list exactly
what A, as Run:ai, lists for the signed-in user, and a bad registry is a message, not a 500."""

import re

import pytest
import requests

from .conftest import DEMO_PASSWORD, Api
from .test_5_two_instances import sign_in

pytestmark = pytest.mark.e2e

RESEARCHER = "researcher"  # L1 researcher in the demo's project 1


def options(body: str, name: str) -> dict[str, str]:
    select = re.search(rf'<select[^>]* name="{re.escape(name)}"[^>]*>(.*?)</select>', body, re.S)
    assert select, f"no select {name} in {body[:500]}"
    found = re.findall(r'<option value="([^"]+)"[^>]*>(.*?)</option>', select.group(1))
    return dict(found)


@pytest.fixture(scope="module")
def researcher_on_a(servers) -> Api:
    """A directly with the researcher's own token: what Run:ai lets that user see."""
    body = {"grantType": "password", "username": RESEARCHER, "password": DEMO_PASSWORD}
    answer = requests.post(f"{servers.a.url}/api/v1/token", json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    servers.remember(answer.json().get("accessToken"), answer.json().get("refreshToken"))
    return Api(servers.a.url, answer.json()["accessToken"])


@pytest.fixture(scope="module")
def researcher_on_b(servers) -> requests.Session:
    browser = requests.Session()
    assert sign_in(browser, servers.b, RESEARCHER).status_code == 302
    return browser


def test_the_credential_picker_lists_what_runai_lists_for_the_user(
    servers, researcher_on_a, researcher_on_b
):
    listed = researcher_on_a.get("/api/v1/asset/credentials", params={"projectId": "1"})
    assert listed.status_code == 200, listed.text
    expected = {e["meta"]["id"]: e["meta"]["name"] for e in listed.json()["entries"]}
    assert "hf-token" in expected.values() and "wandb" not in expected.values()

    row = researcher_on_b.get(
        f"{servers.b.url}/environments/row/env", params={"index": "0", "placement": "project:1"},
        timeout=30,
    )  # fmt: skip
    assert row.status_code == 200
    picked = options(row.text, "env-0-credential")
    assert {key: label.split(" (")[0] for key, label in picked.items()} == expected


def test_the_image_picker_walks_runais_registries(servers, researcher_on_a, researcher_on_b):
    registries = researcher_on_a.get("/api/v1/asset/registries").json()["entries"]
    internal = next(r for r in registries if r["meta"]["name"] == "internal")
    picker = f"{servers.b.url}/environments/image-picker"
    first = researcher_on_b.get(picker, timeout=30)
    assert set(options(first.text, "registry")) == {r["meta"]["id"] for r in registries}
    tags = researcher_on_b.get(
        picker, params={"registry": internal["meta"]["id"], "repository": "ml/jax"}, timeout=30
    )
    refs = re.findall(r'data-image-ref="([^"]+)"', tags.text)
    assert refs == ["registry.example.com/ml/jax:0.4.30", "registry.example.com/ml/jax:0.4.31"]

    missing = researcher_on_b.get(picker, params={"registry": "no-such-registry"}, timeout=30)
    assert missing.status_code == 200 and "not found" in missing.text
