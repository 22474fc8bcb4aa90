"""Structured logs, and the correlation id that follows one message through them.

A webhook (a customer's message from a channel, an agent's reply from the inbox) is
given a fresh correlation id when it arrives. Every log line written while it is
handled carries it; it is stored with each message the webhook stored (in the
message's ``data``, under ``CORRELATION_KEY``); and the relay, in a worker process,
later, puts it back in place while it handles that message, so its log lines and the
provider calls it makes (integrations/http.py) carry the same id. ``grep`` one id and
you have the message's whole way, across processes.

The id lives in a ``ContextVar``: each thread (and each asyncio task) sees its own, and
``bound``/``scope`` put the previous value back in ``finally``, so a relay thread of a
pool never hands one message's id to the next contact it takes. ``CorrelationFilter``
copies it onto each record, as the record is made (``install``) and again in LOGGING's
handler; the formatters below print it: one JSON object per line (``LOG_FORMAT=json``,
production) or a readable line (``plain``).
"""

import logging
import secrets
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import wraps

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from .log_masking import mask

# Where a message keeps the id of the webhook that stored it.
CORRELATION_KEY = "correlation_id"
# The attribute an exception that left a bound block carries the id on, for the error
# report made after the block has ended (Django's and Celery's handlers).
_EXCEPTION_ATTRIBUTE = "octopods_correlation_id"

_current: ContextVar[str] = ContextVar("octopods_correlation_id", default="")


def new_id() -> str:
    """A fresh correlation id: 16 hex characters (64 random bits)."""
    return secrets.token_hex(8)


def current() -> str:
    """The correlation id of what this thread is handling now; "" outside any."""
    return _current.get()


@contextmanager
def bound(correlation_id: str):
    """Run the block under ``correlation_id`` ("": none), and put back what was there
    before, whatever happens. An exception leaving the block keeps the id, for the
    error report."""
    token = _current.set(correlation_id)
    try:
        yield correlation_id
    except BaseException as error:
        if correlation_id and not hasattr(error, _EXCEPTION_ATTRIBUTE):
            with suppress(AttributeError, TypeError):  # a type with __slots__
                setattr(error, _EXCEPTION_ATTRIBUTE, correlation_id)
        raise
    finally:
        _current.reset(token)


@contextmanager
def scope():
    """A block that may switch ids as it goes (``follow``: the relay, message after
    message); whatever it set is undone when it ends."""
    token = _current.set("")
    try:
        yield
    except BaseException as error:
        if (correlation_id := _current.get()) and not hasattr(error, _EXCEPTION_ATTRIBUTE):
            with suppress(AttributeError, TypeError):  # a type with __slots__
                setattr(error, _EXCEPTION_ATTRIBUTE, correlation_id)
        raise
    finally:
        _current.reset(token)


def scoped(function):
    """``function`` run in a ``scope`` of its own."""

    @wraps(function)
    def in_scope(*args, **kwargs):
        with scope():
            return function(*args, **kwargs)

    return in_scope


def follow(message) -> str:
    """Inside a ``scope``: from now on, log under the id stored with ``message`` ("" for
    a message stored before ids were, or made by Octopods itself)."""
    data = message.data if isinstance(message.data, dict) else {}
    correlation_id = str(data.get(CORRELATION_KEY, ""))
    _current.set(correlation_id)
    return correlation_id


def stamped(data: dict) -> dict:
    """``data`` with the current correlation id, if there is one (a message being
    stored)."""
    if correlation_id := _current.get():
        return {**data, CORRELATION_KEY: correlation_id}
    return data


def correlated(view):
    """A webhook view run under a fresh correlation id: every line it logs carries it,
    and every message it stores keeps it (``stamped``)."""

    @wraps(view)
    def correlated_view(*args, **kwargs):
        with bound(new_id()):
            return view(*args, **kwargs)

    return correlated_view


def carried(function):
    """``function``, to be run later (after a commit), under the id current now."""
    correlation_id = _current.get()

    @wraps(function)
    def under_the_id(*args, **kwargs):
        with bound(correlation_id):
            return function(*args, **kwargs)

    return under_the_id


def of_exception(error: BaseException | None) -> str:
    """The id an exception left its block with ("" if none)."""
    return getattr(error, _EXCEPTION_ATTRIBUTE, "") if error is not None else ""


class CorrelationFilter(logging.Filter):
    """Puts the current correlation id on every record (``record.correlation_id``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "correlation_id", ""):
            correlation_id = _current.get()
            if not correlation_id and record.exc_info:
                # Logged after the block it failed in had ended (a pool's "failed" line).
                correlation_id = of_exception(record.exc_info[1])
            record.correlation_id = correlation_id
        return True


class PlainFormatter(logging.Formatter):
    """``2026-12-06 02:15:00,123 INFO channels.views [3f9c0a6e1b2d4c58] message``; the
    id in brackets only where there is one."""

    def __init__(self, fmt=None, datefmt=None, style="%", validate=True, **kwargs):
        fmt = fmt or "%(asctime)s %(levelname)s %(name)s%(correlation)s %(message)s"
        super().__init__(fmt, datefmt, style, validate, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        correlation_id = getattr(record, "correlation_id", "")
        record.correlation = f" [{correlation_id}]" if correlation_id else ""
        return super().format(record)

    def formatException(self, ei) -> str:
        return mask(super().formatException(ei))


# Attributes every record has: never printed as context fields.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "correlation",
    "taskName",
}


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: ``time`` (ISO 8601, UTC), ``level``, ``logger``,
    ``message``, ``correlation_id`` when there is one, the record's context fields
    (``extra=``), and ``exc_info`` with a traceback, masked like the message."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s")
        kwargs.setdefault(
            "rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"}
        )
        kwargs.setdefault("reserved_attrs", sorted(_STANDARD))
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)

    def formatTime(self, record, datefmt=None) -> str:
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")

    def formatException(self, ei) -> str:
        return mask(super().formatException(ei))

    def process_log_record(self, log_data):
        if not log_data.get("correlation_id"):
            log_data.pop("correlation_id", None)
        for name, value in log_data.items():
            if isinstance(value, str):
                log_data[name] = mask(value)
            elif not isinstance(value, int | float | bool | list | dict | type(None)):
                # An object passed along (django.request's ``request``): its text, masked
                # (a request's repr quotes its path, and a webhook's path has its key).
                log_data[name] = mask(str(value))
        return log_data


_installed = False


def install() -> None:
    """Put the correlation id on every record this process creates from now on, when
    it is created (idempotent): handlers configured outside LOGGING (gunicorn's,
    Celery's, a test's) see it too, and a record handed to another thread keeps the id
    of the thread that logged it."""
    global _installed
    if _installed:
        return
    _installed = True
    make_record = logging.getLogRecordFactory()
    correlation = CorrelationFilter()

    def correlated_record(*args, **kwargs) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        correlation.filter(record)
        return record

    logging.setLogRecordFactory(correlated_record)
