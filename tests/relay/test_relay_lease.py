"""Two workers on one contact, for real: each in its own thread with its own PostgreSQL
connection, the first held inside a provider call until the test lets it go, the
second claiming the contact meanwhile (its lease ran out: a slow provider, a paused
process). Nothing here waits on time: each step waits on the other's signal.

Under READ COMMITTED, the claim's UPDATE blocks on the row a renewal holds, then
re-checks its condition against the committed row — which is what makes the lease a
fence (https://www.postgresql.org/docs/current/transaction-iso.html#XACT-READ-COMMITTED).
"""

import logging
import os
import threading
from datetime import timedelta

import pytest
from django.db import OperationalError, connection, connections
from django.utils import timezone

from channels.models import Contact, Direction, Message, MessageStatus
from relay import engine
from relay import lease as leases

from .relay_doubles import (
    FailingWrites,
    FakeChannel,
    FakeInbox,
    agent_replies,
    inbound,
    make_due,
    run,
)

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 30  # seconds any signal gets before the test fails (never reached when it works)


@pytest.fixture(autouse=True)
def postgresql():
    if connection.vendor != "postgresql":
        message = "two workers on one contact need PostgreSQL (DATABASE_URL)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


class Gate:
    """Holds the first call that reaches it until the test opens it."""

    def __init__(self):
        self.reached = threading.Event()
        self.opened = threading.Event()
        self.used = False

    @classmethod
    def around(cls, double, method: str) -> "Gate":
        """Make the double's ``method`` do its work, then hold its first answer at the
        gate (the provider has the message; its answer is slow to come back)."""
        gate = cls()
        real = getattr(double, method)

        def held(**kwargs):
            answer = real(**kwargs)
            gate.hold()
            return answer

        setattr(double, method, held)
        return gate

    def hold(self):
        if self.used:
            return
        self.used = True
        self.reached.set()
        assert self.opened.wait(WAIT), "the test never let the call go"


class Worker(threading.Thread):
    """contact_relay in a thread of its own, as a second worker process would run it."""

    def __init__(self, contact):
        super().__init__(daemon=True)
        self.contact_id = contact.pk
        self.result = None
        self.error = None

    def run(self):
        try:
            self.result = engine.contact_relay(contact_id=self.contact_id)
        except BaseException as error:  # reported by the test
            self.error = error
        finally:
            connections.close_all()

    def finish(self):
        self.join(WAIT)
        assert not self.is_alive(), "the worker never finished"
        assert self.error is None, self.error
        return self.result


def lease_runs_out(contact):
    Contact.objects.filter(pk=contact.pk).update(
        relay_lease_until=timezone.now() - timedelta(seconds=1)
    )


def test_a_second_worker_never_sends_what_the_first_has_in_flight(
    conversation, contact, inbox, phone: FakeChannel, caplog
):
    replies = agent_replies("p-1", "p-2", "p-3")
    gate = Gate.around(phone, "send")  # the provider has it; its answer is slow to come
    first = Worker(contact)
    first.start()
    assert gate.reached.wait(WAIT)

    # The first worker's lease runs out while it waits; a second worker claims the
    # contact and finds the first message in flight: not its to send.
    lease_runs_out(contact)
    second = leases.claim(contact.pk)
    assert second is not None
    contact.refresh_from_db()
    assert contact.relay_lease_token == second.token
    leases.release(second)
    assert run(contact).sent == 0
    assert [m.text for m in phone.sent] == ["p-1"]

    # Meanwhile a second worker holds the contact again; the first one's answer comes
    # back: it records it (its attempt, its message) and starts nothing more.
    holder = leases.claim(contact.pk)
    with caplog.at_level(logging.WARNING, logger="relay"):
        gate.opened.set()
        result = first.finish()
    assert result.sent == 1
    assert "another worker holds it now" in caplog.text
    replies[0].refresh_from_db()
    assert (replies[0].status, replies[0].provider_message_id) == (
        MessageStatus.DELIVERED,
        "sent-1",
    )
    contact.refresh_from_db()
    assert contact.relay_lease_token == holder.token  # not released by the first
    leases.release(holder)

    assert run(contact).sent == 2
    assert [m.text for m in phone.sent] == ["p-1", "p-2", "p-3"]  # once each, in order
    assert set(
        Message.objects.filter(direction=Direction.OUTBOUND).values_list("status", flat=True)
    ) == {MessageStatus.DELIVERED}


def test_a_live_worker_keeps_its_contact_through_a_call_longer_than_the_lease(
    conversation, contact, inbox, phone: FakeChannel
):
    """The keeper renews the leases of a live process a third of the way through each
    term; here the test runs its pass at the moment the term would have ended."""
    agent_replies("p-1", "p-2")
    gate = Gate.around(phone, "send")
    first = Worker(contact)
    first.start()
    assert gate.reached.wait(WAIT)
    lease_runs_out(contact)
    Message.objects.filter(direction=Direction.OUTBOUND).update(next_attempt_at=timezone.now())
    assert leases.keeper.renew_all() >= 1
    contact.refresh_from_db()
    assert contact.relay_lease_until > timezone.now()
    assert leases.claim(contact.pk) is None  # still the first worker's
    in_flight = Message.objects.get(inbox_part_id="p-1")
    assert in_flight.next_attempt_at > timezone.now()  # and so is its message
    gate.opened.set()
    assert first.finish().sent == 2
    assert [m.text for m in phone.sent] == ["p-1", "p-2"]


def test_an_inbound_message_in_flight_is_not_posted_twice(contact, inbox: FakeInbox, phone):
    for n in range(3):
        inbound(contact, f"m{n}", n)
    gate = Gate.around(inbox, "deliver")
    first = Worker(contact)
    first.start()
    assert gate.reached.wait(WAIT)
    lease_runs_out(contact)
    second = Worker(contact)
    second.start()
    assert second.finish().relayed == 0  # claimed, found m0 in flight, left it
    gate.opened.set()
    assert first.finish().relayed == 1
    assert run(contact).relayed == 2
    assert [(d.body, d.reconcile) for d in inbox.deliveries] == [
        ("m0", False),
        ("m1", False),
        ("m2", False),
    ]


def test_an_answer_that_comes_back_after_the_message_was_taken_over_is_not_recorded(
    conversation, contact, inbox, phone: FakeChannel, caplog
):
    """Past the end of the first worker's lease the second may take the message over
    (the first may have died): the one more send of an unknown outcome. The first
    worker's late answer then must not overwrite the second's record."""
    (message,) = agent_replies("p-1")
    gate = Gate.around(phone, "send")
    first = Worker(contact)
    first.start()
    assert gate.reached.wait(WAIT)
    lease_runs_out(contact)
    make_due(message)  # its attempt's window is over too
    assert run(contact).sent == 1  # taken over: sent once more
    with caplog.at_level(logging.WARNING, logger="relay"):
        gate.opened.set()
        assert first.finish().sent == 0
    assert "outcome not recorded, another worker has taken the message over" in caplog.text
    message.refresh_from_db()
    assert (message.status, message.provider_message_id) == (MessageStatus.DELIVERED, "sent-2")
    assert message.unknown_outcomes == 1
    assert [m.text for m in phone.sent] == ["p-1", "p-1"]


def test_a_lease_a_database_outage_kept_is_given_back_when_the_database_returns(
    contact, inbox, phone
):
    """Cut off mid-relay by a restart, a worker cannot give the contact back; the keeper
    does, as soon as the database answers, so the contact does not wait out the lease.
    (Here, outside a test transaction: a refused statement leaves the connection usable,
    as in a worker.)"""
    held = leases.claim(contact.pk)
    with connection.execute_wrapper(FailingWrites('"relay_lease_token"', times=1)):
        leases.release(held)
    contact.refresh_from_db()
    assert contact.relay_lease_token == held.token  # still taken
    refusing = FailingWrites('"relay_lease_token"', times=1)
    with connection.execute_wrapper(refusing), pytest.raises(OperationalError):
        leases.keeper.write_pending()  # still away: kept for the next try
    assert leases.keeper.write_pending() == 0
    contact.refresh_from_db()
    assert contact.relay_lease_token is None
    inbound(contact, "hello", 1)
    assert run(contact).relayed == 1
