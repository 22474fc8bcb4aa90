import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from integrations.base import AgentReply, InboxAttachment
from integrations.channel import MalformedPayload, WebhookRejected, WebhookRequest
from integrations.hubspot.adapter import HubSpotAdapter

FIXTURES = Path(__file__).parent / "fixtures"
URL = "https://bridge.example.com/hooks/hubspot/"
SECRET = "hubspot-client-secret-for-tests"
APP_ID = "7000001"

adapter = HubSpotAdapter()


@pytest.fixture(autouse=True)
def hubspot_app(settings):
    settings.HUBSPOT_CLIENT_SECRET = SECRET
    settings.HUBSPOT_APP_ID = APP_ID


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def now_ms() -> str:
    return str(int(time.time() * 1000))


def sign(body: bytes, *, uri=URL, timestamp: str, secret=SECRET, method="POST") -> str:
    # Written out from HubSpot's guide rather than with the product's helper, so a
    # mistake there cannot agree with itself.
    source = f"{method}{uri}".encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest()).decode()


def request(body: bytes, *, url=URL, headers: dict[str, str] | None = None) -> WebhookRequest:
    if headers is None:
        timestamp = now_ms()
        headers = {
            "Content-Type": "application/json",
            "X-HubSpot-Signature-v3": sign(body, uri=url, timestamp=timestamp),
            "X-HubSpot-Request-Timestamp": timestamp,
        }
    return WebhookRequest(method="POST", url=url, headers=headers, body=body)


def parsed(name: str) -> list:
    hook = request(fixture(name))
    adapter.verify_webhook(request=hook)
    return adapter.parse_webhook(request=hook)


def parse_json(payload) -> list:
    return adapter.parse_webhook(request=request(json.dumps(payload).encode()))


def outgoing(**message) -> dict:
    return {
        "type": "OUTGOING_CHANNEL_MESSAGE_CREATED",
        "portalId": "9000001",
        "message": {
            "id": "msg-1",
            "conversationsThreadId": "8765001234",
            "channelAccountId": "3307400689",
            "channelIntegrationThreadIds": ["whatsapp:15551234567"],
            "senders": [{"actorId": "A-1", "name": "Ben Agent"}],
            "text": "Hello",
            **message,
        },
    }


# --- verify --------------------------------------------------------------------------


def test_it_accepts_a_fresh_v3_signature_over_method_url_body_and_timestamp():
    adapter.verify_webhook(request=request(fixture("OUTGOING_CHANNEL_MESSAGE_CREATED.json")))


def test_it_reads_the_headers_whatever_their_case():
    body = fixture("OUTGOING_CHANNEL_MESSAGE_CREATED.json")
    timestamp = now_ms()
    headers = {
        "x-hubspot-signature-v3": sign(body, timestamp=timestamp),
        "x-hubspot-request-timestamp": timestamp,
    }
    adapter.verify_webhook(request=request(body, headers=headers))


def test_it_rejects_a_request_without_a_signature():
    body = fixture("OUTGOING_CHANNEL_MESSAGE_CREATED.json")
    headers = {"X-HubSpot-Request-Timestamp": now_ms()}
    with pytest.raises(WebhookRejected, match="missing X-HubSpot-Signature-v3"):
        adapter.verify_webhook(request=request(body, headers=headers))


def test_it_rejects_a_request_without_a_timestamp():
    body = fixture("OUTGOING_CHANNEL_MESSAGE_CREATED.json")
    headers = {"X-HubSpot-Signature-v3": sign(body, timestamp="")}
    with pytest.raises(WebhookRejected, match="X-HubSpot-Request-Timestamp"):
        adapter.verify_webhook(request=request(body, headers=headers))


def test_it_rejects_a_signature_made_with_another_secret():
    body = fixture("OUTGOING_CHANNEL_MESSAGE_CREATED.json")
    timestamp = now_ms()
    headers = {
        "X-HubSpot-Signature-v3": sign(body, timestamp=timestamp, secret="someone-elses"),
        "X-HubSpot-Request-Timestamp": timestamp,
    }
    with pytest.raises(WebhookRejected, match="mismatch"):
        adapter.verify_webhook(request=request(body, headers=headers))


def test_it_rejects_a_timestamp_older_than_five_minutes_even_when_signed():
    body = fixture("OUTGOING_CHANNEL_MESSAGE_CREATED.json")
    stale = str(int((time.time() - 5 * 60 - 5) * 1000))
    headers = {
        "X-HubSpot-Signature-v3": sign(body, timestamp=stale),
        "X-HubSpot-Request-Timestamp": stale,
    }
    with pytest.raises(WebhookRejected, match="five minutes"):
        adapter.verify_webhook(request=request(body, headers=headers))


def test_it_accepts_a_timestamp_four_minutes_old_and_rejects_one_far_ahead():
    body = fixture("OUTGOING_CHANNEL_MESSAGE_CREATED.json")
    for offset, accepted in ((-4 * 60, True), (10 * 60, False)):
        timestamp = str(int((time.time() + offset) * 1000))
        headers = {
            "X-HubSpot-Signature-v3": sign(body, timestamp=timestamp),
            "X-HubSpot-Request-Timestamp": timestamp,
        }
        if accepted:
            adapter.verify_webhook(request=request(body, headers=headers))
        else:
            with pytest.raises(WebhookRejected, match="five minutes"):
                adapter.verify_webhook(request=request(body, headers=headers))


def test_it_rejects_a_timestamp_that_is_not_a_number():
    body = fixture("OUTGOING_CHANNEL_MESSAGE_CREATED.json")
    headers = {
        "X-HubSpot-Signature-v3": sign(body, timestamp="soon"),
        "X-HubSpot-Request-Timestamp": "soon",
    }
    with pytest.raises(WebhookRejected, match="malformed X-HubSpot-Request-Timestamp"):
        adapter.verify_webhook(request=request(body, headers=headers))


def test_it_rejects_a_body_with_one_byte_changed():
    body = fixture("OUTGOING_CHANNEL_MESSAGE_CREATED.json")
    timestamp = now_ms()
    headers = {
        "X-HubSpot-Signature-v3": sign(body, timestamp=timestamp),
        "X-HubSpot-Request-Timestamp": timestamp,
    }
    tampered = body.replace(b'"8765001234"', b'"8765001235"', 1)
    assert tampered != body and len(tampered) == len(body)
    with pytest.raises(WebhookRejected, match="mismatch"):
        adapter.verify_webhook(request=request(tampered, headers=headers))


def test_it_rejects_a_signature_for_another_timestamp_or_url():
    body = fixture("OUTGOING_CHANNEL_MESSAGE_CREATED.json")
    timestamp = now_ms()
    for signature in (
        sign(body, timestamp=str(int(timestamp) - 1)),
        sign(body, timestamp=timestamp, uri="https://elsewhere.example.com/hooks/hubspot/"),
        sign(body, timestamp=timestamp, method="PUT"),
    ):
        headers = {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": timestamp}
        with pytest.raises(WebhookRejected, match="mismatch"):
            adapter.verify_webhook(request=request(body, headers=headers))


def test_it_decodes_the_escapes_hubspot_decodes_before_signing_the_uri():
    body = fixture("OUTGOING_CHANNEL_MESSAGE_CREATED.json")
    served = URL + "?portal=acme%3Aeu&next=%2Fhome%3Fa%3D1&who=%40ada%2C%21"
    decoded = URL + "?portal=acme:eu&next=/home?a%3D1&who=@ada,!"
    timestamp = now_ms()
    headers = {
        "X-HubSpot-Signature-v3": sign(body, uri=decoded, timestamp=timestamp),
        "X-HubSpot-Request-Timestamp": timestamp,
    }
    adapter.verify_webhook(request=request(body, url=served, headers=headers))
    # Escapes HubSpot does not decode (%3D, %20) stay as they are.
    wrongly_decoded = URL + "?portal=acme:eu&next=/home?a=1&who=@ada,!"
    headers["X-HubSpot-Signature-v3"] = sign(body, uri=wrongly_decoded, timestamp=timestamp)
    with pytest.raises(WebhookRejected, match="mismatch"):
        adapter.verify_webhook(request=request(body, url=served, headers=headers))


def test_it_also_accepts_the_uri_exactly_as_served():
    body = fixture("OUTGOING_CHANNEL_MESSAGE_CREATED.json")
    served = URL + "?portal=acme%3Aeu"
    timestamp = now_ms()
    headers = {
        "X-HubSpot-Signature-v3": sign(body, uri=served, timestamp=timestamp),
        "X-HubSpot-Request-Timestamp": timestamp,
    }
    adapter.verify_webhook(request=request(body, url=served, headers=headers))


def test_it_rejects_the_same_json_serialized_again_and_a_non_ascii_signature():
    body = fixture("OUTGOING_CHANNEL_MESSAGE_CREATED.json")
    timestamp = now_ms()
    headers = {
        "X-HubSpot-Signature-v3": sign(body, timestamp=timestamp),
        "X-HubSpot-Request-Timestamp": timestamp,
    }
    reserialized = json.dumps(json.loads(body), separators=(",", ":")).encode()
    with pytest.raises(WebhookRejected, match="mismatch"):
        adapter.verify_webhook(request=request(reserialized, headers=headers))
    headers["X-HubSpot-Signature-v3"] = "é" * 44
    with pytest.raises(WebhookRejected, match="mismatch"):
        adapter.verify_webhook(request=request(body, headers=headers))


def test_it_rejects_everything_while_no_client_secret_is_configured(settings):
    settings.HUBSPOT_CLIENT_SECRET = ""
    body = fixture("OUTGOING_CHANNEL_MESSAGE_CREATED.json")
    timestamp = now_ms()
    headers = {
        "X-HubSpot-Signature-v3": sign(body, timestamp=timestamp, secret=""),
        "X-HubSpot-Request-Timestamp": timestamp,
    }
    with pytest.raises(WebhookRejected, match="no HubSpot client secret"):
        adapter.verify_webhook(request=request(body, headers=headers))


# --- fixtures, one each ----------------------------------------------------------------


def test_it_turns_an_agents_message_into_a_reply_with_its_files():
    assert parsed("OUTGOING_CHANNEL_MESSAGE_CREATED.json") == [
        AgentReply(
            workspace_external_id="9000001",
            conversation_id="8765001234",
            part_id="a1b2c3d4e5f60718293a4b5c6d7e8f90",
            admin_id="A-5100011",
            admin_name="Ben Agent",
            body_html="<div>Your order <b>ships today</b>. Invoice attached.</div>",
            # The image came without a link: nothing to send on.
            attachments=(
                InboxAttachment(
                    url="https://f.hubspotusercontent-na1.net/hubfs/9000001/invoice-1042.pdf",
                    name="invoice-1042.pdf",
                    content_type="application/pdf",
                ),
            ),
            at=datetime(2026, 5, 27, 12, 15, 2, tzinfo=UTC),
            customer_external_id="whatsapp:15551234567",
            channel_account_id="3307400689",
        )
    ]


def test_it_escapes_a_plain_text_message_and_reads_ids_given_as_numbers():
    assert parsed("OUTGOING_CHANNEL_MESSAGE_CREATED.plain_text.json") == [
        AgentReply(
            workspace_external_id="9000002",
            conversation_id="8765009999",
            part_id="msg-plain-1",
            admin_id="A-5100012",
            admin_name="Hank Helper",
            body_html="<p>Prices: 3 &lt; 5 &amp; &quot;free&quot; shipping.</p>"
            "<p>Thanks,<br>Hank</p>",
            at=datetime.fromtimestamp(1_780_000_000, tz=UTC),
            # Some payloads carry the thread ids and the account on the event.
            customer_external_id="telegram:5512",
            channel_account_id="3307400777",
        )
    ]


def test_it_skips_a_message_our_own_app_published():
    assert parsed("OUTGOING_CHANNEL_MESSAGE_CREATED.our_echo.json") == []


def test_it_has_nothing_to_do_when_a_channel_account_is_created():
    assert parsed("CHANNEL_ACCOUNT_CREATED.json") == []


def test_it_has_nothing_to_do_when_a_channel_account_is_updated():
    assert parsed("CHANNEL_ACCOUNT_UPDATED.json") == []


def test_it_reads_a_list_of_events_and_the_event_type_under_either_name():
    [reply] = parsed("batch.json")
    assert (reply.part_id, reply.body_html, reply.admin_name) == (
        "msg-batch-1",
        "<p>On it!</p>",
        "Ada Admin",
    )


# --- what is skipped -------------------------------------------------------------------


def test_it_skips_every_integration_written_message_while_the_app_id_is_unset(settings):
    settings.HUBSPOT_APP_ID = ""
    other_app = outgoing(client={"clientType": "INTEGRATION", "integrationAppId": 42})
    assert parse_json(other_app) == []


def test_it_relays_another_apps_message_when_ours_is_known():
    other_app = outgoing(client={"clientType": "INTEGRATION", "integrationAppId": 42})
    assert [reply.part_id for reply in parse_json(other_app)] == ["msg-1"]


def test_it_skips_incoming_messages_and_events_it_does_not_know():
    assert parse_json(outgoing(direction="INCOMING")) == []
    assert parse_json({"type": "CONVERSATION_CLOSED", "portalId": "9000001"}) == []


def test_it_falls_back_to_the_creator_when_the_message_names_no_sender():
    [reply] = parse_json(outgoing(senders=[], createdBy="A-77"))
    assert (reply.admin_id, reply.admin_name) == ("A-77", "")


def test_it_uses_the_integration_thread_id_when_no_list_is_given():
    message = outgoing(integrationThreadId="sms:+15550001111")
    del message["message"]["channelIntegrationThreadIds"]
    [reply] = parse_json(message)
    assert reply.customer_external_id == "sms:+15550001111"


# --- malformed -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b'"a string"', "events.0 is not an object"),
        (b"[1]", "events.0 is not an object"),
        (b'{"portalId": "1"}', "no type"),
        (b'{"type": "OUTGOING_CHANNEL_MESSAGE_CREATED", "portalId": "1"}', "message is missing"),
    ],
)
def test_it_rejects_a_body_that_is_not_hubspots(payload, problem):
    with pytest.raises(MalformedPayload, match=problem):
        adapter.parse_webhook(request=request(payload))


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"conversationsThreadId": None}, "conversationsThreadId is not an id"),
        ({"id": ""}, "id is not an id"),
        ({"senders": "Ben"}, "senders is not a list"),
        ({"attachments": {"type": "FILE"}}, "attachments is not a list"),
        ({"text": 5}, "text is not a string"),
        ({"createdAt": "yesterday"}, "createdAt is not an ISO 8601 time"),
        ({"channelIntegrationThreadIds": [1]}, "not a list of strings"),
        ({"client": "HUBSPOT"}, "client is not an object"),
    ],
)
def test_it_rejects_a_message_of_the_wrong_shape(change, problem):
    with pytest.raises(MalformedPayload, match=problem):
        parse_json(outgoing(**change))


def test_it_rejects_an_event_without_its_portal():
    event = outgoing()
    del event["portalId"]
    with pytest.raises(MalformedPayload, match="portalId is missing"):
        parse_json(event)


# --- the event as typed models -----------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"senders": [{"actorId": True, "name": "Ben"}]}, "message.senders.0.actorId is not an id"),
        (
            {"attachments": [{"type": "FILE", "url": "https://x/a.pdf", "name": 7}]},
            "message.attachments.0.name is not a string",
        ),
        ({"client": {"clientType": ["INTEGRATION"]}}, "message.client.clientType is not a string"),
    ],
)
def test_it_names_where_a_field_deep_in_the_message_is_of_the_wrong_type(change, problem):
    """The message is shaped as HubSpot's custom-channel message (senders[].actorId,
    client.clientType, attachments[].name: https://developers.hubspot.com/docs/api-reference/legacy/conversations/custom-channels/messages/create-custom-channel)."""
    with pytest.raises(MalformedPayload) as refused:
        parse_json(outgoing(**change))
    assert str(refused.value) == problem


def test_it_reads_null_optional_fields_as_empty():
    """Optional fields of the message may come as null (PROVIDERS.md §2.3)."""
    [reply] = parse_json(
        outgoing(
            senders=[{"actorId": None, "name": None}],
            createdBy=None,
            direction=None,
            client=None,
            richText=None,
            attachments=None,
            createdAt=None,
        )
    )
    assert (reply.admin_id, reply.admin_name, reply.body_html) == ("", "", "<p>Hello</p>")
    assert (reply.attachments, reply.at) == ((), None)


def test_it_ignores_fields_it_does_not_read():
    """HubSpot adds fields to its webhook events and messages without notice."""
    plain = parse_json(outgoing())
    event = outgoing(truncationStatus={"new": 1}, status={"statusType": "SENT"})
    event["subscriptionId"] = 12
    event["attemptNumber"] = "0"
    assert parse_json(event) == plain
