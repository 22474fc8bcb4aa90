"""The relay's claim on a contact: a lease that is a fencing token.

One worker relays a contact at a time. It claims the contact with one UPDATE that
succeeds for one worker only and writes a token of this claim alone
(``Contact.relay_lease_token``) with the lease's end. The holder renews the lease
whenever it starts a message, and the keeper below renews it meanwhile —
during a provider call that takes longer than the lease, say — for as long as the
worker's process lives. Only the holder releases it. Each message the holder starts
carries the token (``Message.attempt_lease``) and the end of the lease as its
``next_attempt_at``: nobody else starts it again while it is in flight, and only this
claim can record its outcome (the relay's writes are conditioned on the token). A
worker that dies stops renewing: its lease and its message's window run out, and the
next worker takes over.
"""

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import DatabaseError, connections
from django.utils import timezone

from channels.models import Contact, Message
from octopods import prepared

logger = logging.getLogger(__name__)


class LeaseLost(Exception):
    """This worker no longer holds the contact (its lease ran out and another worker
    claimed it): it starts nothing more; the holder carries on."""


@dataclass
class Lease:
    """One claim on a contact: its fencing token, the moment (monotonic) after which
    the holder starts no new attempt and hands the contact back, and the message it
    has in flight, if any."""

    contact_id: int
    token: uuid.UUID
    batch_ends: float
    in_flight: int | None = None

    def out_of_time(self) -> bool:
        return clock() >= self.batch_ends


clock = time.monotonic  # tests run the batch on a clock of their own


def lease_end():
    return timezone.now() + timedelta(seconds=settings.RELAY_LEASE_SECONDS)


def claim(contact_id: int) -> Lease | None:
    """Take the contact if nobody holds it (or a holder's lease ran out): one UPDATE,
    which succeeds for one worker only, with a token of this claim alone."""
    token = uuid.uuid4()
    until = partial(prepared.value, Contact, "relay_lease_until")
    claimed = prepared.write(
        _CLAIM,
        [until(lease_end()), _token(token), contact_id, until(timezone.now())],
        c=Contact,
    )
    if not claimed:
        return None
    # Work for a quarter of the lease, then hand the contact back (and wake it again):
    # a batch never outlives the lease, however slow the providers are.
    lease = Lease(contact_id, token, clock() + settings.RELAY_LEASE_SECONDS / 4)
    keeper.hold(lease)
    return lease


def renew(lease: Lease) -> bool:
    """Extend the lease if this claim still holds it. Inside a transaction, the row
    stays locked until it commits: a worker trying to claim the contact waits, then
    finds the lease renewed."""
    return (
        Contact.objects.filter(pk=lease.contact_id, relay_lease_token=lease.token).update(
            relay_lease_until=lease_end()
        )
        == 1
    )


def release(lease: Lease) -> None:
    """Give the contact back — only if this claim still holds it. If the database is
    away (the relay was cut off by a restart, say), the keeper gives it back as soon as
    the database answers again, rather than leaving the contact to wait for the lease
    to run out."""
    keeper.drop(lease)
    try:
        _give_back(lease)
    except DatabaseError:
        logger.warning(
            "contact %s: lease not released yet (database unavailable); releasing it once "
            "the database is back",
            lease.contact_id,
        )
        keeper.later(lambda: _give_back(lease), what=f"release of contact {lease.contact_id}")


def _give_back(lease: Lease) -> None:
    prepared.write(_GIVE_BACK, [lease.contact_id, _token(lease.token)], c=Contact)


def _token(token: uuid.UUID):
    return prepared.value(Contact, "relay_lease_token", token)


# The claim and the give-back, once per contact a worker takes: written out once
# rather than built by the ORM each time (octopods/prepared.py).
_CLAIM = """
UPDATE {c} SET {c.relay_lease_until} = %s, {c.relay_lease_token} = %s
WHERE {c.pk} = %s AND ({c.relay_lease_until} IS NULL OR {c.relay_lease_until} < %s)
"""
_GIVE_BACK = """
UPDATE {c} SET {c.relay_lease_until} = NULL, {c.relay_lease_token} = NULL
WHERE {c.pk} = %s AND {c.relay_lease_token} = %s
"""


class Keeper:
    """Renews every lease this process holds, a third of the way through each term, so
    a live worker never loses a contact to a slow provider call (a dead process renews
    nothing, and its leases run out); and gives back, as soon as the database answers
    again, what a database outage kept a worker from writing: a lease to release, an
    attempt to take back or a provider's answer to record. One thread per process,
    started with the first claim."""

    RETRY_SECONDS = 0.5

    def __init__(self):
        self._leases: dict[uuid.UUID, Lease] = {}
        # Writes a database outage held up, oldest first: (write, give up at, what).
        self._pending: list[tuple[Callable[[], object], float, str]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self, lease: Lease) -> None:
        with self._lock:
            self._leases[lease.token] = lease
        self._start()

    def drop(self, lease: Lease) -> None:
        with self._lock:
            self._leases.pop(lease.token, None)

    def later(self, write: Callable[[], object], *, what: str) -> None:
        """Make ``write`` as soon as the database answers again, in the order given. A
        write still waiting after a lease's term is dropped: by then the lease has run
        out and its message is found as one whose outcome is unknown."""
        with self._lock:
            self._pending.append((write, clock() + settings.RELAY_LEASE_SECONDS, what))
        self._start()
        self._wake.set()

    def held(self) -> list[Lease]:
        with self._lock:
            return list(self._leases.values())

    def renew_all(self) -> int:
        """Renew every lease held here (and the window of the message each has in
        flight); returns how many were still held. Leases another worker has taken
        are dropped."""
        kept = 0
        for lease in self.held():
            if not renew(lease):
                self.drop(lease)
                continue
            kept += 1
            if lease.in_flight is not None:
                Message.objects.filter(pk=lease.in_flight, attempt_lease=lease.token).update(
                    next_attempt_at=lease_end()
                )
        return kept

    def forget(self) -> None:
        """Drop everything held and pending (a test's leftovers)."""
        with self._lock:
            self._leases.clear()
            self._pending.clear()

    def write_pending(self) -> int:
        """Make the writes a database outage held up; returns how many still wait (the
        database is still away: the error is raised)."""
        while True:
            with self._lock:
                if not self._pending:
                    return 0
                write, give_up_at, what = self._pending[0]
            if clock() < give_up_at:
                write()  # raises while the database is away
                logger.info("%s: written after the database came back", what)
            else:
                logger.warning("%s: given up, the database was away too long", what)
            with self._lock:
                self._pending.pop(0)

    def _start(self) -> None:
        if not settings.RELAY_LEASE_KEEPER:
            return  # the test suite renews and releases by hand
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="relay-lease-keeper", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        term = max(settings.RELAY_LEASE_SECONDS / 3, 0.1)
        next_renewal = clock() + term
        while True:
            self._wake.wait(self.RETRY_SECONDS if self._pending else term)
            self._wake.clear()
            try:
                if self._pending:
                    self.write_pending()
                if clock() >= next_renewal:
                    next_renewal = clock() + term
                    if self.held():
                        self.renew_all()
            except Exception:
                # The database is away: leases run out if it stays away, as they must.
                logger.warning("relay leases not renewed or released this time", exc_info=True)
            finally:
                connections.close_all()


keeper = Keeper()
