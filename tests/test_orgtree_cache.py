"""OrgTree.load keeps the process's last tree while its rows are unchanged, and only then."""

import pytest

from envadmin.inventory.models import Cluster, Department, Project
from envadmin.inventory.orgtree import OrgTree

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    cluster = Cluster.objects.create(name="c1")
    department = Department.objects.create(id="d1", name="research", cluster=cluster)
    return Project.objects.create(id=7, name="team-a", department=department)


def test_an_unchanged_tree_is_reused(project):
    first = OrgTree.load()
    assert OrgTree.load() is first
    assert first.path("project:7") == "c1 / research / team-a"


def test_a_rename_is_seen_by_the_next_load(project):
    OrgTree.load()
    Project.objects.filter(pk=7).update(name="team-b")  # no signal, as a bulk write
    assert OrgTree.load().path("project:7") == "c1 / research / team-b"


def test_a_move_a_new_and_a_deleted_node_are_seen(project):
    OrgTree.load()
    other = Department.objects.create(id="d2", name="ops", cluster=project.department.cluster)
    Project.objects.filter(pk=7).update(department=other)
    Project.objects.create(id=8, name="team-c", department=other)
    tree = OrgTree.load()
    assert tree.chain("project:7")[1] == "department:d2"
    assert "project:8" in tree and tree.projects[8].department_id == "d2"
    Project.objects.filter(pk=8).delete()
    assert "project:8" not in OrgTree.load()


def test_the_model_objects_are_complete(project):
    tree = OrgTree.load()
    loaded = tree.projects[7]
    assert (loaded.name, loaded.department_id, loaded.created_at) == (
        "team-a",
        "d1",
        project.created_at,
    )
    assert tree.departments["d1"].cluster_id == project.department.cluster_id


def test_a_rename_back_and_forth_is_seen_each_time(project):
    for name in ("team-b", "team-a", "team-b"):
        Project.objects.filter(pk=7).update(name=name)
        assert OrgTree.load().path("project:7") == f"c1 / research / {name}"


def test_the_tree_is_the_same_whichever_way_it_is_read(project, monkeypatch):
    """PostgreSQL reads a digest, and the rows as JSON in one statement; other databases read
    the rows: the same nodes, in the same order, with the same Python values."""
    from django.db import connection

    from envadmin.inventory import orgtree

    other = Department.objects.create(id='d"2', name="Ops, {x}", cluster=project.department.cluster)
    Project.objects.create(id=8, name="a-first", department=other)
    Project.objects.create(id=9, name="a-first", department=project.department)

    def shape(tree):
        nodes = [(n.key, n.scope, n.id, n.name, n.parent, n.children) for n in tree.nodes.values()]
        objects = [
            (type(o), o.pk, o.name, o.created_at, getattr(o, "department_id", None))
            for group in (tree.clusters, tree.departments, tree.projects)
            for o in group.values()
        ]
        return nodes, objects

    native = shape(OrgTree.load())
    monkeypatch.setattr(orgtree, "_last_loaded", None)
    monkeypatch.setattr(connection, "vendor", "generic")  # the rows' way
    assert shape(OrgTree.load()) == native
    projects = [node[0] for node in native[0] if node[1] == "project"]
    assert projects[-1] == "project:7" and len(projects) == 3  # by name, as the models order


def test_org_units_are_kept_per_tree_and_reach(project):
    from envadmin.accounts.access import Caller
    from envadmin.backends.local import LocalBackend

    admin = Caller("a", "user", (("System administrator", "tenant"),))
    first = LocalBackend().org_units(admin)
    first.problems.append("a page's own banner")  # a request's own list: not kept
    again = LocalBackend().org_units(admin)
    assert again.projects[7] is first.projects[7] and again.problems == []
    assert again.projects[7]["name"] == "team-a"

    other = Department.objects.create(id="d2", name="ops", cluster=project.department.cluster)
    Project.objects.create(id=8, name="team-c", department=other)
    narrow = Caller("n", "user", (("Environment administrator", "department:d2"),))
    assert set(LocalBackend().org_units(narrow).projects) == {8}
    assert set(LocalBackend().org_units(admin).projects) == {7, 8}  # a new tree: read again

    Project.objects.filter(pk=7).update(name="team-b")
    assert LocalBackend().org_units(admin).projects[7]["name"] == "team-b"
