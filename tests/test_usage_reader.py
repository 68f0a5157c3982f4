"""usedBy as the database writes it (inventory/usage.py) against a plain reading of the same
rows grouped in Python: every viewer, every environment, names that need escaping."""

import random
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from envadmin.accounts.access import Access, Caller
from envadmin.inventory import documents
from envadmin.inventory.models import Environment, Project, Template, Workload
from envadmin.inventory.orgtree import OrgTree

from .conftest import C1, C2

URL = "/api/v1/asset/environment"
NAMES = ['quote " and \\ back', "tab\tnew\nline", "ünïcödé ✓ 模型", "emoji 🚀", "ctl \x01", "plain"]
VIEWERS = [
    ("System administrator", "tenant"),
    ("L1 researcher", "project:7"),
    ("Viewer", "project:9"),
    ("Research manager", "department:d1"),
    ("Viewer", f"cluster:{C1}"),
    ("Viewer", f"cluster:{C2}"),
]
TEMPLATE_SCOPES = ["tenant", f"cluster:{C1}", f"cluster:{C2}", "department:d1", "project:8"]


@pytest.fixture
def varied(org):
    """Many workloads in every project, created out of order with equal times told apart by
    name; templates at every scope; one environment with nothing at all."""
    rng = random.Random(19)
    envs = list(Environment.objects.exclude(name="c2-env"))
    projects = list(Project.objects.all())
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(300):
        env = envs[n % len(envs)]
        Workload.objects.create(
            name=f"{rng.choice(NAMES)} {rng.randrange(1000):03d}",
            type=rng.choice(list(documents.WORKLOAD_USAGE_KEYS)),
            status=rng.choice(["Running", "Stopped", 'odd "status"']),
            project=rng.choice(projects),
            environment=env,
            created_at=start + timedelta(minutes=rng.randrange(40)),
        )
    for n, key in enumerate(TEMPLATE_SCOPES * 4):
        Template.objects.create(
            name=f"{NAMES[n % len(NAMES)]} t{n:02d}",
            scope=key.split(":", 1)[0],
            scope_key=key,
            environment=envs[n % len(envs)],
        )


def expected_usage(visible: set[str]) -> dict:
    """The rows the caller may see, in the database's order, grouped in Python."""
    projects = [int(k.split(":", 1)[1]) for k in visible if k.startswith("project:")]
    usage = {
        str(env_id): documents.empty_usage()
        for env_id in Environment.objects.values_list("id", flat=True)
    }
    workloads = Workload.objects.filter(project_id__in=projects, environment__isnull=False)
    for w in workloads.order_by("environment_id", "created_at", "name"):
        kind = documents.WORKLOAD_USAGE_KEYS[w.type]
        usage[str(w.environment_id)][kind].append(
            {"id": str(w.id), "name": w.name, "status": w.status}
        )
    templates = Template.objects.filter(scope_key__in=visible, environment__isnull=False)
    for t in templates.order_by("name"):
        usage[str(t.environment_id)]["templates"].append({"id": str(t.id), "name": t.name})
    return usage


def visible_keys(role: str, key: str) -> set[str]:
    return Access(Caller("someone", rules=((role, key),)), OrgTree.load()).visible


@pytest.mark.parametrize("role, key", VIEWERS)
def test_the_reader_matches_the_rows_grouped_in_python(varied, role, key):
    visible = visible_keys(role, key)
    expected = expected_usage(visible)
    ids = Environment.objects.values("id")
    read = documents.usage_by_environment(ids, visible)
    assert read == expected
    assert any(any(lists.values()) for lists in read.values())
    assert any(not any(lists.values()) for lists in read.values())  # c2-env: nothing at all


@pytest.mark.parametrize("role, key", VIEWERS)
def test_the_streamed_list_carries_the_same_usage(varied, client_for, role, key):
    expected = expected_usage(visible_keys(role, key))
    response = client_for(role, key).get(URL, {"usageInfo": "true"})
    assert response.status_code == 200
    body = orjson.loads(b"".join(response.streaming_content))
    assert body["entries"], "the viewer sees environments"
    for entry in body["entries"]:
        assert entry["usedBy"] == expected[entry["meta"]["id"]], entry["meta"]["name"]
        assert list(entry["usedBy"]) == [*documents.WORKLOAD_USAGE_KEYS.values(), "templates"]


def test_a_viewer_without_projects_sees_no_workloads(varied):
    visible = {"tenant"}
    read = documents.usage_by_environment(Environment.objects.values("id"), visible)
    assert all(not usage[kind] for usage in read.values() for kind in ("workspaces", "trainings"))
    assert any(usage["templates"] for usage in read.values())  # the tenant's templates
