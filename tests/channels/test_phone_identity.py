"""One customer, one contact, whichever form of their number a provider reports
(integrations/phone_identity.py).

The equivalences are checked against published sources, cited in the module's
docstring: Brazil's ninth digit (Anatel Resolução 553, as Algar Telecom's "Nono dígito"
page summarises it; the 8-digit wa_id in wwebjs/whatsapp-web.js#596 and Baileys#1997;
chatwoot/chatwoot#5840 and #13986), Mexico's 1 after 52 (daddyz/phonelib#254;
chatwoot/chatwoot#14174) and Argentina's 9 after 54 (AfterShip/phone#125 and #18;
floere/phony#310; google/libphonenumber#684).

Webhook payloads follow Meta's "Messages webhook reference" (text messages:
``value.contacts[{profile.name, wa_id}]`` beside ``value.messages[{from, id,
timestamp, type, text}]``; Meta notes that "a WhatsApp user's phone number and ID may
not always match") and, for usernames, Meta's "Business-scoped user IDs" page
(``contacts[{profile{name, username}, user_id}]``, a message without ``from`` when the
number is withheld). Intercom's calls follow its REST API (``POST /contacts/search``,
``POST /conversations``, ``POST /conversations/{id}/reply``); HubSpot's follow the
custom channels API (``POST /conversations/v3/custom-channels/{id}/messages`` with
``senders[].deliveryIdentifier`` of type ``HS_PHONE_NUMBER``).
"""

import hashlib
import hmac
import json
from pathlib import Path
from urllib.parse import urlencode

import pytest
import responses
from django.conf import settings
from twilio.request_validator import RequestValidator

from channels import services
from channels.models import Channel, Contact, Conversation, Direction, Message
from inboxapp.canvas import Recipient
from inboxapp.selectors import contact_on
from integrations.phone_identity import canonical, equivalent_ids, equivalents
from relay.engine import contact_relay
from relay.lease import keeper
from workspaces.models import Provider, Workspace

from .conftest import acme_workspace, post_hubspot

pytestmark = pytest.mark.django_db

APP_SECRET = "wa-app-secret"
PNID = "100000000000001"
GRAPH_SEND = f"{settings.META_GRAPH_API_URL}/{PNID}/messages"
INTERCOM_FIXTURES = Path(__file__).parent.parent / "integrations" / "intercom" / "fixtures"
NINE = "+5511987654321"  # as an agent types +55 11 98765-4321
EIGHT = "+551187654321"  # as WhatsApp reports an account older than the ninth digit


# --- the equivalences ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "other", "valid"),
    [
        # Brazil: a mobile (8 digits starting 6-9) with and without the ninth digit.
        ("+5511987654321", "+551187654321", "+5511987654321"),
        ("+551187654321", "+5511987654321", "+5511987654321"),
        ("+552198765432", "+5521998765432", "+5521998765432"),
        # Mexico: the old mobile prefix 1 after 52.
        ("+5215512345678", "+525512345678", "+525512345678"),
        ("+525512345678", "+5215512345678", "+525512345678"),
        # Argentina: the mobile 9 after 54.
        ("+5491123456789", "+541123456789", "+5491123456789"),
        ("+541123456789", "+5491123456789", "+5491123456789"),
    ],
)
def test_it_knows_each_published_equivalence(number, other, valid):
    assert equivalents(number) == (number, other)
    assert canonical(number) == canonical(other) == valid


@pytest.mark.parametrize(
    "number",
    [
        "+552133334444",  # a Rio landline: landlines never had a ninth digit
        "+15551234567",
        "+447700900123",
        "+55119876543",  # too short for a Brazilian mobile
    ],
)
def test_other_numbers_have_no_other_form(number):
    assert equivalents(number) == (number,)
    assert canonical(number) == number


def test_provider_ids_follow_the_number():
    assert equivalent_ids("551187654321", EIGHT) == ("551187654321", "5511987654321")
    assert equivalent_ids(f"whatsapp:{NINE}", NINE) == (
        f"whatsapp:{NINE}",
        f"whatsapp:{EIGHT}",
    )
    assert equivalent_ids("BR.1502576394655843", EIGHT) == ("BR.1502576394655843",)


# --- the cast ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_leftover_leases():
    yield
    keeper.forget()


@pytest.fixture(params=[True, False], ids=["one-statement", "orm"])
def store(request, monkeypatch):
    """Both ways of storing a message (channels/ingest.py on PostgreSQL, the ORM
    elsewhere) must find the same contact."""
    monkeypatch.setattr(services, "ONE_STATEMENT", request.param)
    return request.param


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def whatsapp_on(workspace, pnid: str = PNID) -> Channel:
    channel = Channel(workspace=workspace, kind="whatsapp", name="Support", identity=pnid)
    channel.credentials_data = {
        "phone_number_id": pnid,
        "waba_id": "200000000000001",
        "access_token": "wa-token",
        "app_secret": APP_SECRET,
        "verify_token": "verify-me",
    }
    channel.save()
    return channel


@pytest.fixture
def intercom_line(cast):
    return whatsapp_on(acme_workspace(cast, access_token="tok-acme"))


@pytest.fixture
def hubspot_line(cast):
    workspace = Workspace.objects.create(
        account=cast.account,
        provider=Provider.HUBSPOT,
        external_id="4242",
        name="Acme HubSpot",
        access_token="tok-hs",
    )
    channel = whatsapp_on(workspace)
    channel.inbox_channel_id = "ca-77"
    channel.save()
    return channel


def wa_message(wamid: str, *, wa_id: str = "", user_id: str = "", name="Joana") -> bytes:
    """A text message webhook as Meta's "Messages webhook reference" shows it; with
    ``user_id`` the contact carries the business-scoped user id, and without ``wa_id``
    the number is withheld (Meta, "Business-scoped user IDs")."""
    contact = {"profile": {"name": name}}
    message = {"id": wamid, "timestamp": "1749416383", "type": "text", "text": {"body": "Oi!"}}
    if wa_id:
        contact["wa_id"] = wa_id
        message["from"] = wa_id
    if user_id:
        contact["user_id"] = user_id
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": PNID},
        "contacts": [contact],
        "messages": [message],
    }
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}],
        }
    ).encode()


def post_whatsapp(client, channel, body: bytes):
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    response = client.post(
        f"/hooks/whatsapp/{channel.webhook_key}/",
        data=body,
        content_type="application/json",
        headers={"X-Hub-Signature-256": signature},
    )
    assert response.status_code == 200, response.content


def post_agent_reply(client, conversation_id: str):
    """Intercom's ``conversation.admin.replied`` (the captured fixture), on the
    conversation the relay opened, its attachment left out."""
    payload = json.loads((INTERCOM_FIXTURES / "conversation.admin.replied.json").read_text())
    item = payload["data"]["item"]
    item["id"] = conversation_id
    for part in item["conversation_parts"]["conversation_parts"]:
        part["attachments"] = []
    body = json.dumps(payload).encode()
    secret = settings.INTERCOM_CLIENT_SECRET.encode()
    response = client.post(
        "/hooks/intercom/",
        data=body,
        content_type="application/json",
        headers={"X-Hub-Signature": "sha1=" + hmac.new(secret, body, hashlib.sha1).hexdigest()},
    )
    assert response.status_code == 200, response.content


def intercom(path: str) -> str:
    return f"{settings.INTERCOM_API_URL}{path}"


def intercom_knows(mocked, phone: str, contact_id: str = "ic-joana") -> None:
    """Intercom's search answers with its contact when the query names ``phone``."""

    def search(request):
        query = json.loads(request.body)["query"]
        found = phone in json.dumps(query)
        data = [{"type": "contact", "id": contact_id, "role": "user", "phone": phone}]
        return 200, {}, json.dumps({"type": "list", "data": data if found else []})

    mocked.add_callback(responses.POST, intercom("/contacts/search"), callback=search)
    mocked.post(
        intercom("/conversations"),
        json={"type": "user_message", "id": "m-1", "conversation_id": "499"},
    )
    mocked.post(intercom("/tags"), json={"type": "tag", "id": "17", "name": "Support"})
    mocked.post(intercom("/conversations/499/tags"), json={"type": "tag", "id": "17"})


def graph_accepts(mocked, wa_id: str) -> None:
    mocked.post(
        GRAPH_SEND,
        json={
            "messaging_product": "whatsapp",
            "contacts": [{"input": wa_id, "wa_id": wa_id}],
            "messages": [{"id": "wamid.out-1"}],
        },
    )


def calls_to(mocked, url: str) -> list[dict]:
    return [json.loads(call.request.body) for call in mocked.calls if call.request.url == url]


# --- Intercom, both orders of arrival ----------------------------------------------------


@pytest.mark.parametrize(
    ("known_as", "writes_from"),
    [(NINE, EIGHT), (EIGHT, NINE)],
    ids=["inbox-has-the-ninth-digit", "customer-writes-with-it"],
)
def test_intercom_finds_the_customer_by_either_form_and_the_reply_reaches_them(
    client, mocked, store, intercom_line, known_as, writes_from
):
    wa_id = writes_from.removeprefix("+")
    intercom_knows(mocked, known_as)
    post_whatsapp(client, intercom_line, wa_message("wamid.in-1", wa_id=wa_id))
    contact = Contact.objects.get(channel=intercom_line)

    contact_relay(contact_id=contact.pk)

    (search,) = calls_to(mocked, intercom("/contacts/search"))
    phones = {f["value"] for f in search["query"]["value"] if f["field"] == "phone"}
    assert phones == {NINE, EIGHT}
    assert not calls_to(mocked, intercom("/contacts"))  # no second Intercom contact
    (opened,) = calls_to(mocked, intercom("/conversations"))
    assert opened["from"] == {"type": "user", "id": "ic-joana"}
    contact.refresh_from_db()
    assert contact.inbox_contact_id == "ic-joana"

    graph_accepts(mocked, wa_id)
    post_agent_reply(client, "499")
    contact_relay(contact_id=contact.pk)

    (sent,) = calls_to(mocked, GRAPH_SEND)
    assert sent["to"] == wa_id  # the number WhatsApp knows
    assert sent["text"]["body"].startswith("Thanks! It left our warehouse")
    assert Contact.objects.filter(channel=intercom_line).count() == 1


# --- HubSpot -------------------------------------------------------------------------------


def post_hubspot_reply(client, thread_id: str, text: str):
    """HubSpot's ``OUTGOING_CHANNEL_MESSAGE_CREATED`` for an agent's reply in the thread."""
    message = {
        "id": f"hs-out-{thread_id}",
        "conversationsThreadId": thread_id,
        "direction": "OUTGOING",
        "text": text,
        "senders": [{"actorId": "A-1", "name": "Ben Agent"}],
    }
    payload = {"type": "OUTGOING_CHANNEL_MESSAGE_CREATED", "portalId": 4242, "message": message}
    response = post_hubspot(client, payload)
    assert response.status_code == 200, response.content


def hubspot_publish_url() -> str:
    return (
        f"{settings.HUBSPOT_API_URL}/conversations/v3/custom-channels/"
        f"{settings.HUBSPOT_CUSTOM_CHANNEL_ID}/messages"
    )


@pytest.mark.parametrize(
    ("first", "then"),
    [(NINE, EIGHT), (EIGHT, NINE)],
    ids=["known-with-the-ninth-digit", "writes-first-without-it"],
)
def test_hubspot_files_either_form_under_the_number_an_agent_types(
    client, mocked, store, hubspot_line, first, then, settings
):
    """Whichever form arrives first, HubSpot is given the one an agent types, so it files
    both messages under one contact and one thread; the reply goes to the number
    WhatsApp last wrote from."""
    settings.HUBSPOT_CUSTOM_CHANNEL_ID = "cc-1"
    publish = hubspot_publish_url()
    mocked.post(publish, json={"id": "hs-m-1", "conversationsThreadId": "t-1"})
    post_whatsapp(client, hubspot_line, wa_message("wamid.in-1", wa_id=first[1:]))
    contact = Contact.objects.get(channel=hubspot_line)
    contact_relay(contact_id=contact.pk)
    post_whatsapp(client, hubspot_line, wa_message("wamid.in-2", wa_id=then[1:]))
    contact_relay(contact_id=contact.pk)

    published = calls_to(mocked, publish)
    assert [p["senders"][0]["deliveryIdentifier"] for p in published] == [
        {"type": "HS_PHONE_NUMBER", "value": NINE}
    ] * 2
    assert {p["integrationThreadId"] for p in published} == {f"whatsapp:{first[1:]}"}
    assert Contact.objects.filter(channel=hubspot_line).count() == 1

    graph_accepts(mocked, then[1:])
    mocked.patch(f"{publish}/hs-out-t-1", json={})
    post_hubspot_reply(client, "t-1", "Obrigado! Chega amanhã.")
    contact_relay(contact_id=contact.pk)

    (sent,) = calls_to(mocked, GRAPH_SEND)
    assert sent["to"] == then[1:]
    assert sent["text"]["body"] == "Obrigado! Chega amanhã."


def test_hubspot_files_whatsapp_and_sms_from_one_number_under_one_contact_in_two_threads(
    client, mocked, store, hubspot_line, settings
):
    """One number on two channels (README "One number on two channels"): both channels
    give HubSpot the same ``HS_PHONE_NUMBER``, by which HubSpot files a message under a
    contact (custom channels API, ``senders[].deliveryIdentifier``), each in the thread
    of its own channel account and ``integrationThreadId``."""
    settings.HUBSPOT_CUSTOM_CHANNEL_ID = "cc-1"
    publish = hubspot_publish_url()
    mocked.post(publish, json={"id": "hs-m-1", "conversationsThreadId": "t-1"})
    post_whatsapp(client, hubspot_line, wa_message("wamid.in-1", wa_id=EIGHT[1:]))
    sms = sms_on(hubspot_line.workspace)
    sms.inbox_channel_id = "ca-78"
    sms.save()
    post_sms(client, sms, NINE, "SM" + "c" * 32)
    for contact in Contact.objects.order_by("pk"):
        contact_relay(contact_id=contact.pk)

    published = calls_to(mocked, publish)
    assert [p["senders"][0]["deliveryIdentifier"]["value"] for p in published] == [NINE, NINE]
    assert [(p["channelAccountId"], p["integrationThreadId"]) for p in published] == [
        ("ca-77", f"whatsapp:{EIGHT[1:]}"),
        ("ca-78", f"sms:{NINE}"),
    ]


# --- one contact in Octopods ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "then"),
    [(NINE, EIGHT), (EIGHT, NINE)],
    ids=["known-with-the-ninth-digit", "known-without-it"],
)
def test_a_customer_writing_from_another_form_is_the_same_contact(
    client, store, intercom_line, first, then
):
    # First known by one form (an agent's send from the inbox app creates the contact
    # under the number typed; here an earlier message), then writing from the other.
    post_whatsapp(client, intercom_line, wa_message("wamid.in-1", wa_id=first[1:]))
    post_whatsapp(client, intercom_line, wa_message("wamid.in-2", wa_id=then[1:], name="Jo"))

    contact = Contact.objects.get(channel=intercom_line)
    assert contact.external_id == first[1:]  # the key its inbox thread was made under
    assert contact.send_to == then[1:]  # replies go where WhatsApp last wrote from
    assert contact.name == "Jo"
    assert Message.objects.filter(contact=contact, direction=Direction.INBOUND).count() == 2


def test_the_same_number_on_another_channel_or_account_stays_apart(
    client, store, cast, intercom_line
):
    other_account = whatsapp_on(cast.other_workspace, pnid="100000000000002")
    post_whatsapp(client, intercom_line, wa_message("wamid.in-1", wa_id=NINE[1:]))
    post_whatsapp(client, other_account, wa_message("wamid.in-2", wa_id=EIGHT[1:]))
    assert Contact.objects.get(channel=other_account).external_id == EIGHT[1:]
    assert Contact.objects.get(channel=intercom_line).external_id == NINE[1:]


# --- business-scoped user ids --------------------------------------------------------------


def test_the_business_scoped_user_id_keys_a_customer_whose_number_goes_away(
    client, store, intercom_line
):
    bsuid = "BR.1502576394655843"
    post_whatsapp(client, intercom_line, wa_message("wamid.in-1", wa_id=EIGHT[1:], user_id=bsuid))
    post_whatsapp(client, intercom_line, wa_message("wamid.in-2", user_id=bsuid))

    contact = Contact.objects.get(channel=intercom_line)
    assert contact.external_id == bsuid
    assert contact.phone_e164 == EIGHT
    assert contact.send_to == EIGHT[1:]  # replies still go to the wa_id
    assert Message.objects.filter(contact=contact).count() == 2


def test_a_customer_known_only_by_their_user_id_is_answered_through_recipient(
    client, mocked, store, intercom_line
):
    """A customer with a username and no number: the reply goes by their user id in
    ``recipient``, never in ``to`` (Meta's "Business-scoped user IDs": "Use to to send to
    a phone number, recipient to send to a BSUID"; the answer names them in
    ``contacts[].user_id``)."""
    bsuid = "BR.1502576394655843"
    intercom_knows(mocked, "nobody")
    mocked.post(intercom("/contacts"), json={"type": "contact", "id": "ic-new", "role": "lead"})
    post_whatsapp(client, intercom_line, wa_message("wamid.in-1", user_id=bsuid))
    contact = Contact.objects.get(channel=intercom_line)
    contact_relay(contact_id=contact.pk)

    mocked.post(
        GRAPH_SEND,
        json={
            "messaging_product": "whatsapp",
            "contacts": [{"input": bsuid, "user_id": bsuid}],
            "messages": [{"id": "wamid.out-1"}],
        },
    )
    post_agent_reply(client, "499")
    contact_relay(contact_id=contact.pk)

    (sent,) = calls_to(mocked, GRAPH_SEND)
    assert sent["recipient"] == bsuid
    assert "to" not in sent
    assert Message.objects.get(contact=contact, direction=Direction.OUTBOUND).status == "sent"


def test_a_user_id_appearing_beside_a_known_number_keeps_the_contact(client, store, intercom_line):
    post_whatsapp(client, intercom_line, wa_message("wamid.in-1", wa_id=NINE[1:]))
    post_whatsapp(
        client,
        intercom_line,
        wa_message("wamid.in-2", wa_id=EIGHT[1:], user_id="BR.1502576394655843"),
    )
    contact = Contact.objects.get(channel=intercom_line)
    assert contact.external_id == NINE[1:]
    assert contact.send_to == EIGHT[1:]
    assert not Conversation.objects.exists()


# --- SMS, and the inbox app's lookup -------------------------------------------------------


def sms_on(workspace) -> Channel:
    channel = Channel(workspace=workspace, kind="sms", name="Twilio", identity="+15550001111")
    channel.credentials_data = {
        "account_sid": "AC" + "1" * 32,
        "auth_token": "tw-auth",
        "phone_number": "+15550001111",
    }
    channel.save()
    return channel


def post_sms(client, channel, sender: str, sid: str):
    """Twilio's incoming-message webhook (form fields as Twilio's "TwiML for
    Programmable Messaging" request parameters list them), signed as the official
    ``RequestValidator`` signs it."""
    form = {
        "MessageSid": sid,
        "AccountSid": "AC" + "1" * 32,
        "From": sender,
        "To": "+15550001111",
        "Body": "Hola",
        "NumMedia": "0",
    }
    path = f"/hooks/sms/{channel.webhook_key}/"
    signature = RequestValidator("tw-auth").compute_signature(settings.PUBLIC_BASE_URL + path, form)
    response = client.post(
        path,
        urlencode(form),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )
    assert response.status_code == 200, response.content


def test_an_sms_from_mexicos_old_mobile_form_is_the_same_contact(client, store, cast):
    channel = sms_on(acme_workspace(cast))
    post_sms(client, channel, "+525512345678", "SM" + "a" * 32)
    post_sms(client, channel, "+5215512345678", "SM" + "b" * 32)

    contact = Contact.objects.get(channel=channel)
    assert contact.external_id == "+525512345678"
    assert contact.send_to == "+5215512345678"
    assert Message.objects.filter(contact=contact).count() == 2


def test_the_inbox_app_finds_the_whatsapp_contact_by_the_number_the_agent_typed(
    client, intercom_line
):
    post_whatsapp(client, intercom_line, wa_message("wamid.in-1", wa_id=EIGHT[1:]))
    found = contact_on(channel=intercom_line, recipient=Recipient(phone=NINE))
    assert found == Contact.objects.get(channel=intercom_line)
    assert contact_on(channel=intercom_line, recipient=Recipient(phone="+5511987654322")) is None
