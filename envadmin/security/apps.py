from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "envadmin.security"
    label = "security"
