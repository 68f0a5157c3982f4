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


def test_draft_compliance_panel_follows_the_draft(login, screenshot):
    page = login("admin")
    page.goto("/environments/new")
    panel = page.locator("#compliance-panel")
    expect(panel).to_contain_text("Choose a project")

    # The panel judges the placement's project, for every ticked type.
    field(page, "placement").select_option(label=TEAM_A)
    field(page, "name").fill("draft-env")
    field(page, "description").fill("A workspace image for team a.")
    field(page, "image").fill("pytorch/pytorch:2.3.0")
    expect(panel).to_contain_text("Tick a workload type")
    field(page, "workspace").check()
    expect(panel).to_contain_text(f"For project {TEAM_A}")
    workspace = panel.locator('[data-kind="Workspace"]')
    expect(workspace.locator(".badge")).to_have_text("Compliant")

    # research's workspace policy wants a uid of 1000 or more: the reason links to the field.
    field(page, "uidGidSource").select_option("custom")
    field(page, "runAsUid").fill("5")
    expect(workspace.locator(".badge")).to_have_text("Not compliant (1)")
    link = workspace.get_by_role("link", name="User id (uid)")
    expect(link).to_have_attribute("href", "#id_runAsUid")
    expect(workspace.locator(".reasons")).to_contain_text("User id (uid) is 5, below the minimum")

    # An image that is not a reference: the panel says why it cannot judge the draft.
    # The fields re-rendered for the uid choice first: a re-render landing between fill's
    # select-all and its typing (a loaded machine) left "Bad Image" typed before the old value.
    page.wait_for_load_state("networkidle")
    field(page, "image").fill("Bad Image")
    expect(field(page, "image")).to_have_value("Bad Image")
    expect(panel.locator(".badge")).to_have_count(0)
    problem = panel.get_by_role("link", name=re.compile(r"^Image: 'Bad Image' is not a valid"))
    expect(problem).to_have_attribute("href", "#id_image")  # the form's words, linked
    expect(panel).not_to_contain_text("spec.")
    field(page, "image").fill("nvcr.io/nvidia/pytorch:24.05-py3")
    expect(workspace.locator(".badge")).to_have_text("Not compliant (1)")

    # A second type ticked: both are shown at once.
    field(page, "training").check()
    expect(panel.locator(".preview-type")).to_have_count(2)
    expect(panel.locator('[data-kind="Training"] .badge')).to_have_text("Compliant")
    field(page, "runAsUid").fill("1000")
    expect(workspace.locator(".badge")).to_have_text("Compliant")
    expect(workspace).to_contain_text("meets the policy")

    # The live region is the same element throughout: htmx swapped its content only.
    assert page.locator("#compliance-panel[aria-live=polite]").count() == 1

    # For the README: the security fields with their policy hints, and a reason in the panel.
    field(page, "runAsUid").fill("5")
    expect(workspace.locator(".badge")).to_have_text("Not compliant (1)")
    page.evaluate("document.activeElement.blur()")
    page.locator("fieldset.group", has_text="Security").evaluate("e => e.scrollIntoView()")
    screenshot("form")


def test_the_form_shows_what_the_projects_policy_asks(login):
    """A policy forbidding Never and wanting a uid of 1000 or more: the form says so."""
    from envadmin.policies.models import Policy

    # team-a's own workspace policy forbids Never; research's (its department) wants uid >= 1000.
    team_a = Policy.objects.get(workload_type="workspace", scope_key="project:1")
    team_a.document["rules"]["imagePullPolicy"] = {
        "options": [{"value": "IfNotPresent", "displayed": "If not present"}, {"value": "Always"}]
    }
    team_a.document.setdefault("defaults", {})["workingDir"] = "/home/team-a"
    team_a.save()
    research = Policy.objects.get(workload_type="workspace", scope_key="department:d1")
    research.document["rules"]["security"]["runAsUid"] = {"min": 1000}
    research.save()

    page = login("admin")
    page.goto("/environments/new")
    never = field(page, "imagePullPolicy").locator('option[value="Never"]')
    uid = field(page, "runAsUid")
    expect(never).to_be_enabled()
    field(page, "name").fill("typed before")

    field(page, "placement").select_option(label=TEAM_A)
    field(page, "workspace").check()
    expect(never).to_be_disabled()
    expect(never).to_contain_text("not allowed for Workspace by project team-a")
    expect(uid).to_have_attribute("min", "1000")
    hint = page.locator("#id_runAsUid-policy")
    expect(hint).to_contain_text("1000 or more")
    expect(hint).to_contain_text("department research for Workspace")
    expect(uid).to_have_attribute("aria-describedby", re.compile("id_runAsUid-policy"))
    # Fixed by the project's policy: shown with its value and who fixes it.
    expect(field(page, "createHomeDir")).to_be_disabled()
    expect(page.locator("#id_createHomeDir-policy")).to_contain_text(
        "Fixed to Yes by project team-a for Workspace"
    )
    # What was typed before the fields were re-rendered is still there, focus stayed.
    expect(field(page, "name")).to_have_value("typed before")
    expect(field(page, "workspace")).to_be_focused()

    # A default is offered, and filled in only when asked for.
    expect(field(page, "workingDir")).to_have_value("")
    page.get_by_role("button", name="Use policy default: /home/team-a").click()
    expect(field(page, "workingDir")).to_have_value("/home/team-a")
    expect(page.locator("#id_workingDir-policy")).to_contain_text("The policy default.")
    expect(field(page, "name")).to_have_value("typed before")

    # Unticked, the workspace policy no longer applies.
    field(page, "workspace").uncheck()
    expect(never).to_be_enabled()
    expect(uid).not_to_have_attribute("min", "1000")


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
    expect(page.locator("#filters").get_by_label("Search", exact=True)).to_have_value("tf-mnist")
    expect(page.locator("#env-count")).to_have_text("0 environments")
