"""The customer phone produces a Brazilian customer (issue 13, point 1): WhatsApp's
``wa_id`` without the ninth digit, while the sandbox Intercom knows her by the number a
team types (integrations/phone_identity.py cites the rule). The webhook is judged by the
product's own verifier and parser, its shape being Meta's "Messages webhook reference"
text message (``contacts[{profile.name, wa_id}]``, ``messages[{from, …}]``)."""

import pytest
import responses

from integrations.whatsapp import webhooks as whatsapp_hooks
from sandbox.directory import INTERCOM_WORKSPACES
from sandbox.models import Conversation, IntercomContact
from tests.sandbox.support import HOOKS, register_whatsapp, webhook_request

from .test_intercom_inbox import ACME, search
from .test_phone import WHATSAPP_CREDENTIALS, say

pytestmark = pytest.mark.django_db


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_it_writes_as_a_brazilian_the_inbox_knows_with_the_ninth_digit(client, mocked):
    register_whatsapp(client, mocked)
    mocked.add(responses.POST, HOOKS["whatsapp"], status=200)

    response = client.post("/sandbox/phone/brazilian")
    assert response.status_code == 302
    chat = Conversation.objects.get()
    assert (chat.customer_id, chat.customer_name) == ("551187654321", "Joana Silva")
    known = IntercomContact.objects.filter(phone="+5511987654321", name="Joana Silva")
    assert sorted(known.values_list("workspace", flat=True)) == sorted(
        w.id_code for w in INTERCOM_WORKSPACES
    )

    say(client, chat, what="text", text="Oi, cadê meu pedido?")
    [request] = [c.request for c in mocked.calls if c.request.url == HOOKS["whatsapp"]]
    hook_request = webhook_request(request)
    whatsapp_hooks.verify(credentials=WHATSAPP_CREDENTIALS, request=hook_request)
    [message] = whatsapp_hooks.parse(request=hook_request)
    assert message.sender.external_id == "551187654321"
    assert message.sender.phone == "+551187654321"

    # Octopods' search for her (every form of the number, then its key) finds her.
    query = {
        "operator": "OR",
        "value": [
            {"field": "phone", "operator": "=", "value": "+551187654321"},
            {"field": "phone", "operator": "=", "value": "+5511987654321"},
            {"field": "external_id", "operator": "=", "value": "whatsapp:551187654321"},
        ],
    }
    found = search(client, "/contacts/search", query, pagination={"per_page": 50}).json()
    assert [c["name"] for c in found["data"]] == ["Joana Silva"]
    assert found["data"][0]["workspace_id"] == ACME

    # A second press opens the same chat and adds no second contact.
    client.post("/sandbox/phone/brazilian")
    assert Conversation.objects.count() == 1
    assert known.count() == len(INTERCOM_WORKSPACES)


def test_without_a_whatsapp_channel_it_says_what_to_do(client):
    response = client.post("/sandbox/phone/brazilian", follow=True)
    assert "Add a WhatsApp channel in Octopods first." in response.content.decode()
    assert not IntercomContact.objects.exists()
