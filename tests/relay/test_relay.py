"""The relay's own rules, with the inbox and the channel standing in behind the adapter
interfaces (relay_doubles.py; each real adapter is tested against its provider's HTTP
separately)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from channels.models import Contact, Conversation, Direction, Message, MessageStatus, Origin
from channels.services import inbox_events_store
from integrations.base import ConversationState, InboxAttachment, ProviderError
from integrations.channel import FetchedMedia, TemplateMessage
from relay import attempts, engine, outbound
from relay import inbound as relay_inbound
from relay import lease as leases
from workspaces.models import Status, Workspace

from .relay_doubles import inbound, make_due, reply, run, transient

pytestmark = pytest.mark.django_db


# --- inbound ---------------------------------------------------------------------------


def test_a_burst_lands_in_one_conversation_in_order(contact, inbox, phone):
    for n, text in enumerate(["one", "two", "three"]):
        inbound(contact, text, n)
    result = run(contact)
    assert result.relayed == 3
    assert [d.body for d in inbox.deliveries] == ["one", "two", "three"]
    # The first opens the conversation; the others append to it, with the contact's
    # inbox id cached after the first.
    assert [d.conversation_id for d in inbox.deliveries] == ["", "conv-1", "conv-1"]
    assert [d.customer.inbox_contact_id for d in inbox.deliveries] == ["", "ic-1", "ic-1"]
    assert inbox.deliveries[0].customer.external_id == "telegram:555"
    assert inbox.deliveries[0].tag == "Support bot"
    assert inbox.deliveries[0].match == "recent"  # the workspace's choice
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.RELAYED}
    assert Conversation.objects.get().inbox_conversation_id == "conv-1"
    contact.refresh_from_db()
    assert contact.inbox_contact_id == "ic-1"
    assert contact.relay_lease_until is None


def test_a_transient_failure_holds_the_rest_back_and_is_reconciled(contact, inbox, phone):
    _, second, third = (inbound(contact, t, n) for n, t in enumerate(["a", "b", "c"]))
    original = inbox.deliver

    def fail_on_b(*, tokens, delivery):
        if delivery.body == "b" and not delivery.reconcile:
            inbox.deliveries.append(delivery)
            raise transient(retry_after=30)
        return original(tokens=tokens, delivery=delivery)

    inbox.deliver = fail_on_b
    result = run(contact)
    assert result.relayed == 1 and result.waiting
    second.refresh_from_db()
    third.refresh_from_db()
    assert (second.status, second.attempts) == (MessageStatus.RECEIVED, 1)
    assert second.next_attempt_at >= timezone.now() + timedelta(seconds=29)  # Retry-After kept
    assert third.status == MessageStatus.RECEIVED
    assert [d.body for d in inbox.deliveries] == ["a", "b"]  # c waited behind b

    assert run(contact).relayed == 0  # not due yet: nothing moves
    make_due(second)
    assert run(contact).relayed == 2
    # The retry looked for the earlier attempt before posting again.
    assert [(d.body, d.reconcile) for d in inbox.deliveries[2:]] == [("b", True), ("c", False)]


def test_a_permanent_failure_fails_that_message_and_the_next_goes(contact, inbox, phone):
    first = inbound(contact, "bad", 1)
    inbound(contact, "good", 2)
    inbox.failures = [ProviderError("refused", permanent=True, status=422, code="data_invalid")]
    result = run(contact)
    first.refresh_from_db()
    assert (first.status, first.error_code) == (MessageStatus.FAILED, "data_invalid")
    assert result.relayed == 1 and result.failed == 1


def test_too_many_attempts_fail_the_message(contact, inbox, phone):
    message = inbound(contact, "x", 1)
    Message.objects.filter(pk=message.pk).update(attempts=attempts.MAX_ATTEMPTS - 1)
    inbox.failures = [transient()]
    run(contact)
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED


def test_a_rejected_token_holds_messages_until_reconnect(contact, inbox, phone, workspace):
    message = inbound(contact, "hi", 1)
    inbox.failures = [
        ProviderError("Access Token Invalid", permanent=True, status=401, unauthorized=True)
    ]
    run(contact)
    workspace.refresh_from_db()
    message.refresh_from_db()
    assert workspace.status == Status.NEEDS_RECONNECT
    assert (message.status, message.attempts) == (MessageStatus.RECEIVED, 0)
    assert engine.contacts_due() == []  # the sweeper leaves it alone meanwhile
    Workspace.objects.filter(pk=workspace.pk).update(status=Status.ACTIVE)
    assert engine.contacts_due() == [contact.pk]
    assert run(contact).relayed == 1


def test_one_worker_at_a_time_per_contact(contact, inbox, phone):
    inbound(contact, "hi", 1)
    lease = leases.claim(contact.pk)
    assert lease is not None
    assert leases.claim(contact.pk) is None
    assert run(contact).relayed == 0  # another worker holds it
    assert engine.contacts_due() == []
    leases.release(lease)
    assert engine.contacts_due() == [contact.pk]
    # A crashed worker's claim runs out.
    Contact.objects.filter(pk=contact.pk).update(
        relay_lease_until=timezone.now() - timedelta(seconds=1)
    )
    assert run(contact).relayed == 1


def test_a_conversation_closed_long_ago_is_not_reopened(contact, inbox, phone, workspace):
    inbound(contact, "first", 1)
    run(contact)
    conversation = Conversation.objects.get()
    # Closed an hour ago: the channel's default is 24 hours, so the same one is used.
    inbox_events_store(
        provider="intercom",
        events=[
            ConversationState(
                workspace_external_id="acme-app",
                conversation_id="conv-1",
                open=False,
                at=timezone.now() - timedelta(hours=1),
            )
        ],
    )
    inbound(contact, "second", 2)
    run(contact)
    assert inbox.deliveries[-1].conversation_id == "conv-1"
    conversation.refresh_from_db()
    assert conversation.open  # reopened by the customer's message

    Conversation.objects.filter(pk=conversation.pk).update(
        open=False, closed_at=timezone.now() - timedelta(hours=25)
    )
    inbound(contact, "third", 3)
    run(contact)
    assert inbox.deliveries[-1].conversation_id == ""
    assert Conversation.objects.count() == 2


def test_what_the_inbox_cannot_show_becomes_text(contact, inbox, phone):
    inbound(
        contact,
        "",
        1,
        type="location",
        data={
            "location": {
                "latitude": 52.5,
                "longitude": 13.4,
                "name": "Cafe",
                "address": "Main St 1",
            }
        },
    )
    inbound(
        contact,
        "",
        2,
        type="contacts",
        data={"contacts": [{"name": "Bob", "phones": ["+4915112345678"], "emails": []}]},
    )
    quoted = inbound(contact, "Is it open?", 3)
    inbound(
        contact,
        "",
        4,
        type="reaction",
        data={"reaction": {"emoji": "👍", "message_id": quoted.provider_message_id}},
    )
    inbound(contact, "", 5, type="unsupported", data={"provider_type": "poll"})
    run(contact)
    bodies = [d.body for d in inbox.deliveries]
    assert bodies[0].startswith(
        "📍 Cafe\nMain St 1\nhttps://www.openstreetmap.org/?mlat=52.5&mlon=13.4"
    )
    assert bodies[1] == "👤 Bob: +4915112345678"
    assert bodies[3] == "Reacted 👍 to: Is it open?"
    assert "poll" in bodies[4]


def test_a_photo_is_fetched_once_and_linked_for_the_inbox(contact, inbox, phone, client):
    message = inbound(
        contact,
        "receipt",
        1,
        type="image",
        data={"media": {"ref": "file-1", "mime_type": "image/jpeg"}},
    )
    run(contact)
    (delivery,) = inbox.deliveries
    assert delivery.body == "receipt"
    (url,) = delivery.attachment_urls
    assert len(phone.fetched) == 1
    path = url.split("://", 1)[1].split("/", 1)[1]
    served = client.get("/" + path)
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == b"\x89PNG fake"
    message.refresh_from_db()
    assert message.data["stored_media"]["mime_type"] == "image/png"
    assert client.get("/media/forged-token/").status_code == 404


def test_a_file_that_cannot_be_fetched_is_named_not_dropped(contact, inbox, phone):
    def gone(**kwargs):
        raise ProviderError("The file is no longer available (expired).", permanent=True)

    phone.fetch_media = gone
    inbound(contact, "", 1, type="voice", data={"media": {"ref": "v1"}})
    run(contact)
    assert "could not be fetched" in inbox.deliveries[0].body
    assert Message.objects.get().status == MessageStatus.RELAYED


def test_a_photo_that_cannot_be_fetched_is_named_with_its_article(contact, inbox, phone):
    def gone(**kwargs):
        raise ProviderError("The file is no longer available (expired).", permanent=True)

    phone.fetch_media = gone
    inbound(contact, "", 1, type="image", data={"media": {"ref": "i1"}})
    run(contact)
    assert inbox.deliveries[0].body == (
        "[The customer sent an image that could not be fetched: "
        "The file is no longer available (expired).]"
    )


# --- automations -----------------------------------------------------------------------


def test_a_first_time_customer_is_welcomed_once(contact, inbox, phone, channel):
    channel.welcome_enabled, channel.welcome_message = True, "Hi! We answer within the hour."
    channel.save()
    inbound(contact, "hello", 1)
    inbound(contact, "anyone?", 2)
    run(contact)
    welcomes = Message.objects.filter(origin=Origin.AUTOMATION)
    assert [m.text for m in welcomes] == ["Hi! We answer within the hour."]
    assert [m.text for m in phone.sent] == ["Hi! We answer within the hour."]
    assert welcomes.get().status == MessageStatus.DELIVERED
    # The team sees what the customer was told.
    assert inbox.notes and "Welcome message sent" in inbox.notes[0][2]


def test_the_away_reply_goes_once_a_day_per_conversation(contact, inbox, phone, channel):
    channel.away_enabled, channel.away_message = True, "We are closed; back at 9."
    channel.save()  # no opening hours at all: always closed
    for n in range(3):
        inbound(contact, f"m{n}", n)
    run(contact)
    assert Message.objects.filter(origin=Origin.AUTOMATION).count() == 1
    Conversation.objects.update(away_sent_at=timezone.now() - timedelta(days=1, minutes=1))
    inbound(contact, "next day", 9)
    run(contact)
    assert Message.objects.filter(origin=Origin.AUTOMATION).count() == 2


# --- outbound --------------------------------------------------------------------------


def test_an_agent_reply_is_stored_once_and_sent_with_the_signature(
    conversation, contact, channel, inbox, phone, django_capture_on_commit_callbacks
):
    channel.signature = "— {agent_name}, {channel_name}"
    channel.save()
    photo = InboxAttachment(
        url="https://files.example/x.png", name="x.png", content_type="image/png"
    )
    for _ in range(3):  # Intercom resends a webhook it thinks failed
        inbox_events_store(provider="intercom", events=[reply(attachments=(photo,))])
    rows = Message.objects.filter(direction=Direction.OUTBOUND).order_by("pk")
    assert [(m.inbox_part_id, m.type) for m in rows] == [("p-100", "text"), ("p-100:1", "image")]
    assert rows[0].text == "Thanks, Jane!"
    run(contact)
    text, image = phone.sent
    assert text.to == "555"
    assert text.text == "Thanks, <b>Jane</b>!\n\n— Ann, Support bot"
    assert image.media.url == "https://files.example/x.png"
    assert text.status_callback.endswith(f"/hooks/telegram/{channel.webhook_key}/")
    # Each queued message has its own retry key, the same on every attempt (LINE's).
    assert [text.idempotency_key, image.idempotency_key] == [f"octopods-{m.pk}" for m in rows]
    # Telegram reports no deliveries: a message its API accepted is in the chat.
    assert [m.status for m in rows.all()] == [MessageStatus.DELIVERED, MessageStatus.DELIVERED]
    assert [m.provider_message_id for m in rows.all()] == ["sent-1", "sent-2"]
    # The inbox hears once that the reply went out (HubSpot marks its message SENT).
    assert inbox.outcomes == [("conv-1", "p-100", False)]


def test_a_queued_template_goes_out_as_it_was_filled_in(conversation, contact, channel, phone):
    template = TemplateMessage(
        name="order_shipped",
        language="en_US",
        parameter_format="POSITIONAL",
        components=({"type": "BODY", "text": "Hi {{1}}"},),
        values=(("body.1", "Jane"),),
    )
    Message.objects.create(
        channel=channel,
        contact=contact,
        conversation=conversation,
        direction=Direction.OUTBOUND,
        origin=Origin.AGENT,
        status=MessageStatus.PENDING,
        type="template",
        text="Hi Jane",
        data={"template": template.as_data(), "admin_name": "Ann"},
    )
    run(contact)
    [sent] = phone.sent
    assert sent.template == template
    assert sent.to == "555"


def test_replies_in_conversations_we_did_not_open_are_ignored(workspace, inbox, phone):
    inbox_events_store(provider="intercom", events=[reply()])
    assert not Message.objects.exists()


def test_a_reply_that_cannot_be_sent_leaves_a_note_for_the_agent(
    conversation, contact, inbox, phone
):
    inbox_events_store(
        provider="intercom", events=[reply(part="p-1"), reply(part="p-2", body="later")]
    )
    phone.failures = [
        ProviderError(
            "WhatsApp only delivers free-form replies within 24 hours of the customer's last "
            "message. Send a template from the Octopods panel in this conversation's details.",
            permanent=True,
            code="131047",
        )
    ]
    result = run(contact)
    failed, later = Message.objects.filter(direction=Direction.OUTBOUND).order_by("pk")
    assert (failed.status, failed.error_code) == (MessageStatus.FAILED, "131047")
    assert later.status == MessageStatus.DELIVERED and result.sent == 1
    ((conversation_id, admin_id, body),) = inbox.notes
    assert (conversation_id, admin_id) == ("conv-1", "991")  # as the agent who replied
    assert "was not delivered on Telegram" in body and "Octopods panel" in body


def test_a_rate_limited_send_waits_as_long_as_asked(conversation, contact, inbox, phone):
    inbox_events_store(provider="intercom", events=[reply()])
    phone.failures = [
        ProviderError("Too Many Requests", permanent=False, status=429, retry_after=23)
    ]
    result = run(contact)
    message = Message.objects.get(direction=Direction.OUTBOUND)
    assert result.waiting and message.status == MessageStatus.PENDING
    assert message.next_attempt_at >= timezone.now() + timedelta(seconds=22)
    make_due(message)
    assert run(contact).sent == 1


def test_backoff_grows_is_capped_and_honours_retry_after():
    waits = [attempts.backoff(n).total_seconds() for n in range(1, 20)]
    assert waits[0] <= attempts.BACKOFF_FIRST
    assert max(waits) <= attempts.BACKOFF_CAP
    assert attempts.backoff(1, retry_after=600).total_seconds() >= 600


def test_the_sweeper_finds_due_work_only(contact, inbox, phone):
    message = inbound(contact, "hi", 1)
    assert engine.contacts_due() == [contact.pk]
    Message.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5)
    )
    assert engine.contacts_due() == []
    make_due(message)
    run(contact)
    assert engine.contacts_due() == []


def test_our_own_texts_are_escaped_for_the_channels_formatting(
    conversation, contact, channel, inbox, phone
):
    channel.signature = "— {agent_name} & team <support>"
    channel.welcome_enabled, channel.welcome_message = True, "Hi <there> & welcome"
    channel.save()
    inbox_events_store(provider="intercom", events=[reply(body="<p>Done</p>")])
    inbound(contact, "hello", 1)
    run(contact)
    texts = sorted(message.text for message in phone.sent)
    # Telegram's HTML: a bare & or < would make it refuse the message.
    assert texts == ["Done\n\n— Ann &amp; team &lt;support&gt;", "Hi &lt;there&gt; &amp; welcome"]


def test_the_workspaces_contact_matching_is_passed_on(contact, inbox, phone, workspace):
    Workspace.objects.filter(pk=workspace.pk).update(contact_match="user")
    inbound(contact, "hi", 1)
    run(contact)
    assert inbox.deliveries[0].match == "user"


def test_a_long_backlog_is_relayed_in_batches(contact, inbox, phone, monkeypatch):
    monkeypatch.setattr(relay_inbound, "BATCH", 2)
    monkeypatch.setattr(outbound, "BATCH", 2)
    for n in range(5):
        inbound(contact, f"m{n}", n)
    first = run(contact)
    assert (first.relayed, first.more) == (2, True)
    assert run(contact).relayed == 2
    last = run(contact)
    assert (last.relayed, last.more) == (1, False)
    assert [d.body for d in inbox.deliveries] == [f"m{n}" for n in range(5)]


def test_a_nameless_photo_is_linked_by_a_name_that_says_it_is_a_photo(
    contact, inbox, phone, client
):
    # WhatsApp and MMS photos come without a file name.
    phone.fetch_media = lambda **kwargs: FetchedMedia(
        content=b"\xff\xd8 fake", mime_type="image/jpeg", filename=""
    )
    message = inbound(contact, "", 1, type="image", data={"media": {"ref": "m1"}})
    run(contact)
    (url,) = inbox.deliveries[0].attachment_urls
    assert url.endswith(f"/image-{message.pk}.jpg")
    served = client.get("/" + url.split("://", 1)[1].split("/", 1)[1])
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"
    assert b"".join(served.streaming_content) == b"\xff\xd8 fake"
