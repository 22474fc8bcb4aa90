"""Intercom's webhook endpoint: verify, store agent replies exactly once, 200."""

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from django.conf import settings

from channels.models import Channel, Contact, Conversation, Direction, Message, MessageStatus
from workspaces.models import Provider, Workspace

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent.parent / "integrations" / "intercom" / "fixtures"
URL = "/hooks/intercom/"


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def signed(body: bytes, secret: str | None = None) -> dict:
    secret = settings.INTERCOM_CLIENT_SECRET if secret is None else secret
    return {"X-Hub-Signature": "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()}


def post(client, body: bytes, headers=None):
    return client.post(
        URL,
        data=body,
        content_type="application/json",
        headers=signed(body) if headers is None else headers,
    )


@pytest.fixture
def conversation(cast):
    workspace = Workspace.objects.create(
        account=cast.account, provider=Provider.INTERCOM, external_id="acme-app", name="Acme"
    )
    channel = Channel.objects.create(workspace=workspace, kind="whatsapp", name="WA", identity="1")
    contact = Contact.objects.create(channel=channel, external_id="15551234567")
    return Conversation.objects.create(
        workspace=workspace, contact=contact, inbox_conversation_id="499"
    )


def test_intercom_checks_the_url_with_a_head(client):
    assert client.head(URL).status_code == 200


def test_an_agent_reply_becomes_one_outbound_message_however_often_it_comes(
    client, conversation, django_capture_on_commit_callbacks
):
    body = fixture("conversation.admin.replied")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for _ in range(3):
            assert post(client, body).status_code == 200
    # The reply's text, then its PDF: one send each, each keyed by the part id.
    text, pdf = Message.objects.order_by("pk")
    assert [(m.inbox_part_id, m.type) for m in (text, pdf)] == [
        ("135", "text"),
        ("135:1", "document"),
    ]
    assert {(m.direction, m.status, m.conversation) for m in (text, pdf)} == {
        (Direction.OUTBOUND, MessageStatus.PENDING, conversation)
    }
    assert text.text.startswith("Thanks! It left our warehouse today.")
    assert text.data["admin_name"] == "Ann" and text.data["admin_id"] == "991267715"
    assert pdf.data["attachment"]["name"] == "invoice.pdf"
    assert callbacks  # the relay is woken after the commit


@pytest.mark.parametrize(
    "name",
    [
        "conversation.admin.noted",
        "conversation.admin.replied.api_echo",
        "conversation.user.replied",
        "ping",
    ],
)
def test_notes_our_own_echoes_and_other_topics_send_nothing(client, conversation, name):
    assert post(client, fixture(name)).status_code == 200
    assert not Message.objects.exists()


def test_closing_and_reopening_is_recorded(client, conversation):
    post(client, fixture("conversation.admin.closed"))
    conversation.refresh_from_db()
    assert not conversation.open and conversation.closed_at is not None
    post(client, fixture("conversation.admin.opened"))
    conversation.refresh_from_db()
    assert conversation.open and conversation.closed_at is None


def test_a_workspace_we_do_not_know_is_acknowledged(client):
    assert post(client, fixture("conversation.admin.replied")).status_code == 200
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Hub-Signature": "sha1=00"}, "wrong-secret"],
    ids=["missing", "wrong", "other-secret"],
)
def test_a_bad_signature_is_a_403_and_stores_nothing(client, conversation, headers):
    body = fixture("conversation.admin.replied")
    if headers == "wrong-secret":
        headers = signed(body, "not-the-secret")
    assert post(client, body, headers=headers).status_code == 403
    assert not Message.objects.exists()


def test_a_malformed_body_is_a_400(client, conversation):
    body = json.dumps(
        {"type": "notification_event", "topic": "conversation.admin.replied"}
    ).encode()
    assert post(client, body).status_code == 400


def test_a_body_over_the_cap_is_a_413(client, settings):
    settings.WEBHOOK_MAX_BYTES = 10
    assert post(client, fixture("ping")).status_code == 413
