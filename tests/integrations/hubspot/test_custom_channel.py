import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
import requests

from integrations.base import InboxCustomer, InboxDelivery, InboxRefs, ProviderError, TokenSet
from integrations.hubspot.adapter import HubSpotAdapter

from ..conftest import hubspot_api

TOKENS = TokenSet(access_token="hs-access", refresh_token="hs-refresh")
CHANNEL_ID = "4000001"
ACCOUNT_ID = "3307400689"
THREAD_ID = "8765001234"
MESSAGES = f"/conversations/v3/custom-channels/{CHANNEL_ID}/messages"
ACCOUNTS = f"/conversations/v3/custom-channels/{CHANNEL_ID}/channel-accounts"
INBOXES = "/conversations/v3/conversations/inboxes"

JANE = InboxCustomer(external_id="whatsapp:15551234567", name="Jane Doe", phone="+15551234567")

adapter = HubSpotAdapter()


@pytest.fixture(autouse=True)
def custom_channel(settings):
    settings.HUBSPOT_CUSTOM_CHANNEL_ID = CHANNEL_ID


def sent(call) -> dict:
    return json.loads(call.request.body)


def assert_bearer(call):
    assert call.request.headers["Authorization"] == "Bearer hs-access"


def published(message_id="msg-1", thread_id=THREAD_ID, **fields) -> dict:
    """HubSpot's answer to a publish: the message as it stored it."""
    return {
        "id": message_id,
        "conversationsThreadId": thread_id,
        "channelId": CHANNEL_ID,
        "channelAccountId": ACCOUNT_ID,
        "direction": "INCOMING",
        "type": "MESSAGE",
        "client": {"clientType": "INTEGRATION", "integrationAppId": 7000001},
        "status": {"statusType": "RECEIVED"},
        "truncationStatus": "NOT_TRUNCATED",
        "createdAt": "2026-05-01T10:00:01.000Z",
        **fields,
    }


def delivery(**fields) -> InboxDelivery:
    return InboxDelivery(
        **{
            "customer": JANE,
            "body": "Hi, is my order on its way?",
            "tag": "WhatsApp Support",
            "channel_account_id": ACCOUNT_ID,
            "idempotency_key": "octopods-41",
            "sent_at": datetime(2026, 5, 1, 10, 0, 0, 250000, tzinfo=UTC),
            **fields,
        }
    )


def deliver(**fields) -> InboxRefs:
    return adapter.deliver(tokens=TOKENS, delivery=delivery(**fields))


# --- channel accounts ------------------------------------------------------------------


def inboxes(*ids: str) -> dict:
    return {
        "results": [
            {"id": inbox_id, "name": f"Inbox {inbox_id}", "type": "INBOX", "archived": False}
            for inbox_id in ids
        ],
        "total": len(ids),
    }


def test_it_connects_a_channel_as_an_account_in_the_portals_first_inbox(mocked):
    mocked.get(hubspot_api(INBOXES), json=inboxes("147000101", "147000102"))
    mocked.post(
        hubspot_api(ACCOUNTS),
        status=201,
        json={"id": ACCOUNT_ID, "channelId": CHANNEL_ID, "inboxId": "147000101"},
    )
    account_id = adapter.channel_connect(
        tokens=TOKENS, name="WhatsApp Support", identity="106540352242922"
    )
    assert account_id == ACCOUNT_ID
    listing, creation = mocked.calls
    assert_bearer(listing)
    assert_bearer(creation)
    assert creation.request.url == hubspot_api(ACCOUNTS)
    assert sent(creation) == {
        "name": "WhatsApp Support",
        "inboxId": "147000101",
        "authorized": True,
        "deliveryIdentifier": {"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": "106540352242922"},
    }


def test_it_says_what_to_do_when_the_portal_has_no_inbox(mocked):
    mocked.get(hubspot_api(INBOXES), json=inboxes())
    with pytest.raises(ProviderError, match="no conversations inbox") as caught:
        adapter.channel_connect(tokens=TOKENS, name="SMS", identity="+15550001111")
    assert caught.value.permanent
    assert len(mocked.calls) == 1


def test_it_refuses_to_connect_until_the_custom_channel_is_configured(settings, mocked):
    settings.HUBSPOT_CUSTOM_CHANNEL_ID = ""
    with pytest.raises(ProviderError, match="HUBSPOT_CUSTOM_CHANNEL_ID") as caught:
        adapter.channel_connect(tokens=TOKENS, name="SMS", identity="+15550001111")
    assert caught.value.permanent
    assert "hubspot_custom_channel" in caught.value.message
    assert len(mocked.calls) == 0


def test_it_disconnects_a_channel_by_unauthorizing_its_account(mocked):
    mocked.patch(hubspot_api(f"{ACCOUNTS}/{ACCOUNT_ID}"), json={"id": ACCOUNT_ID})
    adapter.channel_disconnect(tokens=TOKENS, channel_account_id=ACCOUNT_ID)
    [call] = mocked.calls
    assert_bearer(call)
    assert call.request.method == "PATCH"
    assert sent(call) == {"authorized": False}


# --- delivering ------------------------------------------------------------------------


def test_it_publishes_the_customers_message_incoming_in_their_thread(mocked):
    mocked.post(hubspot_api(MESSAGES), status=201, json=published())
    refs = deliver()
    assert refs == InboxRefs(
        contact_id="+15551234567", conversation_id=THREAD_ID, part_id="msg-1", opened=True
    )
    [call] = mocked.calls
    assert_bearer(call)
    assert call.request.url == hubspot_api(MESSAGES)
    assert sent(call) == {
        "messageDirection": "INCOMING",
        "channelAccountId": ACCOUNT_ID,
        "integrationThreadId": "whatsapp:15551234567",
        "integrationIdempotencyId": "octopods-41",
        "text": "Hi, is my order on its way?",
        "timestamp": "2026-05-01T10:00:00.250Z",
        "senders": [
            {
                "name": "Jane Doe",
                "deliveryIdentifier": {"type": "HS_PHONE_NUMBER", "value": "+15551234567"},
            }
        ],
        "recipients": [
            {"deliveryIdentifier": {"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": ACCOUNT_ID}}
        ],
        "attachments": [],
    }


def test_it_appends_to_the_thread_it_was_given_without_opening_one(mocked):
    mocked.post(hubspot_api(MESSAGES), status=201, json=published("msg-2"))
    refs = deliver(conversation_id=THREAD_ID)
    assert (refs.conversation_id, refs.part_id, refs.opened) == (THREAD_ID, "msg-2", False)


def test_it_reports_a_new_thread_when_hubspot_threads_elsewhere(mocked):
    # Should HubSpot file the message in a thread other than the one we knew (ours was
    # deleted, say), the relay must learn the new one.
    mocked.post(hubspot_api(MESSAGES), status=201, json=published(thread_id="8765005555"))
    refs = deliver(conversation_id=THREAD_ID)
    assert (refs.conversation_id, refs.opened) == ("8765005555", True)


def test_it_names_a_customer_without_a_phone_by_our_id_for_them(mocked):
    mocked.post(hubspot_api(MESSAGES), status=201, json=published())
    refs = deliver(customer=InboxCustomer(external_id="telegram:5512"))
    assert refs.contact_id == "telegram:5512"
    assert sent(mocked.calls[0])["senders"] == [
        {"deliveryIdentifier": {"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": "telegram:5512"}}
    ]


def test_it_links_the_customers_files_in_the_text(mocked):
    mocked.post(hubspot_api(MESSAGES), status=201, json=published())
    deliver(
        body="Here is the photo",
        attachment_urls=(
            "https://octopods.example.com/media/abc/",
            "https://octopods.example.com/media/def/",
        ),
    )
    body = sent(mocked.calls[0])
    assert body["text"] == (
        "Here is the photo\n"
        "https://octopods.example.com/media/abc/\n"
        "https://octopods.example.com/media/def/"
    )
    assert body["attachments"] == []


def test_it_sends_a_file_alone_as_its_link(mocked):
    mocked.post(hubspot_api(MESSAGES), status=201, json=published())
    deliver(body="", attachment_urls=("https://octopods.example.com/media/abc/",))
    assert sent(mocked.calls[0])["text"] == "https://octopods.example.com/media/abc/"


def test_it_dates_the_message_in_utc_and_now_when_the_time_is_unknown(mocked):
    mocked.post(hubspot_api(MESSAGES), status=201, json=published())
    deliver(sent_at=datetime(2026, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))))
    deliver(sent_at=None)
    first, second = (sent(call)["timestamp"] for call in mocked.calls)
    assert first == "2026-05-01T10:00:00.000Z"
    assert second.endswith("Z")
    stamped = datetime.fromisoformat(second.replace("Z", "+00:00"))
    assert abs(stamped - datetime.now(UTC)) < timedelta(minutes=1)


def test_it_publishes_a_retried_delivery_again_with_the_same_idempotency_id(mocked):
    # HubSpot drops the repeat, so reconciling is publishing once more.
    mocked.post(hubspot_api(MESSAGES), status=201, json=published())
    first = deliver()
    second = deliver(reconcile=True, conversation_id=THREAD_ID)
    assert sent(mocked.calls[0]) == sent(mocked.calls[1])
    assert first.part_id == second.part_id == "msg-1"
    assert second.opened is False


def test_it_refuses_a_channel_that_has_no_channel_account(mocked):
    with pytest.raises(ProviderError, match="not connected in HubSpot") as caught:
        deliver(channel_account_id="")
    assert caught.value.permanent
    assert len(mocked.calls) == 0


def test_it_refuses_to_deliver_until_the_custom_channel_is_configured(settings, mocked):
    settings.HUBSPOT_CUSTOM_CHANNEL_ID = ""
    with pytest.raises(ProviderError, match="HUBSPOT_CUSTOM_CHANNEL_ID") as caught:
        deliver()
    assert caught.value.permanent
    assert len(mocked.calls) == 0


def test_it_takes_an_answer_without_a_thread_for_a_fault_worth_retrying(mocked):
    mocked.post(hubspot_api(MESSAGES), status=201, json={"id": "msg-1"})
    with pytest.raises(ProviderError, match="could not read") as caught:
        deliver()
    assert not caught.value.permanent


# --- notes and outcomes ----------------------------------------------------------------


def test_a_note_is_the_channel_accounts_message_in_the_customers_thread(mocked):
    mocked.post(hubspot_api(MESSAGES), json=published(), status=201)
    adapter.post_note(
        tokens=TOKENS,
        conversation_id=THREAD_ID,
        admin_id="A-1",
        body="Welcome message sent to the customer: Hi!",
        customer_external_id="whatsapp:15551234567",
        channel_account_id=ACCOUNT_ID,
    )
    [call] = mocked.calls
    assert_bearer(call)
    body = sent(call)
    assert (body["messageDirection"], body["channelAccountId"], body["integrationThreadId"]) == (
        "OUTGOING",
        ACCOUNT_ID,
        "whatsapp:15551234567",
    )
    assert body["text"] == "Welcome message sent to the customer: Hi!"


def test_a_note_without_the_thread_says_so_without_calling_hubspot(mocked):
    with pytest.raises(ProviderError, match="thread") as caught:
        adapter.post_note(tokens=TOKENS, conversation_id=THREAD_ID, admin_id="A-1", body="Hi")
    assert caught.value.permanent
    assert len(mocked.calls) == 0


def test_it_marks_an_agents_message_sent(mocked):
    mocked.patch(hubspot_api(f"{MESSAGES}/out-7"), json={"id": "out-7"})
    adapter.reply_outcome(tokens=TOKENS, conversation_id=THREAD_ID, part_id="out-7", admin_id="A-1")
    [call] = mocked.calls
    assert_bearer(call)
    assert call.request.method == "PATCH"
    assert sent(call) == {"statusType": "SENT"}


def test_it_marks_an_agents_message_failed_with_the_reason(mocked):
    mocked.patch(hubspot_api(f"{MESSAGES}/out-7"), json={"id": "out-7"})
    reason = "⚠️ This reply was not delivered on WhatsApp (Support). The 24-hour window closed."
    adapter.reply_outcome(
        tokens=TOKENS, conversation_id=THREAD_ID, part_id="out-7", admin_id="A-1", error=reason
    )
    assert sent(mocked.calls[0]) == {"statusType": "FAILED", "errorMessage": reason}


# --- HubSpot's errors ------------------------------------------------------------------


def error_body(status="error", **fields) -> dict:
    return {"status": status, "correlationId": "5a6b7c8d-0000-4000-8000-000000000001", **fields}


def failed_delivery(mocked, **response) -> ProviderError:
    mocked.post(hubspot_api(MESSAGES), **response)
    with pytest.raises(ProviderError) as caught:
        deliver()
    return caught.value


def test_it_marks_a_rejected_token_unauthorized(mocked):
    error = failed_delivery(
        mocked,
        status=401,
        json=error_body(
            message="Authentication credentials not found.", category="INVALID_AUTHENTICATION"
        ),
    )
    assert (error.status, error.unauthorized, error.permanent) == (401, True, True)
    assert error.code == "INVALID_AUTHENTICATION"
    assert error.message == "HubSpot answered 401: Authentication credentials not found."


def test_it_waits_the_rate_limit_interval_hubspot_names(mocked):
    error = failed_delivery(
        mocked,
        status=429,
        headers={
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Max": "110",
            "X-HubSpot-RateLimit-Remaining": "0",
        },
        json=error_body(
            message="You have reached your ten_secondly_rolling limit.",
            errorType="RATE_LIMIT",
            policyName="TEN_SECONDLY_ROLLING",
        ),
    )
    assert (error.status, error.permanent, error.unauthorized) == (429, False, False)
    assert error.retry_after == 10.0
    assert "ten_secondly_rolling limit" in error.message


@pytest.mark.parametrize(
    ("headers", "policy", "wait"),
    [
        ({"Retry-After": "3"}, "TEN_SECONDLY_ROLLING", 3.0),
        ({}, "TEN_SECONDLY_ROLLING", 10.0),
        ({}, "SECONDLY", 1.0),
        ({}, "DAILY", 3600.0),
        ({}, "", None),
    ],
)
def test_it_falls_back_on_retry_after_then_the_policys_window(mocked, headers, policy, wait):
    error = failed_delivery(
        mocked,
        status=429,
        headers=headers,
        json=error_body(message="Rate limited.", policyName=policy),
    )
    assert error.retry_after == wait
    assert not error.permanent


def test_it_takes_a_validation_error_as_permanent_with_hubspots_words(mocked):
    error = failed_delivery(
        mocked,
        status=400,
        json=error_body(
            message="Invalid input JSON on line 1, column 2",
            category="VALIDATION_ERROR",
            subCategory="CustomChannelsError.INVALID_MESSAGE",
            errors=[{"message": "channelAccountId: must not be null", "code": "REQUIRED"}],
        ),
    )
    assert (error.permanent, error.code, error.retry_after) == (True, "VALIDATION_ERROR", None)
    assert error.message == (
        "HubSpot answered 400: Invalid input JSON on line 1, column 2 "
        "(channelAccountId: must not be null)"
    )


def test_it_takes_a_missing_scope_as_permanent(mocked):
    error = failed_delivery(
        mocked,
        status=403,
        json=error_body(
            message="This app hasn't been granted all required scopes to make this call.",
            category="MISSING_SCOPES",
        ),
    )
    assert (error.permanent, error.unauthorized, error.code) == (True, False, "MISSING_SCOPES")


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_it_takes_hubspots_own_faults_as_worth_retrying(mocked, status):
    error = failed_delivery(mocked, status=status, body="upstream trouble")
    assert (error.status, error.permanent, error.unauthorized) == (status, False, False)


def test_it_takes_a_timeout_as_worth_retrying(mocked):
    error = failed_delivery(mocked, body=requests.ReadTimeout("read timed out"))
    assert error.message == "HubSpot did not answer in time"
    assert not error.permanent


def test_it_still_reads_a_dead_refresh_token_in_oauths_format(mocked):
    mocked.post(
        hubspot_api("/oauth/v1/token"),
        status=400,
        json={
            "status": "BAD_REFRESH_TOKEN",
            "message": "missing or unknown refresh token",
            "error": "invalid_grant",
            "error_description": "missing or unknown refresh token",
        },
    )
    with pytest.raises(ProviderError) as caught:
        adapter.refresh(refresh_token="gone")
    assert (caught.value.code, caught.value.unauthorized) == ("BAD_REFRESH_TOKEN", True)
