"""What waits for a contact, read ahead in both directions, and what one run of the
relay did with it."""

import logging
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from channels.models import Contact, Direction, Message, MessageStatus
from octopods.prepared import Prepared
from workspaces.models import Status

logger = logging.getLogger(__name__)


# Messages one task relays per direction before handing the contact back: a long
# backlog never runs into the task's time limit.
BATCH = 50


@dataclass
class RelayResult:
    relayed: int = 0
    sent: int = 0
    failed: int = 0
    waiting: bool = False  # something is due later (backing off) or the inbox is offline
    more: bool = False  # stopped at the batch size with work left: wake it again
    # The directions this run relayed everything of that it could see.
    drained: list[str] = field(default_factory=list)


WAITING_STATUS = {
    Direction.INBOUND: MessageStatus.RECEIVED,
    Direction.OUTBOUND: MessageStatus.PENDING,
}


def arrived_meanwhile(contact_id: int, directions: list[str]) -> bool:
    return (
        Message.objects.filter(contact_id=contact_id)
        .filter(waiting_filter({d: WAITING_STATUS[d] for d in directions}))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now()))
        .exists()
    )


def head(contact: Contact, direction: str, status: str) -> Message | None:
    return (
        Message.objects.filter(contact=contact, direction=direction, status=status)
        .order_by("created_at", "pk")
        .first()
    )


# Messages read ahead in one query: a backlog costs a SELECT per this many, not per
# message.
READ_AHEAD = 10


_both_ways = Prepared(
    lambda contact, in_, received, out, pending: (
        Message.objects.filter(contact_id=contact)
        .filter(Q(direction=in_, status=received) | Q(direction=out, status=pending))
        .order_by("created_at", "pk")[:READ_AHEAD]
    ),
    int,
    str,
    str,
    str,
    str,
)
_one_way = Prepared(
    lambda contact, direction, status: Message.objects.filter(
        contact_id=contact, direction=direction, status=status
    ).order_by("created_at", "pk")[:READ_AHEAD],
    int,
    str,
    str,
)


class Backlog:
    """A contact's waiting messages, both directions, oldest first, read ahead: the
    first read takes both directions at once, later ones the direction that needs more.
    The holder of the lease is the only one that starts them, so what was read stays
    true until this claim changes it; after anything unexpected (a message that changed
    meanwhile), ``forget()`` reads that direction afresh. A direction whose read came
    back short has nothing more to see: what arrives later is found by the look after
    the contact is given back (``arrived_meanwhile``)."""

    def __init__(self, contact: Contact):
        self.contact = contact
        self._ahead: dict[str, list[Message]] = {}
        self._exhausted: set[str] = set()
        self._first = True

    def _fill(self, direction: str) -> None:
        if self._first:
            self._first = False
            both = _both_ways.all(
                self.contact.pk,
                Direction.INBOUND,
                WAITING_STATUS[Direction.INBOUND],
                Direction.OUTBOUND,
                WAITING_STATUS[Direction.OUTBOUND],
            )
            for each in WAITING_STATUS:
                self._ahead[each] = [m for m in both if m.direction == each]
            if len(both) < READ_AHEAD:
                self._exhausted.update(WAITING_STATUS)
            return
        read = _one_way.all(self.contact.pk, direction, WAITING_STATUS[direction])
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


def waiting_filter(statuses: dict) -> Q:
    waiting = Q()
    for direction, status in statuses.items():
        waiting |= Q(direction=direction, status=status)
    return waiting


def due_messages(now=None):
    """Every message waiting to be relayed whose time has come (never tried, or its
    retry's time is past), in either direction, of Active workspaces (the others' wait
    by design): what the sweeper wakes (engine.contacts_due) and what /readyz measures
    the age of (octopods/health.py)."""
    now = now or timezone.now()
    return (
        Message.objects.filter(status__in=list(WAITING_STATUS.values()))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(channel__workspace__status=Status.ACTIVE)
    )


def due(message: Message) -> bool:
    return message.next_attempt_at is None or message.next_attempt_at <= timezone.now()
