from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "envadmin.security"
    label = "security"

    def ready(self):
        from . import signals  # noqa: F401  (connects the sign-in lockout's counters)
