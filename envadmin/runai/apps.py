from django.apps import AppConfig


class RunaiConfig(AppConfig):
    """Proxy mode's pieces: the HTTP client, tokens, and the check_runai command."""

    name = "envadmin.runai"
    label = "runai"
