"""The web admin's Export (the filtered list as an environments file) and Import page (plan,
then apply), through the backend with the signed-in user's own rights."""

import re

import pytest
import yaml
from django.urls import reverse

from envadmin.gitops import files
from envadmin.inventory.models import Environment

IMPORT = reverse("environments:import")
LIST = reverse("environments:list")


def exported(client, **filters) -> dict:
    answer = client.get(LIST, {"format": "yaml", **filters})
    assert answer.status_code == 200
    assert answer["Content-Disposition"] == 'attachment; filename="environments.yaml"'
    return yaml.safe_load(answer.content)


def state() -> dict:
    return {str(e.id): (e.name, e.update_count, e.spec.get("image"))
            for e in Environment.objects.all()}  # fmt: skip


def plan(client, document: dict, prune=False):
    data = {"action": "plan", "text": yaml.safe_dump(document)}
    if prune:
        data["prune"] = "on"
    return client.post(IMPORT, data)


def apply(client, planned):
    plan_id = re.search(r'name="plan_id" value="([^"]+)"', planned.content.decode()).group(1)
    return client.post(IMPORT, {"action": "apply", "plan_id": plan_id})


def test_export_writes_the_filtered_list_by_name_without_built_ins(org, signed_in):
    client = signed_in()
    document = exported(client, scope="project")
    names = [e["meta"]["name"] for e in document["environments"]]
    assert names == ["p7-env", "p8-env", "p9-env"]  # ordered by placement, then name
    first = document["environments"][0]["meta"]
    assert (first["projectName"], first["departmentName"], first["clusterName"]) == (
        "team-a", "research", "c1")  # fmt: skip
    assert "projectId" not in first and "id" not in first
    everything = exported(client)
    assert "tenant-env" not in [e["meta"]["name"] for e in everything["environments"]]
    # The export is a valid environments file as it stands.
    assert len(files.read(yaml.safe_dump(everything)).entries) == 7


def test_import_plans_creates_updates_and_deletes_then_applies_them(org, signed_in):
    client = signed_in()
    document = exported(client, scope="project")
    document["environments"][0]["spec"]["image"] = "python:3.13"
    document["environments"].pop(1)  # p8-env: deleted by prune in team-b
    new = {"name": "new-env", "scope": "project", "projectName": "team-c"}
    document["environments"].append({"meta": new, "spec": {"image": "busybox"}})
    document["prune"] = [{"scope": "project", "projectName": "team-b"}]
    planned = plan(client, document, prune=True)
    assert planned.status_code == 200
    page = planned.content.decode()
    assert "1 to create, 1 to update, 1 to delete, 1 unchanged." in page
    assert "spec.image</code>: python:3.11 → python:3.13" in page
    assert Environment.objects.filter(name="p8-env").exists()  # nothing applied yet

    applied = apply(client, planned)
    assert applied.status_code == 200 and "Every change was applied." in applied.content.decode()
    assert Environment.objects.get(name="p7-env").spec["image"] == "python:3.13"
    assert not Environment.objects.filter(name="p8-env").exists()
    assert Environment.objects.get(name="new-env").project_id == 9
    # Planned again, the same file is no change.
    assert "Nothing to change" in plan(client, document, prune=True).content.decode()


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"meta": {"name": "x", "scope": "tenant", "colour": 1}, "spec": {}},
         "environments[1] (x): meta.colour: not a meta field"),
        ({"meta": {"name": "x", "scope": "tenant"}, "spec": {"image": ["a"]}},
         "environments[1] (x): spec.image: must be a string, not array"),
        # envadmin's own rule between fields, which the page checks before planning.
        ({"meta": {"name": "x", "scope": "tenant"}, "spec": {"image": "a", "tty": True}},
         "environments[1] (x): spec.tty: A TTY needs stdin"),
        ({"meta": {"name": "x", "scope": "project", "projectName": "nope"}, "spec": {}},
         "environments[1] (x): meta.projectName: no project named &#x27;nope&#x27;"),
        ({"meta": {"name": "P7-ENV", "scope": "project", "projectName": "team-a"}, "spec": {}},
         "the same environment as environments[0] (p7-env)"),
    ],
)  # fmt: skip
def test_a_bad_file_is_refused_with_each_problem_and_nothing_changes(org, signed_in, entry,
                                                                     message):  # fmt: skip
    client = signed_in()
    before = state()
    good = {"meta": {"name": "p7-env", "scope": "project", "projectName": "team-a"},
            "spec": {"image": "changed:1"}}  # fmt: skip
    answer = plan(client, {"environments": [good, entry]})
    assert answer.status_code == 400
    assert message in answer.content.decode()
    assert 'role="alert" id="import-errors"' in answer.content.decode()
    assert state() == before


def test_an_upload_over_the_size_bound_is_refused(org, signed_in):
    from django.core.files.uploadedfile import SimpleUploadedFile

    big = SimpleUploadedFile("big.yaml", b"# " + b"x" * (files.MAX_FILE_BYTES + 10))
    answer = signed_in().post(IMPORT, {"action": "plan", "file": big})
    assert answer.status_code == 400 and "larger than 5,242,880 bytes" in answer.content.decode()


def test_a_viewer_may_plan_but_each_change_is_refused(org, signed_in):
    client = signed_in("Viewer", "tenant")
    document = exported(client, scope="project")
    document["environments"][0]["spec"]["image"] = "python:3.13"
    before = state()
    planned = plan(client, document)
    assert planned.status_code == 200 and "1 to update" in planned.content.decode()
    applied = apply(client, planned)
    page = applied.content.decode()
    assert "Some changes were not applied" in page
    assert re.search(r"<strong>refused</strong> project team-a / p7-env: 403 ", page)
    assert state() == before


def test_a_plan_is_applied_once_and_only_from_this_session(org, signed_in):
    client = signed_in()
    document = exported(client, scope="project")
    document["environments"][0]["spec"]["image"] = "python:3.13"
    planned = plan(client, document)
    assert apply(client, planned).status_code == 200
    again = apply(client, planned)
    assert again.status_code == 409 and "plan the file again" in again.content.decode()


def test_someone_elses_edit_after_the_plan_is_a_conflict_and_left_alone(org, signed_in):
    client = signed_in()
    document = exported(client, scope="project")
    for entry in document["environments"]:
        entry["spec"]["image"] = "python:3.13"
    planned = plan(client, document)
    other = Environment.objects.get(name="p8-env")
    other.spec = {"image": "theirs:1"}
    other.update_count += 1
    other.save()
    page = apply(client, planned).content.decode()
    assert "<strong>conflict</strong> project team-b / p8-env" in page
    assert Environment.objects.get(name="p8-env").spec == {"image": "theirs:1"}
    assert Environment.objects.get(name="p7-env").spec["image"] == "python:3.13"


def test_workload_types_fixed_at_creation_are_refused_in_the_plan_not_ignored(org, signed_in):
    client = signed_in()
    document = exported(client, scope="project")
    document["environments"][0]["meta"]["workloadSupportedTypes"] = {"training": True}
    before = state()
    planned = plan(client, document)
    page = planned.content.decode()
    assert "refused</strong> project team-a / p7-env (workloadSupportedTypes is fixed" in page
    assert "Nothing to change" in page  # a refused item is not applied
    assert state() == before
