"""Settings, read from the environment.

Every knob is an environment variable documented in the README. The helpers below fail loudly
on a value they cannot read: a typo in production must stop the process, not fall back quietly.
"""

from __future__ import annotations

import os
import zoneinfo
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no)")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}")
    return value


def env_seconds_list(name: str, default: str) -> tuple[int, ...]:
    """A comma-separated list of whole seconds, at least one, each at least 1."""
    raw = env_str(name, default)
    try:
        values = tuple(int(part) for part in raw.split(","))
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a list of seconds: 5,30,60") from None
    if not values or min(values) < 1:
        raise ImproperlyConfigured(f"{name}={raw!r}: every delay is at least 1 second")
    return values


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def email_settings(url: str) -> dict[str, object]:
    """EMAIL_URL -> Django email settings: smtp://user:pass@host:587?tls=1, smtps://..., console:,
    locmem:, dummy:. Credentials may be percent-encoded."""
    parts = urlsplit(url)
    backends = {
        "smtp": "django.core.mail.backends.smtp.EmailBackend",
        "smtps": "django.core.mail.backends.smtp.EmailBackend",
        "console": "django.core.mail.backends.console.EmailBackend",
        "locmem": "django.core.mail.backends.locmem.EmailBackend",
        "dummy": "django.core.mail.backends.dummy.EmailBackend",
    }
    if parts.scheme not in backends:
        raise ImproperlyConfigured(
            f"EMAIL_URL scheme {parts.scheme!r} is not one of {', '.join(sorted(backends))}"
        )
    config: dict[str, object] = {"EMAIL_BACKEND": backends[parts.scheme]}
    if parts.scheme in {"smtp", "smtps"}:
        if not parts.hostname:
            raise ImproperlyConfigured("EMAIL_URL needs a host, e.g. smtp://user:pass@host:587")
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        config.update(
            EMAIL_HOST=parts.hostname,
            EMAIL_PORT=parts.port or (465 if parts.scheme == "smtps" else 587),
            EMAIL_HOST_USER=unquote(parts.username or ""),
            EMAIL_HOST_PASSWORD=unquote(parts.password or ""),
            EMAIL_USE_SSL=parts.scheme == "smtps",
            EMAIL_USE_TLS=parts.scheme == "smtp" and query.get("tls", "1") in _TRUE,
            EMAIL_TIMEOUT=10,
        )
    return config


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required unless DEBUG=1")
    SECRET_KEY = "insecure-development-key-only-for-debug-" + "x" * 20

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
if not ALLOWED_HOSTS:
    # Without it every request would be answered 400: say so at start, not per request.
    raise ImproperlyConfigured("ALLOWED_HOSTS is required unless DEBUG=1, e.g. orders.example.com")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "orders",
    "shopify",
    "edits",
    "returns",
    "offers",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "portal.middleware.language_choice",
    "portal.middleware.shopper_region",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# The demo runs on an embedded SQLite file; production and the tests use PostgreSQL.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    if urlsplit(REDIS_URL).scheme not in {"redis", "rediss", "unix"}:
        raise ImproperlyConfigured(f"REDIS_URL={REDIS_URL!r} is not a redis:// URL")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "portal"),
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    INSTALLED_APPS.append("django_rq")
    # The dashboard shows job internals (arguments, tracebacks): portal/admin.py registers it
    # for superusers only, instead of django-rq's own registration for all staff.
    RQ_SHOW_ADMIN_LINK = False
    # shopify/queue.py already sends jobs after commit; django-rq must not defer them again.
    RQ = {"COMMIT_MODE": "auto"}
    RQ_QUEUES = {
        name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 300}
        for name in ("default", "webhooks", "shopify")
    }
else:
    # Without Redis (the demo), counters live in this process and jobs run in-process after
    # commit. Rate limits then count per process: fine for a demo, not for production.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Languages the portal ships. English is the source; every other one has a complete catalogue
# (tests/test_translations.py fails otherwise).
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("fr", "Français"),
    ("es", "Español"),
    ("nl", "Nederlands"),
    ("ja", "日本語"),
    ("ar", "العربية"),
    ("it", "Italiano"),
    ("pt-br", "Português (Brasil)"),
    ("pl", "Polski"),
    ("sv", "Svenska"),
    ("zh-hans", "简体中文"),
    ("he", "עברית"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("TIME_ZONE", "UTC")
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE={TIME_ZONE!r} is not an IANA time zone") from None

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "media/"  # never served as it is: return photos are shown to agents only
# Photos shoppers add to a return (returns/photos.py).
# Post-purchase offers: at most this many shown on one order, and accepted on one order.
OFFERS_SHOWN_PER_ORDER = env_int("OFFERS_SHOWN_PER_ORDER", 3, minimum=1)
OFFERS_ACCEPTED_PER_ORDER = env_int("OFFERS_ACCEPTED_PER_ORDER", 3, minimum=1)
RETURN_PHOTO_MAX_BYTES = env_int("RETURN_PHOTO_MAX_BYTES", 8 * 1024 * 1024, minimum=1024)

for _key, _value in email_settings(
    env_str("EMAIL_URL", "console:" if DEBUG else "smtp://localhost:25?tls=0")
).items():
    globals()[_key] = _value
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "orders@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Security. Production sits behind TLS; SECURE_PROXY_SSL_HEADER tells Django which header the
# proxy sets. Every default below is the safe one; the README says how to relax each.
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# The portal usually lives on one subdomain of the merchant's domain (orders.shop.example):
# forcing HSTS on every sibling subdomain, or onto the browsers' preload list, is the merchant's
# decision, not a default. Both stay opt-in, so their deploy-check reminders are silenced.
SILENCED_SYSTEM_CHECKS = [
    check
    for check, enabled in (
        ("security.W005", SECURE_HSTS_INCLUDE_SUBDOMAINS),
        ("security.W021", SECURE_HSTS_PRELOAD),
    )
    if not enabled
]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many reverse proxies sit in front: the client address is then taken from
# X-Forwarded-For, counted from the right, so a shopper cannot forge it to dodge rate limits.
NUM_PROXIES = env_int("NUM_PROXIES", 0)

# Shopper access.
PORTAL_LINK_MAX_AGE_DAYS = env_int("PORTAL_LINK_MAX_AGE_DAYS", 90, minimum=1)
PORTAL_GRANT_MAX_AGE_MINUTES = env_int("PORTAL_GRANT_MAX_AGE_MINUTES", 120, minimum=1)
PORTAL_LOOKUP_MAX_FAILURES = env_int("PORTAL_LOOKUP_MAX_FAILURES", 5, minimum=1)
PORTAL_LOOKUP_WINDOW_MINUTES = env_int("PORTAL_LOOKUP_WINDOW_MINUTES", 15, minimum=1)
# The shop whose branding the lookup page wears when the portal serves several shops.
PORTAL_SHOP_DOMAIN = env_str("PORTAL_SHOP_DOMAIN")
# Public address of the portal, for links in emails and the demo's printed link.
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# Shopify.
SHOPIFY_API_VERSION = env_str("SHOPIFY_API_VERSION", "2026-07")
# Fernet key (32 url-safe base64 bytes) that encrypts shops' access tokens and client secrets at
# rest. Make one with: .venv/bin/python -c "from cryptography.fernet import Fernet as F;
# print(F.generate_key().decode())"
SHOPIFY_CREDENTIALS_KEY = env_str("SHOPIFY_CREDENTIALS_KEY")
if SHOPIFY_CREDENTIALS_KEY:
    from cryptography.fernet import Fernet

    try:
        Fernet(SHOPIFY_CREDENTIALS_KEY)
    except ValueError:
        raise ImproperlyConfigured(
            "SHOPIFY_CREDENTIALS_KEY is not a Fernet key (32 url-safe base64-encoded bytes)"
        ) from None
elif not DEBUG:
    raise ImproperlyConfigured("SHOPIFY_CREDENTIALS_KEY is required unless DEBUG=1")
# Larger webhook bodies are refused with 413 before they are read.
SHOPIFY_WEBHOOK_MAX_BYTES = env_int("SHOPIFY_WEBHOOK_MAX_BYTES", 5 * 1024 * 1024, minimum=1024)
# Where the Admin API answers: Shopify itself, unless the sandbox store plays it.
SHOPIFY_ADMIN_URL = env_str(
    "SHOPIFY_ADMIN_URL", "https://{domain}/admin/api/{version}/graphql.json"
)
SHOPIFY_CONNECT_TIMEOUT = env_int("SHOPIFY_CONNECT_TIMEOUT_SECONDS", 5, minimum=1)
SHOPIFY_READ_TIMEOUT = env_int("SHOPIFY_READ_TIMEOUT_SECONDS", 30, minimum=1)
# A dotted path to a factory of a requests transport adapter that reaches the Admin API
# in-process (the demo's sandbox store); empty means over the network.
SHOPIFY_TRANSPORT = ""
# The public address Shopify delivers webhooks to (manage.py register_webhooks).
SHOPIFY_WEBHOOK_URL = env_str("SHOPIFY_WEBHOOK_URL", f"{PORTAL_BASE_URL}/shopify/webhooks")
# The sandbox store plays Shopify (the demo, tests, benchmarks): `manage.py sandbox` serves it,
# and SANDBOX_URL points the Admin API client at it instead of the shops' real domains.
SANDBOX_URL = env_str("SANDBOX_URL").rstrip("/")
if SANDBOX_URL:
    SHOPIFY_ADMIN_URL = SANDBOX_URL + "/admin/api/{version}/graphql.json"
SANDBOX_ENABLED = env_bool("SANDBOX_ENABLED", DEBUG or bool(SANDBOX_URL))
if SANDBOX_ENABLED:
    INSTALLED_APPS.append("sandbox")
# Reconciliation re-reads orders changed since its last run, this often (manage.py rqcron).
SHOPIFY_RECONCILE_MINUTES = env_int("SHOPIFY_RECONCILE_MINUTES", 5, minimum=1)
# How long a worker holds a request it sends to Shopify (shopify/outbox.py): RQ stops the job at
# 80 % of it, which must leave room for one attempt (a few Admin API calls with the timeouts
# above, and the bucket's waits); a killed worker's request is sent again after it.
OUTBOX_LEASE_SECONDS = env_int(
    "OUTBOX_LEASE_SECONDS",
    max(300, 6 * (SHOPIFY_CONNECT_TIMEOUT + SHOPIFY_READ_TIMEOUT)),
    minimum=5,
)
# Seconds before each next attempt after a transient failure (the last one repeats; never sooner
# than Shopify's Retry-After). Eight attempts in all, then an agent looks.
OUTBOX_RETRY_SECONDS = env_seconds_list("OUTBOX_RETRY_SECONDS", "5,30,60,300,900")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
