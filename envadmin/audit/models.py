"""One recorded change of an environment. Plain values only, no foreign keys: an event
outlives the environment, the account and the org node it names."""

from django.db import models
from django.utils import timezone


class Action(models.TextChoices):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    RESTORE = "restore"  # an update back to an earlier revision's name, description and spec
    # A version envadmin read (proxy mode: changed outside envadmin; or there before revisions).
    OBSERVED = "observed"


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


class Revision(models.Model):
    """One version of an environment: the whole document as a read answered it right after a
    change (for a delete: the last one). Numbered 1.. per environment in the order of changes.
    Plain values only, like AuditEvent, so versions outlive the environment."""

    asset_id = models.CharField(max_length=64)
    revision = models.PositiveIntegerField()
    action = models.CharField(max_length=8, choices=Action.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.CharField(max_length=255, blank=True)  # blank: unknown (observed)
    origin = models.CharField(max_length=8, blank=True)
    event_id = models.BigIntegerField(null=True)  # the AuditEvent recorded with it, if any
    update_count = models.IntegerField(null=True)
    asset_name = models.CharField(max_length=255, blank=True)
    scope_key = models.CharField(max_length=80, db_index=True)
    scope_path = models.CharField(max_length=1024, blank=True)
    changes = models.JSONField(default=list)  # from the previous revision, as in AuditEvent
    document = models.JSONField()
    # A restore names the revision it went back to; an undeleted environment's first revision
    # names the deleted environment and its revision.
    restored_from_asset = models.CharField(max_length=64, blank=True, db_index=True)
    restored_from_revision = models.PositiveIntegerField(null=True)

    class Meta:
        ordering = ["asset_id", "-revision"]
        constraints = [
            models.UniqueConstraint(fields=["asset_id", "revision"], name="revision_number"),
            # Two processes reading the same outside change record it once.
            models.UniqueConstraint(
                fields=["asset_id", "update_count"],
                condition=models.Q(action="observed"),
                name="observed_once",
            ),
        ]

    def __str__(self):
        return f"{self.asset_name} r{self.revision} {self.action}"

    @property
    def restored_from(self):
        """`n` for a restore within the environment, {assetId, revision} for an undelete."""
        if not self.restored_from_asset:
            return None
        if self.restored_from_asset == self.asset_id:
            return self.restored_from_revision
        return {"assetId": self.restored_from_asset, "revision": self.restored_from_revision}
