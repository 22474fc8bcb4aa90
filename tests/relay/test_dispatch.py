"""The relay's dispatcher: worker threads relaying the contacts woken in Redis, and the
relay's second look at a contact it gives back (relay/dispatch.py, relay/engine.py)."""

import logging
import threading

import pytest
import redis

from channels.models import Message, MessageStatus
from harness.services import wait_until
from relay import dispatch, engine, outbound, wakeup
from relay import inbound as relay_inbound

from .relay_doubles import inbound, make_due, run, transient

WAIT = 20


@pytest.fixture
def dispatcher():
    started = []

    def start(threads=2):
        running = dispatch.Dispatcher(threads=threads)
        running.start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop(timeout=WAIT)


def _status(message):
    return Message.objects.get(pk=message.pk).status


@pytest.mark.django_db(transaction=True)
def test_a_woken_contact_is_relayed_by_a_dispatcher_thread(wake_set, dispatcher, inbox, contact):
    connection, key = wake_set
    message = inbound(contact, "Where is my order?", 1)
    wakeup.publish([contact.pk])
    dispatcher()
    wait_until(lambda: _status(message) == MessageStatus.RELAYED, timeout=WAIT, what="relay")
    assert [d.body for d in inbox.deliveries] == ["Where is my order?"]
    assert connection.zcard(key) == 0  # taken out of the set
    # A later message of the same customer: another wake-up, another relay.
    second = inbound(contact, "Any news?", 2)
    wakeup.publish([contact.pk])
    wait_until(lambda: _status(second) == MessageStatus.RELAYED, timeout=WAIT, what="relay")
    assert [d.body for d in inbox.deliveries] == ["Where is my order?", "Any news?"]


@pytest.mark.django_db(transaction=True)
def test_the_dispatcher_waits_out_a_redis_outage(
    wake_set, dispatcher, inbox, contact, monkeypatch, caplog
):
    """Redis refuses (a restart): the dispatcher logs, waits, and takes wake-ups again
    once Redis answers — no restart of the worker needed."""
    caplog.set_level(logging.WARNING, logger="relay")
    monkeypatch.setattr(dispatch, "RETRY_FIRST", 0.05)
    real = wakeup.wake_redis()
    away = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1)
    back = threading.Event()
    monkeypatch.setattr(dispatch, "wake_redis", lambda: real if back.is_set() else away)
    message = inbound(contact, "Hello?", 1)
    wakeup.publish([contact.pk])
    dispatcher()
    wait_until(
        lambda: any("cannot reach Redis" in r.getMessage() for r in caplog.records),
        timeout=WAIT,
        what="the dispatcher to find Redis away",
    )
    assert _status(message) == MessageStatus.RECEIVED
    back.set()
    wait_until(lambda: _status(message) == MessageStatus.RELAYED, timeout=WAIT, what="relay")


@pytest.mark.django_db(transaction=True)
def test_a_contact_with_more_than_a_batch_goes_to_the_back(wake_set, inbox, contact, monkeypatch):
    connection, key = wake_set
    monkeypatch.setattr(relay_inbound, "BATCH", 2)
    monkeypatch.setattr(outbound, "BATCH", 2)
    for n in range(3):
        inbound(contact, f"m{n}", n)
    wakeup.publish([999_999])  # someone else, woken first
    dispatch.relay_contact_now(contact.pk)
    assert len(inbox.deliveries) == 2
    assert [int(m) for m in connection.zrange(key, 0, -1)] == [999_999, contact.pk]


@pytest.mark.django_db(transaction=True)
def test_a_message_stored_while_the_contact_was_held_is_looked_at_again(
    inbox, contact, monkeypatch
):
    """Stored after the run's last look but before it gave the contact back, its
    wake-up found the contact held: the holder looks once more and finds it."""
    inbound(contact, "first", 1)
    real_release = engine.release
    late = []

    def store_then_release(lease):
        if not late:
            late.append(inbound(contact, "written meanwhile", 2))
        real_release(lease)

    monkeypatch.setattr(engine, "release", store_then_release)
    result = run(contact)
    assert result.relayed == 1 and result.more
    result = run(contact)
    assert result.relayed == 1 and not result.more
    assert _status(late[0]) == MessageStatus.RELAYED


@pytest.mark.django_db(transaction=True)
def test_a_message_held_back_behind_a_waiting_one_is_not_run_for_again(inbox, contact):
    """The head backs off; the one behind it is due but must keep its place: the run
    says nothing more to do (the sweeper wakes the contact when the head is due)."""
    head = inbound(contact, "first", 1)
    inbound(contact, "second", 2)
    inbox.failures.append(transient())
    result = run(contact)
    assert result.waiting and not result.more
    make_due(head)
    result = run(contact)
    assert result.relayed == 2 and not result.more


def _statements_to_relay(contact, n, *, tag):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for k in range(n):
        inbound(contact, f"backlog {k}", f"{tag}-{k}")
    with CaptureQueriesContext(connection) as queries:
        while run(contact).more:
            pass
    assert Message.objects.filter(status=MessageStatus.RECEIVED).count() == 0
    return len(queries)


@pytest.mark.django_db(transaction=True)
def test_a_backlog_costs_two_statements_a_message(conversation, contact, inbox):
    """Claimed once, read ahead, the conversation and admin read once a batch: each
    further message is its attempt's start and its outcome, and a read ahead now and
    then — not the ten round trips a message it once took."""
    _statements_to_relay(contact, 1, tag="first")  # a customer's first costs more
    # One message: claim, the contact (and its workspace's admin), what waits in both
    # directions, the conversation, the attempt's start and outcome, the release, and
    # the look for anything that arrived meanwhile.
    assert _statements_to_relay(contact, 1, tag="lone") <= 8
    ten = _statements_to_relay(contact, 10, tag="ten")
    thirty = _statements_to_relay(contact, 30, tag="thirty")
    per_message = (thirty - ten) / 20
    assert per_message <= 2.2, f"{per_message} statements a message"


@pytest.mark.django_db(transaction=True)
def test_an_entry_that_is_not_a_contact_does_not_stop_the_dispatcher(
    wake_set, dispatcher, inbox, contact, caplog
):
    connection, key = wake_set
    connection.zadd(key, {"not-a-contact": 0})
    message = inbound(contact, "Still there?", 1)
    wakeup.publish([contact.pk])
    dispatcher()
    wait_until(lambda: _status(message) == MessageStatus.RELAYED, timeout=WAIT, what="relay")
    assert "a wake-up could not be taken" in caplog.text
