"""The relay logs each message under the correlation id stored with it, and a pool
thread never carries one contact's id into the next contact it relays."""

import logging
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import OperationalError, connections

from channels.models import Contact
from octopods import logs
from relay.engine import contact_relay

from .relay_doubles import inbound

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_relay_thread_starts_each_contact_without_the_last_ones_id(
    channel, contact, inbox, caplog
):
    """One pool thread relays Jane, whose message fails mid-relay with a database error
    (out of the relay, as a dispatcher thread sees it), then Joe, whose message was
    stored before ids were: nothing of Jane's id reaches Joe's lines."""
    caplog.set_level(logging.INFO)
    joe = Contact.objects.create(channel=channel, external_id="556", name="Joe")
    inbound(contact, "from Jane", 1, data={logs.CORRELATION_KEY: "0123456789abcdef"})
    inbound(joe, "from Joe", 2)
    inbox.failures.append(OperationalError("the database went away mid-call"))

    def relay_joe():
        before = logs.current()
        return before, contact_relay(contact_id=joe.pk)

    with ThreadPoolExecutor(1) as pool:  # one thread: the second run reuses it
        with pytest.raises(OperationalError) as failed:
            pool.submit(contact_relay, contact_id=contact.pk).result()
        before, result = pool.submit(relay_joe).result()
        after = pool.submit(logs.current).result()
        pool.submit(connections.close_all).result()
    assert (before, after) == ("", "")
    assert result.relayed == 1
    assert logs.of_exception(failed.value) == "0123456789abcdef"  # for its error report
    (joes,) = [r for r in caplog.records if "relayed to the inbox" in r.getMessage()]
    assert joes.correlation_id == ""
    assert [d.body for d in inbox.deliveries] == ["from Jane", "from Joe"]


def test_each_message_of_a_backlog_is_logged_under_its_own_id(contact, inbox, caplog):
    caplog.set_level(logging.INFO)
    for n, correlation_id in enumerate(["aaaaaaaaaaaaaaaa", "", "bbbbbbbbbbbbbbbb"], start=1):
        inbound(contact, f"m{n}", n, data={logs.CORRELATION_KEY: correlation_id})
    assert contact_relay(contact_id=contact.pk).relayed == 3
    relayed = [r.correlation_id for r in caplog.records if "relayed to the inbox" in r.getMessage()]
    assert relayed == ["aaaaaaaaaaaaaaaa", "", "bbbbbbbbbbbbbbbb"]
    assert logs.current() == ""
