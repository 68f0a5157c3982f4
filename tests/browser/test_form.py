"""Create, edit, copy and delete through the form, with errors in place and the draft preview."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEAM_A = "cluster-a / research / team-a"
VISION_DET = "cluster-a / vision / vision-det"


def field(page, name):
    """The control of a form field by its Django id (id_<prefix>-<name>)."""
    return page.locator(f"#id_{name}")


def error_of(page, name):
    """The error shown next to a field: inside the same .field block as its control."""
    return page.locator(".field", has=page.locator(f"#id_{name}")).locator("p.error")


def add_row(page, button, kind, index):
    page.get_by_role("button", name=button).click()
    expect(field(page, f"{kind}-{index}-name")).to_be_visible()


def open_environment(page, name, scope_path=None):
    """Opens an environment's detail page from the list (searching for it)."""
    page.goto(f"/environments/?q={name}&per_page=100")
    row = page.locator(f'tr[data-name="{name}"]')
    if scope_path:
        row = row.filter(has_text=scope_path)
    row.locator("td.name a").click()
    expect(page.locator("h1")).to_have_text(name)
    # The link carries the list to return to (?next=...): the page itself is the path.
    return page.url.split("?", 1)[0]


def test_create_with_variables_and_tools_fixing_errors(login):
    page = login("admin")
    page.get_by_role("link", name="New environment").click()
    expect(page.locator("h1")).to_have_text("New environment")

    field(page, "placement").select_option(label=TEAM_A)
    field(page, "name").fill("browser-made")
    field(page, "description").fill("Made by the browser tests.")
    field(page, "image").fill("Bad Image")
    field(page, "workspace").check()
    field(page, "training").check()

    add_row(page, "Add a variable", "env", 0)
    field(page, "env-0-name").fill("EPOCHS")
    field(page, "env-0-value").fill("10")
    add_row(page, "Add a variable", "env", 1)
    field(page, "env-1-name").fill("POD_NAME")
    field(page, "env-1-source").select_option("podFieldRef")
    field(page, "env-1-value").fill("metadata.name")

    # A third row, removed again: it is hidden and not saved.
    add_row(page, "Add a variable", "env", 2)
    field(page, "env-2-name").fill("SCRATCH")
    page.locator("fieldset.env-row").nth(2).get_by_label("Remove").check()
    expect(field(page, "env-2-name")).to_be_hidden()

    add_row(page, "Add a tool", "conn", 0)
    field(page, "conn-0-name").fill("notebook")
    field(page, "conn-0-tool").select_option("jupyter-notebook")
    field(page, "conn-0-connectionType").select_option("ExternalUrl")
    add_row(page, "Add a tool", "conn", 1)
    field(page, "conn-1-name").fill("board")
    field(page, "conn-1-tool").select_option("tensorboard")
    field(page, "conn-1-connectionType").select_option("NodePort")
    field(page, "conn-1-containerPort").fill("6006")

    page.get_by_role("button", name="Create environment").click()
    # The backend's messages land next to their fields; nothing was saved.
    expect(error_of(page, "image")).to_contain_text("not a valid container image reference")
    expect(error_of(page, "conn-0-containerPort")).to_contain_text("Container port is required")
    expect(page.locator("h1")).to_have_text("New environment")
    expect(page.locator(".has-error")).to_have_count(2)
    # What the user typed is kept, rows included.
    expect(field(page, "env-1-value")).to_have_value("metadata.name")
    expect(field(page, "conn-1-containerPort")).to_have_value("6006")

    field(page, "image").fill("python:3.11")
    page.get_by_role("button", name="Create environment").click()
    expect(error_of(page, "image")).to_have_count(0)
    expect(error_of(page, "conn-0-containerPort")).to_contain_text("Container port is required")

    field(page, "conn-0-containerPort").fill("8888")
    page.get_by_role("button", name="Create environment").click()

    expect(page.locator(".flash.success")).to_have_text("Environment 'browser-made' was created.")
    expect(page.locator("h1")).to_have_text("browser-made")
    detail = page.locator("main")
    expect(detail.get_by_text("python:3.11", exact=True)).to_be_visible()
    expect(detail.locator("td.mono", has_text="EPOCHS")).to_be_visible()
    expect(detail.get_by_text("pod field metadata.name")).to_be_visible()
    expect(detail.get_by_text("SCRATCH")).to_have_count(0)
    tools = page.locator("section", has=page.get_by_role("heading", name="Tools and connections"))
    expect(tools.locator("li")).to_have_count(2)
    expect(tools).to_contain_text("jupyter-notebook · ExternalUrl · port 8888")
    expect(tools).to_contain_text("tensorboard · NodePort · port 6006")

    # And it is in the list.
    page.goto("/environments/?q=browser-made")
    expect(page.locator("tr[data-name]")).to_have_count(1)


def test_draft_compliance_panel_follows_the_image(login, screenshot):
    page = login("admin")
    page.goto("/environments/new")
    panel = page.locator("#compliance-panel")
    expect(panel).to_contain_text("Choose a project")

    field(page, "placement").select_option(label=VISION_DET)
    field(page, "name").fill("draft-env")
    field(page, "description").fill("A workspace image for the vision team.")
    field(page, "workspace").check()
    field(page, "image").fill("pytorch/pytorch:2.3.0")
    # vision's workspace policy allows only the IfNotPresent pull policy.
    page.locator("#preview-project").select_option(label=VISION_DET)
    page.locator("#preview-type").select_option("Workspace")
    expect(panel.locator(".badge")).to_have_text("Compliant")

    field(page, "imagePullPolicy").select_option("Always")
    expect(panel.locator(".badge")).to_have_text("Not compliant (1)")
    expect(panel.locator(".reasons li")).to_have_count(1)
    expect(panel.locator(".reasons")).to_contain_text("imagePullPolicy")

    # An image that is not a reference: the panel says why it cannot judge the draft.
    field(page, "image").fill("Bad Image")
    expect(panel.locator(".badge")).to_have_count(0)
    expect(panel).to_contain_text("spec.image")

    field(page, "image").fill("nvcr.io/nvidia/pytorch:24.05-py3")
    expect(panel.locator(".badge")).to_have_text("Not compliant (1)")
    field(page, "imagePullPolicy").select_option("IfNotPresent")
    expect(panel.locator(".badge")).to_have_text("Compliant")
    expect(panel).to_contain_text("meets the policy")

    # A workload type the draft does not support is a reason too.
    page.locator("#preview-type").select_option("Inference")
    expect(panel.locator(".badge")).to_have_text(re.compile(r"Not compliant \(\d+\)"))

    page.locator("#preview-type").select_option("Workspace")
    field(page, "imagePullPolicy").select_option("Never")
    expect(panel.locator(".badge")).to_have_text("Not compliant (1)")
    page.evaluate("document.activeElement.blur()")
    screenshot("form")


def test_edit_renames(login):
    page = login("admin")
    url = open_environment(page, "tf-mnist")
    page.locator(".page-head").get_by_role("link", name="Edit").click()
    expect(page.locator("h1")).to_have_text("Edit “tf-mnist”")
    # Placement is fixed once created.
    expect(field(page, "placement")).to_be_disabled()
    expect(field(page, "image")).to_have_value("tensorflow/tensorflow:2.16.1-gpu")

    field(page, "name").fill("tf-mnist-renamed")
    field(page, "description").fill("Renamed in the browser.")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".flash.success")).to_have_text("Environment 'tf-mnist-renamed' was saved.")
    assert page.url == url
    expect(page.locator("h1")).to_have_text("tf-mnist-renamed")

    page.reload()
    expect(page.locator("h1")).to_have_text("tf-mnist-renamed")
    expect(page.locator(".lead")).to_have_text("Renamed in the browser.")
    page.goto("/environments/?q=tf-mnist")
    expect(page.locator("tr[data-name]")).to_have_count(1)
    expect(page.locator("tr[data-name]")).to_have_attribute("data-name", "tf-mnist-renamed")


def test_copy_requires_a_new_name(login):
    page = login("admin")
    open_environment(page, "tf-mnist")
    page.get_by_role("link", name="Make a copy").click()
    expect(page.locator("h1")).to_have_text("Copy “tf-mnist”")
    # Everything is prefilled but the name.
    expect(field(page, "name")).to_have_value("")
    expect(field(page, "image")).to_have_value("tensorflow/tensorflow:2.16.1-gpu")
    expect(field(page, "training")).to_be_checked()
    expect(field(page, "placement").locator("option:checked")).to_have_text(
        "cluster-a / research / team-b"
    )

    page.get_by_role("button", name="Create environment").click()
    expect(error_of(page, "name")).to_have_text("Name is required.")

    field(page, "name").fill("tf-mnist")
    page.get_by_role("button", name="Create environment").click()
    expect(error_of(page, "name")).to_contain_text("already exists")

    field(page, "name").fill("tf-mnist-copy")
    page.get_by_role("button", name="Create environment").click()
    expect(page.locator(".flash.success")).to_have_text("Environment 'tf-mnist-copy' was created.")
    expect(page.locator("h1")).to_have_text("tf-mnist-copy")
    expect(page.get_by_text("tensorflow/tensorflow:2.16.1-gpu", exact=True)).to_be_visible()
    page.goto("/environments/?q=tf-mnist")
    expect(page.locator("tr[data-name]")).to_have_count(2)


def test_delete_after_confirmation(login):
    page = login("admin")
    page.goto("/environments/?q=tf-mnist")
    page.locator('tr[data-name="tf-mnist"]').get_by_role("link", name="Delete").click()
    expect(page.locator("h1")).to_have_text("Delete “tf-mnist”?")
    # The confirmation lists what uses it.
    expect(page.locator("main")).to_contain_text("It is in use")
    expect(page.locator("main li")).to_have_text(["mnist-tf · training · Completed"])

    expect(page.locator("#delete-scope")).to_have_text("cluster-a / research / team-b (project)")

    page.get_by_role("button", name="Delete environment").click()
    # Back to the list as it was left: still searching for tf-mnist.
    expect(page).to_have_url(re.compile(r"/environments/\?q=tf-mnist$"))
    expect(page.locator(".flash.success")).to_have_text("Environment 'tf-mnist' was deleted.")
    expect(page.locator('tr[data-name="tf-mnist"]')).to_have_count(0)
    expect(page.locator("#filters").get_by_label("Search")).to_have_value("tf-mnist")
    expect(page.locator("#env-count")).to_have_text("0 environments")
