"""Webhook keys and Meta's verify token and challenge never reach a log line: not ours,
not Django's request warnings, not the development server's or gunicorn's access logs."""

import logging

import pytest

from channels.models import Channel
from workspaces.models import Provider, Workspace

KEY = "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4"
TOKEN = "meta-verify-token-1234"


@pytest.fixture
def channel(cast):
    workspace = Workspace.objects.create(
        account=cast.account, provider=Provider.INTERCOM, external_id="acme", name="Acme"
    )
    channel = Channel(
        workspace=workspace, kind="whatsapp", name="WA", identity="1", webhook_key=KEY
    )
    channel.credentials_data = {
        "phone_number_id": "1",
        "waba_id": "2",
        "access_token": "t",
        "app_secret": "s",
        "verify_token": "the-real-one",
    }
    channel.save()
    return channel


def lines(caplog) -> str:
    return "\n".join(record.getMessage() for record in caplog.records)


@pytest.mark.django_db
def test_django_request_warnings_mask_the_key(client, channel, caplog):
    caplog.set_level(logging.INFO)
    query = {"hub.mode": "subscribe", "hub.verify_token": TOKEN, "hub.challenge": "12345"}
    assert client.get(f"/hooks/whatsapp/{KEY}/", query).status_code == 403
    assert client.post(f"/hooks/telegram/{KEY}x/", b"{}", "application/json").status_code == 404
    logged = lines(caplog)
    assert "Forbidden: /hooks/whatsapp/" in logged
    assert "Not Found: /hooks/telegram/" in logged
    assert KEY not in logged


@pytest.mark.parametrize(
    ("logger", "message", "args"),
    [
        # runserver's access line (django.server)
        (
            "django.server",
            '"%s" %s %s',
            (
                f"GET /hooks/messenger/{KEY}/?hub.mode=subscribe&hub.verify_token={TOKEN}"
                "&hub.challenge=777 HTTP/1.1",
                403,
                22,
            ),
        ),
        # gunicorn's access line: its format with a dict of atoms
        (
            "gunicorn.access",
            '%(h)s "%(r)s" %(s)s',
            {"h": "10.0.0.1", "r": f"POST /hooks/sms/{KEY}/ HTTP/1.1", "s": "200"},
        ),
        # and anyone's message with the URL already in it
        (
            "channels",
            f"called https://octopods.example/hooks/telegram/{KEY}/?hub.verify_token={TOKEN}",
            (),
        ),
    ],
    ids=["django.server", "gunicorn.access", "plain"],
)
def test_every_log_record_is_masked(caplog, logger, message, args):
    caplog.set_level(logging.INFO)
    logging.getLogger(logger).info(message, *([args] if isinstance(args, dict) else args))
    logged = lines(caplog)
    assert KEY not in logged
    assert TOKEN not in logged
    assert "777" not in logged
    assert "/hooks/" in logged


def test_the_inbox_hooks_and_other_paths_are_left_alone(caplog):
    caplog.set_level(logging.INFO)
    for path in ("/hooks/intercom/", "/hooks/hubspot/", "/hooks/intercom/uninstall/", "/team/"):
        logging.getLogger("django.server").info('"%s" %s %s', f"POST {path} HTTP/1.1", 200, 2)
    logged = lines(caplog)
    for path in ("/hooks/intercom/", "/hooks/hubspot/", "/hooks/intercom/uninstall/", "/team/"):
        assert f"POST {path} HTTP/1.1" in logged


def test_a_traceback_is_masked_too(caplog):
    caplog.set_level(logging.INFO)
    try:
        raise ValueError(f"bad request to /hooks/whatsapp/{KEY}/")
    except ValueError:
        logging.getLogger("django.request").exception("Internal Server Error: %s", "/x/")
    (record,) = caplog.records
    assert KEY not in logging.Formatter().format(record)


BOT_TOKEN = "7000000001:AAHsandbox-acme-support-bot-token01"


@pytest.mark.parametrize(
    ("message", "secret"),
    [
        # A headers dict in a message or an exception's text.
        (
            "sent with {'Authorization': 'Bearer sk-live-123abc', 'Accept': 'json'}",
            "sk-live-123abc",
        ),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="),
        # Telegram's Bot API has the bot token in its path; a failed call quotes it.
        (
            "HTTPSConnectionPool(host='api.telegram.org', port=443): Max retries exceeded "
            f"with url: /bot{BOT_TOKEN}/sendMessage",
            BOT_TOKEN.split(":")[1],
        ),
        ("GET https://graph.example/v25.0/me?access_token=EAAB-secret&fields=id", "EAAB-secret"),
        ('token answer {"access_token": "at-123", "refresh_token": "rt-456"}', "rt-456"),
        ("X-Telegram-Bot-Api-Secret-Token: relay-test-secret_token", "relay-test-secret_token"),
        ("client_secret=cs-789&grant_type=refresh_token", "cs-789"),
    ],
    ids=["headers-dict", "authorization-line", "bot-token", "query", "json", "header", "form"],
)
def test_tokens_and_authorization_headers_are_masked(caplog, message, secret):
    caplog.set_level(logging.INFO)
    logging.getLogger("integrations").info(message)
    logged = lines(caplog)
    assert secret not in logged
    assert "********" in logged


def test_a_bot_token_in_a_traceback_is_masked(caplog):
    caplog.set_level(logging.INFO)
    try:
        raise ConnectionError(f"Max retries exceeded with url: /bot{BOT_TOKEN}/getMe")
    except ConnectionError:
        logging.getLogger("relay.outbound").exception("message 1: sending it failed")
    (record,) = caplog.records
    assert BOT_TOKEN not in logging.Formatter().format(record)


def test_ordinary_lines_are_left_alone(caplog):
    caplog.set_level(logging.INFO)
    for message in (
        "contact 5: 1 relayed, 0 sent, 0 failed",
        "rejected telegram webhook for channel 3: secret token mismatch",
        "provider call: POST api.intercom.io/conversations/42/reply -> 200 in 80 ms",
    ):
        logging.getLogger("relay").info(message)
    assert [record.getMessage() for record in caplog.records] == [
        "contact 5: 1 relayed, 0 sent, 0 failed",
        "rejected telegram webhook for channel 3: secret token mismatch",
        "provider call: POST api.intercom.io/conversations/42/reply -> 200 in 80 ms",
    ]


class _AcceptingAdapter:
    """A channel adapter that takes any request and finds one event in it."""

    ack = ("", "text/plain")

    def credentials(self, data):
        return data

    def verify(self, *, credentials, request):
        pass

    def parse(self, *, request):
        return [object()]


@pytest.mark.django_db
def test_a_500_on_a_webhook_logs_no_key_in_plain_or_json(channel, monkeypatch, caplog):
    """django.request's error line for a webhook's 500: its message, its traceback and
    the request it carries along (printed by the JSON formatter) hold no key."""
    from django.test import Client

    from channels import views
    from octopods.logs import JsonFormatter, PlainFormatter

    def broken(**kwargs):
        raise RuntimeError(f"cannot store for /hooks/whatsapp/{KEY}/")

    monkeypatch.setattr(views, "inbound_store", broken)
    monkeypatch.setattr(views, "channel_adapter", lambda kind: _AcceptingAdapter())
    caplog.set_level(logging.INFO)
    response = Client(raise_request_exception=False).post(
        f"/hooks/whatsapp/{KEY}/", b"{}", "application/json"
    )
    assert response.status_code == 500
    (error,) = [r for r in caplog.records if r.name == "django.request" and r.levelname == "ERROR"]
    for formatter in (PlainFormatter(), JsonFormatter()):
        written = formatter.format(error)
        assert KEY not in written
        assert "RuntimeError" in written
    assert "/hooks/whatsapp/********/" in JsonFormatter().format(error)
