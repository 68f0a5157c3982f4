"""The account a token speaks for, and the stamp that ties the token to that account's state.

A token names its account by primary key, since a name can be taken again once its account is
gone. Like Django's session auth hash, its stamp is an HMAC of what the account signs in with: a
user's name, password hash and token generation, a service account's client id and secret hash.
A password change, a new secret, a rename or a deactivation changes the stamp, and every token
issued before it no longer matches.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.utils.crypto import constant_time_compare, salted_hmac

from .models import ServiceAccount, SubjectType

STAMP_SALT = "envadmin.accounts.subjects.stamp"


def subject_type_of(account) -> str:
    return SubjectType.APPLICATION if isinstance(account, ServiceAccount) else SubjectType.USER


def name_of(account) -> str:
    """The name access rules and the audit trail know the account by."""
    if isinstance(account, ServiceAccount):
        return account.client_id
    return account.get_username()


def _credential(account) -> str:
    if isinstance(account, ServiceAccount):
        return account.secret_hash
    try:
        generation = account.token_generation.generation
    except ObjectDoesNotExist:  # never deactivated
        generation = 0
    return f"{account.password}\x00{generation}"


def _stamp(account) -> str:
    state = "\x00".join(
        (subject_type_of(account), str(account.pk), name_of(account), _credential(account))
    )
    digest = salted_hmac(
        STAMP_SALT, state, secret=settings.ENVADMIN_TOKEN_SECRET, algorithm="sha256"
    )
    return digest.hexdigest()[:32]


def claims_for(account) -> dict:
    return {
        "sub": name_of(account),
        "st": subject_type_of(account),
        "uid": account.pk,
        "stamp": _stamp(account),
    }


def account_for(claims: dict):
    """The account `claims` were issued for, if it is still as it was then; None otherwise."""
    subject_type, pk, stamp = claims.get("st"), claims.get("uid"), claims.get("stamp")
    if not isinstance(pk, int) or not isinstance(stamp, str):
        return None
    if subject_type == SubjectType.USER:
        users = get_user_model().objects.select_related("token_generation")
        account = users.filter(pk=pk, is_active=True).first()
    elif subject_type == SubjectType.APPLICATION:
        account = ServiceAccount.objects.filter(pk=pk).first()
    else:
        return None
    if account is None or not constant_time_compare(stamp, _stamp(account)):
        return None
    return account
