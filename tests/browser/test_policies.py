"""The policies page reads as plain language, and one picker chooses its scope."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)

# A node at each level the demo has policies on, and a rule each shows in words.
NODES = [
    ("tenant", "scope=tenant", "Training", "Pull policy", "one of: If not present, Always"),
    ("cluster-b", "scope=cluster&clusterId=8237bbb6-dab8-53fc-b7f4-ee52d095b20c",
     "Inference", "Readiness: initial delay (s)", "between 0 and 600, in steps of 30"),
    ("cluster-a / research", "scope=department&departmentId=d1",
     "Workspace", "User id (uid)", "between 1000 and 65000"),
    ("cluster-a / research / team-a", "scope=project&projectId=1",
     "Workspace", "Create home directory", "fixed: cannot be edited"),
]  # fmt: skip


def choose_scope(page, path):
    picker = page.get_by_role("form", name="Scope")
    picker.get_by_role("combobox", name="Scope").fill(path)
    picker.get_by_role("button", name="Show").click()


@pytest.mark.parametrize(("path", "query", "kind", "label", "words"), NODES)
def test_the_policies_page_shows_no_code(login, page, path, query, kind, label, words):
    login("admin")
    page.goto("/policies")
    choose_scope(page, path)
    # The picker's choice comes back as the query old links use.
    expect(page).to_have_url(re.compile(re.escape(query) + "$"))
    expect(page.get_by_role("combobox", name="Scope")).to_have_value(path)
    section = page.locator(f"#policy-{kind.lower()}")
    row = section.locator(
        "tr", has=page.get_by_role("rowheader", name=re.compile(re.escape(label), re.I))
    )
    expect(row.first).to_contain_text(words)
    # The YAML editors stay closed: what a reader sees is the rules, defaults and sources.
    expect(page.locator("main details[open]")).to_have_count(0)
    shown = page.inner_text("main")
    assert "{" not in shown and "'" not in shown, shown
    assert not UUID.search(shown), shown


def test_sources_and_defaults_are_named(login, page, screenshot):
    login("admin")
    page.goto("/policies?scope=project&projectId=1")
    screenshot("policies")
    workspace = page.locator("#policy-workspace")
    sources = {
        "Host network": "tenant",
        "Capabilities": None,  # cluster-b's rule: not on team-a's branch
        "User id (uid)": "department research",
        "Create home directory": "project team-a",
    }
    for label, source in sources.items():
        row = workspace.locator(
            "tr", has=page.get_by_role("rowheader", name=re.compile(re.escape(label)))
        )
        if source is None:
            expect(row).to_have_count(0)
        else:
            expect(row.locator("td").last).to_have_text(source)
    defaults = workspace.locator("dl.policy-defaults")
    expect(defaults.locator("dt", has_text="Create home directory")).to_be_visible()
    expect(defaults.locator("dd", has_text="WANDB_ENTITY = myteam")).to_be_visible()
    expect(workspace.locator(".policy-imposed li")).to_have_text(
        ["pytorch-dev (cluster-a / research / team-a)"]
    )
    training = page.locator("#policy-training")
    row = training.locator("tr", has=page.get_by_role("rowheader", name=re.compile("Pull policy")))
    expect(row).to_contain_text("one of: If not present, Always; not allowed: Never")


def test_a_path_no_node_has_is_named_next_to_the_picker(login, page):
    login("admin")
    page.goto("/policies")
    choose_scope(page, "cluster-a / nowhere")
    expect(page.locator("#p-node-error")).to_contain_text("No scope is called cluster-a / nowhere")
    expect(page.get_by_role("combobox", name="Scope")).to_have_attribute("aria-invalid", "true")


def test_the_editor_shows_the_impact_and_asks_to_confirm(login, page):
    login("admin")
    page.goto("/policies?scope=department&departmentId=d1")
    workspace = page.locator("#policy-workspace")
    workspace.get_by_text("Edit the Workspace policy of this scope (YAML)").click()
    editor = workspace.get_by_label("Policy: defaults, rules, imposedAssets")
    only_one = "\n  image:\n    options:\n    - value: registry.example.com/none:1\n"
    editor.fill(editor.input_value().replace("rules:\n", "rules:" + only_one, 1))
    workspace.get_by_role("button", name="Save Workspace policy").click()

    impact = page.locator("#impact-Workspace")
    expect(impact.get_by_role("heading", name="Before you save: what changes")).to_be_visible()
    expect(impact.get_by_role("alert")).to_contain_text("non-compliant")
    tables = impact.locator("table.impact-rows")
    expect(tables.first.locator("caption")).to_contain_text("Project ")
    # Within a project, what breaks comes first, each with the reasons it would have.
    first = tables.first.locator("tbody tr").first
    expect(first).to_contain_text("becomes non-compliant")
    expect(first).to_contain_text("is not allowed by the policy of department 'research'")
    # Nothing saved yet: the rule is not among the effective rules shown above the editor.
    expect(workspace.locator("tr[data-field='image']")).to_have_count(0)

    page.get_by_role("button", name="Save anyway").click()
    expect(page.locator("#messages")).to_contain_text("The Workspace policy was saved.")
    expect(page.locator("#policy-workspace tr[data-field='image']")).to_have_count(1)
