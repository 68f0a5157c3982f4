"""What the form shows of a project's policies (compliance/form_hints.py): pure, no database."""

from envadmin.compliance.effective import merge
from envadmin.compliance.form_hints import field_hints

RESEARCH = {"scope": "department", "departmentId": "d1"}
TENANT = {"scope": "tenant"}
NAMES = {"d1": "department research", None: "tenant"}


def name(source):
    return NAMES[(source or {}).get("departmentId")]


def effective(rules=None, defaults=None, source=RESEARCH):
    return merge([(source, {"rules": rules or {}, "defaults": defaults or {}})])


PULL_NOT_NEVER = {
    "imagePullPolicy": {
        "options": [
            {"value": "IfNotPresent", "displayed": "If not present"},
            {"value": "Always", "displayed": "Always"},
        ]
    }
}


def test_options_a_policy_leaves_out_are_forbidden_with_their_source():
    hints = field_hints([("Workspace", effective(PULL_NOT_NEVER))], name)
    pull = hints["imagePullPolicy"]
    assert pull.forbidden("Never") == ["not allowed for Workspace by department research"]
    assert pull.forbidden("Always") == []
    assert pull.options[0].allowed[0] == ("IfNotPresent", "If not present")


def test_list_options_judge_each_item():
    rules = {"security": {"capabilities": {"options": [{"value": "SYS_PTRACE"}], "canEdit": True}}}
    capabilities = field_hints([("Training", effective(rules))], name)["capabilities"]
    assert capabilities.forbidden("NET_ADMIN") and not capabilities.forbidden("SYS_PTRACE")
    assert capabilities.locks == []  # canEdit: true said so


def test_numbers_show_their_range_and_who_sets_it():
    rules = {"security": {"runAsUid": {"min": 1000, "max": 65000, "step": 5}}}
    uid = field_hints([("Workspace", effective(rules))], name)["runAsUid"]
    assert (uid.min.value, uid.max.value, uid.step.value, uid.step.start) == (1000, 65000, 5, 1000)
    assert uid.range_text() == "between 1000 and 65000, in steps of 5 from 1000"
    assert [str(s) for s in uid.range_sources()] == ["Workspace: department research"]
    only_min = {"security": {"runAsUid": {"min": 1000}}}
    assert field_hints([("W", effective(only_min))], name)["runAsUid"].range_text() == (
        "1000 or more"
    )
    whole_steps = {"security": {"runAsUid": {"min": 1000, "step": 1}}}
    assert field_hints([("W", effective(whole_steps))], name)["runAsUid"].range_text() == (
        "1000 or more"
    )
    only_max = {"probes": {"readiness": {"periodSeconds": {"max": 8}}}}
    probe = field_hints([("W", effective(only_max))], name)["probes.readiness.periodSeconds"]
    assert probe.range_text() == "at most 8"


def test_a_locked_field_carries_its_fixed_value_and_the_scope_fixing_it():
    hints = field_hints(
        [("Workspace", effective({"security": {"hostNetwork": {"canEdit": False}}},
                                 {"security": {"hostNetwork": False}}))],
        name,
    )  # fmt: skip
    (lock,) = hints["hostNetwork"].locks
    assert (lock.value, lock.source.policy, lock.source.kind) == (
        False, "department research", "Workspace"
    )  # fmt: skip
    # A list rule without canEdit is locked (canEdit is false by default for lists).
    rules = {"security": {"capabilities": {"options": [{"value": "CHOWN"}]}}}
    (lock,) = field_hints([("Workspace", effective(rules))], name)["capabilities"].locks
    assert lock.value is None


def test_required_only_when_no_default_fills_it():
    rules = {"image": {"required": True}, "workingDir": {"required": True}}
    hints = field_hints([("Training", effective(rules, {"workingDir": "/work"}))], name)
    assert [str(s) for s in hints["image"].required] == ["Training: department research"]
    assert hints["workingDir"].required == []
    assert hints["workingDir"].default.value == "/work"


def test_defaults_are_offered_only_when_the_types_agree():
    one = effective(defaults={"imagePullPolicy": "IfNotPresent", "workingDir": "/a"})
    other = effective(defaults={"imagePullPolicy": "IfNotPresent", "workingDir": "/b"})
    hints = field_hints([("Workspace", one), ("Training", other)], name)
    assert hints["imagePullPolicy"].default.value == "IfNotPresent"
    assert hints["workingDir"].default is None
    assert {d.value for d in hints["workingDir"].defaults} == {"/a", "/b"}


def test_several_types_the_strictest_wins_and_each_reason_names_its_type():
    workspace = effective({"security": {"runAsUid": {"min": 1000, "max": 65000}}, **PULL_NOT_NEVER})
    training = merge([(TENANT, {"rules": {
        "security": {"runAsUid": {"min": 500, "max": 2000}},
        "imagePullPolicy": {"options": [{"value": "IfNotPresent"}]},
    }})])  # fmt: skip
    hints = field_hints([("Workspace", workspace), ("Training", training)], name)
    uid = hints["runAsUid"]
    assert (uid.min.value, str(uid.min.source)) == (1000, "Workspace: department research")
    assert (uid.max.value, str(uid.max.source)) == (2000, "Training: tenant")
    assert uid.range_text() == "between 1000 and 2000"
    pull = hints["imagePullPolicy"]
    assert pull.forbidden("Never") == [
        "not allowed for Workspace by department research",
        "not allowed for Training by tenant",
    ]
    assert pull.forbidden("Always") == ["not allowed for Training by tenant"]


def test_distributed_sections_are_named_by_replica():
    rules = {"master": {"security": {"runAsUid": {"min": 10}}},
             "worker": {"security": {"runAsUid": {"min": 20}}}}  # fmt: skip
    uid = field_hints([("Distributed", effective(rules))], name)["runAsUid"]
    assert (uid.min.value, uid.min.source.kind) == (20, "Distributed worker")


def test_environment_variables_rules_are_read():
    defaults = {"environmentVariables": {"instances": [{"name": "HTTPS_PROXY", "value": "x"}]}}
    rules = {"environmentVariables": {"instances": {"canAdd": False, "locked": ["HTTPS_PROXY"]}}}
    hint = field_hints([("Training", effective(rules, defaults))], name)["environmentVariables"]
    assert hint.can_add[0].value == ["HTTPS_PROXY"]
    assert hint.locked_items[0].value == ["HTTPS_PROXY"]


def test_no_policy_no_hints():
    assert field_hints([("Workspace", None), ("Training", {})], name) == {}
