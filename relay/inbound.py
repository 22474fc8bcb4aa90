"""Inbound: a customer's messages into the workspace's inbox, in order, and the
automatic replies a message may call for (welcome, out of office)."""

import logging
from datetime import timedelta
from functools import partial

from django.db import (
    DatabaseError,
    transaction,
)
from django.db.models import F, Q
from django.utils import timezone

from channels.automations import channel_is_open
from channels.models import Contact, Conversation, Direction, Message, MessageStatus, Origin
from integrations.base import InboxCustomer, InboxDelivery, ProviderError
from octopods import logs, metrics, prepared
from octopods.prepared import Prepared
from workspaces.models import Status

from .attempts import (
    fail,
    fail_unstarted,
    found_unknown,
    one_statement,
    postpone,
    record,
    refused,
    retrying,
    start_attempt,
    take_back_later,
)
from .backlog import BATCH, Backlog, RelayResult, due, head
from .content import inbox_content
from .inbox import WorkspaceInbox, default_admin_id
from .lease import Lease, LeaseLost
from .signals import conversation_opened

logger = logging.getLogger(__name__)


def relay_inbound(lease: Lease, contact: Contact, backlog: Backlog, result: RelayResult) -> None:
    channel = contact.channel
    workspace = channel.workspace
    if workspace.status != Status.ACTIVE:
        # Held until the workspace is reconnected; the sweeper wakes it up then.
        result.waiting = head(contact, Direction.INBOUND, MessageStatus.RECEIVED) is not None
        return
    inbox = WorkspaceInbox(workspace)
    # Read once a batch: the conversation to append to (then the one each delivery
    # went to), the workspace's default admin, whether the customer is new.
    conversation: Conversation | None = None
    looked_up = False
    admin_id = contact.default_admin_id or ""  # read with the contact (relay/engine.py)
    first_time: bool | None = None
    for _ in range(BATCH):
        if lease.out_of_time():
            result.more = True
            return
        message = backlog.head(Direction.INBOUND)
        if message is None:
            result.drained.append(Direction.INBOUND)
            return
        logs.follow(message)  # its lines, and its provider calls, carry its id
        if not due(message):
            result.waiting = True
            return
        if found_unknown(message, lease):
            logger.warning(
                "message %s: an earlier attempt to relay it stopped mid-call; the inbox is "
                "checked for it before it is posted again",
                message.pk,
            )
        if refusal := refused(message):
            failed = fail_unstarted(lease, message, refusal)
            result.failed += failed
            metrics.failed(channel.kind, Direction.INBOUND, int(failed))
            backlog.done(Direction.INBOUND) if failed else backlog.forget(Direction.INBOUND)
            continue
        if not looked_up:
            conversation, looked_up = current_conversation(contact), True
        # Any earlier attempt may have landed: the inbox looks before posting again.
        earlier_attempt = message.attempts > 0
        if not start_attempt(lease, message):
            backlog.forget(Direction.INBOUND)
            continue
        called = []
        try:
            delivery = inbox_delivery(
                contact, message, conversation, reconcile=earlier_attempt, admin_id=admin_id
            )
            refs = inbox.deliver(delivery, calling=partial(called.append, True))
        except ProviderError as error:
            if error.unauthorized:
                # The workspace is now Needs reconnect: hold everything; this attempt
                # does not count against the message.
                record(lease, message, attempts=F("attempts") - 1, next_attempt_at=None)
                result.waiting = True
                return
            if _gave_up(lease, message, error, result, backlog):
                metrics.failed(channel.kind, Direction.INBOUND)
                logger.warning("message %s not relayed: %s", message.pk, error.message)
                continue
            return
        except DatabaseError:
            if not called:
                take_back_later(lease, message)
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
            if _gave_up(lease, message, error, result, backlog):
                metrics.failed(channel.kind, Direction.INBOUND)
                continue
            return
        if first_time is None and channel.welcome_enabled:
            first_time = not Message.objects.filter(
                contact=contact, direction=Direction.INBOUND, status=MessageStatus.RELAYED
            ).exists()
        else:
            first_time = False
        conversation = record_delivery(lease, contact, message, refs, known=conversation)
        backlog.done(Direction.INBOUND)
        logger.info(
            "message %s relayed to the inbox (part %s)",
            message.pk,
            refs.part_id,
            extra={"message_id": message.pk, "contact_id": contact.pk},
        )
        result.relayed += 1
        metrics.relayed(channel.kind, Direction.INBOUND)
        if automations(contact, conversation, message, first_time=first_time):
            backlog.forget(Direction.OUTBOUND)  # replies of its own to send
    result.more = True


def _gave_up(lease: Lease, message: Message, error: ProviderError, result, backlog) -> bool:
    """After a failed attempt: back off (False: the contact waits), or fail the message
    when the error is permanent or it has had its attempts (True: the next one goes)."""
    if not error.permanent and postpone(lease, message, error):
        result.waiting = True
        return False
    fail(lease, message, error)
    result.failed += 1
    backlog.done(Direction.INBOUND)
    return True


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
    body, attachments = inbox_content(message)
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


_latest_conversation = Prepared(
    lambda contact: Conversation.objects.filter(contact_id=contact).order_by("-created_at", "-pk")[
        :1
    ],
    int,
)


def current_conversation(contact: Contact) -> Conversation | None:
    """The conversation to append to: the latest, unless it was closed longer ago than
    the channel's "new conversation after"."""
    latest = _latest_conversation.first(contact.pk)
    if latest is None:
        return None
    closed_long_ago = (
        not latest.open
        and latest.closed_at is not None
        and timezone.now() - latest.closed_at >= contact.channel.new_conversation_after
    )
    return None if closed_long_ago else latest


def record_delivery(
    lease: Lease, contact: Contact, message: Message, refs, *, known: Conversation | None = None
):
    """Record a message the inbox took (fenced like every outcome, retried through
    database errors); returns its conversation. When it went to ``known``, an open
    conversation already recorded, the message's row is the only write. A conversation
    the inbox opened is announced (relay.signals.conversation_opened) once recorded."""
    opened: list[Conversation] = []
    if (
        known is not None
        and known.open
        and known.inbox_conversation_id == refs.conversation_id
        and contact.inbox_contact_id == refs.contact_id
    ):
        conversation = known

        def write():
            with one_statement():
                return _relayed(message, lease, conversation, refs)

    else:

        def write():
            opened.clear()
            with transaction.atomic():
                conversation, created = Conversation.objects.update_or_create(
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
                if created:
                    opened.append(conversation)
                return conversation

    conversation = retrying(write, what=f"delivery of message {message.pk}", defer=True)
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
    for new in opened:
        for receiver, outcome in conversation_opened.send_robust(
            sender=Conversation, contact=contact, conversation=new
        ):
            if isinstance(outcome, Exception):
                logger.error(
                    "conversation %s: %r failed after it opened",
                    new.inbox_conversation_id,
                    receiver,
                    exc_info=outcome,
                )
    message.status = MessageStatus.RELAYED
    message.conversation = conversation
    message.inbox_part_id = refs.part_id
    message.attempt_lease = None
    return conversation


# The delivery's record, written out once (octopods/prepared.py).
_RELAYED = """
UPDATE {m} SET {m.status} = %s, {m.conversation_id} = %s, {m.inbox_part_id} = %s,
    {m.next_attempt_at} = NULL, {m.error_code} = '', {m.error_text} = '',
    {m.attempt_lease} = NULL, {m.updated_at} = %s
WHERE {m.pk} = %s AND {m.attempt_lease} = %s
"""


def _relayed(message: Message, lease: Lease, conversation: Conversation, refs):
    """Mark this claim's attempt on ``message`` relayed; the conversation, or None if
    the attempt is no longer this claim's."""
    recorded = prepared.write(
        _RELAYED,
        [
            MessageStatus.RELAYED,
            conversation.pk,
            refs.part_id,
            prepared.value(Message, "updated_at", timezone.now()),
            message.pk,
            prepared.value(Message, "attempt_lease", lease.token),
        ],
        m=Message,
    )
    return conversation if recorded else None


def automations(
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
            data=logs.stamped({"automation": kind}),  # the customer message's id
            status=MessageStatus.PENDING,
        )
    return len(replies)
