"""Intercom's webhook endpoint: verify, store agent replies exactly once, 200."""

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from django.conf import settings

from channels.models import Channel, Contact, Conversation, Direction, Message, MessageStatus
from workspaces.models import Provider, Workspace

from .conftest import post_hubspot

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


# --- poison notifications: stored safely or refused with a reason, never a 500 -----------


def replied(part_id="135", body="<p>Thanks</p>", name="Ann", conversation_id="499"):
    data = json.loads(fixture("conversation.admin.replied"))
    item = data["data"]["item"]
    item["id"] = conversation_id
    part = item["conversation_parts"]["conversation_parts"][0]
    part.update(id=part_id, body=body)
    part["author"]["name"] = name
    return json.dumps(data).encode()


def test_a_reply_with_nul_and_lone_surrogates_is_stored_made_safe(client, conversation):
    assert post(client, replied(body="<p>a\x00b\ud800</p>", name="A\x00nn")).status_code == 200
    text = Message.objects.filter(type="text").get()
    assert text.text == "a\ufffdb\ufffd"
    assert text.data["admin_name"] == "A\ufffdnn"
    assert text.data["body_html"] == "<p>a\ufffdb\ufffd</p>"


def test_an_over_long_part_id_is_cut_and_kept_whole(client, conversation):
    part_id = "9" * 400
    for _ in range(2):
        assert post(client, replied(part_id=part_id)).status_code == 200
    rows = Message.objects.order_by("pk")
    assert len(rows) == 2  # the text and its attachment, once each
    assert all(len(row.inbox_part_id) <= 128 for row in rows)
    assert rows[0].data["uncut"] == {"part_id": part_id}


def test_a_conversation_id_with_nul_is_not_ours_and_acknowledged(client, conversation):
    assert post(client, replied(conversation_id="49\x009")).status_code == 200
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    "body",
    [b"[" * 50_000 + b"]" * 50_000, b'{"app_id": 1' + b"0" * 5000 + b"}", b'{"a": NaN}'],
    ids=["deep", "long-number", "nan"],
)
def test_a_body_json_cannot_carry_is_a_400_with_a_reason(client, conversation, body):
    response = post(client, body)
    assert response.status_code == 400
    assert response.content.startswith(b"Malformed body: ")


def test_a_hubspot_reply_with_nul_is_stored_made_safe(client, cast, settings):
    workspace = Workspace.objects.create(
        account=cast.account, provider=Provider.HUBSPOT, external_id="9000001", name="Acme"
    )
    channel = Channel.objects.create(workspace=workspace, kind="sms", name="SMS", identity="2")
    contact = Contact.objects.create(channel=channel, external_id="+15551234567")
    Conversation.objects.create(workspace=workspace, contact=contact, inbox_conversation_id="77")
    response = post_hubspot(
        client,
        {
            "type": "OUTGOING_CHANNEL_MESSAGE_CREATED",
            "portalId": 9000001,
            "message": {
                "id": "m\x00" + "1" * 300,
                "conversationsThreadId": "77",
                "direction": "OUTGOING",
                "text": "hi\x00 there",
                "senders": [{"actorId": "A-1", "name": "Ann\ud800"}],
            },
        },
    )
    assert response.status_code == 200
    message = Message.objects.get()
    assert message.text == "hi\ufffd there"
    assert message.data["admin_name"] == "Ann\ufffd"
    assert len(message.inbox_part_id) == 128
