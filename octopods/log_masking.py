"""Secrets that travel in URLs, masked in every log record.

A channel's webhook key is the secret part of its URL, and Meta's GET handshake puts
the verify token (and the challenge) in the query. Access logs (the development
server's ``django.server``, gunicorn's ``gunicorn.access``) and Django's
``django.request`` warnings print paths and query strings, so they would keep both in
plain text. ``MaskSecrets`` rewrites a record's message, and its traceback text, with
those values masked. ``install`` applies it to every record the process creates, at
creation, so it also covers handlers configured outside Django's LOGGING (gunicorn's
own, Celery's).
"""

import logging
import re

MASK = "********"

# /hooks/<kind>/<key>: the channel webhooks. The inbox hooks (/hooks/intercom/,
# /hooks/hubspot/, /hooks/intercom/uninstall/) carry no secret in their path.
_WEBHOOK_KEY = re.compile(r"(/hooks/(?!intercom/|hubspot/)[^/\s?#\"']+/)[^/\s?#\"']+")
_HUB_PARAMS = re.compile(r"(hub(?:\.|%2e)(?:verify_token|challenge)=)[^&\s#\"']*", re.IGNORECASE)


def mask(text: str) -> str:
    """``text`` with webhook keys and Meta's verify token and challenge masked."""
    if "hooks/" not in text and "hub" not in text.lower():
        return text
    return _HUB_PARAMS.sub(rf"\g<1>{MASK}", _WEBHOOK_KEY.sub(rf"\g<1>{MASK}", text))


class MaskSecrets(logging.Filter):
    """Rewrites the record in place (never drops it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format is the handler's to report
            return True
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            if (masked := mask(text)) != text:
                # Formatters reuse exc_text rather than formatting the exception again.
                record.exc_text = masked
        return True


_installed = False


def install() -> None:
    """Mask every log record this process creates from now on (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    make_record = logging.getLogRecordFactory()
    secrets_filter = MaskSecrets()

    def masked_record(*args, **kwargs) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        secrets_filter.filter(record)
        return record

    logging.setLogRecordFactory(masked_record)
