from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Who may call envadmin: service accounts, access rules and API tokens."""

    name = "envadmin.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import signals  # noqa: F401 (connects the receivers)
