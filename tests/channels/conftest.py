"""A workspace with a Telegram channel and a customer, for the channel tests and the
relay's. A module defining a fixture of the same name uses its own."""

import base64
import hashlib
import hmac
import json
import time

import pytest
from django.conf import settings

from channels.models import Contact, Conversation
from workspaces.models import InboxAdmin, Provider, Workspace


def acme_workspace(
    cast,
    *,
    access_token: str = "tok",  # noqa: S107 - a test's token
    admin_name: str = "Ann",
) -> Workspace:
    """The cast's connected Intercom workspace, with Ann (991) as its default admin."""
    workspace = Workspace.objects.create(
        account=cast.account,
        provider=Provider.INTERCOM,
        external_id="acme-app",
        name="Acme Help",
        access_token=access_token,
    )
    InboxAdmin.objects.create(workspace=workspace, external_id="991", name=admin_name)
    return workspace


def post_hubspot(client, payload: dict):
    """A HubSpot webhook, signed v3 as HubSpot's "Validating requests" guide gives it
    (method + URL + body + timestamp, HMAC-SHA256 with the app's client secret, base64)."""
    body = json.dumps(payload).encode()
    timestamp = str(int(time.time() * 1000))
    url = settings.PUBLIC_BASE_URL + "/hooks/hubspot/"
    source = b"POST" + url.encode() + body + timestamp.encode()
    digest = hmac.new(settings.HUBSPOT_CLIENT_SECRET.encode(), source, hashlib.sha256).digest()
    return client.post(
        "/hooks/hubspot/",
        data=body,
        content_type="application/json",
        headers={
            "X-HubSpot-Signature-v3": base64.b64encode(digest).decode(),
            "X-HubSpot-Request-Timestamp": timestamp,
        },
    )


@pytest.fixture
def workspace(cast):
    return acme_workspace(cast)


@pytest.fixture
def channel(workspace):
    from channels.models import Channel

    channel = Channel(workspace=workspace, kind="telegram", name="Support bot", identity="123")
    channel.credentials_data = {
        "bot_token": "123:abc",
        "secret_token": "s3cret",
        "bot_id": "123",
        "bot_username": "acme_bot",
    }
    channel.save()
    return channel


@pytest.fixture
def contact(channel):
    return Contact.objects.create(channel=channel, external_id="555", name="Jane")


@pytest.fixture
def conversation(contact, workspace):
    return Conversation.objects.create(
        workspace=workspace, contact=contact, inbox_conversation_id="conv-1"
    )


# The secret the Telegram channel below registered its webhook with.
BOT_SECRET = "tg-secret_token-123"


@pytest.fixture
def telegram(workspace):
    """A Telegram channel whose webhooks carry BOT_SECRET, in the module's workspace."""
    from channels.models import Channel

    channel = Channel(workspace=workspace, kind="telegram", name="telegram line", identity="123")
    channel.credentials_data = {
        "bot_token": "123:abc",
        "secret_token": BOT_SECRET,
        "bot_id": "123",
        "bot_username": "acme_bot",
    }
    channel.save()
    return channel
