"""Load and integrity (issue 6): concurrent clients on a real server, then every write checked.

    DATABASE_URL=postgres://user:pw@127.0.0.1:5432/envadmin_load \\
        .venv/bin/python bench/load.py [--seconds 60] [--clients 16] [--workers 4] [--threads 4]

Needs PostgreSQL (SQLite serialises writers, so it would not say anything about concurrency).
The database of DATABASE_URL is created if missing, migrated and FLUSHED: point it at a database
of its own. It then loads the data set of bench/dataset.py (--size environments, with
workloads, templates and policies), creates a service account (manage.py
create_service_account) and gives the data set's UI user a password, and starts gunicorn
(--workers gthread workers of --threads threads) on 127.0.0.1:<free port>.

Each of --clients threads, with one requests.Session, gets a token (client_credentials) and
signs in to the UI (the login form), then for --seconds loops over a weighted mix (WEIGHTS):
the API list of a random project with usageInfo and compliance, the API get of a data-set
environment or one of its own, a create (a unique name under the run's prefix), an update (PUT
of the whole acknowledged document of one of its own, with a new description and a new value
of an environment variable), a delete (of one of its own), the list page and its HTMX partial.
Every response's status and latency is recorded; anything but a 2xx (or a connection failure)
is an error, and so is a 2xx whose body is not what the operation answers.

Lost updates need two writers on one row: before the loop --shared environments are created,
and every client's shared-update reads one (GET, its ETag), changes its description and its
LOAD_WRITER variable and PUTs it with If-Match. A 412 (with the contract body and a newer ETag)
is the expected refusal, not an error: the client re-reads and retries once.

Policy writers race too, on the Training policies of one department and of one of its
projects (a branch): a policy-patch merges a rule of its own (a mark) into either; a
policy-update reads one (GET, its ETag), adds a mark and PUTs the whole policy back with If-Match
(a 412 is the expected refusal: re-read and retry once); a policy-branch rules this moment's
field (a new one every BRANCH_SLOT_SECONDS) at either node, where a 400 "already ruled" is the
expected refusal when the other node won.

Each client keeps a ledger of its acknowledged writes: the document answered by 202 for a
create or an update, and the ids of acknowledged deletes. Afterwards everything is read back
through the API: every acknowledged, not deleted environment must be there with exactly the
acknowledged name, description, spec and update count; every acknowledged delete must be gone
(absent from the list and 404 on get); no other environment may carry the run's prefix. Each
shared environment must hold exactly the acknowledged write with the highest updateCount; no two
acknowledged writes may share an updateCount, each must be its If-Match base + 1, and the final
updateCount must have moved by the number of acknowledged writes. Every acknowledged mark must
be in its node's policy and no refused one may be; every acknowledged branch field must be ruled
at its node, and no field at both. Any violation is a lost write.

Prints requests, requests/s, errors, lost writes and p50/p95/p99 latency, overall and per
operation, writes them to --output (bench/load-results.md) with the machine, the versions, the
date and the parameters, and exits 1 if there was any error or lost write.
"""

import argparse
import copy
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import _common
import requests
from _common import HOST, ROOT, Server

ENVIRONMENTS = "/api/v1/asset/environment"
POLICIES = "/api/v2/policy/trainings"
# Rule groups of the raced policies: fields no contract names, so no real rule is disturbed.
MARKS = "loadMarks"
BRANCH = "loadBranch"
BRANCH_SLOT_SECONDS = 10
UI_PASSWORD = "load-bench-password"
# Relative weights of the operations of the timed loop.
WEIGHTS = {
    "api-list": 25,
    "api-get": 20,
    "create": 12,
    "update": 15,
    "delete": 6,
    "page": 11,
    "partial": 11,
    "shared-update": 12,
    "policy-patch": 5,
    "policy-update": 5,
    "policy-branch": 4,
}
SETUP_OPS = ("token", "login")
# Rows of the table: a read-then-write op is a GET and a PUT (twice after a 412), timed apart.
SPLIT_OPS = {"shared-update": ("shared-get", "shared-put"),
             "policy-update": ("policy-get", "policy-put")}  # fmt: skip
TABLE_OPS = SETUP_OPS + tuple(op for name in WEIGHTS for op in SPLIT_OPS.get(name, (name,)))
# Sign-in checks a PBKDF2 hash (Django's 1,000,000 iterations, about 0.5 s of CPU) per token
# and per login: all clients signing in at once on 2 cores queue for tens of seconds.
SIGN_IN_TIMEOUT = 120.0


# --- the database and the server --------------------------------------------------------------


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit(
            "bench/load.py needs PostgreSQL: set DATABASE_URL=postgres://user:pw@host:5432/NAME "
            "(a database of its own: it is created if missing and flushed)."
        )
    return url


def ensure_database(url: str):
    """Create the database of `url` if it does not exist (the role needs CREATEDB)."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    db = dj_database_url.parse(url)
    params = dict(
        host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], password=db["PASSWORD"]
    )
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        if not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]
        ).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))


def prepare(size: int, tree: Path) -> dict:
    """Migrate, flush and fill the database with `tree`'s code (a child process of its own);
    the credentials the clients use."""
    sys.path[:0] = [str(tree), str(tree / "bench")]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "envadmin.settings")
    os.environ["ENVADMIN_BACKEND"] = "local"
    import warnings

    import django

    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()
    import io

    import dataset
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    data = dataset.build(size)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would, after a bulk load
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    data.ui_user.set_password(UI_PASSWORD)
    data.ui_user.save(update_fields=["password"])
    out = io.StringIO()
    call_command(
        "create_service_account", "load", role="System administrator", scope="tenant", stdout=out
    )
    connection.close()
    return {
        "account": json.loads(out.getvalue()),
        "username": data.ui_user.username,
        "counts": data.counts,
        "postgres": version,
    }


def server_env(url: str) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("RUNAI_") and key not in ("ENVADMIN_BACKEND", "DATABASE_URL")
    }
    env.update(
        DATABASE_URL=url,
        ENVADMIN_BACKEND="local",
        DJANGO_ALLOWED_HOSTS=f"{HOST},localhost",
        DJANGO_DEBUG="false",
        PYTHONUNBUFFERED="1",
    )
    return env


# --- the clients ------------------------------------------------------------------------------


@dataclass
class Record:
    op: str
    status: int  # 0: no answer (connection error, timeout)
    seconds: float
    error: str = ""  # why a request counts as an error


@dataclass
class Ledger:
    """A client's acknowledged writes."""

    live: dict = field(default_factory=dict)  # id -> the document answered by the last 202
    deleted: set = field(default_factory=set)
    sent_mismatch: list = field(default_factory=list)  # a 202 whose document is not what was sent
    # The shared environments: (id, the If-Match updateCount, the document answered by 202).
    shared: list = field(default_factory=list)
    shared_unknown: list = field(default_factory=list)  # ids of PUTs that may or may not apply
    refused: int = 0  # 412 answers
    gave_up: int = 0  # a 412 again after the re-read
    # Policies: (node, mark) written, refused (412) or unknown (no answer); (node, field) ruled.
    marks: list = field(default_factory=list)
    marks_refused: list = field(default_factory=list)
    marks_unknown: list = field(default_factory=list)
    claims: list = field(default_factory=list)
    policy_refused: int = 0  # 412 answers to a policy PUT
    policy_gave_up: int = 0
    branch_refused: int = 0  # 400: the other node rules the field


class LoadClient(threading.Thread):
    def __init__(self, number: int, run: "Run"):
        super().__init__(name=f"client-{number}", daemon=True)
        self.number, self.run_ = number, run
        self.rng = random.Random(number)
        self.session = requests.Session()
        self.records: list[Record] = []
        self.ledger = Ledger()
        self.sequence = 0
        self.crashed = ""
        self.signed_in = threading.Event()  # set once signed in, or failed to
        self.active = False  # inside a timed phase

    # One request, timed and recorded; the response, or None when it failed. `expect`: the
    # statuses that are a success (2xx, but the login form answers 302 to the list).
    def call(self, op, method, path, check=None, expect=range(200, 300), **kwargs):
        start = time.perf_counter()
        try:
            kwargs.setdefault("timeout", self.run_.timeout)
            response = self.session.request(method, self.run_.url + path, **kwargs)
        except requests.RequestException as exc:
            self.records.append(Record(op, 0, time.perf_counter() - start, type(exc).__name__))
            return None
        elapsed = time.perf_counter() - start
        error = ""
        if response.status_code not in expect:
            error = f"{method} {path} -> {response.status_code}: {response.text[:300]}"
        elif check is not None:
            error = check(response)
        self.records.append(Record(op, response.status_code, elapsed, error))
        return None if error else response

    def run(self):
        try:
            signed_in = self.sign_in()
            self.signed_in.set()
            if signed_in:
                self.loop()
        except Exception as exc:  # noqa: BLE001 - a bug here must show in the report
            self.crashed = f"{type(exc).__name__}: {exc}"
        finally:
            self.active = False
            self.signed_in.set()
            self.session.close()

    def loop(self):
        """The mix, during each timed phase of the run (one, or several when compared)."""
        run, done = self.run_, 0
        while True:
            with run.gate:
                run.gate.wait_for(lambda done=done: run.finished or run.phase > done)
                if run.finished:
                    return
                done, self.active = run.phase, True
            # Idle through the other side's phase, its kept-alive connections may be closing
            # on the server's side (gunicorn's --keep-alive): a new phase starts with new ones.
            for adapter in self.session.adapters.values():
                adapter.close()
            while time.monotonic() < run.deadline:
                op = self.rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
                getattr(self, "do_" + op.replace("-", "_"))()
            self.active = False

    def sign_in(self) -> bool:
        account = self.run_.account
        body = {
            "grantType": "client_credentials",
            "clientID": account["clientId"],
            "clientSecret": account["clientSecret"],
        }
        wait = max(SIGN_IN_TIMEOUT, self.run_.timeout)
        answer = self.call("token", "POST", "/api/v1/token", json=body, timeout=wait)
        if answer is None:
            return False
        # The API ignores the session cookie and the pages ignore the bearer token.
        self.session.headers["Authorization"] = f"Bearer {answer.json()['accessToken']}"
        if self.call("login", "GET", "/login", timeout=wait) is None:
            return False
        form = {
            "username": self.run_.username,
            "password": UI_PASSWORD,
            "csrfmiddlewaretoken": self.session.cookies.get("csrftoken", ""),
        }
        signed_in = self.call(
            "login", "POST", "/login", data=form, allow_redirects=False, expect=(302,),
            timeout=wait, check=to_the_list,
        )  # fmt: skip
        return signed_in is not None

    # --- the operations ---

    def do_api_list(self):
        project = self.rng.choice(self.run_.projects)
        query = (
            f"projectId={project}&usageInfo=true&complyToProject={project}"
            "&complyToWorkloadType=Workspace"
        )
        self.call("api-list", "GET", f"{ENVIRONMENTS}?{query}", check=has_entries)

    def do_api_get(self):
        own = list(self.ledger.live)
        if own and self.rng.random() < 0.5:
            asset_id = self.rng.choice(own)
        else:  # the data set's environments: nobody deletes them
            asset_id = self.rng.choice(self.run_.fixed_ids)
        self.call(
            "api-get", "GET", f"{ENVIRONMENTS}/{asset_id}?usageInfo=true",
            check=lambda r: "" if r.json()["meta"]["id"] == asset_id else "another asset",
        )  # fmt: skip

    def do_create(self):
        self.sequence += 1
        name = f"{self.run_.prefix}c{self.number}-{self.sequence}"
        document = {
            "meta": {
                "name": name,
                "scope": "project",
                "projectId": self.rng.choice(self.run_.projects),
                "description": f"created by client {self.number}",
                "workloadSupportedTypes": {"workspace": True, "training": True},
            },
            "spec": {
                "image": "python:3.11",
                "command": "python",
                "args": "-m http.server 8888",
                "environmentVariables": [
                    {"name": "LOAD_SEQ", "value": "0"},
                    {"name": "LOAD_CLIENT", "value": str(self.number)},
                ],
            },
        }
        answer = self.call("create", "POST", ENVIRONMENTS, json=document)
        if answer is not None:
            self.acknowledge(document, answer.json())

    def do_update(self):
        if not self.ledger.live:
            return self.do_create()
        asset_id = self.rng.choice(list(self.ledger.live))
        self.sequence += 1
        # The whole acknowledged document PUT back, as runapy does, with two changes.
        document = copy.deepcopy(self.ledger.live[asset_id])
        document["meta"]["description"] = f"update {self.sequence} by client {self.number}"
        for variable in document["spec"]["environmentVariables"]:
            if variable["name"] == "LOAD_SEQ":
                variable["value"] = str(self.sequence)
        answer = self.call("update", "PUT", f"{ENVIRONMENTS}/{asset_id}", json=document)
        if answer is not None:
            self.acknowledge(document, answer.json())

    def do_delete(self):
        if not self.ledger.live:
            return self.do_create()
        asset_id = self.rng.choice(list(self.ledger.live))
        if self.call("delete", "DELETE", f"{ENVIRONMENTS}/{asset_id}") is not None:
            del self.ledger.live[asset_id]
            self.ledger.deleted.add(asset_id)

    def do_shared_update(self):
        """Read, change, PUT with If-Match; on 412 re-read and retry once."""
        asset_id = self.rng.choice(self.run_.shared_ids)
        path = f"{ENVIRONMENTS}/{asset_id}"
        for _attempt in range(2):
            read = self.call("shared-get", "GET", path, check=same_asset_tagged(asset_id))
            if read is None:
                return
            base = etag_count(read)
            self.sequence += 1
            document = read.json()
            document["meta"]["description"] = f"shared {self.sequence} by client {self.number}"
            set_variable(document, "LOAD_WRITER", f"{self.number}-{self.sequence}")
            answer = self.call(
                "shared-put", "PUT", path, json=document, headers={"If-Match": f'"{base}"'},
                expect=(202, 412), check=shared_put_answer(base),
            )  # fmt: skip
            if answer is None:
                status = self.records[-1].status
                if status in (0, 202) or status >= 500:  # it may have been written
                    self.ledger.shared_unknown.append(asset_id)
                return
            if answer.status_code == 202:
                answered = answer.json()
                if essentials(answered) != essentials(document):
                    mismatch = (asset_id, essentials(document), essentials(answered))
                    self.ledger.sent_mismatch.append(mismatch)
                self.ledger.shared.append((asset_id, base, answered))
                return
            self.ledger.refused += 1
        self.ledger.gave_up += 1

    def do_page(self):
        self.call("page", "GET", "/environments/", check=full_page)

    def do_partial(self):
        self.call(
            "partial", "GET", "/environments/?per_page=50&isWorkspace=true",
            headers={"HX-Request": "true"}, check=partial_page,
        )  # fmt: skip

    def do_policy_patch(self):
        node = self.rng.choice(list(self.run_.policy_nodes))
        mark = self.next_mark()
        body = {"meta": self.run_.policy_nodes[node],
                "policy": {"rules": {MARKS: {mark: {"canEdit": False}}}}}  # fmt: skip
        answer = self.call("policy-patch", "PATCH", POLICIES, json=body, check=policy_answer(None))
        self.settle_mark(node, mark, answer)

    def do_policy_update(self):
        """Read, add a mark, PUT the whole policy with If-Match; on 412 re-read, retry once."""
        node = self.rng.choice(list(self.run_.policy_nodes))
        meta = self.run_.policy_nodes[node]
        query = "&".join(f"{key}={value}" for key, value in meta.items() if key != "name")
        for _attempt in range(2):
            read = self.call("policy-get", "GET", f"{POLICIES}?{query}", check=policy_answer(None))
            if read is None:
                return
            base = read.headers["ETag"]
            policy = read.json()["policy"] or {}
            mark = self.next_mark()
            policy.setdefault("rules", {}).setdefault(MARKS, {})[mark] = {"canEdit": False}
            kept = {
                key: policy[key] for key in ("defaults", "rules", "imposedAssets") if key in policy
            }
            answer = self.call(
                "policy-put", "PUT", POLICIES, json={"meta": meta, "policy": kept},
                headers={"If-Match": base}, expect=(200, 412), check=policy_answer(base),
            )  # fmt: skip
            if answer is None or answer.status_code == 200:
                self.settle_mark(node, mark, answer)
                return
            self.ledger.marks_refused.append((node, mark))
            self.ledger.policy_refused += 1
        self.ledger.policy_gave_up += 1

    def do_policy_branch(self):
        """Rule this moment's field at one node of the branch: one node wins it."""
        node = self.rng.choice(list(self.run_.policy_nodes))
        slot = f"s{int(time.time() // BRANCH_SLOT_SECONDS)}"
        body = {"meta": self.run_.policy_nodes[node],
                "policy": {"rules": {BRANCH: {slot: {"canEdit": False}}}}}  # fmt: skip
        answer = self.call(
            "policy-branch", "PATCH", POLICIES, json=body, expect=(200, 400),
            check=branch_answer,
        )  # fmt: skip
        if answer is not None and answer.status_code == 200:
            self.ledger.claims.append((node, slot))
        elif answer is not None:
            self.ledger.branch_refused += 1

    def next_mark(self) -> str:
        self.sequence += 1
        return f"c{self.number}-{self.sequence}"

    def settle_mark(self, node: str, mark: str, answer):
        if answer is not None:
            self.ledger.marks.append((node, mark))
            return
        status = self.records[-1].status
        if status == 0 or status >= 500 or 200 <= status < 300:  # it may have been written
            self.ledger.marks_unknown.append((node, mark))
        else:
            self.ledger.marks_refused.append((node, mark))

    def acknowledge(self, sent: dict, answered: dict):
        asset_id = answered["meta"]["id"]
        if essentials(answered) != essentials(sent):
            self.ledger.sent_mismatch.append((asset_id, essentials(sent), essentials(answered)))
        self.ledger.live[asset_id] = answered


def to_the_list(response) -> str:
    """A login that succeeded redirects to the list (a failed one shows the form again: 200)."""
    return "" if response.headers["Location"].endswith("/environments/") else "not to the list"


def has_entries(response) -> str:
    return "" if isinstance(response.json().get("entries"), list) else "no entries list"


def full_page(response) -> str:
    html = response.text
    return "" if "<html" in html and 'id="env-count"' in html else "not the list page"


def partial_page(response) -> str:
    html = response.text
    return "" if 'id="env-count"' in html and "<html" not in html else "not the table partial"


def etag_count(response) -> int | None:
    """The updateCount an ETag header holds ("3" or W/"3")."""
    match = re.fullmatch(r'(?:W/)?"(\d+)"', response.headers.get("ETag", ""))
    return int(match.group(1)) if match else None


def same_asset_tagged(asset_id: str):
    def check(response) -> str:
        meta = response.json()["meta"]
        if meta["id"] != asset_id:
            return "another asset"
        return "" if etag_count(response) == meta["updateCount"] else "ETag is not the updateCount"

    return check


def shared_put_answer(base: int):
    """A 202 tagged with its new updateCount, or a 412 in the contract's body with a newer ETag."""

    def check(response) -> str:
        current = etag_count(response)
        if response.status_code == 202:
            count = response.json()["meta"]["updateCount"]
            return "" if current == count else "ETag is not the updateCount"
        body = response.json()
        if body.get("code") != 412 or not isinstance(body.get("message"), str):
            return f"412 without the contract body: {response.text[:200]}"
        if current is None or current <= base:
            return f"412 with ETag {response.headers.get('ETag')!r} for If-Match {base}"
        return ""

    return check


def policy_answer(base: str | None):
    """A 200 tagged with a new version (ETag), or a 412 in the contract's body with another."""

    def check(response) -> str:
        current = response.headers.get("ETag")
        if not current or current == base:
            return f"ETag {current!r} for If-Match {base!r}"
        if response.status_code == 200:
            return "" if isinstance(response.json().get("effective"), dict) else "no policy"
        body = response.json()
        if body.get("code") != 412 or not isinstance(body.get("message"), str):
            return f"412 without the contract body: {response.text[:200]}"
        return ""

    return check


def branch_answer(response) -> str:
    if response.status_code == 200:
        return "" if response.headers.get("ETag") else "no ETag"
    message = response.json().get("message", "")
    return "" if "already ruled by" in message else f"400 not for the branch rule: {message}"


def set_variable(document: dict, name: str, value: str):
    variables = document["spec"].setdefault("environmentVariables", [])
    for variable in variables:
        if variable["name"] == name:
            variable["value"] = value
            return
    variables.append({"name": name, "value": value})


def essentials(document: dict) -> tuple:
    """What a write sets: name, description and spec."""
    meta = document["meta"]
    return meta["name"], meta.get("description"), document["spec"]


@dataclass
class Run:
    url: str
    account: dict
    username: str
    projects: list
    fixed_ids: list
    prefix: str
    timeout: float
    shared_ids: list = field(default_factory=list)
    shared_initial: dict = field(default_factory=dict)  # id -> the document its create answered
    # The raced policies: node label -> the meta of its writes.
    policy_nodes: dict = field(default_factory=dict)
    # The timed phases: the clients wait at the gate until `phase` moves on (or `finished`),
    # then loop until `deadline`.
    deadline: float = math.inf
    phase: int = 0
    finished: bool = False
    gate: threading.Condition = field(default_factory=threading.Condition)


# --- the read-back -----------------------------------------------------------------------------


def verify(run: Run, clients: list[LoadClient]) -> dict:
    """Every acknowledged write read back through the API; the problems found."""
    session = requests.Session()
    session.headers["Authorization"] = clients[0].session.headers.get("Authorization", "")
    everything = session.get(run.url + ENVIRONMENTS, timeout=120)
    everything.raise_for_status()
    stored = {e["meta"]["id"]: e for e in everything.json()["entries"]}
    live = {i: doc for c in clients for i, doc in c.ledger.live.items()}
    deleted = {i for c in clients for i in c.ledger.deleted}
    problems = {"missing": [], "different": [], "not deleted": [], "unexpected": []}
    for asset_id, acknowledged in live.items():
        found = stored.get(asset_id)
        if found is None:
            problems["missing"].append(asset_id)
        elif (essentials(found), found["meta"]["updateCount"]) != (
            essentials(acknowledged),
            acknowledged["meta"]["updateCount"],
        ):
            problems["different"].append(asset_id)
    for asset_id in deleted:
        answer = session.get(f"{run.url}{ENVIRONMENTS}/{asset_id}", timeout=30)
        if asset_id in stored or answer.status_code != 404:
            problems["not deleted"].append(asset_id)
    for asset_id, document in stored.items():
        # A not-deleted one is counted above, the shared ones by verify_shared.
        known = asset_id in live or asset_id in deleted or asset_id in run.shared_initial
        if document["meta"]["name"].startswith(run.prefix) and not known:
            problems["unexpected"].append(asset_id)
    problems["acknowledged differently from sent"] = [
        m[0] for c in clients for m in c.ledger.sent_mismatch
    ]
    policies = verify_policies(run, clients, session)
    session.close()
    return {
        "problems": problems,
        "shared": verify_shared(run, clients, stored),
        "policies": policies,
        "live": len(live),
        "deleted": len(deleted),
        "stored": len(stored),
        "with prefix": sum(1 for d in stored.values() if d["meta"]["name"].startswith(run.prefix)),
    }


def verify_shared(run: Run, clients: list[LoadClient], stored: dict) -> dict:
    """Each shared environment against the acknowledged writes of all clients."""
    acks: dict[str, list] = {i: [] for i in run.shared_ids}
    for client in clients:
        for asset_id, base, document in client.ledger.shared:
            acks[asset_id].append((document["meta"]["updateCount"], base, client.number, document))
    unknown = Counter(i for c in clients for i in c.ledger.shared_unknown)
    lines, violations = [], []
    for asset_id, initial in run.shared_initial.items():
        name, start = initial["meta"]["name"], initial["meta"]["updateCount"]
        found = stored.get(asset_id)
        if found is None:
            violations.append(f"{name}: missing")
            continue
        final = found["meta"]["updateCount"]
        written = sorted(acks[asset_id], key=lambda ack: ack[0])
        for count, times in Counter(ack[0] for ack in written).items():
            if times > 1:  # both writers were told they wrote on the same version
                violations.append(f"{name}: {times} acknowledged writes at updateCount {count}")
        for count, base, number, _ in written:
            if count != base + 1:
                violations.append(
                    f"{name}: client {number} acknowledged {count} on If-Match {base}"
                )
        moved = final - start
        if not len(written) <= moved <= len(written) + unknown[asset_id]:
            violations.append(f"{name}: updateCount moved {moved}, {len(written)} acknowledged")
        last_count, last = (written[-1][0], written[-1][3]) if written else (start, initial)
        if final < last_count:
            violations.append(f"{name}: updateCount {final}, below the acknowledged {last_count}")
        elif final == last_count and essentials(found) != essentials(last):
            violations.append(f"{name}: not the last acknowledged write (updateCount {final})")
        lines.append(
            f"{name}: updateCount {start} -> {final}, {len(written)} acknowledged writes, "
            f"final document = the write at {last_count} ({last['meta'].get('description')})"
        )
    return {
        "acknowledged": sum(len(a) for a in acks.values()),
        "refused": sum(c.ledger.refused for c in clients),
        "gave up": sum(c.ledger.gave_up for c in clients),
        "unknown": sum(unknown.values()),
        "lines": lines,
        "violations": violations,
    }


def verify_policies(run: Run, clients: list[LoadClient], session: requests.Session) -> dict:
    """The raced policies against the acknowledged and the refused writes of all clients."""
    marks, branch = {}, {}
    for node, meta in run.policy_nodes.items():
        query = {key: value for key, value in meta.items() if key != "name"}
        answer = session.get(run.url + POLICIES, params=query, timeout=30)
        answer.raise_for_status()
        rules = (answer.json()["policy"] or {}).get("rules") or {}
        marks[node], branch[node] = set(rules.get(MARKS) or {}), set(rules.get(BRANCH) or {})
    ledgers = [c.ledger for c in clients]
    written = [m for ledger in ledgers for m in ledger.marks]
    refused = [m for ledger in ledgers for m in ledger.marks_refused]
    claims = {c for ledger in ledgers for c in ledger.claims}
    violations = [f"{node}: acknowledged mark {mark} is missing" for node, mark in written
                  if mark not in marks[node]]  # fmt: skip
    violations += [f"{node}: refused mark {mark} was stored" for node, mark in refused
                   if mark in marks[node]]  # fmt: skip
    violations += [f"{node}: acknowledged rule {BRANCH}.{slot} is missing" for node, slot in claims
                   if slot not in branch[node]]  # fmt: skip
    both = set.intersection(*branch.values())
    violations += [f"{BRANCH}.{slot} is ruled by both nodes of the branch" for slot in sorted(both)]
    lines = [
        f"{node}: {len(marks[node])} marks ({sum(1 for n, _ in written if n == node)} "
        f"acknowledged), {len(branch[node])} branch fields"
        for node in run.policy_nodes
    ]
    return {
        "nodes": list(run.policy_nodes),
        "acknowledged": len(written),
        "claims": len(claims),
        "refused": sum(ledger.policy_refused for ledger in ledgers),
        "gave up": sum(ledger.policy_gave_up for ledger in ledgers),
        "branch refused": sum(ledger.branch_refused for ledger in ledgers),
        "unknown": sum(len(ledger.marks_unknown) for ledger in ledgers),
        "lines": lines,
        "violations": violations,
    }


def policy_nodes(run: Run) -> dict:
    """The branch whose Training policies are raced: a project's department, and the project."""
    session = api_session(run)
    project = session.get(f"{run.url}/api/v1/org-unit/projects/{run.projects[0]}", timeout=30)
    project.raise_for_status()
    department = str(project.json()["parentId"])
    session.close()
    return {
        f"department {department}": {"name": "load-department", "scope": "department",
                                     "departmentId": department},
        f"project {run.projects[0]}": {"name": "load-project", "scope": "project",
                                       "projectId": run.projects[0]},
    }  # fmt: skip


def create_shared(run: Run, count: int):
    """The environments every client updates, in one project, before the timed loop."""
    session = api_session(run)
    for number in range(count):
        document = {
            "meta": {
                "name": f"{run.prefix}shared-{number}",
                "scope": "project",
                "projectId": run.projects[0],
                "description": "shared, not yet updated",
                "workloadSupportedTypes": {"workspace": True, "training": True},
            },
            "spec": {
                "image": "python:3.11",
                "environmentVariables": [{"name": "LOAD_WRITER", "value": "none"}],
            },
        }
        answer = session.post(run.url + ENVIRONMENTS, json=document, timeout=30)
        if answer.status_code != 202:
            raise SystemExit(f"creating a shared environment: {answer.status_code} {answer.text}")
        run.shared_ids.append(answer.json()["meta"]["id"])
        run.shared_initial[run.shared_ids[-1]] = answer.json()
    session.close()


# --- figures ------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest rank."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def summary_rows(records: list[Record], window: float) -> list[list[str]]:
    by_op: dict[str, list[Record]] = {}
    for record in records:
        by_op.setdefault(record.op, []).append(record)
    order = TABLE_OPS
    rows = []
    timed = [r for r in records if r.op not in SETUP_OPS]
    for label, group in [("all (timed loop)", timed)] + [
        (op, by_op[op]) for op in order if op in by_op
    ]:
        errors = sum(1 for r in group if r.error)
        refused = sum(1 for r in group if r.status in (400, 412) and not r.error)
        times = [r.seconds * 1e3 for r in group]
        rate = f"{len(group) / window:.1f}" if label not in SETUP_OPS else "-"
        rows.append(
            [
                label,
                str(len(group)),
                rate,
                str(errors),
                str(refused),
                f"{100 * errors / len(group):.2f}%" if group else "-",
                *(f"{percentile(times, q):.0f}" for q in (50, 95, 99)),
                f"{max(times):.0f}" if times else "-",
            ]
        )
    return rows


# refused: the expected answer to a lost race, not an error: a 412 to a PUT made from a stale
# version, a 400 to a branch write whose field the other node won.
HEAD = ["operation", "requests", "req/s", "errors", "refused", "error rate", "p50 ms", "p95 ms",
        "p99 ms", "max ms"]  # fmt: skip


def text_table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [HEAD, *rows]) for i in range(len(HEAD))]
    return "\n".join(
        "  ".join(
            [row[0].ljust(widths[0])]
            + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        )
        for row in [HEAD, *rows]
    )


def markdown_table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEAD) + " |", "|" + "|".join(["---"] + ["--:"] * 9) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def headline(args, section: dict) -> str:
    side, rows, extra = section["side"], section["rows"], section["extra"]
    checked = side.checked
    label = f"{side.label} ({side.commit}): " if args.baseline else ""
    return (
        f"**{label}{args.clients} concurrent clients for {side.window:.1f} s: "
        f"{extra['timed']:,} requests, {section['rate']:.1f} requests/s, "
        f"{section['errors']} errors, {section['lost']} lost writes; latency p50 {rows[0][6]} ms, "
        f"p95 {rows[0][7]} ms, p99 {rows[0][8]} ms; {shared_summary(checked['shared'])}; "
        f"{policy_summary(checked['policies'])}.**"
    )


def side_report(args, section: dict, titled: bool) -> list[str]:
    side, rows, extra = section["side"], section["rows"], section["extra"]
    checked = side.checked
    problems, shared, policies = checked["problems"], checked["shared"], checked["policies"]
    suffix = f": {side.label} ({side.commit})" if titled else ""
    return [
        f"## Requests{suffix}",
        "",
        "Latency in ms, nearest rank, measured by the clients (on the same machine: the "
        "clients' own CPU time is part of it). req/s over the timed loop; token and login are "
        "the clients' sign-in before it.",
        "",
        markdown_table(rows),
        "",
        f"## Integrity{suffix}",
        "",
        f"- acknowledged writes: {extra['creates']:,} creates, {extra['updates']:,} updates, "
        f"{checked['deleted']:,} deletes; {checked['live']:,} environments of the run and "
        f"{args.shared} shared ones should remain, {checked['with prefix']:,} with the run's "
        "prefix were read back "
        f"({checked['stored']:,} environments in all)",
        *[
            f"- {name}: {len(ids)}" + (f" ({', '.join(ids[:5])})" if ids else "")
            for name, ids in problems.items()
        ],  # fmt: skip
        f"- {shared_summary(shared)} (a 412 again after the re-read: {shared['gave up']}; "
        f"PUTs with no answer, which may or may not have applied: {shared['unknown']})",
        *[f"  - {line}" for line in shared["lines"]],
        *[f"  - LOST: {violation}" for violation in shared["violations"]],
        f"- {policy_summary(policies)} (a 412 again after the re-read: {policies['gave up']}; "
        f"policy writes with no answer, which may or may not have applied: "
        f"{policies['unknown']})",
        *[f"  - {line}" for line in policies["lines"]],
        *[f"  - LOST: {violation}" for violation in policies["violations"]],
        f"- server log: {extra['log problems']} error or traceback lines",
        f"- {cpu_summary(side)}; PostgreSQL and the rest of the machine not counted",
        "",
    ]


def write_report(path: Path, args, info, sides: list, sections: list[dict]):
    command = (
        f"bench/load.py --seconds {args.seconds:g} --clients {args.clients} --workers "
        f"{args.workers} --threads {args.threads} --size {args.size}"
    )
    if args.baseline:
        command += f" --baseline {args.baseline} --phases {args.phases}"
    counts = sides[-1].prepared["counts"]
    lines = [
        "# Load and integrity (issues 6 and 19)",
        "",
        f"Measured {info.pop('date')} UTC by `.venv/bin/python {command}` (`make load`).",
        "",
        *[headline(args, section) for section in sections],
    ]
    if len(sections) == 2:
        before, after = sections
        lines += [
            "",
            f"**after / before: {after['rate'] / before['rate']:.2f}x requests/s** "
            f"({before['rate']:.1f} -> {after['rate']:.1f}), measured in one run: both servers "
            f"up side by side, each on a database of its own, {args.phases} alternated phases "
            f"of {args.seconds:g} s each (before, after, before, ...), so that both meet the "
            "same machine.",
        ]
    lines += [
        "",
        "## Machine",
        "",
        *[f"- {key}: {value}" for key, value in info.items()],
        *[f"- {section['side'].label}: envadmin {section['side'].commit}" for section in sections],
        "",
        "## Parameters",
        "",
        f"- server: gunicorn, {args.workers} gthread workers x {args.threads} threads, "
        f"127.0.0.1, DATABASE_CONN_MAX_AGE "
        f"{os.environ.get('DATABASE_CONN_MAX_AGE', 'not set (the settings default)')}",
        f"- data: bench/dataset.py at {args.size:,} environments ({counts['workloads']:,} "
        f"workloads, {counts['templates']:,} templates, {counts['policies']:,} policies, 200 "
        "projects)",
        f"- clients: {args.clients} threads, one requests.Session each (a service account's "
        "token for the API, a signed-in session for the pages), timeout "
        f"{args.timeout:g} s per request ({max(SIGN_IN_TIMEOUT, args.timeout):g} s to sign in: "
        "a token grant and a login each check a PBKDF2 hash, and all clients sign in at once)",
        "- mix (weights): " + ", ".join(f"{op} {w}" for op, w in WEIGHTS.items()),
        f"- shared: {args.shared} environments created before the loop, updated by every client "
        "with If-Match",
        "- policies: the Training policies of "
        + " and ".join(sections[-1]["side"].checked["policies"]["nodes"])
        + ", written by every client",
        "",
    ]
    for section in sections:
        lines += side_report(args, section, titled=len(sections) > 1)
    lines += [
        "## Method",
        "",
        "- API list: `GET /api/v1/asset/environment?projectId=P&usageInfo=true&complyToProject=P"
        "&complyToWorkloadType=Workspace`, P a random project. API get: "
        "`GET /api/v1/asset/environment/<id>?usageInfo=true`, half the time one of the "
        "client's own environments. Create: `POST` at a random project, a name unique to the "
        "run. Update: `PUT` of the whole acknowledged document with a new description and a "
        "new `LOAD_SEQ` value. Delete: one of the client's own. Page: `GET /environments/`; "
        "partial: `GET /environments/?per_page=50&isWorkspace=true` with `HX-Request: true`.",
        "- Shared update (shared-get, shared-put): `GET` of a random shared environment, its "
        "`ETag` noted; a new description and a new `LOAD_WRITER` value (client and sequence); "
        '`PUT` with `If-Match: "<updateCount>"`. A 412 must carry the contract body and a newer '
        "`ETag`; the client then re-reads and retries once.",
        "- Policies, on the Training policies of a department and of one of its projects (a "
        "branch): policy-patch merges a mark of its own (a rule `loadMarks.c<client>-<seq>`) into "
        "either. Policy update (policy-get, policy-put): `GET`, its `ETag` noted, a mark added, "
        "the whole policy `PUT` back with `If-Match`; a 412 must carry the contract body and "
        "another `ETag`, and the client re-reads and retries once. Policy-branch: `PATCH` of "
        f"this moment's field `loadBranch.s<n>` (a new one every {BRANCH_SLOT_SECONDS} s) at "
        "either node; a 400 `already ruled by` is the expected answer when the other node won.",
        "- An error is an answer other than 2xx (a 412 to a shared or policy PUT, a 400 to a "
        "policy-branch excepted), no answer, or a 2xx whose body is not the operation's (no "
        "entries, another asset, not the page or not the partial, an ETag that is not the "
        "updateCount, a policy answer without a new ETag).",
        "- The read-back lists every environment through the API: each acknowledged one must "
        "be there with the acknowledged name, description, spec and update count; each "
        "acknowledged delete absent from the list and 404 on get; no other with the run's "
        "prefix. A 202 answering other than what was sent counts too.",
        "- Each shared environment: the final document must be the acknowledged write with the "
        "highest updateCount (name, description, spec), no two acknowledged writes may share an "
        "updateCount (that would be a lost update), each must be its If-Match base + 1, and the "
        "updateCount must have moved by exactly the number of acknowledged writes. Each "
        "violation counts as a lost write.",
        "- Each raced policy: every acknowledged mark must be in it and no refused one; every "
        "acknowledged branch field must be ruled at its node, and no field at both nodes. Each "
        "violation counts as a lost write.",
        "",
    ]
    path.write_text("\n".join(lines))


def cpu_summary(side) -> str:
    """Where the 2 cores went: the clients share them with the server and PostgreSQL."""
    return (
        f"CPU during the phases ({side.window:.1f} s): clients (this process, "
        f"{len(side.clients)} threads) {side.client_cpu:.1f} s, server (gunicorn, all workers) "
        f"{side.server_cpu:.1f} s"
    )


def shared_summary(shared: dict) -> str:
    return (
        f"shared: acknowledged {shared['acknowledged']:,}, refused 412 {shared['refused']:,}, "
        f"lost {len(shared['violations'])}"
    )


def policy_summary(policies: dict) -> str:
    return (
        f"policies: acknowledged {policies['acknowledged']:,} marks and {policies['claims']:,} "
        f"branch fields, refused 412 {policies['refused']:,}, refused as ruled elsewhere "
        f"{policies['branch refused']:,}, lost {len(policies['violations'])}"
    )


def log_problems(log: str) -> list[str]:
    pattern = re.compile(r"Traceback|\[ERROR\]|\[CRITICAL\]|WORKER TIMEOUT")
    return [line for line in log.splitlines() if pattern.search(line)]


@dataclass
class Side:
    """One code base under load: the current tree, or the --baseline commit's next to it."""

    label: str  # "before" or "after" when compared, else "run"
    tree: Path
    url: str  # its own database
    commit: str = ""
    prepared: dict = field(default_factory=dict)
    server: Server | None = None
    run: Run | None = None
    clients: list = field(default_factory=list)
    window: float = 0.0  # seconds of its timed phases, summed
    # CPU seconds during its phases: this process (the clients) and the gunicorn tree (server).
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    checked: dict = field(default_factory=dict)
    log: str = ""  # the server's, once stopped


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, help="length of the timed loop (of each phase "
                        "with --baseline); 60, or 20 with --baseline")  # fmt: skip
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--size", type=int, default=1000, help="environments of the data set")
    parser.add_argument("--shared", type=int, default=4, help="environments all clients update")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "load-results.md")
    parser.add_argument("--baseline", metavar="REF", help="also serve this commit (git archive "
                        "of REF, on the database DATABASE_URL names + '_base') and alternate "
                        "phases of the same mix between it and the current code")  # fmt: skip
    parser.add_argument("--phases", type=int, default=3, help="phases per side with --baseline")
    parser.add_argument("--prepare", type=Path, help=argparse.SUPPRESS)  # internal, see prepare
    args = parser.parse_args()
    if args.seconds is None:
        args.seconds = 20.0 if args.baseline else 60.0
    if args.seconds <= 0 or args.clients < 1 or args.size < 10 or args.shared < 1:
        parser.error("--seconds > 0, --clients >= 1, --size >= 10 and --shared >= 1, please")
    if args.phases < 1:
        parser.error("--phases >= 1, please")
    return args


def main():
    args = parse_args()
    if args.prepare:  # the child process of prepare_side: one tree's code, one database
        print(json.dumps(prepare(args.size, args.prepare)))
        return
    url = database_url()
    started = datetime.now(UTC)
    workdir = Path(tempfile.mkdtemp(prefix="envadmin-load-"))
    sides = [Side("after" if args.baseline else "run", ROOT, url, _common.commit())]
    if args.baseline:
        sides.insert(0, baseline_side(args.baseline, url, workdir))
    try:
        run_sides(args, sides, workdir)
    finally:
        for side in sides:
            if side.server:
                side.server.stop()
    for side in sides:
        side.log = side.server.log.read_text(errors="replace")
    shutil.rmtree(workdir, ignore_errors=True)
    info = {"date": f"{started:%Y-%m-%d %H:%M}", **_common.host_info()}
    info["database"] = (
        f"PostgreSQL {sides[-1].prepared['postgres']} (DATABASE_URL"
        + (", and its name + '_base' for the baseline" if args.baseline else "")
        + ", flushed first)"
    )
    failed = False
    sections = []
    for side in sides:
        section, bad = side_results(args, side)
        sections.append(section)
        failed = failed or bad
    write_report(args.output, args, info, sides, sections)
    print(f"wrote {args.output}")
    if failed:
        raise SystemExit(1)


def baseline_side(ref: str, url: str, workdir: Path) -> Side:
    """REF's tree (git archive: no worktree to clean up) and a database of its own."""
    tree = workdir / "baseline"
    tree.mkdir()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", ref], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref], cwd=ROOT, capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    base, _, query = url.partition("?")
    base_url = base.rstrip("/") + "_base" + (f"?{query}" if query else "")
    named = f"commit {commit}" + (f" ({ref})" if ref != commit else "")
    return Side("before", tree, base_url, named)


def prepare_side(args, side: Side):
    """Migrate, flush and fill the side's database with the side's own code, in a child."""
    ensure_database(side.url)
    env = {**os.environ, "DATABASE_URL": side.url}
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--prepare", str(side.tree),
         "--size", str(args.size)],
        env=env, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"preparing {side.label} failed:\n{done.stderr[-3000:]}")
    side.prepared = json.loads(done.stdout.strip().splitlines()[-1])


def run_sides(args, sides: list[Side], workdir: Path):
    for side in sides:
        print(f"preparing {side.label} ({side.commit}, {args.size:,} environments) ...", flush=True)
        prepare_side(args, side)
        side.server = Server(side.label, server_env(side.url), args.workers, workdir,
                             threads=args.threads, root=side.tree)  # fmt: skip
    for side in sides:
        side.server.wait_ready()
        side.run = Run(
            url=side.server.url,
            account=side.prepared["account"],
            username=side.prepared["username"],
            projects=[],
            fixed_ids=[],
            prefix=f"load-{uuid.uuid4().hex[:6]}-",
            timeout=args.timeout,
        )
        discover(side.run)
        create_shared(side.run, args.shared)
        side.run.policy_nodes = policy_nodes(side.run)
        # One side's clients sign in (a PBKDF2 hash each) before the other's.
        side.clients = [LoadClient(n, side.run) for n in range(args.clients)]
        for client in side.clients:
            client.start()
        for client in side.clients:
            client.signed_in.wait()
    # Alternated phases, so that both sides meet the same machine (other load comes and goes).
    order = sides * args.phases if len(sides) > 1 else sides
    for number, side in enumerate(order, 1):
        print(f"phase {number}/{len(order)}: {side.label}, {args.clients} clients for "
              f"{args.seconds:g} s ...", flush=True)  # fmt: skip
        client, server = time.process_time(), _common.tree_cpu_seconds(side.server.process.pid)
        side.window += run_phase(side, args)
        side.client_cpu += time.process_time() - client
        side.server_cpu += _common.tree_cpu_seconds(side.server.process.pid) - server
    for side in sides:
        with side.run.gate:
            side.run.finished = True
            side.run.gate.notify_all()
        for client in side.clients:
            client.join(args.timeout + 30)
    for side in sides:
        print(f"reading every write of {side.label} back ...", flush=True)
        try:
            side.checked = verify(side.run, side.clients)
        except BaseException:
            # A failure in the read-back: the server's side of it is kept.
            side.server.stop()
            kept = args.output.with_suffix(f".{side.label}.server.log")
            shutil.copyfile(side.server.log, kept)
            print(f"the server's log is kept in {kept}", file=sys.stderr)
            raise


def run_phase(side: Side, args) -> float:
    """One timed phase of the side's clients; its length, until the last answer came."""
    run = side.run
    with run.gate:
        start = time.monotonic()
        run.deadline = start + args.seconds
        run.phase += 1
        run.gate.notify_all()
    time.sleep(args.seconds)
    limit = time.monotonic() + args.timeout + 30
    while any(c.active for c in side.clients) and time.monotonic() < limit:
        time.sleep(0.01)
    return time.monotonic() - start


def side_results(args, side: Side) -> tuple[dict, bool]:
    """The side's figures, printed; and whether it failed (errors, lost writes, crashes)."""
    checked, records = side.checked, [r for c in side.clients for r in c.records]
    window = side.window
    rows = summary_rows(records, window)
    errors = sum(1 for r in records if r.error)
    crashed = [f"{c.name}: {c.crashed}" for c in side.clients if c.crashed]
    lost = sum(len(ids) for ids in checked["problems"].values())
    lost += len(checked["shared"]["violations"]) + len(checked["policies"]["violations"])
    acked = Counter(r.op for r in records if r.status and not r.error)
    problems_in_log = log_problems(side.log)
    extra = {
        "timed": sum(1 for r in records if r.op not in SETUP_OPS),
        "creates": acked["create"],
        "updates": acked["update"],
        "log problems": len(problems_in_log),
    }
    print()
    print(f"== {side.label}: {side.commit}")
    print(text_table(rows))
    print()
    print(
        f"{extra['timed']:,} requests in {window:.1f} s = {extra['timed'] / window:.1f}/s; "
        f"errors {errors}; lost writes {lost} "
        + ", ".join(f"{k} {len(v)}" for k, v in checked["problems"].items())
    )
    print(cpu_summary(side))
    print(shared_summary(checked["shared"]))
    print(policy_summary(checked["policies"]))
    for line in checked["shared"]["violations"] + checked["policies"]["violations"]:
        print(f"  LOST: {line}")
    for sample in Counter(r.error[:200] for r in records if r.error).most_common(5):
        print(f"  ERROR x{sample[1]}: {sample[0]}")
    for line in crashed + problems_in_log[:10]:
        print(f"  {line}")
    if problems_in_log:  # kept for whoever looks into them
        args.output.with_suffix(f".{side.label}.server.log").write_text(side.log)
    section = {"side": side, "rows": rows, "errors": errors, "lost": lost, "extra": extra,
               "rate": extra["timed"] / window}  # fmt: skip
    return section, bool(errors or lost or crashed)


def discover(run: Run):
    """The projects to list and the data set's environment ids to get, through the API."""
    session = api_session(run)
    offset = 0
    while offset is not None:  # pages of at most 500, "next" naming the following offset
        page = session.get(
            f"{run.url}/api/v1/org-unit/projects?limit=500&offset={offset}", timeout=30
        )
        page.raise_for_status()
        run.projects += [int(p["id"]) for p in page.json()["projects"]]
        offset = page.json().get("next")
    environments = session.get(run.url + ENVIRONMENTS, timeout=120)
    environments.raise_for_status()
    run.fixed_ids = [e["meta"]["id"] for e in environments.json()["entries"]]
    session.close()
    if not run.projects or not run.fixed_ids:
        raise SystemExit("the data set has no projects or no environments")


def api_session(run: Run) -> requests.Session:
    """A session with the service account's token, for the set-up outside the clients."""
    session = requests.Session()
    account = run.account
    token = session.post(
        run.url + "/api/v1/token",
        json={"grantType": "client_credentials", "clientID": account["clientId"],
              "clientSecret": account["clientSecret"]},
        timeout=60,
    )  # fmt: skip
    token.raise_for_status()
    session.headers["Authorization"] = f"Bearer {token.json()['accessToken']}"
    return session


if __name__ == "__main__":
    main()
