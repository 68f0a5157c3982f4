"""Service accounts: secrets stored as a salted hash only, checked in constant time, fast;
create_service_account's scope ids; an account's access rules end with it."""

from io import StringIO

from django.contrib.auth.hashers import make_password
from django.core.management import call_command

from envadmin.accounts.models import AccessRule, ServiceAccount

from .conftest import C1, make_account


def test_a_secret_is_stored_hashed_and_salted_and_only_the_right_one_passes(db):
    first, secret = ServiceAccount.create("first")
    second, _ = ServiceAccount.create("second")
    assert secret not in first.secret_hash and first.secret_hash.startswith("sha256$")
    assert first.check_secret(secret)
    assert not first.check_secret(secret + "x") and not first.check_secret("")
    assert not second.check_secret(secret)
    # The same secret under another salt hashes differently.
    first_salt = first.secret_hash.split("$")[1]
    assert first_salt != second.secret_hash.split("$")[1]


def test_accounts_made_with_a_password_hash_still_sign_in(db):
    account, _ = ServiceAccount.create("old")
    account.secret_hash = make_password("old-secret")
    account.save()
    assert account.check_secret("old-secret") and not account.check_secret("other")


def test_create_service_account_accepts_an_uppercase_cluster_uuid(org):
    call_command(
        "create_service_account", "ops", "--role", "Viewer", "--scope", "cluster",
        "--scope-id", C1.upper(), stdout=StringIO(),
    )  # fmt: skip
    assert AccessRule.objects.get(role="Viewer").scope_key == f"cluster:{C1}"


def test_deleting_a_service_account_deletes_its_rules(db):
    account, _ = make_account("Viewer", "tenant")
    other, _ = make_account("Viewer", "tenant", name="other")
    ServiceAccount.objects.filter(pk=account.pk).delete()
    assert list(AccessRule.objects.values_list("subject", flat=True)) == [other.client_id]
