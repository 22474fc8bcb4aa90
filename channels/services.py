"""Writes for the channel domain: storing what providers send us, exactly once."""

import logging
from dataclasses import asdict

import phonenumbers
from django.db import transaction
from django.utils import timezone

from integrations.channel import (
    DeliveryState,
    DeliveryStatus,
    InboundEvent,
    InboundMessage,
    Sender,
)

from .models import Channel, Contact, Direction, Message, MessageStatus

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
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def contact_upsert(*, channel: Channel, sender: Sender) -> Contact:
    """The channel's contact for this sender, created on first sight; name kept fresh."""
    phone = phone_to_e164(sender.phone) if sender.phone else ""
    contact, created = Contact.objects.get_or_create(
        channel=channel,
        external_id=sender.external_id,
        defaults={"phone_e164": phone, "name": sender.name, "username": sender.username},
    )
    if not created:
        fresh = {
            "name": sender.name or contact.name,
            "username": sender.username or contact.username,
            "phone_e164": phone or contact.phone_e164,
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
    for key in ("reply_to", "payload", "provider_type"):
        if getattr(message, key):
            data[key] = getattr(message, key)
    return data


def _store_message(channel: Channel, message: InboundMessage) -> None:
    """Insert the message unless it is stored already."""
    contact = contact_upsert(channel=channel, sender=message.sender)
    row = Message(
        channel=channel,
        contact=contact,
        direction=Direction.INBOUND,
        provider_message_id=message.provider_message_id,
        type=str(message.type),
        text=message.text,
        data=_message_data(message),
        status=MessageStatus.RECEIVED,
        sent_at=message.sent_at,
    )
    # ON CONFLICT DO NOTHING: a provider's retry — even one racing this request — is a
    # no-op, decided by the unique constraint.
    Message.objects.bulk_create([row], ignore_conflicts=True)


def _apply_status(channel: Channel, status: DeliveryStatus) -> None:
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


def inbound_store(*, channel: Channel, events: list[InboundEvent]) -> None:
    """Store a webhook's events in one transaction.

    Messages are inserted idempotently on (channel, provider message id); statuses
    update the outbound message they name.
    """
    with transaction.atomic():
        for event in events:
            if isinstance(event, InboundMessage):
                _store_message(channel, event)
            else:
                _apply_status(channel, event)
        if any(isinstance(event, InboundMessage) for event in events):
            Channel.objects.filter(pk=channel.pk).update(last_inbound_at=timezone.now())
