from django.conf import settings
from django.db import models


class Preference(models.Model):
    """What a user chose once and expects to find again: columns, page size, "review as"."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="envadmin_preference"
    )
    columns = models.JSONField(default=list, blank=True)  # empty: the default set
    page_size = models.PositiveSmallIntegerField(default=25)
    review_project = models.IntegerField(null=True, blank=True)
    review_workload_type = models.CharField(max_length=16, blank=True, default="")

    def __str__(self):
        return f"preferences of {self.user}"

    @classmethod
    def of(cls, user) -> "Preference":
        preference, _ = cls.objects.get_or_create(user=user)
        return preference
