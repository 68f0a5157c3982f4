"""Access rules end with the service account they belong to; tokens with the user state.

Rules name their subject by client id, not by foreign key (users and groups have rules too), so
the database cannot cascade: without the receiver below, a rule would outlive its account and
grant its role to any account that ever reuses the id. Tokens need no clean-up: they name their
account by primary key and carry a stamp of its state (subjects.py); deactivating a user moves
its token generation on, so that reactivating it does not bring back the tokens issued before.
"""

from django.conf import settings
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from .models import AccessRule, ServiceAccount, SubjectType, TokenGeneration

STORED = "_accounts_stored_before_save"


@receiver(post_delete, sender=ServiceAccount, dispatch_uid="accounts.service_account_rules")
def delete_service_account_rules(sender, instance, **kwargs):
    AccessRule.objects.filter(
        subject_type=SubjectType.APPLICATION, subject=instance.client_id
    ).delete()


@receiver(pre_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts.user_before_save")
def remember_stored_user(sender, instance, raw=False, update_fields=None, **kwargs):
    """The stored state of a user whose save may deactivate them."""
    watched = {"is_active"}
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
    if stored["is_active"] and not instance.is_active:
        TokenGeneration.advance(instance)
