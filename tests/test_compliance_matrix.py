"""The compliance matrix: the local backend reads the environments once for the four workload
types, answers as four lists would, and its queries do not grow with the environments."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from envadmin.accounts.access import Caller
from envadmin.backends.base import EnvironmentBackend
from envadmin.backends.local import LocalBackend
from envadmin.contract.choices import WORKLOAD_TYPES

from .factories import add_environments
from .test_environment_compliance import policies  # noqa: F401 (a fixture)
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
    assert queries() == few
    page = client.get("/compliance?project=7").content.decode()
    assert page.count('<tr data-name="bulk-') == 30
