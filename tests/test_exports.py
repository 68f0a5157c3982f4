"""Every CSV export (environment list, compliance review, activity) writes user text as data:
a cell that a spreadsheet would run as a formula is neutralised, on every page."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model

from envadmin.accounts.models import AccessRule, SubjectType
from envadmin.ui.export import FORMULA_STARTS, csv_text, safe_cell

from .conftest import environment_document, post_json

API = "/api/v1/asset/environment"
HOSTILE = ['=HYPERLINK("http://evil.example/","x")', "+1+1", "-2+3", "@SUM(A1)"]
EXPORTS = {
    "environments": ("/environments/", {"format": "csv"}),
    "compliance": ("/compliance", {"project": 7, "format": "csv"}),
    "activity": ("/activity", {"format": "csv"}),
}


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_safe_cell_quotes_every_formula_start_and_keeps_plain_text(start):
    assert safe_cell(f"{start}cmd") == f"'{start}cmd"
    assert safe_cell("plain=text") == "plain=text"
    assert safe_cell(None) == "" and safe_cell(7) == "7"


def test_csv_text_neutralises_the_header_too_and_stops_at_the_row_limit(settings, monkeypatch):
    monkeypatch.setattr("envadmin.ui.export.CSV_ROW_LIMIT", 3)
    text = csv_text(["=x", "b"], ([i, f"@{i}"] for i in range(10)))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["'=x", "b"]
    assert rows[1:] == [["0", "'@0"], ["1", "'@1"], ["2", "'@2"]]


@pytest.fixture
def hostile_names(org, admin):
    """Environments whose names start like formulas, created through the API (so audited)."""
    for name in HOSTILE:
        response = post_json(admin, API, environment_document(name))
        assert response.status_code == 202, response.content
    return HOSTILE


@pytest.mark.parametrize("export", EXPORTS)
def test_every_export_neutralises_formula_like_names(hostile_names, client, export):
    user = get_user_model().objects.create_user("exporter")
    AccessRule.objects.create(
        subject_type=SubjectType.USER, subject=user.username, role="System administrator",
        scope_key="tenant",
    )  # fmt: skip
    client.force_login(user)
    path, params = EXPORTS[export]
    response = client.get(path, params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    cells = [cell for row in csv.reader(io.StringIO(response.content.decode())) for cell in row]
    for name in hostile_names:
        assert f"'{name}" in cells, f"{export}: {name} missing or not neutralised"
        assert name not in cells, f"{export}: {name} written raw"
    assert not [c for c in cells if c.startswith(("=", "+", "@"))]
