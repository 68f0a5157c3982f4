"""The API list keeps verdicts across requests (compliance/verdicts.py): a kept verdict must
always be the one a fresh evaluation gives, whatever changed in between (policies, specs,
supported types, the org tree), and a warm list must not judge again."""

import json
import random

import pytest

from envadmin.compliance import verdicts
from envadmin.compliance.verdicts import Verdicts
from envadmin.inventory import documents
from envadmin.inventory.models import Department, Environment

from .test_list_fragments import ADMIN, built, demo, streamed  # noqa: F401 (demo: a fixture)

URL = "/api/v1/asset/environment"
WORKSPACE_P7 = {"usageInfo": "true", "complyToProject": "7", "complyToWorkloadType": "Workspace"}
KINDS = ("Workspace", "Training", "Inference", "Distributed")


@pytest.fixture
def fresh_verdicts(monkeypatch):
    """A cache of this test's own, so what it counts was judged here."""
    kept = Verdicts()
    monkeypatch.setattr("envadmin.backends.local_list.VERDICTS", kept)
    return kept


def api_list(client, params) -> dict:
    response = client.get(URL, params)
    assert response.status_code == 200
    return json.loads(b"".join(response.streaming_content))


def verdicts_of(answer) -> dict:
    return {e["meta"]["name"]: e["compliance"] for e in answer["entries"]}


def write_policy(client, method, kind, meta, policy):
    response = getattr(client, method)(
        f"/api/v2/policy/{kind}",
        data=json.dumps({"meta": {"name": "p", **meta}, "policy": policy}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content


def count_judged(monkeypatch) -> list:
    """Calls the list makes to read a spec for judging: one per verdict not found kept."""
    calls = []
    load_json = documents.load_json

    def counting(text):
        calls.append(text)
        return load_json(text)

    monkeypatch.setattr(documents, "load_json", counting)
    return calls


def test_a_warm_list_judges_nothing_and_answers_alike(demo, fresh_verdicts, monkeypatch):  # noqa: F811
    judged = count_judged(monkeypatch)
    first = streamed(WORKSPACE_P7)
    assert 0 < len(judged) <= len(first["entries"])
    judged.clear()
    again = streamed(WORKSPACE_P7)
    assert judged == []
    assert again == first == built(WORKSPACE_P7)


def test_a_policy_change_through_the_api_shows_in_the_next_list(demo, client_for):  # noqa: F811
    client = client_for()
    before = verdicts_of(api_list(client, WORKSPACE_P7))
    write_policy(client, "patch", "workspaces", {"scope": "tenant", "name": "tenant-ws"}, {
        "rules": {"workingDir": {"required": True}},
    })  # fmt: skip
    after = api_list(client, WORKSPACE_P7)
    assert after == built(WORKSPACE_P7)
    changed = [name for name, verdict in verdicts_of(after).items() if verdict != before[name]]
    assert changed, "the new rule must change some verdict, or this test proves nothing"
    assert any(
        r.get("field") == "workingDir" for v in verdicts_of(after).values() for r in v["reason"]
    )
    # Undone, the first verdicts come back (kept or judged, as a fresh evaluation says).
    write_policy(client, "put", "workspaces", {"scope": "tenant", "name": "tenant-ws"}, {})
    assert api_list(client, WORKSPACE_P7) == built(WORKSPACE_P7)


def test_imposing_an_environment_changes_its_verdict_only(demo, client_for):  # noqa: F811
    client = client_for()
    before = verdicts_of(api_list(client, WORKSPACE_P7))
    target = Environment.objects.get(name=sorted(before)[0])
    write_policy(client, "patch", "workspaces", {"scope": "tenant", "name": "tenant-ws"}, {
        "imposedAssets": [str(target.id)],
    })  # fmt: skip
    after = api_list(client, WORKSPACE_P7)
    assert after == built(WORKSPACE_P7)
    assert verdicts_of(after)[target.name]["imposed"] is True
    # Every other environment with the same spec and placement is still not imposed.
    assert sum(v["imposed"] for v in verdicts_of(after).values()) == sum(
        v["imposed"] for v in before.values()
    ) + (not before[target.name]["imposed"])


def test_a_supported_types_or_spec_change_shows_in_the_next_list(demo):  # noqa: F811
    env = Environment.objects.get(name="bare")
    before = verdicts_of(streamed(WORKSPACE_P7))["bare"]  # kept from here on
    env.supports_workspace = True
    env.save()
    supported = streamed(WORKSPACE_P7)
    assert supported == built(WORKSPACE_P7)
    assert verdicts_of(supported)["bare"] != before
    env.spec = {"image": "x:1", "hostNetwork": True}  # the tenant fixes it to false
    env.save()
    changed = streamed(WORKSPACE_P7)
    assert changed == built(WORKSPACE_P7)
    assert verdicts_of(changed)["bare"] != verdicts_of(supported)["bare"]


def test_a_renamed_department_shows_in_the_visibility_notes(demo):  # noqa: F811
    params = {"complyToProject": "1", "complyToWorkloadType": "Training"}
    streamed(params)  # warm
    Department.objects.filter(pk="d3").update(name="renamed-nlp")
    after = streamed(params)
    assert after == built(params)
    assert any(
        "renamed-nlp" in r["details"] for v in verdicts_of(after).values() for r in v["reason"]
    )


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("limit", [2, verdicts.LIMIT])
def test_random_changes_between_lists_answer_as_fresh_evaluations(demo, monkeypatch, seed, limit):  # noqa: F811
    """Specs drawn from a few values the policies rule, lists of every project and type, a
    cache kept across them (tiny, so entries are evicted and promoted, or of its full size)."""
    monkeypatch.setattr("envadmin.backends.local_list.VERDICTS", Verdicts(limit))
    draw = random.Random(seed)
    envs = list(Environment.objects.all())
    values = {
        "imagePullPolicy": ["Always", "IfNotPresent", None],
        "workingDir": ["/w", None],
        "runAsUid": [500, 2000, 2001, None],
        "hostNetwork": [True, False, None],
        "createHomeDir": [True, False, None],
    }
    for _ in range(3):
        for env in draw.sample(envs, 8):
            field = draw.choice(sorted(values))
            value = draw.choice(values[field])
            env.spec = (
                {**env.spec, field: value}
                if value is not None
                else {k: v for k, v in env.spec.items() if k != field}
            )
            env.save()
        for _ in range(3):
            params = {
                "complyToProject": str(draw.randint(1, 10)),
                "complyToWorkloadType": draw.choice(KINDS),
            }
            if params["complyToWorkloadType"] == "Distributed" and draw.random() < 0.5:
                params["complyToReplicaType"] = draw.choice(["Master", "Worker"])
            assert streamed(params) == built(params), params


def test_verdicts_stay_bounded_and_keep_what_is_read_again():
    kept = Verdicts(limit=10)
    for n in range(100):
        kept.put(b"k%d" % n, "v")
        assert len(kept) <= 10
    kept.put(b"hot", "h")
    for n in range(100, 200):
        kept.put(b"k%d" % n, "v")
        assert kept.get(b"hot") == "h"  # read again, it moves to the young generation
        assert len(kept) <= 10
    assert kept.get(b"k0") is None


def test_verdicts_stay_within_their_budget_of_distinct_texts():
    """Texts are counted once however many keys share them; distinct long ones swap the
    generations before the key limit does."""
    kept = Verdicts(limit=1000, budget=1000)
    shared = "x" * 100
    for n in range(400):
        kept.put(b"s%d" % n, shared)
    assert len(kept) == 400  # one text of 100 characters, under the budget's half
    for n in range(50):
        kept.put(b"d%d" % n, str(n).rjust(100, "y"))
        kept_texts = set(kept.young.texts) | set(kept.old.texts)
        assert sum(map(len, kept_texts)) <= 1000 + 100
    assert kept.get(b"s0") is None  # evicted by the distinct texts, not by the key count
    assert kept.get(b"d49") == "49".rjust(100, "y")


def test_a_digest_tells_lists_of_parts_apart():
    assert verdicts.hasher("ab", "c").digest() != verdicts.hasher("a", "bc").digest()
    assert verdicts.hasher("a").digest() == verdicts.hasher("a").digest()


def test_the_list_sees_another_callers_view_of_the_tree(demo):  # noqa: F811
    """Verdicts keyed by what the judge reads, not by who asks: a project member's list and an
    administrator's share kept verdicts and both answer as fresh evaluations."""
    from envadmin.accounts.access import Caller

    member = Caller("p7", "app", (("Environment administrator", "project:7"),))
    assert streamed(WORKSPACE_P7, ADMIN) == built(WORKSPACE_P7, ADMIN)
    assert streamed(WORKSPACE_P7, member) == built(WORKSPACE_P7, member)


def test_threads_sharing_verdicts_never_read_a_wrong_one():
    """gthread workers share one cache without a lock: a read finds the verdict put under its
    key or nothing, and the size stays bounded while generations swap under them."""
    import threading

    kept, wrong, sizes = Verdicts(limit=64), [], []

    def work(seed):
        draw = random.Random(seed)
        for _ in range(5000):
            n = draw.randrange(500)
            found = kept.get(b"k%d" % n)
            if found not in (None, f"v{n}"):
                wrong.append((n, found))
            kept.put(b"k%d" % n, f"v{n}")
            sizes.append(len(kept))

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
    assert max(sizes) <= 64 + len(threads)
