"""503, not 500, while the database cannot be reached.

A provider treats a 500 and a 503 alike (it retries, within its own window: README,
"When PostgreSQL or Redis goes away"), but a 503 with ``Retry-After`` says what
happened: the request was fine, nothing was stored, try again shortly. A webhook stores
its events in one transaction, so a request cut off by the database stored nothing and
its retry is stored exactly once.

"Cannot be reached" is Django's ``OperationalError`` (the server is down, restarting,
refuses connections, or a statement ran past ``DB_STATEMENT_TIMEOUT``: psycopg's
``QueryCanceled`` is one) and ``InterfaceError`` (a connection that broke under us).
Integrity and programming errors stay 500s: they are ours to fix, not to wait out.
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.views import defaults

logger = logging.getLogger(__name__)

# Long enough for PostgreSQL to restart or fail over, short enough that a sender which
# honours it does not wait out a blip.
RETRY_AFTER_SECONDS = 10
DATABASE_ERRORS = (OperationalError, InterfaceError)


def database_unavailable() -> HttpResponse:
    response = HttpResponse(
        "The service is briefly unavailable; nothing was stored. Try again shortly.\n",
        status=503,
        content_type="text/plain",
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """A view that fails on the database answers 503 with Retry-After."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_ERRORS):
            logger.warning("database unavailable for %s: %s", request.path, exception)
            return database_unavailable()
        return None


def server_error(request):
    """``handler500``: the same 503 when the error came from a middleware (a session or
    account lookup on a page) rather than a view; Django's 500 page otherwise. Django
    calls it while handling the exception (django/core/handlers/exception.py,
    ``response_for_exception``), so the exception is the one being handled."""
    if isinstance(sys.exception(), DATABASE_ERRORS):
        return database_unavailable()
    return defaults.server_error(request)
