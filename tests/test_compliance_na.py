"""A workload type an environment does not support is "n/a", not a policy violation: in the
list (review as), the detail page, the compliance matrix and both CSVs; the matrix counts only
the environments that support a type, and can show only the problems. The API's answer stays
Run:ai's ("not compliant", with the reason)."""

import csv
import io
import json
import re

import pytest

from envadmin.compliance.states import compliance_state

from .factories import add_environment

LIST = "/environments/"
MATRIX = "/compliance"
TYPES = ["Workspace", "Training", "Distributed", "Inference"]


@pytest.fixture
def reviewed(editor, admin):
    """Project 7 sees tenant-env (workspace, training), cluster-env (training, distributed),
    d1-env (inference), p7-env (workspace) and a training-only environment; the workspace
    policy allows only tenant-env's image, so p7-env is the one real violation."""
    trainer = add_environment("trainer", training=True)
    admin.put("/api/v2/policy/workspaces", data=json.dumps({
        "meta": {"name": "images", "scope": "tenant"},
        "policy": {"rules": {"image": {"options": [{"value": "jupyter/scipy-notebook"}]}}},
    }), content_type="application/json")  # fmt: skip
    return editor, trainer


def review_as(client, kind="Workspace"):
    client.post(f"{LIST}review-as", {"project": "7", "workload_type": kind})


def table_row(body: str, name: str) -> str:
    found = re.search(rf'<tr data-name="{name}">(.*?)</tr>', body, re.S)
    assert found, f"no row {name}"
    return found.group(1)


def csv_table(response) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


NA_BADGE = '<summary class="badge na" title="Does not support Workspace">n/a</summary>'


def test_the_list_shows_n_a_for_an_unsupported_type(reviewed):
    client, _ = reviewed
    review_as(client)
    body = client.get(LIST).content.decode()
    trainer = table_row(body, "trainer")
    assert NA_BADGE in trainer and "Not compliant" not in trainer
    # The reason stays on demand, in the badge's popover.
    assert "does not support Workspace workloads" in trainer
    assert "Not compliant (1)" in table_row(body, "p7-env")
    assert ">Compliant<" in table_row(body, "tenant-env")


def test_the_detail_page_shows_n_a_per_unsupported_type(reviewed):
    client, trainer = reviewed
    review_as(client)
    body = client.get(f"{LIST}{trainer.id}").content.decode()
    badges = dict(
        re.findall(r'<th scope="row">(\w+)</th><td><span class="badge[^>]*>([^<]+)</span>', body)
    )
    assert badges == {
        "Workspace": "n/a", "Training": "Compliant", "Distributed": "n/a", "Inference": "n/a",
    }  # fmt: skip
    assert 'class="badge na" title="Does not support Workspace"' in body


def test_the_matrix_shows_n_a_and_counts_supporting_environments(reviewed):
    client, _ = reviewed
    body = client.get(MATRIX, {"project": 7}).content.decode()
    cells = re.findall(r"<td>(.*?)</td>", table_row(body, "trainer"), re.S)
    assert len(cells) == 4
    assert NA_BADGE in cells[0] and "Not compliant" not in cells[0]
    assert ">Compliant<" in cells[1]
    assert "Does not support Distributed" in cells[2] and "Does not support Inference" in cells[3]
    headers = re.findall(r'<th scope="col">(\w+)<br><small class="muted">([^<]+)</small>', body)
    assert headers == [
        ("Workspace", "1 of 2 supporting environments complies"),
        ("Training", "3 of 3 supporting environments comply"),
        ("Distributed", "1 of 1 supporting environment complies"),
        ("Inference", "1 of 1 supporting environment complies"),
    ]


def test_the_matrix_csv_writes_n_a_and_only_policy_reasons(reviewed):
    client, _ = reviewed
    table = csv_table(client.get(MATRIX, {"project": 7, "format": "csv"}))
    assert table[0] == ["Environment", "Scope", *TYPES, "Reasons"]
    rows = {row[0]: row for row in table[1:]}
    assert rows["trainer"][2:] == ["n/a", "compliant", "n/a", "n/a", ""]
    assert rows["p7-env"][2] == "not compliant"
    assert rows["p7-env"][-1].startswith("Workspace: image 'python:3.11' is not allowed")


def test_the_list_csv_writes_n_a_and_the_reasons_when_reviewing(reviewed):
    client, _ = reviewed
    plain = csv_table(client.get(LIST, {"format": "csv"}))
    assert "Reasons" not in plain[0]
    review_as(client)
    table = csv_table(client.get(LIST, {"format": "csv"}))
    assert table[0][-2:] == ["Compliance", "Reasons"]
    rows = {row[1]: row for row in table[1:]}
    assert rows["trainer"][-2:] == ["n/a", ""]
    assert rows["tenant-env"][-2:] == ["Compliant", ""]
    compliance, reasons = rows["p7-env"][-2:]
    assert compliance == "Not compliant (1)"
    assert reasons.startswith("image 'python:3.11' is not allowed by the tenant policy")


def test_the_matrix_can_show_only_problems(reviewed):
    client, _ = reviewed
    every = client.get(MATRIX, {"project": 7}).content.decode()
    assert set(re.findall(r'<tr data-name="([^"]+)"', every)) == {
        "tenant-env", "cluster-env", "d1-env", "p7-env", "trainer",
    }  # fmt: skip
    assert 'name="problems" value="1">' in every  # offered, not ticked
    problems = client.get(MATRIX, {"project": 7, "problems": "1"}).content.decode()
    # An "n/a" cell is no problem: only p7-env violates a policy.
    assert set(re.findall(r'<tr data-name="([^"]+)"', problems)) == {"p7-env"}
    assert 'name="problems" value="1" checked>' in problems
    assert "Showing the 1 of 5 environments with a policy problem." in problems
    # The counts stay those of the whole project; the CSV link keeps the filter.
    assert "1 of 2 supporting environments complies" in problems
    assert 'href="?project=7&amp;problems=1&amp;format=csv"' in problems
    table = csv_table(client.get(MATRIX, {"project": 7, "problems": "1", "format": "csv"}))
    assert [row[0] for row in table[1:]] == ["p7-env"]


def test_only_problems_says_so_when_there_is_none(editor):
    body = editor.get(MATRIX, {"project": 7, "problems": "1"}).content.decode()
    assert "<tr data-name" not in body and "No problems" in body


def test_the_api_answer_is_run_ai_s(reviewed, admin):
    _, trainer = reviewed
    answer = admin.get(
        f"/api/v1/asset/environment/{trainer.id}",
        {"complyToProject": 7, "complyToWorkloadType": "Workspace"},
    ).json()["compliance"]
    assert answer["compliance"] is False
    assert "does not support Workspace" in answer["reason"][0]["details"]


@pytest.mark.parametrize(
    ("compliance", "kind", "state"),
    [
        (None, "Workspace", ""),
        ({"compliance": False, "reason": [{"details": "x"}]}, "Workspace", "not-supported"),
        ({"compliance": False, "reason": [{"details": "x"}]}, "Training", "not-compliant"),
        ({"compliance": False, "reason": [{"details": "x"}]}, None, "not-compliant"),
        ({"compliance": True, "reason": []}, "Training", "compliant"),
        ({"compliance": True, "imposed": True, "reason": []}, "Training", "imposed"),
    ],
)
def test_the_state_comes_from_the_supported_types(compliance, kind, state):
    meta = {"workloadSupportedTypes": {"training": True, "workspace": False}}
    assert compliance_state(compliance, meta, kind) == state
