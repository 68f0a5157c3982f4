from django.apps import AppConfig


class UiConfig(AppConfig):
    """The web admin: server-rendered pages over the same backend interface as the API."""

    name = "envadmin.ui"
    label = "ui"
    default_auto_field = "django.db.models.BigAutoField"
