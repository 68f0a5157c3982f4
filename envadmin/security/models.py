"""Failed sign-ins, counted in a table of their own rather than in Django's cache: a cache
culls or evicts keys when it fills up (the database cache drops a third of its keys once it
holds MAX_ENTRIES), so junk sign-ins could wipe a victim's counter. Rows here leave only when
their window has ended, and every instance on the database counts the same attempts."""

from django.db import models


class LoginFailures(models.Model):
    # "user:<sha256 of username and address>" or "address:<sha256 of address>".
    key = models.CharField(max_length=80, unique=True)
    failures = models.PositiveIntegerField(default=0)
    # The window starts at the first failure and is never extended by later ones.
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name_plural = "login failures"

    def __str__(self):
        return f"{self.key}: {self.failures} until {self.expires_at:%Y-%m-%d %H:%M:%S}"
