"""The Octopods inbox app beside a conversation in the sandbox's Intercom inbox: the page
posts Canvas Kit requests signed as Intercom signs them, Octopods' own endpoints answer
(routed to them through ``responses``), and the page renders the canvas. Also the
sandbox's admin-initiated ``POST /messages``, which "Send & open conversation" uses."""

import hashlib
import hmac
import json
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import responses
from django.conf import settings
from django.test import Client
from django.utils import timezone

from channels.models import Channel, Contact, Conversation, Direction, Message, MessageStatus
from inboxapp.models import ProactiveSend
from sandbox.models import IntercomPart
from workspaces.models import Provider, Workspace

from .support import body_bytes
from .test_intercom_inbox import ACME, ADA, chat, make_contact, page, post  # noqa: F401

pytestmark = pytest.mark.django_db

BASE = settings.PUBLIC_BASE_URL
CANVAS = ("/hooks/intercom/canvas/initialize/", "/hooks/intercom/canvas/submit/")


def to_octopods(request):
    """Hand the sandbox's request to Octopods' own view, headers and body as sent."""
    answer = Client().post(
        urlsplit(request.url).path,
        body_bytes(request),
        content_type="application/json",
        HTTP_X_BODY_SIGNATURE=request.headers.get("X-Body-Signature", ""),
    )
    return answer.status_code, {"Content-Type": answer["Content-Type"]}, answer.content


@pytest.fixture
def octopods(cast, chat):  # noqa: F811 - the fixture imported above
    """Acme's sandbox workspace connected to Octopods, with a WhatsApp number that
    heard from the conversation's customer an hour ago."""
    workspace = Workspace.objects.create(
        account=cast.account, provider=Provider.INTERCOM, external_id=ACME, name="Acme"
    )
    channel = Channel(workspace=workspace, kind="whatsapp", name="Support number", identity="1")
    channel.credentials_data = {}
    channel.save()
    contact = Contact.objects.create(
        channel=channel, external_id="15551230001", phone_e164="+15551230001", name="Maria"
    )
    Conversation.objects.create(
        workspace=workspace, contact=contact, inbox_conversation_id=str(chat.pk)
    )
    Message.objects.create(
        channel=channel,
        contact=contact,
        direction=Direction.INBOUND,
        provider_message_id="in-1",
        type="text",
        text="My order is late",
        status=MessageStatus.RELAYED,
        sent_at=timezone.now() - timedelta(hours=1),
    )
    for path in CANVAS:
        responses.add_callback(responses.POST, BASE + path, callback=to_octopods)
    return channel


def open_app(client, chat, **fields):  # noqa: F811
    return client.post(f"{page(chat)}app", {"admin_id": ADA, **fields}, follow=True)


@responses.activate
def test_the_panel_opens_with_a_signed_initialize_and_renders_the_canvas(client, chat, octopods):  # noqa: F811
    before = client.get(page(chat)).content.decode()
    html = open_app(client, chat).content.decode()

    assert "Open the Octopods app" in before
    request = responses.calls[0].request
    assert request.url == BASE + CANVAS[0]
    body = body_bytes(request)
    expected = hmac.new(settings.INTERCOM_CLIENT_SECRET.encode(), body, hashlib.sha256)
    assert request.headers["X-Body-Signature"] == expected.hexdigest()
    sent = json.loads(body)
    assert (sent["workspace_id"], sent["admin"]["id"]) == (ACME, ADA)
    assert sent["contact"]["phone"] == "+15551230001"
    assert sent["context"]["location"] == "conversation"
    assert "<h3>Send a proactive message</h3>" in html
    assert "WhatsApp window open until" in html
    assert 'name="component_id" value="this_contact"' in html


@responses.activate
def test_a_teammate_sends_from_the_panel_through_to_the_status(client, chat, octopods):  # noqa: F811
    open_app(client, chat)
    open_app(client, chat, component_id="this_contact")
    open_app(client, chat, component_id=f"channel-{octopods.pk}")
    preview = open_app(client, chat, component_id="preview", text="Your parcel left today.")
    status = open_app(client, chat, component_id="send").content.decode()

    assert "<h3>Preview</h3>" in preview.content.decode()
    assert "Your parcel left today." in preview.content.decode()
    submit = json.loads(body_bytes(responses.calls[-1].request))
    assert submit["component_id"] == "send"
    assert submit["current_canvas"]["stored_data"]["text"] == "Your parcel left today."
    assert "<h3>Sending…</h3>" in status
    send = ProactiveSend.objects.get()
    assert (send.admin_id, send.message.text) == (ADA, "Your parcel left today.")


@responses.activate
def test_a_refusal_from_the_app_is_shown_on_the_page(client, chat, octopods, settings):  # noqa: F811
    settings.INTERCOM_CLIENT_SECRET = "rotated-on-one-side-only"
    responses.replace(
        responses.POST,
        BASE + CANVAS[0],
        status=403,
        body="Bad signature.",
    )

    html = open_app(client, chat).content.decode()

    assert "The Octopods app answered 403: Bad signature." in html
    assert "Open the Octopods app" in html


def test_an_admin_message_opens_a_conversation_without_a_reply(client):
    contact = make_contact(client, phone="+15551230002")

    answer = post(
        client,
        "/messages",
        {
            "message_type": "inapp",
            "body": "<p>Your parcel left today.</p>",
            "from": {"type": "admin", "id": ADA},
            "to": {"type": "lead", "id": contact["id"]},
            "create_conversation_without_contact_reply": True,
        },
    )

    assert answer.status_code == 200, answer.content
    message = answer.json()
    source = IntercomPart.objects.get(pk=message["id"])
    assert source.conversation_id == int(message["conversation_id"])
    assert (source.author_type, source.author_id, source.body) == (
        "admin",
        ADA,
        "<p>Your parcel left today.</p>",
    )


def test_an_admin_message_needs_an_admin_of_the_workspace(client):
    contact = make_contact(client, phone="+15551230003")

    answer = post(
        client,
        "/messages",
        {
            "message_type": "inapp",
            "body": "Hi",
            "from": {"type": "admin", "id": "no-such-admin"},
            "to": {"type": "lead", "id": contact["id"]},
        },
    )

    assert answer.status_code == 400
    assert answer.json()["errors"][0]["code"] == "parameter_invalid"


# --- the app on a contact's page ------------------------------------------------------


def contact_page(chat) -> str:  # noqa: F811
    return f"/sandbox/intercom/inbox/{chat.workspace}/contacts/{chat.contact.intercom_id}/"


def open_contact_app(client, chat, **fields):  # noqa: F811
    return client.post(f"{contact_page(chat)}app", {"admin_id": ADA, **fields}, follow=True)


@responses.activate
def test_the_customers_name_leads_to_their_contact_page_with_the_panel(client, chat, octopods):  # noqa: F811
    conversation = client.get(page(chat)).content.decode()
    html = client.get(contact_page(chat)).content.decode()

    assert f'<h1><a href="{contact_page(chat)}">Maria</a></h1>' in conversation
    assert "<h1>Maria</h1>" in html
    assert f'href="{page(chat)}"' in html  # and back to the conversation
    assert f'action="{contact_page(chat)}app"' in html
    assert "Open the Octopods app" in html


@responses.activate
def test_on_a_contact_the_panel_posts_the_contact_and_no_conversation(client, chat, octopods):  # noqa: F811
    html = open_contact_app(client, chat).content.decode()

    sent = json.loads(body_bytes(responses.calls[0].request))
    assert responses.calls[0].request.url == BASE + CANVAS[0]
    assert sent["contact"]["id"] == chat.contact.intercom_id
    assert "conversation" not in sent
    assert sent["context"] == {"locale": "en"}
    assert "<h3>Send a proactive message</h3>" in html
    # The window is a conversation's; on the contact there is none to show.
    assert "window open until" not in html
    assert 'name="component_id" value="this_contact"' in html
    # The conversation's own panel is a separate canvas, still unopened.
    assert "Open the Octopods app" in client.get(page(chat)).content.decode()


@responses.activate
def test_on_a_contact_a_teammate_sends_through_to_the_status(client, chat, octopods):  # noqa: F811
    open_contact_app(client, chat)
    open_contact_app(client, chat, component_id="this_contact")
    open_contact_app(client, chat, component_id=f"channel-{octopods.pk}")
    open_contact_app(client, chat, component_id="preview", text="Your parcel left today.")
    status = open_contact_app(client, chat, component_id="send").content.decode()

    submit = json.loads(body_bytes(responses.calls[-1].request))
    assert (submit["component_id"], "conversation" in submit) == ("send", False)
    assert "<h3>Sending…</h3>" in status
    assert ProactiveSend.objects.get().message.text == "Your parcel left today."


def test_a_contact_page_of_another_workspace_or_unknown_is_not_shown(client, chat):  # noqa: F811
    other = f"/sandbox/intercom/inbox/sbx-globex/contacts/{chat.contact.intercom_id}/"

    assert client.get(other).status_code == 404
    unknown = contact_page(chat).replace(chat.contact.intercom_id, "nope")
    assert client.get(unknown).status_code == 404
    answer = client.post(f"{other}app", {"admin_id": ADA}, follow=True)
    assert "No such contact." in answer.content.decode()
