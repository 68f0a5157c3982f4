"""Policy rules and defaults in plain language (envadmin.contract.policy_text)."""

import pytest

from envadmin.contract.policy_text import default_items, field_label, plain, rule_text

PULL = ["Always", "Never", "IfNotPresent"]


@pytest.mark.parametrize(
    ("rule", "known", "text"),
    [
        ({"required": True}, None, "required"),
        ({"required": False}, None, "no constraint"),
        ({"canEdit": False}, None, "fixed: cannot be edited"),
        ({"canEdit": True}, None, "can be edited"),
        ({"max": 4}, None, "at most 4"),
        ({"min": 1000}, None, "at least 1000"),
        ({"min": 0}, None, "at least 0"),
        ({"min": 1, "max": 8}, None, "between 1 and 8"),
        ({"min": 1, "max": 8, "step": 2}, None, "between 1 and 8, in steps of 2"),
        ({"step": 30}, None, "in steps of 30"),
        ({"min": 1000, "max": 65000, "step": 1}, None, "between 1000 and 65000"),
        (
            {"options": [{"value": "IfNotPresent", "displayed": "If not present"},
                         {"value": "Always"}]},
            None,
            "one of: If not present, Always",
        ),
        (
            {"options": [{"value": "IfNotPresent", "displayed": "If not present"},
                         {"value": "Always", "displayed": "Always"}]},
            PULL,
            "one of: If not present, Always; not allowed: Never",
        ),
        ({"options": []}, PULL, "no value allowed"),
        ({"options": ["a", "b"]}, None, "one of: a, b"),
        ({"canAdd": False}, None, "no entries may be added beyond the defaults"),
        ({"canAdd": True}, None, "entries may be added"),
        ({"locked": ["HTTPS_PROXY", "NO_PROXY"]}, None, "cannot be removed: HTTPS_PROXY, NO_PROXY"),
        ({"defaultFrom": {"field": "image"}}, None, "default taken from image"),
        ({"sourceOfRule": {"scope": "tenant"}}, None, "no constraint"),
        ({}, None, "no constraint"),
        ({"future": {"a": [1, True]}}, None, "future: a 1, yes"),
        # Combinations keep a fixed, readable order.
        ({"max": 8, "required": True, "canEdit": False}, None,
         "required; fixed: cannot be edited; at most 8"),
        ({"canAdd": False, "locked": ["HTTPS_PROXY"]}, None,
         "no entries may be added beyond the defaults; cannot be removed: HTTPS_PROXY"),
        ({"options": [{"value": "IPC_LOCK"}], "canEdit": True, "required": True}, None,
         "required; can be edited; one of: IPC_LOCK"),
    ],
)  # fmt: skip
def test_rule_text(rule, known, text):
    assert rule_text(rule, known) == text


def test_a_long_list_of_refused_values_is_not_spelled_out():
    capabilities = [f"CAP_{n}" for n in range(30)]
    assert rule_text({"options": [{"value": "CAP_1"}]}, capabilities) == "one of: CAP_1"


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("imagePullPolicy", "Pull policy"),
        ("security.runAsUid", "User id (uid)"),
        ("worker.security.capabilities", "Worker: Capabilities"),
        ("master.workingDir", "Master: Working directory"),
        ("environmentVariables.instances", "Environment variables"),
        ("compute.gpuDevicesRequest", "GPU devices"),
        ("worker.compute.gpuDevicesRequest", "Worker: GPU devices"),
        ("storage.pvc.instances", "storage.pvc.instances"),
        ("worker.storage.pvc.instances", "Worker: storage.pvc.instances"),
    ],
)
def test_field_labels(path, label):
    assert field_label(path) == label


def test_defaults_are_labelled_pairs_in_words():
    defaults = {
        "security": {"hostNetwork": False},
        "imagePullPolicy": "IfNotPresent",
        "compute": {"gpuDevicesRequest": 1},
        "environmentVariables": {
            "instances": [
                {"name": "HTTPS_PROXY", "value": "http://proxy:3128"},
                {"name": "NO_PROXY", "value": ".svc,.local"},
                {"name": "POD_NAME", "podFieldRef": {"path": "metadata.name"}},
                {"name": "OLD", "exclude": True},
            ]
        },
    }
    assert default_items(defaults) == [
        ("compute.gpuDevicesRequest", "GPU devices", ["1"]),
        ("environmentVariables", "Environment variables", [
            "HTTPS_PROXY = http://proxy:3128", "NO_PROXY = .svc,.local",
            "POD_NAME from pod field metadata.name", "OLD (excluded)",
        ]),
        ("imagePullPolicy", "Pull policy", ["IfNotPresent"]),
        ("security.hostNetwork", "Host network", ["no"]),
    ]  # fmt: skip


def test_nothing_in_words_looks_like_code():
    odd = {"a": {"b": ["x", {"c": None}]}, "d": True}
    assert not set(plain(odd)) & set("{}[]'\"")
    assert default_items({}) == []
