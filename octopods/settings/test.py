"""The test suite: DATABASE_URL / REDIS_URL when given (CI), embedded otherwise."""

import atexit
import shutil
import tempfile

from .base import *  # noqa: F403
from .base import (
    DATABASES,
    INSTALLED_APPS,
    POSTGRESQL,
    PUBLIC_BASE_URL,
    env,
    postgres_options,
    sandbox_provider_settings,
)

DEBUG = False
SECRET_KEY = "test-only-secret-key"
SANDBOX_ENABLED = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
# Rate limits run on local memory in tests so that they are exercised but isolated.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Production's sessions (Redis, written through to the database); the suite's server
# threads share this process's memory, so a local-memory cache is one cache here.
SESSION_ENGINE = "accounts.sessions"
CELERY_TASK_ALWAYS_EAGER = True
if POSTGRESQL:
    # No statement timeout unless asked for: the suite creates, migrates and empties its
    # databases on a busy machine. The tests of a slow database set one themselves.
    DATABASES["default"]["OPTIONS"] = postgres_options(
        statement_timeout=env.int("DB_STATEMENT_TIMEOUT", default=0),
        url_options=env.db_url("DATABASE_URL").get("OPTIONS", {}),
    )
# Tests run the relay where they choose to, never in a background thread.
RELAY_IN_PROCESS = False
# No background renewals inside the suite's own process (a test renews by hand); the
# worker processes of the reliability tests turn it on.
RELAY_LEASE_KEEPER = env.bool("RELAY_LEASE_KEEPER", default=False)
# A folder of this test run's own: files a run stores never meet another run's. The
# process that made it removes it when it exits (worker processes the tests start are
# given it in MEDIA_ROOT, and leave it alone).
MEDIA_ROOT = env.str("MEDIA_ROOT", default="")
if not MEDIA_ROOT:
    MEDIA_ROOT = tempfile.mkdtemp(prefix="octopods-test-media-")
    atexit.register(shutil.rmtree, MEDIA_ROOT, ignore_errors=True)
TOKEN_ENCRYPTION_KEYS = env.list(
    "TOKEN_ENCRYPTION_KEYS",
    default=[
        "dGVzdC1rZXktb25lLXRlc3Qta2V5LW9uZS10ZXN0LWs=",
        "dGVzdC1rZXktdHdvLXRlc3Qta2V5LXR3by10ZXN0LWs=",
    ],
)
# Serve static files from the source folders; tests never run collectstatic.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

if SANDBOX_ENABLED:
    globals().update(sandbox_provider_settings(PUBLIC_BASE_URL))
    INSTALLED_APPS = [*INSTALLED_APPS, "sandbox"]
