from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    """envadmin's own lifecycle of an environment (active, deprecated, archived), keyed by its
    asset id so that it works alike over the local database and over Run:ai (proxy mode)."""

    name = "envadmin.lifecycle"
    label = "lifecycle"
    default_auto_field = "django.db.models.BigAutoField"
