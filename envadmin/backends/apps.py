from django.apps import AppConfig


class BackendsConfig(AppConfig):
    """The backends as a Django app: it holds the check_runai command."""

    name = "envadmin.backends"
    label = "backends"
