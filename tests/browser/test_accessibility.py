"""Every page and state of the web admin, at 1440 and 390 px: axe-core finds no violation, and on
a phone no page scrolls sideways.

axe-core comes bundled in the axe-playwright-python wheel (no network at test time); it is run
with page.evaluate, which the Content-Security-Policy does not apply to.
Rerun after a template change: .venv/bin/python -m pytest tests/browser/test_accessibility.py
"""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": 1440, "phone": 390}
AXE = Axe()
SUBJECT = "pytorch-dev"  # the demo's department-scoped one: env vars, tools, workloads


def environment_url(page, name=SUBJECT, suffix=""):
    page.goto(f"/environments/?q={name}&scope=department")
    href = page.locator(f'tr[data-name="{name}"] td.name a').first.get_attribute("href")
    return href.split("?")[0] + suffix  # the link carries the list to return to: not wanted here


def settle(page):
    """Waits for htmx's follow-up requests (the form's draft compliance loads on its own)."""
    page.wait_for_load_state("networkidle")


def submit(page):
    page.locator("#env-form button[type=submit]").click()
    page.wait_for_load_state()


def change_subject(page):
    """One saved edit, so history and activity have rows to show."""
    page.goto(environment_url(page, suffix="/edit"))
    page.locator("#id_description").fill("Edited by the accessibility tests.")
    submit(page)
    expect(page.locator("h1")).to_have_text(SUBJECT)


def sign_in_page(page, login):
    page.goto("/login")


def sign_in_failed(page, login):
    page.goto("/login")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("p.error")).to_be_visible()


def environment_list(page, login):
    login("admin")


def open_menu(page):
    """On a phone the header's controls are behind its Menu disclosure."""
    summary = page.locator("details.menu > summary")
    if summary.is_visible():
        summary.click()


def review_as_list(page, login):
    login("manager")
    open_menu(page)
    page.locator("#review-project").fill("cluster-a / research / team-a")
    page.locator("form.review-as").get_by_role("combobox", name="Workload type").select_option(
        "Workspace"
    )
    page.locator("form.review-as button[type=submit]").click()
    expect(page.locator(".review-banner")).to_be_visible()


def review_as_reasons(page, login):
    """A compliance badge's reasons, opened."""
    review_as_list(page, login)
    page.locator("#env-table details.pop > summary.badge").first.click()
    expect(page.locator("#env-table details.pop[open] li").first).to_be_visible()


def detail(page, login):
    login("admin")
    page.goto(environment_url(page))


def history(page, login):
    login("admin")
    change_subject(page)
    page.get_by_role("link", name="History").click()
    expect(page.locator("#history tbody tr").first).to_be_visible()


def compare_revisions(page, login):
    login("admin")
    change_subject(page)
    page.goto(environment_url(page, suffix="/compare"))
    expect(page.locator("main")).to_contain_text("Edited by the accessibility tests.")


def restore_confirmation(page, login):
    login("admin")
    change_subject(page)
    page.goto(environment_url(page, suffix="/revisions/1/restore"))
    expect(page.get_by_role("button", name="Restore revision 1")).to_be_visible()


def recently_deleted(page, login):
    login("admin")
    page.goto(environment_url(page, suffix="/delete"))
    page.get_by_role("button", name="Delete environment").click()
    page.goto("/environments/recently-deleted")
    expect(page.get_by_role("button", name=f"Bring back {SUBJECT}")).to_be_visible()


def new_form(page, login):
    login("admin")
    page.goto("/environments/new")


def form_pickers(page, login):
    """The image picker open at a repository's tags, and an env var's credential and key."""
    new_form(page, login)
    page.locator("#id_placement").select_option(label="cluster-a / research / team-a")
    settle(page)
    page.get_by_text("Pick from a registry").click()
    settle(page)  # the picker's first step loads over htmx: choose once it is in place
    picker = page.locator("#image-picker")
    picker.get_by_label("Registry", exact=True).select_option(
        label="internal (registry.example.com)"
    )
    settle(page)
    picker.get_by_role("radio", name="ml/pytorch").check()
    expect(picker.get_by_label("Search tags of ml/pytorch")).to_be_visible()
    page.get_by_role("button", name="Add a variable").click()
    page.locator("#id_env-0-source").select_option("credential")
    page.locator("#id_env-0-credential").select_option(label="hf-token (generic-secret)")
    expect(page.locator("select#id_env-0-key")).to_be_visible()


def new_form_errors(page, login):
    new_form(page, login)
    page.locator("#id_image").fill("Bad Image")
    submit(page)
    expect(page.locator("#env-form p.error").first).to_be_visible()


def edit_form(page, login):
    login("admin")
    page.goto(environment_url(page, suffix="/edit"))


def edit_form_errors(page, login):
    edit_form(page, login)
    page.locator("#id_name").fill("")
    page.locator("#id_env-0-name").fill("1 bad")
    submit(page)
    expect(page.locator("#env-form p.error").first).to_be_visible()


def copy_form(page, login):
    login("admin")
    page.goto(environment_url(page, suffix="/copy"))


def copy_form_errors(page, login):
    copy_form(page, login)
    page.locator("#id_image").fill("Bad Image")
    submit(page)
    expect(page.locator("#env-form p.error").first).to_be_visible()


def compliant_copy_form(page, login):
    """The copy form prefilled with a copy fixed to comply with team-a, and its notice."""
    login("admin")
    page.goto("/compliance?project=1&problems=1")
    row = page.locator('#compliance-matrix tr[data-name="jupyter-lab"]')
    row.get_by_role("link", name="Make a compliant copy for cluster-a / research / team-a").click()
    expect(page.locator("#applied-fixes")).to_be_visible()
    settle(page)


def form_fixes_offered(page, login):
    """The draft compliance panel offering fixes."""
    new_form(page, login)
    page.locator("#id_placement").select_option(label="cluster-a / research / team-a")
    page.locator("#id_workspace").check()
    page.locator("#id_uidGidSource").select_option("custom")
    page.locator("#id_runAsUid").fill("5")
    expect(page.locator("#preview-fixes")).to_be_visible()


def delete_confirmation(page, login):
    login("admin")
    page.goto(environment_url(page, suffix="/delete"))


def compliance(page, login):
    login("manager")
    page.goto("/compliance?project=1")


def policies(page, login):
    login("admin")
    page.goto("/policies?scope=project&projectId=1")


def policy_impact(page, login):
    login("admin")
    page.goto("/policies?scope=department&departmentId=d1")
    workspace = page.locator("#policy-workspace")
    workspace.get_by_text("Edit the Workspace policy of this scope (YAML)").click()
    editor = workspace.get_by_label("Policy: defaults, rules, imposedAssets")
    ruled = "rules:\n  image:\n    options:\n    - value: registry.example.com/none:1\n"
    editor.fill(editor.input_value().replace("rules:\n", ruled, 1))
    workspace.get_by_role("button", name="Save Workspace policy").click()
    page.locator("#impact-Workspace").wait_for()


def org_tree(page, login):
    login("admin")
    page.goto("/org")


def activity(page, login):
    login("admin")
    change_subject(page)
    page.goto("/activity")
    expect(page.locator("#activity tbody tr").first).to_be_visible()


IMPORT_FILE = """environments:
- meta: {name: pytorch-dev, scope: project, projectName: team-a, description: from git}
  spec: {image: "pytorch/pytorch:2.4.0"}
- meta: {name: a11y-import, scope: project, projectName: team-a}
  spec: {image: "python:3.12"}
"""


def import_plan(page, login):
    login("admin")
    page.goto("/environments/import")
    page.get_by_label("Paste the file").fill(IMPORT_FILE)
    page.get_by_role("button", name="Plan").click()
    expect(page.locator("#plan-items")).to_be_visible()


def import_errors(page, login):
    login("admin")
    page.goto("/environments/import")
    page.get_by_label("Paste the file").fill(IMPORT_FILE.replace("projectName: team-a}", "x: 1}"))
    page.get_by_role("button", name="Plan").click()
    expect(page.locator("#import-errors")).to_be_visible()


def cleanup(page, login):
    login("admin")
    page.goto("/environments/cleanup")
    expect(page.get_by_role("heading", name="Cleanup")).to_be_visible()


def deprecated_copy_form(page, login):
    """A deprecated environment's copy: the warning banner (set through the detail page's
    state form)."""
    login("admin")
    page.goto(environment_url(page))
    page.locator("#lc-state").select_option("deprecated")
    page.locator("#lc-message").fill("Moving to a newer CUDA.")
    page.get_by_role("button", name="Save lifecycle").click()
    expect(page.locator("#lifecycle-banner")).to_be_visible()
    page.goto(environment_url(page, suffix="/copy"))
    expect(page.locator("#lifecycle-banner")).to_contain_text("deprecated")


def not_found(page, login):
    login("admin")
    page.goto("/environments/no-such-environment")


def bulk_preview(page, login):
    """Two rows ticked on the list, a tag-only image change previewed."""
    login("admin")
    page.goto("/environments/?scope=project")
    for index in range(2):
        page.locator("#env-table input[name=ids]").nth(index).check()
    page.locator("#bulk-action").select_option("set-image")
    page.locator("#bulk-image").fill(":24.06")
    page.locator("#bulk-form").get_by_role("button", name="Preview").click()
    expect(page.locator("#bulk-preview")).to_be_visible()


def bulk_preview_errors(page, login):
    bulk_preview(page, login)
    page.locator("#bulk-image").fill("Not An Image")
    page.get_by_role("button", name="Preview again").click()
    expect(page.locator("#bulk-image-error")).to_be_visible()


def bulk_summary(page, login):
    bulk_preview(page, login)
    page.get_by_role("button", name="Apply to 2 environments").click()
    expect(page.locator("#bulk-summary")).to_be_visible()


STATES = {
    fn.__name__: fn
    for fn in [
        sign_in_page, sign_in_failed, environment_list, review_as_list, review_as_reasons,
        detail, history, compare_revisions, restore_confirmation, recently_deleted,
        new_form, new_form_errors, edit_form, edit_form_errors, copy_form, copy_form_errors,
        compliant_copy_form, form_fixes_offered, delete_confirmation, compliance, policies,
        policy_impact, org_tree, activity, not_found, import_plan, import_errors, cleanup,
        deprecated_copy_form, bulk_preview, bulk_preview_errors, bulk_summary,
        form_pickers,
    ]
}  # fmt: skip


def report(violations) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:8]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['failureSummary']!r}")
    return "\n".join(lines)


# axe only "needs review" an aria-describedby naming a missing element: checked here instead.
BROKEN_REFERENCES = """() => [...document.querySelectorAll(
    "[aria-describedby], [aria-labelledby], [aria-controls], label[for]")].flatMap(el =>
  ["aria-describedby", "aria-labelledby", "aria-controls", "for"].flatMap(name =>
    (el.getAttribute(name) || "").split(/\\s+/).filter(id => id && !document.getElementById(id))
      .map(id => `${name}="${id}" on ${el.outerHTML.slice(0, 100)}`)))"""


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
@pytest.mark.parametrize("state", STATES)
def test_axe_finds_no_violation(page, login, state, width):
    page.set_viewport_size({"width": width, "height": 900})
    STATES[state](page, login)
    settle(page)
    violations = AXE.run(page).response["violations"]
    assert not violations, f"{page.url} at {width} px:\n{report(violations)}"
    broken = page.evaluate(BROKEN_REFERENCES)
    assert not broken, f"{page.url}: references to no element:\n" + "\n".join(broken)


@pytest.mark.parametrize("state", STATES)
def test_no_page_scrolls_sideways_on_a_phone(page, login, state):
    page.set_viewport_size({"width": 390, "height": 844})
    STATES[state](page, login)
    settle(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width} px wide at 390 px"


@pytest.mark.parametrize("state", ["copy_form", "edit_form_errors"])
def test_form_fields_have_distinct_labels(page, login, state):
    STATES[state](page, login)
    names = page.locator("#env-form").evaluate(
        """form => [...form.elements]
            .filter(e => e.labels && e.labels.length && e.type !== "hidden")
            .map(e => [...e.labels].map(l => l.textContent.replace(/\\s+/g, " ").trim())
            .join(" "))"""
    )
    assert len(names) > 20
    repeated = sorted({name for name in names if names.count(name) > 1})
    assert not repeated, repeated
    # Rows are told apart by number, in their hidden legend and each label.
    expect(page.get_by_label("Name (Environment variable 2)", exact=True)).to_be_visible()


def test_header_folds_into_a_menu_on_a_phone(page, login):
    login("admin")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_visible()  # at 1440 px: no menu to open
    expect(page.locator("details.menu > summary")).to_be_hidden()
    page.set_viewport_size({"width": 390, "height": 844})
    expect(nav).to_be_hidden()
    page.locator("details.menu > summary").click()
    expect(nav.get_by_role("link", name="Activity")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    nav.get_by_role("link", name="Activity").click()
    expect(page.locator("h1")).to_have_text("Activity")


def test_list_is_cards_on_a_phone_with_labelled_cells(page, login, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    login("admin")
    card = page.locator('tr[data-name="pytorch-dev"]').first
    assert card.evaluate("tr => getComputedStyle(tr).display") == "block"
    for label in ["Scope", "Image"]:
        cell = card.locator(f'td[data-label="{label}"]')
        expect(cell).to_be_visible()
        assert cell.evaluate("td => getComputedStyle(td, '::before').content") == f'"{label}"'
    expect(card.get_by_role("link", name="Edit")).to_be_visible()
    box = card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.locator("#env-table").evaluate("e => e.scrollIntoView({block: 'start'})")
    screenshot("phone-list")


def test_image_names_wrap_at_separators_and_actions_stay_in_view(page, login):
    login("admin")
    page.locator("details.columns-chooser > summary").click()
    for box in page.locator(".columns-chooser input[type=checkbox]").all():
        box.check()
    page.get_by_role("button", name="Save columns").click()
    image = page.locator('tr[data-name="pytorch-dev"] td.mono').first
    expect(image).to_contain_text("pytorch")
    assert image.inner_html().count("<wbr>") >= 3
    # No column squeezes a name into single letters: the image cell keeps a separated part whole.
    assert image.evaluate("td => td.getBoundingClientRect().width") > 60
    # All columns are wider than the page: the table scrolls, but its last column stays in view.
    scroller = page.locator("#env-table .scroll")
    assert scroller.evaluate("e => e.scrollWidth > e.clientWidth + 100")
    edit = page.locator('tr[data-name="pytorch-dev"] td.actions').first.get_by_role(
        "link", name="Edit"
    )
    edit.scroll_into_view_if_needed()
    frame, link = scroller.bounding_box(), edit.bounding_box()
    assert frame["x"] <= link["x"] and link["x"] + link["width"] <= frame["x"] + frame["width"]


def test_live_regions_survive_htmx_swaps(page, login):
    page = login("admin")
    status = page.locator("#env-status")
    status.evaluate("el => { el.dataset.original = 'yes'; }")
    page.locator("#filters").get_by_label("Scope", exact=True).select_option("project")
    expect(status).to_have_text("14 environments")
    expect(status).to_have_attribute("data-original", "yes")  # the same element, not a new one
    expect(page.locator("#env-table[aria-live]")).to_have_count(0)
    page.goto("/environments/new")
    region = page.locator("#compliance-panel[aria-live]")  # htmx swaps its content only
    region.evaluate("el => { el.dataset.original = 'yes'; }")
    page.locator("#id_image").fill("nvcr.io/nvidia/pytorch:24.05-py3")
    expect(region).not_to_contain_text("Type to see")
    expect(region).to_have_attribute("data-original", "yes")
