"""One correlation id from the webhook to the provider call: a customer's message from
its channel webhook to the inbox, and an agent's reply from the inbox webhook to the
channel, each through the sandbox over HTTP (the relay run in the test's thread)."""

import json
import logging

import pytest
from django.urls import reverse

from channels.models import Direction, Message
from octopods import logs
from relay.engine import relay_contact_once
from relay.lease import keeper

from .test_round_trip import sandbox_workspace

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "s3cret"


@pytest.fixture(autouse=True)
def _no_leftover_leases():
    yield
    keeper.forget()


@pytest.fixture
def channel(cast, live_server, settings):
    from channels.models import Channel

    workspace = sandbox_workspace(cast, live_server, settings)
    channel = Channel(workspace=workspace, kind="telegram", name="Acme bot", identity="7000000001")
    channel.credentials_data = {
        "bot_token": "7000000001:AAHsandbox-acme-support-bot-token01",
        "secret_token": SECRET,
        "bot_id": "7000000001",
        "bot_username": "acme_support_bot",
    }
    channel.save()
    # The customer's chat on the sandbox's phone, for the bot's reply to land in.
    from sandbox.kinds import Kind
    from sandbox.models import Conversation

    Conversation.objects.create(
        kind=Kind.TELEGRAM, endpoint="7000000001", customer_id="555000111", customer_name="Jane"
    )
    return channel


def telegram_update(text: str) -> bytes:
    user = {"id": 555000111, "is_bot": False, "first_name": "Jane"}
    return json.dumps(
        {
            "update_id": 900001,
            "message": {
                "message_id": 1001,
                "from": user,
                "chat": {"id": 555000111, "type": "private", "first_name": "Jane"},
                "date": 1718000000,
                "text": text,
            },
        }
    ).encode()


def records(caplog, logger: str, containing: str = "") -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.name == logger and containing in record.getMessage()
    ]


def test_a_customer_message_keeps_its_webhooks_id_to_the_inbox_call(client, channel, caplog):
    caplog.set_level(logging.INFO)
    response = client.post(
        f"/hooks/telegram/{channel.webhook_key}/",
        data=telegram_update("hello"),
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
    )
    assert response.status_code == 200
    (stored,) = records(caplog, "channels.views", "events stored")
    correlation_id = stored.correlation_id
    assert len(correlation_id) == 16
    message = Message.objects.get()
    assert message.data[logs.CORRELATION_KEY] == correlation_id
    assert logs.current() == ""  # the request's id ended with it

    caplog.clear()
    relay_contact_once(message.contact_id)
    calls = records(caplog, "integrations.http", "provider call")
    assert calls, "the relay called the inbox"
    assert {call.correlation_id for call in calls} == {correlation_id}
    (relayed,) = records(caplog, "relay.inbound", "relayed to the inbox")
    assert relayed.correlation_id == correlation_id
    assert logs.current() == ""


def test_an_agent_reply_keeps_the_inbox_webhooks_id_to_the_channel_call(client, channel, caplog):
    client.post(
        f"/hooks/telegram/{channel.webhook_key}/",
        data=telegram_update("hello"),
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
    )
    customer_message = Message.objects.get()
    relay_contact_once(customer_message.contact_id)
    conversation = customer_message.__class__.objects.get().conversation

    caplog.set_level(logging.INFO)
    caplog.clear()
    # The sandbox's Intercom sends its signed webhook to /hooks/intercom/ over HTTP.
    act = reverse(
        "sandbox:intercom_inbox_act",
        kwargs={"id_code": "sbx-acme", "pk": int(conversation.inbox_conversation_id)},
    )
    client.post(act, {"admin_id": "1001", "action": "comment", "body": "Hi! How can we help?"})
    (webhook,) = records(caplog, "channels.views", "intercom webhook")
    reply = Message.objects.get(direction=Direction.OUTBOUND)
    assert reply.data[logs.CORRELATION_KEY] == webhook.correlation_id
    assert webhook.correlation_id != customer_message.data[logs.CORRELATION_KEY]

    caplog.clear()
    relay_contact_once(reply.contact_id)
    telegram_calls = [
        call
        for call in records(caplog, "integrations.http", "provider call")
        if "/telegram/" in call.getMessage()
    ]
    assert telegram_calls, "the relay called the channel"
    assert {call.correlation_id for call in telegram_calls} == {webhook.correlation_id}
    (sent,) = records(caplog, "relay.outbound", "sent to the customer")
    assert sent.correlation_id == webhook.correlation_id
