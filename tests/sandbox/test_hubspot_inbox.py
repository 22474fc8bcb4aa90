"""The sandbox's HubSpot custom channels: the REST calls Octopods makes (channel, inboxes,
channel accounts, messages and their status), their error shapes, idempotency and
threading, the faults control, and the inbox page whose replies reach Octopods as
HubSpot's v3-signed webhook."""

import base64
import dataclasses
import hashlib
import hmac
import json
import re
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
import requests
import responses
from django.conf import settings
from django.test import Client, override_settings
from django.urls import Resolver404, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern

from integrations.base import AgentReply, InboxCustomer, InboxDelivery, ProviderError, TokenSet
from integrations.channel import WebhookRejected
from integrations.hubspot import client as hubspot_client
from integrations.hubspot.adapter import HubSpotAdapter, custom_channel_definition
from sandbox import tokens
from sandbox.directory import (
    HUBSPOT_APP_ID,
    HUBSPOT_CHANNEL_ID,
    HUBSPOT_DEVELOPER_API_KEY,
)
from sandbox.hubspot_inbox_page import webhook_url
from sandbox.models import (
    HubSpotChannel,
    HubSpotChannelAccount,
    HubSpotFault,
    HubSpotMessage,
    HubSpotThread,
)
from tests.sandbox.support import post_json, webhook_request
from tests.sandbox.test_mounting import fresh_urlpatterns

pytestmark = pytest.mark.django_db

API = "/sandbox/hubspot/api"
CHANNELS = f"{API}/conversations/v3/custom-channels"
DATED = f"{API}/conversations/custom-channels/2026-03"
INBOXES = f"{API}/conversations/v3/conversations/inboxes"
UNINSTALL = f"{API}/appinstalls/v3/external-install"
FAULTS = "/sandbox/hubspot/faults"
INBOX = "/sandbox/hubspot/inbox"
HOOK = f"{settings.PUBLIC_BASE_URL}/hooks/hubspot/"
ACME, GLOBEX = 9000001, 9000002
ACME_INBOX, ACME_SALES, GLOBEX_INBOX = "147000101", "147000102", "147000201"
ADA, BEN, GINA = 5100001, 5100011, 5100002  # Ada and Ben: Acme's agents; Gina: Globex's
SCOPES = (
    "oauth",
    "conversations.read",
    "conversations.custom_channels.read",
    "conversations.custom_channels.write",
)
KEY = f"hapikey={HUBSPOT_DEVELOPER_API_KEY}&appId={HUBSPOT_APP_ID}"
MARIA = {"type": "HS_PHONE_NUMBER", "value": "+15551230001"}


def token(hub: int = ACME, scopes=SCOPES) -> str:
    return tokens.issue("hubspot.access", hub=hub, scopes=list(scopes))


def auth(hub: int = ACME, scopes=SCOPES) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token(hub, scopes)}"}


def call(client, method: str, path: str, data: dict | None = None, hub: int = ACME, **headers):
    headers = headers or auth(hub)
    body = json.dumps(data) if data is not None else ""
    return client.generic(method, path, body, content_type="application/json", **headers)


def error_of(response, status: int, category: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["status"] == "error"
    assert body["category"] == category
    assert len(body["correlationId"]) == 36
    return body


def make_channel(client, **fields) -> dict:
    data = {
        "name": "Octopods",
        "webhookUrl": HOOK,
        "capabilities": {
            "threadingModel": "INTEGRATION_THREAD_ID",
            "deliveryIdentifierTypes": ["HS_PHONE_NUMBER", "CHANNEL_SPECIFIC_OPAQUE_ID"],
            "allowOutgoingMessages": True,
            "outgoingAttachmentTypes": ["FILE"],
        },
        **fields,
    }
    response = post_json(client, f"{CHANNELS}?{KEY}", data)
    assert response.status_code == 201, response.content
    return response.json()


def connect(client, channel_id=HUBSPOT_CHANNEL_ID, hub: int = ACME, **fields) -> dict:
    data = {
        "name": "Acme WhatsApp",
        "inboxId": ACME_INBOX if hub == ACME else GLOBEX_INBOX,
        "authorized": True,
        "deliveryIdentifier": {"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": "wa-100000000000001"},
        **fields,
    }
    response = call(client, "POST", f"{CHANNELS}/{channel_id}/channel-accounts", data, hub)
    assert response.status_code == 201, response.content
    return response.json()


def message_data(account: dict, **fields) -> dict:
    return {
        "messageDirection": "INCOMING",
        "channelAccountId": account["id"],
        "integrationThreadId": "whatsapp:15551230001",
        "integrationIdempotencyId": "wamid.A1",
        "text": "My order is late",
        "timestamp": "2026-05-01T10:00:00Z",
        "senders": [{"name": "Maria", "deliveryIdentifier": MARIA}],
        "recipients": [
            {"deliveryIdentifier": {"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": "biz"}}
        ],
        "attachments": [],
        **fields,
    }


def publish(client, account: dict, hub: int = ACME, channel_id=HUBSPOT_CHANNEL_ID, **fields):
    path = f"{CHANNELS}/{channel_id}/messages"
    return call(client, "POST", path, message_data(account, **fields), hub)


def published(client, account: dict, **fields) -> dict:
    response = publish(client, account, **fields)
    assert response.status_code == 201, response.content
    return response.json()


def message_path(message_id: str, channel_id=HUBSPOT_CHANNEL_ID) -> str:
    return f"{CHANNELS}/{channel_id}/messages/{message_id}"


# --- the developer's calls: the custom channel ----------------------------------------------


def test_it_registers_a_custom_channel_with_the_developer_key_and_reads_and_updates_it(client):
    channel = make_channel(client, channelDescription="Relayed customer messages")
    assert set(channel) >= {"id", "name", "capabilities", "webhookUrl", "createdAt"}
    assert channel["id"].isdigit()
    assert channel["id"] != str(HUBSPOT_CHANNEL_ID)
    assert channel["name"] == "Octopods"
    assert channel["webhookUrl"] == HOOK
    assert channel["capabilities"]["threadingModel"] == "INTEGRATION_THREAD_ID"
    assert channel["channelDescription"] == "Relayed customer messages"
    assert channel["createdAt"].endswith("Z")
    assert HubSpotChannel.objects.get(pk=channel["id"]).app_id == HUBSPOT_APP_ID

    assert client.get(f"{CHANNELS}/{channel['id']}?{KEY}").json() == channel

    later = "https://octopods.test/hooks/hubspot/"
    response = call(client, "PATCH", f"{CHANNELS}/{channel['id']}?{KEY}", {"webhookUrl": later})
    assert response.status_code == 200
    assert response.json() == {**channel, "webhookUrl": later}  # the rest stays

    listed = client.get(f"{CHANNELS}/?{KEY}").json()
    assert listed["total"] == len(listed["results"]) == 2  # with the sandbox's own
    assert {c["id"] for c in listed["results"]} == {channel["id"], str(HUBSPOT_CHANNEL_ID)}


def test_it_has_its_own_channel_from_the_start(client):
    response = client.get(f"{CHANNELS}/{HUBSPOT_CHANNEL_ID}?{KEY}")
    assert response.status_code == 200
    channel = response.json()
    assert channel["id"] == str(HUBSPOT_CHANNEL_ID)
    assert channel["webhookUrl"] is None  # its events go to Octopods' one endpoint
    assert webhook_url() == HOOK
    assert channel["capabilities"]["allowOutgoingMessages"] is True


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        (f"appId={HUBSPOT_APP_ID}", {}),
        (f"hapikey=not-the-key&appId={HUBSPOT_APP_ID}", {}),
        (f"appId={HUBSPOT_APP_ID}", {"HTTP_AUTHORIZATION": f"Bearer {HUBSPOT_DEVELOPER_API_KEY}"}),
    ],
)
def test_it_answers_401_in_hubspot_s_shape_to_a_call_without_the_developer_key(
    client, query, headers
):
    for method, path in (("POST", CHANNELS), ("GET", f"{CHANNELS}/{HUBSPOT_CHANNEL_ID}")):
        response = client.generic(method, f"{path}?{query}", "{}", "application/json", **headers)
        body = error_of(response, 401, "INVALID_AUTHENTICATION")
        assert "API key provided is invalid" in body["message"]
    assert not HubSpotChannel.objects.exclude(pk=HUBSPOT_CHANNEL_ID).exists()


def test_it_takes_the_developer_key_in_a_header_too(client):
    response = client.get(
        f"{CHANNELS}/{HUBSPOT_CHANNEL_ID}",
        HTTP_X_HUBSPOT_DEVELOPER_API_KEY=HUBSPOT_DEVELOPER_API_KEY,
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("query", "body", "phrase", "sub_category"),
    [
        (KEY, {"capabilities": {}}, "name is required.", None),
        (
            KEY,
            {"name": "X", "capabilities": {"threadingModel": "BY_MOOD"}},
            "threadingModel must be one of INTEGRATION_THREAD_ID, DELIVERY_IDENTIFIER.",
            "CustomChannelsError.INVALID_CHANNEL_CAPABILITY_VALUES",
        ),
        (
            KEY,
            {"name": "X", "capabilities": {"deliveryIdentifierTypes": ["PIGEON"]}},
            "deliveryIdentifierTypes must be a list of",
            "CustomChannelsError.INVALID_CHANNEL_CAPABILITY_VALUES",
        ),
        (
            KEY,
            {"name": "X", "capabilities": {"allowOutgoingMessages": "yes"}},
            "allowOutgoingMessages must be true or false.",
            "CustomChannelsError.INVALID_CHANNEL_CAPABILITY_VALUES",
        ),
        (KEY, {"name": "X", "capabilities": []}, "capabilities must be an object.", None),
        (
            KEY,
            {"name": "X", "webhookUrl": "ftp://octopods.test/hooks/"},
            "webhookUrl must be an absolute http:// or https:// URL.",
            None,
        ),
        (
            f"hapikey={HUBSPOT_DEVELOPER_API_KEY}&appId=42",
            {"name": "X"},
            "appId 42 is not an app of this developer account",
            None,
        ),
    ],
)
def test_it_refuses_a_channel_it_cannot_register(client, query, body, phrase, sub_category):
    response = post_json(client, f"{CHANNELS}?{query}", body)
    error = error_of(response, 400, "VALIDATION_ERROR")
    assert phrase in error["message"]
    assert error.get("subCategory") == sub_category
    assert error["errors"][0]["message"] == error["message"]
    assert not HubSpotChannel.objects.exclude(pk=HUBSPOT_CHANNEL_ID).exists()


def test_it_answers_400_to_a_body_that_is_not_a_json_object(client):
    response = client.post(f"{CHANNELS}?{KEY}", "[1, 2", content_type="application/json")
    assert error_of(response, 400, "VALIDATION_ERROR")["message"] == (
        "The request body is not a JSON object."
    )


def test_it_archives_a_channel_and_then_knows_it_no_more(client):
    channel = make_channel(client)
    response = client.delete(f"{CHANNELS}/{channel['id']}?{KEY}")
    assert response.status_code == 204
    assert client.get(f"{CHANNELS}/{channel['id']}?{KEY}").status_code == 404
    response = call(
        client,
        "POST",
        f"{CHANNELS}/{channel['id']}/channel-accounts",
        {"name": "X", "inboxId": ACME_INBOX, "authorized": True},
    )
    assert error_of(response, 404, "OBJECT_NOT_FOUND")["message"] == (
        f"Channel {channel['id']} does not exist."
    )


def test_it_answers_the_dated_paths_as_the_v3_ones(client):
    response = post_json(client, f"{DATED}?{KEY}", {"name": "Dated"})
    assert response.status_code == 201
    channel_id = response.json()["id"]
    inboxes = client.get(f"{API}/conversations/conversations/2026-03/inboxes", **auth())
    assert [i["id"] for i in inboxes.json()["results"]] == [ACME_INBOX, ACME_SALES]
    response = call(
        client,
        "POST",
        f"{DATED}/{channel_id}/channel-accounts",
        {"name": "Acme SMS", "inboxId": int(ACME_INBOX), "authorized": True},
    )
    assert response.status_code == 201
    account = response.json()
    assert account["inboxId"] == ACME_INBOX  # a number is taken as the id it names
    message = call(client, "POST", f"{DATED}/{channel_id}/messages", message_data(account))
    assert message.status_code == 201
    message_id = message.json()["id"]
    assert client.get(f"{DATED}/{channel_id}/messages/{message_id}", **auth()).status_code == 200
    # Same thing through v3: it is one API.
    assert client.get(message_path(message_id, channel_id), **auth()).json() == message.json()


# --- OAuth: who may call -----------------------------------------------------------------------


OAUTH_CALLS = [
    ("GET", INBOXES),
    ("POST", f"{CHANNELS}/{HUBSPOT_CHANNEL_ID}/channel-accounts"),
    ("GET", f"{CHANNELS}/{HUBSPOT_CHANNEL_ID}/channel-accounts/1"),
    ("PATCH", f"{CHANNELS}/{HUBSPOT_CHANNEL_ID}/channel-accounts/1"),
    ("POST", f"{CHANNELS}/{HUBSPOT_CHANNEL_ID}/messages"),
    ("GET", f"{CHANNELS}/{HUBSPOT_CHANNEL_ID}/messages/abc"),
    ("PATCH", f"{CHANNELS}/{HUBSPOT_CHANNEL_ID}/messages/abc"),
]


@pytest.mark.parametrize(("method", "path"), OAUTH_CALLS)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer forged"},
        {"HTTP_AUTHORIZATION": f"Bearer {tokens.issue('hubspot.refresh', hub=ACME, scopes=[])}"},
        {"HTTP_AUTHORIZATION": f"Bearer {tokens.issue('hubspot.access', hub=1, scopes=[])}"},
    ],
)
def test_it_answers_401_without_a_live_access_token(client, method, path, headers):
    response = client.generic(method, path, "{}", "application/json", **headers)
    error_of(response, 401, "INVALID_AUTHENTICATION")


def test_it_answers_401_to_an_expired_access_token(client, monkeypatch):
    headers = auth()
    issued = tokens.now()
    monkeypatch.setattr(tokens, "now", lambda: issued + 1799)
    assert client.get(INBOXES, **headers).status_code == 200
    monkeypatch.setattr(tokens, "now", lambda: issued + 1800 + 125)
    body = error_of(client.get(INBOXES, **headers), 401, "EXPIRED_AUTHENTICATION")
    assert body["message"] == "The OAuth token used to make this call expired 2 minute(s) ago."


def test_it_refuses_every_earlier_token_of_a_portal_the_app_was_uninstalled_from(
    client, monkeypatch
):
    acme, globex = auth(ACME), auth(GLOBEX)
    issued = tokens.now()
    monkeypatch.setattr(tokens, "now", lambda: issued + 1)
    assert client.delete(UNINSTALL, **acme).status_code == 204
    body = error_of(client.get(INBOXES, **acme), 401, "INVALID_AUTHENTICATION")
    assert "uninstalled" in body["message"]
    assert client.get(INBOXES, **globex).status_code == 200
    # Installed again: the new tokens work.
    monkeypatch.setattr(tokens, "now", lambda: issued + 2)
    assert client.get(INBOXES, **auth(ACME)).status_code == 200
    assert client.delete(f"{API}/appinstalls/2026-03/external-install", **auth()).status_code == 204


def test_it_answers_403_to_a_token_without_the_scope_the_call_needs(client):
    account = connect(client)
    read_only = auth(scopes=("oauth", "conversations.custom_channels.read"))
    path = f"{CHANNELS}/{HUBSPOT_CHANNEL_ID}/messages"
    response = call(client, "POST", path, message_data(account), **read_only)
    body = error_of(response, 403, "MISSING_SCOPES")
    assert body["errors"][0]["context"] == {
        "requiredGranularScopes": ["conversations.custom_channels.write"]
    }
    response = client.get(INBOXES, **read_only)
    assert error_of(response, 403, "MISSING_SCOPES")["errors"][0]["context"] == {
        "requiredGranularScopes": ["conversations.read"]
    }
    assert not HubSpotMessage.objects.exists()


def test_it_answers_a_method_it_does_not_serve_in_hubspot_s_shape(client):
    response = client.delete(INBOXES, **auth())
    assert (
        "DELETE is not supported here; use GET."
        in error_of(response, 405, "METHOD_NOT_ALLOWED")["message"]
    )


# --- inboxes and channel accounts ---------------------------------------------------------------


def test_it_lists_the_portal_s_inboxes(client):
    acme = client.get(INBOXES, **auth()).json()
    assert acme["total"] == 2
    assert acme["results"][0] == {
        "id": ACME_INBOX,
        "name": "Acme Support",
        "type": "INBOX",
        "createdAt": acme["results"][0]["createdAt"],
        "updatedAt": acme["results"][0]["updatedAt"],
        "archived": False,
    }
    globex = client.get(INBOXES, **auth(GLOBEX)).json()
    assert [(i["id"], i["type"]) for i in globex["results"]] == [
        (GLOBEX_INBOX, "HELP_DESK"),
        ("147000202", "INBOX"),
    ]


def test_it_connects_a_channel_account_in_an_inbox_and_updates_it(client):
    account = connect(client)
    assert account == {
        "id": account["id"],
        "channelId": str(HUBSPOT_CHANNEL_ID),
        "inboxId": ACME_INBOX,
        "name": "Acme WhatsApp",
        "authorized": True,
        "active": True,
        "archived": False,
        "createdAt": account["createdAt"],
        "deliveryIdentifier": {"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": "wa-100000000000001"},
    }
    path = f"{CHANNELS}/{HUBSPOT_CHANNEL_ID}/channel-accounts/{account['id']}"
    assert client.get(path, **auth()).json() == account

    response = call(client, "PATCH", path, {"authorized": False, "name": "Acme WhatsApp (old)"})
    assert response.status_code == 200
    assert response.json() == {
        **account,
        "authorized": False,
        "active": False,
        "name": "Acme WhatsApp (old)",
    }

    connect(client, hub=GLOBEX, name="Globex SMS")
    listed = client.get(f"{CHANNELS}/{HUBSPOT_CHANNEL_ID}/channel-accounts", **auth()).json()
    assert [a["id"] for a in listed["results"]] == [account["id"]]  # Acme's only


@pytest.mark.parametrize(
    ("fields", "phrase", "field"),
    [
        ({"name": ""}, "name is required.", "name"),
        ({"inboxId": None}, "inboxId is required.", "inboxId"),
        (
            {"inboxId": GLOBEX_INBOX},
            f"inboxId {GLOBEX_INBOX} is not an inbox of this account",
            "inboxId",
        ),
        ({"authorized": "yes"}, "authorized must be true or false.", "authorized"),
        (
            {"deliveryIdentifier": {"type": "PIGEON", "value": "x"}},
            "deliveryIdentifier.type must be one of",
            "deliveryIdentifier.type",
        ),
        (
            {"deliveryIdentifier": {"type": "HS_PHONE_NUMBER"}},
            "deliveryIdentifier.value is required.",
            "deliveryIdentifier.value",
        ),
    ],
)
def test_it_refuses_a_channel_account_it_cannot_create(client, fields, phrase, field):
    data = {"name": "Acme WhatsApp", "inboxId": ACME_INBOX, "authorized": True, **fields}
    path = f"{CHANNELS}/{HUBSPOT_CHANNEL_ID}/channel-accounts"
    error = error_of(call(client, "POST", path, data), 400, "VALIDATION_ERROR")
    assert phrase in error["message"]
    assert error["errors"][0]["in"] == field


def test_it_answers_404_for_another_portal_s_channel_account_or_an_unknown_channel(client):
    account = connect(client)
    path = f"{CHANNELS}/{HUBSPOT_CHANNEL_ID}/channel-accounts/{account['id']}"
    for method in ("GET", "PATCH"):
        response = call(client, method, path, {"authorized": False}, GLOBEX)
        assert error_of(response, 404, "OBJECT_NOT_FOUND")["message"] == (
            f"Channel account {account['id']} does not exist."
        )
    for channel_id in ("999", "abc"):
        response = client.get(f"{CHANNELS}/{channel_id}/channel-accounts", **auth())
        error_of(response, 404, "OBJECT_NOT_FOUND")
    assert client.get(path, **auth()).json()["authorized"] is True


# --- messages -----------------------------------------------------------------------------------


def test_it_publishes_a_customer_s_message_into_a_thread_and_answers_the_message(client):
    account = connect(client)
    response = publish(client, account, richText="<p>My order is late</p>")
    assert response.status_code == 201
    message = response.json()
    stored = HubSpotMessage.objects.get()
    assert message == {
        "type": "MESSAGE",
        "id": stored.message_id,
        "conversationsThreadId": str(stored.thread_id),
        "channelId": str(HUBSPOT_CHANNEL_ID),
        "channelAccountId": account["id"],
        "createdAt": message["createdAt"],
        "updatedAt": message["createdAt"],
        "createdBy": f"I-{HUBSPOT_APP_ID}",
        "client": {"clientType": "INTEGRATION", "integrationAppId": HUBSPOT_APP_ID},
        "senders": [{"name": "Maria", "deliveryIdentifier": MARIA}],
        "recipients": [
            {"deliveryIdentifier": {"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": "biz"}}
        ],
        "archived": False,
        "text": "My order is late",
        "richText": "<p>My order is late</p>",
        "attachments": [],
        "truncationStatus": "NOT_TRUNCATED",
        "direction": "INCOMING",
        "status": {"statusType": "RECEIVED"},
    }
    assert len(stored.message_id) == 32
    assert stored.sent_at == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    thread = stored.thread
    assert thread.integration_thread_id == "whatsapp:15551230001"
    assert (thread.customer_name, thread.customer_identifier) == ("Maria", MARIA)


def test_it_keeps_one_thread_per_channel_account_and_integration_thread_id(client):
    whatsapp = connect(client)
    sms = connect(client, name="Acme SMS", inboxId=ACME_SALES)
    first = published(client, whatsapp, integrationIdempotencyId="m1")
    again = published(client, whatsapp, integrationIdempotencyId="m2", text="Hello?")
    other_customer = published(
        client, whatsapp, integrationIdempotencyId="m3", integrationThreadId="whatsapp:15559990000"
    )
    other_account = published(client, sms, integrationIdempotencyId="m4")

    assert again["conversationsThreadId"] == first["conversationsThreadId"]
    threads = {
        first["conversationsThreadId"],
        other_customer["conversationsThreadId"],
        other_account["conversationsThreadId"],
    }
    assert len(threads) == 3
    assert HubSpotThread.objects.count() == 3
    assert [
        m.text for m in HubSpotThread.objects.get(pk=first["conversationsThreadId"]).messages.all()
    ] == [
        "My order is late",
        "Hello?",
    ]


def test_it_answers_a_repeated_idempotency_id_with_the_first_message(client):
    account = connect(client)
    first = publish(client, account)
    repeat = publish(client, account, text="My order is late (retried)")
    assert repeat.status_code == 201
    assert repeat.json() == first.json()
    assert HubSpotMessage.objects.count() == 1
    # Without the key, each publish is a message of its own.
    for _ in range(2):
        published(client, account, integrationIdempotencyId=None)
    assert HubSpotMessage.objects.count() == 3
    # The key is the channel account's: another account may use the same one.
    other = connect(client, name="Acme SMS")
    assert published(client, other)["id"] != first.json()["id"]


def test_it_publishes_a_message_the_business_sent_from_elsewhere_as_outgoing(client):
    account = connect(client)
    message = published(
        client,
        account,
        messageDirection="OUTGOING",
        integrationThreadId="whatsapp:15559990000",
        senders=[{"name": "Acme Support", "deliveryIdentifier": account["deliveryIdentifier"]}],
        recipients=[{"name": "Tom", "deliveryIdentifier": {**MARIA, "value": "+15559990000"}}],
        attachments=[{"type": "LOCATION", "latitude": 52.52, "longitude": 13.4, "name": "Shop"}],
    )
    assert message["direction"] == "OUTGOING"
    assert message["status"] == {"statusType": "SENT"}
    assert message["client"]["clientType"] == "INTEGRATION"
    thread = HubSpotThread.objects.get()
    assert thread.customer_name == "Tom"  # the recipient, in a thread the business opened
    assert thread.customer_identifier["value"] == "+15559990000"


@pytest.mark.parametrize(
    ("fields", "phrase", "field"),
    [
        ({"messageDirection": "SIDEWAYS"}, "messageDirection must be INCOMING or OUTGOING.", None),
        ({"channelAccountId": None}, "channelAccountId is required.", "channelAccountId"),
        ({"channelAccountId": "999999"}, "channelAccountId 999999 is not a channel account", None),
        ({"integrationThreadId": ""}, "integrationThreadId is required.", None),
        ({"text": "", "richText": ""}, "A message needs text, richText or an attachment.", "text"),
        ({"text": 42}, "text must be a string.", "text"),
        ({"senders": {"name": "Maria"}}, "senders must be a list.", "senders"),
        (
            {"senders": [{"deliveryIdentifier": {"type": "PHONE", "value": "+1"}}]},
            "senders[0].deliveryIdentifier.type must be one of",
            "senders[0].deliveryIdentifier.type",
        ),
        ({"recipients": ["maria"]}, "recipients[0] must be an object.", "recipients[0]"),
        ({"attachments": [{"type": "GIF"}]}, "attachments[0].type must be one of", None),
        (
            {"attachments": [{"type": "FILE"}]},
            "attachments[0].fileId is required for a FILE.",
            "attachments[0].fileId",
        ),
        (
            {"attachments": [{"type": "LOCATION", "latitude": "north", "longitude": 1}]},
            "attachments[0].latitude must be a number.",
            None,
        ),
        ({"timestamp": "yesterday"}, "timestamp must be an ISO 8601 date-time", "timestamp"),
    ],
)
def test_it_refuses_a_message_it_cannot_publish(client, fields, phrase, field):
    account = connect(client)
    error = error_of(publish(client, account, **fields), 400, "VALIDATION_ERROR")
    assert phrase in error["message"]
    if field:
        assert error["errors"][0]["in"] == field
    assert not HubSpotMessage.objects.exists()
    assert not HubSpotThread.objects.exists()


def test_it_refuses_messages_for_a_disconnected_or_another_portal_s_channel_account(client):
    account = connect(client)
    path = f"{CHANNELS}/{HUBSPOT_CHANNEL_ID}/channel-accounts/{account['id']}"
    call(client, "PATCH", path, {"authorized": False})
    error = error_of(publish(client, account), 400, "VALIDATION_ERROR")
    assert "is not authorized (authorized is false)" in error["message"]
    call(client, "PATCH", path, {"authorized": True})
    error = error_of(publish(client, account, GLOBEX), 400, "VALIDATION_ERROR")
    assert f"channelAccountId {account['id']} is not a channel account" in error["message"]
    assert not HubSpotMessage.objects.exists()


def test_it_takes_a_timestamp_in_milliseconds_and_a_message_with_only_an_attachment(client):
    account = connect(client)
    message = published(
        client,
        account,
        text="",
        timestamp=1_777_629_600_000,
        attachments=[{"type": "FILE", "fileId": "1234"}],
    )
    stored = HubSpotMessage.objects.get(message_id=message["id"])
    assert stored.sent_at == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    assert message["attachments"] == [{"type": "FILE", "fileId": "1234"}]


def test_it_records_the_status_the_app_reports_on_a_message(client):
    account = connect(client)
    message = published(client, account, messageDirection="OUTGOING")
    path = message_path(message["id"])
    assert client.get(path, **auth()).json() == message

    failed = call(client, "PATCH", path, {"statusType": "FAILED", "errorMessage": "Window closed"})
    assert failed.status_code == 200
    assert failed.json()["status"] == {
        "statusType": "FAILED",
        "failureDetails": {"errorMessage": "Window closed", "errorMessageTokens": {}},
    }
    sent = call(client, "PATCH", path, {"statusType": "SENT"}).json()
    assert sent["status"] == {"statusType": "SENT"}
    assert HubSpotMessage.objects.get().error_message == ""
    assert call(client, "PATCH", path, {"statusType": "READ"}).json()["status"] == {
        "statusType": "READ"
    }


def test_it_refuses_a_status_it_cannot_record(client):
    account = connect(client)
    incoming = published(client, account)
    path = message_path(incoming["id"])
    error = error_of(call(client, "PATCH", path, {"statusType": "LOST"}), 400, "VALIDATION_ERROR")
    assert error["message"] == "statusType must be SENT, FAILED or READ."
    error = error_of(call(client, "PATCH", path, {"statusType": "SENT"}), 400, "VALIDATION_ERROR")
    assert "is INCOMING" in error["message"]
    for missing in (message_path("nope"), path):
        hub = GLOBEX if missing == path else ACME
        response = call(client, "PATCH", missing, {"statusType": "READ"}, hub)
        error_of(response, 404, "OBJECT_NOT_FOUND")
        error_of(call(client, "GET", missing, hub=hub), 404, "OBJECT_NOT_FOUND")
    assert HubSpotMessage.objects.get().status == "RECEIVED"


# --- rate limits and faults -----------------------------------------------------------------


def test_it_sends_rate_limit_headers_on_every_answer(client):
    for response in (
        client.get(INBOXES, **auth()),
        client.get(INBOXES),
        client.get(f"{CHANNELS}/{HUBSPOT_CHANNEL_ID}?{KEY}"),
    ):
        assert response["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
        assert response["X-HubSpot-RateLimit-Max"] == "110"
        assert response["X-HubSpot-RateLimit-Remaining"] == "109"


def test_it_answers_429_with_hubspot_s_rate_limit_body_while_a_storm_is_armed(client):
    account = connect(client)
    response = post_json(client, FAULTS, {"status": 429, "count": 2})
    assert response.json() == {"faults": [{"status": 429, "remaining": 2, "portal": None}]}
    for _ in range(2):
        response = publish(client, account)
        assert response.status_code == 429
        body = response.json()
        assert body["errorType"] == "RATE_LIMIT"
        assert body["policyName"] == "TEN_SECONDLY_ROLLING"
        assert body["message"] == "You have reached your ten_secondly_rolling limit."
        assert body["status"] == "error"
        assert response["X-HubSpot-RateLimit-Remaining"] == "0"
    assert not HubSpotMessage.objects.exists()
    assert publish(client, account).status_code == 201


def test_it_spends_faults_only_on_their_portal_and_on_any_for_developer_calls(client):
    post_json(client, FAULTS, {"status": 503, "count": 1, "portal": GLOBEX})
    assert client.get(INBOXES, **auth()).status_code == 200
    assert client.get(f"{CHANNELS}/{HUBSPOT_CHANNEL_ID}?{KEY}").status_code == 200
    error_of(client.get(INBOXES, **auth(GLOBEX)), 503, "INTERNAL_ERROR")
    assert client.get(INBOXES, **auth(GLOBEX)).status_code == 200

    post_json(client, FAULTS, {"status": 500, "count": 1})
    error_of(client.get(f"{CHANNELS}/{HUBSPOT_CHANNEL_ID}?{KEY}"), 500, "INTERNAL_ERROR")


def test_it_leaves_a_call_it_refuses_anyway_unanswered_by_faults(client):
    post_json(client, FAULTS, {"status": 429, "count": 1})
    assert client.get(INBOXES).status_code == 401
    assert client.get(f"{CHANNELS}/{HUBSPOT_CHANNEL_ID}").status_code == 401
    assert HubSpotFault.objects.get().remaining == 1


def test_it_lists_and_disarms_faults(client):
    post_json(client, FAULTS, {"status": 404, "count": 3, "portal": ACME})
    error_of(client.get(INBOXES, **auth()), 404, "OBJECT_NOT_FOUND")
    assert client.get(FAULTS).json() == {
        "faults": [{"status": 404, "remaining": 2, "portal": ACME}]
    }
    assert client.delete(FAULTS).json() == {"faults": []}
    assert client.get(INBOXES, **auth()).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"status": "many"},
        {"status": 200},
        {"status": 429, "count": 0},
        {"status": 429, "portal": 1},
    ],
)
def test_it_refuses_a_fault_it_cannot_arm(client, body):
    response = post_json(client, FAULTS, body)
    assert response.status_code == 400
    assert response.json()["error"]
    assert not HubSpotFault.objects.exists()


# --- the inbox page ---------------------------------------------------------------------------


@pytest.fixture
def chat(client) -> HubSpotThread:
    """Maria's WhatsApp thread in Acme's inbox, as Octopods publishes it."""
    account = connect(client)
    message = published(client, account)
    return HubSpotThread.objects.get(pk=message["conversationsThreadId"])


def page(chat: HubSpotThread) -> str:
    return f"{INBOX}/{chat.account.portal}/{chat.pk}/"


def reply(client, chat: HubSpotThread, text: str, agent=ADA):
    return client.post(f"{page(chat)}reply", {"agent": agent, "text": text}, follow=True)


def sent_webhook() -> tuple[list, requests.PreparedRequest]:
    assert len(responses.calls) == 1
    request = responses.calls[0].request
    return json.loads(request.body), request


def expected_signature(request, url: str = HOOK) -> str:
    """X-HubSpot-Signature-v3 worked out here, from PROVIDERS.md §2.4."""
    timestamp = request.headers["X-HubSpot-Request-Timestamp"]
    source = b"POST" + url.encode() + request.body + timestamp.encode()
    digest = hmac.new(settings.HUBSPOT_CLIENT_SECRET.encode(), source, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def judged_by_octopods(request) -> list:
    """What the product's own verifier and parser make of a webhook the page sent."""
    hook = webhook_request(request)
    adapter = HubSpotAdapter()
    adapter.verify_webhook(request=hook)
    return adapter.parse_webhook(request=hook)


def test_it_lets_a_person_pick_an_account(client, chat):
    response = client.get(f"{INBOX}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Inbox · Sandbox HubSpot</title>" in html
    assert "not the real HubSpot" in html
    for domain in ("acme-sandbox.hubspot.com", "globex-sandbox.hubspot.com"):
        assert domain in html
    assert f'href="{INBOX}/{ACME}/"' in html
    assert "<td>1</td>" in html  # Acme's one thread
    assert "Ada Admin, Ben Agent" in html


def test_it_lists_an_account_s_threads_newest_activity_first(client, chat):
    account = {"id": str(chat.account_id), "deliveryIdentifier": chat.account.delivery_identifier}
    published(
        client,
        account,
        integrationThreadId="telegram:7",
        integrationIdempotencyId="tg-1",
        text="Is anyone there?",
        senders=[{"name": "Tom Baker", "deliveryIdentifier": {**MARIA, "value": "+15559990000"}}],
    )
    html = client.get(f"{INBOX}/{ACME}/").content.decode()
    assert html.index("Tom Baker") < html.index("Maria")
    assert "Is anyone there?" in html
    assert "Acme WhatsApp" in html and "in Acme Support" in html
    assert f'href="{INBOX}/{ACME}/{chat.pk}/"' in html
    assert "No threads yet" in client.get(f"{INBOX}/{GLOBEX}/").content.decode()


@responses.activate
def test_it_shows_the_messages_in_order_with_each_reply_s_status(client, chat):
    responses.add(responses.POST, HOOK, status=200)
    reply(client, chat, "Checking now")
    reply(client, chat, "Your parcel ships today", agent=BEN)
    reply(client, chat, "Tracking follows")
    checking, ships, _ = HubSpotMessage.objects.filter(client="HUBSPOT")
    call(client, "PATCH", message_path(checking.message_id), {"statusType": "SENT"})
    call(
        client,
        "PATCH",
        message_path(ships.message_id),
        {"statusType": "FAILED", "errorMessage": "WhatsApp's 24-hour window has closed."},
    )

    html = client.get(page(chat)).content.decode()
    order = [html.index(t) for t in ("My order is late", "Checking now", "ships today", "Tracking")]
    assert order == sorted(order)
    assert "Maria (customer)" in html
    assert "Ada Admin (agent)" in html and "Ben Agent (agent)" in html
    assert '<span class="badge status-sent">Sent</span>' in html
    assert '<span class="badge status-failed">Failed</span>' in html
    assert '<span class="failure">WhatsApp&#x27;s 24-hour window has closed.</span>' in html
    assert '<span class="badge status-pending">Waiting for Octopods</span>' in html
    assert "<code>whatsapp:15551230001</code>" in html
    assert "+15551230001" in html


def test_it_keeps_inline_styles_and_scripts_out_and_protects_its_form(client, chat):
    for url in (f"{INBOX}/", f"{INBOX}/{ACME}/", page(chat)):
        html = client.get(url).content.decode()
        assert "style=" not in html
        assert "<style" not in html
        assert "<script" not in html
        assert '<html lang="en">' in html
        assert "Local stand-in, not the real HubSpot" in html
        assert "sandbox/hubspot_inbox.css" in html
    html = client.get(page(chat)).content.decode()
    assert html.count("csrfmiddlewaretoken") == 1
    assert '<label for="agent">Agent</label>' in html
    assert '<label for="text">Message</label>' in html


def test_it_refuses_a_form_post_without_the_csrf_token(chat):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(f"{page(chat)}reply", {"agent": ADA, "text": "x"})
    assert response.status_code == 403
    assert not HubSpotMessage.objects.filter(client="HUBSPOT").exists()


@responses.activate
def test_it_stores_a_reply_and_posts_the_signed_webhook_to_octopods(client, chat):
    responses.add(responses.POST, HOOK, status=200)
    before = int(time.time() * 1000)
    response = reply(client, chat, "Your parcel ships today.\nTracking: <AB123>")
    assert response.status_code == 200
    assert "Replied as Ada Admin. Delivered to your webhook (200)." in response.content.decode()

    message = HubSpotMessage.objects.get(client="HUBSPOT")
    assert message.direction == "OUTGOING"
    assert message.status == ""  # until Octopods reports it
    assert message.rich_text == "<p>Your parcel ships today.</p><p>Tracking: &lt;AB123&gt;</p>"
    assert (message.delivery_attempts, message.webhook_ok) == (1, True)

    events, request = sent_webhook()
    assert request.url == HOOK == webhook_url(chat)
    assert request.headers["Content-Type"] == "application/json"
    assert before <= int(request.headers["X-HubSpot-Request-Timestamp"]) <= time.time() * 1000
    assert request.headers["X-HubSpot-Signature-v3"] == expected_signature(request)
    assert judged_by_octopods(request) == [
        AgentReply(
            workspace_external_id=str(ACME),
            conversation_id=str(chat.pk),
            part_id=message.message_id,
            admin_id=f"A-{ADA}",
            admin_name="Ada Admin",
            body_html=message.rich_text,
            at=message.created_at.replace(
                microsecond=message.created_at.microsecond // 1000 * 1000
            ),
            customer_external_id="whatsapp:15551230001",
            channel_account_id=str(chat.account_id),
        )
    ]

    (event,) = events
    assert event["type"] == "OUTGOING_CHANNEL_MESSAGE_CREATED"
    assert event["portalId"] == str(ACME)
    assert event["channelId"] == str(HUBSPOT_CHANNEL_ID)
    assert event["eventTimestamp"].endswith("Z")
    sent = event["message"]
    assert sent["id"] == message.message_id
    assert sent["channelAccountId"] == str(chat.account_id)
    assert sent["conversationsThreadId"] == str(chat.pk)
    assert sent["channelIntegrationThreadIds"] == ["whatsapp:15551230001"]
    assert sent["direction"] == "OUTGOING"
    assert sent["text"] == "Your parcel ships today.\nTracking: <AB123>"
    assert sent["richText"] == message.rich_text
    assert sent["senders"] == [{"actorId": f"A-{ADA}", "name": "Ada Admin"}]
    assert sent["recipients"] == [{"deliveryIdentifier": MARIA, "name": "Maria"}]
    assert sent["attachments"] == []
    assert sent["client"] == {"clientType": "HUBSPOT"}
    assert "status" not in sent


@responses.activate
def test_it_signs_the_raw_utf8_body_so_a_changed_byte_fails_octopods_verifier(client, chat):
    responses.add(responses.POST, HOOK, status=200)
    reply(client, chat, "Grüße aus Köln")
    request = responses.calls[0].request
    assert "Grüße aus Köln".encode() in request.body
    hook = webhook_request(request)
    tampered = dataclasses.replace(hook, body=hook.body.replace("Köln".encode(), b"Bonn"))
    with pytest.raises(WebhookRejected):
        HubSpotAdapter().verify_webhook(request=tampered)


@responses.activate
def test_it_sends_the_webhook_to_the_url_the_channel_registered(client):
    url = "https://octopods.test/hooks/hubspot/"
    channel = make_channel(client, webhookUrl=url)
    account = connect(client, channel_id=channel["id"])
    message = published(client, account, channel_id=channel["id"])
    chat = HubSpotThread.objects.get(pk=message["conversationsThreadId"])
    responses.add(responses.POST, url, status=200)
    reply(client, chat, "Hello")
    _, request = sent_webhook()
    assert request.url == url
    assert request.headers["X-HubSpot-Signature-v3"] == expected_signature(request, url)
    assert json.loads(request.body)[0]["channelId"] == channel["id"]


@responses.activate
@pytest.mark.parametrize(
    ("agent", "text", "phrase"),
    [
        (GINA, "Hi", "Choose an agent of acme-sandbox.hubspot.com to reply as."),
        ("", "Hi", "Choose an agent of acme-sandbox.hubspot.com to reply as."),
        (ADA, "   ", "Write the reply first."),
        (ADA, "x" * 10_001, "Keep it under 10,000 characters."),
    ],
)
def test_it_refuses_a_reply_it_cannot_send_and_sends_nothing(client, chat, agent, text, phrase):
    html = reply(client, chat, text, agent=agent).content.decode()
    assert phrase in html
    assert not HubSpotMessage.objects.filter(client="HUBSPOT").exists()
    assert len(responses.calls) == 0


@responses.activate
def test_it_takes_no_reply_on_a_disconnected_channel_account(client, chat):
    path = f"{CHANNELS}/{HUBSPOT_CHANNEL_ID}/channel-accounts/{chat.account_id}"
    call(client, "PATCH", path, {"authorized": False})
    html = client.get(page(chat)).content.decode()
    assert "is disconnected (authorized is false)" in html
    assert 'name="text"' not in html
    html = reply(client, chat, "Hello").content.decode()
    assert "is disconnected (authorized is false)" in html
    assert not HubSpotMessage.objects.filter(client="HUBSPOT").exists()
    assert len(responses.calls) == 0


@responses.activate
def test_it_shows_what_octopods_answered_when_it_is_not_a_2xx(client, chat):
    responses.add(responses.POST, HOOK, status=403, body="Bad signature.")
    html = reply(client, chat, "Hello").content.decode()
    assert "Your webhook answered 403: Bad signature." in html
    assert 'class="outcome-failed"' in html
    assert not HubSpotMessage.objects.get(client="HUBSPOT").webhook_ok


@responses.activate
def test_it_shows_when_octopods_cannot_be_reached(client, chat):
    responses.add(responses.POST, HOOK, body=requests.ConnectionError("refused"))
    html = reply(client, chat, "Hello").content.decode()
    assert f"Could not reach your webhook at {HOOK}: refused" in html
    # The reply is in the thread all the same, as it would be in HubSpot.
    assert HubSpotMessage.objects.filter(client="HUBSPOT").count() == 1


@responses.activate
def test_it_resends_a_webhook_with_the_same_message_id(client, chat):
    responses.add(responses.POST, HOOK, status=500)
    reply(client, chat, "Hello")
    message = HubSpotMessage.objects.get(client="HUBSPOT")
    responses.replace(responses.POST, HOOK, status=200)
    response = client.post(f"{page(chat)}messages/{message.pk}/redeliver", follow=True)
    html = response.content.decode()
    assert "Sent the webhook again. Delivered to your webhook (200)." in html
    assert "sent 2 times" in html
    first, second = (json.loads(c.request.body)[0] for c in responses.calls)
    assert second["message"]["id"] == first["message"]["id"] == message.message_id
    assert responses.calls[1].request.headers["X-HubSpot-Signature-v3"] == expected_signature(
        responses.calls[1].request
    )


def test_it_remembers_the_agent_chosen_last(client, chat):
    with responses.RequestsMock() as mocked:
        mocked.add(responses.POST, HOOK, status=200)
        reply(client, chat, "Hello", agent=BEN)
    html = client.get(page(chat)).content.decode()
    assert f'<option value="{BEN}" selected>' in html


def test_it_answers_404_for_an_unknown_account_or_another_account_s_thread(client, chat):
    assert client.get(f"{INBOX}/1/").status_code == 404
    assert client.get(f"{INBOX}/{GLOBEX}/{chat.pk}/").status_code == 404
    response = client.post(f"{INBOX}/{GLOBEX}/{chat.pk}/reply", {"agent": GINA, "text": "x"})
    assert response.status_code == 404
    assert not HubSpotMessage.objects.filter(client="HUBSPOT").exists()
    incoming = HubSpotMessage.objects.get()
    response = client.post(f"{page(chat)}messages/{incoming.pk}/redeliver")
    assert response.status_code == 404  # only an agent's reply has a webhook


# --- the product's own client against the sandbox, over HTTP --------------------------------


@pytest.fixture
def over_http(client):
    """Route the product's HTTP calls to HUBSPOT_API_URL into this Django app, so the
    product's HubSpot adapter talks to the sandbox exactly as it would on a laptop."""

    def forward(request):
        parts = urlsplit(request.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = client.generic(
            request.method,
            path,
            data=request.body or b"",
            content_type=request.headers.get("Content-Type", ""),
            HTTP_AUTHORIZATION=request.headers.get("Authorization", ""),
        )
        return response.status_code, dict(response.items()), response.content

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        pattern = re.compile(re.escape(settings.HUBSPOT_API_URL) + r"/.*")
        for method in (responses.GET, responses.POST, responses.PATCH, responses.DELETE):
            mocked.add_callback(method, pattern, callback=forward)
        yield mocked


def customer_message(account_id: str, body: str, key: str) -> InboxDelivery:
    customer = InboxCustomer(external_id="whatsapp:15551230001", name="Maria", phone=MARIA["value"])
    return InboxDelivery(
        customer=customer, body=body, channel_account_id=account_id, idempotency_key=key
    )


def test_it_serves_the_product_s_hubspot_adapter_from_connect_to_reply_outcome(client, over_http):
    adapter, access = HubSpotAdapter(), TokenSet(access_token=token())
    account_id = adapter.channel_connect(tokens=access, name="Acme WhatsApp", identity="wa-1")
    account = HubSpotChannelAccount.objects.get(pk=account_id)
    assert (account.portal, account.inbox_id, account.channel_id) == (
        ACME,
        ACME_INBOX,
        HUBSPOT_CHANNEL_ID,
    )

    first = adapter.deliver(tokens=access, delivery=customer_message(account_id, "Hi", "m1"))
    repeat = adapter.deliver(tokens=access, delivery=customer_message(account_id, "Hi", "m1"))
    assert (repeat.part_id, repeat.conversation_id) == (first.part_id, first.conversation_id)
    later = adapter.deliver(tokens=access, delivery=customer_message(account_id, "Still?", "m2"))
    assert later.conversation_id == first.conversation_id
    chat = HubSpotThread.objects.get(pk=first.conversation_id)
    assert [m.text for m in chat.messages.all()] == ["Hi", "Still?"]

    over_http.add(responses.POST, HOOK, status=200)
    reply(client, chat, "Checking now")
    agent_reply = HubSpotMessage.objects.get(client="HUBSPOT")
    (event,) = judged_by_octopods(over_http.calls[-1].request)
    assert event.part_id == agent_reply.message_id
    adapter.reply_outcome(
        tokens=access,
        conversation_id=event.conversation_id,
        part_id=event.part_id,
        admin_id=event.admin_id,
        error="WhatsApp's 24-hour window has closed.",
    )
    agent_reply.refresh_from_db()
    assert (agent_reply.status, agent_reply.error_message) == (
        "FAILED",
        "WhatsApp's 24-hour window has closed.",
    )

    adapter.channel_disconnect(tokens=access, channel_account_id=account_id)
    account.refresh_from_db()
    assert not account.authorized


def test_it_registers_the_product_s_custom_channel_definition(client, over_http):
    channel = hubspot_client.create_custom_channel(custom_channel_definition())
    assert HubSpotChannel.objects.get(pk=channel["id"]).webhook_url == HOOK
    assert channel["capabilities"]["threadingModel"] == "INTEGRATION_THREAD_ID"


def test_it_drives_a_rate_limit_storm_through_the_product_s_client(client, over_http):
    adapter, access = HubSpotAdapter(), TokenSet(access_token=token())
    account_id = adapter.channel_connect(tokens=access, name="Acme WhatsApp", identity="wa-1")
    post_json(client, FAULTS, {"status": 429, "count": 1})
    with pytest.raises(ProviderError) as raised:
        adapter.deliver(tokens=access, delivery=customer_message(account_id, "Hi", "m1"))
    assert raised.value.status == 429
    assert not raised.value.permanent
    assert raised.value.retry_after == 10
    assert adapter.deliver(tokens=access, delivery=customer_message(account_id, "Hi", "m1"))


# --- mounting ---------------------------------------------------------------------------------


def test_it_links_the_inbox_and_the_developer_account_from_the_sandbox_index(client):
    html = client.get("/sandbox/").content.decode()
    assert f'<a href="{INBOX}/">HubSpot inbox</a>' in html
    assert HUBSPOT_DEVELOPER_API_KEY in html
    assert f'<code class="copy">{HUBSPOT_CHANNEL_ID}</code>' in html
    assert ACME_INBOX in html


def test_it_is_only_mounted_when_the_sandbox_is_enabled():
    paths = (
        f"{INBOX}/",
        f"{INBOX}/{ACME}/1/reply",
        INBOXES,
        f"{CHANNELS}/1/messages/abc",
        f"{DATED}/1/channel-accounts",
        UNINSTALL,
        FAULTS,
    )
    for path in paths:
        get_resolver().resolve(path)
    with override_settings(SANDBOX_ENABLED=False):
        resolver = URLResolver(RegexPattern(r"^/"), fresh_urlpatterns())
        for path in paths:
            with pytest.raises(Resolver404):
                resolver.resolve(path)
