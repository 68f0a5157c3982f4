from .contract import assert_matches_contract

URL = "/api/v1/asset/environment"


def test_list_matches_contract(org, admin):
    response = admin.get(URL, {"usageInfo": "true", "statusInfo": "true"})
    assert response.status_code == 200
    assert_matches_contract("environment", response)
