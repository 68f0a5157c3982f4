from django.apps import AppConfig


class InventoryConfig(AppConfig):
    """The local model: org tree, environments, workloads and templates."""

    name = "envadmin.inventory"
    label = "inventory"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import lookups  # noqa: F401 - registers field__any
