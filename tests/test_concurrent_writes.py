"""Concurrent writers of every writable resource, each on its own connection: no acknowledged
change lost, no rule broken, no 500. Environments and policies are raced through a live server
(one thread and one database connection per request), service accounts through the command.

Concurrency needs PostgreSQL: SQLite lets one writer at a time begin, so nothing races there.
Where the window between a writer's read and its write is a few microseconds, the tests widen it
(a pause inside it), so that on code without serialisation the writers would overlap every time.
"""

import io
import threading
import time
from collections import Counter

import pytest
import requests
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction

from envadmin.accounts.models import AccessRule, ServiceAccount
from envadmin.accounts.tokens import issue
from envadmin.audit.models import Revision
from envadmin.backends import local_policies
from envadmin.inventory.models import Environment
from envadmin.policies.models import Policy
from envadmin.snapshot import loader as snapshot

from .conftest import DATA, environment_document, make_account

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

ENVIRONMENTS = "/api/v1/asset/environment"
WORKSPACES = "/api/v2/policy/workspaces"
# Long enough for every racer to reach the window before the first leaves it.
WINDOW = 0.3


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("Concurrent writers need PostgreSQL: SQLite serialises every write.")


@pytest.fixture
def api(live_server):
    """(base url, headers of a System administrator's token) over the small org tree."""
    snapshot.load(snapshot.read_file(DATA / "small.yaml"))
    account, _ = make_account("System administrator", "tenant")
    token = issue(account)["accessToken"]
    return live_server.url, {"Authorization": f"Bearer {token}"}


def race(requests_to_send, api) -> list[requests.Response]:
    """Send every (method, path, body, extra headers) at once, each from its own thread."""
    url, headers = api
    start = threading.Barrier(len(requests_to_send))
    answers: list = [None] * len(requests_to_send)

    def send(index, method, path, body, extra):
        with requests.Session() as session:
            start.wait()
            answers[index] = session.request(
                method, url + path, json=body, headers={**headers, **extra}, timeout=60
            )

    threads = [
        threading.Thread(target=send, args=(index, *request))
        for index, request in enumerate(requests_to_send)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@pytest.fixture
def widened_policy_window(monkeypatch):
    """A pause between a policy write's reads (its node, its branch) and its save."""
    conflicts = local_policies.conflicts

    def slow_conflicts(*args, **kwargs):
        time.sleep(WINDOW)
        return conflicts(*args, **kwargs)

    monkeypatch.setattr(local_policies, "conflicts", slow_conflicts)


def policy_meta(scope="tenant", **ids):
    return {"name": f"{scope}-policy", "scope": scope, **ids}


# --- environments ------------------------------------------------------------------------------


def test_twenty_concurrent_creates_of_one_name_give_one_202_and_nineteen_409s(api):
    # One name in four spellings (case, NFC and NFD): the database, not the spelling, decides.
    spellings = ("Rénnen", "rénnen", "RE\u0301NNEN", "re\u0301nnen")
    creates = [
        ("POST", ENVIRONMENTS, environment_document(spellings[i % 4]), {}) for i in range(20)
    ]
    statuses = sorted(answer.status_code for answer in race(creates, api))
    assert statuses == [202] + [409] * 19
    assert Environment.objects.filter(name_key="rénnen", project_id=7).count() == 1


def test_an_update_that_waited_for_a_delete_answers_404(api):
    url, headers = api
    created = requests.post(
        url + ENVIRONMENTS, json=environment_document("doomed"), headers=headers, timeout=30
    )
    asset_id = created.json()["meta"]["id"]
    body = {"meta": {"name": "doomed"}, "spec": {"image": "python:3.12"}}
    answers: list = []
    # The delete holds the row's lock while the update reads the row and then waits for it.
    with transaction.atomic():
        Environment.objects.select_for_update().get(pk=asset_id).delete()
        update = threading.Thread(
            target=lambda: answers.append(
                requests.put(
                    f"{url}{ENVIRONMENTS}/{asset_id}", json=body, headers=headers, timeout=30
                )  # fmt: skip
            )
        )
        update.start()
        time.sleep(WINDOW)  # the update has read the row and waits for its lock
    update.join()
    assert answers[0].status_code == 404, answers[0].text
    assert answers[0].json()["code"] == 404


def test_concurrent_updates_and_restores_number_their_revisions_without_gaps(api):
    url, headers = api
    created = requests.post(
        url + ENVIRONMENTS, json=environment_document("numbered"), headers=headers, timeout=30
    ).json()
    asset_id = created["meta"]["id"]
    writes = [
        ("PUT", f"{ENVIRONMENTS}/{asset_id}",
         {"meta": {"name": "numbered"}, "spec": {"image": f"python:3.{i}"}}, {})
        for i in range(8)
    ] + [
        ("POST", f"/api/envadmin/v1/environments/{asset_id}/revisions/1/restore", None, {})
        for _ in range(4)
    ]  # fmt: skip
    assert {answer.status_code for answer in race(writes, api)} == {202}
    revisions = Revision.objects.filter(asset_id=asset_id).order_by("revision")
    assert list(revisions.values_list("revision", flat=True)) == list(range(1, 14))
    # In change order: revision n holds the version after the (n-1)th write.
    assert list(revisions.values_list("update_count", flat=True)) == list(range(13))
    assert Counter(revisions.values_list("action", flat=True)) == {
        "create": 1, "update": 8, "restore": 4,
    }  # fmt: skip


# --- policies ----------------------------------------------------------------------------------


def test_concurrent_patches_of_one_policy_keep_every_acknowledged_rule(api, widened_policy_window):
    url, headers = api
    requests.put(url + WORKSPACES, json={"meta": policy_meta(), "policy": {}},
                 headers=headers, timeout=30).raise_for_status()  # fmt: skip
    fields = ["image", "command", "args", "workingDir"]
    patches = [
        ("PATCH", WORKSPACES,
         {"meta": policy_meta(), "policy": {"rules": {field: {"canEdit": False}}}}, {})
        for field in fields
    ]  # fmt: skip
    answers = race(patches, api)
    assert [answer.status_code for answer in answers] == [200] * 4
    stored = Policy.objects.get(workload_type="workspace", scope_key="tenant").document
    assert sorted(stored["rules"]) == sorted(fields)
    final = requests.get(url + WORKSPACES, params={"scope": "tenant"}, headers=headers, timeout=30)
    assert sorted(final.json()["policy"]["rules"]) == sorted(fields)


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_two_writers_ruling_one_field_on_a_node_and_its_descendant_get_one_200(
    api, widened_policy_window, method
):
    rule = {"rules": {"image": {"required": True}}}
    writes = [
        (method, WORKSPACES, {"meta": policy_meta(), "policy": rule}, {}),
        (method, WORKSPACES, {"meta": policy_meta("project", projectId=7), "policy": rule}, {}),
    ]
    answers = race(writes, api)
    assert sorted(answer.status_code for answer in answers) == [200, 400]
    refused = next(answer for answer in answers if answer.status_code == 400)
    assert refused.json()["message"].startswith("policy.rules.image: already ruled by")
    holders = [p.scope_key for p in Policy.objects.all() if "image" in p.document.get("rules", {})]
    assert len(holders) == 1


def test_of_writers_holding_one_version_exactly_one_wins_and_the_rest_get_412(
    api, widened_policy_window
):
    url, headers = api
    first = requests.put(url + WORKSPACES, json={"meta": policy_meta(), "policy": {}},
                         headers=headers, timeout=30)  # fmt: skip
    version = first.headers["ETag"]
    writes = [
        ("PUT", WORKSPACES,
         {"meta": policy_meta(), "policy": {"rules": {field: {"required": True}}}},
         {"If-Match": version})
        for field in ("image", "command", "args", "workingDir")
    ]  # fmt: skip
    answers = race(writes, api)
    assert Counter(answer.status_code for answer in answers) == {200: 1, 412: 3}
    winner = next(answer for answer in answers if answer.status_code == 200)
    for refused in (answer for answer in answers if answer.status_code == 412):
        assert refused.json()["code"] == 412
        assert refused.headers["ETag"] == winner.headers["ETag"]
    stored = Policy.objects.get(workload_type="workspace", scope_key="tenant").document
    assert stored["rules"] == winner.json()["policy"]["rules"]


# --- service accounts --------------------------------------------------------------------------


def test_concurrent_creates_of_one_service_account_name_give_one_account(monkeypatch):
    snapshot.load(snapshot.read_file(DATA / "small.yaml"))
    create = ServiceAccount.create.__func__

    def slow_create(cls, name):
        time.sleep(WINDOW)  # every racer has found the name free
        return create(cls, name)

    monkeypatch.setattr(ServiceAccount, "create", classmethod(slow_create))
    start = threading.Barrier(4)
    outcomes: list = []

    def run():
        start.wait()
        try:
            call_command("create_service_account", "ci-bot", role="Viewer", scope="tenant",
                         stdout=io.StringIO())  # fmt: skip
            outcomes.append("created")
        except CommandError as error:
            outcomes.append(str(error))
        except Exception as error:  # noqa: BLE001 - what the test is about
            outcomes.append(f"{type(error).__name__}: {error}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["A service account named 'ci-bot' already exists."] * 3 + [
        "created"
    ]
    account = ServiceAccount.objects.get(name="ci-bot")
    # The losers' access rules went with their accounts: only the winner's is left.
    assert list(AccessRule.objects.filter(role="Viewer").values_list("subject", flat=True)) == [
        account.client_id
    ]
