import json
import logging
import time
from datetime import UTC, datetime

import pytest
import requests
from django.conf import settings

from integrations.base import InboxCustomer, InboxDelivery, InboxRefs, ProviderError, TokenSet
from integrations.intercom.adapter import RECONCILE_WINDOW, IntercomAdapter

from ..conftest import intercom_api

TOKENS = TokenSet(access_token="tok-acme")
NOW = 1_718_000_000
JANE_ID = "6762f11b1bb69f9f2193bba3"
OTHER_ID = "6762f11b1bb69f9f2193bbff"
ADMIN_ID = "991267715"
CONVERSATION_ID = "499"

JANE = InboxCustomer(external_id="whatsapp:15551234567", name="Jane Doe", phone="+15551234567")
KNOWN_JANE = InboxCustomer(
    external_id="whatsapp:15551234567",
    name="Jane Doe",
    phone="+15551234567",
    inbox_contact_id=JANE_ID,
)

adapter = IntercomAdapter()


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setattr(time, "time", lambda: NOW)


def delivery(**fields) -> InboxDelivery:
    return InboxDelivery(
        **{
            "customer": KNOWN_JANE,
            "body": "Hi, is my order on its way?",
            "tag": "WhatsApp Support",
            "admin_id": ADMIN_ID,
            **fields,
        }
    )


def deliver(**fields) -> InboxRefs:
    return adapter.deliver(tokens=TOKENS, delivery=delivery(**fields))


# --- Intercom's answers --------------------------------------------------------------


def contact(contact_id: str, *, role: str = "lead", updated_at: int = NOW - 100) -> dict:
    return {
        "type": "contact",
        "id": contact_id,
        "workspace_id": "acme-app",
        "external_id": "whatsapp:15551234567",
        "role": role,
        "phone": "+15551234567",
        "name": "Jane Doe",
        "updated_at": updated_at,
    }


def part(part_id: str, body: str | None, *, author_id=JANE_ID, author_type="lead", **fields):
    return {
        "type": "conversation_part",
        "id": part_id,
        "part_type": "comment",
        "body": body,
        "created_at": NOW - 10,
        "author": {"type": author_type, "id": author_id, "name": "Jane Doe"},
        "attachments": [],
        "app_package_code": "octopods",
        **fields,
    }


def admin_part(part_id: str, body: str) -> dict:
    return part(part_id, body, author_id=ADMIN_ID, author_type="admin", app_package_code=None)


def conversation(*parts: dict, conversation_id=CONVERSATION_ID, source_body="<p>Hello</p>"):
    return {
        "type": "conversation",
        "id": conversation_id,
        "created_at": NOW - 3 * RECONCILE_WINDOW,
        "source": {
            "type": "conversation",
            "id": "403918330",
            "delivered_as": "customer_initiated",
            "body": source_body,
            "author": {"type": "lead", "id": JANE_ID, "name": "Jane Doe"},
            "attachments": [],
        },
        "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": JANE_ID}]},
        "conversation_parts": {
            "type": "conversation_part.list",
            "total_count": len(parts),
            "conversation_parts": list(parts),
        },
    }


def message(message_id="403918400", conversation_id="512") -> dict:
    return {
        "type": "user_message",
        "id": message_id,
        "created_at": NOW,
        "body": "Hi, is my order on its way?",
        "message_type": "inapp",
        "conversation_id": conversation_id,
    }


def error_list(code: str, message: str) -> dict:
    return {
        "type": "error.list",
        "request_id": "req-1",
        "errors": [{"code": code, "message": message}],
    }


def mock_tagging(mocked, *, conversation_id="512"):
    mocked.post(
        intercom_api("/tags"), json={"type": "tag", "id": "105", "name": "WhatsApp Support"}
    )
    mocked.post(
        intercom_api(f"/conversations/{conversation_id}/tags"),
        json={"type": "tag", "id": "105", "name": "WhatsApp Support"},
    )


# --- what went out -------------------------------------------------------------------


def sent(mocked) -> list[tuple[str, str, dict | None]]:
    """(method, path, JSON body) of every call, after checking each carried our token,
    the pinned API version and JSON headers."""
    calls = []
    for call in mocked.calls:
        request = call.request
        assert request.headers["Authorization"] == "Bearer tok-acme"
        assert request.headers["Intercom-Version"] == settings.INTERCOM_API_VERSION
        assert request.headers["Accept"] == "application/json"
        body = None
        if request.body:
            assert request.headers["Content-Type"] == "application/json"
            body = json.loads(request.body)
        path = request.url.removeprefix(settings.INTERCOM_API_URL)
        calls.append((request.method, path, body))
    return calls


SEARCH_JANE = (
    "POST",
    "/contacts/search",
    {
        "query": {
            "operator": "OR",
            "value": [
                {"field": "phone", "operator": "=", "value": "+15551234567"},
                {"field": "external_id", "operator": "=", "value": "whatsapp:15551234567"},
            ],
        },
        "pagination": {"per_page": 20},
    },
)


def opened_as(sender_type: str, contact_id: str = JANE_ID, **extra) -> tuple:
    return (
        "POST",
        "/conversations",
        {
            "from": {"type": sender_type, "id": contact_id},
            "body": "Hi, is my order on its way?",
            **extra,
        },
    )


def reply_as(contact_id: str = JANE_ID, conversation_id=CONVERSATION_ID, **extra) -> tuple:
    return (
        "POST",
        f"/conversations/{conversation_id}/reply",
        {
            "message_type": "comment",
            "type": "user",
            "intercom_user_id": contact_id,
            "body": "Hi, is my order on its way?",
            **extra,
        },
    )


TAGGED = [
    ("POST", "/tags", {"name": "WhatsApp Support"}),
    ("POST", "/conversations/512/tags", {"id": "105", "admin_id": ADMIN_ID}),
]


# --- the contact ---------------------------------------------------------------------


def test_a_cached_contact_id_is_used_without_a_search(mocked):
    mocked.post(
        intercom_api(f"/conversations/{CONVERSATION_ID}/reply"),
        json=conversation(part("200", "<p>Hi, is my order on its way?</p>")),
    )
    refs = deliver(conversation_id=CONVERSATION_ID)
    assert refs == InboxRefs(
        contact_id=JANE_ID, conversation_id=CONVERSATION_ID, part_id="200", opened=False
    )
    assert sent(mocked) == [reply_as()]


def test_the_customer_is_searched_by_phone_or_external_id(mocked):
    mocked.post(intercom_api("/contacts/search"), json={"type": "list", "data": [contact(JANE_ID)]})
    mocked.post(intercom_api("/conversations"), json=message())
    mock_tagging(mocked)
    refs = deliver(customer=JANE)
    assert refs == InboxRefs(
        contact_id=JANE_ID, conversation_id="512", part_id="403918400", opened=True
    )
    assert sent(mocked) == [SEARCH_JANE, opened_as("lead"), *TAGGED]


def test_a_customer_without_a_phone_is_searched_by_external_id_alone(mocked):
    mocked.post(
        intercom_api("/contacts/search"),
        json={"type": "list", "data": [contact(JANE_ID, role="user")]},
    )
    mocked.post(intercom_api("/conversations"), json=message())
    mock_tagging(mocked)
    deliver(customer=InboxCustomer(external_id="telegram:555000111", name="Jane"))
    assert sent(mocked)[:2] == [
        (
            "POST",
            "/contacts/search",
            {
                "query": {"field": "external_id", "operator": "=", "value": "telegram:555000111"},
                "pagination": {"per_page": 20},
            },
        ),
        opened_as("user"),
    ]


@pytest.mark.parametrize(
    ("match", "chosen"),
    [
        ("recent", "c-lead-new"),
        ("user", "c-user-new"),
        ("lead", "c-lead-new"),
    ],
)
def test_several_matching_contacts_are_told_apart_by_the_match_rule(mocked, match, chosen):
    found = [
        contact("c-user-old", role="user", updated_at=NOW - 900),
        contact("c-lead-new", role="lead", updated_at=NOW - 10),
        contact("c-user-new", role="user", updated_at=NOW - 500),
        contact("c-lead-old", role="lead", updated_at=NOW - 800),
    ]
    mocked.post(intercom_api("/contacts/search"), json={"type": "list", "data": found})
    mocked.post(intercom_api("/conversations"), json=message())
    mock_tagging(mocked)
    refs = deliver(customer=JANE, match=match)
    assert refs.contact_id == chosen
    assert sent(mocked)[1] == opened_as(chosen.split("-")[1], chosen)


def test_a_user_is_preferred_only_when_there_is_one(mocked):
    found = [contact("c-lead-old", updated_at=NOW - 800), contact("c-lead-new", updated_at=NOW)]
    mocked.post(intercom_api("/contacts/search"), json={"type": "list", "data": found})
    mocked.post(intercom_api("/conversations"), json=message())
    mock_tagging(mocked)
    assert deliver(customer=JANE, match="user").contact_id == "c-lead-new"


def test_a_customer_intercom_does_not_know_is_created_as_a_lead(mocked):
    mocked.post(intercom_api("/contacts/search"), json={"type": "list", "data": []})
    mocked.post(intercom_api("/contacts"), json=contact(JANE_ID))
    mocked.post(intercom_api("/conversations"), json=message())
    mock_tagging(mocked)
    refs = deliver(customer=JANE)
    assert refs.contact_id == JANE_ID
    assert sent(mocked) == [
        SEARCH_JANE,
        (
            "POST",
            "/contacts",
            {
                "role": "lead",
                "external_id": "whatsapp:15551234567",
                "name": "Jane Doe",
                "phone": "+15551234567",
            },
        ),
        opened_as("lead"),
        *TAGGED,
    ]


def test_a_contact_not_yet_searchable_is_taken_from_the_conflict_intercom_reports(mocked):
    mocked.post(intercom_api("/contacts/search"), json={"type": "list", "data": []})
    mocked.post(
        intercom_api("/contacts"),
        status=409,
        json=error_list(
            "conflict", f"A contact matching those details already exists with id={JANE_ID}"
        ),
    )
    mocked.post(intercom_api("/conversations"), json=message())
    mock_tagging(mocked)
    assert deliver(customer=JANE).contact_id == JANE_ID
    assert sent(mocked)[2] == opened_as("contact")


def test_an_archived_contact_is_unarchived_before_it_writes(mocked):
    mocked.post(intercom_api("/contacts/search"), json={"type": "list", "data": []})
    mocked.post(
        intercom_api("/contacts"),
        status=409,
        json=error_list(
            "conflict",
            f"An archived contact matching those details already exists with id={JANE_ID}",
        ),
    )
    mocked.post(intercom_api(f"/contacts/{JANE_ID}/unarchive"), json=contact(JANE_ID))
    mocked.post(intercom_api("/conversations"), json=message())
    mock_tagging(mocked)
    assert deliver(customer=JANE).contact_id == JANE_ID
    assert sent(mocked)[2:4] == [
        ("POST", f"/contacts/{JANE_ID}/unarchive", {}),
        opened_as("contact"),
    ]


def test_a_cached_contact_that_is_gone_is_looked_up_again(mocked):
    mocked.post(
        intercom_api("/conversations"),
        status=404,
        json=error_list("not_found", "User Not Found"),
    )
    mocked.post(
        intercom_api("/contacts/search"),
        json={"type": "list", "data": [contact(OTHER_ID, role="user")]},
    )
    mocked.post(intercom_api("/conversations"), json=message())
    mock_tagging(mocked)
    refs = deliver()
    assert refs == InboxRefs(
        contact_id=OTHER_ID, conversation_id="512", part_id="403918400", opened=True
    )
    assert sent(mocked) == [opened_as("contact"), SEARCH_JANE, opened_as("user", OTHER_ID), *TAGGED]


# --- appending to a conversation -----------------------------------------------------


def test_a_message_is_appended_to_the_given_conversation_with_its_files(mocked):
    files = ("https://bridge.example.com/media/a.jpg", "https://bridge.example.com/media/b.pdf")
    mocked.post(
        intercom_api(f"/conversations/{CONVERSATION_ID}/reply"),
        json=conversation(
            part("198", "<p>Hi, is my order on its way?</p>"),
            admin_part("199", "<p>Let me check.</p>"),
            # Intercom's reply to a closed conversation: an "open" part with the body.
            part(
                "200",
                "<p>Hi,   is my order\n on its way?</p>",
                part_type="open",
                attachments=[{"type": "upload", "url": "u1"}, {"type": "upload", "url": "u2"}],
            ),
            admin_part("201", "<p>Auto-reply</p>"),
        ),
    )
    refs = deliver(conversation_id=CONVERSATION_ID, attachment_urls=files)
    assert refs == InboxRefs(
        contact_id=JANE_ID, conversation_id=CONVERSATION_ID, part_id="200", opened=False
    )
    assert sent(mocked) == [reply_as(attachment_urls=list(files))]


def test_the_contacts_newest_part_stands_in_when_no_body_matches(mocked):
    mocked.post(
        intercom_api(f"/conversations/{CONVERSATION_ID}/reply"),
        json=conversation(part("210", "<p>older</p>"), part("211", "<p>Reworded</p>")),
    )
    assert deliver(conversation_id=CONVERSATION_ID).part_id == "211"


def test_a_gone_conversation_is_replaced_by_a_new_tagged_one(mocked):
    mocked.post(
        intercom_api(f"/conversations/{CONVERSATION_ID}/reply"),
        status=404,
        json=error_list("not_found", "Resource Not Found"),
    )
    mocked.post(intercom_api("/conversations"), json=message())
    mock_tagging(mocked)
    refs = deliver(conversation_id=CONVERSATION_ID)
    assert refs == InboxRefs(
        contact_id=JANE_ID, conversation_id="512", part_id="403918400", opened=True
    )
    assert sent(mocked) == [reply_as(), opened_as("contact"), *TAGGED]


@pytest.mark.parametrize("status", [400, 422])
def test_a_refused_reply_opens_a_new_conversation(mocked, status):
    mocked.post(
        intercom_api(f"/conversations/{CONVERSATION_ID}/reply"),
        status=status,
        json=error_list("parameter_invalid", "No conversation for this user"),
    )
    mocked.post(intercom_api("/conversations"), json=message())
    mock_tagging(mocked)
    assert deliver(conversation_id=CONVERSATION_ID).opened is True


def test_a_new_conversation_is_left_untagged_when_there_is_no_tag_or_teammate(mocked):
    mocked.post(intercom_api("/conversations"), json=message())
    assert deliver(tag="").opened is True
    assert deliver(admin_id="").opened is True
    assert [path for _, path, _ in sent(mocked)] == ["/conversations", "/conversations"]


@pytest.mark.parametrize("failing", ["/tags", "/conversations/512/tags"])
def test_a_tag_that_fails_does_not_fail_the_delivery(mocked, caplog, failing):
    mocked.post(intercom_api("/conversations"), json=message())
    mock_tagging(mocked)
    mocked.replace("POST", intercom_api(failing), status=500)
    with caplog.at_level(logging.WARNING, logger="integrations.intercom.adapter"):
        refs = deliver()
    assert refs == InboxRefs(
        contact_id=JANE_ID, conversation_id="512", part_id="403918400", opened=True
    )
    assert "not tagged 'WhatsApp Support'" in caplog.text


# --- reconciling an attempt that ended without an answer -----------------------------


def test_reconcile_finds_the_part_an_earlier_attempt_posted_and_posts_nothing(mocked):
    mocked.get(
        intercom_api(f"/conversations/{CONVERSATION_ID}"),
        json=conversation(
            part("300", "<p>Hi, is my order on its way?</p>"),
            admin_part("301", "<p>Typing…</p>"),
        ),
    )
    refs = deliver(conversation_id=CONVERSATION_ID, reconcile=True)
    assert refs == InboxRefs(
        contact_id=JANE_ID, conversation_id=CONVERSATION_ID, part_id="300", opened=False
    )
    assert sent(mocked) == [("GET", f"/conversations/{CONVERSATION_ID}", None)]


@pytest.mark.parametrize(
    "earlier",
    [
        # Not the contact's newest message: an older twin.
        [part("310", "<p>Hi, is my order on its way?</p>"), part("311", "<p>Hello?</p>")],
        # Too old to be the attempt being retried.
        [part("312", "<p>Hi, is my order on its way?</p>", created_at=NOW - RECONCILE_WINDOW - 1)],
        # Same words, but with a file we are not sending.
        [part("313", "<p>Hi, is my order on its way?</p>", attachments=[{"url": "u"}])],
        # Someone else's words.
        [part("314", "<p>Hi, is my order on its way?</p>", author_id=OTHER_ID)],
    ],
)
def test_reconcile_posts_when_the_message_is_not_there(mocked, earlier):
    mocked.get(intercom_api(f"/conversations/{CONVERSATION_ID}"), json=conversation(*earlier))
    mocked.post(
        intercom_api(f"/conversations/{CONVERSATION_ID}/reply"),
        json=conversation(*earlier, part("320", "<p>Hi, is my order on its way?</p>")),
    )
    assert deliver(conversation_id=CONVERSATION_ID, reconcile=True).part_id == "320"
    assert sent(mocked)[1] == reply_as()


def test_reconcile_finds_a_conversation_an_earlier_attempt_opened(mocked):
    mocked.post(
        intercom_api("/conversations/search"),
        json={
            "type": "conversation.list",
            "conversations": [
                conversation(conversation_id="510", source_body="<p>Something else</p>"),
                conversation(
                    conversation_id="512", source_body="<p>Hi, is my order on its way?</p>"
                ),
            ],
        },
    )
    mock_tagging(mocked)
    refs = deliver(reconcile=True)
    assert refs == InboxRefs(
        contact_id=JANE_ID, conversation_id="512", part_id="403918330", opened=True
    )
    assert sent(mocked) == [
        (
            "POST",
            "/conversations/search",
            {
                "query": {
                    "operator": "AND",
                    "value": [
                        {"field": "source.author.id", "operator": "=", "value": JANE_ID},
                        {
                            "field": "created_at",
                            "operator": ">",
                            "value": str(NOW - RECONCILE_WINDOW),
                        },
                    ],
                },
                "pagination": {"per_page": 20},
            },
        ),
        # An earlier attempt may have stopped before tagging; tagging twice is harmless.
        *TAGGED,
    ]


def test_reconcile_on_a_gone_conversation_looks_for_a_new_one_before_opening_it(mocked):
    mocked.get(
        intercom_api(f"/conversations/{CONVERSATION_ID}"),
        status=404,
        json=error_list("not_found", "Resource Not Found"),
    )
    mocked.post(
        intercom_api("/conversations/search"),
        json={"type": "conversation.list", "conversations": []},
    )
    mocked.post(intercom_api("/conversations"), json=message())
    mock_tagging(mocked)
    refs = deliver(conversation_id=CONVERSATION_ID, reconcile=True)
    assert refs.opened is True
    assert [(method, path) for method, path, _ in sent(mocked)] == [
        ("GET", f"/conversations/{CONVERSATION_ID}"),
        ("POST", "/conversations/search"),
        ("POST", "/conversations"),
        ("POST", "/tags"),
        ("POST", "/conversations/512/tags"),
    ]


# --- errors --------------------------------------------------------------------------


def test_a_rejected_token_is_unauthorized(mocked):
    mocked.post(
        intercom_api("/contacts/search"),
        status=401,
        json=error_list("unauthorized", "Access Token Invalid"),
    )
    with pytest.raises(ProviderError) as raised:
        deliver(customer=JANE)
    assert raised.value.unauthorized is True
    assert raised.value.permanent is True
    assert raised.value.status == 401


def test_a_rate_limit_says_when_to_try_again(mocked):
    mocked.post(
        intercom_api(f"/conversations/{CONVERSATION_ID}/reply"),
        status=429,
        headers={"X-RateLimit-Reset": str(NOW + 7)},
        json=error_list("rate_limit_exceeded", "Exceeded rate limit of 167 in 10_seconds"),
    )
    with pytest.raises(ProviderError) as raised:
        deliver(conversation_id=CONVERSATION_ID)
    assert raised.value.retry_after == 7
    assert raised.value.permanent is False
    assert raised.value.code == "rate_limit_exceeded"
    assert len(mocked.calls) == 1  # a rate limit is not a refused reply


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_can_be_tried_again(mocked, status):
    mocked.post(intercom_api("/conversations"), status=status)
    with pytest.raises(ProviderError) as raised:
        deliver()
    assert raised.value.permanent is False
    assert raised.value.status == status


def test_a_timeout_can_be_tried_again(mocked):
    mocked.post(intercom_api("/conversations"), body=requests.Timeout())
    with pytest.raises(ProviderError, match="did not answer in time") as raised:
        deliver()
    assert raised.value.permanent is False


def test_a_workspace_without_api_access_is_told_so_plainly(mocked):
    mocked.post(
        intercom_api(f"/conversations/{CONVERSATION_ID}/reply"),
        status=403,
        json=error_list("api_plan_restricted", "Active subscription needed."),
    )
    with pytest.raises(ProviderError, match="plan does not include API access") as raised:
        deliver(conversation_id=CONVERSATION_ID)
    assert raised.value.permanent is True
    assert raised.value.code == "api_plan_restricted"
    assert len(mocked.calls) == 1


def test_an_answer_without_the_fields_we_need_can_be_tried_again(mocked):
    mocked.post(intercom_api("/conversations"), json={"type": "user_message", "id": "1"})
    with pytest.raises(ProviderError, match="could not read") as raised:
        deliver()
    assert raised.value.permanent is False


def test_more_files_than_intercom_takes_are_refused_before_any_call(mocked):
    urls = tuple(f"https://bridge.example.com/media/{n}.jpg" for n in range(11))
    with pytest.raises(ProviderError, match="at most 10 attachments") as raised:
        deliver(attachment_urls=urls)
    assert raised.value.permanent is True
    assert len(mocked.calls) == 0


# --- notes ---------------------------------------------------------------------------


def test_a_note_is_posted_as_the_teammate_with_the_text_escaped(mocked):
    mocked.post(
        intercom_api(f"/conversations/{CONVERSATION_ID}/reply"),
        json=conversation(admin_part("400", "<p>note</p>")),
    )
    adapter.post_note(
        tokens=TOKENS,
        conversation_id=CONVERSATION_ID,
        admin_id=ADMIN_ID,
        body="⚠️ Not delivered on WhatsApp <Support>.\nThe number is not on WhatsApp.",
    )
    assert sent(mocked) == [
        (
            "POST",
            f"/conversations/{CONVERSATION_ID}/reply",
            {
                "message_type": "note",
                "type": "admin",
                "admin_id": ADMIN_ID,
                "body": "<p>⚠️ Not delivered on WhatsApp &lt;Support&gt;.<br>"
                "The number is not on WhatsApp.</p>",
            },
        )
    ]


def test_a_note_that_intercom_refuses_raises(mocked):
    mocked.post(
        intercom_api(f"/conversations/{CONVERSATION_ID}/reply"),
        status=404,
        json=error_list("not_found", "Resource Not Found"),
    )
    with pytest.raises(ProviderError) as raised:
        adapter.post_note(
            tokens=TOKENS, conversation_id=CONVERSATION_ID, admin_id=ADMIN_ID, body="hello"
        )
    assert (raised.value.status, raised.value.permanent) == (404, True)


def test_a_round_trip_test_deletes_its_lead_and_with_it_the_conversation(mocked):
    mocked.delete(intercom_api("/contacts/c-test"), json={"id": "c-test", "deleted": True})
    refs = InboxRefs(contact_id="c-test", conversation_id="512", part_id="1", opened=True)
    done = adapter.test_cleanup(tokens=TOKENS, refs=refs, admin_id="991")
    assert "deleted" in done
    assert [(c.request.method, c.request.url) for c in mocked.calls] == [
        ("DELETE", intercom_api("/contacts/c-test"))
    ]


def test_when_the_lead_cannot_be_deleted_the_conversation_is_closed(mocked):
    mocked.delete(
        intercom_api("/contacts/c-test"),
        status=403,
        json=error_list("api_plan_restricted", "Active subscription needed."),
    )
    mocked.post(
        intercom_api("/conversations/512/parts"), json={"type": "conversation", "id": "512"}
    )
    refs = InboxRefs(contact_id="c-test", conversation_id="512", part_id="1", opened=True)
    done = adapter.test_cleanup(tokens=TOKENS, refs=refs, admin_id="991")
    assert "closed" in done
    close = mocked.calls[-1].request
    assert json.loads(close.body) == {"message_type": "close", "type": "admin", "admin_id": "991"}


# --- the customer's own time ---------------------------------------------------------
#
# Intercom's REST API reference (developers.intercom.com, "Reply to a conversation" and
# "Create a conversation"; the official intercom-client's ContactReplyBaseRequest and
# CreateConversationRequest are generated from it) takes an optional `created_at`, a UTC
# Unix timestamp in seconds; without it Intercom uses the time of the call.

SENT_AT = datetime.fromtimestamp(NOW - 3 * RECONCILE_WINDOW, tz=UTC)


def test_a_reply_carries_the_time_the_customer_sent_it(mocked):
    mocked.post(
        intercom_api(f"/conversations/{CONVERSATION_ID}/reply"),
        json=conversation(part("330", "<p>Hi, is my order on its way?</p>")),
    )
    deliver(conversation_id=CONVERSATION_ID, sent_at=SENT_AT)
    assert sent(mocked) == [reply_as(created_at=NOW - 3 * RECONCILE_WINDOW)]


def test_a_new_conversation_carries_the_time_the_customer_sent_it(mocked):
    mocked.post(intercom_api("/conversations"), json=message())
    mock_tagging(mocked)
    deliver(sent_at=SENT_AT)
    assert sent(mocked)[0] == opened_as("contact", created_at=NOW - 3 * RECONCILE_WINDOW)


def test_a_time_ahead_of_ours_is_sent_as_now(mocked):
    mocked.post(
        intercom_api(f"/conversations/{CONVERSATION_ID}/reply"),
        json=conversation(part("331", "<p>Hi, is my order on its way?</p>")),
    )
    deliver(conversation_id=CONVERSATION_ID, sent_at=datetime.fromtimestamp(NOW + 90, tz=UTC))
    assert sent(mocked) == [reply_as(created_at=NOW)]


def test_reconcile_finds_a_late_message_posted_with_the_customers_time(mocked):
    """A message relayed hours late carries its old time; the earlier attempt's part
    is older than the window but is still ours."""
    mocked.get(
        intercom_api(f"/conversations/{CONVERSATION_ID}"),
        json=conversation(
            part(
                "340",
                "<p>Hi, is my order on its way?</p>",
                created_at=NOW - 3 * RECONCILE_WINDOW,
            )
        ),
    )
    refs = deliver(conversation_id=CONVERSATION_ID, reconcile=True, sent_at=SENT_AT)
    assert refs.part_id == "340"
    assert sent(mocked) == [("GET", f"/conversations/{CONVERSATION_ID}", None)]


def test_reconcile_looks_for_a_late_conversation_from_the_customers_time(mocked):
    mocked.post(
        intercom_api("/conversations/search"),
        json={"type": "conversation.list", "conversations": []},
    )
    mocked.post(intercom_api("/conversations"), json=message())
    mock_tagging(mocked)
    deliver(reconcile=True, sent_at=SENT_AT)
    search = sent(mocked)[0][2]
    assert search["query"]["value"][1] == {
        "field": "created_at",
        "operator": ">",
        "value": str(NOW - 3 * RECONCILE_WINDOW - 1),
    }
    assert sent(mocked)[1] == opened_as("contact", created_at=NOW - 3 * RECONCILE_WINDOW)
