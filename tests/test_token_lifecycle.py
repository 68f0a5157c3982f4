"""Tokens live only as long as the account state they were issued for, through the real API.

Each change of an account refuses every access token (401) and refresh token (400) issued before
it, including those a refresh minted; a new grant afterwards works. A refresh chain ends when its
first refresh token expires, however often it is refreshed.
"""

import jwt
import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from envadmin.accounts.models import AccessRule, ServiceAccount, SubjectType, hash_secret

from .conftest import make_account
from .test_token_and_auth import (
    assert_bad_request,
    assert_granted,
    assert_unauthorized,
    get_environments,
    request_token,
)

PASSWORD = "s3cret-pass"


@pytest.fixture
def api():
    return APIClient()


def password_grant(api, username="alice", password=PASSWORD) -> dict:
    return assert_granted(
        request_token(api, {"grantType": "password", "username": username, "password": password})
    )


def refresh_grant(api, refresh_token: str):
    return request_token(api, {"grantType": "refresh_token", "refreshToken": refresh_token})


def assert_tokens_work(api, body: dict) -> None:
    assert get_environments(body["accessToken"]).status_code == 200
    assert refresh_grant(api, body["refreshToken"]).status_code == 200


def assert_tokens_refused(api, *answers: dict) -> None:
    for body in answers:
        assert_unauthorized(get_environments(body["accessToken"]))
        assert_bad_request(refresh_grant(api, body["refreshToken"]))


# --- users --------------------------------------------------------------------------------------


def change_password(user):
    user.set_password("another-pass-456")
    user.save()


def deactivate(user):
    user.is_active = False
    user.save()


def deactivate_then_reactivate(user):
    deactivate(user)
    user.is_active = True
    user.save()


def delete(user):
    user.delete()


def reuse_the_username(user):
    # Same name, same password, same rules: still another account.
    user.delete()
    get_user_model().objects.create_user(user.username, password=PASSWORD)
    AccessRule.objects.create(
        subject_type=SubjectType.USER, subject=user.username, role="Viewer", scope_key="tenant"
    )


def rename(user):
    user.username = "alicia"
    user.save()


USER_CHANGES = [change_password, deactivate, deactivate_then_reactivate, delete, rename]


@pytest.mark.parametrize("change", [*USER_CHANGES, reuse_the_username], ids=lambda c: c.__name__)
def test_a_users_tokens_issued_before_a_change_are_refused(api, db, change):
    user = get_user_model().objects.create_user("alice", password=PASSWORD)
    granted = password_grant(api)
    refreshed = assert_granted(refresh_grant(api, granted["refreshToken"]))
    assert_tokens_work(api, granted)
    assert_tokens_work(api, refreshed)

    change(user)

    assert_tokens_refused(api, granted, refreshed)


@pytest.mark.parametrize(
    ("change", "username", "password"),
    [
        (change_password, "alice", "another-pass-456"),
        (deactivate_then_reactivate, "alice", PASSWORD),
        (rename, "alicia", PASSWORD),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_a_grant_after_the_change_gives_tokens_that_work(api, db, change, username, password):
    user = get_user_model().objects.create_user("alice", password=PASSWORD)
    change(user)
    assert_tokens_work(api, password_grant(api, username, password))


def test_saves_that_change_no_credential_keep_the_tokens(api, db):
    user = get_user_model().objects.create_user("alice", password=PASSWORD)
    body = password_grant(api)
    # A web sign-in stores last_login; an admin edits the e-mail address.
    assert Client().login(username="alice", password=PASSWORD)
    user.refresh_from_db()
    user.email = "alice@example.com"
    user.save()
    assert_tokens_work(api, body)


# --- service accounts ---------------------------------------------------------------------------


def rotate_the_secret(account):
    account.secret_hash = hash_secret("a-new-secret")
    account.save()


def delete_account(account):
    account.delete()


def recreate_with_the_same_client_id(account):
    account.delete()
    again = ServiceAccount.objects.create(
        name="again", client_id=account.client_id, secret_hash=account.secret_hash
    )
    AccessRule.objects.create(
        subject_type=SubjectType.APPLICATION,
        subject=again.client_id,
        role="System administrator",
        scope_key="tenant",
    )


@pytest.mark.parametrize(
    "change",
    [rotate_the_secret, delete_account, recreate_with_the_same_client_id],
    ids=lambda c: c.__name__,
)
def test_a_service_accounts_tokens_issued_before_a_change_are_refused(api, db, change):
    account, secret = make_account("System administrator", "tenant")
    credentials = {"grantType": "client_credentials", "clientID": account.client_id}
    granted = assert_granted(request_token(api, {**credentials, "clientSecret": secret}))
    refreshed = assert_granted(refresh_grant(api, granted["refreshToken"]))
    assert_tokens_work(api, granted)
    assert_tokens_work(api, refreshed)

    change(account)

    assert_tokens_refused(api, granted, refreshed)


def test_a_new_secret_gets_tokens_that_work(api, db):
    account, _ = make_account("System administrator", "tenant")
    rotate_the_secret(account)
    body = assert_granted(
        request_token(
            api,
            {
                "grantType": "client_credentials",
                "clientID": account.client_id,
                "clientSecret": "a-new-secret",
            },
        )
    )
    assert_tokens_work(api, body)


# --- the refresh chain --------------------------------------------------------------------------


def expiry(token: str) -> int:
    return jwt.decode(token, options={"verify_signature": False})["exp"]


def test_a_refresh_chain_ends_when_its_first_refresh_token_expires(api, db, settings):
    settings.ENVADMIN_TOKEN_TTL_SECONDS = 600
    settings.ENVADMIN_REFRESH_TTL_SECONDS = 3600
    get_user_model().objects.create_user("alice", password=PASSWORD)
    with time_machine.travel(1_900_000_000, tick=False) as clock:
        body = password_grant(api)
        chain_end = expiry(body["refreshToken"])
        assert chain_end == 1_900_000_000 + 3600

        # Refreshing keeps the chain alive up to its end, and never past it.
        for minute in (20, 40, 59):
            clock.move_to(1_900_000_000 + minute * 60)
            response = refresh_grant(api, body["refreshToken"])
            assert response.status_code == 200, response.content
            body = response.json()
            assert expiry(body["refreshToken"]) == chain_end
            assert expiry(body["accessToken"]) <= chain_end
            assert get_environments(body["accessToken"]).status_code == 200
        assert body["expiresIn"] == 60  # the access token ends with the chain, not 600 s later

        clock.move_to(chain_end + 1)
        assert_bad_request(refresh_grant(api, body["refreshToken"]))
        body_401 = assert_unauthorized(get_environments(body["accessToken"]))
        assert "expired" in body_401["message"]
        # A new sign-in starts a new chain.
        assert_tokens_work(api, password_grant(api))
