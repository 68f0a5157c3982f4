"""EnvironmentBackend.browse_environments: the default over list_environments, and the local
backend's database paging, which must answer exactly what the default answers."""

import ast
import json
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from envadmin.accounts.access import Caller
from envadmin.backends.base import EnvironmentBackend
from envadmin.backends.environment_rows import SORT_KEYS, RowFilters
from envadmin.backends.local import LocalBackend
from envadmin.inventory.models import Environment
from envadmin.lifecycle.models import Lifecycle
from envadmin.ui.browse import COLUMN_KEYS
from envadmin.ui.context import OrgIndex

from .factories import add_environments

CALLER = Caller("someone", rules=(("System administrator", "tenant"),))


def document(name, *, scope="tenant", image="img", by="me", tools=(), compliance=None):
    connections = [
        {"name": t, "isExternal": True, "externalToolInfo": {"toolType": t}} for t in tools
    ]
    meta = {"id": f"id-{name}", "name": name, "scope": scope, "createdBy": by}
    entry = {"meta": meta, "spec": {"image": image, "connections": connections}}
    if compliance is not None:
        entry["compliance"] = compliance
    return entry


def list_only(entries):
    """A backend that knows only Run:ai's list: every other operation is unused here."""

    def unused(*args, **kwargs):
        raise AssertionError("not part of browsing")

    calls = []

    def list_environments(self, caller, params):
        calls.append(dict(params))
        return {"entries": entries}

    namespace = dict.fromkeys(EnvironmentBackend.__abstractmethods__, unused)
    namespace["list_environments"] = list_environments
    backend = type("ListOnly", (EnvironmentBackend,), namespace)()
    return backend, calls


class Names:
    """Scope paths by name, so a search and a sort can be seen to read them."""

    def scope_path(self, meta):
        return {"a": "zeta / team", "b": "alpha / team"}.get(meta["name"], meta["scope"])

    def cluster_name(self, meta):
        return ""


COMPLIANT = {"compliance": True, "reason": []}
NOT_COMPLIANT = {"compliance": False, "reason": [{"details": "no"}]}
IMPOSED = {"compliance": True, "imposed": True, "reason": []}
ENTRIES = [
    document("a", image="nvcr.io/pytorch", tools=["wandb"], compliance=NOT_COMPLIANT),
    document("b", image="python:3", by="ci-bot", compliance=COMPLIANT),
    document("C", image="busybox", tools=["comet", "wandb"], compliance=IMPOSED),
    document("d", image="ubuntu", by="CI-BOT"),
]


def browse(entries=ENTRIES, **kwargs):
    backend, calls = list_only(entries)
    found, total = backend.browse_environments(CALLER, {"scope": "tenant"}, names=Names(), **kwargs)
    return [e["meta"]["name"] for e in found], total, calls


def test_the_default_asks_the_list_with_the_parameters_as_given():
    names, total, calls = browse()
    assert calls == [{"scope": "tenant"}]
    assert names == ["a", "b", "C", "d"] and total == 4


@pytest.mark.parametrize(
    "filters, expected",
    [
        (RowFilters(search="ALPHA"), ["b"]),  # the scope path as `names` gives it
        (RowFilters(search="pytorch"), ["a"]),
        (RowFilters(search="comet"), ["C"]),
        (RowFilters(tool="wandb"), ["a", "C"]),
        (RowFilters(tool="wan"), []),  # a tool type is equal or not
        (RowFilters(image="PY"), ["a", "b"]),
        (RowFilters(created_by="ci-"), ["b", "d"]),
        (RowFilters(compliance="compliant"), ["b"]),
        (RowFilters(compliance="not-compliant"), ["a"]),
        (RowFilters(compliance="imposed"), ["C"]),
        (RowFilters(tool="wandb", image="busy"), ["C"]),
    ],
)
def test_the_default_filters_rows(filters, expected):
    names, total, _ = browse(filters=filters)
    assert names == expected and total == len(expected)


@pytest.mark.parametrize(
    "sort, expected",
    [
        ("name", ["a", "b", "C", "d"]),
        ("-name", ["d", "C", "b", "a"]),
        ("scope", ["b", "C", "d", "a"]),  # alpha / team, tenant, tenant, zeta / team
        ("tools", ["b", "d", "a", "C"]),
        ("compliance", ["C", "b", "a", "d"]),  # imposed, compliant, not compliant, not judged
        ("created_by", ["b", "d", "a", "C"]),
        ("no-such-column", ["a", "b", "C", "d"]),
    ],
)
def test_the_default_sorts_by_any_column(sort, expected):
    assert browse(sort=sort)[0] == expected


def test_the_default_tells_an_unsupported_type_from_a_violation():
    # Run:ai answers "not compliant" for both; the judged type and the supported types differ.
    workspace = {"workloadSupportedTypes": {"workspace": True}}
    training = {"workloadSupportedTypes": {"training": True}}
    entries = [
        {**document("violates", compliance=NOT_COMPLIANT), "meta": {
            **document("violates")["meta"], **workspace}},
        {**document("trainer", compliance=NOT_COMPLIANT), "meta": {
            **document("trainer")["meta"], **training}},
    ]  # fmt: skip
    backend, _ = list_only(entries)
    params = {"complyToProject": "7", "complyToWorkloadType": "Workspace"}

    def names(**kwargs):
        found, _ = backend.browse_environments(CALLER, params, names=Names(), **kwargs)
        return [e["meta"]["name"] for e in found]

    assert names(filters=RowFilters(compliance="not-compliant")) == ["violates"]
    assert names(filters=RowFilters(compliance="not-supported")) == ["trainer"]
    assert names(sort="compliance") == ["violates", "trainer"]  # a violation before an n/a


def test_the_default_answers_one_window_and_the_total():
    assert browse(sort="-name", offset=1, limit=2)[:2] == (["C", "b"], 4)
    assert browse(filters=RowFilters(image="py"), offset=1, limit=5)[:2] == (["b"], 2)
    assert browse(offset=10)[:2] == ([], 4)


def test_every_column_of_the_list_sorts():
    assert list(COLUMN_KEYS) == list(SORT_KEYS)


def test_the_backends_do_not_import_the_web_admin():
    """The UI calls the backends, never the other way round."""
    for path in (Path(__file__).parents[1] / "envadmin" / "backends").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                imported = [node.module or ""]
            elif isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            else:
                continue
            assert not any(m.startswith("envadmin.ui") for m in imported), path


# --- the local backend: the database answers as the default does ---------------------------


@pytest.fixture
def local(org, admin):
    add_environments(12)
    for env in Environment.objects.filter(name__startswith="bulk-"):
        env.sync_from_spec()  # the image and tool columns the database filters on
        env.save()
    wandb = {"toolType": "wandb", "externalUrl": "https://w"}
    spec = {
        "image": "nvcr.io/nvidia/pytorch:24.05-py3",
        "connections": [{"name": "w", "isExternal": True, "externalToolInfo": wandb}],
    }
    body = json.dumps({"meta": {"name": "tooled", "scope": "tenant"}, "spec": spec})
    created = admin.post("/api/v1/asset/environment", body, content_type="application/json")
    assert created.status_code == 202
    backend = LocalBackend()
    return backend, OrgIndex.load(backend, CALLER)


def both(backend, names, params, **kwargs):
    """(the database's answer, the default's answer) as names and totals."""

    def shown(answer):
        found, total = answer
        return [e["meta"]["name"] for e in found], total

    params = {"usageInfo": "true", **params}
    database = backend.browse_environments(CALLER, params, names=names, **kwargs)
    default = EnvironmentBackend.browse_environments(backend, CALLER, params, names=names, **kwargs)
    return shown(database), shown(default)


@pytest.mark.parametrize("sort", [k for k in SORT_KEYS if k != "compliance"])
@pytest.mark.parametrize("descending", [False, True])
def test_database_sorting_is_the_default_sorting(local, sort, descending):
    backend, names = local
    sort = f"-{sort}" if descending else sort
    database, default = both(backend, names, {}, sort=sort, offset=3, limit=7)
    assert database == default and len(database[0]) == 7


@pytest.mark.parametrize(
    "filters",
    [
        RowFilters(search="team-a"),  # the scope path
        RowFilters(search="WANDB"),
        RowFilters(search="img:1"),
        RowFilters(tool="wandb"),
        RowFilters(image="PYTHON:3"),
        RowFilters(created_by="system@"),
    ],
)
def test_database_filtering_is_the_default_filtering(local, filters):
    backend, names = local
    database, default = both(backend, names, {"isWorkspace": "true"}, filters=filters)
    database_all, default_all = both(backend, names, {}, filters=filters)
    assert database == default and database_all == default_all and database_all[1] > 0


def test_compliance_is_browsed_by_the_default(local, monkeypatch):
    backend, names = local
    judged = {"complyToProject": "7", "complyToWorkloadType": "Workspace"}
    listed = []
    original = LocalBackend.list_environments
    monkeypatch.setattr(
        LocalBackend,
        "list_environments",
        lambda self, caller, params: listed.append(params) or original(self, caller, params),
    )
    for kwargs in ({"sort": "compliance"}, {"filters": RowFilters(compliance="compliant")}):
        database, default = both(backend, names, judged, **kwargs)
        assert database == default and database[1] > 0
    assert len(listed) == 4  # both answers of both cases came from the whole list


@pytest.mark.parametrize("wanted", ["current", "active", "deprecated", "archived"])
def test_database_lifecycle_filtering_is_the_default_filtering(local, wanted):
    backend, names = local
    for name, state in (("bulk-1", "archived"), ("bulk-2", "deprecated"), ("tooled", "archived")):
        env = Environment.objects.get(name=name)
        Lifecycle.objects.create(asset_id=str(env.id), state=state)
    database, default = both(backend, names, {}, filters=RowFilters(lifecycle=wanted), limit=50)
    assert database == default and database[1] > 0
    shown = set(database[0])
    if wanted in ("current", "active"):
        assert not {"bulk-1", "tooled"} & shown and ("bulk-2" in shown) == (wanted == "current")
    else:
        assert shown == ({"bulk-2"} if wanted == "deprecated" else {"bulk-1", "tooled"})


def test_a_page_reads_its_ids_from_the_list_index_alone(local):
    """A page's window sorts ids read from environment_list_page, not whole rows: sorting
    rows with their spec and fragments made the page grow with the tenant (issue 19)."""
    backend, names = local
    if connection.vendor != "sqlite":
        pytest.skip("the plan asserted is SQLite's")
    for params in ({}, {"isWorkspace": "true"}):
        with CaptureQueriesContext(connection) as captured:
            found, _ = backend.browse_environments(CALLER, params, names=names, limit=5)
        assert len(found) == 5
        (window,) = [
            q["sql"] for q in captured if q["sql"].startswith('SELECT "inventory_environment"."id"')
            and "LIMIT 5" in q["sql"]
        ]  # fmt: skip
        with connection.cursor() as cursor:
            plan = " ".join(row[-1] for row in cursor.execute("EXPLAIN QUERY PLAN " + window))
        assert "COVERING INDEX environment_list_page" in plan, plan


@pytest.mark.parametrize(
    "params",
    [{}, {"departmentId": "d1", "includeDescendants": "true"}, {"projectId": "7"},
     {"scope": "department"}, {"clusterId": "3f1c2a9e-5b7d-4c1e-9a2f-0d6b8e4c7a11",
                               "includeDescendants": "true"}],
)  # fmt: skip
def test_a_page_shows_only_what_the_caller_may_see(local, params):
    """The page's queries name one list of scope keys where they can: a placement partly out
    of the caller's reach (department d1 and below, seen from project 7) still shows only
    what the caller may see, as the default does."""
    backend, names = local
    viewer = Caller("viewer", rules=(("Viewer", "project:7"),))
    database = backend.browse_environments(viewer, params, names=names, limit=50)
    default = EnvironmentBackend.browse_environments(
        LocalBackend(), viewer, params, names=names, limit=50
    )
    shown = sorted(e["meta"]["name"] for e in database[0])
    assert shown == sorted(e["meta"]["name"] for e in default[0]) and database[1] == default[1]
    assert "p8-env" not in shown and "d2-env" not in shown
