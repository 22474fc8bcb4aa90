"""The relay: customer messages into the inbox, agent replies out on the channel.

PostgreSQL is the record of what still has to happen: a message waits in its row
(inbound ``received``, outbound ``pending``) until the relay has done it. Celery only
carries wake-ups (``relay_contact`` with a contact id) and the sweeper re-wakes whatever
is due, so a lost wake-up costs latency, never a message.

One worker relays a contact at a time: it claims the contact with a lease (an UPDATE
that succeeds for one worker only) and holds no database lock across provider calls.
Within a contact each direction goes oldest first, and a message that has to wait
(a transient failure, backing off) holds back the ones after it in the same direction:
order is kept, per customer. A message the provider refuses for good is marked failed
and the next one goes; an agent learns of a reply that could not be sent from a note in
the conversation.
"""

import logging
import mimetypes
import random
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from html import escape
from pathlib import PurePosixPath

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.db.models import F, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from integrations.base import InboxCustomer, InboxDelivery, ProviderError
from integrations.channel import MEDIA_TYPES, Media, OutboundMedia, OutboundMessage
from integrations.registry import channel_adapter, inbox_adapter
from integrations.services import inbox_call, workspace_tokens
from workspaces.models import InboxAdmin, Status

from .automations import channel_is_open, signature_render
from .lease import Lease, LeaseLost, claim, keeper, lease_end, release
from .models import Contact, Conversation, Direction, Message, MessageStatus, Origin
from .services import channel_webhook_url

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
# Messages one task relays per direction before handing the contact back: a long
# backlog never runs into the task's time limit.
BATCH = 50
BACKOFF_FIRST = 5  # seconds
BACKOFF_CAP = 60 * 60
# Files a customer sends are carried into the inbox as links to us, signed; the inbox
# fetches them when the message arrives, and a person may open them later.
MEDIA_LINK_MAX_AGE = 30 * 24 * 60 * 60
MEDIA_SALT = "channels.media"
INTERCOM_IMAGE_TYPES = ("image/",)


@dataclass
class RelayResult:
    relayed: int = 0
    sent: int = 0
    failed: int = 0
    waiting: bool = False  # something is due later (backing off) or the inbox is offline
    more: bool = False  # stopped at the batch size with work left: wake it again
    # The directions this run relayed everything of that it could see.
    drained: list[str] = field(default_factory=list)


# --- claiming a contact --------------------------------------------------------------


def contact_relay(*, contact_id: int) -> RelayResult:
    """Relay what is due for one contact, both directions; a no-op when another worker
    holds the contact (it will do the work)."""
    result = RelayResult()
    lease = claim(contact_id)
    if lease is None:
        return result
    try:
        contact = (
            Contact.objects.select_related("channel__workspace")
            # The workspace's default admin in the same query (see default_admin_id).
            .annotate(
                default_admin_id=Subquery(
                    InboxAdmin.objects.filter(workspace=OuterRef("channel__workspace"))
                    .order_by("pk")
                    .values("external_id")[:1]
                )
            )
            .get(pk=contact_id)
        )
        backlog = _Backlog(contact)
        _relay_inbound(lease, contact, backlog, result)
        if not result.more:
            _relay_outbound(lease, contact, backlog, result)
    except LeaseLost:
        logger.warning("contact %s: another worker holds it now; this one stops", contact_id)
        result.more = False
        release(lease)
        return result
    except BaseException:
        release(lease)
        raise
    release(lease)
    # A message stored while the contact was held was woken for, but its wake-up found
    # the contact taken: look once more now that it is given back. Only where this run
    # saw nothing left, so a message held back behind one that waits is not run for
    # again and again.
    if not result.more and result.drained:
        result.more = _arrived_meanwhile(contact_id, result.drained)
    return result


_WAITING_STATUS = {
    Direction.INBOUND: MessageStatus.RECEIVED,
    Direction.OUTBOUND: MessageStatus.PENDING,
}


def _arrived_meanwhile(contact_id: int, directions: list[str]) -> bool:
    return (
        Message.objects.filter(contact_id=contact_id)
        .filter(_waiting({d: _WAITING_STATUS[d] for d in directions}))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now()))
        .exists()
    )


def _head(contact: Contact, direction: str, status: str) -> Message | None:
    return (
        Message.objects.filter(contact=contact, direction=direction, status=status)
        .order_by("created_at", "pk")
        .first()
    )


# Messages read ahead in one query: a backlog costs a SELECT per this many, not per
# message.
READ_AHEAD = 10


class _Backlog:
    """A contact's waiting messages, both directions, oldest first, read ahead: the
    first read takes both directions at once, later ones the direction that needs more.
    The holder of the lease is the only one that starts them, so what was read stays
    true until this claim changes it; after anything unexpected (a message that changed
    meanwhile), ``forget()`` reads that direction afresh. A direction whose read came
    back short has nothing more to see: what arrives later is found by the look after
    the contact is given back (``_arrived_meanwhile``)."""

    def __init__(self, contact: Contact):
        self.contact = contact
        self._ahead: dict[str, list[Message]] = {}
        self._exhausted: set[str] = set()
        self._first = True

    def _read(self, waiting: Q) -> list[Message]:
        return list(
            Message.objects.filter(contact=self.contact)
            .filter(waiting)
            .order_by("created_at", "pk")[:READ_AHEAD]
        )

    def _fill(self, direction: str) -> None:
        if self._first:
            self._first = False
            both = self._read(_waiting(_WAITING_STATUS))
            for each in _WAITING_STATUS:
                self._ahead[each] = [m for m in both if m.direction == each]
            if len(both) < READ_AHEAD:
                self._exhausted.update(_WAITING_STATUS)
            return
        read = self._read(_waiting({direction: _WAITING_STATUS[direction]}))
        self._ahead[direction] = read
        if len(read) < READ_AHEAD:
            self._exhausted.add(direction)

    def head(self, direction: str) -> Message | None:
        if not self._ahead.get(direction) and direction not in self._exhausted:
            self._fill(direction)
        ahead = self._ahead.get(direction)
        return ahead[0] if ahead else None

    def done(self, direction: str) -> None:
        """The head has been dealt with (relayed, sent or failed)."""
        self._ahead[direction].pop(0)

    def forget(self, direction: str) -> None:
        self._ahead[direction] = []
        self._exhausted.discard(direction)
        self._first = False


def _waiting(statuses: dict) -> Q:
    waiting = Q()
    for direction, status in statuses.items():
        waiting |= Q(direction=direction, status=status)
    return waiting


def _due(message: Message) -> bool:
    return message.next_attempt_at is None or message.next_attempt_at <= timezone.now()


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """Capped exponential backoff with jitter (somewhere in the upper half of the
    current step, so retries of many messages spread out), never sooner than the
    provider asked."""
    ceiling = min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** max(0, attempts - 1))
    wait = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not a secret
    if retry_after is not None:
        wait = max(wait, retry_after)
    return timedelta(seconds=min(wait, BACKOFF_CAP))


# --- attempts: started under the lease, outcomes fenced by it -------------------------


def _start_attempt(lease: Lease, message: Message) -> bool:
    """Count the attempt before making it, and mark it as this claim's: if the worker
    dies mid-call, the next one knows the message may have landed; if it is only slow,
    the message is not due again before the end of the lease, and its outcome can only
    be recorded by this claim. One UPDATE, fenced by the lease's token (the keeper
    renews the lease meanwhile); raises LeaseLost if the lease is gone, False if the
    message changed meanwhile (read it again)."""
    started = _take(
        lease,
        message,
        attempts=F("attempts") + 1,
        attempt_lease=lease.token,
        next_attempt_at=lease_end(),
        unknown_outcomes=message.unknown_outcomes,
    )
    if started:
        message.attempts += 1
        message.attempt_lease = lease.token
        lease.in_flight = message.pk
    return started


def _take(lease: Lease, message: Message, **fields) -> bool:
    """Update the message as this claim found it (same status, same attempt in flight)
    while the contact's lease is still this claim's, in one statement. A claim by
    another worker that commits first leaves it nothing to update (LeaseLost); one
    that commits after it finds the message in flight, this claim's to finish."""
    taken = (
        Message.objects.filter(
            pk=message.pk,
            status=message.status,
            attempt_lease=message.attempt_lease,
            contact__relay_lease_token=lease.token,
        ).update(updated_at=timezone.now(), **fields)
        == 1
    )
    if (
        not taken
        and not Contact.objects.filter(pk=lease.contact_id, relay_lease_token=lease.token).exists()
    ):
        raise LeaseLost
    return taken


def _one_statement():
    """A savepoint where a transaction is already open (a failed statement must not
    abort it); nothing otherwise: a single statement in autocommit is atomic on its own,
    without a BEGIN and a COMMIT around it."""
    return transaction.atomic() if connection.in_atomic_block else nullcontext()


def _record(lease: Lease, message: Message, **fields) -> None:
    """Record the outcome of this claim's attempt on ``message``.

    The call has been made: its outcome (a provider's message id above all) is never
    thrown away for a database hiccup — the write is retried, not the call. Fenced by
    the attempt's token: a claim that lost the message to another worker records
    nothing (and raises LeaseLost). The lease is not renewed here: the keeper renews it,
    and the next attempt's start finds it lost, if it is."""

    def write():
        with _one_statement():  # a refused write leaves the connection usable
            return (
                Message.objects.filter(pk=message.pk, attempt_lease=lease.token).update(
                    attempt_lease=None, updated_at=timezone.now(), **fields
                )
                == 1
            )

    what = f"outcome of message {message.pk}"
    recorded = _retrying(write, what=what, fields=fields, defer=True)
    lease.in_flight = None
    if not recorded:
        logger.warning(
            "message %s: outcome not recorded, another worker has taken the message over "
            "(outcome: %s)",
            message.pk,
            _loggable(fields),
        )
        raise LeaseLost
    for name, value in fields.items():
        if not hasattr(value, "resolve_expression"):
            setattr(message, name, value)
    message.attempt_lease = None


# How long an outcome's write is retried through database errors before the attempt is
# left to be found as one whose outcome is unknown.
RECORD_RETRY_SECONDS = 30
_pause = threading.Event().wait  # tests replace it to run without waiting


def _retrying(write, *, what: str, fields: dict | None = None, defer: bool = False):
    """Make ``write`` through database errors for RECORD_RETRY_SECONDS; if the database
    is still away, hand it to this process's lease keeper (``defer``), which makes it
    as soon as the database answers, and raise."""
    deadline = time.monotonic() + RECORD_RETRY_SECONDS
    delay = 0.1
    while True:
        try:
            return write()
        except (OperationalError, InterfaceError) as error:
            if time.monotonic() >= deadline:
                logger.error(
                    "%s could not be recorded yet (database unavailable: %s)%s; outcome: %s",
                    what,
                    error,
                    "; recording it once the database is back" if defer else "",
                    _loggable(fields or {}),
                )
                if defer:
                    keeper.later(write, what=what)
                raise
            logger.warning("%s: database unavailable (%s); writing it again", what, error)
            if not connection.in_atomic_block:
                # A connection cut by a restart or failover: the next write opens anew.
                connection.close()
            _pause(delay)
            delay = min(delay * 2, 5.0)


def _loggable(fields: dict) -> str:
    return ", ".join(
        f"{name}={value}"
        for name, value in fields.items()
        if name in ("status", "provider_message_id", "error_code")
    )


def _postpone(lease: Lease, message: Message, error: ProviderError) -> bool:
    """Schedule the next try after a transient failure; False when the message has
    had its attempts (the caller fails it)."""
    if message.attempts >= MAX_ATTEMPTS:
        return False
    _record(
        lease,
        message,
        next_attempt_at=timezone.now() + backoff(message.attempts, error.retry_after),
        error_code=error.code[:64],
        error_text=error.message,
    )
    return True


def _fail(lease: Lease, message: Message, error: ProviderError) -> None:
    _record(
        lease,
        message,
        status=MessageStatus.FAILED,
        error_code=error.code[:64],
        error_text=error.message,
        next_attempt_at=None,
    )


def _take_back_later(lease: Lease, message: Message) -> None:
    """The database went away before the provider was called: nothing was sent, so
    the attempt is taken back (not counted, the message due again) as soon as the
    database answers — rather than the message waiting out the lease as one whose
    outcome is unknown."""

    def take_back():
        Message.objects.filter(pk=message.pk, attempt_lease=lease.token).update(
            attempt_lease=None, attempts=F("attempts") - 1, next_attempt_at=None
        )

    keeper.later(take_back, what=f"attempt on message {message.pk}, not made")


def _refusal(message: Message) -> ProviderError | None:
    """The attempt cap and the unknown-outcome rule, checked before every attempt (a
    crash after the call must not skip them): why the message must not be tried
    again, or None."""
    if message.attempts >= MAX_ATTEMPTS:
        reason = f"Gave up after {message.attempts} attempts."
        if message.error_text:
            reason += f" The last one: {message.error_text}"
        return ProviderError(reason, permanent=True, code="attempts")
    # Inbound, the inbox is checked before posting again; a channel cannot be asked.
    if message.direction == Direction.OUTBOUND and message.unknown_outcomes >= 2:
        return ProviderError(
            "Octopods could not tell whether this reached the customer: sending it was "
            "interrupted twice. It was not sent again, so the customer does not get it a "
            "third time; check with them or send it again.",
            permanent=True,
            code="outcome_unknown",
        )
    return None


def _fail_unstarted(lease: Lease, message: Message, error: ProviderError) -> bool:
    """Fail a message without another attempt; False if it changed meanwhile."""
    failed = _take(
        lease,
        message,
        status=MessageStatus.FAILED,
        error_code=error.code,
        error_text=error.message,
        next_attempt_at=None,
        attempt_lease=None,
        unknown_outcomes=message.unknown_outcomes,
    )
    if failed:
        message.status = MessageStatus.FAILED
        message.attempt_lease = None
        logger.warning("message %s failed without another attempt: %s", message.pk, error.message)
    return failed


def _found_unknown(message: Message, lease: Lease) -> bool:
    """Whether an earlier attempt on the message never recorded its outcome (its worker
    died, or lost the contact, mid-call); counted once, here."""
    if message.attempt_lease is None or message.attempt_lease == lease.token:
        return False
    message.unknown_outcomes += 1
    return True


# --- inbound: customer → inbox ---------------------------------------------------------


def _relay_inbound(lease: Lease, contact: Contact, backlog: _Backlog, result: RelayResult) -> None:
    channel = contact.channel
    workspace = channel.workspace
    if workspace.status != Status.ACTIVE:
        # Held until the workspace is reconnected; the sweeper wakes it up then.
        result.waiting = _head(contact, Direction.INBOUND, MessageStatus.RECEIVED) is not None
        return
    inbox = inbox_adapter(workspace.provider)
    # Read once a batch: the conversation to append to (then the one each delivery
    # went to), the workspace's default admin, whether the customer is new.
    conversation: Conversation | None = None
    looked_up = False
    admin_id: str | None = None
    first_time: bool | None = None
    for _ in range(BATCH):
        if lease.out_of_time():
            result.more = True
            return
        message = backlog.head(Direction.INBOUND)
        if message is None:
            result.drained.append(Direction.INBOUND)
            return
        if not _due(message):
            result.waiting = True
            return
        if _found_unknown(message, lease):
            logger.warning(
                "message %s: an earlier attempt to relay it stopped mid-call; the inbox is "
                "checked for it before it is posted again",
                message.pk,
            )
        if refusal := _refusal(message):
            failed = _fail_unstarted(lease, message, refusal)
            result.failed += failed
            backlog.done(Direction.INBOUND) if failed else backlog.forget(Direction.INBOUND)
            continue
        if not looked_up:
            conversation, looked_up = _current_conversation(contact), True
        if admin_id is None:
            if "default_admin_id" in vars(contact):  # read with the contact
                admin_id = contact.default_admin_id or ""
            else:
                admin_id = default_admin_id(workspace)
        # Any earlier attempt may have landed: the inbox looks before posting again.
        earlier_attempt = message.attempts > 0
        if not _start_attempt(lease, message):
            backlog.forget(Direction.INBOUND)
            continue
        calling = False
        try:
            delivery = inbox_delivery(
                contact, message, conversation, reconcile=earlier_attempt, admin_id=admin_id
            )
            with inbox_call(workspace):
                tokens = workspace_tokens(workspace=workspace)
                calling = True
                refs = inbox.deliver(tokens=tokens, delivery=delivery)
        except ProviderError as error:
            if error.unauthorized:
                # The workspace is now Needs reconnect: hold everything; this attempt
                # does not count against the message.
                _record(lease, message, attempts=F("attempts") - 1, next_attempt_at=None)
                result.waiting = True
                return
            if error.permanent or not _postpone(lease, message, error):
                logger.warning("message %s not relayed: %s", message.pk, error.message)
                _fail(lease, message, error)
                result.failed += 1
                backlog.done(Direction.INBOUND)
                continue
            result.waiting = True
            return
        except DatabaseError:
            if not calling:
                _take_back_later(lease, message)
            raise  # otherwise the attempt stays in flight; the next one checks the inbox
        except Exception:
            # A fault of ours with this message (not the provider's): it is retried like
            # a transient failure and fails after its attempts, never blocking the
            # customer's later messages for good.
            logger.exception("message %s: relaying it failed unexpectedly", message.pk)
            error = ProviderError(
                "Octopods failed to relay this message (an internal error).",
                permanent=False,
                code="internal",
            )
            if not _postpone(lease, message, error):
                _fail(lease, message, error)
                result.failed += 1
                backlog.done(Direction.INBOUND)
                continue
            result.waiting = True
            return
        if first_time is None and channel.welcome_enabled:
            first_time = not Message.objects.filter(
                contact=contact, direction=Direction.INBOUND, status=MessageStatus.RELAYED
            ).exists()
        else:
            first_time = False
        conversation = _record_delivery(lease, contact, message, refs, known=conversation)
        backlog.done(Direction.INBOUND)
        result.relayed += 1
        if _automations(contact, conversation, message, first_time=first_time):
            backlog.forget(Direction.OUTBOUND)  # replies of its own to send
    result.more = True


def inbox_delivery(
    contact: Contact,
    message: Message,
    conversation: Conversation | None,
    *,
    reconcile: bool,
    admin_id: str | None = None,
) -> InboxDelivery:
    """What the inbox is given for one customer message."""
    channel = contact.channel
    workspace = channel.workspace
    body, attachments = _inbox_content(message)
    return InboxDelivery(
        customer=InboxCustomer(
            external_id=contact.inbox_external_id,
            name=contact.name,
            phone=contact.phone_e164,
            inbox_contact_id=contact.inbox_contact_id,
        ),
        body=body,
        attachment_urls=attachments,
        conversation_id=conversation.inbox_conversation_id if conversation else "",
        tag=channel.name,
        match=workspace.contact_match,
        reconcile=reconcile,
        admin_id=default_admin_id(workspace) if admin_id is None else admin_id,
        channel_account_id=channel.inbox_channel_id,
        channel_identity=channel.identity,
        idempotency_key=f"octopods-{message.pk}",
        sent_at=message.sent_at,
    )


def _current_conversation(contact: Contact) -> Conversation | None:
    """The conversation to append to: the latest, unless it was closed longer ago than
    the channel's "new conversation after"."""
    latest = contact.conversations.order_by("-created_at", "-pk").first()
    if latest is None:
        return None
    closed_long_ago = (
        not latest.open
        and latest.closed_at is not None
        and timezone.now() - latest.closed_at >= contact.channel.new_conversation_after
    )
    return None if closed_long_ago else latest


def _record_delivery(
    lease: Lease, contact: Contact, message: Message, refs, *, known: Conversation | None = None
):
    """Record a message the inbox took (fenced like every outcome, retried through
    database errors); returns its conversation. When it went to ``known``, an open
    conversation already recorded, the message's row is the only write."""
    if (
        known is not None
        and known.open
        and known.inbox_conversation_id == refs.conversation_id
        and contact.inbox_contact_id == refs.contact_id
    ):
        conversation = known

        def write():
            with _one_statement():
                return _relayed(message, lease, conversation, refs)

    else:

        def write():
            with transaction.atomic():
                conversation, _ = Conversation.objects.update_or_create(
                    workspace=contact.channel.workspace,
                    inbox_conversation_id=refs.conversation_id,
                    defaults={"contact": contact, "open": True, "closed_at": None},
                )
                if contact.inbox_contact_id != refs.contact_id:
                    Contact.objects.filter(pk=contact.pk).update(
                        inbox_contact_id=refs.contact_id, updated_at=timezone.now()
                    )
                if not _relayed(message, lease, conversation, refs):
                    # Undo the conversation too: the worker that has the message now
                    # checks the inbox and records it.
                    transaction.set_rollback(True)
                    return None
                return conversation

    conversation = _retrying(write, what=f"delivery of message {message.pk}", defer=True)
    lease.in_flight = None
    if conversation is None:
        logger.warning(
            "message %s: relayed (inbox part %s) but another worker has taken it over; "
            "it finds the part in the inbox",
            message.pk,
            refs.part_id,
        )
        raise LeaseLost
    contact.inbox_contact_id = refs.contact_id
    message.status = MessageStatus.RELAYED
    message.conversation = conversation
    message.inbox_part_id = refs.part_id
    message.attempt_lease = None
    return conversation


def _relayed(message: Message, lease: Lease, conversation: Conversation, refs):
    """Mark this claim's attempt on ``message`` relayed; the conversation, or None if
    the attempt is no longer this claim's."""
    recorded = Message.objects.filter(pk=message.pk, attempt_lease=lease.token).update(
        status=MessageStatus.RELAYED,
        conversation=conversation,
        inbox_part_id=refs.part_id,
        next_attempt_at=None,
        error_code="",
        error_text="",
        attempt_lease=None,
        updated_at=timezone.now(),
    )
    return conversation if recorded == 1 else None


def default_admin_id(workspace) -> str:
    admin = InboxAdmin.objects.filter(workspace=workspace).order_by("pk").first()
    return admin.external_id if admin else ""


def _inbox_content(message: Message) -> tuple[str, tuple[str, ...]]:
    """What the inbox shows for a customer's message: text for what it cannot render
    (locations, contact cards, reactions, unknown types), files as links to us."""
    data = message.data
    kind = message.type
    text = message.text
    if kind == "location":
        place = data.get("location", {})
        lat, lon = place.get("latitude"), place.get("longitude")
        lines = [f"📍 {place['name']}" if place.get("name") else "📍 Location"]
        if place.get("address"):
            lines.append(place["address"])
        lines.append(f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}")
        return "\n".join(lines), ()
    if kind == "contacts":
        cards = []
        for card in data.get("contacts", []):
            details = ", ".join([*card.get("phones", []), *card.get("emails", [])])
            cards.append(
                f"👤 {card.get('name') or 'Contact'}" + (f": {details}" if details else "")
            )
        return "\n".join(cards) or "👤 Contact card", ()
    if kind == "reaction":
        reaction = data.get("reaction", {})
        quoted = _quoted(message, reaction.get("message_id", ""))
        if not reaction.get("emoji"):
            return f"Removed their reaction{f' to: {quoted}' if quoted else ''}", ()
        return f"Reacted {reaction['emoji']}{f' to: {quoted}' if quoted else ''}", ()
    if kind == "unsupported":
        named = data.get("provider_type") or "message"
        return f"[The customer sent a {named} message, which cannot be shown here.]", ()
    if kind in MEDIA_TYPES and "media" in data:
        try:
            url, is_image = _carry_media(message)
        except ProviderError as error:
            if not error.permanent:
                raise  # try again later, with the rest of the customer's messages waiting
            # The file is gone or too large: say so rather than drop the message.
            note = f"[The customer sent a {kind} that could not be fetched: {error.message}]"
            return "\n".join(part for part in (text, note) if part), ()
        label = {"voice": "🎤 Voice message", "audio": "🎵 Audio", "video": "🎬 Video"}.get(
            kind, "📎 " + (data["media"].get("filename") or kind.capitalize())
        )
        if is_image:
            return text or ("Sticker" if kind == "sticker" else "Photo"), (url,)
        return "\n".join(part for part in (text, f"{label}: {url}") if part), ()
    if data.get("reply_to"):
        quoted = _quoted(message, data["reply_to"])
        if quoted:
            text = f"> {quoted}\n{text}"
    return text or f"[{kind}]", ()


def _quoted(message: Message, provider_message_id: str) -> str:
    if not provider_message_id:
        return ""
    earlier = (
        Message.objects.filter(
            channel_id=message.channel_id, provider_message_id=provider_message_id
        )
        .values_list("text", flat=True)
        .first()
    )
    return (earlier or "")[:200]


def _carry_media(message: Message) -> tuple[str, bool]:
    """Fetch the customer's file from the provider once, keep it in our storage and
    return a signed link to it (and whether it is an image the inbox can show)."""
    stored = message.data.get("stored_media")
    if not stored:
        channel = message.channel
        adapter = channel_adapter(channel.kind)
        media = Media(**message.data["media"])
        fetched = adapter.fetch_media(
            credentials=adapter.credentials(channel.credentials_data),
            media=media,
            max_bytes=settings.MEDIA_MAX_BYTES,
        )
        name = _typed_name(
            fetched.filename or media.filename or f"{message.type}-{message.pk}",
            fetched.mime_type,
        )
        path = default_storage.save(
            f"media/{channel.pk}/{message.pk}/{name}", ContentFile(fetched.content)
        )
        stored = {"path": path, "mime_type": fetched.mime_type, "name": name}
        message.data = {**message.data, "stored_media": stored}
        message.save(update_fields=["data", "updated_at"])
    return media_url(stored["path"]), stored["mime_type"].startswith(INTERCOM_IMAGE_TYPES)


def _typed_name(name: str, mime_type: str) -> str:
    """The file's name with an extension for its type: photos from WhatsApp or an MMS
    come without a name, and both the inbox and our media link's Content-Type go by the
    extension (without one, a photo is served and shown as an unknown download)."""
    if PurePosixPath(name).suffix:
        return name
    extension = mimetypes.guess_extension(mime_type.split(";", 1)[0].strip().lower())
    return name + (extension or "")


def media_url(path: str) -> str:
    token = signing.dumps(path, salt=MEDIA_SALT, compress=True)
    # The link ends with the file's name: an inbox names the attachment from its URL.
    name = PurePosixPath(path).name
    return settings.PUBLIC_BASE_URL + reverse("channels:media", args=[token, name])


def media_path(token: str) -> str | None:
    try:
        return signing.loads(token, salt=MEDIA_SALT, max_age=MEDIA_LINK_MAX_AGE)
    except signing.BadSignature:
        return None


# --- automations ---------------------------------------------------------------------


def _automations(
    contact: Contact, conversation: Conversation, message: Message, *, first_time
) -> int:
    """Welcome a first-time customer; answer outside opening hours, once a day per
    conversation. Both go out on the channel like an agent reply (and are shown in the
    conversation as a note, so the team sees what the customer was told). Returns how
    many replies were queued."""
    channel = contact.channel
    replies = []
    if first_time and channel.welcome_enabled and channel.welcome_message:
        replies.append(("welcome", channel.welcome_message))
    if (
        channel.away_enabled
        and channel.away_message
        and not channel_is_open(channel=channel, at=message.sent_at or timezone.now())
    ):
        now = timezone.now()
        updated = (
            Conversation.objects.filter(pk=conversation.pk)
            .filter(Q(away_sent_at__isnull=True) | Q(away_sent_at__lte=now - timedelta(days=1)))
            .update(away_sent_at=now)
        )
        if updated:
            replies.append(("away", channel.away_message))
    for kind, text in replies:
        Message.objects.create(
            channel=channel,
            contact=contact,
            conversation=conversation,
            direction=Direction.OUTBOUND,
            origin=Origin.AUTOMATION,
            type="text",
            text=text,
            data={"automation": kind},
            status=MessageStatus.PENDING,
        )
    return len(replies)


# --- outbound: agent → customer ------------------------------------------------------


def _relay_outbound(lease: Lease, contact: Contact, backlog: _Backlog, result: RelayResult) -> None:
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
        if not _due(message):
            result.waiting = True
            return
        resending = _found_unknown(message, lease)
        if refusal := _refusal(message):
            if _fail_unstarted(lease, message, refusal):
                result.failed += 1
                backlog.done(Direction.OUTBOUND)
                _note_failure(contact, message, refusal)
            else:
                backlog.forget(Direction.OUTBOUND)
            continue
        if not _start_attempt(lease, message):
            backlog.forget(Direction.OUTBOUND)
            continue
        if resending:
            # No channel takes an idempotency key: the customer may get it twice. Once
            # more at most (see _refusal).
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
            if error.permanent or not _postpone(lease, message, error):
                _fail(lease, message, error)
                result.failed += 1
                backlog.done(Direction.OUTBOUND)
                _note_failure(contact, message, error)
                continue
            result.waiting = True
            return
        except DatabaseError:
            if not calling:
                _take_back_later(lease, message)
            raise  # otherwise the attempt stays in flight: its outcome is unknown
        except Exception:
            # Did it go out? Nobody can tell (the error may have come after the call):
            # an unknown outcome, sent at most once more.
            logger.exception("message %s: sending it failed unexpectedly", message.pk)
            _record(
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
        _record_sent(
            lease,
            message,
            provider_id,
            status=MessageStatus.SENT if adapter.delivery_receipts else MessageStatus.DELIVERED,
        )
        backlog.done(Direction.OUTBOUND)
        result.sent += 1
        if message.origin == Origin.AUTOMATION:
            _note_automation(contact, message)
        elif message.origin == Origin.AGENT and ":" not in message.inbox_part_id:
            _reply_outcome(contact, message)
    result.more = True


def _record_sent(lease: Lease, message: Message, provider_id: str, *, status: str) -> None:
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
            _record(lease, message, provider_message_id=provider_id, **fields)
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
    _record(lease, message, **fields)


def _outbound(adapter, contact: Contact, message: Message) -> OutboundMessage:
    channel = contact.channel
    data = message.data
    if message.origin == Origin.AGENT:
        html = data.get("body_html", "")
        signature = signature_render(channel=channel, agent_name=data.get("admin_name", ""))
        if html and signature:
            html += "<p></p>" + _plain_html(signature)
    else:
        html = _plain_html(message.text)
    # Everything goes through the channel's formatter, our own texts too: a bare "&" or
    # "<" in a signature would otherwise break Telegram's HTML.
    text = adapter.format_html(html) if html else ""
    media = None
    if attachment := data.get("attachment"):
        media = OutboundMedia(
            url=attachment["url"],
            mime_type=attachment.get("content_type", ""),
            filename=attachment.get("name", ""),
        )
    return OutboundMessage(
        to=contact.external_id,
        text=text,
        media=media,
        status_callback=channel_webhook_url(channel=channel),
    )


def _plain_html(text: str) -> str:
    return "".join(f"<p>{escape(line)}</p>" for line in text.splitlines())


def _note(contact: Contact, message: Message, body: str) -> None:
    conversation = message.conversation
    workspace = contact.channel.workspace
    if conversation is None or workspace.status != Status.ACTIVE:
        return
    admin_id = message.data.get("admin_id") or default_admin_id(workspace)
    try:
        with inbox_call(workspace):
            inbox_adapter(workspace.provider).post_note(
                tokens=workspace_tokens(workspace=workspace),
                conversation_id=conversation.inbox_conversation_id,
                admin_id=admin_id,
                body=body,
                customer_external_id=contact.inbox_external_id,
                channel_account_id=contact.channel.inbox_channel_id,
            )
    except ProviderError as error:
        logger.warning("note for message %s not posted: %s", message.pk, error.message)


def _note_failure(contact: Contact, message: Message, error: ProviderError) -> None:
    label = channel_adapter(contact.channel.kind).label
    what = "The automatic reply" if message.origin == Origin.AUTOMATION else "This reply"
    explanation = f"⚠️ {what} was not delivered on {label} ({contact.channel.name}). {error.message}"
    if message.origin == Origin.AGENT:
        _reply_outcome(contact, message, error=explanation)
    else:
        _note(contact, message, explanation)


def _reply_outcome(contact: Contact, message: Message, *, error: str = "") -> None:
    """Tell the inbox what became of an agent's reply (a failure: in plain words)."""
    conversation = message.conversation
    workspace = contact.channel.workspace
    if conversation is None or workspace.status != Status.ACTIVE:
        return
    try:
        with inbox_call(workspace):
            inbox_adapter(workspace.provider).reply_outcome(
                tokens=workspace_tokens(workspace=workspace),
                conversation_id=conversation.inbox_conversation_id,
                part_id=message.inbox_part_id.split(":", 1)[0],
                admin_id=message.data.get("admin_id") or default_admin_id(workspace),
                error=error,
            )
    except ProviderError as failure:
        logger.warning("outcome of message %s not reported: %s", message.pk, failure.message)


def _note_automation(contact: Contact, message: Message) -> None:
    what = {"welcome": "Welcome message", "away": "Out-of-office reply"}.get(
        message.data.get("automation", ""), "Automatic reply"
    )
    _note(contact, message, f"{what} sent to the customer: {message.text}")


# --- finding work ----------------------------------------------------------------------


def contacts_due(*, limit: int = 1000) -> list[int]:
    """Contacts with a message whose time has come and no worker on them: the sweeper
    wakes each. Messages of workspaces that are not Active wait."""
    now = timezone.now()
    return list(
        Message.objects.filter(status__in=[MessageStatus.RECEIVED, MessageStatus.PENDING])
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(contact__relay_lease_until__isnull=True) | Q(contact__relay_lease_until__lt=now))
        .filter(channel__workspace__status=Status.ACTIVE)
        .values_list("contact_id", flat=True)
        .distinct()[:limit]
    )
