"""Settings shared by every environment, read from the environment.

Embedded defaults serve a laptop with nothing installed: SQLite, no broker (Celery
runs tasks eagerly), console mailer, sandbox providers on. ``prod.py`` refuses to start
without the secrets production needs.
"""

import os
from pathlib import Path

from django.utils.csp import CSP

from integrations.registry import channel_apis

from .environment import StrictEnv

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# Every boolean, integer and URL variable is read strictly: a malformed one stops
# start-up with a message naming it (octopods/settings/environment.py).
env = StrictEnv()
# Variables already in the environment win over the file.
StrictEnv.read_env(env.str("ENV_FILE", default=str(BASE_DIR / ".env")), overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The public address of this deployment, used in links we e-mail and in the URLs we
# give providers (OAuth redirect, webhooks). Behind a proxy the request's own host is
# not what the provider signed, so we never derive it from the request.
PUBLIC_BASE_URL = env.web_url("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "octopods",
    "accounts",
    "workspaces",
    "integrations",
    "channels",
    "relay",
    "inboxapp",
]

MIDDLEWARE = [
    # Outermost: /healthz and /readyz answered before Host validation and the https
    # redirect, which a load balancer's probe of the container's IP would fail
    # (octopods/health.py).
    "octopods.health.HealthMiddleware",
    "octopods.metrics.RequestMetricsMiddleware",  # times every request, by route name
    # Then: whatever fails on an unreachable database answers 503 + Retry-After.
    "octopods.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.CurrentAccountMiddleware",
    # Times in the viewer's own zone (the browser's, from a cookie); UTC without it.
    "accounts.middleware.ViewerTimeZoneMiddleware",
]

ROOT_URLCONF = "octopods.urls"
WSGI_APPLICATION = "octopods.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.current_account",
            ],
            # {% timestamp %} on every page without a {% load %}.
            "builtins": [
                "accounts.templatetags.timestamps",
                # {% url %} reversing each distinct link once per process.
                "octopods.templatetags.kept_urls",
            ],
        },
    },
]


def postgres_options(*, statement_timeout: int, url_options: dict) -> dict:
    """libpq connection parameters; those in DATABASE_URL's query string win.

    An unreachable server fails a connect in seconds rather than the kernel's minutes;
    TCP keepalives find a connection whose server vanished without a word (a failover
    that moved its address) in about a minute instead of never; and a statement that
    runs (or waits on a lock) longer than ``statement_timeout`` seconds is cancelled,
    so a slow database answers a webhook 503 in time (octopods/middleware.py) instead
    of holding it past the provider's timeout (5 s for Intercom). 0: no limit.
    """
    options = {
        "connect_timeout": env.int("DB_CONNECT_TIMEOUT", default=3),
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
    }
    if statement_timeout:
        options["options"] = f"-c statement_timeout={statement_timeout * 1000}"
    return {**options, **url_options}


DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
POSTGRESQL = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
if POSTGRESQL:
    # Django's backend with a health check that asks the socket before it sends
    # SELECT 1 (octopods/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "octopods.postgresql"
    # Persistent connections: without them every request pays a PostgreSQL fork and
    # authentication (a third of the webhook throughput on this hardware).
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    # A kept connection is checked before its first query after a request or task
    # (close_old_connections), so a restarted PostgreSQL costs one reconnect, not a
    # failed request.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"]["OPTIONS"] = postgres_options(
        statement_timeout=env.int("DB_STATEMENT_TIMEOUT", default=3),
        url_options=DATABASES["default"].get("OPTIONS", {}),
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.redis_url("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions are read from Redis and written through to the database (accounts/sessions.py):
# a signed-in page no longer queries the database for its session. Only with a cache
# that every process shares; without Redis, sessions stay in the database alone.
if REDIS_URL:
    SESSION_ENGINE = "accounts.sessions"

# --- Celery -------------------------------------------------------------------------
CELERY_BROKER_URL = env.redis_url("CELERY_BROKER_URL", default=REDIS_URL)
# With no broker configured, run tasks in-process so a laptop needs nothing installed.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
# Redis redelivers an unacknowledged task after the visibility timeout; it must be
# longer than any task can run (or a slow task would run twice at once), and short
# enough that a killed worker's tasks come back soon. The relay's rows decide what is
# done, so a redelivered task is harmless. Socket timeouts keep a publish from
# hanging on an unreachable Redis.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 300,
    "socket_connect_timeout": 5,
    "socket_timeout": 30,
}
# kombu's Redis transport with a fix for a worker that died when Redis did
# (octopods/broker.py). Only for plain redis:// URLs: rediss:// keeps kombu's own, whose
# TLS defaults hang on the scheme's name.
if CELERY_BROKER_URL.startswith("redis://"):
    CELERY_BROKER_TRANSPORT = "octopods.broker:Transport"
# A worker waits out a Redis outage of any length, also one that starts before Redis
# does (Celery's default gives up after 100 attempts, some 45 minutes, and exits).
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# A task that can no longer be acknowledged (the broker connection dropped) is stopped,
# not run a second time in parallel when Redis hands it out again.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup closes the DB connection after every task unless told to
# reuse it; reuse more than doubles worker throughput.
CELERY_DB_REUSE_MAX = 1000
CELERY_TIMEZONE = "UTC"
# Beat's scheduler touches HEARTBEAT_FILE as it goes (octopods/celery.py).
CELERY_BEAT_SCHEDULER = "octopods.celery:HeartbeatScheduler"
# A file the Celery worker and beat touch every few seconds, for the container's health
# check (docker-compose.yml) to compare with the clock. Empty: none.
HEARTBEAT_FILE = env.str("HEARTBEAT_FILE", default="")
# A static schedule: django-celery-beat does not support Django 6.1.
CELERY_BEAT_SCHEDULE = {
    "check-inbox-connections": {
        "task": "integrations.check_connections",
        "schedule": 6 * 60 * 60,
    },
    # WhatsApp templates as Meta has them (status updates also arrive by webhook).
    "sync-whatsapp-templates": {
        "task": "channels.sync_all_templates",
        "schedule": 3 * 60 * 60,
    },
    # Re-wakes whatever is due and not in flight: a lost wake-up costs this much delay.
    "relay-sweep": {
        "task": "channels.sweep",
        "schedule": 15,
    },
}

# --- Auth and allauth ---------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "workspaces:index"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["account_name*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupForm"
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Octopods] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if PUBLIC_BASE_URL.startswith("https") else "http"
# allauth's rate limits are on by default; they need a real cache (Redis in
# production, local memory elsewhere).
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
}

# --- Mail ---------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Octopods <no-reply@octopods.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    _email = env.email_url("EMAIL_URL")
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _email["EMAIL_HOST"],
                "port": _email["EMAIL_PORT"],
                "username": _email["EMAIL_HOST_USER"],
                "password": _email["EMAIL_HOST_PASSWORD"],
                "use_tls": _email.get("EMAIL_USE_TLS", False),
                "use_ssl": _email.get("EMAIL_USE_SSL", False),
                "timeout": 10,
            },
        }
    }
else:
    # Printed so that a link in it can be clicked as printed (octopods/mail.py).
    MAILERS = {"default": {"BACKEND": "octopods.mail.ConsoleEmailBackend"}}

# --- Secrets at rest ----------------------------------------------------------------
# Fernet keys, newest first: the first encrypts, all decrypt. Separate from SECRET_KEY.
TOKEN_ENCRYPTION_KEYS = env.list("TOKEN_ENCRYPTION_KEYS", default=[])

# --- Providers ----------------------------------------------------------------------
# Sandbox providers stand in for Intercom, HubSpot and the channel providers when the
# product runs locally; never in production.
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=False)
# Provider addresses come from settings so the sandbox can stand in for them; the product
# code has no sandbox special case.
INTERCOM_CLIENT_ID = env.str("INTERCOM_CLIENT_ID", default="")
INTERCOM_CLIENT_SECRET = env.str("INTERCOM_CLIENT_SECRET", default="")
INTERCOM_AUTHORIZE_URL = env.web_url(
    "INTERCOM_AUTHORIZE_URL", default="https://app.intercom.com/oauth"
)
INTERCOM_API_URL = env.web_url("INTERCOM_API_URL", default="https://api.intercom.io")
INTERCOM_API_VERSION = env.str("INTERCOM_API_VERSION", default="2.14")
# The app's package code (Developer Hub), which Intercom stamps on parts the app writes
# through the API: replies with it are our own echoes. Empty: skip every API-written part.
INTERCOM_APP_PACKAGE_CODE = env.str("INTERCOM_APP_PACKAGE_CODE", default="")
HUBSPOT_CLIENT_ID = env.str("HUBSPOT_CLIENT_ID", default="")
HUBSPOT_CLIENT_SECRET = env.str("HUBSPOT_CLIENT_SECRET", default="")
HUBSPOT_AUTHORIZE_URL = env.web_url(
    "HUBSPOT_AUTHORIZE_URL", default="https://app.hubspot.com/oauth/authorize"
)
HUBSPOT_API_URL = env.web_url("HUBSPOT_API_URL", default="https://api.hubapi.com")
# The HubSpot app's id, and its developer account's API key: together they register the
# app's custom channel (only `manage.py hubspot_custom_channel` uses the key). The id
# also tells our own messages apart in HubSpot's webhooks.
HUBSPOT_APP_ID = env.str("HUBSPOT_APP_ID", default="")
HUBSPOT_DEVELOPER_API_KEY = env.str("HUBSPOT_DEVELOPER_API_KEY", default="")
# The app's custom channel, created once by `manage.py hubspot_custom_channel`: every
# Octopods channel becomes a channel account of it in a HubSpot inbox.
HUBSPOT_CUSTOM_CHANNEL_ID = env.str("HUBSPOT_CUSTOM_CHANNEL_ID", default="")
# Custom channels need these (PROVIDERS.md §2.1); `oauth` is implied by every app.
HUBSPOT_SCOPES = env.list(
    "HUBSPOT_SCOPES",
    default=[
        "oauth",
        "conversations.read",
        "conversations.custom_channels.read",
        "conversations.custom_channels.write",
        "crm.objects.contacts.write",
    ],
)
# Channel providers' APIs (PROVIDERS.md §3-6), one setting each as the registry names
# it (TELEGRAM_API_URL, META_GRAPH_API_URL, TWILIO_API_URL); settings so the sandbox can
# stand in.
for _api in channel_apis():
    globals()[_api.setting] = env.web_url(_api.setting, default=_api.default)
del _api
# Refresh HubSpot access tokens this long before they expire.
HUBSPOT_REFRESH_MARGIN_SECONDS = env.int("HUBSPOT_REFRESH_MARGIN_SECONDS", default=300)
# Largest webhook body we read; Meta batches several events per POST.
WEBHOOK_MAX_BYTES = env.int("WEBHOOK_MAX_BYTES", default=512 * 1024)
# Largest customer file carried into the inbox (WhatsApp allows 100 MB documents;
# Intercom's attachments stop well before that).
MEDIA_MAX_BYTES = env.int("MEDIA_MAX_BYTES", default=25 * 1024 * 1024)
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "media"))


def media_storage() -> dict:
    """Where customer files are kept: an S3-compatible bucket when MEDIA_S3_BUCKET is
    set (AWS S3, MinIO, Cloudflare R2, ...), the local disk under MEDIA_ROOT otherwise.

    Web and worker processes must all see the same place: the worker stores a file, any
    web process serves it behind our signed link (relay/media.py). The bucket stays
    private; Octopods reads it with its own credentials and streams the file. Without
    MEDIA_S3_ACCESS_KEY_ID, boto3 finds credentials its usual way (AWS_ACCESS_KEY_ID /
    AWS_SECRET_ACCESS_KEY, a profile, an instance or task role).
    """
    bucket = env.str("MEDIA_S3_BUCKET", default="").strip()
    if not bucket:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    from botocore.config import Config

    endpoint_url = env.str("MEDIA_S3_ENDPOINT_URL", default="").strip() or None
    # Self-hosted servers (MinIO, a test server on an IP address) want the bucket in the
    # path; AWS works either way.
    addressing_style = env.str(
        "MEDIA_S3_ADDRESSING_STYLE", default="path" if endpoint_url else "auto"
    )
    options = {
        "bucket_name": bucket,
        "endpoint_url": endpoint_url,
        "region_name": env.str("MEDIA_S3_REGION", default="").strip() or None,
        "access_key": env.str("MEDIA_S3_ACCESS_KEY_ID", default="") or None,
        "secret_key": env.str("MEDIA_S3_SECRET_ACCESS_KEY", default="") or None,
        # Keys under this prefix, so a bucket can be shared with other uses.
        "location": env.str("MEDIA_S3_PREFIX", default="").strip("/"),
        # Private objects, never a public URL: files leave only through our link.
        "default_acl": None,
        "querystring_auth": True,
        # A second file of the same name gets a name of its own, as on disk: a
        # message's stored path never starts pointing at another file.
        "file_overwrite": False,
        # A file being served is read into memory up to this size, then a temporary
        # file (a 25 MB video does not sit in a web worker's memory).
        "max_memory_size": 1024 * 1024,
        # An unreachable bucket fails an attempt in seconds (the relay retries it
        # later) instead of holding a relay thread or a web worker for minutes.
        "client_config": Config(
            connect_timeout=5,
            read_timeout=20,
            retries={"max_attempts": 3, "mode": "standard"},
            signature_version="s3v4",
            s3={"addressing_style": addressing_style},
        ),
    }
    # Unset values are left to django-storages and boto3's own defaults.
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {name: value for name, value in options.items() if value is not None},
    }


MEDIA_STORAGE = media_storage()
# How long a worker holds a contact it relays: longer than a relay task may run
# (CELERY_TASK_TIME_LIMIT), so a live worker never loses it; a killed worker's contact
# is picked up again after this.
RELAY_LEASE_SECONDS = env.int("RELAY_LEASE_SECONDS", default=120)
# A thread per worker process renews the leases it holds (relay/lease.py).
RELAY_LEASE_KEEPER = True
# Run the relay in the web process (a background thread) instead of a Celery worker:
# the default when there is no broker, so a laptop relays with nothing else running.
RELAY_IN_PROCESS = env.bool("RELAY_IN_PROCESS", default=not CELERY_BROKER_URL)
# Threads each worker process relays contacts on (relay/dispatch.py). Provider
# calls are waits, not work: enough threads to keep a provider's latency from capping
# throughput (README, "Scaling").
RELAY_THREADS = env.int("RELAY_THREADS", default=32)
# /readyz answers "not ready" when the oldest message that is due to be relayed has
# waited longer than this many seconds (octopods/health.py): the relay is stuck or far
# behind. Retries backing off are not due until their time.
READY_MAX_BACKLOG_AGE = env.int("READY_MAX_BACKLOG_AGE", default=300)
# Seconds each of /readyz's checks may take before it counts as "not ok".
READY_CHECK_TIMEOUT = env.int("READY_CHECK_TIMEOUT", default=2)
# Outbound HTTP to providers: (connect, read) seconds.
PROVIDER_HTTP_TIMEOUT = (5, 15)
# Prometheus (octopods/metrics.py, README "Metrics"): /metrics answers a scraper with
# this bearer token, and is off without it; a Celery worker serves its own metrics on
# METRICS_PORT (0: none), on METRICS_ADDR.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_PORT = env.int("METRICS_PORT", default=0)
METRICS_ADDR = env.str("METRICS_ADDR", default="0.0.0.0")  # noqa: S104 - a pod's scraper


def sandbox_provider_settings(public_base_url: str) -> dict:
    """Defaults that point every provider at the local sandbox (dev and tests only).

    Each one still yields to its environment variable, so a developer can point a
    single provider at the real service.
    """
    sandbox = f"{public_base_url}/sandbox"
    if public_base_url.startswith("http://"):
        # oauthlib refuses token endpoints over plain http; the sandbox on a laptop (and
        # in the tests) is served that way. Production never calls this function.
        os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
    defaults = {
        "INTERCOM_CLIENT_ID": "sandbox-intercom-client",
        "INTERCOM_CLIENT_SECRET": "sandbox-intercom-secret",
        "INTERCOM_AUTHORIZE_URL": f"{sandbox}/intercom/oauth",
        "INTERCOM_API_URL": f"{sandbox}/intercom/api",
        "HUBSPOT_CLIENT_ID": "sandbox-hubspot-client",
        "HUBSPOT_CLIENT_SECRET": "sandbox-hubspot-secret",
        "HUBSPOT_AUTHORIZE_URL": f"{sandbox}/hubspot/oauth/authorize",
        "HUBSPOT_API_URL": f"{sandbox}/hubspot/api",
        "HUBSPOT_APP_ID": "7000001",
        "HUBSPOT_DEVELOPER_API_KEY": "5a0d1e2f-0c7b-4e4a-9f31-5b0c5a4d0001",
        "HUBSPOT_CUSTOM_CHANNEL_ID": "4000001",
    }
    defaults.update({api.setting: f"{sandbox}/{api.sandbox_path}" for api in channel_apis()})
    return {
        name: (env.web_url if name.endswith("_URL") else env.str)(name, default=value)
        for name, value in defaults.items()
    }


# --- Security headers ---------------------------------------------------------------


def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    # Forms post only to us. Chromium applies form-action to a form's redirects too, and
    # Connect posts to us and is redirected to the inbox's sign-in page.
    "form-action": [
        CSP.SELF,
        *sorted({_origin(INTERCOM_AUTHORIZE_URL), _origin(HUBSPOT_AUTHORIZE_URL)}),
    ],
}
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SAMESITE = "Lax"  # Strict would drop the session on the OAuth redirect back.

# --- I18N, static -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# json: one object per line for a log pipeline (production's default); plain: a line a
# person reads (everywhere else). octopods/logs.py has both and the correlation id.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")


def logging_config(*, level: str, log_format: str) -> dict:
    """Django's LOGGING (Celery's workers use it too: octopods/celery.py)."""
    if log_format not in ("json", "plain"):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, not {log_format!r}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"correlation": {"()": "octopods.logs.CorrelationFilter"}},
        "formatters": {
            "plain": {"()": "octopods.logs.PlainFormatter"},
            "json": {"()": "octopods.logs.JsonFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["correlation"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "INFO"},
            # Their DEBUG lines print token requests and responses, secrets included.
            "requests_oauthlib": {"level": "INFO"},
            "oauthlib": {"level": "INFO"},
        },
    }


LOGGING = logging_config(level=LOG_LEVEL, log_format=LOG_FORMAT)

# --- Error reports ------------------------------------------------------------------
# Sentry, when a DSN is given (octopods/errors.py): Django's and Celery's errors, with
# the same secrets masked as in the logs and the correlation id as a tag.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="development")
SENTRY_RELEASE = env.str("SENTRY_RELEASE", default="")
