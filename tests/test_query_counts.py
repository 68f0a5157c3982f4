"""The list endpoint's queries must not grow with the number of environments (acceptance 5)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from envadmin.inventory.models import Environment

from .factories import add_environments

URL = "/api/v1/asset/environment"
BUDGET = 8  # auth (2) + org tree (3) + environments (1) + usage (2)


def count_list_queries(client, params):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL, params)
    assert response.status_code == 200
    return len(captured), len(response.json()["entries"])


@pytest.mark.parametrize("params", [{}, {"usageInfo": "true"}, {"projectId": 7, "usageInfo": "1"}])
def test_list_queries_do_not_grow_with_environments(
    org, admin, params, django_assert_max_num_queries
):
    add_environments(5)
    with django_assert_max_num_queries(BUDGET):
        small, small_entries = count_list_queries(admin, params)
    Environment.objects.filter(name__startswith="bulk-").delete()
    add_environments(200)
    with django_assert_max_num_queries(BUDGET):
        large, large_entries = count_list_queries(admin, params)
    assert large_entries - small_entries == 195
    assert small == large


def test_usage_is_complete_at_size(org, admin):
    add_environments(50)
    entries = admin.get(URL, {"usageInfo": "true", "projectId": 7}).json()["entries"]
    bulk = [e for e in entries if e["meta"]["name"].startswith("bulk-")]
    assert len(bulk) == 50
    assert all(len(e["usedBy"]["workspaces"]) == 1 for e in bulk)
    assert all(len(e["usedBy"]["trainings"]) == 1 for e in bulk)
    assert all(len(e["usedBy"]["templates"]) == 1 for e in bulk)


# session, user, preferences, access rules, org tree (3), count, page, usage (2), policies, the
# rows' lifecycle: the rows answer which actions each one offers, and the page does not ask when
# each was last used.
PAGE_BUDGET = 13


@pytest.mark.parametrize("htmx", [False, True])
def test_list_page_query_budget(org, client, htmx, django_assert_max_num_queries):
    from .test_ui_views import user_with

    client.force_login(user_with("System administrator", "tenant"))
    client.post("/environments/review-as", {"project": "7", "workload_type": "Workspace"})
    client.get("/environments/", {"per_page": 50})  # one-off writes: flash message, page size
    add_environments(60)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    with django_assert_max_num_queries(PAGE_BUDGET):
        response = client.get("/environments/", {"per_page": 50}, **headers)
    body = response.content.decode()
    assert body.count("<tr data-name=") == 50
    # Every row still offers what the user may do (read from the page's own rows).
    assert body.count(">Edit</a>") == 50 and body.count(">Delete</a>") == 50
