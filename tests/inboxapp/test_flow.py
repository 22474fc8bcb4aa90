"""The panel, screen by screen, as a teammate clicks through it: each click is a
Canvas Kit submit request built from the canvas the previous answer showed (its
``stored_data`` comes back in ``current_canvas``, as Intercom sends it; intercom-client
``SubmitRequest``). Providers are mocked at the HTTP level."""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from channels.models import Channel, Contact, Conversation, Direction, Message, MessageStatus
from channels.services import inbound_store
from inboxapp.models import ProactiveSend
from integrations.channel import DeliveryState, DeliveryStatus
from relay.engine import contact_relay

from .conftest import (
    GRAPH_SEND,
    JANE_INTERCOM_ID,
    JANE_PHONE,
    WAMID,
    click,
    components,
    graph_accepts,
    ids,
    initialize,
    intercom_contact,
    make_channel,
    words,
    wrote,
)

pytestmark = pytest.mark.django_db


def to_compose(channel: Channel, **fields) -> dict:
    first = initialize(**fields)
    return click(click(first, "this_contact", **fields), f"channel-{channel.pk}", **fields)


def to_preview(channel: Channel, text: str = "Your order has shipped.") -> dict:
    return click(to_compose(channel), "preview", {"text": text})


# --- recipient and channel ------------------------------------------------------------


def test_this_contact_is_offered_only_the_channels_that_can_reach_them(
    workspace, whatsapp, sms, telegram, messenger, jane_on_whatsapp
):
    Contact.objects.create(channel=telegram, external_id="777", name="Someone else")
    Contact.objects.create(
        channel=messenger, external_id="psid-1", inbox_contact_id=JANE_INTERCOM_ID
    )

    canvas = click(initialize(), "this_contact")

    assert components(canvas)[0]["text"] == "Message Jane Doe"
    buttons = {c["id"]: c["label"] for c in components(canvas) if c["type"] == "button"}
    assert buttons == {
        f"channel-{messenger.pk}": "Messenger · Acme Page",
        f"channel-{whatsapp.pk}": "WhatsApp · Support number",
        f"channel-{sms.pk}": "SMS · Twilio line",
        "start": "Back",
    }


def test_telegram_is_offered_once_the_customer_has_opened_the_bot(workspace, telegram):
    Contact.objects.create(channel=telegram, external_id="555", name="Jane")

    without_chat = click(initialize(), "this_contact")
    with_chat = click(
        initialize(contact=intercom_contact(external_id="telegram:555", phone=None)),
        "this_contact",
        contact=intercom_contact(external_id="telegram:555", phone=None),
    )

    assert f"channel-{telegram.pk}" not in ids(without_chat)
    assert f"channel-{telegram.pk}" in ids(with_chat)


def test_a_customer_no_channel_can_reach_is_told_why(workspace, whatsapp, telegram):
    nobody = intercom_contact(phone=None, external_id=None)

    canvas = click(initialize(contact=nobody), "this_contact", contact=nobody)

    assert "No channel of this workspace can reach this customer" in words(canvas)
    assert [i for i in ids(canvas) if i.startswith("channel-")] == []


def test_a_customer_is_found_by_email_through_intercoms_search(mocked, workspace, sms):
    mocked.post(
        f"{settings.INTERCOM_API_URL}/contacts/search",
        json={
            "type": "list",
            "data": [intercom_contact(id="c-77", name="Kim Lee", phone="+447700900123")],
            "total_count": 1,
        },
    )

    found = click(initialize(), "search", {"query": "kim@example.com"})
    channels = click(found, "pick-0")

    sent = json.loads(mocked.calls[0].request.body)
    assert sent == {
        "query": {"field": "email", "operator": "=", "value": "kim@example.com"},
        "pagination": {"per_page": 5},
    }
    assert mocked.calls[0].request.headers["Authorization"] == "Bearer tok-acme"
    assert "Kim Lee (jane@example.com · +447700900123)" in words(found)
    assert components(channels)[0]["text"] == "Message Kim Lee"
    assert f"channel-{sms.pk}" in ids(channels)


def test_a_failed_search_says_why(mocked, workspace):
    mocked.post(
        f"{settings.INTERCOM_API_URL}/contacts/search",
        status=500,
        json={"type": "error.list", "errors": [{"code": "server_error", "message": "Boom"}]},
    )

    canvas = click(initialize(), "search", {"query": "kim@example.com"})

    assert "Intercom could not be searched just now" in words(canvas)


# --- the 24-hour window ----------------------------------------------------------------


def test_whatsapp_inside_the_window_offers_free_text_and_says_until_when(
    workspace, whatsapp, jane_on_whatsapp
):
    message = wrote(jane_on_whatsapp, hours_ago=2)
    until = (message.sent_at + timedelta(hours=24)).strftime("%a %-d %b, %H:%M UTC")

    canvas = to_compose(whatsapp)

    assert f"WhatsApp window open until {until}." in words(canvas)
    assert "text" in ids(canvas) and "preview" in ids(canvas)


def test_whatsapp_after_the_window_offers_templates_not_free_text(
    workspace, whatsapp, jane_on_whatsapp
):
    message = wrote(jane_on_whatsapp, hours_ago=25)
    closed = (message.sent_at + timedelta(hours=24)).strftime("%a %-d %b, %H:%M UTC")

    canvas = to_compose(whatsapp)

    assert f"WhatsApp window closed since {closed}." in words(canvas)
    assert "text" not in ids(canvas) and "preview" not in ids(canvas)
    assert "only an approved template can be sent now" in words(canvas)
    assert "No approved templates are available for this number yet" in words(canvas)


def test_free_text_cannot_be_forced_through_a_closed_whatsapp_window(
    workspace, whatsapp, jane_on_whatsapp
):
    wrote(jane_on_whatsapp, hours_ago=25)
    compose = to_compose(whatsapp)
    forged = {
        "canvas": {
            **compose["canvas"],
            "stored_data": {**compose["canvas"]["stored_data"], "text": "Hi", "key": "k-1"},
        }
    }

    preview = click(compose, "preview", {"text": "Hi"})
    sent = click(forged, "send")

    assert "send" not in ids(preview)
    assert "window is closed" in words(sent)
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()


def test_a_number_whatsapp_never_heard_from_has_its_window_closed(workspace, whatsapp):
    canvas = to_compose(whatsapp)

    assert "the customer has not written on this channel yet" in words(canvas)
    assert "text" not in ids(canvas)


@pytest.mark.parametrize(("hours_ago", "state"), [(1, "open until"), (30, "closed since")])
def test_messenger_shows_its_window_and_keeps_free_text(workspace, messenger, hours_ago, state):
    jane = Contact.objects.create(
        channel=messenger, external_id="psid-1", inbox_contact_id=JANE_INTERCOM_ID
    )
    wrote(jane, hours_ago=hours_ago)

    canvas = to_compose(messenger)

    assert f"Messenger window {state}" in words(canvas)
    assert "text" in ids(canvas)


def test_the_first_screen_of_a_whatsapp_conversation_shows_its_window(
    workspace, whatsapp, jane_on_whatsapp
):
    Conversation.objects.create(
        workspace=workspace, contact=jane_on_whatsapp, inbox_conversation_id="499"
    )
    wrote(jane_on_whatsapp, hours_ago=25)

    canvas = initialize()

    assert "WhatsApp window closed since" in words(canvas)


# --- message and preview ---------------------------------------------------------------


def test_the_preview_is_exactly_what_the_customer_gets(workspace, whatsapp, jane_on_whatsapp):
    wrote(jane_on_whatsapp, hours_ago=1)
    whatsapp.signature = "— {agent_name}, {channel_name}"
    whatsapp.save()

    canvas = to_preview(whatsapp, "Your order has shipped.\nTracking: 42")

    shown = components(canvas)[2]["text"]
    assert shown == "Your order has shipped.\nTracking: 42\n\n— Ann Agent, Support number"
    assert ids(canvas) == ["send", "send_open", "edit"]
    stored = canvas["canvas"]["stored_data"]
    assert stored["text"] == "Your order has shipped.\nTracking: 42"
    assert len(stored["key"]) >= 16


def test_a_message_over_500_characters_is_refused_with_its_length(workspace, sms, jane_on_whatsapp):
    canvas = click(to_compose(sms), "preview", {"text": "x" * 501})

    assert "The message is 501 characters long; at most 500 can be sent." in words(canvas)
    textarea = next(c for c in components(canvas) if c.get("id") == "text")
    assert textarea["error"] is True


def test_a_message_holding_a_nul_character_is_refused(workspace, sms):
    canvas = click(to_compose(sms), "preview", {"text": "Hi\u0000there"})

    assert "NUL character" in words(canvas)
    assert "send" not in ids(canvas)


def test_edit_goes_back_to_the_message_as_written(workspace, sms):
    canvas = click(to_preview(sms, "Hello again"), "edit")

    textarea = next(c for c in components(canvas) if c.get("id") == "text")
    assert textarea["value"] == "Hello again"


# --- sending ---------------------------------------------------------------------------


def test_send_queues_the_message_on_the_relay_and_records_who_sent_it(
    mocked, workspace, whatsapp, jane_on_whatsapp
):
    wrote(jane_on_whatsapp, hours_ago=1)
    graph_accepts(mocked)

    status = click(to_preview(whatsapp), "send")

    message = Message.objects.get(direction=Direction.OUTBOUND)
    send = ProactiveSend.objects.get()
    assert (message.contact, message.status, message.text) == (
        jane_on_whatsapp,
        MessageStatus.PENDING,
        "Your order has shipped.",
    )
    assert (send.workspace, send.admin_id, send.admin_name) == (workspace, "991", "Ann Agent")
    assert components(status)[0]["text"] == "Sending…"

    contact_relay(contact_id=jane_on_whatsapp.pk)

    assert json.loads(mocked.calls[0].request.body) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "15551234567",
        "type": "text",
        "text": {"body": "Your order has shipped.", "preview_url": False},
    }
    refreshed = click(status, "refresh")
    assert components(refreshed)[0]["text"] == "Message sent!"
    assert "Status: **Sent**" in words(refreshed)

    inbound_store(
        channel=whatsapp,
        events=[
            DeliveryStatus(provider_message_id=WAMID, state=DeliveryState.READ, at=timezone.now())
        ],
    )
    assert "Status: **Read**" in words(click(refreshed, "refresh"))


def test_a_double_click_sends_once(mocked, workspace, whatsapp, jane_on_whatsapp):
    wrote(jane_on_whatsapp, hours_ago=1)
    graph_accepts(mocked)
    preview = to_preview(whatsapp)

    first = click(preview, "send")
    second = click(preview, "send")
    contact_relay(contact_id=jane_on_whatsapp.pk)

    assert Message.objects.filter(direction=Direction.OUTBOUND).count() == 1
    assert ProactiveSend.objects.count() == 1
    assert len(mocked.calls) == 1
    assert first["canvas"]["stored_data"]["send"] == second["canvas"]["stored_data"]["send"]


def test_a_failure_shows_its_reason_in_plain_words(mocked, workspace, whatsapp, jane_on_whatsapp):
    wrote(jane_on_whatsapp, hours_ago=1)
    mocked.post(
        GRAPH_SEND,
        status=400,
        json={
            "error": {
                "message": "(#131026) Message undeliverable",
                "type": "OAuthException",
                "code": 131026,
                "fbtrace_id": "A4O5",
            }
        },
    )
    status = click(to_preview(whatsapp), "send")

    contact_relay(contact_id=jane_on_whatsapp.pk)
    refreshed = click(status, "refresh")

    assert components(refreshed)[0]["text"] == "Message not delivered"
    assert "WhatsApp could not deliver this message to the customer" in words(refreshed)


def test_an_sms_to_a_number_the_channel_never_met_creates_the_contact(workspace, sms):
    click(to_preview(sms), "send")

    contact = Contact.objects.get(channel=sms)
    assert (contact.external_id, contact.phone_e164, contact.name) == (
        JANE_PHONE,
        JANE_PHONE,
        "Jane Doe",
    )


def test_send_and_open_conversation_opens_it_as_the_teammate(
    mocked, workspace, whatsapp, jane_on_whatsapp
):
    """Intercom REST API "Create a message" (admin-initiated), with
    create_conversation_without_contact_reply: the answer carries conversation_id."""
    wrote(jane_on_whatsapp, hours_ago=1)
    mocked.post(
        f"{settings.INTERCOM_API_URL}/messages",
        json={
            "type": "admin_message",
            "id": "2001",
            "created_at": 1_700_000_000,
            "body": "<p>Your order has shipped.</p>",
            "message_type": "inapp",
            "conversation_id": "8001",
        },
    )

    mocked.post(f"{settings.INTERCOM_API_URL}/tags", json={"type": "tag", "id": "17"})
    mocked.post(
        f"{settings.INTERCOM_API_URL}/conversations/8001/tags",
        json={"type": "tag", "id": "17"},
    )

    status = click(to_preview(whatsapp), "send_open")

    # Tagged with the channel's name, as the conversations the relay opens are.
    tag, tagging = (json.loads(call.request.body) for call in mocked.calls[1:3])
    assert (tag, tagging) == ({"name": "Support number"}, {"id": "17", "admin_id": "991"})
    assert json.loads(mocked.calls[0].request.body) == {
        "message_type": "inapp",
        "body": "<p>Your order has shipped.</p>",
        "from": {"type": "admin", "id": "991"},
        "to": {"type": "lead", "id": JANE_INTERCOM_ID},
        "create_conversation_without_contact_reply": True,
    }
    conversation = Conversation.objects.get(inbox_conversation_id="8001")
    assert (conversation.workspace, conversation.contact) == (workspace, jane_on_whatsapp)
    assert Message.objects.get(direction=Direction.OUTBOUND).conversation == conversation
    assert "An Intercom conversation was opened" in words(status)
    jane_on_whatsapp.refresh_from_db()
    assert jane_on_whatsapp.inbox_contact_id == JANE_INTERCOM_ID


def test_a_conversation_intercom_refuses_to_open_is_reported_and_the_message_still_goes(
    mocked, workspace, whatsapp, jane_on_whatsapp
):
    wrote(jane_on_whatsapp, hours_ago=1)
    mocked.post(
        f"{settings.INTERCOM_API_URL}/messages",
        status=404,
        json={"type": "error.list", "errors": [{"code": "not_found", "message": "User Not Found"}]},
    )

    status = click(to_preview(whatsapp), "send_open")

    assert "no Intercom conversation was opened: Intercom answered 404" in words(status)
    assert Message.objects.get(direction=Direction.OUTBOUND).status == MessageStatus.PENDING


def test_the_status_screen_lists_the_customers_recent_proactive_messages(
    workspace, sms, jane_on_whatsapp
):
    click(to_preview(sms, "First note"), "send")

    status = click(to_preview(sms, "Second note"), "send")

    assert "Recent proactive messages" in words(status)
    assert "SMS · Twilio line · Sending… · Ann Agent: First note" in words(status)


# --- tenants ---------------------------------------------------------------------------


def test_another_accounts_channel_and_sends_stay_out_of_reach(
    mocked, cast, workspace, whatsapp, jane_on_whatsapp
):
    theirs = make_channel(
        cast.other_workspace,
        "sms",
        "Globex secret line",
        "+15559990000",
        {"account_sid": "AC" + "1" * 32, "auth_token": "u" * 32, "phone_number": "+15559990000"},
    )
    Contact.objects.create(
        channel=theirs, external_id=JANE_PHONE, phone_e164=JANE_PHONE, name="Globex customer"
    )
    mocked.post(
        f"{settings.INTERCOM_API_URL}/contacts/search",
        json={"type": "list", "data": [], "total_count": 0},
    )
    compose = to_compose(whatsapp)
    forged = {
        "canvas": {
            **compose["canvas"],
            "stored_data": {
                **compose["canvas"]["stored_data"],
                "channel": theirs.pk,
                "text": "Hi",
                "key": "k-2",
            },
        }
    }
    other_send = {"canvas": {"content": {"components": []}, "stored_data": {"send": 10**9}}}

    channels = click(initialize(), "this_contact")
    found = click(initialize(), "search", {"query": JANE_PHONE})
    preview = click(forged, "preview", {"text": "Hi"})
    sent = click(forged, "send")
    refreshed = click(other_send, "refresh")

    everything = json.dumps([channels, found, preview, sent, refreshed])
    assert "Globex" not in everything
    assert f"channel-{theirs.pk}" not in everything
    assert "not one of this workspace's" in words(preview)
    assert not Message.objects.filter(channel=theirs).exists()
    assert "not one of this workspace's" in words(refreshed)


def test_a_request_from_the_other_accounts_workspace_sees_only_its_own(
    cast, workspace, whatsapp, jane_on_whatsapp
):
    canvas = click(initialize(workspace_id="globex-app"), "this_contact", workspace_id="globex-app")

    assert "Support number" not in json.dumps(canvas)
    assert "No channel of this workspace can reach this customer" in words(canvas)


def test_an_unknown_button_is_refused_in_words(workspace):
    assert "not one Octopods knows" in words(click(initialize(), "launch-missiles"))


def test_opening_the_panel_calls_no_provider(mocked, workspace, whatsapp, jane_on_whatsapp):
    Conversation.objects.create(
        workspace=workspace, contact=jane_on_whatsapp, inbox_conversation_id="499"
    )

    initialize()

    assert len(mocked.calls) == 0  # and any call would have failed the request


def test_the_customers_answer_lands_in_the_conversation_the_send_opened(
    mocked, workspace, whatsapp, jane_on_whatsapp
):
    wrote(jane_on_whatsapp, hours_ago=1)
    mocked.post(
        f"{settings.INTERCOM_API_URL}/messages",
        json={"type": "admin_message", "id": "2001", "conversation_id": "8001"},
    )
    graph_accepts(mocked)
    click(to_preview(whatsapp), "send_open")
    contact_relay(contact_id=jane_on_whatsapp.pk)  # the proactive message goes out
    mocked.post(
        f"{settings.INTERCOM_API_URL}/conversations/8001/reply",
        json={
            "type": "conversation",
            "id": "8001",
            "conversation_parts": {"conversation_parts": []},
        },
    )
    answered_at = timezone.now() - timedelta(minutes=3)
    Message.objects.create(
        channel=whatsapp,
        contact=jane_on_whatsapp,
        direction=Direction.INBOUND,
        provider_message_id="wamid.answer",
        type="text",
        text="Thanks, got it!",
        status=MessageStatus.RECEIVED,
        sent_at=answered_at,
    )

    contact_relay(contact_id=jane_on_whatsapp.pk)

    reply = mocked.calls[-1].request
    assert reply.url == f"{settings.INTERCOM_API_URL}/conversations/8001/reply"
    assert json.loads(reply.body) == {
        "message_type": "comment",
        "type": "user",
        "intercom_user_id": JANE_INTERCOM_ID,
        "body": "Thanks, got it!",
        # The customer's own time, not the relay's (Intercom's created_at, Unix seconds).
        "created_at": int(answered_at.timestamp()),
    }


def test_a_failure_is_also_noted_in_the_conversation_the_send_opened(
    mocked, workspace, whatsapp, jane_on_whatsapp
):
    wrote(jane_on_whatsapp, hours_ago=1)
    mocked.post(
        f"{settings.INTERCOM_API_URL}/messages",
        json={"type": "admin_message", "id": "2001", "conversation_id": "8001"},
    )
    mocked.post(
        GRAPH_SEND,
        status=400,
        json={"error": {"message": "(#131026) Message undeliverable", "code": 131026}},
    )
    mocked.post(
        f"{settings.INTERCOM_API_URL}/conversations/8001/reply",
        json={"type": "conversation", "id": "8001"},
    )
    click(to_preview(whatsapp), "send_open")

    contact_relay(contact_id=jane_on_whatsapp.pk)

    note = json.loads(mocked.calls[-1].request.body)
    assert (note["message_type"], note["admin_id"]) == ("note", "991")
    assert note["body"].startswith(
        "<p>⚠️ This proactive message was not delivered on WhatsApp (Support number)."
    )


def test_two_submits_racing_past_the_first_check_still_send_once(
    monkeypatch, workspace, sms, jane_on_whatsapp
):
    from inboxapp import services

    preview = to_preview(sms)
    click(preview, "send")
    # The second submit's look-up ran before the first committed: the unique key decides.
    looked_up = []
    real = services._by_key

    def first_miss(workspace, key):
        looked_up.append(key)
        return None if len(looked_up) == 1 else real(workspace, key)

    monkeypatch.setattr(services, "_by_key", first_miss)

    second = click(preview, "send")

    assert len(looked_up) == 2  # missed, then found after the refused insert
    assert ProactiveSend.objects.count() == 1
    assert Message.objects.filter(direction=Direction.OUTBOUND).count() == 1
    assert second["canvas"]["stored_data"]["send"] == ProactiveSend.objects.get().pk
