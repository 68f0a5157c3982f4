"""Where the environments live: the EnvironmentBackend interface (base.py), envadmin's own
database (local.py) or a Run:ai control plane (runai.py), chosen by settings.ENVADMIN_BACKEND.

Also a Django app, for the check_runai command.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import EnvironmentBackend


def get_backend() -> "EnvironmentBackend":
    """The backend chosen by settings.ENVADMIN_BACKEND."""
    # Imported here: Django loads this package as an app before any model is ready.
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    if settings.ENVADMIN_BACKEND == "local":
        from .local import LocalBackend

        return LocalBackend()
    if settings.ENVADMIN_BACKEND == "runai":
        from .runai import RunaiBackend

        return RunaiBackend()
    raise ImproperlyConfigured(
        f"ENVADMIN_BACKEND={settings.ENVADMIN_BACKEND!r} is not available; use 'local' or 'runai'."
    )
