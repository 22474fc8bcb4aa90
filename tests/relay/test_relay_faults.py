"""The relay when things break between a provider call and its record: a database error
after a send, a worker killed mid-call, a message that makes the relay itself fail,
a batch longer than the lease. The rules: a provider's answer is never thrown away
(the write is retried, not the call), the attempt cap holds on every path, and a send
whose outcome nobody knows goes out at most once more — and the log says so."""

import logging
from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from channels.models import Contact, Message, MessageStatus
from relay import attempts
from relay import inbound as relay_inbound
from relay import lease as leases

from .relay_doubles import FailingWrites, agent_replies, inbound, make_due, run, writes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    """The write retries pause between tries; here they need not."""
    monkeypatch.setattr(attempts, "_pause", lambda seconds: None)


class Killed(BaseException):
    """The worker dies here: no exception handler of ours runs (as with SIGKILL), and
    nothing after this point happens."""


def kill_at(marker: str):
    def wrapper(execute, sql, params, many, context):
        if writes(sql, marker):
            raise Killed
        return execute(sql, params, many, context)

    return wrapper


def after_lease(*messages):
    """The killed worker's lease and its attempt's window have run out."""
    Contact.objects.update(relay_lease_until=None, relay_lease_token=None)
    make_due(*messages)


# --- a failed save after a send ---------------------------------------------------------


def test_a_send_whose_record_fails_is_recorded_on_a_retry_not_sent_again(
    conversation, contact, inbox, phone
):
    (message,) = agent_replies("p-1")
    refusing = FailingWrites('"provider_message_id"', times=3)
    with connection.execute_wrapper(refusing):
        result = run(contact)
    assert refusing.refused == 3
    assert result.sent == 1
    assert len(phone.sent) == 1  # the write was retried, not the send
    message.refresh_from_db()
    assert (message.status, message.provider_message_id) == (MessageStatus.DELIVERED, "sent-1")
    assert message.attempt_lease is None and message.attempts == 1
    # Nothing left for a later pass.
    make_due(message)
    assert run(contact).sent == 0
    assert len(phone.sent) == 1


def test_a_relayed_message_whose_record_fails_is_recorded_on_a_retry(contact, inbox, phone):
    message = inbound(contact, "hello", 1)
    refusing = FailingWrites('"inbox_part_id"', times=2)
    with connection.execute_wrapper(refusing):
        assert run(contact).relayed == 1
    assert refusing.refused == 2
    assert len(inbox.deliveries) == 1
    message.refresh_from_db()
    assert (message.status, message.inbox_part_id) == (MessageStatus.RELAYED, "part-1")


def test_a_database_away_longer_than_the_retries_leaves_the_outcome_unknown_and_logged(
    conversation, contact, inbox, phone, monkeypatch, caplog
):
    (message,) = agent_replies("p-1")
    monkeypatch.setattr(attempts, "RECORD_RETRY_SECONDS", 0)
    refusing = FailingWrites('"provider_message_id"', times=99)
    with connection.execute_wrapper(refusing), pytest.raises(OperationalError):
        run(contact)
    # The provider's id is in the log, so an operator can tell it went out.
    assert "provider_message_id=sent-1, status=delivered" in caplog.text
    message.refresh_from_db()
    assert message.status == MessageStatus.PENDING
    assert message.attempt_lease is not None  # in flight: outcome unknown for now
    # The worker's keeper writes it as soon as the database is back.
    assert leases.keeper.write_pending() == 0
    message.refresh_from_db()
    assert (message.status, message.provider_message_id) == (MessageStatus.DELIVERED, "sent-1")
    assert message.attempt_lease is None
    make_due(message)
    assert run(contact).sent == 0
    assert len(phone.sent) == 1


def test_a_database_gone_before_the_call_takes_the_attempt_back(contact, inbox, phone, monkeypatch):
    """Nothing reached the inbox: once the database is back the attempt is taken back, so
    the message neither waits out the lease nor counts as possibly delivered."""
    message = inbound(contact, "hello", 1)

    def database_gone(*args, **kwargs):
        raise OperationalError("the connection is closed")

    real = relay_inbound.inbox_delivery
    monkeypatch.setattr(relay_inbound, "inbox_delivery", database_gone)
    with pytest.raises(OperationalError):
        run(contact)
    message.refresh_from_db()
    assert message.attempt_lease is not None and message.attempts == 1
    assert leases.keeper.write_pending() == 0
    message.refresh_from_db()
    assert (message.attempt_lease, message.attempts, message.next_attempt_at) == (None, 0, None)
    monkeypatch.setattr(relay_inbound, "inbox_delivery", real)
    assert run(contact).relayed == 1
    assert [(d.body, d.reconcile) for d in inbox.deliveries] == [("hello", False)]


@pytest.mark.parametrize("provider_id", ["x" * 300, "taken"])
def test_a_send_whose_provider_id_cannot_be_stored_is_recorded_without_it(
    conversation, contact, inbox, phone, provider_id, caplog
):
    """An id longer than the column (DataError) or already another message's
    (IntegrityError) must not leave the send unrecorded, to be sent again."""
    taken = inbound(contact, "hello", 1)
    Message.objects.filter(pk=taken.pk).update(provider_message_id="taken")
    (message,) = agent_replies("p-1")
    phone.send = lambda **kwargs: provider_id
    assert run(contact).sent == 1
    message.refresh_from_db()
    assert (message.status, message.provider_message_id) == (MessageStatus.DELIVERED, "")
    assert "cannot be stored" in caplog.text
    make_due(message)
    assert run(contact).sent == 0


# --- a worker killed between the call and its record -----------------------------------


def test_a_reply_whose_send_was_interrupted_goes_once_more_and_never_a_third_time(
    conversation, contact, inbox, phone, caplog
):
    first, second = agent_replies("p-1", "p-2")

    with connection.execute_wrapper(kill_at('"provider_message_id"')), pytest.raises(Killed):
        run(contact)
    assert [m.text for m in phone.sent] == ["p-1"]

    # Not before the killed worker's attempt could still be running.
    assert run(contact).sent == 0
    after_lease(first)
    with (
        caplog.at_level(logging.WARNING, logger="relay"),
        connection.execute_wrapper(kill_at('"provider_message_id"')),
        pytest.raises(Killed),
    ):
        run(contact)
    assert [m.text for m in phone.sent] == ["p-1", "p-1"]  # once more, said in the log
    assert "whether it reached the customer is unknown; sending it once more" in caplog.text

    after_lease(first)
    result = run(contact)
    first.refresh_from_db()
    second.refresh_from_db()
    assert [m.text for m in phone.sent] == ["p-1", "p-1", "p-2"]  # never a third time
    assert (first.status, first.error_code) == (MessageStatus.FAILED, "outcome_unknown")
    assert first.unknown_outcomes == 2
    assert second.status == MessageStatus.DELIVERED
    assert result.failed == 1 and result.sent == 1
    # The agent is told in plain words.
    assert inbox.outcomes[0] == ("conv-1", "p-1", True)
    assert "could not tell whether this reached the customer" in inbox.notes[0][2]


def test_a_message_relayed_before_a_kill_is_checked_in_the_inbox_not_posted_again(
    contact, inbox, phone
):
    message = inbound(contact, "hello", 1)
    with connection.execute_wrapper(kill_at('"inbox_part_id"')), pytest.raises(Killed):
        run(contact)
    after_lease(message)
    assert run(contact).relayed == 1
    assert [(d.body, d.reconcile) for d in inbox.deliveries] == [
        ("hello", False),
        ("hello", True),  # the inbox looks for the first before posting
    ]


# --- the attempt cap on every path -----------------------------------------------------


def test_a_message_that_kills_its_worker_every_time_is_failed_after_its_attempts(
    contact, inbox, phone
):
    poison = inbound(contact, "poison", 1)
    inbound(contact, "next", 2)
    for _ in range(attempts.MAX_ATTEMPTS):
        with connection.execute_wrapper(kill_at('"inbox_part_id"')), pytest.raises(Killed):
            run(contact)
        after_lease(poison)
    result = run(contact)
    poison.refresh_from_db()
    assert (poison.status, poison.error_code) == (MessageStatus.FAILED, "attempts")
    assert poison.attempts == attempts.MAX_ATTEMPTS
    assert len([d for d in inbox.deliveries if d.body == "poison"]) == attempts.MAX_ATTEMPTS
    assert result.relayed == 1  # the customer's next message is not held back for good
    assert inbox.deliveries[-1].body == "next"


def test_a_message_the_relay_itself_fails_on_is_retried_then_failed_and_the_next_goes(
    contact, inbox, phone, monkeypatch
):
    poison = inbound(contact, "poison", 1)
    inbound(contact, "next", 2)
    real = relay_inbound.inbox_content

    def broken(message):
        if message.text == "poison":
            raise ValueError("cannot render")
        return real(message)

    monkeypatch.setattr(relay_inbound, "inbox_content", broken)
    for _ in range(attempts.MAX_ATTEMPTS - 1):
        assert run(contact).waiting  # backing off, the next message behind it
        make_due(poison)
    result = run(contact)  # the last attempt
    poison.refresh_from_db()
    assert poison.status == MessageStatus.FAILED
    assert poison.attempts == attempts.MAX_ATTEMPTS
    assert result.relayed == 1 and [d.body for d in inbox.deliveries] == ["next"]


def test_an_error_after_a_send_is_an_unknown_outcome(conversation, contact, inbox, phone):
    (message,) = agent_replies("p-1")
    real_send = phone.send

    def send_then_fail(*, credentials, message):
        real_send(credentials=credentials, message=message)
        raise KeyError("id")  # the provider's answer could not be read

    phone.send = send_then_fail
    assert run(contact).waiting
    message.refresh_from_db()
    assert (message.status, message.unknown_outcomes) == (MessageStatus.PENDING, 1)
    make_due(message)
    run(contact)  # once more
    make_due(message)
    run(contact)
    message.refresh_from_db()
    assert len(phone.sent) == 2
    assert (message.status, message.error_code) == (MessageStatus.FAILED, "outcome_unknown")


# --- the lease -------------------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now


def test_a_batch_stops_well_inside_the_lease_and_hands_the_contact_back(
    contact, inbox, phone, monkeypatch, settings
):
    """Each delivery takes 10 s on a clock the test controls; with a 120 s lease the
    worker starts no attempt after 30 s, so a slow provider cannot make a batch outlive
    the lease."""
    settings.RELAY_LEASE_SECONDS = 120
    clock = Clock()
    monkeypatch.setattr(leases, "clock", clock.monotonic)
    original = inbox.deliver

    def slow(*, tokens, delivery):
        clock.now += 10
        return original(tokens=tokens, delivery=delivery)

    inbox.deliver = slow
    for n in range(6):
        inbound(contact, f"m{n}", n)
    first = run(contact)
    assert (first.relayed, first.more) == (3, True)
    contact.refresh_from_db()
    assert contact.relay_lease_token is None  # handed back, to be woken again
    assert run(contact).relayed == 3
    assert [d.body for d in inbox.deliveries] == [f"m{n}" for n in range(6)]


def test_only_the_holder_releases_or_renews_the_lease(contact):
    first = leases.claim(contact.pk)
    Contact.objects.filter(pk=contact.pk).update(
        relay_lease_until=timezone.now() - timedelta(seconds=1)
    )
    second = leases.claim(contact.pk)
    assert second is not None and second.token != first.token
    leases.release(first)  # late: must not free the contact under the second
    contact.refresh_from_db()
    assert contact.relay_lease_token == second.token
    assert leases.claim(contact.pk) is None
    assert not leases.renew(first)
    assert leases.renew(second)
    leases.release(second)
