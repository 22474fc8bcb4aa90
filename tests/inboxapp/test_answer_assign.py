"""A proactive message sent without opening a conversation, to a customer with none
open: the conversation the relay opens for the answer is assigned to the sender when
the workspace asks for it (inboxapp/receivers.py)."""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from channels.models import Conversation
from inboxapp.models import InboxAppSettings, ProactiveSend
from relay.signals import conversation_opened

from .conftest import click, initialize, wrote

pytestmark = pytest.mark.django_db

PARTS = f"{settings.INTERCOM_API_URL}/conversations/8100/parts"


@pytest.fixture
def sent(mocked, workspace, whatsapp, jane_on_whatsapp):
    """Jane wrote an hour ago and has no conversation; Ann sends from the panel."""
    wrote(jane_on_whatsapp, hours_ago=1)
    compose = click(click(initialize(), "this_contact"), f"channel-{whatsapp.pk}")
    click(click(compose, "preview", {"text": "Your order has shipped."}), "send")
    assert len(mocked.calls) == 0  # no conversation to assign yet
    return ProactiveSend.objects.get()


def answer_opens(workspace, contact, conversation_id="8100") -> Conversation:
    """What the relay does when the inbox opened a conversation for the answer."""
    conversation = Conversation.objects.create(
        workspace=workspace, contact=contact, inbox_conversation_id=conversation_id
    )
    conversation_opened.send(sender=Conversation, contact=contact, conversation=conversation)
    return conversation


def test_the_answers_new_conversation_is_assigned_to_the_sender(
    mocked, workspace, jane_on_whatsapp, sent
):
    InboxAppSettings.objects.create(workspace=workspace, assign_answer_to_sender=True)
    mocked.post(PARTS, json={"type": "conversation", "id": "8100", "admin_assignee_id": 991})

    answer_opens(workspace, jane_on_whatsapp)

    (call,) = mocked.calls
    assert json.loads(call.request.body) == {
        "message_type": "assignment",
        "type": "admin",
        "admin_id": "991",
        "assignee_id": "991",
    }
    sent.refresh_from_db()
    assert sent.assign_outcome.startswith("The conversation is assigned to you")
    # A later conversation of the same customer is not this send's answer any more.
    answer_opens(workspace, jane_on_whatsapp, conversation_id="8200")
    assert len(mocked.calls) == 1


def test_a_refused_assignment_is_kept_for_the_status_screen(
    mocked, workspace, jane_on_whatsapp, sent
):
    InboxAppSettings.objects.create(workspace=workspace, assign_answer_to_sender=True)
    mocked.post(
        PARTS,
        status=403,
        json={"type": "error.list", "errors": [{"code": "forbidden", "message": "Nope"}]},
    )

    answer_opens(workspace, jane_on_whatsapp)

    sent.refresh_from_db()
    assert "could not be assigned to you: Intercom answered 403" in sent.assign_outcome


@pytest.mark.parametrize("case", ["setting off", "send too old", "send opened its own"])
def test_nothing_is_assigned_otherwise(mocked, workspace, jane_on_whatsapp, sent, case):
    if case != "setting off":
        InboxAppSettings.objects.create(workspace=workspace, assign_answer_to_sender=True)
    if case == "send too old":
        ProactiveSend.objects.update(created_at=timezone.now() - timedelta(days=8))
    if case == "send opened its own":
        ProactiveSend.objects.update(inbox_conversation_id="8001")

    answer_opens(workspace, jane_on_whatsapp)

    assert len(mocked.calls) == 0
    sent.refresh_from_db()
    assert sent.assign_outcome == ""
