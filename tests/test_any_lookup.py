"""`field__any=values` selects exactly the rows of `field__in=values`; on PostgreSQL the values
go as one array parameter, not one parameter each (issue 19: the per-request CPU of hundreds of
visible scope keys)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from envadmin.inventory.models import Environment, Project, Template, Workload

pytestmark = pytest.mark.django_db


def ids(queryset) -> set:
    return set(queryset.values_list("pk", flat=True))


@pytest.mark.parametrize(
    "keys",
    [
        ["tenant"],
        ["tenant", "project:7", "department:d1", None],  # None matches nothing, as with IN
        ["project:7", "project:7", "no-such-node"],
        [],
        set(),
    ],
)
def test_scope_keys_select_what_in_selects(org, keys):
    expected = ids(Environment.objects.filter(scope_key__in=keys))
    assert ids(Environment.objects.filter(scope_key__any=keys)) == expected
    assert ids(Environment.objects.exclude(scope_key__any=keys)) == ids(
        Environment.objects.exclude(scope_key__in=keys)
    )


def test_the_small_tree_has_rows_to_tell_them_apart(org):
    # The cases above compare non-empty answers, not only two empty sets.
    assert ids(Environment.objects.filter(scope_key__any=["tenant", "project:7"]))
    assert ids(Workload.objects.filter(project_id__any=list(Project.objects.values_list("pk"))))


def test_foreign_keys_take_ids_model_objects_and_uuids(org):
    projects = list(Project.objects.all()[:2])
    numbers = [p.pk for p in projects]
    expected = ids(Workload.objects.filter(project_id__in=numbers))
    assert expected
    assert ids(Workload.objects.filter(project_id__any=numbers)) == expected
    assert ids(Workload.objects.filter(project__any=projects)) == expected
    environments = list(Environment.objects.values_list("pk", flat=True)[:5])
    assert ids(Template.objects.filter(environment_id__any=environments)) == ids(
        Template.objects.filter(environment_id__in=environments)
    )


def test_a_subquery_still_works(org):
    keys = Environment.objects.filter(scope="project").values("scope_key")
    assert ids(Environment.objects.filter(scope_key__any=keys)) == ids(
        Environment.objects.filter(scope_key__in=keys)
    )


def test_postgresql_gets_one_array_parameter(org):
    keys = [f"project:{n}" for n in range(300)] + ["tenant"]
    with CaptureQueriesContext(connection) as queries:
        found = ids(Environment.objects.filter(scope_key__any=keys))
    assert found == ids(Environment.objects.filter(scope_key__in=keys))
    sql = queries.captured_queries[0]["sql"]
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql and "IN (" not in sql
    else:  # Django's IN elsewhere
        assert "IN (" in sql


def test_any_character_survives_the_array_literal(org):
    from tests.factories import add_environment

    odd = 'we"ird\\ name, {x}'
    add_environment(odd)
    found = Environment.objects.filter(name__any={odd, "no-such-name", 'a"b'})
    assert [e.name for e in found] == [odd]
    assert not Environment.objects.filter(name__any={odd[:-1]}).exists()
