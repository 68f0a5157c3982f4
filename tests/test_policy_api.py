"""The policy API (policy.openapi.json) and effective policies along a chain."""

import json

import pytest

from envadmin.contract.errors import InvalidRequest
from envadmin.contract.policy import validate_policy
from envadmin.policies.models import Policy

from .conftest import C1
from .contract import assert_matches_contract

BASE = "/api/v2/policy"


def put(client, kind, body, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.put(
        f"{BASE}/{kind}" + (f"?{query}" if query else ""),
        data=json.dumps(body),
        content_type="application/json",
    )


def patch(client, kind, body):
    return client.patch(f"{BASE}/{kind}", data=json.dumps(body), content_type="application/json")


def ok(response, status=200):
    assert response.status_code == status, response.content
    assert_matches_contract("policy", response)
    return response.json() if response.content else None


def meta(scope, **ids):
    return {"name": f"{scope}-policy", "scope": scope, **ids}


@pytest.fixture
def chain(org, admin):
    """Workspace policies at tenant, cluster c1, department d1 and project 7."""
    ok(put(admin, "workspaces", {"meta": meta("tenant"), "policy": {
        "defaults": {"imagePullPolicy": "IfNotPresent", "security": {"runAsUid": 1000}},
        "rules": {"imagePullPolicy": {"options": [{"value": "IfNotPresent"}]}},
    }}))  # fmt: skip
    ok(put(admin, "workspaces", {"meta": meta("cluster", clusterId=C1), "policy": {
        "rules": {"security": {"runAsUid": {"min": 1000, "max": 60000}}},
        "defaults": {"security": {"runAsUid": 2000}},
    }}))  # fmt: skip
    ok(put(admin, "workspaces", {"meta": meta("department", departmentId="d1"), "policy": {
        "rules": {"image": {"required": True}, "compute": {"gpuDevicesRequest": {"max": 2}}},
        "defaults": {"security": {"runAsUid": 3000}},
    }}))  # fmt: skip
    ok(put(admin, "workspaces", {"meta": meta("project", projectId=7), "policy": {
        "rules": {"environmentVariables": {"instances": {"canAdd": False, "locked": ["HOME"]}}},
        "defaults": {"environmentVariables": {"instances": [{"name": "HOME", "value": "/h"}]}},
    }}))  # fmt: skip
    return admin


def test_the_effective_policy_merges_the_chain_with_each_rules_source(chain):
    body = ok(chain.get(f"{BASE}/workspaces", {"scope": "project", "projectId": "7"}))
    rules = body["effective"]["rules"]
    assert rules["imagePullPolicy"]["sourceOfRule"] == {"scope": "tenant"}
    assert rules["security"]["runAsUid"] == {
        "min": 1000, "max": 60000, "sourceOfRule": {"scope": "cluster", "clusterId": C1},
    }  # fmt: skip
    assert rules["image"]["sourceOfRule"] == {"scope": "department", "departmentId": "d1"}
    assert rules["compute"]["gpuDevicesRequest"]["max"] == 2  # kept though no env field
    instances = rules["environmentVariables"]["instances"]
    assert instances["sourceOfRule"] == {"scope": "project", "projectId": 7}
    defaults = body["effective"]["defaults"]
    assert defaults["security"]["runAsUid"] == 3000  # the lowest node's default wins
    assert defaults["imagePullPolicy"] == "IfNotPresent"
    assert body["policy"]["rules"]["environmentVariables"]["instances"]["locked"] == ["HOME"]
    assert body["meta"]["scope"] == "project" and body["meta"]["projectId"] == 7


def test_a_node_sees_only_its_own_chain(chain):
    other = ok(chain.get(f"{BASE}/workspaces", {"scope": "project", "projectId": "9"}))
    assert "environmentVariables" not in other["effective"]["rules"]
    assert "image" not in other["effective"]["rules"]  # d1's rule, and 9 is in d2
    assert other["effective"]["defaults"]["security"]["runAsUid"] == 2000
    assert other["policy"] is None and "meta" not in other


def test_policies_are_per_workload_type(chain):
    training = ok(chain.get(f"{BASE}/trainings", {"scope": "project", "projectId": "7"}))
    assert training["effective"]["rules"] == {}


@pytest.mark.parametrize(
    "node, rules, holder",
    [
        (meta("project", projectId=8), {"image": {"required": False}}, "department 'research'"),
        (meta("department", departmentId="d1"), {"security": {"runAsUid": {"step": 2}}}, "c1"),
        (meta("cluster", clusterId=C1), {"environmentVariables": {"instances": {}}}, "team-a"),
        (meta("tenant"), {"image": {"canEdit": False}}, "department 'research'"),
    ],
)
def test_a_rule_already_held_up_or_down_the_branch_is_a_400(chain, node, rules, holder):
    before = list(Policy.objects.values_list("scope_key", "document"))
    response = put(chain, "workspaces", {"meta": node, "policy": {"rules": rules}})
    assert response.status_code == 400
    assert_matches_contract("policy", response)
    message = response.json()["message"]
    assert message.startswith("policy.rules.") and holder in message
    assert list(Policy.objects.values_list("scope_key", "document")) == before


def test_a_sibling_may_rule_the_same_field(chain):
    ok(put(chain, "workspaces", {"meta": meta("department", departmentId="d2"), "policy": {
        "rules": {"image": {"required": True}}}}))  # fmt: skip
    assert Policy.objects.filter(scope_key="department:d2").exists()


def test_put_overwrites_and_patch_merges_and_resets(chain):
    body = ok(patch(chain, "workspaces", {"meta": meta("project", projectId=7), "policy": {
        "rules": {"workingDir": {"canEdit": False}}}}))  # fmt: skip
    rules = body["policy"]["rules"]
    assert "environmentVariables" in rules and rules["workingDir"] == {"canEdit": False}
    body = ok(patch(chain, "workspaces", {"meta": meta("project", projectId=7),
                                          "reset": ["environmentVariables"]}))  # fmt: skip
    assert "environmentVariables" not in body["policy"]["rules"]
    assert "environmentVariables" not in body["policy"].get("defaults", {})
    body = ok(put(chain, "workspaces", {"meta": meta("project", projectId=7), "policy": {
        "rules": {"args": {"required": True}}}}))  # fmt: skip
    assert body["policy"]["rules"] == {"args": {"required": True}}


def test_validate_only_checks_without_saving(chain):
    body = ok(put(chain, "workspaces", {"meta": meta("project", projectId=8), "policy": {
        "rules": {"args": {"required": True}}}}, validateOnly="true"))  # fmt: skip
    assert body["policy"]["rules"] == {"args": {"required": True}}
    assert not Policy.objects.filter(scope_key="project:8").exists()
    bad = put(chain, "workspaces", {"meta": meta("project", projectId=8), "policy": {
        "rules": {"image": {"required": True}}}}, validateOnly="true")  # fmt: skip
    assert bad.status_code == 400


def test_delete_removes_a_policy_and_then_404s(chain):
    response = chain.delete(f"{BASE}/workspaces?scope=project&projectId=7")
    assert response.status_code == 204
    assert not Policy.objects.filter(scope_key="project:7").exists()
    again = chain.delete(f"{BASE}/workspaces?scope=project&projectId=7")
    assert again.status_code == 404
    assert_matches_contract("policy", again)


def test_the_list_shows_policies_filtered_by_type_and_scope(chain):
    ok(put(chain, "trainings", {"meta": meta("tenant"), "policy": {}}))
    everything = ok(chain.get(BASE))["policies"]
    assert len(everything) == 5
    workspaces = ok(chain.get(BASE, {"workloadType": "Workspace"}))["policies"]
    assert {p["meta"]["scope"] for p in workspaces} == {
        "tenant",
        "cluster",
        "department",
        "project",
    }
    assert {p["type"] for p in workspaces} == {"workspace"}
    departments = ok(chain.get(BASE, {"scope": "department"}))["policies"]
    assert [p["meta"]["departmentId"] for p in departments] == ["d1"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"meta": {"scope": "tenant"}, "policy": {}}, "meta.name"),
        ({"meta": {"name": "x", "scope": "galaxy"}, "policy": {}}, "meta.scope"),
        ({"meta": {"name": "x", "scope": "project"}, "policy": {}}, "meta.projectId"),
        ({"meta": meta("tenant"), "policy": {"rules": {"security": {"runAsUid": {"min": "1"}}}}},
         "policy.rules.security.runAsUid.min"),
        ({"meta": meta("tenant"), "policy": {"rules": {"image": {"required": "yes"}}}},
         "policy.rules.image.required"),
        ({"meta": meta("tenant"), "policy": {"rules": {"imagePullPolicy": {"options": ["x"]}}}},
         "policy.rules.imagePullPolicy.options[0].value"),
        ({"meta": meta("tenant"), "policy": {"rules": {"args": {"min": 5, "max": 1}}}},
         "policy.rules.args.min"),
        ({"meta": meta("tenant"), "policy": {"rules": {"args": {"step": 0}}}},
         "policy.rules.args.step"),
        ({"meta": meta("tenant"), "policy": {"defaults": {"image": 5}}}, "policy.defaults.image"),
        ({"meta": meta("tenant"), "policy": {"imposedAssets": ["nope"]}},
         "policy.imposedAssets[0]"),
        ({"meta": meta("tenant"), "policy": [], }, "policy"),
        ({"meta": meta("tenant"), "policy": {}, "extra": 1}, "extra"),
        ([], "body"),
    ],
)  # fmt: skip
def test_a_malformed_policy_is_a_400_naming_the_field(org, admin, body, field):
    response = put(admin, "workspaces", body)
    assert response.status_code == 400
    assert_matches_contract("policy", response)
    assert response.json()["message"].startswith(field)
    assert not Policy.objects.exists()


@pytest.mark.parametrize("role", ["Environment administrator", "Research manager", "Viewer"])
def test_only_system_administrators_write_policies(org, client_for, role):
    client = client_for(role, "tenant")
    response = put(client, "workspaces", {"meta": meta("tenant"), "policy": {}})
    assert response.status_code == 403
    assert_matches_contract("policy", response)
    assert ok(client.get(f"{BASE}/workspaces", {"scope": "tenant"}))["policy"] is None


def test_a_project_administrator_writes_only_below_its_rule(org, client_for):
    client = client_for("System administrator", "project:7")
    ok(put(client, "workspaces", {"meta": meta("project", projectId=7), "policy": {}}))
    assert put(client, "workspaces", {"meta": meta("tenant"), "policy": {}}).status_code == 403
    hidden = client.get(f"{BASE}/workspaces", {"scope": "project", "projectId": "8"})
    assert hidden.status_code == 404


@pytest.mark.parametrize(
    "params", [{"scope": "project"}, {"scope": "nowhere"}, {"scope": "project", "projectId": "x"}]
)
def test_a_bad_node_is_a_4xx(org, admin, params):
    response = admin.get(f"{BASE}/workspaces", params)
    assert response.status_code in (400, 404)
    assert_matches_contract("policy", response)


def test_distributed_policies_keep_worker_and_master_apart(org, admin):
    ok(put(admin, "distributed", {"meta": meta("tenant"), "policy": {
        "rules": {"worker": {"image": {"required": True}}}}}))  # fmt: skip
    ok(put(admin, "distributed", {"meta": meta("department", departmentId="d1"), "policy": {
        "rules": {"master": {"image": {"required": True}}}}}))  # fmt: skip
    clash = put(admin, "distributed", {"meta": meta("project", projectId=7), "policy": {
        "rules": {"worker": {"image": {"canEdit": False}}}}})  # fmt: skip
    assert clash.status_code == 400 and "worker.image" in clash.json()["message"]
    body = ok(admin.get(f"{BASE}/distributed", {"scope": "project", "projectId": "7"}))
    assert body["effective"]["rules"]["worker"]["image"]["sourceOfRule"] == {"scope": "tenant"}
    assert body["effective"]["rules"]["master"]["image"]["sourceOfRule"]["departmentId"] == "d1"


def test_policy_calls_need_a_token(client):
    assert client.get(f"{BASE}/workspaces?scope=tenant").status_code == 401
    assert client.get("/api/v2/policy/nim-services?scope=tenant").status_code in (401, 404)


@pytest.mark.parametrize(
    "rules, field",
    [
        ({"security": "none"}, "policy.rules.security"),
        ({"zz": 5}, "policy.rules.zz"),
        ({"worker": "x"}, "policy.rules.worker"),
    ],
)
def test_every_leaf_of_rules_must_be_a_rule_object(org, admin, rules, field):
    response = put(admin, "workspaces", {"meta": meta("tenant"), "policy": {"rules": rules}})
    assert response.status_code == 400
    assert response.json()["message"].startswith(field)


def test_a_rule_inside_a_ruled_path_clashes(chain):
    response = put(chain, "workspaces", {"meta": meta("project", projectId=8), "policy": {
        "rules": {"security": {"runAsUid": {"step": {"required": True}}}}}})  # fmt: skip
    assert response.status_code == 400 and "security.runAsUid" in response.json()["message"]


def test_patch_cannot_merge_into_what_put_would_refuse(chain):
    response = patch(chain, "workspaces", {"meta": meta("cluster", clusterId=C1), "policy": {
        "rules": {"security": {"runAsUid": {"max": 5}}}}})  # fmt: skip
    assert response.status_code == 400 and "min 1000 is above max 5" in response.json()["message"]


def test_policy_meta_refuses_ids_below_its_scope(org, admin):
    body = {"meta": {"name": "x", "scope": "tenant", "projectId": 7}, "policy": {}}
    response = put(admin, "workspaces", body)
    assert response.status_code == 400 and response.json()["message"].startswith("meta.projectId")


# --- numbers within the contract's ranges ------------------------------------------------------


def put_raw(client, kind, text, **params):
    """A PUT of a JSON text as written: numbers no Python literal in a test would survive."""
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.put(
        f"{BASE}/{kind}" + (f"?{query}" if query else ""),
        data=text,
        content_type="application/json",
    )


@pytest.mark.parametrize(
    "policy, field, message",
    [
        ('{"rules": {"compute": {"gpuDevicesRequest": {"max": 18446744073709551616}}}}',
         "policy.rules.compute.gpuDevicesRequest.max", "at most 2147483647"),
        ('{"rules": {"security": {"runAsUid": {"min": 2147483648}}}}',
         "policy.rules.security.runAsUid.min", "at most 2147483647"),
        ('{"rules": {"security": {"runAsUid": {"min": -2147483649}}}}',
         "policy.rules.security.runAsUid.min", "at least -2147483648"),
        ('{"defaults": {"security": {"runAsUid": 9223372036854775808}}}',
         "policy.defaults.security.runAsUid", "at most 9223372036854775807"),
        ('{"defaults": {"compute": {"gpuDevicesRequest": 2147483648}}}',
         "policy.defaults.compute.gpuDevicesRequest", "at most 2147483647"),
        ('{"defaults": {"ports": {"instances": [{"container": 65536}]}}}',
         "policy.defaults.ports.instances[0].container", "at most 65535"),
        ('{"defaults": {"probes": {"readiness": {"periodSeconds": 0}}}}',
         "policy.defaults.probes.readiness.periodSeconds", "at least 1"),
        ('{"defaults": {"compute": {"cpuCoreRequest": 1e400}}}',
         "policy.defaults.compute.cpuCoreRequest", "finite"),
        ('{"defaults": {"compute": {"cpuCoreRequest": 1e300}}}',
         "policy.defaults.compute.cpuCoreRequest", "at most 9223372036854775807"),
        ('{"defaults": {"compute": {"gpuDevicesRequest": 1.5}}}',
         "policy.defaults.compute.gpuDevicesRequest", "an integer"),
        ('{"rules": {"notAField": {"max": 18446744073709551616}}}',
         "policy.rules.notAField.max", "at most 9223372036854775807"),
        ('{"defaults": {"notAField": [1, {"deep": -1e400}]}}',
         "policy.defaults.notAField[1].deep", "finite"),
    ],
)  # fmt: skip
def test_a_number_out_of_the_contracts_range_is_a_400_and_nothing_is_stored(
    org, admin, policy, field, message
):
    response = put_raw(admin, "workspaces", f'{{"meta": {{"name": "n", "scope": "tenant"}}, '
                                            f'"policy": {policy}}}')  # fmt: skip
    assert response.status_code == 400, response.content
    assert_matches_contract("policy", response)
    body = response.json()
    assert body["message"].startswith(f"{field}: ") and message in body["message"]
    assert not Policy.objects.exists()
    # Every reader of the branch still reads it.
    ok(admin.get(f"{BASE}/workspaces", {"scope": "project", "projectId": "7"}))
    ok(admin.get(BASE))


def test_a_patch_cannot_bring_an_out_of_range_number_in(chain):
    response = patch(chain, "workspaces", {"meta": meta("cluster", clusterId=C1), "policy": {
        "defaults": {"security": {"runAsUid": 2**64}}}})  # fmt: skip
    assert response.status_code == 400
    assert response.json()["message"].startswith("policy.defaults.security.runAsUid: ")
    stored = Policy.objects.get(scope_key=f"cluster:{C1}").document
    assert stored["defaults"]["security"]["runAsUid"] == 2000


def test_the_widest_numbers_of_the_contract_are_kept_and_one_beyond_is_refused(org, admin):
    widest = """{"meta": {"name": "n", "scope": "tenant"},
        "policy": {"rules": {"worker": {"compute": {"gpuDevicesRequest": {"max": %d}}}},
                   "defaults": {"master": {"security": {"runAsUid": 9223372036854775807},
                                           "compute": {"cpuCoreRequest": 9.2e18}}}}}"""
    body = ok(put_raw(admin, "distributed", widest % (2**31 - 1)))
    assert body["policy"]["defaults"]["master"]["security"]["runAsUid"] == 2**63 - 1
    again = ok(admin.get(f"{BASE}/distributed", {"scope": "tenant"}))
    assert again["policy"]["rules"]["worker"]["compute"]["gpuDevicesRequest"]["max"] == 2**31 - 1
    beyond = put_raw(admin, "distributed", widest % 2**31)
    assert beyond.status_code == 400
    assert beyond.json()["message"].startswith("policy.rules.worker.compute.gpuDevicesRequest.max")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 2**64])
def test_numbers_no_json_answer_can_carry_are_refused_from_every_source(value):
    # The policy page's YAML (.nan, .inf, big integers) reaches the same validation.
    with pytest.raises(InvalidRequest) as refused:
        validate_policy({"defaults": {"compute": {"cpuCoreRequest": value}}}, "workspace")
    assert refused.value.message.startswith("policy.defaults.compute.cpuCoreRequest: ")


def test_a_project_id_beyond_int32_is_named_as_such(org, admin):
    body = {"meta": {"name": "x", "scope": "project", "projectId": 2**31}, "policy": {}}
    response = put(admin, "workspaces", body)
    assert response.status_code == 400
    assert response.json()["message"] == "meta.projectId: Must be a project id (an int32)."


# --- validateOnly: the API's booleans ------------------------------------------------------------


@pytest.mark.parametrize("true, false", [("1", "0"), ("%20true", "false%20")])
def test_validate_only_reads_booleans_as_every_query_parameter_does(org, admin, true, false):
    body = {"meta": meta("tenant"), "policy": {"rules": {"args": {"required": True}}}}
    checked = ok(put(admin, "workspaces", body, validateOnly=true))
    assert checked["policy"]["rules"] == {"args": {"required": True}}
    assert not Policy.objects.exists()
    ok(put(admin, "workspaces", body, validateOnly=false))
    assert Policy.objects.filter(scope_key="tenant").exists()


@pytest.mark.parametrize("value", ["yes", "2", "on", "truee", "null"])
@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_validate_only_that_is_not_a_boolean_is_a_400_and_saves_nothing(
    org, admin, method, value
):
    body = {"meta": meta("tenant"), "policy": {"rules": {"args": {"required": True}}}}
    response = getattr(admin, method)(
        f"{BASE}/workspaces?validateOnly={value}", data=json.dumps(body),
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 400
    assert_matches_contract("policy", response)
    assert response.json()["message"] == "validateOnly: Must be true or false."
    assert not Policy.objects.exists()


def test_a_field_ruled_both_nested_and_dotted_is_refused_not_half_kept(org, admin):
    rules = {"security.runAsUid": {"min": 1000}, "security": {"runAsUid": {"max": 5}}}
    body = {"meta": {"name": "twice", "scope": "tenant"}, "policy": {"rules": rules}}
    answer = admin.put("/api/v2/policy/workspaces", data=body, content_type="application/json")
    assert answer.status_code == 400
    assert answer.json()["message"].startswith("policy.rules.security.runAsUid: Ruled twice")
