"""Two first messages from one customer, in the two forms of a Brazilian number, at the
same moment: one contact, not two (channels/ingest.py hold_customers).

Deterministic: the first store is held open inside its transaction, the second is
started and seen waiting in pg_locks for the customer's lock, then the first commits.
Without the lock the second finds nothing under its own form and creates a contact of
its own, and never waits."""

import threading
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction

from channels.models import Contact, Message
from channels.services import contact_upsert, inbound_store
from harness.services import wait_until
from integrations.channel import ContentType, InboundMessage, Sender

from .conftest import acme_workspace
from .test_phone_identity import EIGHT, NINE, whatsapp_on

pytestmark = pytest.mark.django_db(transaction=True)

WAIT_SECONDS = 30


def message(wamid: str, number: str) -> InboundMessage:
    return InboundMessage(
        provider_message_id=wamid,
        sender=Sender(external_id=number[1:], phone=number, name="Joana"),
        sent_at=datetime(2026, 12, 6, tzinfo=UTC),
        type=ContentType.TEXT,
        text="Oi!",
    )


def waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return cursor.fetchone()[0]


def until(condition, what: str) -> None:
    wait_until(condition, timeout=WAIT_SECONDS, what=what)


def in_thread(work) -> tuple[threading.Thread, list]:
    errors: list = []

    def run():
        try:
            work()
        except Exception as error:  # reported by the test, not lost in the thread
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


@pytest.mark.parametrize(
    ("second", "messages"),
    [
        (lambda channel: inbound_store(channel=channel, events=[message("wamid.b", NINE)]), 2),
        # An agent's send from the inbox app to the number as typed (inboxapp/services.py).
        (
            lambda channel: contact_upsert(
                channel=channel, sender=Sender(external_id=NINE[1:], phone=NINE, name="Joana")
            ),
            1,
        ),
    ],
    ids=["webhook", "agent-send"],
)
def test_two_forms_at_once_make_one_contact(cast, second, messages):
    if connection.vendor != "postgresql":
        pytest.skip("the lock is PostgreSQL's (CI always runs on it)")
    channel = whatsapp_on(acme_workspace(cast, access_token="tok-acme"))
    first_stored, commit = threading.Event(), threading.Event()

    def first():
        with transaction.atomic():
            inbound_store(channel=channel, events=[message("wamid.a", EIGHT)])
            first_stored.set()
            assert commit.wait(WAIT_SECONDS)

    one, one_errors = in_thread(first)
    assert first_stored.wait(WAIT_SECONDS)
    two, two_errors = in_thread(lambda: second(channel))
    try:
        until(lambda: waiting_for_a_lock() == 1, "the second store to wait for the customer")
    finally:
        commit.set()
    for thread in (one, two):
        thread.join(WAIT_SECONDS)
    assert not one_errors and not two_errors

    contact = Contact.objects.get(channel=channel)
    assert contact.external_id == EIGHT[1:]
    assert Message.objects.filter(contact=contact).count() == messages


def test_two_webhooks_naming_the_same_two_customers_make_two_contacts(cast):
    """Meta may batch several messages in one webhook: two webhooks naming the same two
    Brazilian customers in opposite orders and forms still make one contact each (the
    locks are taken in one order, so neither holds one and waits for the other)."""
    if connection.vendor != "postgresql":
        pytest.skip("the lock is PostgreSQL's (CI always runs on it)")
    channel = whatsapp_on(acme_workspace(cast, access_token="tok-acme"))
    rio_nine, rio_eight = "+5521987651234", "+552187651234"
    first_stored, commit = threading.Event(), threading.Event()

    def first():
        with transaction.atomic():
            inbound_store(
                channel=channel, events=[message("wamid.a1", EIGHT), message("wamid.a2", rio_nine)]
            )
            first_stored.set()
            assert commit.wait(WAIT_SECONDS)

    one, one_errors = in_thread(first)
    assert first_stored.wait(WAIT_SECONDS)
    second = [message("wamid.b1", rio_eight), message("wamid.b2", NINE)]
    two, two_errors = in_thread(lambda: inbound_store(channel=channel, events=second))
    try:
        until(lambda: waiting_for_a_lock() == 1, "the second webhook to wait for its customers")
    finally:
        commit.set()
    for thread in (one, two):
        thread.join(WAIT_SECONDS)
    assert not one_errors and not two_errors

    contacts = Contact.objects.filter(channel=channel).order_by("external_id")
    assert [c.external_id for c in contacts] == [EIGHT[1:], rio_nine[1:]]
    assert [Message.objects.filter(contact=c).count() for c in contacts] == [2, 2]
