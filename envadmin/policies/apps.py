from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    """Local workload policies, one per workload type and scope node."""

    name = "envadmin.policies"
    label = "policies"
    default_auto_field = "django.db.models.BigAutoField"
