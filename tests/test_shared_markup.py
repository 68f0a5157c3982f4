"""Markup written once: a compliance reason reads the same on every page, one pager serves every
paged list, and the table's htmx links take their target from the element around them."""

import re

from envadmin.audit.models import AuditEvent

from .factories import add_environments
from .test_environment_compliance import put_policy
from .test_ui_views import LIST, user_with

REASON = (
    "<code>workingDir</code> <em>required</em>: workingDir is required by the policy of "
    "department &#x27;research&#x27;, but the environment does not set it and the policy gives "
    "no default."
)


def test_a_reason_reads_the_same_on_every_page(org, admin, client):
    put_policy(admin, "workspaces", {"scope": "department", "departmentId": "d1"}, {
        "rules": {"workingDir": {"required": True}},
    })  # fmt: skip
    client.force_login(user_with("System administrator", "tenant"))
    client.post(f"{LIST}review-as", {"project": "7", "workload_type": "Workspace"})
    listed = client.get(LIST).content.decode()
    row = re.search(r'<tr data-name="p7-env">.*?</tr>', listed).group(0)
    assert f"<li>{REASON}</li>" in row
    review = client.get("/compliance", {"project": "7"}).content.decode()
    cell = re.search(r'<tr data-name="p7-env">.*?</tr>', review, re.S).group(0)
    # The review's Workspace cell is the list's compliance cell.
    badge = r'<td[^>]*>(<details class="pop"><summary class="badge bad">.*?</details>)</td>'
    assert re.search(badge, row).group(1) in cell
    detail_url = re.search(r'<a href="(/environments/[^"/]+)">p7-env</a>', listed).group(1)
    assert f"<li>{REASON}</li>" in client.get(detail_url).content.decode()


def test_the_list_pager_keeps_the_filters_and_fetches_through_htmx(org, client):
    add_environments(30)
    client.force_login(user_with("System administrator", "tenant"))
    body = client.get(LIST, {"q": "bulk", "per_page": 10, "page": 2}).content.decode()
    pager = re.search(r'<nav class="pager".*?</nav>', body, re.S).group(0)
    for rel, number in (("prev", 1), ("next", 3)):
        href = f"?q=bulk&amp;per_page=10&amp;page={number}"
        assert f'<a href="{href}" hx-get="{href}" rel="{rel}">' in pager
    assert "Page 2 of 3" in pager and 'name="per_page" form="filters"' in pager
    # Where the answers go is said once, around the filters and the table.
    assert body.count("hx-target=") == 1 and body.count('hx-push-url="true"') == 1
    container = re.search(r'<div class="browser"([^>]*)>', body).group(1)
    assert 'hx-target="#env-table"' in container and 'hx-select="#env-table"' in container
    table = re.search(r'<section id="env-table".*</section>', body, re.S).group(0)
    sorting = re.findall(r'<th scope="col"[^>]*>\s*<a href="([^"]+)" hx-get="([^"]+)"', table)
    assert sorting and all(href == fetched for href, fetched in sorting)
    assert "?q=bulk&amp;per_page=10&amp;sort=-name" in dict(sorting)


def test_the_activity_pager_is_the_same_pager_without_htmx(org, client):
    AuditEvent.objects.bulk_create(
        AuditEvent(actor="bot", actor_type="application", origin="api", action="create",
                   asset_id=f"a{i}", asset_name=f"e{i}", scope_key="tenant")
        for i in range(60)
    )  # fmt: skip
    client.force_login(user_with("System administrator", "tenant"))
    body = client.get("/activity", {"actor": "bot"}).content.decode()
    pager = re.search(r'<nav class="pager".*?</nav>', body, re.S).group(0)
    assert '<a href="?actor=bot&amp;page=2" rel="next">Next →</a>' in pager
    assert "Page 1 of 2" in pager and "hx-" not in pager and "per_page" not in pager
