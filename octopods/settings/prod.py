"""Production: every secret from the environment, sandbox off, HTTPS everywhere."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import LOG_LEVEL, MEDIA_STORAGE, env, logging_config

_missing = [
    name
    for name in (
        "SECRET_KEY",
        "DATABASE_URL",
        "TOKEN_ENCRYPTION_KEYS",
        # Rate limits and Celery need Redis; mandatory e-mail verification needs SMTP.
        "REDIS_URL",
        "EMAIL_URL",
    )
    if not env.str(name, default="").strip()
]
if _missing:
    raise ImproperlyConfigured(
        "Production settings need these environment variables: " + ", ".join(_missing)
    )

DEBUG = False
SANDBOX_ENABLED = False
SECRET_KEY = env.str("SECRET_KEY")
TOKEN_ENCRYPTION_KEYS = env.list("TOKEN_ENCRYPTION_KEYS")

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"
STORAGES = {
    # Customer files: S3-compatible storage when MEDIA_S3_BUCKET is set (base.py).
    "default": MEDIA_STORAGE,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# A log pipeline reads one JSON object per line (README, "Logs").
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = logging_config(level=LOG_LEVEL, log_format=LOG_FORMAT)
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="production")
