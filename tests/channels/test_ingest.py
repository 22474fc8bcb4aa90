"""The webhook's hot path (channels/ingest.py): on PostgreSQL a customer's message and
its contact go in one statement; everywhere else the ORM's way does the same. Each
test runs both ways and expects the same rows."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from channels import ingest, services
from channels.models import Channel, Contact, Message
from harness.services import wait_until
from integrations.channel import InboundMessage, Sender

pytestmark = pytest.mark.django_db

# SQLite on a laptop only: CI runs the suite on PostgreSQL (tests/conftest.py).
ON_POSTGRESQL = connection.vendor == "postgresql"
POSTGRESQL_ONLY = "the one-statement way is PostgreSQL's"
postgresql_only = pytest.mark.skipif(not ON_POSTGRESQL, reason=POSTGRESQL_ONLY)

WAIT = 20


@pytest.fixture(params=["one statement", "orm"])
def way(request, monkeypatch):
    if request.param == "one statement" and not ON_POSTGRESQL:
        pytest.skip(POSTGRESQL_ONLY)
    monkeypatch.setattr(services, "ONE_STATEMENT", request.param == "one statement")
    return request.param


def text(n, *, name="Jane Doe", username="", phone="", customer="555", body=None):
    return InboundMessage(
        provider_message_id=f"m-{n}",
        sender=Sender(external_id=customer, name=name, username=username, phone=phone),
        type="text",
        text=body if body is not None else f"hello {n}",
        sent_at=timezone.now(),
    )


def store(channel, *events):
    services.inbound_store(channel=channel, events=list(events))


def rows(channel):
    skip = ("id", "channel", "contact", "created_at", "updated_at", "sent_at")
    return [
        {k: v for k, v in model_to_dict(m).items() if k not in skip}
        for m in Message.objects.filter(channel=channel).order_by("pk")
    ]


def test_a_first_message_stores_its_contact_and_itself(way, channel):
    store(channel, text(1, username="jane", phone="+44 7700 900123"))
    contact = Contact.objects.get(channel=channel)
    assert (contact.external_id, contact.name, contact.username, contact.phone_e164) == (
        "555",
        "Jane Doe",
        "jane",
        "+447700900123",
    )
    message = Message.objects.get(channel=channel)
    assert (message.contact, message.direction, message.status, message.text) == (
        contact,
        "in",
        "received",
        "hello 1",
    )
    assert message.created_at is not None and message.updated_at is not None
    assert message.data == {} and message.attempts == 0 and message.attempt_lease is None


@postgresql_only
def test_both_ways_store_the_same_rows(channel, workspace, monkeypatch):
    other = Channel.objects.create(workspace=workspace, kind="telegram", name="Other", identity="9")
    events = [
        text(1, username="jane"),
        text(2, name="", body="emoji 🙂, Ñandú and a NUL \x00 byte"),
        text(3, customer="777", name="Bob"),
    ]
    for way, target in ((True, channel), (False, other)):
        monkeypatch.setattr(services, "ONE_STATEMENT", way)
        for event in events:
            store(target, event)
    assert rows(channel) == rows(other)
    assert rows(channel)[1]["text"] == "emoji 🙂, Ñandú and a NUL \ufffd byte"


def test_a_retry_is_stored_once(way, channel):
    store(channel, text(1))
    store(channel, text(1))
    assert Message.objects.filter(channel=channel).count() == 1
    assert Contact.objects.filter(channel=channel).count() == 1


def test_a_contact_is_kept_fresh_but_never_blanked(way, channel):
    store(channel, text(1, name="Jane", username="jane"))
    store(channel, text(2, name="Jane Doe", username="", phone="+44 7700 900123"))
    contact = Contact.objects.get(channel=channel)
    assert (contact.name, contact.username, contact.phone_e164) == (
        "Jane Doe",
        "jane",
        "+447700900123",
    )
    store(channel, text(3, name="", username="", phone=""))
    contact.refresh_from_db()
    assert (contact.name, contact.username, contact.phone_e164) == (
        "Jane Doe",
        "jane",
        "+447700900123",
    )
    assert set(Message.objects.values_list("contact", flat=True)) == {contact.pk}


@postgresql_only
def test_a_known_customer_costs_one_statement(channel):
    store(channel, text(1))
    with CaptureQueriesContext(connection) as queries:
        store(channel, text(2))
    # Inside the test's own transaction a statement also gets a savepoint; the work
    # itself is one INSERT (the channel's last-inbound time was written a moment ago).
    work = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
    assert len(work) == 1 and work[0].lstrip().startswith("WITH found AS")


def test_the_channel_notes_it_is_receiving_at_most_once_a_minute(way, channel):
    store(channel, text(1))
    channel.refresh_from_db()
    first = channel.last_inbound_at
    assert first is not None
    store(channel, text(2))
    channel.refresh_from_db()
    assert channel.last_inbound_at == first
    # A refused webhook since then: the next message shows at once that all is well.
    Channel.objects.filter(pk=channel.pk).update(last_error_at=timezone.now())
    channel.refresh_from_db()
    store(channel, text(3))
    channel.refresh_from_db()
    assert channel.last_inbound_at > channel.last_error_at
    assert channel.health == "receiving"
    # And a minute on, it is written again.
    Channel.objects.filter(pk=channel.pk).update(
        last_inbound_at=timezone.now() - timedelta(seconds=61)
    )
    channel.refresh_from_db()
    store(channel, text(4))
    channel.refresh_from_db()
    assert timezone.now() - channel.last_inbound_at < timedelta(seconds=5)


def test_several_events_are_stored_all_or_none(way, channel, monkeypatch):
    real = services._store_message
    calls = []

    def fails_second(channel, message):
        calls.append(message)
        if len(calls) == 2:
            raise RuntimeError("the database refused the second")
        return real(channel, message)

    monkeypatch.setattr(services, "_store_message", fails_second)
    with pytest.raises(RuntimeError):
        store(channel, text(1), text(2, customer="777"))
    assert Message.objects.filter(channel=channel).count() == 0


def test_the_webhook_channel_comes_with_its_secrets_decrypted(channel):
    found = ingest.webhook_channel("telegram", channel.webhook_key)
    assert found.pk == channel.pk
    assert found.credentials_data == channel.credentials_data
    assert found.new_conversation_after == channel.new_conversation_after
    assert ingest.webhook_channel("whatsapp", channel.webhook_key) is None
    assert ingest.webhook_channel("telegram", channel.webhook_key + "x") is None


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_first_messages_of_a_new_customer_at_once_make_one_contact(channel):
    """The second waits on the first's uncommitted contact, then uses it: held here
    until PostgreSQL shows it waiting on the lock, so the race is run, not hoped for."""
    first_stored = threading.Event()
    commit = threading.Event()
    second_pid = []
    errors = []

    def first():
        try:
            with transaction.atomic():
                store(channel, text(1))
                first_stored.set()
                assert commit.wait(WAIT)
        except Exception as error:  # reported by the test below
            errors.append(error)
        finally:
            connections.close_all()

    def second():
        try:
            assert first_stored.wait(WAIT)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                second_pid.append(cursor.fetchone()[0])
            store(channel, text(2))
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()

    def second_waits_on_a_lock():
        if not second_pid:
            return False
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [second_pid[0]]
            )
            row = cursor.fetchone()
        return row is not None and row[0] == "Lock"

    try:
        wait_until(second_waits_on_a_lock, timeout=WAIT, what="the second store to wait")
    finally:
        commit.set()
    for thread in threads:
        thread.join(WAIT)
    assert errors == []
    assert Contact.objects.filter(channel=channel).count() == 1
    assert Message.objects.filter(channel=channel).count() == 2
    assert Message.objects.values("contact").distinct().count() == 1
