"""Log lines as JSON or plain text, each carrying the correlation id of what it was
logged for, which never leaks from one message (or request) to the next."""

import io
import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.exceptions import ImproperlyConfigured

from octopods import logs
from octopods.settings.base import logging_config

ROOT = Path(__file__).resolve().parent.parent
KEY = "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4"


def emitted(formatter: logging.Formatter, emit) -> str:
    """What ``emit(logger)`` wrote through a handler with ``formatter``."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(logs.CorrelationFilter())
    logger = logging.getLogger(f"octopods.test.{id(stream)}")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_json_lines_have_time_level_logger_message_the_id_and_context_fields():
    def emit(logger):
        with logs.bound("3f9c0a6e1b2d4c58"):
            logger.info("stored %d events", 2, extra={"channel_id": 7, "kind": "telegram"})
        logger.warning("outside")

    first, second = (json.loads(line) for line in emitted(logs.JsonFormatter(), emit).splitlines())
    assert first["level"] == "INFO"
    assert first["logger"].startswith("octopods.test.")
    assert first["message"] == "stored 2 events"
    assert first["correlation_id"] == "3f9c0a6e1b2d4c58"
    assert first["channel_id"] == 7
    assert first["kind"] == "telegram"
    assert first["time"].endswith("+00:00")  # ISO 8601, UTC
    assert second["message"] == "outside"
    assert "correlation_id" not in second  # no id, no field


def test_a_json_traceback_and_objects_passed_along_are_masked():
    class Request:
        def __str__(self):
            return f"<WSGIRequest: POST '/hooks/telegram/{KEY}/'>"

    def emit(logger):
        try:
            raise ValueError(f"bad request to /hooks/whatsapp/{KEY}/")
        except ValueError:
            # What django.request logs for a 500: the request rides along as `request`.
            logger.exception("Internal Server Error: %s", "/x/", extra={"request": Request()})

    written = emitted(logs.JsonFormatter(), emit)
    line = json.loads(written)
    assert KEY not in written
    assert "ValueError" in line["exc_info"]
    assert "/hooks/telegram/********/" in line["request"]


def test_plain_lines_show_the_id_in_brackets_only_when_there_is_one():
    def emit(logger):
        with logs.bound("3f9c0a6e1b2d4c58"):
            logger.info("with")
        logger.info("without")

    with_id, without = emitted(logs.PlainFormatter(), emit).splitlines()
    assert "[3f9c0a6e1b2d4c58] with" in with_id
    assert "[" not in without
    assert without.endswith(" without")


def test_log_format_is_json_or_plain():
    assert logging_config(level="INFO", log_format="json")["handlers"]["console"]["formatter"] == (
        "json"
    )
    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT"):
        logging_config(level="INFO", log_format="xml")


def settings_value(module: str, expression: str, **env) -> str:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "LOG_"))},
        "ENV_FILE": os.devnull,
        **env,
    }
    return subprocess.run(  # noqa: S603 - our own interpreter
        [
            sys.executable,
            "-c",
            f"import {module} as s; print({expression})",
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


PRODUCTION = {
    "SECRET_KEY": "x" * 50,
    "DATABASE_URL": "postgres://u@127.0.0.1/db",
    "TOKEN_ENCRYPTION_KEYS": "k",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_URL": "smtp://127.0.0.1:25",
}


def test_production_logs_json_and_everywhere_else_plain_unless_told():
    formatter = "s.LOGGING['handlers']['console']['formatter']"
    assert settings_value("octopods.settings.prod", formatter, **PRODUCTION) == "json"
    assert settings_value("octopods.settings.dev", formatter) == "plain"
    assert settings_value("octopods.settings.test", formatter) == "plain"
    assert (
        settings_value("octopods.settings.prod", formatter, LOG_FORMAT="plain", **PRODUCTION)
        == "plain"
    )
    assert settings_value("octopods.settings.dev", formatter, LOG_FORMAT="json") == "json"


def test_bound_puts_back_what_was_there_even_when_the_block_fails():
    assert logs.current() == ""
    with pytest.raises(RuntimeError) as raised, logs.bound("outer"):
        with logs.bound("inner"):
            assert logs.current() == "inner"
        assert logs.current() == "outer"
        raise RuntimeError("boom")
    assert logs.current() == ""
    assert logs.of_exception(raised.value) == "outer"


def test_a_record_logged_after_its_block_failed_carries_the_id_of_the_failure(caplog):
    caplog.set_level(logging.INFO)
    try:
        with logs.scope():
            logs.follow(SimpleNamespace(data={logs.CORRELATION_KEY: "a1"}))
            raise RuntimeError("boom")
    except RuntimeError:
        # The dispatcher's "relay of contact … failed", written outside the run.
        logging.getLogger("relay.dispatch").exception("relay failed")
    (record,) = caplog.records
    assert record.correlation_id == "a1"


def test_threads_never_see_each_others_id():
    ready, results = threading.Barrier(2), {}

    def handle(name):
        with logs.bound(name):
            ready.wait(timeout=10)  # both inside their block at once
            results[name] = logs.current()

    threads = [threading.Thread(target=handle, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert results == {"a": "a", "b": "b"}
