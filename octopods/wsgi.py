"""The WSGI application.

Providers' webhooks (``/hooks/``) are the product's hottest path and need none of what
a person's page needs — no session, user, CSRF token, messages, account or time zone,
static files or page headers — so they go through a handler of their own that runs only
``WEBHOOK_MIDDLEWARE``: the 503 for an unreachable database, the security redirect and
the common checks. Everything else gets the full ``MIDDLEWARE``. The two handlers share
the URLconf, the signals (connections are closed and checked per request as ever) and
the error handling; the webhook views are csrf_exempt either way.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "octopods.settings.prod")

pages = get_wsgi_application()  # sets Django up

from django.conf import settings  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402

from octopods import metrics  # noqa: E402

WEBHOOK_PREFIX = "/hooks/"
WEBHOOK_MIDDLEWARE = [
    "octopods.metrics.RequestMetricsMiddleware",
    "octopods.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]


class WebhookHandler(WSGIHandler):
    """Django's WSGI handler with WEBHOOK_MIDDLEWARE instead of MIDDLEWARE.

    Django builds a handler's chain from ``settings.MIDDLEWARE`` once, when the
    handler is made (django/core/handlers/base.py, ``load_middleware``); the setting
    is swapped for that moment only, at start-up, before any request is served.
    """

    def load_middleware(self, is_async=False):
        everything = settings.MIDDLEWARE
        settings.MIDDLEWARE = WEBHOOK_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = everything


webhooks = WebhookHandler()


def application(environ, start_response):
    if environ.get("PATH_INFO", "").startswith(WEBHOOK_PREFIX):
        return webhooks(environ, start_response)
    if (
        environ.get("PATH_INFO") in metrics.PATHS
        and (scraped := metrics.scrape(environ, start_response)) is not None
    ):
        return scraped
    return pages(environ, start_response)
