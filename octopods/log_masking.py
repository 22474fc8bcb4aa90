"""Secrets that travel in URLs, masked in every log record.

A channel's webhook key is the secret part of its URL, and Meta's GET handshake puts
the verify token (and the challenge) in the query. Access logs (the development
server's ``django.server``, gunicorn's ``gunicorn.access``) and Django's
``django.request`` warnings print paths and query strings, so they would keep both in
plain text. ``MaskSecrets`` rewrites a record's message, and its traceback text, with
those values masked. ``install`` applies it to every record the process creates, at
creation, so it also covers handlers configured outside Django's LOGGING (gunicorn's
own, Celery's).

Besides URLs, a few other shapes carry secrets into messages and tracebacks:
``Authorization`` headers (a ``repr`` of a headers dict, an exception quoting a
request), values named like a token, secret, password or signature (query parameters,
``name: value`` and ``"name": "value"``), and Telegram's bot token, which its Bot API
takes in the path (``/bot<token>/sendMessage``, quoted by a failed connection's
error). Error reports to Sentry go through the same ``mask`` (octopods/errors.py).
"""

import logging
import re

MASK = "********"

# /hooks/<kind>/<key>: the channel webhooks. The inbox hooks (/hooks/intercom/,
# /hooks/hubspot/, /hooks/intercom/uninstall/) carry no secret in their path.
_WEBHOOK_KEY = re.compile(r"(/hooks/(?!intercom/|hubspot/)[^/\s?#\"']+/)[^/\s?#\"']+")
_HUB_PARAMS = re.compile(r"(hub(?:\.|%2e)(?:verify_token|challenge)=)[^&\s#\"']*", re.IGNORECASE)
# Telegram's Bot API: https://api.telegram.org/bot<id>:<secret>/<method>.
_BOT_TOKEN = re.compile(r"(/bot)\d+:[\w-]+")
# "Authorization: Bearer x", "'Authorization': 'Basic x'", "authorization=x": the whole
# value, scheme and credentials (one or two words).
_AUTHORIZATION = re.compile(
    r"""((?:proxy-)?authorization['"]?\s*[:=]\s*\[?['"]?)[^'"\s,;&}]+(?:[ ][^'"\s,;&}]+)?""",
    re.IGNORECASE,
)
# A value whose name says it is secret: access_token=x, "client_secret": "x", a parsed
# query's {'token': ['x']},
# X-Telegram-Bot-Api-Secret-Token: x, bot_token='x', password=x, X-Hub-Signature: x.
_NAMED_SECRET = re.compile(
    r"""(\b[\w.-]*(?:token|secret|password|passwd|signature|api[_-]?key)['"]?\s*[:=]\s*\[?['"]?)"""
    r"""[^'"\s,;&}#]+""",
    re.IGNORECASE,
)
# Cheap to test first: most log lines hold none of these, and pay nothing more.
_HINTS = ("hooks/", "hub", "/bot", "authorization", "token", "secret", "passw", "signature", "key")


def mask(text: str) -> str:
    """``text`` with webhook keys, Meta's verify token and challenge, Authorization
    headers, Telegram bot tokens and values named as secrets masked."""
    lowered = text.lower()
    if not any(hint in lowered for hint in _HINTS):
        return text
    text = _WEBHOOK_KEY.sub(rf"\g<1>{MASK}", text)
    text = _HUB_PARAMS.sub(rf"\g<1>{MASK}", text)
    text = _BOT_TOKEN.sub(rf"\g<1>{MASK}", text)
    text = _AUTHORIZATION.sub(rf"\g<1>{MASK}", text)
    return _NAMED_SECRET.sub(rf"\g<1>{MASK}", text)


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
