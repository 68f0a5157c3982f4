"""A deleted service account takes its access rules with it.

Rules name their subject by client id, not by foreign key (users and groups have rules too), so
the database cannot cascade: without this, a rule would outlive its account and grant its role
to any account that ever reuses the id.
"""

from django.db.models.signals import post_delete
from django.dispatch import receiver

from .models import AccessRule, ServiceAccount, SubjectType


@receiver(post_delete, sender=ServiceAccount, dispatch_uid="accounts.service_account_rules")
def delete_service_account_rules(sender, instance, **kwargs):
    AccessRule.objects.filter(
        subject_type=SubjectType.APPLICATION, subject=instance.client_id
    ).delete()
