"""The lifecycle service the API, the web admin and bulk actions call (local backend)."""

import pytest

from envadmin.accounts.access import Caller
from envadmin.audit.models import AuditEvent
from envadmin.backends.local import LocalBackend
from envadmin.contract.errors import Conflict, Forbidden, InvalidRequest, NotFound
from envadmin.inventory.models import Environment
from envadmin.lifecycle.service import change_lifecycle, lifecycle_of

pytestmark = pytest.mark.usefixtures("org")

ADMIN = Caller("root", rules=(("System administrator", "tenant"),))


def env_id(name):
    return str(Environment.objects.get(name=name).id)


def test_default_is_active_and_one_query(django_assert_num_queries):
    ids = [env_id("p8-env"), "no-such-id"]
    with django_assert_num_queries(1):
        states = lifecycle_of(ids)
    assert states == {i: {"state": "active", "message": "", "replacement": None} for i in ids}


def test_deprecate_with_replacement_is_read_back_and_audited():
    target, other = env_id("p8-env"), env_id("p7-env")
    body = {"state": "deprecated", "message": "Use p7", "replacement": other}
    answer = change_lifecycle(LocalBackend(), ADMIN, target, body)
    assert answer == body
    assert lifecycle_of([target])[target] == body
    event = AuditEvent.objects.get(asset_id=target, actor="root")
    assert event.actor == "root"
    assert {c["field"] for c in event.changes} == {
        "lifecycle.state",
        "lifecycle.message",
        "lifecycle.replacement",
    }


def test_archiving_one_a_template_uses_is_a_conflict_naming_it():
    with pytest.raises(Conflict) as refused:
        change_lifecycle(LocalBackend(), ADMIN, env_id("p7-env"), {"state": "archived"})
    assert "t-p7" in refused.value.message
    assert lifecycle_of([env_id("p7-env")])[env_id("p7-env")]["state"] == "active"


@pytest.mark.parametrize(
    "body",
    [
        {"state": "gone"},
        {"state": "archived", "extra": 1},
        {"state": "deprecated", "message": 5},
        {"state": "deprecated", "message": "x" * 501},
        {"state": "deprecated", "message": "a\x00b"},
        {"state": "deprecated", "replacement": 7},
        {"state": "deprecated", "replacement": "00000000-0000-0000-0000-000000000000"},
        [],
    ],
)
def test_bad_bodies_are_invalid(body):
    with pytest.raises(InvalidRequest):
        change_lifecycle(LocalBackend(), ADMIN, env_id("p8-env"), body)


def test_a_viewer_may_not_and_an_outsider_does_not_see_it():
    viewer = Caller("v", rules=(("Viewer", "project:8"),))
    outsider = Caller("o", rules=(("System administrator", "project:9"),))
    with pytest.raises(Forbidden):
        change_lifecycle(LocalBackend(), viewer, env_id("p8-env"), {"state": "deprecated"})
    with pytest.raises(NotFound):
        change_lifecycle(LocalBackend(), outsider, env_id("p8-env"), {"state": "deprecated"})
