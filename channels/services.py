"""Writes for the channel domain: adding and removing channels, and storing what
providers send us, exactly once."""

import dataclasses
import hashlib
import html
import logging
from contextlib import nullcontext
from dataclasses import asdict
from datetime import timedelta
from enum import Enum

import phonenumbers
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from integrations.base import AgentReply, ConversationState, InboxEvent, ProviderError
from integrations.channel import (
    ButtonTapToAnswer,
    DeliveryState,
    DeliveryStatus,
    InboundEvent,
    InboundMessage,
    Sender,
    TemplateStatusUpdate,
    Watermark,
)
from integrations.payload import text_safe
from integrations.phone_identity import canonical
from integrations.registry import channel_adapter, inbox_adapter
from integrations.services import inbox_call, workspace_tokens
from octopods import logs, metrics
from relay.wakeup import relay_wake
from workspaces.models import Status

from . import ingest
from .models import (
    Channel,
    Contact,
    Conversation,
    Direction,
    Message,
    MessageStatus,
    Origin,
)
from .selectors import contacts_of_customer, same_customer
from .template_services import whatsapp_template_status_apply, whatsapp_templates_sync

logger = logging.getLogger(__name__)

# A later status never moves a message back (providers do not guarantee order:
# "read" may arrive before "delivered").
_STATUS_RANK = {
    MessageStatus.PENDING: 0,
    MessageStatus.SENT: 1,
    MessageStatus.DELIVERED: 2,
    MessageStatus.READ: 3,
}
_STATE_TO_STATUS = {
    DeliveryState.SENT: MessageStatus.SENT,
    DeliveryState.DELIVERED: MessageStatus.DELIVERED,
    DeliveryState.READ: MessageStatus.READ,
    DeliveryState.FAILED: MessageStatus.FAILED,
}


def phone_to_e164(raw: str) -> str:
    """E.164 for a number as a provider gave it, or "" when it is not a valid number.

    Providers send international numbers with or without the "+"; we never guess a
    country for a national-format number.
    """
    digits = raw.strip()
    if not digits:
        return ""
    if not digits.startswith("+"):
        digits = "+" + digits
    try:
        number = phonenumbers.parse(digits, None)
    except phonenumbers.NumberParseException:
        return ""
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if phonenumbers.is_possible_number(number):
        return e164
    # Mexico's old mobile form (+52 1 + ten digits) is too long for libphonenumber, yet
    # Meta and Twilio still send it: kept as given when its current form is possible
    # (integrations/phone_identity.py).
    valid = canonical(e164)
    if valid != e164 and phonenumbers.is_possible_number(phonenumbers.parse(valid, None)):
        return e164
    return ""


# --- what a provider sent, made storable -------------------------------------------------
# PostgreSQL refuses NUL and unpaired surrogates in text and jsonb, and a value longer
# than its column; a provider's retry of such a message would fail the same way every
# time, until the provider gives up and the message is lost. So every event is made
# safe on its way in, whichever provider parsed it: text gets U+FFFD in place of what
# cannot be stored, an over-long value is cut to its column, and the message keeps the
# values as sent under data["uncut"], so nothing the customer wrote is lost.


def _made_safe(value):
    """``value`` (an event dataclass, tuple or str) with all its text made safe."""
    if isinstance(value, Enum):
        return value
    if isinstance(value, str):
        return text_safe(value)
    if isinstance(value, tuple):
        return tuple(_made_safe(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(
            value,
            **{
                field.name: _made_safe(getattr(value, field.name))
                for field in dataclasses.fields(value)
                if field.init
            },
        )
    return value


def _column_size(model, field: str) -> int:
    return model._meta.get_field(field).max_length


def fitted_id(value: str, size: int) -> str:
    """``value`` cut to ``size`` characters when longer, ending in a digest of the whole:
    two long ids sharing their first ``size`` characters stay apart, and a retry of
    the same one gets the same key (so it still deduplicates)."""
    if len(value) <= size:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[:16]
    return f"{value[: size - len(digest) - 1]}~{digest}"


class _Fitter:
    """Fits values to their columns, remembering each one it had to cut."""

    def __init__(self):
        self.uncut: dict[str, str] = {}

    def id(self, label: str, value: str, size: int) -> str:
        if len(value) > size:
            self.uncut[label] = value
        return fitted_id(value, size)

    def text(self, label: str, value: str, size: int) -> str:
        if len(value) > size:
            self.uncut[label] = value
        return value[:size]


def _storable_sender(sender: Sender, fit: _Fitter) -> Sender:
    return dataclasses.replace(
        sender,
        external_id=fit.id(
            "sender.external_id", sender.external_id, _column_size(Contact, "external_id")
        ),
        # Replies go to the id the provider last named the number by, which may be another
        # form of it than the contact's (integrations/phone_identity.py). Without a
        # number (a WhatsApp username), the one known before is kept.
        address=fit.id(
            "sender.address",
            sender.address or (sender.external_id if sender.phone else ""),
            _column_size(Contact, "address"),
        ),
        name=fit.text("sender.name", sender.name, _column_size(Contact, "name")),
        username=fit.text("sender.username", sender.username, _column_size(Contact, "username")),
    )


def contact_upsert(*, channel: Channel, sender: Sender) -> Contact:
    """The channel's contact for this sender, created on first sight; name kept fresh."""
    phone = phone_to_e164(sender.phone) if sender.phone else ""
    ids, phones = same_customer(sender.external_id, phone)
    with transaction.atomic() if len(phones) > 1 else nullcontext():
        ingest.hold_customers(connection=connection, channel_id=channel.pk, customers=[phones])
        # The same contact as channels/ingest.py finds: by the id, or any equivalent
        # form of the number (integrations/phone_identity.py).
        contact = contacts_of_customer(channel=channel, ids=ids, phones=phones).first()
        created = False
        if contact is None:
            contact, created = Contact.objects.get_or_create(
                channel=channel,
                external_id=sender.external_id,
                defaults={
                    "phone_e164": phone,
                    "name": sender.name,
                    "username": sender.username,
                    "address": sender.address,
                },
            )
    if not created:
        fresh = {
            "name": sender.name or contact.name,
            "username": sender.username or contact.username,
            "phone_e164": phone or contact.phone_e164,
            "address": sender.address or contact.address,
        }
        changed = [field for field, value in fresh.items() if getattr(contact, field) != value]
        if changed:
            for field in changed:
                setattr(contact, field, fresh[field])
            contact.save(update_fields=[*changed, "updated_at"])
    return contact


def _message_data(message: InboundMessage) -> dict:
    data = {}
    if message.media is not None:
        data["media"] = asdict(message.media)
    if message.location is not None:
        data["location"] = asdict(message.location)
    if message.contacts:
        data["contacts"] = [asdict(card) for card in message.contacts]
    if message.reacted_to:
        data["reaction"] = {"emoji": message.reaction_emoji, "message_id": message.reacted_to}
    for key in ("reply_to", "payload", "provider_type", "provider_note", "edits"):
        if getattr(message, key):
            data[key] = getattr(message, key)
    return data


def _number_forms(message: InboundMessage) -> tuple[str, ...]:
    """The forms of the sender's number as _store_message will look them up."""
    sender = _storable_sender(_made_safe(message).sender, _Fitter())
    return same_customer(sender.external_id, phone_to_e164(sender.phone) if sender.phone else "")[1]


def _store_message(channel: Channel, message: InboundMessage) -> int:
    """Insert the message unless it is stored already; returns the contact's id."""
    message = _made_safe(message)
    fit = _Fitter()
    provider_message_id = fit.id(
        "provider_message_id",
        message.provider_message_id,
        _column_size(Message, "provider_message_id"),
    )
    sender = _storable_sender(message.sender, fit)
    # The webhook's correlation id, for the relay to log this message under.
    data = logs.stamped(_message_data(message))
    if fit.uncut:
        data["uncut"] = fit.uncut
    fields = {
        "channel_id": channel.pk,
        "direction": Direction.INBOUND,
        "provider_message_id": provider_message_id,
        "type": str(message.type),
        "text": message.text,
        "data": data,
        "status": MessageStatus.RECEIVED,
        "sent_at": message.sent_at,
    }
    if _stored_in_one_statement():
        contact = {
            "channel_id": channel.pk,
            "external_id": sender.external_id,
            "phone_e164": phone_to_e164(sender.phone) if sender.phone else "",
            "name": sender.name,
            "username": sender.username,
            "address": sender.address,
        }
        return ingest.store_message(channel=channel, contact=contact, message=fields)
    row = Message(**fields)
    row.contact = contact_upsert(channel=channel, sender=sender)
    # ON CONFLICT DO NOTHING: a provider's retry — even one racing this request — is a
    # no-op, decided by the unique constraint.
    Message.objects.bulk_create([row], ignore_conflicts=True)
    return row.contact.pk


# PostgreSQL stores a customer's message and its contact in one statement
# (channels/ingest.py); the tests turn it off to hold the ORM's way to the same rows.
ONE_STATEMENT = True


def _stored_in_one_statement() -> bool:
    return ONE_STATEMENT and connection.vendor == "postgresql"


def _apply_status(channel: Channel, status: DeliveryStatus) -> None:
    status = _made_safe(status)
    status = dataclasses.replace(
        status,
        provider_message_id=fitted_id(
            status.provider_message_id, _column_size(Message, "provider_message_id")
        ),
        error_code=status.error_code[: _column_size(Message, "error_code")],
    )
    message = (
        Message.objects.select_for_update()
        .filter(
            channel=channel,
            direction=Direction.OUTBOUND,
            provider_message_id=status.provider_message_id,
        )
        .first()
    )
    if message is None:
        logger.info(
            "status %s for unknown message %s on channel %s",
            status.state,
            status.provider_message_id,
            channel.pk,
        )
        return
    new = _STATE_TO_STATUS[status.state]
    if message.status == MessageStatus.FAILED:
        return
    if new != MessageStatus.FAILED and _STATUS_RANK.get(new, 0) <= _STATUS_RANK.get(
        message.status, 0
    ):
        return
    message.status = new
    fields = ["status", "updated_at"]
    if new == MessageStatus.FAILED:
        message.error_code, message.error_text = status.error_code, status.error_text
        fields += ["error_code", "error_text"]
    message.save(update_fields=fields)


def _apply_watermark(channel: Channel, mark: Watermark) -> None:
    """Move every message we sent this customer on this channel before the watermark
    to the watermark's state (delivered or read). Only messages out and not yet there
    move: pending ones are not out yet, a failed one stays failed, and none moves back
    (a delivery watermark leaves a read message read)."""
    mark = _made_safe(mark)
    earlier = {
        DeliveryState.DELIVERED: [MessageStatus.SENT],
        DeliveryState.READ: [MessageStatus.SENT, MessageStatus.DELIVERED],
    }.get(mark.state)
    if not earlier:
        return
    Message.objects.filter(
        channel=channel,
        contact__channel=channel,
        contact__external_id=mark.customer_external_id,
        direction=Direction.OUTBOUND,
        status__in=earlier,
        sent_at__lte=mark.watermark,
    ).update(status=_STATE_TO_STATUS[mark.state], updated_at=timezone.now())


def inbound_store(*, channel: Channel, events: list[InboundEvent]) -> None:
    """Store a webhook's events, all or none.

    Messages are inserted idempotently on (channel, provider message id); statuses
    update the outbound message they name. Once committed, the relay is woken for the
    contacts that wrote (a hint: a provider's retry wakes it again, harmlessly).
    """
    contact_ids: dict[int, None] = {}
    taps: list[str] = []
    templates_unknown = False
    # A customer's message alone is one statement on PostgreSQL, atomic on its own;
    # anything more shares a transaction.
    alone = (
        len(events) == 1 and isinstance(events[0], InboundMessage) and _stored_in_one_statement()
    )
    with nullcontext() if alone else transaction.atomic():
        messages = [event for event in events if isinstance(event, InboundMessage)]
        if len(messages) > 1:
            # Each customer's lock in one order, before any is taken one by one.
            ingest.hold_customers(
                connection=connection,
                channel_id=channel.pk,
                customers=[_number_forms(message) for message in messages],
            )
        for event in events:
            if isinstance(event, InboundMessage):
                contact_ids[_store_message(channel, event)] = None
            elif isinstance(event, TemplateStatusUpdate):
                update = _made_safe(event)
                if not whatsapp_template_status_apply(channel=channel, update=update):
                    templates_unknown = True
            elif isinstance(event, Watermark):
                _apply_watermark(channel, event)
            elif isinstance(event, ButtonTapToAnswer):
                taps.append(event.query_id)
            else:
                _apply_status(channel, event)
        if contact_ids:
            # Under the webhook's id, whenever the commit comes.
            transaction.on_commit(logs.carried(lambda: relay_wake(list(contact_ids))))
        if templates_unknown:
            transaction.on_commit(lambda: _templates_sync_later(channel))
        if taps:
            # Answered only once the tap is stored: an answer never stands in for it.
            transaction.on_commit(lambda: _answer_taps(channel, taps))
    if contact_ids:
        _received(channel)


def _answer_taps(channel: Channel, query_ids: list[str]) -> None:
    from .tasks import answer_button_taps

    try:
        answer_button_taps.delay(channel.pk, query_ids)
    except Exception:  # the tap is stored; only the customer's spinner is left running
        logger.warning("channel %s: button taps not answered", channel.pk, exc_info=True)


def _templates_sync_later(channel: Channel) -> None:
    """A status for a template we do not have (made since the last sync): fetch the
    list in a worker. The webhook never waits on Meta, so without a broker (tasks run
    in-process) this is left to the next scheduled sync or Sync now."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        logger.info("channel %s: a new template waits for the next sync", channel.pk)
        return
    from .tasks import sync_whatsapp_templates

    try:
        sync_whatsapp_templates.delay(channel.pk)
    except Exception:  # a hint only: the 3-hourly sync finds it anyway
        logger.warning("channel %s: template sync not enqueued", channel.pk, exc_info=True)


# How stale the "last message received" a channel shows may be: a webhook writes the
# channel's row at most this often, so one busy channel's webhooks do not all queue up
# on that row.
LAST_INBOUND_STEP = timedelta(seconds=60)


def _received(channel: Channel) -> None:
    """Note that the channel is receiving (its health on the pages), outside the
    webhook's own writes and only when what it shows would change."""
    now = timezone.now()
    if (
        channel.last_inbound_at is not None
        and now - channel.last_inbound_at < LAST_INBOUND_STEP
        and not (channel.last_error_at and channel.last_error_at > channel.last_inbound_at)
    ):
        return
    Channel.objects.filter(pk=channel.pk).update(last_inbound_at=now)
    channel.last_inbound_at = now


def channel_problem(*, channel: Channel, problem: str) -> None:
    """Record what last went wrong with a channel, for its health panel."""
    Channel.objects.filter(pk=channel.pk).update(
        last_error=problem[:500], last_error_at=timezone.now()
    )


# Anyone who has a channel's webhook URL can have a request refused; recording each one
# would let a stranger write the channel's row at will.
REFUSAL_RECORD_INTERVAL = timedelta(minutes=1)


def channel_refusal(*, channel: Channel, problem: str) -> bool:
    """Record a refused (unauthenticated) webhook on the channel's health panel, at most
    once per REFUSAL_RECORD_INTERVAL: one conditional UPDATE, so concurrent refusals
    cannot all get through. Returns whether this one was recorded."""
    now = timezone.now()
    return bool(
        Channel.objects.filter(pk=channel.pk)
        .filter(Q(last_error_at__isnull=True) | Q(last_error_at__lte=now - REFUSAL_RECORD_INTERVAL))
        .update(last_error=problem[:500], last_error_at=now)
    )


def channel_webhook_verified(*, channel: Channel) -> None:
    """Meta's subscribe handshake passed: the callback URL and verify token are set."""
    Channel.objects.filter(pk=channel.pk).update(webhook_verified_at=timezone.now())


class ChannelConflict(Exception):
    """The provider identity is bound to another channel already."""


def channel_webhook_url(*, channel: Channel) -> str:
    return settings.PUBLIC_BASE_URL + reverse(
        "channels:webhook", args=[channel.kind, channel.webhook_key]
    )


def _conflict_message(*, existing: Channel | None, account, noun: str) -> str:
    if existing is not None and existing.workspace.account_id == account.pk:
        return (
            f"This {noun} is already connected as “{existing.name}” in "
            f"{existing.workspace.name}. Remove that channel first to move it here."
        )
    return (
        f"This {noun} is already connected to another Octopods account. "
        "It can be connected to one channel at a time."
    )


def _bound_channel(*, kind: str, identity: str) -> Channel | None:
    return Channel.objects.filter(kind=kind, identity=identity).select_related("workspace").first()


def channel_webhook_reregister(*, channel: Channel) -> bool:
    """Register the channel's webhook with its provider again (what we subscribe to may
    have grown since it was added). False where the admin pastes it by hand (Meta's
    Messenger); raises ProviderError when the provider refuses."""
    adapter = channel_adapter(channel.kind)
    if adapter.manual_setup:
        return False
    adapter.register_webhook(
        credentials=adapter.credentials(channel.credentials_data),
        webhook_url=channel_webhook_url(channel=channel),
    )
    Channel.objects.filter(pk=channel.pk).update(webhook_registered_at=timezone.now())
    return True


def channel_add(*, workspace, kind: str, data: dict, name: str, user) -> Channel:
    """Check the credentials with the provider, save the channel, and point the
    provider's webhook at it.

    Raises ProviderError (the provider refused the credentials or could not be reached)
    or ChannelConflict; either way nothing is left behind. The identity is read before
    anything changes at the provider, so a bot bound elsewhere never has its webhook
    moved. The row is committed before the webhook is registered, because Meta calls
    the new URL back (its GET handshake) while we register it.
    """
    adapter = channel_adapter(kind)
    noun = adapter.identity_label
    found = adapter.identify(data={**data, **adapter.generated_secrets()})
    if existing := _bound_channel(kind=kind, identity=found.identity):
        raise ChannelConflict(
            _conflict_message(existing=existing, account=workspace.account, noun=noun)
        )
    channel = Channel(
        workspace=workspace,
        kind=kind,
        name=(name or found.name)[:120],
        identity=found.identity,
        added_by=user,
    )
    channel.credentials_data = found.credentials
    try:
        with transaction.atomic():
            channel.save()
    except IntegrityError:
        # Another request bound the same identity between our check and our insert.
        raise ChannelConflict(
            _conflict_message(
                existing=_bound_channel(kind=kind, identity=found.identity),
                account=workspace.account,
                noun=noun,
            )
        ) from None
    try:
        adapter.register_webhook(
            credentials=adapter.credentials(found.credentials),
            webhook_url=channel_webhook_url(channel=channel),
        )
    except ProviderError:
        channel.delete()
        raise
    channel.webhook_registered_at = timezone.now()
    try:
        # The inbox's side of the channel, where it keeps one (HubSpot's channel account).
        with inbox_call(workspace):
            channel.inbox_channel_id = inbox_adapter(workspace.provider).channel_connect(
                tokens=workspace_tokens(workspace=workspace),
                name=channel.name,
                identity=channel.identity,
            )
    except ProviderError:
        _channel_undo(channel=channel, adapter=adapter)
        raise
    channel.save(update_fields=["webhook_registered_at", "inbox_channel_id", "updated_at"])
    logger.info("channel %s (%s) added to workspace %s", channel.pk, kind, workspace.pk)
    if adapter.approved_templates:
        try:
            whatsapp_templates_sync(channel=channel)
        except ProviderError as error:
            # The channel works without them; its page says why and offers Sync now.
            logger.warning("channel %s: templates not synced: %s", channel.pk, error.message)
    return channel


def _channel_undo(*, channel: Channel, adapter) -> str:
    """Delete the channel after undoing its webhook registration; "" when that was
    undone, else in plain words what was not and what to do at the provider."""
    leftover = ""
    try:
        adapter.unregister_webhook(credentials=adapter.credentials(channel.credentials_data))
    except (ProviderError, ValueError) as error:
        logger.warning("channel %s: webhook not unregistered: %s", channel.pk, error)
        why = (
            error.message if isinstance(error, ProviderError) else "its credentials are unreadable"
        )
        leftover = (
            f"Octopods could not tell {adapter.label} to stop sending messages here "
            f"({why.rstrip('.')}). {adapter.unregister_advice}"
        )
    channel.delete()
    return leftover


def channel_remove(*, channel: Channel) -> str:
    """Delete the channel with its contacts and messages, after asking the provider to
    stop sending to it (best effort: the channel goes anyway). Returns "" when the
    provider was told, else what could not be undone and what the admin should do."""
    workspace = channel.workspace
    if channel.inbox_channel_id and workspace.status == Status.ACTIVE:
        try:
            with inbox_call(workspace):
                inbox_adapter(workspace.provider).channel_disconnect(
                    tokens=workspace_tokens(workspace=workspace),
                    channel_account_id=channel.inbox_channel_id,
                )
        except ProviderError as error:
            logger.warning("channel %s: not disconnected in the inbox: %s", channel.pk, error)
    return _channel_undo(channel=channel, adapter=channel_adapter(channel.kind))


# --- the inbox's webhooks ----------------------------------------------------------------


def inbox_events_store(*, provider: str, events: list[InboxEvent]) -> int:
    """Store what an inbox webhook said, exactly once: each agent reply becomes outbound
    messages (its text, then one per attachment) idempotent on the inbox part id, and
    conversation state changes are recorded.

    A conversation we did not open (a teammate's chat with a website visitor) is not
    ours to relay and is skipped. Runs in one transaction; the relay is woken after.
    Returns how many messages to send it made (a resent webhook's are counted again,
    and stored once)."""
    contact_ids: dict[int, None] = {}
    made = 0
    with transaction.atomic():
        for event in map(_made_safe, events):
            conversation = (
                Conversation.objects.filter(
                    workspace__provider=provider,
                    workspace__external_id=event.workspace_external_id,
                    inbox_conversation_id=event.conversation_id,
                )
                .select_related("contact__channel")
                .first()
            )
            if conversation is None:
                logger.info(
                    "%s conversation %s of %s is not one of ours",
                    provider,
                    event.conversation_id,
                    event.workspace_external_id,
                )
                continue
            if isinstance(event, ConversationState):
                Conversation.objects.filter(pk=conversation.pk).update(
                    open=event.open, closed_at=None if event.open else (event.at or timezone.now())
                )
                continue
            # ON CONFLICT DO NOTHING: Intercom resending the webhook is a no-op.
            rows = _agent_reply_rows(conversation, event)
            Message.objects.bulk_create(rows, ignore_conflicts=True)
            metrics.replies_stored(conversation.contact.channel.kind, len(rows))
            made += len(rows)
            contact_ids[conversation.contact_id] = None
        if contact_ids:
            transaction.on_commit(logs.carried(lambda: relay_wake(list(contact_ids))))
    return made


def _agent_reply_rows(conversation: Conversation, reply: AgentReply) -> list[Message]:
    contact = conversation.contact
    common = {
        "channel": contact.channel,
        "contact": contact,
        "conversation": conversation,
        "direction": Direction.OUTBOUND,
        "origin": Origin.AGENT,
        "status": MessageStatus.PENDING,
    }
    # With the webhook's correlation id, for the relay to log the send under.
    author = logs.stamped({"admin_id": reply.admin_id, "admin_name": reply.admin_name})
    part_id_size = _column_size(Message, "inbox_part_id")
    if len(f"{reply.part_id}:{len(reply.attachments)}") > part_id_size:
        author["uncut"] = {"part_id": reply.part_id}
    rows = []
    if reply.body_html.strip():
        rows.append(
            Message(
                **common,
                inbox_part_id=fitted_id(reply.part_id, part_id_size),
                type="text",
                text=html.unescape(strip_tags(reply.body_html)).strip()[:4000],
                data={**author, "body_html": reply.body_html},
            )
        )
    for number, attachment in enumerate(reply.attachments, start=1):
        rows.append(
            Message(
                **common,
                # One part, several sends: each keeps its own idempotency key.
                inbox_part_id=fitted_id(f"{reply.part_id}:{number}", part_id_size),
                type=_attachment_type(attachment.content_type),
                text=attachment.name,
                data={
                    **author,
                    "attachment": {
                        "url": attachment.url,
                        "name": attachment.name,
                        "content_type": attachment.content_type,
                    },
                },
            )
        )
    return rows


def _attachment_type(content_type: str) -> str:
    major = content_type.split("/", 1)[0]
    return {"image": "image", "video": "video", "audio": "audio"}.get(major, "document")


def messages_requeue(*, messages) -> int:
    """Give failed messages another go from the start: back to waiting, attempts
    cleared, the relay woken for their contacts. Safe to repeat (the relay's
    idempotency keys stop a message that did land from landing twice)."""
    failed = messages.filter(status=MessageStatus.FAILED)
    contact_ids = list(failed.values_list("contact_id", flat=True).distinct())
    with transaction.atomic():
        inbound = failed.filter(direction=Direction.INBOUND).update(
            status=MessageStatus.RECEIVED,
            attempts=0,
            next_attempt_at=None,
            attempt_lease=None,
            unknown_outcomes=0,
            updated_at=timezone.now(),
        )
        outbound = failed.filter(direction=Direction.OUTBOUND).update(
            status=MessageStatus.PENDING,
            attempts=0,
            next_attempt_at=None,
            attempt_lease=None,
            unknown_outcomes=0,
            updated_at=timezone.now(),
        )
        if contact_ids:
            transaction.on_commit(lambda: relay_wake(contact_ids))
    return inbound + outbound
