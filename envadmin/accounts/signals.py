"""Access rules follow the account they belong to, and end with it.

Rules name their subject (a username, a service account's client id) instead of a foreign key,
because groups have rules too: the database cannot cascade. A rule left behind would grant its
role to the next account given the same name, so a deleted account takes its rules with it and
a renamed user takes them along. Tokens need no clean-up: they name their account by primary
key and carry a stamp of its state (subjects.py); deactivating a user moves its token generation
on, so that reactivating it does not bring back the tokens issued before.
"""

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from .models import AccessRule, ServiceAccount, SubjectType, TokenGeneration

STORED = "_accounts_stored_before_save"


@receiver(post_delete, sender=ServiceAccount, dispatch_uid="accounts.service_account_rules")
def delete_service_account_rules(sender, instance, **kwargs):
    AccessRule.objects.filter(
        subject_type=SubjectType.APPLICATION, subject=instance.client_id
    ).delete()


@receiver(post_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts.user_rules")
def delete_user_rules(sender, instance, **kwargs):
    user_rules().filter(subject=instance.get_username()).delete()


@receiver(pre_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts.user_before_save")
def remember_stored_user(sender, instance, raw=False, update_fields=None, **kwargs):
    """The stored name and state of a user whose save may rename or deactivate them."""
    watched = {sender.USERNAME_FIELD, "is_active"}
    if raw or instance._state.adding:
        return
    if update_fields is not None and not watched & set(update_fields):
        return  # e.g. the last_login of every sign-in
    stored = sender.objects.filter(pk=instance.pk).values(*watched).first()
    setattr(instance, STORED, stored)


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts.user_after_save")
def follow_user_changes(sender, instance, raw=False, **kwargs):
    stored = instance.__dict__.pop(STORED, None)
    if raw or stored is None:
        return
    old_name, new_name = stored[sender.USERNAME_FIELD], instance.get_username()
    if old_name != new_name:
        move_user_rules(old_name, new_name)
    if stored["is_active"] and not instance.is_active:
        TokenGeneration.advance(instance)


def user_rules():
    return AccessRule.objects.filter(subject_type=SubjectType.USER)


def move_user_rules(old_name: str, new_name: str) -> None:
    """A renamed user's rules, joined with any already written for the new name."""
    with transaction.atomic():
        held = set(user_rules().filter(subject=new_name).values_list("role", "scope_key"))
        moving = user_rules().filter(subject=old_name)
        duplicates = [rule.pk for rule in moving if (rule.role, rule.scope_key) in held]
        user_rules().filter(pk__in=duplicates).delete()
        moving.update(subject=new_name)
