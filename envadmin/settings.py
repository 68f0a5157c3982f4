"""Settings come from environment variables; every default is safe for a local run."""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DJANGO_DEBUG", False)
# A fixed development key is only acceptable when nothing is exposed: the README tells
# operators to set DJANGO_SECRET_KEY, and it also signs the API's access tokens.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "envadmin-insecure-development-key-change-me")
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "envadmin.accounts",
    "envadmin.inventory",
    "envadmin.policies",
    "envadmin.ui",
    "envadmin.runai",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "envadmin.api.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "envadmin.urls"
WSGI_APPLICATION = "envadmin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'envadmin.sqlite3'}",
        # 0 (Django's default) closes the connection after each request, which works behind any
        # pooler; a longer life saves the connect when the database is remote.
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "login"
# In proxy mode UI users sign in with their Run:ai account first; local accounts still work
# (they act through envadmin's service account). In local mode the first backend stands aside.
AUTHENTICATION_BACKENDS = [
    "envadmin.ui.runai_auth.RunaiPasswordBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_REDIRECT_URL = "environments:list"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# `make run` collects static files into STATIC_ROOT (compressed, served from there); the finders
# serve them too, so runserver and the tests work without a collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["envadmin.api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["envadmin.api.renderers.FastJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["envadmin.api.parsers.SafeJSONParser"],
    "EXCEPTION_HANDLER": "envadmin.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    # Run:ai's API has no ?format=: the parameter must not turn a valid request into a 404.
    "URL_FORMAT_OVERRIDE": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "envadmin API",
    "DESCRIPTION": "Run:ai-compatible environment API served by envadmin.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# envadmin's own settings.
ENVADMIN_BACKEND = os.environ.get("ENVADMIN_BACKEND", "local")
# Proxy mode (ENVADMIN_BACKEND=runai): the control plane envadmin forwards every action to.
RUNAI_URL = os.environ.get("RUNAI_URL", "")
RUNAI_CLIENT_ID = os.environ.get("RUNAI_CLIENT_ID", "")
RUNAI_CLIENT_SECRET = os.environ.get("RUNAI_CLIENT_SECRET", "")
RUNAI_CONNECT_TIMEOUT = float(os.environ.get("RUNAI_CONNECT_TIMEOUT", "3.05"))
RUNAI_READ_TIMEOUT = float(os.environ.get("RUNAI_READ_TIMEOUT", "10"))
RUNAI_RETRIES = int(os.environ.get("RUNAI_RETRIES", "2"))
# Org units and policies change rarely: cached this long per caller. Environments never are.
RUNAI_CACHE_SECONDS = int(os.environ.get("RUNAI_CACHE_SECONDS", "30"))
# The tenant every local asset belongs to; Run:ai reports it as meta.tenantId.
ENVADMIN_TENANT_ID = int(os.environ.get("ENVADMIN_TENANT_ID", "1001"))
ENVADMIN_TENANT_NAME = os.environ.get("ENVADMIN_TENANT_NAME", "envadmin")
ENVADMIN_TOKEN_TTL_SECONDS = int(os.environ.get("ENVADMIN_TOKEN_TTL_SECONDS", "3600"))
ENVADMIN_REFRESH_TTL_SECONDS = int(os.environ.get("ENVADMIN_REFRESH_TTL_SECONDS", "86400"))
ENVADMIN_TOKEN_SECRET = os.environ.get("ENVADMIN_TOKEN_SECRET", SECRET_KEY)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("ENVADMIN_LOG_LEVEL", "INFO")},
}
