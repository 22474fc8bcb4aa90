"""Error reports to Sentry, when SENTRY_DSN is set.

Django's and Celery's integrations report unhandled errors (a view's 500, a task that
raised) and error log lines. Nothing personal is sent (no user identity, no request bodies), and
every report goes through ``before_send``: the same secrets as in the logs are masked
(octopods/log_masking.py) in every text of the event — messages, exception values,
the request's URL and query string, breadcrumbs, a frame's local values — and any value
whose name says it is secret (a header, a variable, a form field) is masked whole. The
event is tagged with the correlation id of what failed (octopods/logs.py), so the
report leads to the log lines of the same message.
"""

import logging

from django.conf import settings

from . import logs
from .log_masking import MASK, mask

logger = logging.getLogger(__name__)

# Names whose values are secret whatever they hold.
_SECRET_NAMES = (
    "token",
    "secret",
    "password",
    "passwd",
    "authorization",
    "cookie",
    "signature",
    "credential",
    "api_key",
    "apikey",
    "dsn",
    "encryption_keys",
)


def _secret_name(name) -> bool:
    if not isinstance(name, str):
        return False
    lowered = name.lower().replace("-", "_")
    return (
        lowered in ("key", "webhook_key", "sessionid", "csrftoken")
        or lowered.endswith("_key")
        or any(part in lowered for part in _SECRET_NAMES)
    )


def scrubbed(value, *, depth: int = 0):
    """``value`` (an event or any part of it) with secrets masked."""
    if depth > 20:  # an event is a tree of plain values; deeper is not worth walking
        return value
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {
            key: MASK
            if _secret_name(key) and item not in (None, "", [], {})
            else scrubbed(item, depth=depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        # Headers may come as [name, value] pairs.
        if len(value) == 2 and _secret_name(value[0]) and isinstance(value[1], str):
            return [value[0], MASK]
        return [scrubbed(item, depth=depth + 1) for item in value]
    return value


def before_send(event: dict, hint: dict) -> dict:
    correlation_id = logs.current()
    if not correlation_id and (exc_info := (hint or {}).get("exc_info")):
        correlation_id = logs.of_exception(exc_info[1])
    event = scrubbed(event)
    if correlation_id:
        event.setdefault("tags", {})["correlation_id"] = correlation_id
    return event


def before_breadcrumb(crumb: dict, hint: dict) -> dict:
    return scrubbed(crumb)


def sentry_init(*, dsn: str, environment: str, release: str, transport=None) -> None:
    """Start reporting errors to ``dsn``. ``transport`` replaces the SDK's sending (the
    tests capture what would be sent)."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        release=release or None,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # Nothing personal: no user identity, no request or response bodies (a webhook's
        # body is a customer's message), no query parameters in database breadcrumbs (a
        # webhook's channel is looked up by its key).
        data_collection={"user_info": False, "http_bodies": [], "database_query_data": False},
        before_send=before_send,
        before_breadcrumb=before_breadcrumb,
        # Errors only: no performance tracing, so nothing is added to a webhook's time
        # beyond the integrations' own bookkeeping.
        traces_sample_rate=None,
        transport=transport,
    )


def sentry_init_from_settings() -> bool:
    """Report errors when SENTRY_DSN is set; whether it is."""
    dsn = getattr(settings, "SENTRY_DSN", "")
    if not dsn:
        return False
    sentry_init(
        dsn=dsn,
        environment=settings.SENTRY_ENVIRONMENT,
        release=settings.SENTRY_RELEASE,
    )
    return True
