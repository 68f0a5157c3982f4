"""runapy 1.224.0's authorization, credentials, registry and audit clients against local mode
(issue 18), unchanged, over a real HTTP server."""

from datetime import UTC, datetime

import pytest
from runai import models
from runai.exceptions import ApiException

from envadmin.inventory.models import Registry

from .test_runapy_client import (  # noqa: F401 (fixtures)
    admin_credentials,
    admin_runapy,
    create_service_account,
    runapy_client,
    small_org,
)

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def test_permitted_scopes_through_runapy(live_server, small_org):  # noqa: F811
    researcher = runapy_client(
        live_server, create_service_account("p7-bot", "L1 researcher", "project", 7)
    )
    permissions = researcher.authentication_and_authorization.permissions
    answer = permissions.get_permitted_scopes(
        models.GetPermittedScopesRequest(resource_type="environments")
    )
    assert answer.status_code == 200
    assert answer.data["create"]["projects"] == ["7"]
    assert answer.data["create"]["tenants"] == []
    assert "7" in answer.data["read"]["projects"]

    rules = researcher.authentication_and_authorization.me.get_me_access_rules()
    (rule,) = rules.data["accessRules"]["accessRules"]
    assert (rule["roleName"], rule["scopeId"]) == ("L1 researcher", "7")


def test_credentials_list_through_runapy(admin_runapy):  # noqa: F811
    credentials = admin_runapy.workload_assets.credentials
    listed = credentials.list_credentials_assets(project_id=7, usage_info=True)
    assert listed.status_code == 200
    names = {entry["meta"]["name"] for entry in listed.data["entries"]}
    assert names == {"dockerhub", "c1-keys", "d1-ngc", "hf-token"}
    hf = next(e for e in listed.data["entries"] if e["meta"]["name"] == "hf-token")
    assert [pair["key"] for pair in hf["spec"]["genericSecret"]["keyValuePairs"]] == [
        "token",
        "user",
    ]
    assert all("value" not in pair for pair in hf["spec"]["genericSecret"]["keyValuePairs"])


def test_registry_repositories_and_tags_through_runapy(admin_runapy):  # noqa: F811
    registry = admin_runapy.workload_assets.registry
    internal = str(Registry.objects.get(name="internal").id)
    repositories = registry.get_repositories(asset_id=internal, search_name="ml/")
    assert repositories.data["repositories"] == ["ml/jax", "ml/pytorch"]
    tags = registry.get_repository_tags(asset_id=internal, repository="ml/pytorch")
    assert tags.status_code == 200
    assert tags.data == {"name": "ml/pytorch", "tags": ["24.05-py3", "24.06-py3"]}
    with pytest.raises(ApiException) as refused:
        registry.get_repository_tags(asset_id=internal, repository="nope")
    assert refused.value.status == 404


def test_audit_logs_through_runapy(admin_runapy):  # noqa: F811
    audit = admin_runapy.audit.audit_logs
    answer = audit.get_audit_logs(
        start=datetime(2000, 1, 1, tzinfo=UTC),
        end=datetime(2100, 1, 1, tzinfo=UTC),
        number_of_samples=5,
        filter_by=["entity_name==p7-env"],
    )
    assert answer.status_code == 200
    assert [record["entity_name"] for record in answer.data["audit_logs"]] == ["p7-env"]
