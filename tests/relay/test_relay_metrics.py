"""The relay's counts (octopods/metrics.py): relayed, failed, attempts and backoffs per
direction and channel kind, agents' replies stored."""

import pytest
from prometheus_client import REGISTRY

from channels.services import inbox_events_store
from integrations.base import ProviderError

from .relay_doubles import inbound, make_due, reply, run, transient

pytestmark = pytest.mark.django_db


NAMES = {
    "relayed": ("octopods_messages_relayed_total", True),
    "failed": ("octopods_messages_failed_total", True),
    "stored": ("octopods_messages_stored_total", True),
    "attempts": ("octopods_relay_attempts_total", False),
    "backoffs": ("octopods_relay_backoffs_total", False),
}


def now(key, direction):
    name, by_kind = NAMES[key]
    labels = {"direction": direction, **({"kind": "telegram"} if by_kind else {})}
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def counts():
    """Deltas of the relay's counters since the test began (the process shares them)."""
    start = {(key, d): now(key, d) for key in NAMES for d in ("in", "out")}
    return lambda key, direction: now(key, direction) - start[(key, direction)]


def test_a_backoff_then_a_relay_and_a_refusal_are_counted(contact, inbox, phone, counts):
    first = inbound(contact, "first", 1)
    inbound(contact, "second", 2)
    inbox.failures = [transient()]
    run(contact)
    assert (counts("attempts", "in"), counts("backoffs", "in"), counts("relayed", "in")) == (
        1,
        1,
        0,
    )
    make_due(first)
    run(contact)
    assert (counts("relayed", "in"), counts("attempts", "in")) == (2, 3)
    inbound(contact, "third", 3)
    inbox.failures = [ProviderError("refused", permanent=True, status=422, code="x")]
    run(contact)
    assert (counts("failed", "in"), counts("attempts", "in")) == (1, 4)
    assert counts("relayed", "out") == counts("failed", "out") == 0


def test_an_agents_reply_is_counted_stored_and_sent(conversation, contact, inbox, phone, counts):
    inbox_events_store(provider="intercom", events=[reply()])
    assert counts("stored", "out") == 1
    run(contact)
    assert counts("relayed", "out") == 1
    assert counts("attempts", "out") == 1
