import uuid

from django.db import models

from envadmin.inventory.models import SCOPE_CHOICES, WORKLOAD_TYPE_CHOICES


class Policy(models.Model):
    """A policy document in Run:ai's shape ({defaults, rules, imposedAssets}) on one node."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    workload_type = models.CharField(max_length=16, choices=WORKLOAD_TYPE_CHOICES)
    name = models.CharField(max_length=255)
    scope = models.CharField(max_length=16, choices=SCOPE_CHOICES)
    # The node, as inventory.models.scope_key() spells it.
    scope_key = models.CharField(max_length=80)
    document = models.JSONField(default=dict)
    created_by = models.CharField(max_length=255)
    created_at = models.DateTimeField()
    updated_by = models.CharField(max_length=255)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["workload_type", "scope_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["workload_type", "scope_key"], name="one_policy_per_type_and_node"
            )
        ]

    def __str__(self):
        return f"{self.workload_type} policy of {self.scope_key}"
