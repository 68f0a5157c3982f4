"""One recorded change of an environment. Plain values only, no foreign keys: an event
outlives the environment, the account and the org node it names."""

from django.db import models
from django.utils import timezone


class Action(models.TextChoices):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class Origin(models.TextChoices):
    UI = "ui", "UI"
    API = "api", "API"
    # `manage.py load_snapshot` (and the demo data): changes no person made through a face.
    SNAPSHOT = "snapshot", "Snapshot load"


class ActorType(models.TextChoices):
    USER = "user"
    APPLICATION = "application"


class AuditEvent(models.Model):
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.CharField(max_length=255, db_index=True)  # the caller's subject
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    origin = models.CharField(max_length=8, choices=Origin.choices)
    # The service account's client id or the token's subject; for the UI the username.
    client_id = models.CharField(max_length=255, blank=True)
    # Text, not an inet column: whatever the server reported must never fail the write.
    address = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=8, choices=Action.choices)
    asset_id = models.CharField(max_length=64, db_index=True)
    asset_name = models.CharField(max_length=255, blank=True)
    scope = models.CharField(max_length=16, blank=True)  # tenant, cluster, department, project
    scope_key = models.CharField(max_length=80, db_index=True)  # as inventory's scope_key()
    scope_path = models.CharField(max_length=1024, blank=True)  # readable, as it was then
    update_count = models.IntegerField(null=True)  # after the change (a delete: the last one)
    changes = models.JSONField(default=list)  # contract.diff.changes(): [{field, before, after}]

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.asset_name}"
