"""The panel on a contact's page in Intercom rather than beside a conversation: the
signed initialize and submit requests carry the contact and no conversation (no
``conversation`` object, no ``context.conversation_id``). Intercom's Canvas Kit
reference lists ``context.location`` only as conversation, home, message or operator,
so the app must not depend on that value: each shape below is answered the same."""

import json

import pytest

from channels.models import Conversation, Direction, Message
from inboxapp.models import ProactiveSend

from .conftest import (
    INITIALIZE,
    JANE_INTERCOM_ID,
    SUBMIT,
    components,
    ids,
    initialize_payload,
    intercom_contact,
    intercom_opens,
    post,
    words,
    wrote,
)

pytestmark = pytest.mark.django_db

# What a contact-located request may look like: the location left out, a value Intercom
# does not document, and the conversation sent as null.
SHAPES = {
    "no location": lambda context: context.pop("location"),
    "undocumented location": lambda context: context.update(location="contact"),
    "conversation null": lambda context: context.pop("location"),
}


def contact_payload(shape: str = "no location", contact=None) -> dict:
    payload = initialize_payload(contact=contact)
    payload.pop("conversation")
    payload["context"].pop("conversation_id")
    SHAPES[shape](payload["context"])
    if shape == "conversation null":
        payload["conversation"] = None
    return payload


def contact_initialize(shape: str = "no location", contact=None) -> dict:
    response = post(INITIALIZE, contact_payload(shape, contact))
    assert response.status_code == 200, response.content
    return response.json()


def contact_click(
    previous: dict, component_id: str, inputs: dict | None = None, *, named=True
) -> dict:
    payload = {
        **contact_payload(),
        "component_id": component_id,
        "input_values": inputs or {},
        "current_canvas": previous["canvas"],
        "user": intercom_contact(),
    }
    if not named:
        payload.pop("contact")
    response = post(SUBMIT, payload)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize("shape", list(SHAPES))
def test_on_a_contact_the_panel_offers_that_contact_and_no_conversation_window(
    mocked, workspace, whatsapp, jane_on_whatsapp, shape
):
    wrote(jane_on_whatsapp, hours_ago=1)
    # Jane has a relayed WhatsApp conversation; on her page the panel is about her,
    # not about any one conversation.
    Conversation.objects.create(
        workspace=workspace, contact=jane_on_whatsapp, inbox_conversation_id="499"
    )

    canvas = contact_initialize(shape)

    assert components(canvas)[0]["text"] == "Send a proactive message"
    assert "window" not in words(canvas)
    assert ids(canvas) == ["this_contact", "query", "search"]
    assert "Send to Jane Doe" in words(canvas)
    assert canvas["canvas"]["stored_data"]["recipient"]["intercom_id"] == JANE_INTERCOM_ID
    assert len(mocked.calls) == 0


def test_on_a_contact_a_message_is_sent_to_them_and_opens_a_conversation(mocked, workspace, sms):
    intercom_opens(mocked)

    channels = contact_click(contact_initialize(), "this_contact")
    compose = contact_click(channels, f"channel-{sms.pk}")
    preview = contact_click(compose, "preview", {"text": "Your table is booked."})
    status = contact_click(preview, "send_open")

    assert components(channels)[0]["text"] == "Message Jane Doe"
    message = Message.objects.get(direction=Direction.OUTBOUND)
    assert (message.channel, message.text) == (sms, "Your table is booked.")
    assert message.contact.phone_e164 == "+15551234567"
    opened = json.loads(mocked.calls[0].request.body)
    assert opened["to"] == {"type": "lead", "id": JANE_INTERCOM_ID}
    assert ProactiveSend.objects.get().inbox_conversation_id == "8001"
    assert "An Intercom conversation was opened" in words(status)


def test_on_a_contact_intercom_did_not_name_the_panel_searches(workspace, sms):
    payload = contact_payload()
    payload.pop("contact")

    response = post(INITIALIZE, payload)
    canvas = response.json()
    asked = contact_click(canvas, "this_contact", named=False)

    assert response.status_code == 200
    assert ids(canvas) == ["query", "search"]
    assert "Intercom named no contact here: search for one." in words(asked)


def test_on_a_contact_of_another_account_nothing_of_theirs_is_reached(cast, workspace, sms):
    payload = contact_payload()
    payload["workspace_id"] = "globex-app"

    canvas = post(INITIALIZE, payload).json()
    payload.update(
        component_id="this_contact",
        input_values={},
        current_canvas=canvas["canvas"],
        user=intercom_contact(),
    )
    channels = post(SUBMIT, payload).json()

    assert "Twilio line" not in json.dumps(channels)
    assert "No channel of this workspace can reach this customer" in words(channels)
