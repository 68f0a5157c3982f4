"""Settings come from environment variables; every default is safe for a local run."""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from envadmin.security import signing_key

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DJANGO_DEBUG", False)
# DJANGO_SECURE=1 is production: HTTPS only, a real key, no debug. Without it (`make run`, the
# tests' live servers) everything still works over plain http on loopback.
SECURE = env_bool("DJANGO_SECURE", False)
# Signs sessions, and API tokens unless ENVADMIN_TOKEN_SECRET is set.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if SECURE and DEBUG:
    raise ImproperlyConfigured("DJANGO_SECURE=1 is production: DJANGO_DEBUG must be off.")
if SECURE and not SECRET_KEY:
    # Every instance behind a load balancer must share the key: a file made here would not.
    raise ImproperlyConfigured("DJANGO_SECURE=1 needs DJANGO_SECRET_KEY (50+ random characters).")
# A local run keeps a random key of its own in a file git ignores (made on the first start).
ENVADMIN_SECRET_KEY_FILE = Path(
    os.environ.get("ENVADMIN_SECRET_KEY_FILE", BASE_DIR / ".envadmin/secret-key")
)
SECRET_KEY = signing_key.refuse_published(
    "DJANGO_SECRET_KEY",
    SECRET_KEY or signing_key.local_key(ENVADMIN_SECRET_KEY_FILE),
    production=SECURE,
)
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
    "envadmin.backends",
    "envadmin.snapshot",
    "envadmin.audit",
    "envadmin.security",
    "envadmin.lifecycle",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "envadmin.api.middleware.RejectNulMiddleware",
    "envadmin.api.middleware.UnsupportedMethodMiddleware",
    "envadmin.database_outage.DatabaseOutageMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
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
        # Connections are kept between requests: opening one costs PostgreSQL a new backend
        # process and an authentication (about 30 ms on 2 cores, more than most requests).
        # Health checks drop a connection the database closed (restart, outage) before a
        # request uses it. 0 closes it after each request (a pooler in front that wants that).
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # `make run` serves SQLite from several gunicorn workers: a write transaction takes the
    # write lock when it begins, and waits for it, instead of failing with "database is
    # locked" when two writers meet halfway.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "login"
# In proxy mode UI users sign in with their Run:ai account first; local accounts still work
# (they act through envadmin's service account). In local mode the first backend stands aside.
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out sign-in before any password is checked, on every sign-in path.
    "envadmin.security.login_backends.LockoutBackend",
    "envadmin.security.login_backends.RunaiPasswordBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_REDIRECT_URL = "environments:list"
LOGOUT_REDIRECT_URL = "login"

# The environment form posts one field per input: at the API's list caps (256 environment
# variables, 32 connections, every capability) it sends about 5,000. Django's default of 1,000
# would refuse an environment of 60 variables with a bare 400 and lose what the user typed.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 8_000

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
# A paged org-unit list is read to its end, but no further than this many pages (of 500) and
# this many seconds: past either, the page shows what it has and says so.
RUNAI_MAX_PAGES = int(os.environ.get("RUNAI_MAX_PAGES", "100"))
RUNAI_PAGING_SECONDS = float(os.environ.get("RUNAI_PAGING_SECONDS", "5"))
# The tenant every local asset belongs to; Run:ai reports it as meta.tenantId.
ENVADMIN_TENANT_ID = int(os.environ.get("ENVADMIN_TENANT_ID", "1001"))
ENVADMIN_TENANT_NAME = os.environ.get("ENVADMIN_TENANT_NAME", "envadmin")
# Revisions kept per environment, oldest pruned first (the latest always stays); empty: all.
_keep = os.environ.get("ENVADMIN_REVISIONS_KEEP", "").strip()
ENVADMIN_REVISIONS_KEEP = int(_keep) if _keep else None
if ENVADMIN_REVISIONS_KEEP is not None and ENVADMIN_REVISIONS_KEEP < 1:
    raise ImproperlyConfigured("ENVADMIN_REVISIONS_KEEP is a number of revisions: 1 or more.")
ENVADMIN_TOKEN_TTL_SECONDS = int(os.environ.get("ENVADMIN_TOKEN_TTL_SECONDS", "3600"))
ENVADMIN_REFRESH_TTL_SECONDS = int(os.environ.get("ENVADMIN_REFRESH_TTL_SECONDS", "86400"))
ENVADMIN_TOKEN_SECRET = signing_key.refuse_published(
    "ENVADMIN_TOKEN_SECRET",
    os.environ.get("ENVADMIN_TOKEN_SECRET") or SECRET_KEY,
    production=SECURE,
)

# --- Web security (README "Security") -------------------------------------------------------
# No inline script or style anywhere: htmx's indicator style is off (base.html's htmx-config) and
# its rules live in envadmin.css. NONCE appears in the header only on a page that used one (the
# Swagger UI page, templates/drf_spectacular/swagger_ui.html).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],  # Swagger UI draws its icons from data: URLs
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# htmx sends the token from the page (hx-headers on <body>): no script needs the cookie.
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE and env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000")) if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE and env_bool("DJANGO_HSTS_PRELOAD", True)
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", False):
    # Only behind a proxy that sets (and strips incoming) X-Forwarded-Proto: otherwise a client
    # could claim https itself.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Shared by every instance: sessions live in the database (Django's default backend); the cache
# (throttle counters, proxy mode's org units) is the database's table unless Redis is named.
CACHE_URL = os.environ.get("ENVADMIN_CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
        }
    }
elif CACHE_URL == "locmem://":  # one process only: counters are not shared
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
elif CACHE_URL:
    raise ImproperlyConfigured("ENVADMIN_CACHE_URL must be redis://..., rediss://... or locmem://")
else:
    # The table is created by envadmin/security's migration. Past MAX_ENTRIES Django culls a
    # third of the keys: far above what the token throttle (a key per address) and proxy mode's
    # org units (per caller) fill. Sign-in failures are not kept here (envadmin/security/models).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "envadmin_cache",
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

# Sign-in lockout (every sign-in path: the form, Django admin, the token password grant): per
# username and client address, and per address whatever the usernames (password spraying).
ENVADMIN_LOGIN_FAILURES = int(os.environ.get("ENVADMIN_LOGIN_FAILURES", "5"))
ENVADMIN_LOGIN_ADDRESS_FAILURES = int(os.environ.get("ENVADMIN_LOGIN_ADDRESS_FAILURES", "50"))
ENVADMIN_LOGIN_LOCKOUT_SECONDS = int(os.environ.get("ENVADMIN_LOGIN_LOCKOUT_SECONDS", "900"))
# Reverse proxies in front that append to X-Forwarded-For: the client address is the entry that
# many places from the right. 0 (direct): REMOTE_ADDR, and the header is never trusted.
ENVADMIN_TRUSTED_PROXIES = int(os.environ.get("ENVADMIN_TRUSTED_PROXIES", "0"))
if ENVADMIN_TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured("ENVADMIN_TRUSTED_PROXIES is a number of proxies: 0 or more.")
# POST /api/v1/token per client address, in DRF's rate syntax.
ENVADMIN_TOKEN_RATE = os.environ.get("ENVADMIN_TOKEN_RATE", "60/minute")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("ENVADMIN_LOG_LEVEL", "INFO")},
}
