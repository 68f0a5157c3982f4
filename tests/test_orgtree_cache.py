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
