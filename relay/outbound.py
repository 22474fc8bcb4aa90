"""Outbound: agents' replies (and automatic ones) out on the customer's channel, in
order, with the channel's signature."""

import logging
from html import escape

from django.db import (
    DatabaseError,
    DataError,
    IntegrityError,
)
from django.db.models import F
from django.utils import timezone

from channels.automations import signature_render
from channels.models import Contact, Direction, Message, MessageStatus, Origin
from channels.services import channel_webhook_url
from integrations.base import ProviderError
from integrations.channel import OutboundMedia, OutboundMessage, TemplateMessage
from integrations.registry import channel_adapter
from octopods import logs, metrics

from .attempts import (
    backoff,
    fail,
    fail_unstarted,
    found_unknown,
    postpone,
    record,
    refused,
    start_attempt,
    take_back_later,
)
from .backlog import BATCH, Backlog, RelayResult, due
from .lease import Lease
from .notes import note_automation, note_failure, reply_outcome

logger = logging.getLogger(__name__)


def relay_outbound(lease: Lease, contact: Contact, backlog: Backlog, result: RelayResult) -> None:
    channel = contact.channel
    adapter = channel_adapter(channel.kind)
    credentials = adapter.credentials(channel.credentials_data)
    for _ in range(BATCH):
        if lease.out_of_time():
            result.more = True
            return
        message = backlog.head(Direction.OUTBOUND)
        if message is None:
            result.drained.append(Direction.OUTBOUND)
            return
        logs.follow(message)  # its lines, and its provider calls, carry its id
        if not due(message):
            result.waiting = True
            return
        resending = found_unknown(message, lease)
        if refusal := refused(message):
            if fail_unstarted(lease, message, refusal):
                result.failed += 1
                metrics.failed(channel.kind, Direction.OUTBOUND)
                backlog.done(Direction.OUTBOUND)
                note_failure(contact, message, refusal)
            else:
                backlog.forget(Direction.OUTBOUND)
            continue
        if not start_attempt(lease, message):
            backlog.forget(Direction.OUTBOUND)
            continue
        if resending:
            # No channel takes an idempotency key: the customer may get it twice. Once
            # more at most (see refused).
            logger.warning(
                "message %s: an earlier attempt to send it stopped mid-call, so whether it "
                "reached the customer is unknown; sending it once more (it may arrive twice)",
                message.pk,
            )
        calling = False
        try:
            outbound = _outbound(adapter, contact, message)
            calling = True
            provider_id = adapter.send(credentials=credentials, message=outbound)
        except ProviderError as error:
            if error.permanent or not postpone(lease, message, error):
                fail(lease, message, error)
                result.failed += 1
                metrics.failed(channel.kind, Direction.OUTBOUND)
                backlog.done(Direction.OUTBOUND)
                note_failure(contact, message, error)
                continue
            result.waiting = True
            return
        except DatabaseError:
            if not calling:
                take_back_later(lease, message)
            raise  # otherwise the attempt stays in flight: its outcome is unknown
        except Exception:
            # Did it go out? Nobody can tell (the error may have come after the call):
            # an unknown outcome, sent at most once more.
            logger.exception("message %s: sending it failed unexpectedly", message.pk)
            record(
                lease,
                message,
                unknown_outcomes=F("unknown_outcomes") + 1,
                next_attempt_at=timezone.now() + backoff(message.attempts),
                error_code="internal",
                error_text="Octopods failed to send this reply (an internal error).",
            )
            message.unknown_outcomes += 1
            result.waiting = True
            return
        record_sent(
            lease,
            message,
            provider_id,
            status=MessageStatus.SENT if adapter.delivery_receipts else MessageStatus.DELIVERED,
        )
        backlog.done(Direction.OUTBOUND)
        result.sent += 1
        metrics.relayed(channel.kind, Direction.OUTBOUND)
        logger.info(
            "message %s sent to the customer",
            message.pk,
            extra={"message_id": message.pk, "contact_id": contact.pk},
        )
        if message.origin == Origin.AUTOMATION:
            note_automation(contact, message)
        elif message.origin == Origin.AGENT and ":" not in message.inbox_part_id:
            reply_outcome(contact, message)
    result.more = True


def record_sent(lease: Lease, message: Message, provider_id: str, *, status: str) -> None:
    """Record a send the provider accepted. Its id is kept unless no row can hold it
    (longer than the column, or already another message's — a provider's bug, or
    ours): then the send is recorded without it, never left to be sent again."""
    fields = {
        "status": status,
        "sent_at": timezone.now(),
        "next_attempt_at": None,
        "error_code": "",
        "error_text": "",
    }
    field = Message._meta.get_field("provider_message_id")
    if len(provider_id) <= field.max_length:
        try:
            record(lease, message, provider_message_id=provider_id, **fields)
            return
        except (IntegrityError, DataError) as error:  # its transaction was rolled back
            refusal = error
    else:
        refusal = f"longer than {field.max_length} characters"
    logger.error(
        "message %s: sent, but the provider's id %r cannot be stored (%s); recorded without it",
        message.pk,
        provider_id[:300],
        refusal,
    )
    record(lease, message, **fields)


def agent_text(adapter, channel, *, body_html: str, admin_name: str) -> str:
    """An agent's message as the customer gets it: the channel's signature appended and
    all of it in the channel's own formatting (what the inbox app's preview shows)."""
    html = body_html
    signature = signature_render(channel=channel, agent_name=admin_name)
    if html and signature:
        html += "<p></p>" + plain_html(signature)
    # Everything goes through the channel's formatter, our own texts too: a bare "&" or
    # "<" in a signature would otherwise break Telegram's HTML.
    return adapter.format_html(html) if html else ""


def _outbound(adapter, contact: Contact, message: Message) -> OutboundMessage:
    channel = contact.channel
    data = message.data
    if message.origin == Origin.AGENT:
        text = agent_text(
            adapter,
            channel,
            body_html=data.get("body_html", ""),
            admin_name=data.get("admin_name", ""),
        )
    else:
        html = plain_html(message.text)
        text = adapter.format_html(html) if html else ""
    media = None
    if attachment := data.get("attachment"):
        media = OutboundMedia(
            url=attachment["url"],
            mime_type=attachment.get("content_type", ""),
            filename=attachment.get("name", ""),
        )
    # A template (WhatsApp) as it was chosen and filled in when the send was queued.
    template = TemplateMessage.from_data(data["template"]) if data.get("template") else None
    return OutboundMessage(
        to=contact.send_to,
        text=text,
        media=media,
        template=template,
        status_callback=channel_webhook_url(channel=channel),
        # One key per queued message, the same on every attempt: a provider that takes
        # a retry key (LINE) delivers it once however often it is tried.
        idempotency_key=f"octopods-{message.pk}",
    )


def plain_html(text: str) -> str:
    return "".join(f"<p>{escape(line)}</p>" for line in text.splitlines())
