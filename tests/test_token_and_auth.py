"""POST /api/v1/token, bearer authentication on the API, and the create_service_account command."""

import base64
import io
import json
import time

import jwt
import pytest
from django.conf import global_settings, settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from rest_framework.test import APIClient

from envadmin.accounts import tokens
from envadmin.accounts.models import AccessRule, ServiceAccount, SubjectType

from .conftest import C1, make_account, post_json
from .contract import assert_matches_contract

TOKEN_URL = "/api/v1/token"
ENV_URL = "/api/v1/asset/environment"


# --- helpers ----------------------------------------------------------------------------------


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def account(db):
    """A tenant-wide System administrator service account and its plain secret."""
    return make_account("System administrator", "tenant", name="token-tests")


def request_token(api, body):
    return post_json(api, TOKEN_URL, body)


def client_credentials(account_and_secret) -> dict:
    account, secret = account_and_secret
    return {
        "grantType": "client_credentials",
        "clientID": account.client_id,
        "clientSecret": secret,
    }


def runapy_payload(segment: str) -> dict:
    """Decode a JWT segment the way runapy's TokenRefresher does: standard alphabet, '==' added."""
    return json.loads(base64.b64decode(segment + "=="))


def unverified_claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def assert_granted(response) -> dict:
    assert response.status_code == 200, response.content
    assert_matches_contract("token", response)
    body = response.json()
    assert body["accessToken"]
    assert body["refreshToken"]
    assert body["expiresIn"] == settings.ENVADMIN_TOKEN_TTL_SECONDS
    return body


def assert_bad_request(response) -> dict:
    assert response.status_code == 400, response.content
    assert_matches_contract("token", response)
    body = response.json()
    assert body["code"] == 400
    assert body["message"]
    assert "accessToken" not in body
    return body


def get_environments(token=None, header=None):
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    elif token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get(ENV_URL)


def assert_unauthorized(response) -> dict:
    assert response.status_code == 401, response.content
    assert_matches_contract("environment", response)
    body = response.json()
    assert body["code"] == 401
    assert body["message"]
    assert "entries" not in body
    return body


# --- grants -----------------------------------------------------------------------------------


def test_client_credentials_grant_returns_tokens_matching_the_contract(api, account):
    body = assert_granted(request_token(api, client_credentials(account)))
    claims = tokens.read_access_token(body["accessToken"])
    assert claims["sub"] == account[0].client_id
    assert claims["st"] == SubjectType.APPLICATION


def test_app_token_grant_accepts_the_contracts_app_id_and_app_secret(api, account):
    service_account, secret = account
    body = assert_granted(
        request_token(
            api,
            {"grantType": "app_token", "appID": service_account.client_id, "appSecret": secret},
        )
    )
    assert tokens.read_access_token(body["accessToken"])["sub"] == service_account.client_id


def test_app_token_grant_accepts_runapys_app_id_and_app_secret_spelling(api, account):
    service_account, secret = account
    body = assert_granted(
        request_token(
            api,
            {"grantType": "app_token", "AppId": service_account.client_id, "AppSecret": secret},
        )
    )
    assert tokens.read_access_token(body["accessToken"])["sub"] == service_account.client_id


def test_password_grant_issues_tokens_for_a_django_user(api, db):
    get_user_model().objects.create_user("alice", password="s3cret-pass")
    body = assert_granted(
        request_token(
            api, {"grantType": "password", "username": "alice", "password": "s3cret-pass"}
        )
    )
    claims = tokens.read_access_token(body["accessToken"])
    assert claims["sub"] == "alice"
    assert claims["st"] == SubjectType.USER


def test_a_user_token_authenticates_and_sees_what_the_users_rules_allow(api, org):
    get_user_model().objects.create_user("alice", password="s3cret-pass")
    AccessRule.objects.create(
        subject_type=SubjectType.USER, subject="alice", role="Viewer", scope_key="project:7"
    )
    body = assert_granted(
        request_token(
            api, {"grantType": "password", "username": "alice", "password": "s3cret-pass"}
        )
    )
    response = get_environments(body["accessToken"])
    assert response.status_code == 200
    names = {entry["meta"]["name"] for entry in response.json()["entries"]}
    assert names == {"tenant-env", "cluster-env", "d1-env", "p7-env"}


def test_password_grant_refuses_a_wrong_password(api, db):
    get_user_model().objects.create_user("alice", password="s3cret-pass")
    body = assert_bad_request(
        request_token(api, {"grantType": "password", "username": "alice", "password": "nope"})
    )
    assert "password" in body["message"].lower()


def test_password_grant_refuses_an_inactive_user(api, db):
    get_user_model().objects.create_user("bob", password="s3cret-pass", is_active=False)
    assert_bad_request(
        request_token(api, {"grantType": "password", "username": "bob", "password": "s3cret-pass"})
    )


def test_refresh_token_grant_gives_a_new_access_token_that_works(api, org, account):
    first = assert_granted(request_token(api, client_credentials(account)))
    refreshed = assert_granted(
        request_token(
            api,
            {
                "grantType": "refresh_token",
                "refreshToken": first["refreshToken"],
                "clientID": account[0].client_id,
            },
        )
    )
    assert refreshed["accessToken"] != first["accessToken"]
    assert refreshed["refreshToken"] != first["refreshToken"]
    assert unverified_claims(refreshed["accessToken"])["sub"] == account[0].client_id

    response = get_environments(refreshed["accessToken"])
    assert response.status_code == 200
    assert_matches_contract("environment", response)
    assert len(response.json()["entries"]) == 8


def test_an_access_token_is_not_accepted_as_a_refresh_token(api, account):
    first = assert_granted(request_token(api, client_credentials(account)))
    body = assert_bad_request(
        request_token(api, {"grantType": "refresh_token", "refreshToken": first["accessToken"]})
    )
    assert "refresh" in body["message"].lower()


def test_an_expired_refresh_token_is_a_bad_request(api, account):
    with override_settings(ENVADMIN_REFRESH_TTL_SECONDS=-10):
        first = tokens.issue(account[0])
    assert_bad_request(
        request_token(api, {"grantType": "refresh_token", "refreshToken": first["refreshToken"]})
    )


def test_a_garbage_refresh_token_is_a_bad_request(api, db):
    assert_bad_request(request_token(api, {"grantType": "refresh_token", "refreshToken": "x.y.z"}))


def test_a_refresh_token_of_a_deleted_service_account_is_refused(api, account):
    first = assert_granted(request_token(api, client_credentials(account)))
    account[0].delete()
    assert_bad_request(
        request_token(api, {"grantType": "refresh_token", "refreshToken": first["refreshToken"]})
    )


def test_a_refresh_token_of_a_deactivated_user_is_refused(api, db):
    user = get_user_model().objects.create_user("dave", password="s3cret-pass")
    first = assert_granted(
        request_token(api, {"grantType": "password", "username": "dave", "password": "s3cret-pass"})
    )
    user.is_active = False
    user.save()
    assert_bad_request(
        request_token(api, {"grantType": "refresh_token", "refreshToken": first["refreshToken"]})
    )


# --- bad token requests -----------------------------------------------------------------------


def test_a_wrong_secret_is_a_bad_request_with_the_error_body(api, account):
    body = assert_bad_request(
        request_token(
            api,
            {
                "grantType": "client_credentials",
                "clientID": account[0].client_id,
                "clientSecret": "not-the-secret",
            },
        )
    )
    assert body["message"] == "Invalid client credentials."


def test_an_unknown_client_reads_exactly_like_a_wrong_secret(api, account):
    wrong_secret = assert_bad_request(
        request_token(
            api,
            {
                "grantType": "client_credentials",
                "clientID": account[0].client_id,
                "clientSecret": "x",
            },
        )
    )
    unknown = assert_bad_request(
        request_token(
            api,
            {"grantType": "client_credentials", "clientID": "no-such-client", "clientSecret": "x"},
        )
    )
    assert unknown == wrong_secret


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"grantType": "client_credentials"}, id="no-credentials"),
        pytest.param({"grantType": "client_credentials", "clientID": "abc"}, id="no-secret"),
        pytest.param({"grantType": "client_credentials", "clientSecret": "abc"}, id="no-id"),
        pytest.param({"grantType": "app_token", "appID": "abc"}, id="app-token-no-secret"),
        pytest.param({"grantType": "password", "username": "alice"}, id="no-password"),
        pytest.param({"grantType": "password", "password": "pw"}, id="no-username"),
        pytest.param({"grantType": "refresh_token"}, id="no-refresh-token"),
        pytest.param({"clientID": "abc", "clientSecret": "abc"}, id="no-grant-type"),
        pytest.param({"grantType": "magic"}, id="unknown-grant-type"),
        pytest.param(
            {"grantType": "client_credentials", "clientID": 5, "clientSecret": "abc"},
            id="non-string-field",
        ),
    ],
)
def test_missing_or_wrong_fields_are_bad_requests(api, db, body):
    assert_bad_request(request_token(api, body))


@pytest.mark.parametrize("grant_type", ["exchange_token", "external_token_exchange"])
def test_grant_types_envadmin_does_not_serve_are_bad_requests_naming_the_grant(api, db, grant_type):
    body = assert_bad_request(
        request_token(api, {"grantType": grant_type, "code": "c", "externalToken": "t"})
    )
    assert grant_type in body["message"]


@pytest.mark.parametrize("payload", [[], ["a"], "grant", 42, None], ids=repr)
def test_a_body_that_is_not_a_json_object_is_a_bad_request(api, db, payload):
    body = assert_bad_request(request_token(api, payload))
    assert "object" in body["message"].lower()


def test_malformed_json_is_a_bad_request_with_the_error_body(api, db):
    response = api.post(TOKEN_URL, data='{"grantType": ', content_type="application/json")
    body = assert_bad_request(response)
    assert "json" in body["message"].lower()


# --- the tokens themselves --------------------------------------------------------------------


def test_the_access_token_is_a_jwt_with_exp_iat_and_sub_and_the_configured_lifetime(api, account):
    before = int(time.time())
    body = assert_granted(request_token(api, client_credentials(account)))
    after = int(time.time())
    header, payload, signature = body["accessToken"].split(".")
    assert signature
    assert json.loads(base64.urlsafe_b64decode(header + "=="))["alg"] == "HS256"
    claims = unverified_claims(body["accessToken"])
    assert claims["sub"] == account[0].client_id
    assert before <= claims["iat"] <= after
    assert claims["exp"] - claims["iat"] == settings.ENVADMIN_TOKEN_TTL_SECONDS
    assert runapy_payload(payload) == claims


@override_settings(ENVADMIN_TOKEN_TTL_SECONDS=123)
def test_the_token_lifetime_follows_the_setting(api, account):
    body = request_token(api, client_credentials(account)).json()
    assert body["expiresIn"] == 123
    claims = unverified_claims(body["accessToken"])
    assert claims["exp"] - claims["iat"] == 123


def test_many_minted_tokens_decode_with_runapys_plain_base64(db):
    users = [get_user_model().objects.create_user(f"subject-{index}") for index in range(20)]
    for index in range(200):
        answer = tokens.issue(users[index % len(users)])
        for token in (answer["accessToken"], answer["refreshToken"]):
            payload = token.split(".")[1]
            assert runapy_payload(payload) == unverified_claims(token), token


def test_tokens_from_the_endpoint_decode_with_runapys_plain_base64(api, account):
    body = assert_granted(request_token(api, client_credentials(account)))
    for _ in range(50):
        for token in (body["accessToken"], body["refreshToken"]):
            claims = runapy_payload(token.split(".")[1])
            assert claims == unverified_claims(token)
            assert claims["exp"] > time.time()
        body = assert_granted(
            request_token(api, {"grantType": "refresh_token", "refreshToken": body["refreshToken"]})
        )


# --- bearer authentication on the API ---------------------------------------------------------


def test_the_api_without_authorization_is_401_with_an_error_body_and_www_authenticate(db):
    response = get_environments()
    body = assert_unauthorized(response)
    assert "Bearer" in body["message"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_basic_authentication_is_401(db):
    body = assert_unauthorized(get_environments(header="Basic dXNlcjpwYXNz"))
    assert "Bearer" in body["message"]


def test_a_bearer_header_without_a_token_is_401(db):
    assert_unauthorized(get_environments(header="Bearer "))


def test_a_garbage_token_is_401(db):
    body = assert_unauthorized(get_environments("not-a-jwt"))
    assert "not valid" in body["message"]


def test_an_expired_token_is_401_and_says_it_expired(account):
    with override_settings(ENVADMIN_TOKEN_TTL_SECONDS=-10):
        token = tokens.issue(account[0])["accessToken"]
    body = assert_unauthorized(get_environments(token))
    assert "expired" in body["message"].lower()


def test_a_crafted_expired_token_is_401_and_says_it_expired(account):
    now = int(time.time())
    token = jwt.encode(
        {
            "iss": tokens.ISSUER,
            "sub": account[0].client_id,
            "st": SubjectType.APPLICATION,
            "typ": "access",
            "iat": now - 7200,
            "exp": now - 3600,
        },
        settings.ENVADMIN_TOKEN_SECRET,
        algorithm="HS256",
    )
    body = assert_unauthorized(get_environments(token))
    assert "expired" in body["message"].lower()


def test_a_refresh_token_used_as_an_access_token_is_401(account):
    refresh = tokens.issue(account[0])["refreshToken"]
    body = assert_unauthorized(get_environments(refresh))
    assert "access token" in body["message"]


def test_a_token_signed_with_another_key_is_401(account):
    now = int(time.time())
    claims = {
        "iss": tokens.ISSUER,
        "sub": account[0].client_id,
        "st": SubjectType.APPLICATION,
        "typ": "access",
        "iat": now,
        "exp": now + 3600,
    }
    forged = jwt.encode(claims, "another-key-entirely-and-long-enough!", algorithm="HS256")
    assert_unauthorized(get_environments(forged))


def test_an_unsigned_token_is_401(account):
    now = int(time.time())
    claims = {
        "iss": tokens.ISSUER,
        "sub": account[0].client_id,
        "st": SubjectType.APPLICATION,
        "typ": "access",
        "iat": now,
        "exp": now + 3600,
    }
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert_unauthorized(get_environments(unsigned))


def test_a_token_from_another_issuer_is_401(account):
    now = int(time.time())
    claims = {
        "iss": "someone-else",
        "sub": account[0].client_id,
        "st": SubjectType.APPLICATION,
        "typ": "access",
        "iat": now,
        "exp": now + 3600,
    }
    token = jwt.encode(claims, settings.ENVADMIN_TOKEN_SECRET, algorithm="HS256")
    assert_unauthorized(get_environments(token))


def test_a_token_of_a_deleted_service_account_is_401(org, account):
    token = tokens.issue(account[0])["accessToken"]
    assert get_environments(token).status_code == 200
    account[0].delete()
    body = assert_unauthorized(get_environments(token))
    assert "no longer exists" in body["message"]


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer not-a-jwt"])
def test_every_401_carries_a_www_authenticate_bearer_challenge(db, header):
    response = get_environments(header=header)
    assert response.status_code == 401
    assert response.get("WWW-Authenticate", "").startswith("Bearer")


def test_the_token_endpoint_ignores_a_stale_authorization_header(account):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer expired-or-garbage")
    assert_granted(request_token(client, client_credentials(account)))


def test_a_token_of_a_deactivated_user_is_401(db):
    user = get_user_model().objects.create_user("carol", password="pw-123456")
    token = tokens.issue(user)["accessToken"]
    assert get_environments(token).status_code == 200
    user.is_active = False
    user.save()
    assert_unauthorized(get_environments(token))


# --- create_service_account -------------------------------------------------------------------


def create_service_account(*args) -> dict:
    out = io.StringIO()
    call_command("create_service_account", *args, stdout=out)
    return json.loads(out.getvalue())


def test_the_command_prints_credentials_that_get_a_token(api, db):
    printed = create_service_account(
        "ci-bot", "--role", "System administrator", "--scope", "tenant"
    )
    assert set(printed) == {"clientId", "clientSecret"}
    account = ServiceAccount.objects.get(name="ci-bot")
    assert account.client_id == printed["clientId"]
    rule = AccessRule.objects.get(subject=printed["clientId"])
    assert (rule.subject_type, rule.role, rule.scope_key) == (
        SubjectType.APPLICATION,
        "System administrator",
        "tenant",
    )
    assert_granted(
        request_token(
            api,
            {
                "grantType": "client_credentials",
                "clientID": printed["clientId"],
                "clientSecret": printed["clientSecret"],
            },
        )
    )


def test_the_command_stores_the_secret_only_hashed(db, settings):
    # conftest speeds tests up with MD5: check what production's default hashers store.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    printed = create_service_account("ci-bot", "--role", "Viewer", "--scope", "tenant")
    secret = printed["clientSecret"]
    row = ServiceAccount.objects.filter(name="ci-bot").values().get()
    assert all(secret not in str(value) for value in row.values())
    # A salted SHA-256: the secret is 256 random bits (see ServiceAccount.check_secret).
    assert row["secret_hash"].startswith("sha256$") and len(row["secret_hash"].split("$")) == 3
    account = ServiceAccount.objects.get(name="ci-bot")
    assert account.check_secret(secret)
    assert not account.check_secret(secret + "x")


@pytest.mark.parametrize(
    ("scope", "scope_id", "key"),
    [("project", "7", "project:7"), ("department", "d1", "department:d1"), ("cluster", C1, None)],
)
def test_the_command_scopes_a_rule_to_an_existing_node(org, scope, scope_id, key):
    printed = create_service_account(
        "scoped", "--role", "L1 researcher", "--scope", scope, "--scope-id", scope_id
    )
    rule = AccessRule.objects.get(subject=printed["clientId"])
    assert rule.scope_key == (key or f"cluster:{C1}")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scope", "project", "--scope-id", "999"], "no project with id 999"),
        (["--scope", "department", "--scope-id", "nope"], "no department"),
        (["--scope", "project"], "needs --scope-id"),
        (["--scope", "tenant", "--scope-id", "7"], "not used"),
    ],
)
def test_the_command_rejects_bad_scopes_and_creates_nothing(org, args, message):
    with pytest.raises(CommandError, match=message):
        create_service_account("bad", "--role", "Viewer", *args)
    assert not ServiceAccount.objects.filter(name="bad").exists()
    assert not AccessRule.objects.filter(subject_type=SubjectType.APPLICATION).exists()


def test_the_command_rejects_an_unknown_role(db):
    with pytest.raises(CommandError):
        create_service_account("bad", "--role", "Overlord", "--scope", "tenant")
    assert not ServiceAccount.objects.exists()


def test_the_command_rejects_a_duplicate_name_and_keeps_the_first_account(db):
    first = create_service_account("ci-bot", "--role", "Viewer", "--scope", "tenant")
    with pytest.raises(CommandError, match="already exists"):
        create_service_account("ci-bot", "--role", "System administrator", "--scope", "tenant")
    assert list(ServiceAccount.objects.values_list("client_id", flat=True)) == [first["clientId"]]
    assert AccessRule.objects.count() == 1
