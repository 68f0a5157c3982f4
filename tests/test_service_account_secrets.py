"""Service account secrets: stored as a salted hash only, checked in constant time, fast."""

from django.contrib.auth.hashers import make_password

from envadmin.accounts.models import ServiceAccount


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
