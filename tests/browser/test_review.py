"""A team lead reviews a project's compliance: the matrix, its counts, reasons, CSV."""

import csv
import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TYPES = ["Workspace", "Training", "Distributed", "Inference"]


def cell(page, name, kind, scope=None):
    row = page.locator(f'#compliance-matrix tr[data-name="{name}"]')
    if scope:
        row = row.filter(has_text=scope)
    return row.locator("td").nth(TYPES.index(kind))


def test_compliance_matrix(login, screenshot):
    page = login("manager")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Compliance review"
    ).click()
    expect(page.locator("h1")).to_have_text("Compliance review")
    page.get_by_role("combobox", name="Project").select_option(
        label="cluster-a / research / team-a"
    )
    expect(page).to_have_url(re.compile(r"/compliance\?project=1$"))

    rows = page.locator("#compliance-matrix tbody tr")
    expect(rows).to_have_count(18)
    headers = page.locator("#compliance-matrix thead th")
    expected = {"Workspace": 9, "Training": 5, "Distributed": 2, "Inference": 1}
    supporting = {"Workspace": 11, "Training": 5, "Distributed": 3, "Inference": 3}
    for index, kind in enumerate(TYPES, start=1):
        expect(headers.nth(index)).to_contain_text(
            f"{expected[kind]} of {supporting[kind]} supporting"
        )
        # Each column's count is the number of its good badges (imposed ones are compliant),
        # out of those that are not "n/a" (the type not supported).
        badges = rows.locator(f"td:nth-of-type({index}) .badge")
        expect(badges).to_have_count(18)
        good = badges.filter(has_text=re.compile(r"^(Compliant|Imposed)$"))
        expect(good).to_have_count(expected[kind])
        expect(badges.filter(has_text=re.compile(r"^n/a$"))).to_have_count(18 - supporting[kind])

    # team-a's workspace policy imposes its own pytorch-dev.
    expect(cell(page, "pytorch-dev", "Workspace", "team-a").locator(".badge")).to_have_text(
        "Imposed"
    )
    expect(cell(page, "llm-server", "Inference").locator(".badge")).to_have_text("Compliant")
    # Reasons on demand: jupyter-lab does not create the home directory team-a requires.
    jupyter = cell(page, "jupyter-lab", "Workspace")
    expect(jupyter.locator(".badge")).to_have_text("Not compliant (1)")
    expect(jupyter.locator("li")).to_be_hidden()
    jupyter.locator("summary").click()
    expect(jupyter.locator("li")).to_be_visible()
    expect(jupyter.locator("li")).to_contain_text("createHomeDir")
    screenshot("compliance")

    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    with open(info.value.path(), encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    assert table[0] == ["Environment", "Scope", *TYPES, "Reasons"]
    assert len(table) == 19
    assert sum(row[2] in ("compliant", "imposed") for row in table[1:]) == 9
    jupyter_row = next(row for row in table if row[0] == "jupyter-lab")
    assert jupyter_row[2] == "not compliant" and "Workspace:" in jupyter_row[-1]
    assert sum(row[2] == "n/a" for row in table[1:]) == 7
    assert not any("does not support" in row[-1] for row in table[1:])

    # Only the problems: rows with a policy violation; an "n/a" is none.
    page.get_by_label("Only problems").check()
    expect(page).to_have_url(re.compile(r"/compliance\?project=1&problems=1$"))
    expect(rows).to_have_count(5)
    for index in range(5):
        expect(
            rows.nth(index).locator(".badge").filter(has_text=re.compile(r"^Not compliant"))
        ).not_to_have_count(0)


def test_review_as_in_the_list(login, screenshot):
    page = login("admin")
    header = page.get_by_role("form", name="Review as")
    # The project by its full path, searched as one types (a text box over a datalist).
    header.get_by_role("combobox", name="Review as").fill("cluster-a / research / team-a")
    header.get_by_label("Workload type").select_option("Workspace")
    header.get_by_role("button", name="Apply").click()
    expect(page.locator(".review-banner")).to_contain_text("cluster-a / research / team-a")
    # One banner says it: no flash message beside it.
    expect(page.locator(".review-banner")).to_have_count(1)
    expect(page.locator(".flash")).to_have_count(0)
    # What team-a can see, with its compliance.
    expect(page.locator("#env-count")).to_have_text("18 environments")
    badges = page.locator("tr[data-name] td .badge").filter(
        has_text=re.compile(r"^(Compliant|Imposed|Not compliant \(\d+\)|n/a)$")
    )
    expect(badges).to_have_count(18)
    # A type an environment does not support is "n/a", its reason on demand.
    expect(badges.filter(has_text="n/a")).to_have_count(7)
    expect(badges.filter(has_text="n/a").first).to_have_attribute(
        "title", "Does not support Workspace"
    )
    page.reload()  # the README's picture, without the flash message
    expect(page.locator("#env-count")).to_have_text("18 environments")
    screenshot("list")

    page.locator("#filters").get_by_label("Compliance").select_option("not-compliant")
    expect(page).to_have_url(re.compile(r"[?&]compliance=not-compliant"))
    expect(page.locator("#env-count")).to_have_text("2 environments")
    shown = page.locator("tr[data-name] td .badge")
    expect(shown.filter(has_text=re.compile(r"^Not compliant \(\d+\)$"))).to_have_count(2)
    expect(shown.filter(has_text=re.compile(r"^(Compliant|Imposed)$"))).to_have_count(0)

    # The detail page judges the environment for each workload type.
    page.locator('tr[data-name="jupyter-lab"] td.name a').click()
    heading = page.get_by_role("heading", name=re.compile("^Compliance"))
    compliance = page.locator("section", has=heading)
    expect(compliance.locator("tbody tr")).to_have_count(4)
    expect(compliance.locator("tbody tr").first).to_contain_text("createHomeDir")
