from django.apps import AppConfig


class SnapshotConfig(AppConfig):
    """The snapshot loader as a Django app: it holds the load_snapshot command."""

    name = "envadmin.snapshot"
    label = "snapshot"
