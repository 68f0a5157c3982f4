"""A user's access rules and tokens end with the user, and follow a rename: a later account given
the same name starts with nothing."""

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.test import Client
from rest_framework.test import APIClient

from envadmin.accounts.models import AccessRule, SubjectType

from .test_token_and_auth import (
    assert_granted,
    assert_unauthorized,
    get_environments,
    request_token,
)

PASSWORD = "s3cret-pass"
# What alice's two rules show in tests/data/small.yaml.
ALICE_SEES = {"tenant-env", "cluster-env", "d1-env", "p7-env", "p8-env"}


def create_user(username, **extra):
    return get_user_model().objects.create_user(username, password=PASSWORD, **extra)


def add_rule(subject, role="Viewer", scope_key="project:7", subject_type=SubjectType.USER):
    return AccessRule.objects.create(
        subject_type=subject_type, subject=subject, role=role, scope_key=scope_key
    )


def rules_of(subject, subject_type=SubjectType.USER) -> set[tuple[str, str]]:
    rules = AccessRule.objects.filter(subject_type=subject_type, subject=subject)
    return set(rules.values_list("role", "scope_key"))


def token_of(username) -> str:
    body = assert_granted(
        request_token(
            APIClient(), {"grantType": "password", "username": username, "password": PASSWORD}
        )
    )
    return body["accessToken"]


def visible_names(token) -> set[str]:
    response = get_environments(token)
    assert response.status_code == 200, response.content
    return {entry["meta"]["name"] for entry in response.json()["entries"]}


@pytest.fixture
def alice(db):
    user = create_user("alice")
    add_rule("alice")
    add_rule("alice", role="L1 researcher", scope_key="department:d1")
    return user


def test_deleting_a_user_deletes_their_rules_and_no_one_elses(alice):
    create_user("bob")
    add_rule("bob")
    # Rules of other subject types that happen to carry the same name are not the user's.
    add_rule("alice", subject_type=SubjectType.GROUP)
    add_rule("alice", subject_type=SubjectType.APPLICATION)

    alice.delete()

    assert rules_of("alice") == set()
    assert rules_of("bob") == {("Viewer", "project:7")}
    assert rules_of("alice", SubjectType.GROUP) == {("Viewer", "project:7")}
    assert rules_of("alice", SubjectType.APPLICATION) == {("Viewer", "project:7")}


def test_deleting_users_in_bulk_deletes_their_rules(alice):
    create_user("bob")
    add_rule("bob")
    get_user_model().objects.filter(username__in=["alice", "bob"]).delete()
    assert not AccessRule.objects.exists()


def test_deleting_a_user_in_the_admin_deletes_their_rules(alice):
    create_user("root", is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(get_user_model().objects.get(username="root"))
    response = admin.post(f"/admin/auth/user/{alice.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not get_user_model().objects.filter(username="alice").exists()
    assert rules_of("alice") == set()


def test_a_new_user_with_a_deleted_users_name_starts_with_nothing(org, alice):
    old_token = token_of("alice")
    assert visible_names(old_token) == ALICE_SEES

    alice.delete()
    create_user("alice")

    assert rules_of("alice") == set()
    assert visible_names(token_of("alice")) == set()
    assert_unauthorized(get_environments(old_token))


def test_a_renamed_user_takes_their_rules_along(org, alice):
    alice.username = "alicia"
    alice.save()

    assert rules_of("alicia") == {("Viewer", "project:7"), ("L1 researcher", "department:d1")}
    assert rules_of("alice") == set()
    assert visible_names(token_of("alicia")) == ALICE_SEES
    create_user("alice")
    assert visible_names(token_of("alice")) == set()


def test_a_rename_onto_a_name_that_has_rules_keeps_one_of_each(alice):
    add_rule("alicia")  # the same rule as one of alice's
    add_rule("alicia", role="Viewer", scope_key="tenant")
    alice.username = "alicia"
    alice.save()
    assert rules_of("alicia") == {
        ("Viewer", "project:7"),
        ("L1 researcher", "department:d1"),
        ("Viewer", "tenant"),
    }
    assert rules_of("alice") == set()


def test_a_rename_that_fails_moves_no_rules(alice):
    create_user("bob")
    add_rule("bob", role="Viewer", scope_key="tenant")
    alice.username = "bob"
    with pytest.raises(IntegrityError), transaction.atomic():
        alice.save()
    assert rules_of("alice") == {("Viewer", "project:7"), ("L1 researcher", "department:d1")}
    assert rules_of("bob") == {("Viewer", "tenant")}
