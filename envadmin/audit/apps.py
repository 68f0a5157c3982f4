from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The audit trail: who changed which environment, when, from where, field by field."""

    name = "envadmin.audit"
    label = "audit"
    default_auto_field = "django.db.models.BigAutoField"
