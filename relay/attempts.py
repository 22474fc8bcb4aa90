"""Attempts: each started under the contact's lease and counted before the call, its
outcome fenced by the lease's token, retried through database errors, backed off after a
transient failure, failed after MAX_ATTEMPTS."""

import logging
import random
import threading
import time
from contextlib import nullcontext
from datetime import timedelta

from django.db import (
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.db.models import F
from django.utils import timezone

from channels.models import Contact, Direction, Message, MessageStatus
from integrations.base import ProviderError
from octopods import metrics, prepared

from .lease import Lease, LeaseLost, keeper, lease_end

logger = logging.getLogger(__name__)


MAX_ATTEMPTS = 10


BACKOFF_FIRST = 5  # seconds


BACKOFF_CAP = 60 * 60


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """Capped exponential backoff with jitter (somewhere in the upper half of the
    current step, so retries of many messages spread out), never sooner than the
    provider asked."""
    ceiling = min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** max(0, attempts - 1))
    wait = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not a secret
    if retry_after is not None:
        wait = max(wait, retry_after)
    return timedelta(seconds=min(wait, BACKOFF_CAP))


def start_attempt(lease: Lease, message: Message) -> bool:
    """Count the attempt before making it, and mark it as this claim's: if the worker
    dies mid-call, the next one knows the message may have landed; if it is only slow,
    the message is not due again before the end of the lease, and its outcome can only
    be recorded by this claim. One UPDATE, fenced by the lease's token (the keeper
    renews the lease meanwhile); raises LeaseLost if the lease is gone, False if the
    message changed meanwhile (read it again)."""
    held = message.attempt_lease is not None
    started = prepared.write(
        _START,
        [
            prepared.value(Message, "attempt_lease", lease.token),
            prepared.value(Message, "next_attempt_at", lease_end()),
            message.unknown_outcomes,
            prepared.value(Message, "updated_at", timezone.now()),
            message.pk,
            lease.contact_id,
            message.status,
            *([prepared.value(Message, "attempt_lease", message.attempt_lease)] if held else []),
            lease.contact_id,
            prepared.value(Contact, "relay_lease_token", lease.token),
        ],
        m=Message,
        c=Contact,
        in_flight="= %s" if held else "IS NULL",
    )
    if not started and not _still_held(lease):
        raise LeaseLost
    if started:
        metrics.attempt(message.direction)
        message.attempts += 1
        message.attempt_lease = lease.token
        lease.in_flight = message.pk
    return started


def take(lease: Lease, message: Message, **fields) -> bool:
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
    if not taken and not _still_held(lease):
        raise LeaseLost
    return taken


def _still_held(lease: Lease) -> bool:
    return Contact.objects.filter(pk=lease.contact_id, relay_lease_token=lease.token).exists()


# An attempt's start, written out once rather than built by the ORM for every message
# (octopods/prepared.py: building it cost more CPU than PostgreSQL spends running it).
_START = """
UPDATE {m} SET {m.attempts} = {m.attempts} + 1, {m.attempt_lease} = %s,
    {m.next_attempt_at} = %s, {m.unknown_outcomes} = %s, {m.updated_at} = %s
WHERE {m.pk} = %s AND {m.contact_id} = %s AND {m.status} = %s AND {m.attempt_lease} {in_flight}
  AND EXISTS (SELECT 1 FROM {c} WHERE {c}.{c.pk} = %s AND {c}.{c.relay_lease_token} = %s)
"""


def one_statement():
    """A savepoint where a transaction is already open (a failed statement must not
    abort it); nothing otherwise: a single statement in autocommit is atomic on its own,
    without a BEGIN and a COMMIT around it."""
    return transaction.atomic() if connection.in_atomic_block else nullcontext()


def record(lease: Lease, message: Message, **fields) -> None:
    """Record the outcome of this claim's attempt on ``message``.

    The call has been made: its outcome (a provider's message id above all) is never
    thrown away for a database hiccup — the write is retried, not the call. Fenced by
    the attempt's token: a claim that lost the message to another worker records
    nothing (and raises LeaseLost). The lease is not renewed here: the keeper renews it,
    and the next attempt's start finds it lost, if it is."""

    def write():
        with one_statement():  # a refused write leaves the connection usable
            return (
                Message.objects.filter(pk=message.pk, attempt_lease=lease.token).update(
                    attempt_lease=None, updated_at=timezone.now(), **fields
                )
                == 1
            )

    what = f"outcome of message {message.pk}"
    recorded = retrying(write, what=what, fields=fields, defer=True)
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


def retrying(write, *, what: str, fields: dict | None = None, defer: bool = False):
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


def postpone(lease: Lease, message: Message, error: ProviderError) -> bool:
    """Schedule the next try after a transient failure; False when the message has
    had its attempts (the caller fails it)."""
    if message.attempts >= MAX_ATTEMPTS:
        return False
    record(
        lease,
        message,
        next_attempt_at=timezone.now() + backoff(message.attempts, error.retry_after),
        error_code=error.code[:64],
        error_text=error.message,
    )
    metrics.backoff(message.direction)
    return True


def fail(lease: Lease, message: Message, error: ProviderError) -> None:
    record(
        lease,
        message,
        status=MessageStatus.FAILED,
        error_code=error.code[:64],
        error_text=error.message,
        next_attempt_at=None,
    )


def take_back_later(lease: Lease, message: Message) -> None:
    """The database went away before the provider was called: nothing was sent, so
    the attempt is taken back (not counted, the message due again) as soon as the
    database answers — rather than the message waiting out the lease as one whose
    outcome is unknown."""

    def take_back():
        Message.objects.filter(pk=message.pk, attempt_lease=lease.token).update(
            attempt_lease=None, attempts=F("attempts") - 1, next_attempt_at=None
        )

    keeper.later(take_back, what=f"attempt on message {message.pk}, not made")


def refused(message: Message) -> ProviderError | None:
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


def fail_unstarted(lease: Lease, message: Message, error: ProviderError) -> bool:
    """Fail a message without another attempt; False if it changed meanwhile."""
    failed = take(
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


def found_unknown(message: Message, lease: Lease) -> bool:
    """Whether an earlier attempt on the message never recorded its outcome (its worker
    died, or lost the contact, mid-call); counted once, here."""
    if message.attempt_lease is None or message.attempt_lease == lease.token:
        return False
    message.unknown_outcomes += 1
    return True
