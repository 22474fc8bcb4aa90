"""Intercom-shaped Canvas Kit requests to the inbox app, signed as Intercom signs them,
and a workspace with a channel of each kind.

Request shapes follow Intercom's Canvas Kit reference and the official Node SDK's types
(intercom-client ``InitializeRequest``: workspace_id, workspace_region, admin,
card_creation_options, context, conversation, contact; ``SubmitRequest`` adds
component_id, input_values, current_canvas and user)."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
import responses
from django.conf import settings
from django.test import Client
from django.utils import timezone

from channels.models import Channel, Contact, Direction, Message, MessageStatus
from relay.lease import keeper
from tests.channels.conftest import acme_workspace

SECRET = "canvas-test-client-secret"
INITIALIZE = "/hooks/intercom/canvas/initialize/"
SUBMIT = "/hooks/intercom/canvas/submit/"
JANE_INTERCOM_ID = "6762f11b1bb69f9f2193bba3"
JANE_PHONE = "+15551234567"
ADMIN = {"type": "admin", "id": "991", "name": "Ann Agent", "email": "ann@acme.test"}
WA_CREDENTIALS = {
    "phone_number_id": "100000000000001",
    "waba_id": "200000000000001",
    "access_token": "EAAtestWhatsAppToken",
    "app_secret": "5b1f0c1e8d2a4e6f9a0b3c4d5e6f7a8b",
    "verify_token": "vt-0123456789abcdef",
}


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.INTERCOM_CLIENT_SECRET = SECRET


@pytest.fixture(autouse=True)
def _no_leftover_leases():
    yield
    keeper.forget()


@pytest.fixture
def mocked():
    """Every provider call is mocked at the HTTP level; an unexpected one fails."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def workspace(cast):
    return acme_workspace(cast, access_token="tok-acme", admin_name="Ann Agent")


def make_channel(workspace, kind: str, name: str, identity: str, credentials: dict) -> Channel:
    channel = Channel(workspace=workspace, kind=kind, name=name, identity=identity)
    channel.credentials_data = credentials
    channel.save()
    return channel


@pytest.fixture
def whatsapp(workspace):
    return make_channel(workspace, "whatsapp", "Support number", "100000000000001", WA_CREDENTIALS)


@pytest.fixture
def sms(workspace):
    return make_channel(
        workspace,
        "sms",
        "Twilio line",
        "+15550001111",
        {"account_sid": "AC" + "0" * 32, "auth_token": "t" * 32, "phone_number": "+15550001111"},
    )


@pytest.fixture
def telegram(workspace):
    return make_channel(
        workspace,
        "telegram",
        "Support bot",
        "123",
        {"bot_token": "123:abc", "secret_token": "s3cret", "bot_id": "123", "bot_username": "b"},
    )


@pytest.fixture
def messenger(workspace):
    return make_channel(
        workspace,
        "messenger",
        "Acme Page",
        "700",
        {
            "page_id": "700",
            "page_access_token": "p" * 20,
            "app_secret": "a" * 32,
            "verify_token": "v",
        },
    )


def wrote(contact: Contact, *, hours_ago: float) -> Message:
    """The customer's message on the contact's channel, ``hours_ago`` hours ago."""
    at = timezone.now() - timedelta(hours=hours_ago)
    message = Message.objects.create(
        channel=contact.channel,
        contact=contact,
        direction=Direction.INBOUND,
        provider_message_id=f"in-{contact.pk}-{hours_ago}",
        type="text",
        text="hello",
        status=MessageStatus.RELAYED,
        sent_at=at,
    )
    return message


@pytest.fixture
def jane_on_whatsapp(whatsapp):
    return Contact.objects.create(
        channel=whatsapp, external_id="15551234567", phone_e164=JANE_PHONE, name="Jane Doe"
    )


def intercom_contact(**fields) -> dict:
    return {
        "type": "contact",
        "id": JANE_INTERCOM_ID,
        "role": "lead",
        "name": "Jane Doe",
        "email": "jane@example.com",
        "phone": JANE_PHONE,
        "external_id": "whatsapp:15551234567",
        **fields,
    }


def initialize_payload(*, workspace_id="acme-app", contact=None, conversation_id="499") -> dict:
    return {
        "workspace_id": workspace_id,
        "workspace_region": "us",
        "admin": ADMIN,
        "card_creation_options": {},
        "context": {
            "conversation_id": conversation_id,
            "location": "conversation",
            "locale": "en",
        },
        "conversation": {"type": "conversation", "id": conversation_id, "state": "open"},
        "contact": intercom_contact() if contact is None else contact,
    }


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(path: str, payload: dict | bytes, *, signature: str | None = "sign", **headers):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    if signature == "sign":
        signature = sign(body)
    if signature is not None:
        headers["HTTP_X_BODY_SIGNATURE"] = signature
    return Client().post(path, body, content_type="application/json", **headers)


def initialize(**fields):
    response = post(INITIALIZE, initialize_payload(**fields))
    assert response.status_code == 200, response.content
    return response.json()


def click(previous: dict, component_id: str, inputs: dict | None = None, **fields) -> dict:
    """A teammate's click on ``component_id`` of the canvas ``previous`` answered."""
    payload = {
        **initialize_payload(**fields),
        "component_id": component_id,
        "input_values": inputs or {},
        "current_canvas": previous["canvas"],
        "user": intercom_contact(),
    }
    response = post(SUBMIT, payload)
    assert response.status_code == 200, response.content
    return response.json()


def components(canvas: dict) -> list[dict]:
    return canvas["canvas"]["content"]["components"]


def words(canvas: dict) -> str:
    """Everything the panel shows, one line per component."""
    return "\n".join(
        str(each.get("text") or each.get("label") or "") for each in components(canvas)
    )


def ids(canvas: dict) -> list[str]:
    return [each["id"] for each in components(canvas) if "id" in each]


# Meta's answer to the WhatsApp number's sends (the channel fixture's phone number id).
WAMID = "wamid.HBgLMTU1NTEyMzQ1NjcVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"
GRAPH_SEND = f"{settings.META_GRAPH_API_URL}/100000000000001/messages"


def graph_accepts(mocked) -> None:
    mocked.post(
        GRAPH_SEND,
        json={
            "messaging_product": "whatsapp",
            "contacts": [{"input": "15551234567", "wa_id": "15551234567"}],
            "messages": [{"id": WAMID}],
        },
    )


def intercom_opens(mocked, conversation_id: str = "8001") -> None:
    """Intercom opens a conversation for the teammate's message (Send & open
    conversation) and takes the channel's tag on it."""
    mocked.post(
        f"{settings.INTERCOM_API_URL}/messages",
        json={"type": "admin_message", "id": "2001", "conversation_id": conversation_id},
    )
    mocked.post(f"{settings.INTERCOM_API_URL}/tags", json={"type": "tag", "id": "17"})
    mocked.post(
        f"{settings.INTERCOM_API_URL}/conversations/{conversation_id}/tags",
        json={"type": "tag", "id": "17"},
    )
