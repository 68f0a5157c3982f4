"""The Django admin lists the local model for a system administrator."""

import pytest
from django.contrib.auth import get_user_model


@pytest.mark.parametrize(
    "path",
    [
        "/admin/inventory/environment/",
        "/admin/inventory/cluster/",
        "/admin/inventory/workload/",
        "/admin/accounts/accessrule/",
        "/admin/accounts/serviceaccount/",
    ],
)
def test_an_administrator_browses_the_model(org, client, path):
    user = get_user_model().objects.create_superuser("root", password="root-pass-123")
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200
    if "environment" in path:
        assert b"p7-env" in response.content
