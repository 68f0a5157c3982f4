"""One row per environment whose lifecycle was ever set; an environment without one is active.

Plain values, no foreign key: in proxy mode the environment lives in Run:ai, not here."""

from django.db import models

MESSAGE_LENGTH = 500
ID_LENGTH = 64  # as the audit trail keeps asset ids


class State(models.TextChoices):
    ACTIVE = "active"
    DEPRECATED = "deprecated"
    ARCHIVED = "archived"


class Lifecycle(models.Model):
    asset_id = models.CharField(max_length=ID_LENGTH, unique=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.ACTIVE)
    message = models.CharField(max_length=MESSAGE_LENGTH, blank=True)
    # The environment to use instead (its asset id); null: none named.
    replacement = models.CharField(max_length=ID_LENGTH, null=True, blank=True)
    updated_by = models.CharField(max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["state"], name="lifecycle_state")]

    def __str__(self):
        return f"{self.asset_id}: {self.state}"

    def as_dict(self) -> dict:
        return {"state": self.state, "message": self.message, "replacement": self.replacement}
