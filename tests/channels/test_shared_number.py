"""A WhatsApp customer and an SMS customer who share a phone number, relayed to the
sandbox's Intercom over HTTP: one inbox contact, one conversation per channel, each
tagged with its channel's name (what the reference product does; README "One number
on two channels")."""

import pytest

from channels.models import Contact
from relay.engine import contact_relay
from relay.lease import keeper
from sandbox.models import IntercomContact, IntercomConversation, IntercomPart

from .test_round_trip import sandbox_workspace
from .test_webhook_view import APP_SECRET, make_channel, post_sms, post_whatsapp, wa_text

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_leftover_leases():
    yield
    keeper.forget()


@pytest.fixture
def workspace(cast, live_server, settings):
    return sandbox_workspace(cast, live_server, settings)


SHARED = "+15551234567"  # wa_text's customer writes from 15551234567


def sms_from(number: str, body: str) -> dict:
    return {
        "MessageSid": "SM" + "c" * 32,
        "AccountSid": "AC" + "1" * 32,
        "From": number,
        "To": "+15550001111",
        "Body": body,
        "NumMedia": "0",
    }


def relay_everyone():
    for contact in Contact.objects.order_by("pk"):
        contact_relay(contact_id=contact.pk)


def test_one_number_on_whatsapp_and_sms_is_one_inbox_contact_with_a_conversation_each(
    client, workspace
):
    whatsapp = make_channel(
        workspace,
        "whatsapp",
        {
            "phone_number_id": "PNID",
            "waba_id": "WABA",
            "access_token": "wa-token",
            "app_secret": APP_SECRET,
            "verify_token": "verify-me",
        },
        "PNID",
    )
    assert post_whatsapp(client, whatsapp, wa_text(body="Hi on WhatsApp")).status_code == 200
    response, _, _ = post_sms(client, workspace, sms_from(SHARED, "Hi by SMS"))
    assert response.status_code == 200
    relay_everyone()

    # Octopods keeps a contact per channel (each channel answers on its own line) ...
    assert sorted(Contact.objects.values_list("channel__kind", "phone_e164")) == [
        ("sms", SHARED),
        ("whatsapp", SHARED),
    ]
    # ... and the inbox has one person, found by phone, with two conversations.
    (person,) = IntercomContact.objects.filter(workspace="sbx-acme")
    assert person.phone == SHARED
    assert {c.inbox_contact_id for c in Contact.objects.all()} == {person.intercom_id}
    conversations = IntercomConversation.objects.filter(contact=person).order_by("pk")
    assert [sorted(t.name for t in c.tags.all()) for c in conversations] == [
        ["whatsapp line"],
        ["sms line"],
    ]
    bodies = [
        list(IntercomPart.objects.filter(conversation=c).values_list("body", flat=True))
        for c in conversations
    ]
    assert "Hi on WhatsApp" in str(bodies[0]) and "Hi by SMS" not in str(bodies[0])
    assert "Hi by SMS" in str(bodies[1]) and "Hi on WhatsApp" not in str(bodies[1])


def test_two_numbers_stay_two_inbox_contacts(client, workspace):
    response, _, _ = post_sms(client, workspace, sms_from("+15557654321", "Hi by SMS"))
    assert response.status_code == 200
    relay_everyone()
    (person,) = IntercomContact.objects.filter(workspace="sbx-acme")
    assert person.phone == "+15557654321"
