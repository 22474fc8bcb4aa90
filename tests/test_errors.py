"""Error reports to Sentry: secrets masked as in the logs, the correlation id as a tag.

No network: the SDK's transport is replaced by one that keeps what it would send (the
SDK's own way to test, ``transport=``)."""

import json
import logging
from types import SimpleNamespace

import pytest
import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.transport import Transport

from octopods import errors, logs
from tests.channels.conftest import channel, workspace  # noqa: F401

KEY = "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4"
BOT_TOKEN = "123:AAHsecret-part-of-the-bot-token-0001"
SECRET = "s3cret"  # the Telegram channel's secret token (tests/channels/conftest.py)


class Capturing(Transport):
    def __init__(self, options=None):
        super().__init__(options)
        self.events: list[dict] = []

    def capture_envelope(self, envelope):
        if (event := envelope.get_event()) is not None:
            self.events.append(event)


@pytest.fixture
def sentry():
    transport = Capturing()
    errors.sentry_init(
        dsn="https://public@sentry.example/1",
        environment="staging",
        release="octopods@1.2.3",
        transport=transport,
    )
    yield transport
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)


def failures(transport: Capturing, kind: str) -> list[dict]:
    return [
        event
        for event in transport.events
        if any(value.get("type") == kind for value in event.get("exception", {}).get("values", []))
    ]


@pytest.fixture
def telegram(channel):  # noqa: F811 - the fixture imported above
    channel.webhook_key = KEY
    channel.save()
    return channel


@pytest.mark.django_db(transaction=True)
def test_a_webhooks_error_is_reported_scrubbed_with_its_correlation_id(
    telegram, sentry, monkeypatch, caplog
):
    """Through Django's WSGI handler, as gunicorn calls it (the SDK reads the request's
    URL and headers there)."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import RequestFactory

    from channels import views

    def broken(**kwargs):
        raise RuntimeError(
            f"cannot store for /hooks/telegram/{KEY}/ (Authorization: Bearer sk-live-123; "
            f"calling /bot{BOT_TOKEN}/getMe)"
        )

    monkeypatch.setattr(views, "inbound_store", broken)
    caplog.set_level(logging.INFO)
    body = json.dumps(
        {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "from": {"id": 555, "is_bot": False, "first_name": "Jane"},
                "chat": {"id": 555, "type": "private"},
                "date": 1718000000,
                "text": "hello",
            },
        }
    )
    request = RequestFactory().post(
        f"/hooks/telegram/{KEY}/?token=query-secret",
        body,
        "application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Authorization": "Bearer hdr-456"},
    )
    answered = []
    WSGIHandler()(request.environ, lambda status, headers: answered.append(status))
    assert answered == ["500 Internal Server Error"]

    (event,) = failures(sentry, "RuntimeError")
    (logged,) = [r for r in caplog.records if r.name == "django.request"]
    assert logged.correlation_id  # the 500's log line and its report share the id
    assert event["tags"]["correlation_id"] == logged.correlation_id
    assert event["environment"] == "staging"
    assert event["release"] == "octopods@1.2.3"
    sent = json.dumps(event)
    for secret in (KEY, "sk-live-123", BOT_TOKEN.split(":")[1], SECRET, "hdr-456", "query-secret"):
        assert secret not in sent
    assert "/hooks/telegram/********/" in event["request"]["url"]
    # What is left is still worth reading.
    assert "cannot store" in event["exception"]["values"][-1]["value"]


def test_an_error_in_the_relay_is_tagged_with_the_messages_id(sentry):
    """A relay thread's failure, reported after its run had ended (the dispatcher's
    own ``except``): the id travels with the exception."""
    token = "EAAB" + "-secret"  # not whole in this file: the report quotes its lines
    try:
        with logs.scope():
            logs.follow(SimpleNamespace(data={logs.CORRELATION_KEY: "0123456789abcdef"}))
            raise ValueError(f"relay failed with access_token={token}")
    except ValueError:
        sentry_sdk.capture_exception()
    (event,) = failures(sentry, "ValueError")
    assert event["tags"]["correlation_id"] == "0123456789abcdef"
    assert token not in json.dumps(event)


def test_django_and_celery_are_reported_and_nothing_personal(sentry):
    client = sentry_sdk.get_client()
    assert client.get_integration(DjangoIntegration) is not None
    assert client.get_integration(CeleryIntegration) is not None
    collected = client.options["data_collection"]
    assert collected["user_info"] is False
    assert collected["http_bodies"] == []  # a webhook's body is a customer's message
    assert collected["database_query_data"] is False  # a channel is found by its key


def test_error_reports_start_only_with_a_dsn(settings, monkeypatch):
    started = []
    monkeypatch.setattr(errors, "sentry_init", lambda **options: started.append(options))
    settings.SENTRY_DSN = ""
    assert errors.sentry_init_from_settings() is False
    settings.SENTRY_DSN = "https://public@sentry.example/1"
    settings.SENTRY_ENVIRONMENT = "production"
    settings.SENTRY_RELEASE = "abc123"
    assert errors.sentry_init_from_settings() is True
    assert started == [
        {
            "dsn": "https://public@sentry.example/1",
            "environment": "production",
            "release": "abc123",
        }
    ]


def test_secret_names_are_masked_whole_wherever_they_are():
    event = {
        "request": {
            "headers": {"Authorization": "Bearer x", "X-Hub-Signature-256": "sha256=ab"},
            "data": {"password": "p", "text": "hi"},
        },
        "exception": {"values": [{"stacktrace": {"frames": [{"vars": {"key": "k", "n": 1}}]}}]},
        "breadcrumbs": {"values": [{"message": f"GET /hooks/sms/{KEY}/"}]},
    }
    scrubbed = errors.scrubbed(event)
    assert scrubbed["request"]["headers"] == {
        "Authorization": "********",
        "X-Hub-Signature-256": "********",
    }
    assert scrubbed["request"]["data"] == {"password": "********", "text": "hi"}
    assert scrubbed["exception"]["values"][0]["stacktrace"]["frames"][0]["vars"] == {
        "key": "********",
        "n": 1,
    }
    assert KEY not in json.dumps(scrubbed)
