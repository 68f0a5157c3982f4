"""The compliance engine as a table (reference §5, "our rule"): pure, no database."""

import copy
import uuid

import pytest

from envadmin.compliance.effective import conflicts, merge
from envadmin.compliance.engine import compile_policy, evaluate

ENV_ID = "11111111-2222-4333-8444-555555555555"
OTHER_ID = "99999999-8888-4777-8666-555555555555"
DEPARTMENT = {"scope": "department", "departmentId": "d1"}
LABEL = "the policy of department X"
ALL_TYPES = {"workspace": True, "training": True, "distributed": True, "inference": True}


def label(source):
    return f"the policy of {source['scope']} X" if source else "no policy at all"


def effective(rules=None, defaults=None, imposed=None):
    """An effective policy with every rule coming from department d1."""
    document = {"rules": rules or {}, "defaults": defaults or {}}
    if imposed is not None:
        document["imposedAssets"] = imposed
    return merge([(DEPARTMENT, document)])


def environment(spec=None, types=None, env_id=ENV_ID):
    meta = {"id": env_id, "name": "env", "workloadSupportedTypes": types or ALL_TYPES}
    return {"meta": meta, "spec": spec or {}}


def judge(env, policy, workload_type="Workspace", replica_type=None, **kwargs):
    kwargs.setdefault("source_label", label)
    result = evaluate(env, policy, workload_type, replica_type, **kwargs)
    assert set(result) == {"imposed", "compliance", "reason"}
    assert result["compliance"] is (not result["reason"])
    return result


def row(id, spec, rules, defaults=None, expected=(), workload="Workspace", replica=None):
    """expected: [(field, rule, [substrings the details must contain])]; empty = compliant."""
    return pytest.param(spec, rules, defaults, list(expected), workload, replica, id=id)


OPTIONS = [
    {"value": "Always", "displayed": "Always"},
    {"value": "IfNotPresent", "displayed": "If not present"},
]
CAPABILITIES = [{"value": "CHOWN"}, {"value": "NET_ADMIN"}]
HOME = {"name": "HOME", "value": "/home/user"}
ENV_DEFAULTS = {"environmentVariables": {"instances": [HOME]}}


def caps(rule):
    return {"security": {"capabilities": rule}}


def sec(field, rule):
    return {"security": {field: rule}}


def readiness(field, rule):
    return {"probes": {"readiness": {field: rule}}}


def port(rule):
    return {"probes": {"readiness": {"handler": {"httpGet": {"port": rule}}}}}


def env_vars(instances):
    return {"environmentVariables": {"instances": instances}}


def probe_spec(**values):
    return {"probes": {"readiness": values}}


def port_spec(value):
    return {"probes": {"readiness": {"handler": {"httpGet": {"port": value}}}}}


TABLE = [
    # --- options on a scalar -------------------------------------------------------------
    row(
        "options: imagePullPolicy among the options passes",
        {"imagePullPolicy": "IfNotPresent"},
        {"imagePullPolicy": {"options": OPTIONS}},
    ),
    row(
        "options: imagePullPolicy outside the options fails",
        {"imagePullPolicy": "Never"},
        {"imagePullPolicy": {"options": OPTIONS}},
        expected=[("imagePullPolicy", "options", ["Never", "Always", "IfNotPresent"])],
    ),
    row(
        "options: an absent imagePullPolicy is not judged against the options",
        {},
        {"imagePullPolicy": {"options": OPTIONS}},
    ),
    row(
        "options: uidGidSource among the options passes",
        {"uidGidSource": "fromIdpToken"},
        sec("uidGidSource", {"options": [{"value": "fromTheImage"}, {"value": "fromIdpToken"}]}),
    ),
    row(
        "options: uidGidSource outside the options fails",
        {"uidGidSource": "custom"},
        sec("uidGidSource", {"options": [{"value": "fromTheImage"}, {"value": "fromIdpToken"}]}),
        expected=[("security.uidGidSource", "options", ["custom", "fromTheImage", "fromIdpToken"])],
    ),
    row(
        "options: seccompProfileType among the options passes",
        {"seccompProfileType": "RuntimeDefault"},
        sec("seccompProfileType", {"options": [{"value": "RuntimeDefault"}]}),
    ),
    row(
        "options: seccompProfileType outside the options fails",
        {"seccompProfileType": "Unconfined"},
        sec("seccompProfileType", {"options": [{"value": "RuntimeDefault"}]}),
        expected=[("security.seccompProfileType", "options", ["Unconfined", "RuntimeDefault"])],
    ),
    # --- options on an array -------------------------------------------------------------
    row(
        "options: capabilities all among the options pass",
        {"capabilities": ["CHOWN", "NET_ADMIN"]},
        caps({"options": CAPABILITIES, "canEdit": True}),
    ),
    row(
        "options: one capability outside the options fails naming that item",
        {"capabilities": ["CHOWN", "SYS_ADMIN"]},
        caps({"options": CAPABILITIES, "canEdit": True}),
        expected=[("security.capabilities", "options", ["SYS_ADMIN", "CHOWN", "NET_ADMIN"])],
    ),
    row(
        "options: each capability outside the options is its own reason",
        {"capabilities": ["SYS_ADMIN", "CHOWN", "SYS_TIME"]},
        caps({"options": CAPABILITIES, "canEdit": True}),
        expected=[
            ("security.capabilities", "options", ["SYS_ADMIN"]),
            ("security.capabilities", "options", ["SYS_TIME"]),
        ],
    ),
    # --- min / max / step ----------------------------------------------------------------
    row(
        "min: runAsUid below the minimum fails",
        {"runAsUid": 999},
        sec("runAsUid", {"min": 1000}),
        expected=[("security.runAsUid", "min", ["999", "1000"])],
    ),
    row(
        "min: runAsUid on the minimum passes",
        {"runAsUid": 1000},
        sec("runAsUid", {"min": 1000}),
    ),
    row(
        "min: runAsUid zero is a value and is below a minimum of one",
        {"runAsUid": 0},
        sec("runAsUid", {"min": 1}),
        expected=[("security.runAsUid", "min", ["is 0", "1"])],
    ),
    row(
        "max: runAsGid above the maximum fails",
        {"runAsGid": 2001},
        sec("runAsGid", {"max": 2000}),
        expected=[("security.runAsGid", "max", ["2001", "2000"])],
    ),
    row(
        "max: runAsGid on the maximum passes",
        {"runAsGid": 2000},
        sec("runAsGid", {"max": 2000}),
    ),
    row(
        "step: runAsUid off the step counted from min fails",
        {"runAsUid": 1005},
        sec("runAsUid", {"min": 1000, "max": 5000, "step": 10}),
        expected=[("security.runAsUid", "step", ["1005", "10", "1000"])],
    ),
    row(
        "step: runAsUid on the step counted from min passes",
        {"runAsUid": 1010},
        sec("runAsUid", {"min": 1000, "max": 5000, "step": 10}),
    ),
    row(
        "step: counted from min, not from zero",
        {"runAsUid": 1010},
        sec("runAsUid", {"min": 1003, "step": 10}),
        expected=[("security.runAsUid", "step", ["1010", "10", "1003"])],
    ),
    row(
        "step: min and max boundaries on the step pass",
        {"runAsUid": 5000},
        sec("runAsUid", {"min": 1000, "max": 5000, "step": 10}),
    ),
    row(
        "step: periodSeconds off a step without min (counted from zero) fails",
        probe_spec(periodSeconds=12),
        readiness("periodSeconds", {"step": 5}),
        expected=[("probes.readiness.periodSeconds", "step", ["12", "5"])],
    ),
    row(
        "step: periodSeconds on a step without min passes",
        probe_spec(periodSeconds=15),
        readiness("periodSeconds", {"step": 5}),
    ),
    row(
        "min/max: periodSeconds between bounds passes",
        probe_spec(periodSeconds=10),
        readiness("periodSeconds", {"min": 5, "max": 60}),
    ),
    row(
        "max: periodSeconds above the maximum fails",
        probe_spec(periodSeconds=61),
        readiness("periodSeconds", {"min": 5, "max": 60}),
        expected=[("probes.readiness.periodSeconds", "max", ["61", "60"])],
    ),
    row(
        "min: httpGet port below the minimum fails",
        port_spec(80),
        port({"min": 1024, "max": 65535}),
        expected=[("probes.readiness.handler.httpGet.port", "min", ["80", "1024"])],
    ),
    row(
        "max: httpGet port above the maximum fails",
        port_spec(70000),
        port({"min": 1024, "max": 65535}),
        expected=[("probes.readiness.handler.httpGet.port", "max", ["70000", "65535"])],
    ),
    row(
        "min/max: httpGet port on the boundaries passes",
        port_spec(65535),
        port({"min": 1024, "max": 65535}),
    ),
    row(
        "min/max: an absent integer is not judged",
        {},
        sec("runAsUid", {"min": 1000, "max": 2000, "step": 7}),
    ),
    # --- required ------------------------------------------------------------------------
    row(
        "required: image missing without a default fails",
        {},
        {"image": {"required": True}},
        expected=[("image", "required", ["image"])],
    ),
    row(
        "required: image missing with a policy default passes",
        {},
        {"image": {"required": True}},
        {"image": "nvcr.io/nvidia/pytorch:24.01-py3"},
    ),
    row(
        "required: image present passes",
        {"image": "python:3.12"},
        {"image": {"required": True}},
    ),
    row(
        "required: an empty command counts as missing",
        {"command": ""},
        {"command": {"required": True}},
        expected=[("command", "required", ["command"])],
    ),
    row(
        "required: command present passes",
        {"command": "python train.py"},
        {"command": {"required": True}},
    ),
    row(
        "required: runAsNonRoot missing without a default fails",
        {},
        sec("runAsNonRoot", {"required": True}),
        expected=[("security.runAsNonRoot", "required", ["security.runAsNonRoot"])],
    ),
    row(
        "required: runAsNonRoot false is a value and passes",
        {"runAsNonRoot": False},
        sec("runAsNonRoot", {"required": True}),
    ),
    row(
        "required: runAsNonRoot true passes",
        {"runAsNonRoot": True},
        sec("runAsNonRoot", {"required": True}),
    ),
    row(
        "required: runAsNonRoot missing with a default false passes",
        {},
        sec("runAsNonRoot", {"required": True}),
        {"security": {"runAsNonRoot": False}},
    ),
    # --- canEdit -------------------------------------------------------------------------
    row(
        "canEdit false: a value equal to the default passes",
        {"imagePullPolicy": "Always"},
        {"imagePullPolicy": {"canEdit": False}},
        {"imagePullPolicy": "Always"},
    ),
    row(
        "canEdit false: an absent value passes",
        {},
        {"imagePullPolicy": {"canEdit": False}},
        {"imagePullPolicy": "Always"},
    ),
    row(
        "canEdit false: a different value fails naming value and fixed default",
        {"imagePullPolicy": "IfNotPresent"},
        {"imagePullPolicy": {"canEdit": False}},
        {"imagePullPolicy": "Always"},
        expected=[("imagePullPolicy", "canEdit", ["IfNotPresent", "Always"])],
    ),
    row(
        "canEdit false: a value set where the policy has no default fails",
        {"workingDir": "/work"},
        {"workingDir": {"canEdit": False}},
        expected=[("workingDir", "canEdit", ["/work", "unset"])],
    ),
    row(
        "canEdit false: an integer different from the default fails",
        {"runAsUid": 1001},
        sec("runAsUid", {"canEdit": False}),
        {"security": {"runAsUid": 1000}},
        expected=[("security.runAsUid", "canEdit", ["1001", "1000"])],
    ),
    row(
        "canEdit true: a value different from the default passes",
        {"imagePullPolicy": "IfNotPresent"},
        {"imagePullPolicy": {"canEdit": True}},
        {"imagePullPolicy": "Always"},
    ),
    row(
        "canEdit default for a scalar is true",
        {"imagePullPolicy": "IfNotPresent"},
        {"imagePullPolicy": {"options": OPTIONS}},
        {"imagePullPolicy": "Always"},
    ),
    row(
        "canEdit default for an array is false: capabilities differing from the default fail",
        {"capabilities": ["CHOWN", "NET_ADMIN"]},
        caps({"options": CAPABILITIES}),
        {"security": {"capabilities": ["CHOWN"]}},
        expected=[("security.capabilities", "canEdit", ["NET_ADMIN", "CHOWN"])],
    ),
    row(
        "canEdit default for an array is false: capabilities equal to the default pass",
        {"capabilities": ["NET_ADMIN", "CHOWN"]},
        caps({"options": CAPABILITIES}),
        {"security": {"capabilities": ["CHOWN", "NET_ADMIN"]}},
    ),
    row(
        "canEdit true on an array: capabilities differing from the default pass",
        {"capabilities": ["CHOWN", "NET_ADMIN"]},
        caps({"options": CAPABILITIES, "canEdit": True}),
        {"security": {"capabilities": ["CHOWN"]}},
    ),
    row(
        "canEdit false: allowPrivilegeEscalation true against a default of false fails",
        {"allowPrivilegeEscalation": True},
        sec("allowPrivilegeEscalation", {"canEdit": False}),
        {"security": {"allowPrivilegeEscalation": False}},
        expected=[("security.allowPrivilegeEscalation", "canEdit", ["true", "false"])],
    ),
    row(
        "canEdit false: allowPrivilegeEscalation false equal to the default passes",
        {"allowPrivilegeEscalation": False},
        sec("allowPrivilegeEscalation", {"canEdit": False}),
        {"security": {"allowPrivilegeEscalation": False}},
    ),
    row(
        "canEdit false: hostNetwork absent passes",
        {},
        sec("hostNetwork", {"canEdit": False}),
        {"security": {"hostNetwork": False}},
    ),
    # --- environment variable instances --------------------------------------------------
    row(
        "canAdd false: a variable not among the default instances fails",
        {"environmentVariables": [HOME, {"name": "EXTRA", "value": "1"}]},
        env_vars({"canAdd": False}),
        ENV_DEFAULTS,
        expected=[("environmentVariables", "canAdd", ["EXTRA", "HOME"])],
    ),
    row(
        "canAdd false: each added variable is its own reason",
        {"environmentVariables": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
        env_vars({"canAdd": False}),
        ENV_DEFAULTS,
        expected=[
            ("environmentVariables", "canAdd", ["'A'"]),
            ("environmentVariables", "canAdd", ["'B'"]),
        ],
    ),
    row(
        "canAdd false: a variable among the default instances passes",
        {"environmentVariables": [{"name": "HOME", "value": "/other"}]},
        env_vars({"canAdd": False}),
        ENV_DEFAULTS,
    ),
    row(
        "canAdd false: an added variable that is excluded passes",
        {"environmentVariables": [{"name": "EXTRA", "exclude": True}]},
        env_vars({"canAdd": False}),
        ENV_DEFAULTS,
    ),
    row(
        "canAdd false without default instances: any variable fails",
        {"environmentVariables": [{"name": "EXTRA", "value": "1"}]},
        env_vars({"canAdd": False}),
        expected=[("environmentVariables", "canAdd", ["EXTRA", "none"])],
    ),
    row(
        "locked: excluding a locked variable fails",
        {"environmentVariables": [{"name": "HOME", "exclude": True}]},
        env_vars({"locked": ["HOME"]}),
        ENV_DEFAULTS,
        expected=[("environmentVariables", "locked", ["HOME"])],
    ),
    row(
        "locked: a locked variable present and not excluded passes",
        {"environmentVariables": [{"name": "HOME", "value": "/x", "exclude": False}]},
        env_vars({"locked": ["HOME"]}),
        ENV_DEFAULTS,
    ),
    row(
        "locked: excluding a variable that is not locked passes",
        {"environmentVariables": [{"name": "OTHER", "exclude": True}]},
        env_vars({"locked": ["HOME"]}),
        ENV_DEFAULTS,
    ),
    row(
        "canAdd default is true: an added variable passes",
        {"environmentVariables": [{"name": "EXTRA", "value": "1"}]},
        env_vars({"locked": ["HOME"]}),
        ENV_DEFAULTS,
    ),
    row(
        "canAdd true: an added variable passes",
        {"environmentVariables": [{"name": "EXTRA", "value": "1"}]},
        env_vars({"canAdd": True}),
        ENV_DEFAULTS,
    ),
    # --- several violations, unrelated fields --------------------------------------------
    row(
        "several violations give several reasons",
        {"imagePullPolicy": "Never", "runAsUid": 5},
        {
            "image": {"required": True},
            "imagePullPolicy": {"options": OPTIONS},
            "security": {"runAsUid": {"min": 1000}},
        },
        expected=[
            ("image", "required", ["image"]),
            ("imagePullPolicy", "options", ["Never"]),
            ("security.runAsUid", "min", ["5", "1000"]),
        ],
    ),
    row(
        "rules on fields that do not concern environments give no reasons",
        {"image": "python:3.12", "compute": {"gpuDevicesRequest": 8}},
        {
            "compute": {"gpuDevicesRequest": {"max": 1, "required": True}},
            "storage": {"pvc": {"instances": {"canAdd": False}}},
            "nodePools": {"canEdit": False},
        },
        {"compute": {"gpuDevicesRequest": 1}},
    ),
    # --- distributed: worker versus master -----------------------------------------------
    row(
        "distributed Worker: only worker rules apply, prefixed worker.",
        {"runAsUid": 5},
        {
            "worker": {"image": {"required": True}},
            "master": {"security": {"runAsUid": {"min": 1000}}},
        },
        expected=[("worker.image", "required", ["image"])],
        workload="Distributed",
        replica="Worker",
    ),
    row(
        "distributed Master: only master rules apply, prefixed master.",
        {"runAsUid": 5},
        {
            "worker": {"image": {"required": True}},
            "master": {"security": {"runAsUid": {"min": 1000}}},
        },
        expected=[("master.security.runAsUid", "min", ["5", "1000"])],
        workload="Distributed",
        replica="Master",
    ),
    row(
        "distributed without a replica type: both sections are judged",
        {"runAsUid": 5},
        {
            "worker": {"image": {"required": True}},
            "master": {"security": {"runAsUid": {"min": 1000}}},
        },
        expected=[
            ("worker.image", "required", ["image"]),
            ("master.security.runAsUid", "min", ["5", "1000"]),
        ],
        workload="Distributed",
    ),
    row(
        "distributed Worker: the worker default satisfies a worker required rule",
        {},
        {"worker": {"image": {"required": True}}},
        {"worker": {"image": "python:3.12"}},
        workload="Distributed",
        replica="Worker",
    ),
    row(
        "distributed Master: a master default does not satisfy a worker required rule",
        {},
        {"worker": {"image": {"required": True}}, "master": {"image": {"required": True}}},
        {"master": {"image": "python:3.12"}},
        expected=[("worker.image", "required", ["image"])],
        workload="Distributed",
    ),
    row(
        "distributed Worker: canEdit compares with the worker default",
        {"imagePullPolicy": "IfNotPresent"},
        {"worker": {"imagePullPolicy": {"canEdit": False}}},
        {"worker": {"imagePullPolicy": "Always"}, "master": {"imagePullPolicy": "IfNotPresent"}},
        expected=[("worker.imagePullPolicy", "canEdit", ["IfNotPresent", "Always"])],
        workload="Distributed",
        replica="Worker",
    ),
]


@pytest.mark.parametrize("spec, rules, defaults, expected, workload, replica", TABLE)
def test_engine_judges_each_rule_as_the_table_says(
    spec, rules, defaults, expected, workload, replica
):
    result = judge(environment(spec), effective(rules, defaults), workload, replica)
    got = sorted((r.get("field"), r.get("rule")) for r in result["reason"])
    assert got == sorted((field, rule) for field, rule, _ in expected), result["reason"]
    assert result["compliance"] is (not expected)
    assert result["imposed"] is False
    for field, rule, words in expected:
        candidates = [r for r in result["reason"] if (r["field"], r["rule"]) == (field, rule)]
        assert any(all(word in r["details"] for word in words) for r in candidates), (
            f"no {field}/{rule} reason names {words}: {candidates}"
        )
    for reason in result["reason"]:
        assert LABEL in reason["details"], reason
        assert reason["rule"] in {
            "min",
            "max",
            "step",
            "options",
            "required",
            "canEdit",
            "canAdd",
            "locked",
        }


@pytest.mark.parametrize(
    "policy",
    [
        pytest.param({}, id="empty dict"),
        pytest.param(None, id="None"),
        pytest.param(merge([]), id="merge of an empty chain"),
        pytest.param(effective(), id="policy without rules or defaults"),
        pytest.param({"defaults": {"image": "x"}, "rules": {}}, id="defaults but no rules"),
    ],
)
def test_an_empty_policy_is_complied_with_and_imposes_nothing(policy):
    result = judge(environment({"image": "python:3.12", "runAsUid": 0}), policy)
    assert result == {"imposed": False, "compliance": True, "reason": []}


@pytest.mark.parametrize("replica", [None, "Worker", "Master"])
def test_an_empty_distributed_policy_is_complied_with(replica):
    result = judge(environment({"image": "python:3.12"}), {}, "Distributed", replica)
    assert result == {"imposed": False, "compliance": True, "reason": []}


@pytest.mark.parametrize(
    "workload_type, supported",
    [
        pytest.param("Training", {"workspace": True, "training": False}, id="training is false"),
        pytest.param("Training", {"workspace": True}, id="training is absent"),
        pytest.param("Inference", {"workspace": True, "training": True}, id="inference"),
        pytest.param("Distributed", {"workspace": True}, id="distributed"),
        pytest.param("Workspace", {"training": True}, id="workspace"),
    ],
)
def test_a_workload_type_the_environment_does_not_support_is_a_reason_without_field(
    workload_type, supported
):
    result = judge(environment({"image": "x"}, types=supported), {}, workload_type)
    assert result["compliance"] is False
    [reason] = result["reason"]
    assert "field" not in reason and "rule" not in reason
    assert workload_type in reason["details"]


@pytest.mark.parametrize("workload_type", ["Workspace", "Training", "Distributed", "Inference"])
def test_a_supported_workload_type_gives_no_type_reason(workload_type):
    result = judge(environment({"image": "x"}), {}, workload_type)
    assert result == {"imposed": False, "compliance": True, "reason": []}


def test_an_unsupported_type_adds_to_the_policy_reasons():
    env = environment({}, types={"workspace": True})
    result = judge(env, effective({"image": {"required": True}}), "Training")
    assert sorted((r.get("field") or "", r.get("rule") or "") for r in result["reason"]) == [
        ("", ""),
        ("image", "required"),
    ]


def test_an_environment_the_project_cannot_see_is_a_reason_naming_the_note():
    note = "it belongs to department d9, outside project p1's chain."
    result = judge(environment({"image": "x"}), {}, visible=False, visibility_note=note)
    assert result["compliance"] is False and result["imposed"] is False
    [reason] = result["reason"]
    assert "field" not in reason and "rule" not in reason
    assert note in reason["details"]


def test_an_invisible_environment_without_a_note_still_gets_a_sentence():
    result = judge(environment({"image": "x"}), {}, visible=False)
    [reason] = result["reason"]
    assert "field" not in reason and reason["details"].strip()


@pytest.mark.parametrize(
    "imposed, expected",
    [
        pytest.param([ENV_ID], True, id="id in imposedAssets"),
        pytest.param([OTHER_ID, ENV_ID], True, id="id among others"),
        pytest.param([OTHER_ID], False, id="another id only"),
        pytest.param([], False, id="empty imposedAssets"),
        pytest.param(None, False, id="no imposedAssets"),
    ],
)
def test_imposed_is_true_only_when_the_id_is_in_imposed_assets(imposed, expected):
    result = judge(environment({"image": "x"}), effective(imposed=imposed))
    assert result["imposed"] is expected
    assert result["compliance"] is True


def test_an_environment_without_id_is_never_imposed():
    env = environment({"image": "x"}, env_id=None)
    assert judge(env, {"imposedAssets": [None]})["imposed"] is False


def test_imposed_does_not_change_compliance():
    policy = effective({"image": {"required": True}}, imposed=[ENV_ID])
    result = judge(environment({}), policy)
    assert result["imposed"] is True
    assert result["compliance"] is False
    assert [(r["field"], r["rule"]) for r in result["reason"]] == [("image", "required")]


@pytest.mark.parametrize(
    "imposed, replica, expected",
    [
        pytest.param({"worker": [ENV_ID]}, "Worker", True, id="worker section, Worker"),
        pytest.param({"worker": [ENV_ID]}, "Master", False, id="worker section, Master"),
        pytest.param({"master": [ENV_ID]}, "Master", True, id="master section, Master"),
        pytest.param({"worker": [ENV_ID]}, None, True, id="worker section, no replica type"),
        pytest.param({"worker": [OTHER_ID]}, None, False, id="another id, no replica type"),
        pytest.param([ENV_ID], "Worker", False, id="flat list is not a section"),
    ],
)
def test_distributed_imposed_assets_are_per_section(imposed, replica, expected):
    result = judge(environment({"image": "x"}), effective(imposed=imposed), "Distributed", replica)
    assert result["imposed"] is expected
    assert result["compliance"] is True


def test_a_workspace_does_not_read_distributed_sections_of_imposed_assets():
    result = judge(environment({"image": "x"}), effective(imposed={"worker": [ENV_ID]}))
    assert result["imposed"] is False


def test_the_default_source_label_names_the_scope_and_node():
    result = evaluate(environment({}), effective({"image": {"required": True}}), "Workspace")
    [reason] = result["reason"]
    assert "the department policy of d1" in reason["details"]


def test_the_source_label_receives_the_source_of_rule():
    seen = []

    def remember(source):
        seen.append(source)
        return "SOURCE"

    evaluate(
        environment({}),
        effective({"image": {"required": True}}),
        "Workspace",
        source_label=remember,
    )
    assert DEPARTMENT in seen


# --- merge and conflicts ----------------------------------------------------------------

TENANT = {"scope": "tenant"}
CLUSTER = {"scope": "cluster", "clusterId": "c1"}
PROJECT = {"scope": "project", "projectId": "7"}


def test_merge_keeps_each_rules_own_source_of_rule():
    merged = merge(
        [
            (TENANT, {"rules": {"image": {"required": True}}}),
            (DEPARTMENT, {"rules": {"security": {"runAsUid": {"min": 1000}}}}),
            (PROJECT, {"rules": {"imagePullPolicy": {"options": OPTIONS}}}),
        ]
    )
    rules = merged["rules"]
    assert rules["image"] == {"required": True, "sourceOfRule": TENANT}
    assert rules["security"]["runAsUid"] == {"min": 1000, "sourceOfRule": DEPARTMENT}
    assert rules["imagePullPolicy"]["sourceOfRule"] == PROJECT
    assert rules["imagePullPolicy"]["options"] == OPTIONS


def test_merge_does_not_write_source_of_rule_into_the_given_documents():
    document = {"rules": {"image": {"required": True}}}
    merge([(TENANT, document)])
    assert document == {"rules": {"image": {"required": True}}}


def test_merge_keeps_the_higher_rule_when_a_field_is_ruled_twice():
    merged = merge(
        [
            (TENANT, {"rules": {"image": {"required": True}}}),
            (PROJECT, {"rules": {"image": {"canEdit": False}}}),
        ]
    )
    assert merged["rules"]["image"] == {"required": True, "sourceOfRule": TENANT}


def test_merge_defaults_lowest_node_wins_deeply():
    merged = merge(
        [
            (TENANT, {"defaults": {"security": {"runAsUid": 1000, "runAsGid": 100}}}),
            (DEPARTMENT, {"defaults": {"image": "python:3.11"}}),
            (PROJECT, {"defaults": {"security": {"runAsUid": 2000}, "image": "python:3.12"}}),
        ]
    )
    assert merged["defaults"] == {
        "security": {"runAsUid": 2000, "runAsGid": 100},
        "image": "python:3.12",
    }


def test_merge_defaults_ignore_null_and_replace_lists_whole():
    merged = merge(
        [
            (TENANT, {"defaults": {"image": "a", "security": {"capabilities": ["CHOWN", "KILL"]}}}),
            (PROJECT, {"defaults": {"image": None, "security": {"capabilities": ["NET_ADMIN"]}}}),
        ]
    )
    assert merged["defaults"] == {"image": "a", "security": {"capabilities": ["NET_ADMIN"]}}


def test_merge_unions_imposed_assets_along_the_chain():
    merged = merge(
        [
            (TENANT, {"imposedAssets": ["a"]}),
            (CLUSTER, {}),
            (DEPARTMENT, {"imposedAssets": ["b", "a"]}),
            (PROJECT, {"imposedAssets": ["c"]}),
        ]
    )
    assert merged["imposedAssets"] == ["a", "b", "c"]


def test_merge_unions_distributed_imposed_assets_per_section():
    merged = merge(
        [
            (TENANT, {"imposedAssets": {"worker": ["a"]}}),
            (PROJECT, {"imposedAssets": {"worker": ["b", "a"], "master": ["m"]}}),
        ]
    )
    assert merged["imposedAssets"] == {"worker": ["a", "b"], "master": ["m"]}


def test_merge_without_imposed_assets_has_none():
    merged = merge([(TENANT, {"rules": {}})])
    assert "imposedAssets" not in merged
    assert merged == {"defaults": {}, "rules": {}}


def test_merge_keeps_distributed_sections_apart():
    merged = merge(
        [
            (TENANT, {"rules": {"worker": {"image": {"required": True}}}}),
            (PROJECT, {"rules": {"master": {"image": {"canEdit": False}}}}),
        ]
    )
    assert merged["rules"]["worker"]["image"]["sourceOfRule"] == TENANT
    assert merged["rules"]["master"]["image"]["sourceOfRule"] == PROJECT


def test_a_merged_chain_feeds_the_engine_with_each_rules_source():
    policy = merge(
        [
            (TENANT, {"rules": {"image": {"required": True}}}),
            (PROJECT, {"rules": {"security": {"runAsUid": {"min": 1000}}}}),
        ]
    )
    result = judge(environment({"runAsUid": 1}), policy)
    details = {r["field"]: r["details"] for r in result["reason"]}
    assert "the policy of tenant X" in details["image"]
    assert "the policy of project X" in details["security.runAsUid"]


def test_conflicts_finds_a_field_ruled_by_another_policy():
    new = {"image": {"required": True}, "security": {"runAsUid": {"min": 1}}}
    others = [
        ("tenant", {"image": {"canEdit": False}}),
        ("project 7", {"security": {"runAsUid": {"max": 9}, "runAsGid": {"min": 1}}}),
    ]
    assert conflicts(new, others) == [("image", "tenant"), ("security.runAsUid", "project 7")]


def test_conflicts_ignores_unrelated_fields():
    new = {"security": {"runAsUid": {"min": 1}}, "worker": {"image": {"required": True}}}
    others = [
        ("tenant", {"security": {"runAsGid": {"min": 1}}, "image": {"required": True}}),
        ("cluster c1", {"master": {"image": {"required": True}}}),
        ("project 7", {}),
    ]
    assert conflicts(new, others) == []


def test_conflicts_with_no_other_policies_is_empty():
    assert conflicts({"image": {"required": True}}, []) == []


# An itemized field (storage.pvc, ports, tolerations, ...) has rules under both `instances`
# and `attributes`; `instances` is a RULE_KEY, so policy_paths.flatten_rules keeps the whole
# {instances, attributes} object as ONE rule at `storage.pvc` instead of flattening
# `storage.pvc.attributes.claimName` to its own path.
PVC_INSTANCES = {"storage": {"pvc": {"instances": {"canAdd": False}}}}
PVC_CLAIM_REQUIRED = {"storage": {"pvc": {"attributes": {"claimName": {"required": True}}}}}
PVC_BOTH = {
    "storage": {
        "pvc": {
            "instances": {"canAdd": False},
            "attributes": {"claimName": {"required": True}},
        }
    }
}
PVC_CLAIM_FIXED = {"storage": {"pvc": {"attributes": {"claimName": {"canEdit": False}}}}}


def test_merge_keeps_a_higher_attribute_rule_when_a_lower_node_rules_the_instances():
    merged = merge([(TENANT, {"rules": PVC_CLAIM_REQUIRED}), (PROJECT, {"rules": PVC_INSTANCES})])
    claim = merged["rules"]["storage"]["pvc"].get("attributes", {}).get("claimName")
    assert claim == {"required": True, "sourceOfRule": TENANT}


def test_conflicts_finds_an_attribute_rule_held_inside_an_itemized_rule():
    assert conflicts(PVC_CLAIM_FIXED, [("tenant", PVC_BOTH)]) == [
        ("storage.pvc.attributes.claimName", "tenant")
    ]


def test_merge_neither_lets_a_lower_attribute_rule_win_nor_mutates_the_higher_document():
    tenant = {"rules": copy.deepcopy(PVC_BOTH)}
    merged = merge([(TENANT, tenant), (PROJECT, {"rules": PVC_CLAIM_FIXED})])
    assert tenant == {"rules": PVC_BOTH}
    claim = merged["rules"]["storage"]["pvc"]["attributes"]["claimName"]
    assert claim["sourceOfRule"] == TENANT


def test_boolean_options_match_their_json_spelling():
    both = {"options": [{"value": "true"}, {"value": "false"}]}
    only_false = {"options": [{"value": "false"}]}
    effective = merge([({"scope": "tenant"}, {"rules": {"stdin": both, "tty": only_false}})])
    environment = {"meta": {"workloadSupportedTypes": {"workspace": True}},
                   "spec": {"stdin": True, "tty": True}}  # fmt: skip
    result = evaluate(environment, effective, "Workspace")
    assert [(r["field"], r["rule"]) for r in result["reason"]] == [("tty", "options")]


# --- a compiled policy judges many environments, sharing judgements of equal values ----------


def with_uid(uid, types=None):
    """An environment of its own id, so a shared judgement cannot be told by the id."""
    return environment({"image": "img", "runAsUid": uid}, types or {"workspace": True},
                       str(uuid.uuid4()))  # fmt: skip


def test_judgements_shared_between_environments_keep_values_of_other_types_apart():
    judge_all = compile_policy({"rules": {"security": {"runAsUid": {"min": 5}}}}, "Workspace")
    low, boolean, low_again = (
        judge_all(
            environment({"image": "img", "runAsUid": v}, {"workspace": True}, str(uuid.uuid4()))
        )
        for v in (1, True, 1)
    )
    assert [r["rule"] for r in low["reason"]] == ["min"]
    assert boolean["compliance"] and boolean["reason"] == []  # True is not the number 1
    assert low_again == low and low_again["reason"] is not low["reason"]
    unsupported = judge_all(
        environment({"image": "img", "runAsUid": 1}, {"training": True}, str(uuid.uuid4()))
    )
    assert (
        len(unsupported["reason"]) == 2
        and "does not support" in unsupported["reason"][0]["details"]
    )
