"""load_snapshot: all or nothing, every problem named by its entry; the demo data loads."""

from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from envadmin.accounts.models import AccessRule
from envadmin.inventory.models import (
    Cluster,
    Credential,
    Environment,
    Project,
    Registry,
    Template,
    Workload,
)

from .conftest import C1, DATA

DEMO = Path(__file__).resolve().parents[1] / "envadmin" / "demo" / "demo.yaml"
MODELS = (Cluster, Project, Environment, Workload, Template)


def counts():
    return [model.objects.count() for model in MODELS]


def small():
    return yaml.safe_load((DATA / "small.yaml").read_text())


def load_text(tmp_path, data) -> str:
    path = tmp_path / "snap.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return str(path)


def test_it_loads_a_valid_snapshot(db, tmp_path):
    out = StringIO()
    call_command("load_snapshot", load_text(tmp_path, small()), stdout=out)
    assert "Loaded 2 clusters, 3 departments, 4 projects, 8 environments" in out.getvalue()
    assert counts() == [2, 4, 8, 5, 2]
    built_in = Environment.objects.get(name="tenant-env")
    assert built_in.read_only and built_in.created_by == "system@run.ai"
    assert Workload.objects.get(name="train-1").environment.name == "cluster-env"


def broken(section, index, **changes):
    data = small()
    entry = data[section][index]
    for key, value in changes.items():
        if "." in key:
            outer, inner = key.split(".")
            entry[outer][inner] = value
        elif value is None:
            entry.pop(key)
        else:
            entry[key] = value
    return data


@pytest.mark.parametrize(
    "data, expected",
    [
        (broken("environments", 4, **{"spec.image": "Bad Image"}), "environments[4] (p7-env)"),
        (broken("environments", 5, **{"meta.projectId": 999}), "environments[5] (p8-env)"),
        (
            broken("environments", 6, **{"meta.name": "P7-ENV", "meta.projectId": 7}),
            "environments[6] (P7-ENV)",
        ),
        (broken("clusters", 0, id="not-a-uuid"), "clusters[0] (c1)"),
        (broken("departments", 0, clusterId=None), "departments[0] (research)"),
        (broken("projects", 1, id="eight"), "projects[1] (team-b)"),
        (broken("workloads", 0, environment="no-such-env"), "workloads[0] (nb-1)"),
        (broken("workloads", 1, type="batch"), "workloads[1] (train-1)"),
        (broken("workloads", 2, createdAt="yesterday"), "workloads[2] (serve-1)"),
        (broken("templates", 0, environment="p8-env"), "templates[0] (t-p7)"),
        ({**small(), "extra": []}, "unknown section 'extra'"),
        ({**small(), "projects": {"id": 1}}, "projects: must be a list"),
        ("clusters: [unclosed", "not valid YAML"),
        ("- just\n- a list\n", "must be a mapping of sections"),
    ],
)
def test_a_bad_entry_loads_nothing_and_is_named(db, tmp_path, data, expected):
    with pytest.raises(CommandError) as failure:
        call_command("load_snapshot", load_text(tmp_path, data), stdout=StringIO())
    assert expected in str(failure.value)
    assert "nothing was loaded" in str(failure.value)
    assert counts() == [0, 0, 0, 0, 0]


def test_every_problem_is_reported_at_once(db, tmp_path):
    data = broken("environments", 4, **{"spec.image": "Bad Image"})
    data["workloads"][1]["type"] = "batch"
    with pytest.raises(CommandError) as failure:
        call_command("load_snapshot", load_text(tmp_path, data), stdout=StringIO())
    assert "environments[4]" in str(failure.value) and "workloads[1]" in str(failure.value)


def test_a_missing_file_is_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("load_snapshot", str(tmp_path / "absent.yaml"), stdout=StringIO())


def test_if_empty_leaves_a_loaded_database_alone(org, tmp_path):
    before = counts()
    out = StringIO()
    call_command("load_snapshot", "--if-empty", str(DATA / "small.yaml"), stdout=out)
    assert "not loaded" in out.getvalue()
    assert counts() == before


def test_the_demo_data_loads_with_every_scope_type_and_role(db):
    call_command("load_snapshot", str(DEMO), stdout=StringIO())
    assert Cluster.objects.count() == 2
    assert Project.objects.count() == 10
    assert Environment.objects.count() >= 35
    scopes = set(Environment.objects.values_list("scope", flat=True))
    assert scopes == {"tenant", "cluster", "department", "project"}
    assert Environment.objects.filter(scope="tenant", read_only=True).count() == 2
    for name in ("jupyter-lab", "jupyter-tensorboard", "tensorboard", "llm-server", "chatbot-ui"):
        assert Environment.objects.filter(name=name, scope="tenant").exists(), name
    assert set(Workload.objects.values_list("type", flat=True)) == {
        "workspace", "training", "distributed", "inference",
    }  # fmt: skip
    assert len(set(Workload.objects.values_list("status", flat=True))) >= 5
    assert Template.objects.exists()
    roles = set(AccessRule.objects.values_list("role", flat=True))
    assert len(roles) == 6
    assert get_user_model().objects.get(username="admin").check_password("envadmin-demo")


def test_the_demo_policies_give_a_reason_of_every_rule_kind(db):
    from envadmin.accounts.access import Caller
    from envadmin.backends.local import LocalBackend
    from envadmin.policies.models import Policy

    call_command("load_snapshot", str(DEMO), stdout=StringIO())
    assert Policy.objects.values("scope").distinct().count() >= 3
    caller = Caller("demo-check", "app", (("System administrator", "tenant"),))
    rules, compliant, imposed = set(), 0, 0
    for project in Project.objects.all():
        for kind in ("Workspace", "Training", "Distributed", "Inference"):
            params = {"projectId": project.id, "complyToProject": project.id}
            params["complyToWorkloadType"] = kind
            for entry in LocalBackend().list_environments(caller, params)["entries"]:
                compliance = entry["compliance"]
                rules |= {reason.get("rule") for reason in compliance["reason"]}
                compliant += compliance["compliance"]
                imposed += compliance["imposed"]
    assert rules - {None} == {
        "options", "min", "max", "step", "required", "canEdit", "canAdd", "locked",
    }  # fmt: skip
    assert compliant > 0 and imposed > 0


def test_a_snapshot_policy_that_clashes_along_the_branch_loads_nothing(db, tmp_path):
    data = small()
    data["policies"] = [
        {"workloadType": "workspace", "scope": "tenant",
         "policy": {"rules": {"image": {"required": True}}}},
        {"workloadType": "workspace", "scope": "project", "projectId": 7,
         "policy": {"rules": {"image": {"canEdit": False}}}},
    ]  # fmt: skip
    with pytest.raises(CommandError) as failure:
        call_command("load_snapshot", load_text(tmp_path, data), stdout=StringIO())
    assert "policies[1]" in str(failure.value) and "policy.rules.image" in str(failure.value)
    assert counts() == [0, 0, 0, 0, 0]


def test_snapshot_policies_impose_environments_by_name(db, tmp_path):
    from envadmin.policies.models import Policy

    data = small()
    data["policies"] = [
        {"workloadType": "distributed", "scope": "cluster", "clusterId": C1,
         "imposedEnvironments": {"worker": ["cluster-env"]}},
        {"workloadType": "workspace", "scope": "project", "projectId": 7,
         "imposedEnvironments": ["p7-env", "tenant-env"]},
    ]  # fmt: skip
    call_command("load_snapshot", load_text(tmp_path, data), stdout=StringIO())
    env = {e.name: str(e.id) for e in Environment.objects.all()}
    distributed = Policy.objects.get(workload_type="distributed").document["imposedAssets"]
    assert distributed == {"worker": [env["cluster-env"]]}
    workspace = Policy.objects.get(workload_type="workspace").document["imposedAssets"]
    assert workspace == [env["p7-env"], env["tenant-env"]]


def nulled(section, index, key):
    data = small()
    data[section][index][key] = None
    return data


@pytest.mark.parametrize(
    "data, expected",
    [
        (nulled("clusters", 0, "name"), "clusters[0]: name must be a string, not null"),
        (nulled("workloads", 1, "status"), "workloads[1] (train-1): status must be a string"),
        (broken("clusters", 1, name=12), "clusters[1] (12): name must be a string, not a number"),
        (broken("departments", 0, id=5), "departments[0] (research): id must be a string"),
        (broken("projects", 0, name=["a"]), "projects[0] (['a']): name must be a string"),
        (broken("workloads", 0, status=404), "workloads[0] (nb-1): status must be a string"),
        (broken("templates", 0, name=True), "templates[0] (True): name must be a string"),
        (
            broken("environments", 0, **{"meta.readOnly": "yes"}),
            "environments[0] (tenant-env): meta.readOnly must be true or false",
        ),
        (
            broken("environments", 0, **{"meta.createdBy": "x" * 300}),
            "environments[0] (tenant-env): meta.createdBy must be at most 255 characters",
        ),
        # Over-long text is the entry's problem, not a DataError traceback on PostgreSQL.
        (broken("clusters", 0, name="c" * 300), "name: Ensure this value has at most 255"),
        (broken("workloads", 0, status="s" * 65), "workloads[0] (nb-1): status: Ensure"),
        (broken("projects", 0, name="p" * 256), "name: Ensure this value has at most 255"),
        (broken("projects", 0, id=2**31), "projects[0] (team-a): id must fit in 32 bits"),
        (broken("workloads", 0, projectId=-(2**40)), "workloads[0] (nb-1): projectId must fit"),
    ],
)
def test_snapshot_values_are_not_coerced_and_are_checked_per_entry(db, tmp_path, data, expected):
    with pytest.raises(CommandError) as failure:
        call_command("load_snapshot", load_text(tmp_path, data), stdout=StringIO())
    assert expected in str(failure.value)
    assert counts() == [0, 0, 0, 0, 0]


def test_a_database_error_is_reported_with_its_entry(db, tmp_path, monkeypatch):
    from django.db import DataError

    def refuse(*args, **kwargs):
        raise DataError("value too long for type character varying(64)")

    monkeypatch.setattr(Workload, "save", refuse)
    with pytest.raises(CommandError) as failure:
        call_command("load_snapshot", load_text(tmp_path, small()), stdout=StringIO())
    assert "workloads[0] (nb-1): refused by the database: value too long" in str(failure.value)
    assert counts() == [0, 0, 0, 0, 0]


def test_a_file_that_is_not_utf8_is_a_clear_error(db, tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("clusters:\n  - {id: x, name: caf\xe9}\n".encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8 text"):
        call_command("load_snapshot", str(path), stdout=StringIO())


@pytest.mark.parametrize(
    "section, index, changes, expected",
    [
        ("credentials", 0, {"kind": "api-token"}, "kind must be one of access-key"),
        ("credentials", 0, {"value": "hunter2"}, "unknown keys value"),
        ("credentials", 3, {"keys": "token"}, "keys must be a list"),
        ("credentials", 3, {"keys": ["token", "token"]}, "token given more than once"),
        ("credentials", 3, {"keys": [f"k{i}" for i in range(51)]}, "at most 50 entries"),
        ("credentials", 0, {"keys": ["token"]}, "only a generic-secret credential"),
        ("credentials", 3, {"projectId": "7"}, "projectId must be an integer"),
        ("credentials", 1, {"name": "dockerhub", "scope": "tenant"}, "already exists in tenant"),
        ("credentials", 0, {"name": 12}, "name must be a non-empty string"),
        ("registries", 0, {"repositories": ["ml/pytorch"]}, "repositories must be a mapping"),
        ("registries", 0, {"repositories": {"ml/x": [1]}}, "repositories.ml/x entry must be"),
        ("registries", 0, {"url": "u" * 256}, "url must be at most 255 characters"),
        ("registries", 1, {"clusterId": "3f1c2a9e-5b7d-4c1e-9a2f-0d6b8e4c7a12"}, "not a cluster"),
    ],
)
def test_a_bad_credential_or_registry_is_named(db, tmp_path, section, index, changes, expected):
    data = small()
    data[section][index].update(changes)
    with pytest.raises(CommandError) as failure:
        call_command("load_snapshot", load_text(tmp_path, data), stdout=StringIO())
    name = data[section][index]["name"]
    assert f"{section}[{index}]" in str(failure.value) and expected in str(failure.value)
    assert str(name) in str(failure.value) or not isinstance(name, str)
    assert not Credential.objects.exists() and not Registry.objects.exists()


def test_credentials_and_registries_load_without_a_value(db):
    call_command("load_snapshot", str(DEMO), stdout=StringIO())
    hf = Credential.objects.get(name="hf-token")
    assert (hf.kind, hf.scope_key, hf.project_id, hf.keys) == (
        "generic-secret", "project:1", 1, ["token", "user"],
    )  # fmt: skip
    internal = Registry.objects.get(name="internal")
    assert internal.repositories["ml/jax"] == ["0.4.30", "0.4.31"]
    assert not {f.name for f in Credential._meta.fields} & {"value", "secret", "password"}
