"""The environments list: filter, search, sort, page, back button, CSV; viewer permissions."""

import csv
import io
import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = "tr[data-name]"
PROJECT_SCOPED = sorted(
    ["pytorch-dev", "xgboost-tabular", "jupyter-custom", "tf-mnist", "rstudio-bioc",
     "pytorch-dev", "seg-train", "nemo-pretrain", "tgi-serve", "whisper-asr", "eval-harness",
     "tensorboard", "ci-bench", "custom-app"]
)  # fmt: skip


def names(page) -> list[str]:
    return page.locator(ROWS).evaluate_all("rows => rows.map(r => r.dataset.name)")


def params(page) -> dict:
    return {k: v[-1] for k, v in parse_qs(urlparse(page.url).query).items()}


def expect_rows(page, expected: list[str]):
    """Waits (through Playwright's retries) until the table shows exactly these rows."""
    rows = page.locator(ROWS)
    expect(rows).to_have_count(len(expected))
    expect(page.locator(f"{ROWS} td.name")).to_have_text(expected)


def test_filter_search_sort_and_back(login):
    page = login("admin")
    expect(page.locator("#env-count")).to_have_text("41 environments")
    expect(page.locator(ROWS)).to_have_count(25)
    assert names(page)[:3] == ["chatbot-ui", "ci-bench", "ci-runner"]

    # A filter swaps the table and pushes its URL.
    page.locator("#filters").get_by_label("Scope", exact=True).select_option("project")
    expect(page).to_have_url(re.compile(r"[?&]scope=project"))
    expect(page.locator("#env-count")).to_have_text("14 environments")
    expect_rows(page, PROJECT_SCOPED)

    # Sorting by a header: Environment again gives descending names.
    page.locator("thead").get_by_role("link", name="Environment").click()
    expect(page).to_have_url(re.compile(r"[?&]sort=-name"))
    expect_rows(page, PROJECT_SCOPED[::-1])
    expect(page.locator("thead th:not(.select)").first).to_have_attribute("aria-sort", "descending")

    # Searching keeps the filter and the sort.
    page.locator("#filters").get_by_label("Search", exact=True).fill("nvcr")
    expect(page).to_have_url(re.compile(r"[?&]q=nvcr"))
    expect_rows(page, ["seg-train", "pytorch-dev", "nemo-pretrain", "eval-harness"])
    assert params(page) == {"scope": "project", "q": "nvcr", "sort": "-name", "per_page": "25"}

    # The back button walks the views back, rows and controls included.
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"q=nvcr"))
    expect_rows(page, PROJECT_SCOPED[::-1])
    expect(page.locator("#filters").get_by_label("Search", exact=True)).to_have_value("")
    expect(page.locator("#filters").get_by_label("Scope", exact=True)).to_have_value("project")
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"sort=-name"))
    expect_rows(page, PROJECT_SCOPED)
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"scope=project"))
    expect(page.locator("#env-count")).to_have_text("41 environments")
    expect(page.locator("#filters").get_by_label("Scope", exact=True)).to_have_value("")
    page.go_forward()
    expect(page).to_have_url(re.compile(r"[?&]scope=project"))
    expect_rows(page, PROJECT_SCOPED)

    # The pushed URL is a shareable link: loaded afresh it shows the same view.
    page.goto("/environments/?scope=project&q=nvcr&sort=-name")
    expect_rows(page, ["seg-train", "pytorch-dev", "nemo-pretrain", "eval-harness"])
    expect(page.locator("#filters").get_by_label("Search", exact=True)).to_have_value("nvcr")


def test_more_filters(login):
    page = login("admin")
    page.locator("#filters").get_by_label("Tool", exact=True).select_option("wandb")
    expect(page).to_have_url(re.compile(r"[?&]tool=wandb"))
    expect_rows(page, ["eval-harness", "pytorch-dev", "pytorch-dev"])

    page.locator("#filters").get_by_label("Image contains").fill("nvcr.io")
    expect(page).to_have_url(re.compile(r"[?&]image=nvcr.io"))
    expect_rows(page, ["eval-harness", "pytorch-dev"])

    page.locator("#filters").get_by_label("Tool", exact=True).select_option("")
    page.locator("#filters").get_by_label("Image contains").fill("")
    page.locator("#filters").get_by_label("Cluster", exact=True).select_option(label="cluster-b")
    page.locator("#filters").get_by_label("Include descendants").check()
    page.locator("#filters").get_by_role("checkbox", name="Inference").check()
    expect(page).to_have_url(re.compile(r"[?&]isInference=true"))
    assert params(page)["includeDescendants"] == "true"
    # Inference environments usable below cluster-b, and those of the nodes above it.
    expect_rows(
        page,
        ["chatbot-ui", "gpt2", "llm-server", "tgi-serve", "triton-server", "vllm-serve",
         "whisper-asr"],
    )  # fmt: skip


def test_page_and_page_size(login):
    page = login("admin")
    every = names(page)
    assert len(every) == 25

    page.get_by_label("Rows per page").select_option("10")
    expect(page).to_have_url(re.compile(r"[?&]per_page=10"))
    expect_rows(page, every[:10])
    expect(page.get_by_text("Page 1 of 5")).to_be_visible()

    page.get_by_role("link", name="Next →").click()
    expect(page).to_have_url(re.compile(r"[?&]page=2"))
    expect_rows(page, every[10:20])
    expect(page.get_by_text("Page 2 of 5")).to_be_visible()

    page.get_by_role("link", name="Next →").click()
    expect(page).to_have_url(re.compile(r"[?&]page=3"))
    expect(page.locator(ROWS).first).to_have_attribute("data-name", every[20])

    page.go_back()
    expect(page).to_have_url(re.compile(r"[?&]page=2"))
    expect_rows(page, every[10:20])
    page.get_by_role("link", name="← Previous").click()
    expect(page).not_to_have_url(re.compile(r"page=2"))
    expect_rows(page, every[:10])

    # The page size is remembered for the user.
    page.goto("/environments/")
    expect(page.locator(ROWS)).to_have_count(10)


def test_csv_download_matches_filtered_view(login):
    page = login("admin")
    page.locator("#filters").get_by_label("Search", exact=True).fill("pytorch")
    expect(page).to_have_url(re.compile(r"[?&]q=pytorch"))
    page.locator("thead").get_by_role("link", name="Image").click()
    expect(page).to_have_url(re.compile(r"[?&]sort=image"))
    expect(page.locator("#env-count")).to_have_text("8 environments")
    shown = names(page)
    assert len(shown) == 8

    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename == "environments.csv"
    with open(download.path(), encoding="utf-8") as handle:
        rows = list(csv.reader(io.StringIO(handle.read())))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Id", "Environment", "Scope"]
    assert len(body) == 8
    assert [row[1] for row in body] == shown
    images = [row[header.index("Image")] for row in body]
    assert images == sorted(images, key=str.lower)
    assert all("pytorch" in " ".join(row).lower() for row in body)


def test_column_chooser_is_remembered(login):
    page = login("envadmin")
    headers = page.locator("#env-table thead th")
    expect(headers.filter(has_text="Created by")).to_have_count(0)
    page.get_by_text("Columns", exact=True).click()
    chooser = page.locator(".columns-chooser")
    chooser.get_by_label("Created by").check()
    chooser.get_by_label("Tools").uncheck()
    chooser.get_by_role("button", name="Save columns").click()
    expect(headers.filter(has_text="Created by")).to_have_count(1)
    expect(headers.filter(has_text="Tools")).to_have_count(0)
    expect(page.locator('tr[data-name="chatbot-ui"]')).to_contain_text("system@run.ai")
    page.goto("/environments/?sort=-created_by")
    expect(headers.filter(has_text="Created by")).to_have_attribute("aria-sort", "descending")


def test_viewer_sees_no_write_actions(login):
    page = login("viewer")
    expect(page.locator(ROWS).first).to_be_visible()
    expect(page.get_by_role("link", name="New environment")).to_have_count(0)
    expect(page.locator("td.actions").get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.locator("td.actions").get_by_role("link", name="Delete")).to_have_count(0)
    expect(page.locator("td.actions").get_by_role("link", name="Copy")).to_have_count(0)

    page.locator(f"{ROWS} td.name a").first.click()
    expect(page.locator("h1")).to_be_visible()
    buttons = page.locator(".page-head .buttons")
    expect(buttons.get_by_role("link", name="Edit")).to_have_count(0)
    expect(buttons.get_by_role("link", name="Delete")).to_have_count(0)

    # Forced by URL, a write page is refused.
    page.goto("/environments/new")
    expect(page).to_have_url(re.compile(r"/environments/$"))
    expect(page.locator(".flash.error")).to_contain_text("You may not create environments")
