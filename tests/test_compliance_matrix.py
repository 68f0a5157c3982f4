"""The compliance matrix: the local backend reads the environments once for the four workload
types, answers as four lists would, and its queries do not grow with the environments."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from envadmin.accounts.access import Caller
from envadmin.backends import local_matrix
from envadmin.backends.base import EnvironmentBackend
from envadmin.backends.local import LocalBackend
from envadmin.compliance.verdicts import Verdicts
from envadmin.contract.choices import WORKLOAD_TYPES
from envadmin.inventory.models import Environment

from .factories import add_environments
from .test_environment_compliance import policies, put_policy  # noqa: F401 (a fixture)
from .test_ui_views import signed_in  # noqa: F401 (a fixture)

ADMIN = Caller("root", rules=(("System administrator", "tenant"),))


def _compliance(answer) -> dict:
    return {e["meta"]["id"]: e["compliance"] for e in answer["entries"]}


@pytest.mark.parametrize("params", [
    {"projectId": "7", "complyToProject": "7"},
    {"complyToProject": "7"},  # the whole tenant: some of it the project cannot see
    {"complyToProject": "7", "complyToReplicaType": "Master"},
])  # fmt: skip
def test_one_read_answers_as_a_list_per_workload_type(policies, params):  # noqa: F811
    once = LocalBackend().environments_by_workload_type(ADMIN, params, WORKLOAD_TYPES)
    backend = LocalBackend()
    each = EnvironmentBackend.environments_by_workload_type(backend, ADMIN, params, WORKLOAD_TYPES)
    assert list(once) == list(each) == list(WORKLOAD_TYPES)
    verdicts = set()
    for kind in WORKLOAD_TYPES:
        assert _compliance(once[kind]) == _compliance(each[kind])
        for found, listed in zip(once[kind]["entries"], each[kind]["entries"], strict=True):
            listed.pop("usageTimes", None)  # a list judged for a type tells its last use
            assert found == listed
        verdicts |= {c["compliance"] for c in _compliance(once[kind]).values()}
    assert verdicts == {True, False}  # the policies above leave some compliant, some not


def test_the_matrix_reads_no_more_for_more_environments(policies, signed_in):  # noqa: F811
    client = signed_in()

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/compliance?project=7").status_code == 200
        return len(captured)

    queries()  # the first visit also stores the project chosen
    few = queries()
    add_environments(30)
    # The new rows' specs are read once, in one query, to be judged; then their verdicts are
    # kept and the matrix reads as few as before.
    assert queries() == few + 1
    assert queries() == few
    page = client.get("/compliance?project=7").content.decode()
    assert page.count('<tr data-name="bulk-') == 30


def _by_id(rows) -> dict:
    return {row.id: (row.name, row.meta["scope"], row.cells) for row in rows}


def test_the_local_matrix_answers_as_the_lists_do_cold_and_warm(policies, monkeypatch):  # noqa: F811
    """The raw read and the kept verdicts give the rows the lists per type give (base.py's)."""
    monkeypatch.setattr(local_matrix, "VERDICTS", Verdicts())
    expected, _ = EnvironmentBackend.compliance_matrix(LocalBackend(), ADMIN, 7, WORKLOAD_TYPES)
    cold, problems = LocalBackend().compliance_matrix(ADMIN, 7, WORKLOAD_TYPES)
    assert len(local_matrix.VERDICTS) > 0
    warm, _ = LocalBackend().compliance_matrix(ADMIN, 7, WORKLOAD_TYPES)
    assert _by_id(cold) == _by_id(warm) == _by_id(expected) and problems == []
    states = {state for row in cold for _, state in row.cells}
    assert {"compliant", "not-compliant", "not-supported"} <= states


def _row(page: str, name: str) -> str:
    found = re.search(rf'<tr data-name="{name}">(.*?)</tr>', page, re.S)
    assert found, f"no row {name}"
    return found.group(1)


def test_a_policy_change_through_the_api_shows_at_once(policies, signed_in):  # noqa: F811
    client = signed_in()
    before = client.get("/compliance?project=7").content.decode()
    assert "workingDir is required" in _row(before, "p7-env")
    warm = client.get("/compliance?project=7").content.decode()
    assert _row(warm, "p7-env") == _row(before, "p7-env")  # answered from the kept verdicts
    # The department drops its workingDir rule and fixes imagePullPolicy's options instead.
    put_policy(policies, "workspaces", {"scope": "department", "departmentId": "d1"}, {
        "rules": {"security": {"runAsUid": {"min": 1000}}},
    })  # fmt: skip
    after = _row(client.get("/compliance?project=7").content.decode(), "p7-env")
    assert "workingDir is required" not in after
    assert 'class="badge ok"' in after.split("<td>")[1]  # Workspace: compliant now
    put_policy(policies, "workspaces", {"scope": "tenant"}, {
        "rules": {"image": {"options": [{"value": "ubuntu:22.04"}]}},
    })  # fmt: skip
    again = _row(client.get("/compliance?project=7").content.decode(), "p7-env")
    assert "image &#x27;python:3.11&#x27; is not allowed" in again


def test_an_environment_change_shows_at_once(policies, signed_in):  # noqa: F811
    client = signed_in()
    assert "workingDir is required" in _row(client.get("/compliance?project=7").content.decode(),
                                            "p7-env")  # fmt: skip
    env = Environment.objects.get(name="p7-env")
    env.spec = {**env.spec, "workingDir": "/home/jovyan"}
    env.save()
    row = _row(client.get("/compliance?project=7").content.decode(), "p7-env")
    assert "workingDir is required" not in row
    # A queryset update leaves the stored fragment empty: the row is read the long way.
    Environment.objects.filter(name="p7-env").update(spec={"image": "python:3.11"}, name="p7-b")
    assert Environment.objects.get(name="p7-b").listed_spec == ""
    row = _row(client.get("/compliance?project=7").content.decode(), "p7-b")
    assert "workingDir is required" in row


def test_the_matrix_keeps_its_verdicts_apart_from_a_lists(policies, monkeypatch):  # noqa: F811
    """One cache holds both: a matrix of one type must not answer with the list's verdict text
    for the same row, nor the list with the matrix's cells."""
    kept = Verdicts()
    monkeypatch.setattr(local_matrix, "VERDICTS", kept)
    monkeypatch.setattr("envadmin.backends.local_list.VERDICTS", kept)
    listed = LocalBackend().list_environments_json(ADMIN, {
        "projectId": "7", "complyToProject": "7", "complyToWorkloadType": "Workspace",
    })  # fmt: skip
    b"".join(listed)
    rows, _ = LocalBackend().compliance_matrix(ADMIN, 7, ["Workspace"])
    expected, _ = EnvironmentBackend.compliance_matrix(LocalBackend(), ADMIN, 7, ["Workspace"])
    assert _by_id(rows) == _by_id(expected) and rows
    assert all(type(row.cells) is tuple for row in rows)


@pytest.mark.parametrize("rules", [
    (("System administrator", "tenant"),),
    (("Viewer", "project:7"),),
    (("Environment administrator", "department:d1"), ("Viewer", "tenant")),
])  # fmt: skip
def test_can_create_in_answers_as_the_creatable_scopes(policies, rules):  # noqa: F811
    """The matrix asks only whether the project takes a compliant copy: the local backend
    answers from the caller's reach, as the listed creatable scopes would."""
    caller = Caller("someone", rules=rules)
    backend = LocalBackend()
    tree, _ = backend._context(caller)
    listed = {scope["key"] for scope in backend.creatable_scopes(caller)}
    for key in tree.nodes:
        assert backend.can_create_in(caller, key) == (key in listed), key
        assert EnvironmentBackend.can_create_in(backend, caller, key) == (key in listed)


def test_a_spec_written_between_the_two_reads_is_kept_under_its_own_digest(policies, monkeypatch):  # noqa: F811, E501
    """The matrix reads digests, then the texts of the rows it must judge. A write in between
    shows its new spec, and the verdict is kept under the new text's key: a later matrix of
    the old text (written back) is judged again, not answered with the new text's verdict."""
    kept = Verdicts()
    monkeypatch.setattr(local_matrix, "VERDICTS", kept)
    env = Environment.objects.get(name="p7-env")
    old_spec, fixed = env.spec, {**env.spec, "workingDir": "/home/jovyan"}
    read_texts = local_matrix._spec_texts

    def written_meanwhile(raw_ids):
        env.spec = fixed
        env.save()
        return read_texts(raw_ids)

    monkeypatch.setattr(local_matrix, "_spec_texts", written_meanwhile)
    rows, _ = LocalBackend().compliance_matrix(ADMIN, 7, ["Workspace"])
    (cells,) = [row.cells for row in rows if row.name == "p7-env"]
    assert cells[0][1] == "compliant"  # the text read second, workingDir set
    monkeypatch.setattr(local_matrix, "_spec_texts", read_texts)
    env.spec = old_spec
    env.save()
    rows, _ = LocalBackend().compliance_matrix(ADMIN, 7, ["Workspace"])
    (cells,) = [row.cells for row in rows if row.name == "p7-env"]
    assert cells[0][1] == "not-compliant"
    assert "workingDir is required" in str(cells[0][0]["reason"])


def test_a_row_deleted_between_the_two_reads_is_left_out(policies, monkeypatch):  # noqa: F811
    monkeypatch.setattr(local_matrix, "VERDICTS", Verdicts())
    read_texts = local_matrix._spec_texts

    def deleted_meanwhile(raw_ids):
        Environment.objects.filter(name="p7-env").delete()
        return read_texts(raw_ids)

    monkeypatch.setattr(local_matrix, "_spec_texts", deleted_meanwhile)
    rows, _ = LocalBackend().compliance_matrix(ADMIN, 7, WORKLOAD_TYPES)
    assert rows and "p7-env" not in {row.name for row in rows}
    assert all(row.cells is not None for row in rows)


def test_rows_alike_in_name_come_in_one_order(policies, signed_in):  # noqa: F811
    """The rows are read in no order; the page sorts by name, then by id."""
    twin = Environment.objects.get(name="p7-env")
    for scope_key, scope in (("tenant", "tenant"), ("department:d1", "department")):
        copy = Environment.objects.get(pk=twin.pk)
        copy.pk, copy.scope_key, copy.scope = None, scope_key, scope
        copy.name = "P7-ENV" if scope == "tenant" else "p7-env"
        copy.save()
    rows = signed_in().get("/compliance?project=7").context["rows"]
    alike = [(row.name, row.id) for row in rows if row.name.lower() == "p7-env"]
    assert len(alike) == 3
    assert alike == sorted(alike)


def test_the_page_of_ascii_data_is_ascii(policies, signed_in):  # noqa: F811
    """The layout writes entities, not characters: one character past ASCII makes Python keep
    the whole page (a megabyte at 1,000 rows) two bytes a character, and encode it 20 times
    slower (templates/base.html)."""
    client = signed_in()
    client.post("/environments/review-as", {"project": 7, "workload_type": "Workspace"})
    page = client.get("/compliance?project=7").content
    assert b"Reviewing as" in page and b"&middot;" in page
    assert page.isascii()


def _plans(queries) -> list[str]:
    with connection.cursor() as cursor:
        return [
            str(cursor.execute(f"EXPLAIN QUERY PLAN {q['sql']}").fetchall())
            for q in queries
            if q["sql"].startswith("SELECT")
        ]


def test_only_the_matrix_reads_the_matrix_index(policies, signed_in):  # noqa: F811
    """SQLite: the matrix's rows come from its index alone; the list page's window, which
    that index cannot give in name order, never picks it (its condition keeps it apart)."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's planner; PostgreSQL chooses by its statistics")
    client = signed_in()
    with CaptureQueriesContext(connection) as matrix:
        client.get("/compliance?project=7")
    assert any("COVERING INDEX environment_matrix" in plan for plan in _plans(matrix))
    with CaptureQueriesContext(connection) as lists:
        client.get("/environments/?per_page=10")
        client.get("/environments/?per_page=10&isWorkspace=true", HTTP_HX_REQUEST="true")
        client.get("/api/v1/asset/environment?projectId=7&usageInfo=true")
    plans = _plans(lists)
    assert any("environment_list_page" in plan for plan in plans)
    assert not any("environment_matrix" in plan for plan in plans)
