"""Environments as code (issue 16), end to end: the `envadmin` command run as a subprocess
(`python -m envadmin.cli`, no Django settings in its environment) against real servers over
HTTP: A in local mode with the demo, B in proxy mode in front of A, and C in local mode with the
same org names as A under other ids. These servers are this module's own: the tests write.
"""

import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass

import pytest
import requests
import yaml

from .conftest import (
    DEMO,
    ENVIRONMENTS,
    INHERITED_PREFIXES_DROPPED,
    PYTHON,
    ROOT,
    Api,
    Server,
    free_ports,
    manage,
    server_env,
    start,
    stop,
    wait_until_up,
)

pytestmark = pytest.mark.e2e


@dataclass
class Site:
    server: Server
    client_id: str
    client_secret: str

    @property
    def url(self) -> str:
        return self.server.url

    def api(self) -> Api:
        body = {"grantType": "client_credentials", "clientID": self.client_id,
                "clientSecret": self.client_secret}  # fmt: skip
        answer = requests.post(f"{self.url}/api/v1/token", json=body, timeout=30)
        assert answer.status_code in (200, 202), answer.text
        return Api(self.url, answer.json()["accessToken"])


def other_ids_snapshot(path) -> None:
    """The demo's org tree with the same names under other ids, and no environments."""
    demo = yaml.safe_load(DEMO.read_text())
    clusters = {c["id"]: f"0c0c0c0c-0000-4000-8000-{n:012d}" for n, c in
                enumerate(demo["clusters"], 1)}  # fmt: skip
    snapshot = {
        "clusters": [{**c, "id": clusters[c["id"]]} for c in demo["clusters"]],
        "departments": [
            {**d, "id": f"other-{d['id']}", "clusterId": clusters[d["clusterId"]]}
            for d in demo["departments"]
        ],
        "projects": [
            {**p, "id": p["id"] + 100, "departmentId": f"other-{p['departmentId']}"}
            for p in demo["projects"]
        ],
    }
    path.write_text(yaml.safe_dump(snapshot))


def account(env, name: str, role: str) -> tuple[str, str]:
    created = json.loads(manage(env, "create_service_account", name, "--role", role,
                                "--scope", "tenant"))  # fmt: skip
    return created["clientId"], created["clientSecret"]


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gitops")
    ports = free_ports(3)
    servers = {
        name: Server(
            name,
            f"http://127.0.0.1:{port}",
            tmp / f"{name}.log",
            tmp / f"{name}.sqlite3",
            secrets.token_urlsafe(50),
        )  # fmt: skip
        for name, port in zip("ABC", ports, strict=True)
    }
    envs = {
        "A": server_env(servers["A"].database, servers["A"].secret_key),
        "B": server_env(
            servers["B"].database,
            servers["B"].secret_key,
            ENVADMIN_BACKEND="runai",
            RUNAI_URL=servers["A"].url,
        ),  # fmt: skip
        "C": server_env(servers["C"].database, servers["C"].secret_key),
    }
    try:
        for name in "ABC":
            manage(envs[name], "migrate", "-v", "0")
        manage(envs["A"], "load_snapshot", str(DEMO))
        other_ids_snapshot(tmp / "other.yaml")
        manage(envs["C"], "load_snapshot", str(tmp / "other.yaml"))
        admin_a = account(envs["A"], "gitops", "System administrator")
        viewer_a = account(envs["A"], "gitops-viewer", "Viewer")
        admin_c = account(envs["C"], "gitops", "System administrator")
        for name in "ABC":
            start(servers[name], envs[name])
        for name in "ABC":
            wait_until_up(servers[name])
        yield {
            "A": Site(servers["A"], *admin_a),
            "B": Site(servers["B"], *admin_a),  # B forwards A's service account to A
            "C": Site(servers["C"], *admin_c),
            "viewer": Site(servers["A"], *viewer_a),
        }
    finally:
        for name in "CBA":
            stop(servers[name])


def envadmin(site: Site, *args, stdin: str | None = None) -> subprocess.CompletedProcess:
    """The command line as a user runs it: its own process, no Django settings at all."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(INHERITED_PREFIXES_DROPPED)}
    env.update(RUNAI_URL=site.url, RUNAI_CLIENT_ID=site.client_id,
               RUNAI_CLIENT_SECRET=site.client_secret)  # fmt: skip
    return subprocess.run(
        [str(PYTHON), "-m", "envadmin.cli", *args],
        cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def plan_json(site: Site, path, *extra) -> tuple[int, dict]:
    done = envadmin(site, "plan", str(path), "--json", *extra)
    assert done.returncode in (0, 2), done.stdout + done.stderr
    return done.returncode, json.loads(done.stdout)


def changes_of(plan: dict) -> list[tuple]:
    return [(i["action"], i["placement"], i["name"]) for i in plan["items"]
            if i["action"] != "no change"]  # fmt: skip


def state(api: Api) -> dict:
    """{id: (name, updateCount)} of every environment the API lists."""
    answer = api.get(ENVIRONMENTS)
    assert answer.status_code == 200
    return {e["meta"]["id"]: (e["meta"]["name"], e["meta"]["updateCount"])
            for e in answer.json()["entries"]}  # fmt: skip


def entry_named(document: dict, name: str) -> dict:
    return next(e for e in document["environments"] if e["meta"]["name"] == name)


# --- 1. the round trip on one target, then --prune ---------------------------------------------


def round_trip(site: Site, check: Api, tmp_path, project_id: str) -> None:
    path = tmp_path / "envs.yaml"
    done = envadmin(site, "export", "--scope", "project", "--project-id", project_id,
                    "-o", str(path))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "DJANGO_SETTINGS_MODULE" not in os.environ or "Django" not in done.stderr
    exported = yaml.safe_load(path.read_text())
    assert len(exported["environments"]) == 2
    assert "# id: " in path.read_text()  # ids as comments, placement by name
    assert all("projectId" not in e["meta"] and e["meta"]["projectName"]
               for e in exported["environments"])  # fmt: skip

    code, plan = plan_json(site, path)
    assert code == 0 and changes_of(plan) == []

    edited = exported["environments"][0]
    edited["spec"]["image"] = "registry.example.com/gitops/edited:1"
    edited["meta"]["description"] = "edited in git"
    path.write_text(yaml.safe_dump(exported))
    code, plan = plan_json(site, path)
    assert code == 2
    (update,) = [i for i in plan["items"] if i["action"] != "no change"]
    assert update["action"] == "update" and update["name"] == edited["meta"]["name"]
    assert {c["field"] for c in update["changes"]} == {"spec.image", "meta.description"}
    assert [c["after"] for c in update["changes"] if c["field"] == "spec.image"] == [
        "registry.example.com/gitops/edited:1"
    ]

    done = envadmin(site, "apply", str(path), "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"project {edited['meta']['projectName']} / {edited['meta']['name']}: updated" in (
        done.stdout
    )
    code, plan = plan_json(site, path)
    assert code == 0 and changes_of(plan) == []
    stored = check.get(f"{ENVIRONMENTS}/{update['id']}").json()
    assert stored["spec"]["image"] == "registry.example.com/gitops/edited:1"
    assert stored["meta"]["description"] == "edited in git"


def test_export_plan_edit_apply_round_trip_on_a_local_server(sites, tmp_path):
    round_trip(sites["A"], sites["A"].api(), tmp_path, "1")


def test_the_same_round_trip_through_a_proxy_mode_server(sites, tmp_path):
    # B forwards every call to A: the file, the plan and the apply are the same.
    round_trip(sites["B"], sites["A"].api(), tmp_path, "10")


def test_prune_deletes_only_in_the_named_placements_and_never_a_built_in(sites, tmp_path):
    site, api = sites["A"], sites["A"].api()
    path = tmp_path / "all.yaml"
    assert envadmin(site, "export", "-o", str(path)).returncode == 0
    document = yaml.safe_load(path.read_text())
    llm = [e for e in document["environments"] if e["meta"].get("projectName") == "llm-pretrain"]
    assert len(llm) == 2
    dropped = llm[0]["meta"]["name"]
    # The file keeps everything else; it drops one environment of llm-pretrain, and one of
    # another project that is not in the prune list (so it must stay).
    other = next(e for e in document["environments"] if e["meta"].get("projectName") == "speech")
    document["environments"] = [e for e in document["environments"] if e not in (llm[0], other)]
    # Tenant is named too: the built-ins there are not in the file (export leaves them out),
    # and must survive.
    document["prune"] = [{"scope": "project", "projectName": "llm-pretrain"}, {"scope": "tenant"}]
    path.write_text(yaml.safe_dump(document))
    before = state(api)

    code, plan = plan_json(site, path)
    assert code == 0 and changes_of(plan) == []  # without --prune nothing is deleted
    code, plan = plan_json(site, path, "--prune")
    assert code == 2 and changes_of(plan) == [("delete", "project llm-pretrain", dropped)]

    done = envadmin(site, "apply", str(path), "--prune", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    after = state(api)
    gone = {key for key in before if key not in after}
    assert [before[key][0] for key in gone] == [dropped]
    builtins = [e for e in api.get(ENVIRONMENTS, params={"scope": "tenant"}).json()["entries"]
                if e["meta"].get("createdBy") == "system@run.ai"]  # fmt: skip
    assert builtins and all(e["meta"]["id"] in after for e in builtins)


# --- 2. from one tenant to another: placement by name -------------------------------------------


def test_a_file_from_server_a_applies_to_server_c_whose_ids_differ(sites, tmp_path):
    from_a, from_c = tmp_path / "a.yaml", tmp_path / "c.yaml"
    assert envadmin(sites["A"], "export", "-o", str(from_a)).returncode == 0
    assert envadmin(sites["C"], "export", "-o", str(from_c)).returncode == 0
    assert yaml.safe_load(from_c.read_text())["environments"] == []

    code, plan = plan_json(sites["C"], from_a)
    wanted = yaml.safe_load(from_a.read_text())["environments"]
    assert code == 2 and {i["action"] for i in plan["items"]} == {"create"}
    assert len(plan["items"]) == len(wanted) > 20
    done = envadmin(sites["C"], "apply", str(from_a), "--yes")
    assert done.returncode == 0, done.stdout + done.stderr

    assert envadmin(sites["C"], "export", "-o", str(from_c)).returncode == 0
    assert yaml.safe_load(from_c.read_text())["environments"] == wanted
    # ... under C's own ids: team-a is project 101 there.
    on_c = sites["C"].api().get(ENVIRONMENTS, params={"scope": "project"}).json()["entries"]
    team_a = {e["meta"]["projectId"] for e in on_c if e["meta"]["projectName"] == "team-a"}
    assert team_a == {101}


# --- 3. a saved plan meets someone else's edit ---------------------------------------------------


def test_a_saved_plan_reports_a_conflict_and_applies_the_rest(sites, tmp_path):
    site, api = sites["A"], sites["A"].api()
    path, saved = tmp_path / "p.yaml", tmp_path / "plan.json"
    assert envadmin(site, "export", "--scope", "project", "--project-id", "10",
                    "-o", str(path)).returncode == 0  # fmt: skip
    document = yaml.safe_load(path.read_text())
    for entry in document["environments"]:
        entry["spec"]["image"] = "registry.example.com/gitops/planned:2"
    path.write_text(yaml.safe_dump(document))
    done = envadmin(site, "plan", str(path), "-o", str(saved))
    assert done.returncode == 2, done.stdout + done.stderr
    plan = json.loads(saved.read_text())
    first, second = [i for i in plan["items"] if i["action"] == "update"]
    assert isinstance(first["updateCount"], int)

    # Someone else saves the first environment meanwhile.
    theirs = api.get(f"{ENVIRONMENTS}/{first['id']}").json()
    theirs["spec"]["image"] = "registry.example.com/someone/else:3"
    answer = api.put(f"{ENVIRONMENTS}/{first['id']}", json={"meta": {"name": theirs["meta"][
        "name"]}, "spec": theirs["spec"]})  # fmt: skip
    assert answer.status_code in (200, 202), answer.text

    done = envadmin(site, "apply", str(saved), "--yes")
    assert done.returncode == 1
    assert f"{first['placement']} / {first['name']}: conflict: changed since" in done.stdout
    assert f"{second['placement']} / {second['name']}: updated" in done.stdout
    kept = api.get(f"{ENVIRONMENTS}/{first['id']}").json()
    assert kept["spec"]["image"] == "registry.example.com/someone/else:3"
    applied = api.get(f"{ENVIRONMENTS}/{second['id']}").json()
    assert applied["spec"]["image"] == "registry.example.com/gitops/planned:2"


def test_a_plan_saved_for_one_server_is_not_applied_to_another(sites, tmp_path):
    path, saved = tmp_path / "p.yaml", tmp_path / "plan.json"
    path.write_text("environments: []\n")
    assert envadmin(sites["A"], "plan", str(path), "-o", str(saved)).returncode == 0
    done = envadmin(sites["C"], "apply", str(saved), "--yes")
    assert done.returncode == 1 and "the plan was made against" in done.stdout


# --- 4. a viewer may plan, not apply ---------------------------------------------------------


def test_a_viewer_plans_but_each_change_is_refused_with_403(sites, tmp_path):
    path = tmp_path / "v.yaml"
    assert envadmin(sites["viewer"], "export", "--scope", "project", "--project-id", "2",
                    "-o", str(path)).returncode == 0  # fmt: skip
    document = yaml.safe_load(path.read_text())
    document["environments"][0]["spec"]["image"] = "registry.example.com/viewer/try:1"
    path.write_text(yaml.safe_dump(document))
    before = state(sites["A"].api())
    code, _ = plan_json(sites["viewer"], path)
    assert code == 2
    done = envadmin(sites["viewer"], "apply", str(path), "--yes")
    name = document["environments"][0]["meta"]["name"]
    assert done.returncode == 1 and f"project team-b / {name}: refused: 403 " in done.stdout
    assert state(sites["A"].api()) == before


def test_apply_asks_first_and_does_nothing_without_a_yes(sites, tmp_path):
    path = tmp_path / "n.yaml"
    path.write_text(yaml.safe_dump({"environments": [{
        "meta": {"name": "gitops-asked", "scope": "project", "projectName": "team-b"},
        "spec": {"image": "python:3.12"}}]}))  # fmt: skip
    before = state(sites["A"].api())
    done = envadmin(sites["A"], "apply", str(path), stdin="no\n")
    assert done.returncode == 1 and "Apply these changes?" in done.stderr
    assert state(sites["A"].api()) == before


# --- 5. bad files: a clear error, nothing sent ---------------------------------------------------

VALID = {"meta": {"name": "gitops-new", "scope": "project", "projectName": "team-b"},
         "spec": {"image": "python:3.12"}}  # fmt: skip


def with_valid(*entries) -> str:
    return yaml.safe_dump({"environments": [VALID, *entries]})


# Billion laughs: nine levels of eight aliases each, 10 * 8**9 values once expanded.
BOMB = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 8)}]\n" for n in range(1, 10)
)


BAD_FILES = {
    "unknown keys": (
        with_valid(
            {
                "meta": {"name": "x1", "scope": "tenant", "colour": "red"},
                "spec": {"image": "python:3", "gpu": 1},
            }
        ),  # fmt: skip
        [
            "environments[1] (x1): meta.colour: not a meta field",
            "environments[1] (x1): spec.gpu: not a field of Run:ai's environment spec",
        ],
    ),
    "wrong types": (
        with_valid(
            {
                "meta": {"name": "x2", "scope": "tenant"},
                "spec": {"image": 5, "tty": "yes", "environmentVariables": {"A": 1}},
            }
        ),
        [
            "environments[1] (x2): spec.image: must be a string, not integer",
            "environments[1] (x2): spec.tty: must be a boolean, not string",
            "environments[1] (x2): spec.environmentVariables: must be a list, not object",
        ],
    ),  # fmt: skip
    "duplicate identities": (
        with_valid(
            {
                "meta": {"name": "GITOPS-new", "scope": "project", "projectName": "team-b"},
                "spec": {"image": "python:3"},
            }
        ),  # fmt: skip
        ["environments[1] (GITOPS-new): the same environment as environments[0] (gitops-new)"],
    ),
    "an unknown project name": (
        with_valid(
            {
                "meta": {"name": "x3", "scope": "project", "projectName": "no-such"},
                "spec": {"image": "python:3"},
            }
        ),  # fmt: skip
        ["environments[1] (x3): meta.projectName: no project named 'no-such'"],
    ),
    "an alias bomb": (BOMB, ["values once aliases are expanded"]),
    "10 MB of YAML": (
        with_valid() + "# " + "x" * (10 * 1024 * 1024) + "\n",
        ["larger than 5,242,880 bytes"],
    ),  # fmt: skip
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_a_bad_file_is_refused_whole_and_nothing_is_sent(sites, tmp_path, kind):
    text, messages = BAD_FILES[kind]
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    before = state(sites["A"].api())
    for command in (["plan", str(path)], ["apply", str(path), "--yes"]):
        done = envadmin(sites["A"], *command)
        assert done.returncode == 1, (kind, done.stdout, done.stderr)
        for message in messages:
            assert message in done.stdout, (kind, done.stdout)
    assert state(sites["A"].api()) == before
    assert sys.executable  # the CLI ran in its own process (PYTHON), not this one
