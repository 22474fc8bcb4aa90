"""Stand-ins for the relay's tests: an inbox and a channel behind the adapter
interfaces (each real adapter is tested against its provider's HTTP separately), and
helpers to make messages. The fixtures that install them are in conftest.py."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db import OperationalError
from django.utils import timezone

from channels.models import Direction, Message, MessageStatus
from channels.services import inbox_events_store
from integrations.base import AgentReply, InboxAdapter, InboxRefs, ProviderError
from integrations.channel import FetchedMedia
from integrations.registry import channel_adapter as real_channel_adapter
from relay.engine import contact_relay


@dataclass
class FakeInbox(InboxAdapter):
    """Inherits reply_outcome's default: a failure becomes a note, as in Intercom."""

    deliveries: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    failures: list = field(default_factory=list)  # raised by the next deliveries, in order
    outcomes: list = field(default_factory=list)
    conversations: int = 0

    def deliver(self, *, tokens, delivery):
        self.deliveries.append(delivery)
        if self.failures:
            raise self.failures.pop(0)
        conversation_id = delivery.conversation_id
        if not conversation_id:
            self.conversations += 1
            conversation_id = f"conv-{self.conversations}"
        return InboxRefs(
            contact_id="ic-1",
            conversation_id=conversation_id,
            part_id=f"part-{len(self.deliveries)}",
            opened=not delivery.conversation_id,
        )

    def post_note(self, *, tokens, conversation_id, admin_id, body, **thread):
        self.notes.append((conversation_id, admin_id, body))

    def reply_outcome(self, *, tokens, conversation_id, part_id, admin_id, error=""):
        self.outcomes.append((conversation_id, part_id, bool(error)))
        super().reply_outcome(
            tokens=tokens,
            conversation_id=conversation_id,
            part_id=part_id,
            admin_id=admin_id,
            error=error,
        )


class FakeChannel:
    """The real Telegram adapter's credentials, label and formatting, with sends recorded."""

    def __init__(self):
        self.real = real_channel_adapter("telegram")
        self.label = self.real.label
        self.delivery_receipts = self.real.delivery_receipts
        self.sent = []
        self.failures = []
        self.fetched = []

    def credentials(self, data):
        return self.real.credentials(data)

    def format_html(self, html):
        return self.real.format_html(html)

    def send(self, *, credentials, message):
        self.sent.append(message)
        if self.failures:
            raise self.failures.pop(0)
        return f"sent-{len(self.sent)}"

    def fetch_media(self, *, credentials, media, max_bytes):
        self.fetched.append(media)
        return FetchedMedia(content=b"\x89PNG fake", mime_type="image/png", filename="receipt.png")


def inbound(contact, text, n, **extra):
    return Message.objects.create(
        channel=contact.channel,
        contact=contact,
        direction=Direction.INBOUND,
        provider_message_id=f"in-{n}",
        type=extra.pop("type", "text"),
        text=text,
        status=MessageStatus.RECEIVED,
        sent_at=timezone.now(),
        **extra,
    )


def run(contact):
    return contact_relay(contact_id=contact.pk)


def make_due(*messages):
    Message.objects.filter(pk__in=[m.pk for m in messages]).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def transient(message="Intercom answered 503", **extra):
    return ProviderError(message, permanent=False, status=503, **extra)


def reply(part="p-100", body="<p>Thanks, <b>Jane</b>!</p>", attachments=()):
    return AgentReply(
        workspace_external_id="acme-app",
        conversation_id="conv-1",
        part_id=part,
        admin_id="991",
        admin_name="Ann",
        body_html=body,
        attachments=attachments,
    )


def agent_replies(*parts):
    """Agent replies stored as the inbox's webhook would, one per part id."""
    inbox_events_store(provider="intercom", events=[reply(part=p, body=p) for p in parts])
    return list(Message.objects.filter(direction=Direction.OUTBOUND).order_by("pk"))


def writes(sql: str, column: str) -> bool:
    return sql.startswith("UPDATE") and column in sql.split(" WHERE ", 1)[0]


class FailingWrites:
    """A database that refuses the next ``times`` UPDATEs writing ``marker``, as one
    being restarted does (psycopg raises OperationalError)."""

    def __init__(self, marker: str, times: int):
        self.marker, self.times, self.refused = marker, times, 0

    def __call__(self, execute, sql, params, many, context):
        if writes(sql, self.marker) and self.refused < self.times:
            self.refused += 1
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)
