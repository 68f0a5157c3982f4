"""The policies page: one scope picker over the org tree, old links, contradictory queries, and
the project choice it shares with review-as and the compliance page."""

import re

import pytest

from envadmin.ui.models import Preference

from .conftest import C1, C2
from .test_environment_compliance import put_policy

PAGE = "/policies"
REVIEW_AS = "/environments/review-as"


@pytest.fixture
def ruled(org, admin):
    """A rule at each level of c1's branch, and one on the other cluster."""
    put_policy(
        admin,
        "workspaces",
        {"scope": "tenant"},
        {"rules": {"imagePullPolicy": {"options": [{"value": "IfNotPresent"}]}}},
    )
    put_policy(
        admin,
        "workspaces",
        {"scope": "cluster", "clusterId": C2},
        {"rules": {"command": {"required": True}}},
    )
    put_policy(
        admin,
        "workspaces",
        {"scope": "department", "departmentId": "d1"},
        {"rules": {"security": {"runAsUid": {"min": 1000}}}},
    )
    put_policy(admin, "workspaces", {"scope": "project", "projectId": 9},
               {"rules": {"workingDir": {"canEdit": False}}})  # fmt: skip


def rules_of(body: str) -> dict[str, tuple[str, str]]:
    """{field path: (rule text, source)} of the Workspace section."""
    section = body.split('id="policy-workspace"')[1].split("</section>")[0]
    rows = re.findall(r'<tr data-field="([^"]+)">.*?</th><td>([^<]*)</td><td>([^<]*)</td>', section)
    return {field: (text, source) for field, text, source in rows}


@pytest.mark.parametrize(
    ("path", "query", "expected"),
    [
        ("tenant", "scope=tenant", {"imagePullPolicy": ("one of: IfNotPresent; not allowed: "
                                                        "Always, Never", "tenant")}),
        ("c2", f"scope=cluster&clusterId={C2}", {
            "imagePullPolicy": ("one of: IfNotPresent; not allowed: Always, Never", "tenant"),
            "command": ("required", "cluster c2"),
        }),
        (" C1 /  Research ", "scope=department&departmentId=d1", {
            "imagePullPolicy": ("one of: IfNotPresent; not allowed: Always, Never", "tenant"),
            "security.runAsUid": ("at least 1000", "department research"),
        }),
        ("c1 / vision / team-c", "scope=project&projectId=9", {
            "imagePullPolicy": ("one of: IfNotPresent; not allowed: Always, Never", "tenant"),
            "workingDir": ("fixed: cannot be edited", "project team-c"),
        }),
    ],
)  # fmt: skip
def test_a_node_chosen_by_its_path_shows_its_effective_policy(
    ruled, signed_in, path, query, expected
):
    client = signed_in()
    chosen = client.get(PAGE, {"node": path})
    assert chosen.status_code == 302 and chosen.url == f"{PAGE}?{query}"
    page = client.get(chosen.url)
    assert page.status_code == 200
    assert rules_of(page.content.decode()) == expected


def test_the_picker_offers_every_node_by_its_path(org, signed_in):
    body = signed_in().get(PAGE, {"scope": "tenant"}).content.decode()
    options = re.findall(r'<option value="([^"]+)">(\w+)</option>', body.split('id="p-nodes"')[1])
    assert options[:5] == [
        ("tenant", "tenant"), ("c1", "cluster"), ("c1 / research", "department"),
        ("c1 / research / team-a", "project"), ("c1 / research / team-b", "project"),
    ]  # fmt: skip
    assert len(options) == 1 + 2 + 3 + 4


@pytest.mark.parametrize(
    ("query", "message"),
    [
        # Project 7 is in d1, not d2: the old four selects could say both.
        ("scope=project&projectId=7&departmentId=d2", "not on the branch of project team-a"),
        (f"scope=department&departmentId=d1&clusterId={C2}", "not on the branch of department"),
        ("scope=department&departmentId=d1&projectId=9", "not on the branch of department"),
        ("scope=department", "Choose which department"),
        ("scope=project&projectId=%C2%B2", "There is no project"),
        ("scope=cluster&clusterId=nope", "There is no cluster nope"),
        ("scope=galaxy", "Unknown scope galaxy"),
        ("node=c1+%2F+nowhere", "No scope is called c1 / nowhere"),
    ],
)
def test_a_query_naming_no_node_or_contradicting_itself_is_named(org, signed_in, query, message):
    response = signed_in().get(f"{PAGE}?{query}")
    assert response.status_code == 400
    body = response.content.decode()
    error = re.search(r'<p class="error" id="p-node-error" role="alert">([^<]+)</p>', body)
    assert error and message in error.group(1)
    assert 'aria-invalid="true"' in body and 'id="policy-workspace"' not in body


def test_ids_on_one_branch_are_not_a_contradiction(ruled, signed_in):
    """What the old form sent: the scope's id with its ancestors' (or a project inside it)."""
    client = signed_in()
    query = f"scope=department&departmentId=d1&clusterId={C1}&projectId=7"
    body = client.get(f"{PAGE}?{query}").content.decode()
    assert rules_of(body)["security.runAsUid"] == ("at least 1000", "department research")


def test_the_project_choice_is_shared(org, signed_in):
    client = signed_in()

    def chosen_on(path):
        body = client.get(path).content.decode()
        review_as = re.search(r'<input[^>]* id="review-project"[^>]* value="([^"]*)"', body).group(
            1
        )
        return body, review_as

    # Chosen on the compliance page: preselected in review-as and on the policies page.
    client.get("/compliance", {"project": 9})
    body, review_as = chosen_on(PAGE)
    assert review_as == "c1 / vision / team-c"
    assert re.search(r'<input[^>]* id="p-node"[^>]* value="c1 / vision / team-c"', body)

    # Chosen on the policies page: preselected on the compliance page and in review-as.
    client.get(PAGE, {"scope": "project", "projectId": 8})
    body, review_as = chosen_on("/compliance")
    assert review_as == "c1 / research / team-b"
    assert re.search(r'<option value="8" selected>c1 / research / team-b</option>', body)

    # Chosen in review-as, by its path: the other two follow.
    client.post(REVIEW_AS, {"project": "c2 / other / team-d", "workload_type": "Training"})
    preference = Preference.objects.get()
    assert (preference.review_project, preference.review_workload_type) == (10, "Training")
    assert re.search(r'<option value="10" selected>', chosen_on("/compliance")[0])
    assert re.search(r'id="p-node"[^>]* value="c2 / other / team-d"', chosen_on(PAGE)[0])
    # A department or the tenant on the policies page leaves the project choice alone.
    client.get(PAGE, {"scope": "department", "departmentId": "d1"})
    assert Preference.objects.get().review_project == 10


def test_one_banner_after_apply(org, signed_in):
    client = signed_in()
    chosen = {"project": "c1 / research / team-a", "workload_type": "Workspace"}
    response = client.post(REVIEW_AS, {**chosen, "next": "/environments/"})
    body = client.get(response.url).content.decode()
    assert body.count('class="review-banner"') == 1
    assert "Reviewing as <strong>c1 / research / team-a</strong>" in body
    assert 'class="flash' not in body

    response = client.post(REVIEW_AS, {"project": "", "workload_type": "Workspace"})
    body = client.get(response.url).content.decode()
    assert 'class="review-banner"' not in body and "Review mode is off." in body
    assert Preference.objects.get().review_workload_type == ""


def test_a_project_review_as_does_not_know_is_named_and_changes_nothing(org, signed_in):
    client = signed_in()
    client.post(REVIEW_AS, {"project": "7", "workload_type": "Workspace"})
    response = client.post(REVIEW_AS, {"project": "c1 / nowhere", "workload_type": "Training"})
    body = client.get(response.url).content.decode()
    assert "No project is called c1 / nowhere" in body
    preference = Preference.objects.get()
    assert (preference.review_project, preference.review_workload_type) == (7, "Workspace")


def test_every_node_of_the_org_tree_links_to_its_policies(org, signed_in):
    client = signed_in()
    body = client.get("/org").content.decode()
    links = re.findall(r'href="(/policies\?[^"]+)"', body)
    assert len(links) == 1 + 2 + 3 + 4
    for link in links:
        page = client.get(link.replace("&amp;", "&"))
        assert page.status_code == 200 and 'id="policy-workspace"' in page.content.decode()


def test_imposed_environments_are_named_not_numbered(org, admin, signed_in):
    from envadmin.inventory.models import Environment

    asset = str(Environment.objects.get(name="cluster-env").id)
    put_policy(admin, "distributed", {"scope": "cluster", "clusterId": C1},
               {"imposedAssets": {"worker": [asset]}})  # fmt: skip
    body = signed_in().get(PAGE, {"scope": "project", "projectId": 7}).content.decode()
    section = body.split('id="policy-distributed"')[1].split("</section>")[0]
    assert re.findall(r"<li>([^<]+)</li>", section) == ["Worker: cluster-env (c1)"]
    assert asset not in body.split("<details")[0]


def test_nodes_whose_parent_the_user_cannot_see_are_still_offered():
    """A user placed on a project may see it without its department or cluster."""
    from envadmin.ui.context import OrgIndex
    from envadmin.ui.org_nodes import OrgNodes

    org = OrgIndex(
        clusters={"C-1": "c1"},
        departments={"d9": {"id": "d9", "name": "hidden-parent", "clusterId": "C-1"}},
        projects={7: {"id": 7, "name": "team-a", "parentId": "d1", "clusterId": "C-1"},
                  8: {"id": 8, "name": "team-b", "parentId": "d9", "clusterId": "C-1"}},
    )  # fmt: skip
    nodes = OrgNodes(org)
    assert [(n.scope, n.path) for n in nodes.all] == [
        ("tenant", "tenant"), ("cluster", "c1"), ("department", "c1 / hidden-parent"),
        ("project", "c1 / hidden-parent / team-b"), ("project", "c1 / team-a"),
    ]  # fmt: skip
    assert nodes.by_path("c1 / team-a").params == {"scope": "project", "projectId": "7"}
    # Its cluster, known from the project itself, is still on its branch.
    query = {"scope": "project", "projectId": "7", "clusterId": "c-1"}
    assert nodes.from_query(query).name == "team-a"
