"""relay.signals.conversation_opened: sent once for a conversation the inbox opened for
a customer's message, after it is recorded; a receiver that fails does not stop the
relay."""

import pytest

from channels.models import Conversation, Message, MessageStatus
from relay.signals import conversation_opened

from .relay_doubles import inbound, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    calls = []

    def receiver(*, contact, conversation, **kwargs):
        # Recorded by the time receivers hear of it.
        assert Conversation.objects.filter(pk=conversation.pk).exists()
        calls.append((contact.pk, conversation.inbox_conversation_id))

    conversation_opened.connect(receiver, dispatch_uid="test-heard")
    yield calls
    conversation_opened.disconnect(dispatch_uid="test-heard")


def test_a_new_conversation_is_announced_once(contact, inbox, phone, heard):
    for n, text in enumerate(["one", "two"]):
        inbound(contact, text, n)
    assert run(contact).relayed == 2
    assert heard == [(contact.pk, "conv-1")]  # the second went into it: not new

    inbound(contact, "three", 3)
    run(contact)
    assert heard == [(contact.pk, "conv-1")]


def test_a_receiver_that_fails_is_logged_and_the_relay_goes_on(contact, inbox, phone, caplog):
    def broken(**kwargs):
        raise RuntimeError("receiver bug")

    conversation_opened.connect(broken, dispatch_uid="test-broken")
    try:
        inbound(contact, "one", 1)
        inbound(contact, "two", 2)
        assert run(contact).relayed == 2
    finally:
        conversation_opened.disconnect(dispatch_uid="test-broken")
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.RELAYED}
    assert any("failed after it opened" in record.getMessage() for record in caplog.records)
