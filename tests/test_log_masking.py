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
