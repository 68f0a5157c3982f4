"""One submit shows every mistake, next to its field and in a summary that takes the focus; tool
rows show only the fields of their kind of tool."""

import pytest
from playwright.sync_api import expect

from .test_form import add_row, error_of, field

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEAM_B = "cluster-a / research / team-b"


def test_one_submit_shows_every_mistake_and_focuses_the_summary(login):
    page = login("admin")
    page.goto("/environments/new")
    field(page, "placement").select_option(label=TEAM_B)
    field(page, "name").fill("tf-mnist")  # a demo environment's name in team-b
    field(page, "training").check()
    # No image.
    add_row(page, "Add a variable", "env", 0)
    field(page, "env-0-name").fill("1ST_TRY")
    field(page, "env-0-value").fill("yes")
    add_row(page, "Add a tool", "conn", 0)
    field(page, "conn-0-name").fill("lab")
    field(page, "conn-0-tool").select_option("jupyter-notebook")
    field(page, "conn-0-connectionType").select_option("NodePort")
    field(page, "tty").select_option("true")
    field(page, "runAsUid").fill("1000")

    page.get_by_role("button", name="Create environment").click()

    expected = {
        "image": "Image is required",
        "name": "An environment named 'tf-mnist' already exists here",
        "env-0-name": "not starting with a digit",
        "conn-0-containerPort": "Container port is required for an internal tool",
        "tty": "A TTY needs stdin: set Stdin to Yes.",
        "runAsUid": "Only used when “User and group ids from” is custom",
    }
    summary = page.locator("#error-summary")
    expect(summary.get_by_role("heading")).to_have_text(f"{len(expected)} problems")
    for name, text in expected.items():
        expect(error_of(page, name)).to_contain_text(text)
        control = field(page, name)
        expect(control).to_have_attribute("aria-invalid", "true")
        described_by = control.get_attribute("aria-describedby").split()
        assert f"id_{name}_error" in described_by
        for element_id in described_by:  # each id is a real element: the error, the help
            expect(page.locator(f"#{element_id}")).to_have_count(1)
        expect(page.locator(f"#id_{name}_error")).to_contain_text(text)
        link = summary.locator(f'a[href="#id_{name}"]')
        expect(link).to_contain_text(text)
    # Nothing speaks the document's language.
    expect(page.locator("main")).not_to_contain_text("may not be null")
    expect(page.locator("main")).not_to_contain_text("spec.")
    assert page.evaluate("document.activeElement.closest('[data-error-summary]') !== null")

    # A summary link takes the focus to its field, a row's field included.
    summary.locator('a[href="#id_conn-0-containerPort"]').click()
    expect(field(page, "conn-0-containerPort")).to_be_focused()


def test_help_text_is_described_by_its_own_id(login):
    page = login("admin")
    page.goto("/environments/new")
    expect(field(page, "image")).to_have_attribute("aria-describedby", "id_image_helptext")
    expect(page.locator("#id_image_helptext")).to_contain_text("nvcr.io")


def test_a_tool_row_shows_the_fields_of_its_kind_of_tool(login):
    page = login("admin")
    page.goto("/environments/new")
    add_row(page, "Add a tool", "conn", 0)
    port, url = field(page, "conn-0-containerPort"), field(page, "conn-0-externalUrl")
    kind, protocol = field(page, "conn-0-connectionType"), field(page, "conn-0-protocol")
    # No tool chosen yet: only its name and the tool.
    for control in (port, url, kind, protocol):
        expect(control).to_be_hidden()

    field(page, "conn-0-tool").select_option("wandb")
    expect(url).to_be_visible()
    for control in (port, kind, protocol):
        expect(control).to_be_hidden()

    field(page, "conn-0-tool").select_option("jupyter-notebook")
    expect(kind).to_be_visible()
    expect(port).to_be_visible()
    expect(url).to_be_hidden()
    kind.select_option("ServingPort")
    expect(protocol).to_be_visible()
    kind.select_option("ExternalUrl")
    expect(protocol).to_be_hidden()
    expect(url).to_be_visible()


def test_a_tool_row_is_shown_as_its_saved_tool_fits(login):
    """Server side the same rule: an external tool's row opens with its URL and no port."""
    page = login("admin")
    page.goto("/environments/new")
    add_row(page, "Add a tool", "conn", 0)
    field(page, "conn-0-name").fill("runs")
    field(page, "conn-0-tool").select_option("comet")
    page.get_by_role("button", name="Create environment").click()  # no image: shown again
    expect(error_of(page, "image")).to_contain_text("Image is required")
    expect(field(page, "conn-0-externalUrl")).to_be_visible()
    expect(field(page, "conn-0-containerPort")).to_be_hidden()


def test_capabilities_are_checkboxes_in_a_fieldset(login):
    page = login("admin")
    page.goto("/environments/new")
    group = page.get_by_role("group", name="Capabilities")
    expect(group.get_by_role("checkbox")).to_have_count(38)
    group.get_by_label("NET_ADMIN").check()
    group.get_by_label("SYS_PTRACE").check()
    field(page, "runAsUid").fill("5")  # a mistake: the ticks must survive the failed submit
    page.get_by_role("button", name="Create environment").click()
    expect(error_of(page, "runAsUid")).to_be_visible()
    expect(group.get_by_label("NET_ADMIN")).to_be_checked()
    expect(group.get_by_label("SYS_PTRACE")).to_be_checked()
    expect(group.get_by_label("CHOWN")).not_to_be_checked()
