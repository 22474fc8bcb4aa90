"""A laptop: SQLite, no broker, console mailer, sandbox providers on."""

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, PUBLIC_BASE_URL, env, sandbox_provider_settings

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=True)
# A fixed development key so a laptop can store tokens without configuring anything.
# Production refuses to start without its own keys.
TOKEN_ENCRYPTION_KEYS = env.list(
    "TOKEN_ENCRYPTION_KEYS", default=["ZGV2LW9ubHktdG9rZW4tZW5jcnlwdGlvbi1rZXktMzI="]
)

if SANDBOX_ENABLED:
    globals().update(sandbox_provider_settings(PUBLIC_BASE_URL))
    INSTALLED_APPS = [*INSTALLED_APPS, "sandbox"]
