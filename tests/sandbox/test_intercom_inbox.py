"""The sandbox's Intercom inbox: the REST calls Octopods makes (contacts, conversations,
replies, tags, search), their error shapes, the faults control, and the inbox page whose
replies reach Octopods as Intercom's signed webhook."""

import dataclasses
import hashlib
import hmac
import json
import re
from urllib.parse import quote, urlsplit

import pytest
import requests
import responses
from django.conf import settings
from django.test import override_settings
from django.urls import Resolver404, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern

from integrations.base import (
    AgentReply,
    ConversationState,
    InboxCustomer,
    InboxDelivery,
    ProviderError,
    TokenSet,
)
from integrations.channel import WebhookRejected
from integrations.intercom import webhooks
from integrations.intercom.adapter import IntercomAdapter
from sandbox import intercom_search, tokens
from sandbox.intercom_inbox import APP_PACKAGE_CODE
from sandbox.intercom_inbox_page import webhook_url
from sandbox.models import IntercomContact, IntercomConversation, IntercomFault, IntercomPart
from tests.sandbox.support import post_json, webhook_request
from tests.sandbox.test_mounting import fresh_urlpatterns

pytestmark = pytest.mark.django_db

API = "/sandbox/intercom/api"
INBOX = "/sandbox/intercom/inbox"
FAULTS = "/sandbox/intercom/faults"
HOOK = f"{settings.PUBLIC_BASE_URL}/hooks/intercom/"
ACME, GLOBEX = "sbx-acme", "sbx-globex"
ADA, BEN, GINA = "1001", "1002", "2001"  # Ada and Ben: Acme's admins; Gina: Globex's


def token(workspace: str = ACME) -> str:
    return tokens.issue("intercom.token", ws=workspace)


def auth(workspace: str = ACME) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token(workspace)}"}


def post(client, path: str, data: dict, workspace: str = ACME):
    return post_json(client, f"{API}{path}", data, **auth(workspace))


def get(client, path: str, workspace: str = ACME):
    return client.get(f"{API}{path}", **auth(workspace))


def error_of(response) -> dict:
    body = response.json()
    assert body["type"] == "error.list"
    assert body["request_id"]
    assert len(body["errors"]) == 1
    return body["errors"][0]


def make_contact(client, workspace: str = ACME, **fields) -> dict:
    fields = {"role": "lead", "external_id": "wa:15551230001", "name": "Maria", **fields}
    response = post(client, "/contacts", fields, workspace)
    assert response.status_code == 200, response.content
    return response.json()


def open_conversation(client, contact: dict, body: str = "Hello there", **extra) -> dict:
    data = {"from": {"type": contact["role"], "id": contact["id"]}, "body": body, **extra}
    response = post(client, "/conversations", data)
    assert response.status_code == 200, response.content
    return response.json()


def admin_reply(client, conversation_id: str, body: str, *, admin_id=ADA, kind="comment"):
    return post(
        client,
        f"/conversations/{conversation_id}/reply",
        {"message_type": kind, "type": "admin", "admin_id": admin_id, "body": body},
    )


def contact_reply(client, conversation_id: str, body: str, **who):
    return post(
        client,
        f"/conversations/{conversation_id}/reply",
        {"message_type": "comment", "type": "user", "body": body, **who},
    )


def parts_of(conversation: dict) -> list[dict]:
    listing = conversation["conversation_parts"]
    assert listing["type"] == "conversation_part.list"
    assert listing["total_count"] == len(listing["conversation_parts"])
    return listing["conversation_parts"]


def search(client, path: str, query: dict, **extra):
    return post(client, path, {"query": query, **extra})


# --- auth, headers, errors ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/contacts"),
        ("post", "/contacts/search"),
        ("get", "/contacts/0123456789abcdef01234567"),
        ("get", "/contacts/find_by_external_id/wa:1"),
        ("post", "/conversations"),
        ("post", "/conversations/search"),
        ("get", "/conversations/1"),
        ("post", "/conversations/1/reply"),
        ("post", "/conversations/1/parts"),
        ("post", "/conversations/1/tags"),
        ("post", "/tags"),
    ],
)
@pytest.mark.parametrize("header", [{}, {"HTTP_AUTHORIZATION": "Bearer forged"}])
def test_it_answers_401_without_a_valid_token(client, method, path, header):
    response = getattr(client, method)(f"{API}{path}", **header)
    assert response.status_code == 401
    assert error_of(response) == {"code": "unauthorized", "message": "Access Token Invalid"}


def test_it_refuses_a_token_of_an_uninstalled_workspace(client):
    headers = auth(ACME)
    tokens.revoke(f"intercom:{ACME}")
    assert client.get(f"{API}/contacts/x", **headers).status_code == 401


def test_it_sends_rate_limit_headers_on_every_answer(client):
    before = int(tokens.now())
    answers = [
        post(client, "/contacts", {"role": "lead"}),
        get(client, "/conversations/999"),
        client.get(f"{API}/conversations/1"),
    ]
    after = int(tokens.now())
    assert [a.status_code for a in answers] == [200, 404, 401]
    for response in answers:
        assert response["X-RateLimit-Limit"] == "10000"
        assert int(response["X-RateLimit-Remaining"]) > 0
        # The end of the 10-second window the answer was made in, in Unix seconds
        # (however long the requests took: the window may have turned meanwhile).
        reset = int(response["X-RateLimit-Reset"])
        assert reset % 10 == 0
        assert before < reset <= after + 10


def test_it_answers_a_method_it_does_not_serve_with_an_error_list(client):
    response = client.delete(f"{API}/conversations/search", **auth())
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_it_answers_400_to_a_body_that_is_not_a_json_object(client):
    response = client.post(f"{API}/contacts", "[1, 2]", content_type="application/json", **auth())
    assert response.status_code == 400
    assert error_of(response) == {
        "code": "parameter_invalid",
        "message": "The request body is not a JSON object.",
    }


# --- contacts -------------------------------------------------------------------------------


def test_it_creates_a_contact_and_finds_it_by_id_and_by_external_id(client):
    contact = make_contact(client, phone="+15551230001", email="maria@example.com")
    assert contact["type"] == "contact"
    assert len(contact["id"]) == 24 and int(contact["id"], 16) >= 0
    assert contact["workspace_id"] == ACME
    assert contact["role"] == "lead"
    assert contact["external_id"] == "wa:15551230001"
    assert contact["phone"] == "+15551230001"
    assert contact["email"] == "maria@example.com"
    assert contact["name"] == "Maria"
    assert isinstance(contact["created_at"], int)

    by_id = get(client, f"/contacts/{contact['id']}")
    assert by_id.status_code == 200
    assert by_id.json() == contact
    by_external_id = get(client, f"/contacts/find_by_external_id/{quote('wa:15551230001')}")
    assert by_external_id.status_code == 200
    assert by_external_id.json()["id"] == contact["id"]


def test_it_answers_409_to_a_second_contact_with_the_same_external_id(client):
    first = make_contact(client)
    response = post(client, "/contacts", {"role": "lead", "external_id": "wa:15551230001"})
    assert response.status_code == 409
    assert error_of(response) == {
        "code": "conflict",
        "message": f"A contact matching those details already exists with id={first['id']}",
    }
    # External ids are unique per workspace, not across them.
    other = make_contact(client, GLOBEX)
    assert other["id"] != first["id"]


@pytest.mark.parametrize(
    ("body", "code", "phrase"),
    [
        ({"role": "admin"}, "data_invalid", "role must be user or lead"),
        ({"name": "Nobody"}, "parameter_invalid", "at least one of role, email or external_id"),
        ({"email": "not-an-address"}, "data_invalid", "not an email address"),
        ({"role": "lead", "name": ["a list"]}, "parameter_invalid", "name must be a string"),
        ({"role": "lead", "custom_attributes": "x"}, "parameter_invalid", "custom_attributes"),
    ],
)
def test_it_refuses_a_contact_it_cannot_create(client, body, code, phrase):
    response = post(client, "/contacts", body)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == code
    assert phrase in error["message"]


def test_it_answers_404_for_a_contact_it_does_not_have_or_of_another_workspace(client):
    contact = make_contact(client)
    for path in (
        "/contacts/0123456789abcdef01234567",
        "/contacts/find_by_external_id/wa:nobody",
    ):
        response = get(client, path)
        assert response.status_code == 404
        assert error_of(response) == {"code": "not_found", "message": "Resource Not Found"}
    assert get(client, f"/contacts/{contact['id']}", GLOBEX).status_code == 404


# --- contact search ----------------------------------------------------------------------------


@pytest.fixture
def five_contacts(client) -> list[dict]:
    people = [
        ("lead", "wa:1", "+15550000001", "Maria Lopez", ""),
        ("lead", "tg:2", "", "Tom Baker", ""),
        ("user", "sms:3", "+15550000003", "Ann Lee", "ann@example.com"),
        ("user", "wa:4", "+15550000004", "Maria Ruiz", "maria@example.com"),
        ("lead", "fb:5", "", "Bo Chen", ""),
    ]
    return [
        make_contact(client, role=role, external_id=ext, phone=phone, name=name, email=email)
        for role, ext, phone, name, email in people
    ]


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [contact["external_id"] for contact in response.json()["data"]]


def test_it_searches_contacts_by_phone_or_external_id_as_octopods_does(client, five_contacts):
    query = {
        "operator": "OR",
        "value": [
            {"field": "phone", "operator": "=", "value": "+15550000003"},
            {"field": "external_id", "operator": "=", "value": "wa:1"},
        ],
    }
    response = search(client, "/contacts/search", query, pagination={"per_page": 20})
    body = response.json()
    assert body["type"] == "list"
    assert body["total_count"] == 2
    assert body["pages"] == {"type": "pages", "page": 1, "per_page": 20, "total_pages": 1}
    assert sorted(ids(response)) == ["sms:3", "wa:1"]
    assert body["data"][0]["type"] == "contact"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"field": "name", "operator": "~", "value": "maria"}, ["wa:1", "wa:4"]),
        ({"field": "name", "operator": "!~", "value": "maria"}, ["tg:2", "sms:3", "fb:5"]),
        ({"field": "external_id", "operator": "^", "value": "wa:"}, ["wa:1", "wa:4"]),
        ({"field": "name", "operator": "$", "value": "lee"}, ["sms:3"]),
        ({"field": "role", "operator": "IN", "value": ["user"]}, ["sms:3", "wa:4"]),
        ({"field": "role", "operator": "NIN", "value": ["user"]}, ["wa:1", "tg:2", "fb:5"]),
        ({"field": "role", "operator": "!=", "value": "lead"}, ["sms:3", "wa:4"]),
        ({"field": "phone", "operator": "=", "value": None}, ["tg:2", "fb:5"]),
        ({"field": "email", "operator": "=", "value": "ANN@example.com"}, ["sms:3"]),
        (
            {
                "operator": "AND",
                "value": [
                    {"field": "role", "operator": "=", "value": "lead"},
                    {
                        "operator": "OR",
                        "value": [
                            {"field": "name", "operator": "~", "value": "tom"},
                            {"field": "name", "operator": "~", "value": "bo"},
                        ],
                    },
                ],
            },
            ["tg:2", "fb:5"],
        ),
    ],
)
def test_it_evaluates_the_search_operators_and_nested_groups(
    client, five_contacts, query, expected
):
    assert ids(search(client, "/contacts/search", query)) == expected


def test_it_pages_search_results_with_a_cursor(client, five_contacts):
    query = {"field": "external_id", "operator": "~", "value": ":"}
    first = search(client, "/contacts/search", query, pagination={"per_page": 2}).json()
    assert first["total_count"] == 5
    assert [c["external_id"] for c in first["data"]] == ["wa:1", "tg:2"]
    assert first["pages"]["page"] == 1
    assert first["pages"]["total_pages"] == 3
    cursor = first["pages"]["next"]["starting_after"]
    assert first["pages"]["next"]["page"] == 2

    second = search(
        client, "/contacts/search", query, pagination={"per_page": 2, "starting_after": cursor}
    ).json()
    assert [c["external_id"] for c in second["data"]] == ["sms:3", "wa:4"]
    last = search(
        client,
        "/contacts/search",
        query,
        pagination={"per_page": 2, "starting_after": second["pages"]["next"]["starting_after"]},
    ).json()
    assert [c["external_id"] for c in last["data"]] == ["fb:5"]
    assert "next" not in last["pages"]


def test_it_sorts_search_results(client, five_contacts):
    query = {"field": "role", "operator": "=", "value": "lead"}
    sort = {"field": "name", "order": "ascending"}
    assert ids(search(client, "/contacts/search", query, sort=sort)) == ["fb:5", "wa:1", "tg:2"]


def test_it_keeps_each_workspace_s_contacts_to_itself_in_search(client, five_contacts):
    query = {"field": "role", "operator": "IN", "value": ["user", "lead"]}
    response = post(client, "/contacts/search", {"query": query}, GLOBEX)
    assert response.json()["total_count"] == 0


@pytest.mark.parametrize(
    ("body", "code", "phrase"),
    [
        ({}, "parameter_invalid", "query is required"),
        (
            {"query": {"field": "shoe_size", "operator": "=", "value": "9"}},
            "parameter_invalid",
            "not a searchable field",
        ),
        (
            {"query": {"field": "name", "operator": "LIKE", "value": "x"}},
            "parameter_invalid",
            "not a search operator",
        ),
        (
            {"query": {"field": "name", "operator": "IN", "value": "x"}},
            "parameter_invalid",
            "needs a list",
        ),
        (
            {"query": {"field": "name", "operator": ">", "value": "x"}},
            "parameter_invalid",
            "only compares dates",
        ),
        ({"query": {"operator": "AND", "value": []}}, "parameter_invalid", "list of queries"),
        (
            {
                "query": {
                    "operator": "AND",
                    "value": [
                        {
                            "operator": "OR",
                            "value": [
                                {
                                    "operator": "AND",
                                    "value": [{"field": "name", "operator": "=", "value": "x"}],
                                }
                            ],
                        }
                    ],
                }
            },
            "parameter_invalid",
            "at most 2 groups deep",
        ),
        (
            {
                "query": {
                    "operator": "OR",
                    "value": [
                        {"field": "name", "operator": "=", "value": str(n)} for n in range(16)
                    ],
                }
            },
            "parameter_invalid",
            "at most 15",
        ),
        (
            {
                "query": {"field": "name", "operator": "~", "value": "a"},
                "sort": {"field": "name", "order": "sideways"},
            },
            "invalid_sort_order",
            "ascending",
        ),
        (
            {
                "query": {"field": "name", "operator": "~", "value": "a"},
                "pagination": {"starting_after": "made-up"},
            },
            "parameter_invalid",
            "starting_after",
        ),
        (
            {
                "query": {"field": "name", "operator": "~", "value": "a"},
                "pagination": {"per_page": 0},
            },
            "parameter_invalid",
            "per_page",
        ),
    ],
)
def test_it_refuses_a_search_intercom_would_refuse(client, body, code, phrase):
    response = post(client, "/contacts/search", body)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == code
    assert phrase in error["message"]


def test_it_matches_a_date_by_calendar_day_in_the_workspace_time_zone():
    fields = {"created_at": intercom_search.DATE}
    # 2026-03-02 03:00 UTC is still 1 March in New York (Acme's time zone).
    row = {"created_at": 1772420400}
    march_first_noon_utc = 1772366400
    matches = intercom_search.compile_query(
        {"field": "created_at", "operator": "=", "value": march_first_noon_utc},
        fields,
        timezone="America/New_York",
    )
    assert matches(row)
    in_utc = intercom_search.compile_query(
        {"field": "created_at", "operator": "=", "value": march_first_noon_utc}, fields
    )
    assert not in_utc(row)


# --- conversations ---------------------------------------------------------------------------


@pytest.mark.parametrize("sender_type", ["user", "lead", "contact"])
def test_it_opens_a_conversation_from_a_contact_and_answers_the_message(client, sender_type):
    contact = make_contact(client)
    response = post(
        client,
        "/conversations",
        {"from": {"type": sender_type, "id": contact["id"]}, "body": "Hello there"},
    )
    assert response.status_code == 200
    message = response.json()
    assert message["type"] == "user_message"
    assert message["body"] == "Hello there"
    assert message["message_type"] == "inapp"
    assert isinstance(message["created_at"], int)

    conversation = get(client, f"/conversations/{message['conversation_id']}").json()
    assert conversation["type"] == "conversation"
    assert conversation["id"] == message["conversation_id"]
    assert conversation["state"] == "open" and conversation["open"] is True
    assert conversation["source"]["id"] == message["id"]
    assert conversation["source"]["body"] == "Hello there"
    assert conversation["source"]["author"]["id"] == contact["id"]
    assert conversation["source"]["author"]["type"] == "lead"
    assert conversation["contacts"]["contacts"] == [
        {"type": "contact", "id": contact["id"], "external_id": "wa:15551230001"}
    ]
    assert conversation["waiting_since"] == message["created_at"]
    assert parts_of(conversation) == []


def test_it_keeps_the_attachment_urls_of_a_message(client):
    contact = make_contact(client)
    urls = ["https://octopods.test/media/abc/receipt.jpg", "https://octopods.test/media/d/f.pdf"]
    message = open_conversation(client, contact, "See attached", attachment_urls=urls)
    source = get(client, f"/conversations/{message['conversation_id']}").json()["source"]
    assert [a["url"] for a in source["attachments"]] == urls
    assert source["attachments"][0] == {
        "type": "upload",
        "name": "receipt.jpg",
        "url": urls[0],
        "content_type": "image/jpeg",
        "filesize": 0,
        "width": None,
        "height": None,
    }
    assert source["attachments"][1]["content_type"] == "application/pdf"


@pytest.mark.parametrize(
    ("extra", "status", "code", "phrase"),
    [
        ({"body": ""}, 400, "parameter_invalid", "body is required"),
        ({"body": 42}, 400, "parameter_invalid", "body must be a string"),
        ({"from": {"type": "admin", "id": "x"}}, 400, "parameter_invalid", "from.type"),
        ({"from": "someone"}, 400, "parameter_invalid", "from must be an object"),
        (
            {"from": {"type": "user", "id": "0123456789abcdef01234567"}},
            404,
            "not_found",
            "User Not Found",
        ),
        ({"attachment_urls": ["ftp://x/y.png"]}, 400, "data_invalid", "not an http(s) URL"),
        (
            {"attachment_urls": [f"https://x.test/{n}.png" for n in range(11)]},
            400,
            "data_invalid",
            "At most 10",
        ),
    ],
)
def test_it_refuses_a_conversation_it_cannot_open(client, extra, status, code, phrase):
    contact = make_contact(client)
    body = {"from": {"type": "lead", "id": contact["id"]}, "body": "Hi", **extra}
    response = post(client, "/conversations", body)
    assert response.status_code == status
    error = error_of(response)
    assert error["code"] == code
    assert phrase in error["message"]
    assert not IntercomConversation.objects.exists()


@pytest.mark.parametrize(
    "who",
    [
        lambda contact: {"intercom_user_id": contact["id"]},
        lambda contact: {"user_id": contact["external_id"]},
        lambda contact: {"email": "MARIA@example.com"},
    ],
    ids=["intercom_user_id", "user_id", "email"],
)
def test_it_takes_a_contact_s_reply_naming_them_any_documented_way(client, who):
    contact = make_contact(client, email="maria@example.com")
    message = open_conversation(client, contact)
    response = contact_reply(client, message["conversation_id"], "One more thing", **who(contact))
    assert response.status_code == 200
    conversation = response.json()
    (part,) = parts_of(conversation)
    assert part["type"] == "conversation_part"
    assert part["part_type"] == "comment"
    assert part["body"] == "One more thing"
    assert part["author"] == {
        "type": "lead",
        "id": contact["id"],
        "name": "Maria",
        "email": "maria@example.com",
    }
    assert part["app_package_code"] == APP_PACKAGE_CODE


def test_it_replies_to_the_contact_s_last_conversation(client):
    contact = make_contact(client)
    open_conversation(client, contact, "first")
    latest = open_conversation(client, contact, "second")
    response = contact_reply(client, "last", "third", intercom_user_id=contact["id"])
    assert response.json()["id"] == latest["conversation_id"]


def test_it_refuses_a_reply_from_a_contact_outside_the_conversation(client):
    message = open_conversation(client, make_contact(client))
    stranger = make_contact(client, external_id="wa:other")
    response = contact_reply(
        client, message["conversation_id"], "Hi", intercom_user_id=stranger["id"]
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "parameter_invalid"


def test_it_records_an_admin_reply_and_a_note_with_the_app_package_code(client):
    message = open_conversation(client, make_contact(client))
    conversation_id = message["conversation_id"]
    reply = admin_reply(client, conversation_id, "<p>On it</p>", admin_id=BEN)
    assert reply.status_code == 200
    note = admin_reply(client, conversation_id, "<p>Delivery failed</p>", kind="note")
    assert note.status_code == 200

    conversation = note.json()
    comment, internal = parts_of(conversation)
    assert comment["part_type"] == "comment"
    assert comment["author"] == {
        "type": "admin",
        "id": BEN,
        "name": "Ben Agent",
        "email": "ben@acme.example",
    }
    assert internal["part_type"] == "note"
    assert internal["body"] == "<p>Delivery failed</p>"
    assert {comment["app_package_code"], internal["app_package_code"]} == {APP_PACKAGE_CODE}
    assert int(comment["id"]) < int(internal["id"])
    assert conversation["waiting_since"] is None
    assert {a["id"] for a in conversation["teammates"]["admins"]} == {ADA, BEN}


@pytest.mark.parametrize(
    ("body", "code", "phrase"),
    [
        ({"admin_id": GINA}, "parameter_invalid", "not a teammate of this workspace"),
        ({"admin_id": ""}, "parameter_invalid", "admin_id is required"),
        ({"message_type": "shout"}, "parameter_invalid", "comment, note or quick_reply"),
        ({"body": ""}, "parameter_invalid", "body is required"),
        ({"type": "robot"}, "parameter_invalid", "type must be"),
    ],
)
def test_it_refuses_an_admin_reply_it_cannot_take(client, body, code, phrase):
    message = open_conversation(client, make_contact(client))
    data = {"message_type": "comment", "type": "admin", "admin_id": ADA, "body": "Hi", **body}
    response = post(client, f"/conversations/{message['conversation_id']}/reply", data)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == code
    assert phrase in error["message"]
    assert not IntercomPart.objects.exclude(part_type="source").exists()


def test_it_answers_404_for_a_conversation_it_does_not_have_or_of_another_workspace(client):
    message = open_conversation(client, make_contact(client))
    mine = message["conversation_id"]
    for path, workspace in (
        ("/conversations/999999", ACME),
        ("/conversations/not-a-number", ACME),
        (f"/conversations/{mine}", GLOBEX),
    ):
        response = get(client, path, workspace)
        assert response.status_code == 404
        assert error_of(response) == {"code": "not_found", "message": "Resource Not Found"}
    response = post(
        client,
        f"/conversations/{mine}/reply",
        {"message_type": "comment", "type": "admin", "admin_id": GINA, "body": "x"},
        GLOBEX,
    )
    assert response.status_code == 404


def test_it_closes_and_reopens_a_conversation_through_parts(client):
    message = open_conversation(client, make_contact(client))
    path = f"/conversations/{message['conversation_id']}/parts"
    closed = post(client, path, {"message_type": "close", "type": "admin", "admin_id": ADA})
    assert closed.status_code == 200
    assert closed.json()["state"] == "closed"
    assert closed.json()["open"] is False
    assert parts_of(closed.json())[-1]["part_type"] == "close"

    opened = post(client, path, {"message_type": "open", "admin_id": ADA})
    assert opened.json()["state"] == "open"
    assert [p["part_type"] for p in parts_of(opened.json())] == ["close", "open"]

    refused = post(client, path, {"message_type": "explode", "admin_id": ADA})
    assert refused.status_code == 400
    assert error_of(refused)["code"] == "parameter_invalid"


def test_it_reopens_a_closed_conversation_when_the_contact_replies(client):
    contact = make_contact(client)
    message = open_conversation(client, contact)
    conversation_id = message["conversation_id"]
    post(
        client,
        f"/conversations/{conversation_id}/parts",
        {"message_type": "close", "type": "admin", "admin_id": ADA},
    )
    response = contact_reply(
        client, conversation_id, "Still broken", intercom_user_id=contact["id"]
    )
    conversation = response.json()
    assert conversation["state"] == "open"
    assert conversation["open"] is True
    reopening = parts_of(conversation)[-1]
    # Intercom records a reply that reopens the conversation as an "open" part.
    assert reopening["part_type"] == "open"
    assert reopening["body"] == "Still broken"
    assert reopening["author"]["id"] == contact["id"]


def test_it_assigns_and_snoozes_through_parts(client):
    message = open_conversation(client, make_contact(client))
    path = f"/conversations/{message['conversation_id']}/parts"
    assigned = post(
        client,
        path,
        {"message_type": "assignment", "type": "admin", "admin_id": ADA, "assignee_id": BEN},
    )
    assert assigned.json()["admin_assignee_id"] == int(BEN)
    stranger = post(
        client,
        path,
        {"message_type": "assignment", "type": "admin", "admin_id": ADA, "assignee_id": GINA},
    )
    assert stranger.status_code == 400
    snoozed = post(
        client, path, {"message_type": "snoozed", "admin_id": ADA, "snoozed_until": 4102444800}
    )
    assert snoozed.json()["state"] == "snoozed"
    assert snoozed.json()["snoozed_until"] == 4102444800


def test_it_searches_conversations_by_contact_and_creation_time(client):
    maria, tom = make_contact(client), make_contact(client, external_id="tg:9", name="Tom")
    first = open_conversation(client, maria, "one")
    second = open_conversation(client, maria, "two")
    toms = open_conversation(client, tom, "three")
    created = get(client, f"/conversations/{first['conversation_id']}").json()["created_at"]

    response = search(
        client,
        "/conversations/search",
        {
            "operator": "AND",
            "value": [
                {"field": "source.author.id", "operator": "=", "value": maria["id"]},
                {"field": "created_at", "operator": ">", "value": str(created - 60)},
            ],
        },
        pagination={"per_page": 20},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "conversation.list"
    assert body["total_count"] == 2
    found = {c["id"] for c in body["conversations"]}
    assert found == {first["conversation_id"], second["conversation_id"]}
    assert body["conversations"][0]["source"]["author"]["id"] == maria["id"]

    by_contact = search(
        client,
        "/conversations/search",
        {"field": "contact_ids", "operator": "=", "value": tom["id"]},
    ).json()
    assert [c["id"] for c in by_contact["conversations"]] == [toms["conversation_id"]]
    later = search(
        client,
        "/conversations/search",
        {"field": "created_at", "operator": ">", "value": created + 3600},
    ).json()
    assert later["total_count"] == 0


# --- tags -------------------------------------------------------------------------------------


def test_it_finds_or_creates_a_tag_by_name_whatever_its_case(client):
    created = post(client, "/tags", {"name": "whatsapp"})
    assert created.status_code == 200
    tag = created.json()
    assert tag == {"type": "tag", "id": tag["id"], "name": "whatsapp"}
    assert post(client, "/tags", {"name": "WhatsApp"}).json()["id"] == tag["id"]
    assert post(client, "/tags", {"name": "whatsapp"}, GLOBEX).json()["id"] != tag["id"]
    refused = post(client, "/tags", {"name": "  "})
    assert refused.status_code == 400
    assert error_of(refused)["code"] == "parameter_invalid"


def test_it_tags_a_conversation(client):
    message = open_conversation(client, make_contact(client))
    conversation_id = message["conversation_id"]
    tag = post(client, "/tags", {"name": "telegram"}).json()

    response = post(
        client, f"/conversations/{conversation_id}/tags", {"id": tag["id"], "admin_id": ADA}
    )
    assert response.status_code == 200
    assert response.json() == {"type": "tag", "id": tag["id"], "name": "telegram"}
    # Tagging twice is harmless.
    post(client, f"/conversations/{conversation_id}/tags", {"id": tag["id"], "admin_id": ADA})

    tags = get(client, f"/conversations/{conversation_id}").json()["tags"]
    assert tags["type"] == "tag.list"
    assert [(t["id"], t["name"], t["applied_by"]) for t in tags["tags"]] == [
        (tag["id"], "telegram", {"type": "admin", "id": ADA})
    ]
    found = search(
        client,
        "/conversations/search",
        {"field": "tag_ids", "operator": "IN", "value": [tag["id"]]},
    ).json()
    assert found["total_count"] == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"id": "999999", "admin_id": ADA}, 404, "not_found"),
        ({"id": "nope", "admin_id": ADA}, 404, "not_found"),
        ({"admin_id": ADA}, 400, "parameter_invalid"),
        ({"id": "TAG", "admin_id": GINA}, 400, "parameter_invalid"),
    ],
)
def test_it_refuses_a_tagging_it_cannot_make(client, body, status, code):
    message = open_conversation(client, make_contact(client))
    tag = post(client, "/tags", {"name": "sms"}).json()
    body = {k: tag["id"] if v == "TAG" else v for k, v in body.items()}
    response = post(client, f"/conversations/{message['conversation_id']}/tags", body)
    assert response.status_code == status
    assert error_of(response)["code"] == code


# --- faults ------------------------------------------------------------------------------------


def test_it_answers_429_to_the_next_calls_while_a_rate_limit_storm_is_armed(client):
    armed = post_json(client, FAULTS, {"status": 429, "count": 2})
    assert armed.status_code == 200
    assert armed.json() == {
        "faults": [{"status": 429, "remaining": 2, "workspace": None, "delay_ms": 0}]
    }

    for _ in range(2):
        response = post(client, "/contacts", {"role": "lead"})
        assert response.status_code == 429
        assert error_of(response) == {
            "code": "rate_limit_exceeded",
            "message": "Exceeded rate limit of 1666 in 10_seconds",
        }
        assert response["X-RateLimit-Remaining"] == "0"
        assert int(response["X-RateLimit-Reset"]) > tokens.now()
    assert post(client, "/contacts", {"role": "lead"}).status_code == 200
    assert client.get(FAULTS).json() == {"faults": []}


def test_it_spends_armed_faults_oldest_first_and_only_on_their_workspace(client):
    post_json(client, FAULTS, {"status": 500, "count": 1, "workspace": GLOBEX})
    post_json(client, FAULTS, {"status": 503, "count": 1})

    assert get(client, "/conversations/1", ACME).status_code == 503
    response = get(client, "/conversations/1", GLOBEX)
    assert response.status_code == 500
    assert error_of(response) == {"code": "server_error", "message": "Internal Server Error"}
    assert get(client, "/conversations/1", GLOBEX).status_code == 404


def test_it_leaves_a_bad_token_unanswered_by_faults(client):
    post_json(client, FAULTS, {"status": 500, "count": 1})
    assert client.get(f"{API}/conversations/1").status_code == 401
    assert IntercomFault.objects.get().remaining == 1


def test_a_slow_fault_carries_the_call_out_and_answers_it_late(client, monkeypatch):
    waits = []

    class Clock:
        def wait(self, seconds):
            waits.append(seconds)

    monkeypatch.setattr("sandbox.intercom_inbox.threading.Event", Clock)
    post_json(client, FAULTS, {"status": 200, "count": 1, "delay_ms": 9000})
    post_json(client, FAULTS, {"status": 503, "count": 1, "delay_ms": 250})
    response = post(client, "/contacts", {"role": "lead"})
    assert response.status_code == 200  # the real answer, late
    assert response.json()["type"] == "contact"
    assert post(client, "/contacts", {"role": "lead"}).status_code == 503
    assert waits == [9.0, 0.25]
    assert client.get(FAULTS).json() == {"faults": []}


def test_it_disarms_every_fault_on_delete(client):
    client.post(FAULTS, {"status": "500", "count": "3"})
    assert client.delete(FAULTS).json() == {"faults": []}
    assert get(client, "/conversations/1").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"status": 200},
        {"status": 200, "delay_ms": 60_001},
        {"status": 503, "delay_ms": -1},
        {"status": 429, "count": 0},
        {"status": "x"},
        {"status": 500, "workspace": "nope"},
    ],
)
def test_it_refuses_a_fault_it_cannot_arm(client, body):
    response = post_json(client, FAULTS, body)
    assert response.status_code == 400
    assert response.json()["error"]
    assert not IntercomFault.objects.exists()


# --- the inbox page -------------------------------------------------------------------------------


@pytest.fixture
def chat(client) -> IntercomConversation:
    """A WhatsApp customer's conversation in Acme's inbox, as Octopods opens it."""
    contact = make_contact(client, phone="+15551230001")
    message = open_conversation(
        client,
        contact,
        "My order is late",
        attachment_urls=["https://octopods.test/media/m1/receipt.jpg"],
    )
    tag = post(client, "/tags", {"name": "whatsapp"}).json()
    post(
        client,
        f"/conversations/{message['conversation_id']}/tags",
        {"id": tag["id"], "admin_id": ADA},
    )
    return IntercomConversation.objects.get(pk=message["conversation_id"])


def page(chat: IntercomConversation) -> str:
    return f"{INBOX}/{chat.workspace}/{chat.pk}/"


def act(client, chat: IntercomConversation, action: str, body: str = "", admin_id: str = ADA):
    return client.post(
        f"{page(chat)}act", {"admin_id": admin_id, "action": action, "body": body}, follow=True
    )


def sent_notification() -> tuple[dict, requests.PreparedRequest]:
    assert len(responses.calls) == 1
    request = responses.calls[0].request
    body = request.body if isinstance(request.body, bytes) else request.body.encode()
    return json.loads(body), request


def judged_by_octopods(request) -> list:
    """What the product's own verifier and parser make of a webhook the page sent."""
    hook = webhook_request(request)
    webhooks.verify(secret=settings.INTERCOM_CLIENT_SECRET, request=hook)
    return webhooks.parse(request=hook)


def test_it_lets_a_person_pick_a_workspace(client, chat):
    response = client.get(f"{INBOX}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Inbox · Sandbox Intercom</title>" in html
    assert "not the real Intercom" in html
    for name in ("Acme Support", "Globex Help Desk", "Initech Care"):
        assert name in html
    assert f'href="{INBOX}/sbx-acme/"' in html
    assert "<td>1</td>" in html  # Acme's one conversation


def test_it_lists_a_workspace_s_conversations_newest_activity_first(client, chat):
    other_contact = make_contact(client, external_id="tg:7", name="Tom Baker")
    other = open_conversation(client, other_contact, "Is anyone there?")
    admin_reply(client, str(chat.pk), "<p>Your parcel ships today.</p>")

    html = client.get(f"{INBOX}/sbx-acme/").content.decode()
    maria, tom = html.index("Maria"), html.index("Tom Baker")
    assert maria < tom  # Maria's conversation had the latest activity (the reply)
    assert '<span class="tag">whatsapp</span>' in html
    assert "Your parcel ships today." in html
    assert "<p>Your parcel" not in html
    assert "Is anyone there?" in html
    assert 'class="badge state-open"' in html
    assert f'href="{INBOX}/sbx-acme/{other["conversation_id"]}/"' in html
    assert "No conversations yet" in client.get(f"{INBOX}/sbx-globex/").content.decode()


def test_it_shows_the_parts_in_order_with_notes_set_apart(client, chat):
    contact = chat.contact
    contact_reply(client, str(chat.pk), "Hello?", intercom_user_id=contact.intercom_id)
    admin_reply(client, str(chat.pk), "<p>Checking now</p>", admin_id=BEN)
    admin_reply(
        client, str(chat.pk), "<p>WhatsApp refused the reply: window closed</p>", kind="note"
    )

    response = client.get(page(chat))
    assert response.status_code == 200
    html = response.content.decode()
    order = [
        html.index("My order is late"),
        html.index("Hello?"),
        html.index("Checking now"),
        html.index("WhatsApp refused the reply"),
    ]
    assert order == sorted(order)
    assert html.count('class="part customer"') == 2
    assert html.count('class="part agent"') == 1
    assert html.count('class="part note"') == 1
    assert "Internal note by Ada Admin" in html
    assert "Ben Agent (teammate)" in html
    assert (
        '<img src="https://octopods.test/media/m1/receipt.jpg" alt="Attachment: receipt.jpg"'
        in html
    )
    assert f"written through the API by <code>{APP_PACKAGE_CODE}</code>" in html


def test_it_keeps_inline_styles_and_scripts_out_and_protects_its_forms(client, chat):
    for url in (f"{INBOX}/", f"{INBOX}/sbx-acme/", page(chat)):
        html = client.get(url).content.decode()
        assert "style=" not in html
        assert "<style" not in html
        assert "<script" not in html
        assert '<html lang="en">' in html
        assert "Local stand-in, not the real Intercom" in html
        assert "sandbox/intercom_inbox.css" in html
    html = client.get(page(chat)).content.decode()
    assert html.count("csrfmiddlewaretoken") == 2  # the reply form and the inbox app's panel
    assert '<label for="admin_id">Teammate</label>' in html
    assert '<label for="body">Message</label>' in html
    assert 'value="comment"' in html and 'value="note"' in html and 'value="close"' in html


def test_it_refuses_a_form_post_without_the_csrf_token(chat):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(f"{page(chat)}act", {"admin_id": ADA, "action": "comment", "body": "x"})
    assert response.status_code == 403
    assert not IntercomPart.objects.filter(part_type="comment").exists()


@responses.activate
def test_it_stores_a_reply_and_posts_the_signed_webhook_to_octopods(client, chat):
    responses.add(responses.POST, HOOK, status=200)
    response = act(client, chat, "comment", "Your parcel ships today.\nTracking: <AB123>")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Replied as Ada Admin. Octopods answered 200." in html

    part = IntercomPart.objects.get(part_type="comment")
    assert part.body == "<p>Your parcel ships today.</p><p>Tracking: &lt;AB123&gt;</p>"
    assert part.author_id == ADA
    assert part.app_package_code == ""
    assert part.delivery_attempts == 1
    assert part.webhook_ok

    notification, request = sent_notification()
    assert judged_by_octopods(request) == [
        AgentReply(
            workspace_external_id=ACME,
            conversation_id=str(chat.pk),
            part_id=str(part.pk),
            admin_id=ADA,
            admin_name="Ada Admin",
            body_html=part.body,
            at=part.created_at.replace(microsecond=0),
        )
    ]
    assert request.url == HOOK == webhook_url()
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "intercom-parrot-service-client/1.0"
    expected = hmac.new(
        settings.INTERCOM_CLIENT_SECRET.encode(), request.body, hashlib.sha1
    ).hexdigest()
    assert request.headers["X-Hub-Signature"] == f"sha1={expected}"

    assert notification["type"] == "notification_event"
    assert notification["id"] == part.notification_id
    assert notification["id"].startswith("notif_")
    assert notification["topic"] == "conversation.admin.replied"
    assert notification["app_id"] == ACME
    assert notification["delivery_attempts"] == 1
    assert isinstance(notification["created_at"], int)
    assert notification["data"]["type"] == "notification_event_data"
    item = notification["data"]["item"]
    assert item["type"] == "conversation"
    assert item["id"] == str(chat.pk)
    assert item["contacts"]["contacts"][0]["id"] == chat.contact.intercom_id
    assert item["conversation_parts"]["total_count"] == 1
    (sent,) = item["conversation_parts"]["conversation_parts"]
    assert sent == {
        "type": "conversation_part",
        "id": str(part.pk),
        "part_type": "comment",
        "body": part.body,
        "created_at": notification["created_at"],
        "updated_at": notification["created_at"],
        "notified_at": notification["created_at"],
        "assigned_to": None,
        "author": {"type": "admin", "id": ADA, "name": "Ada Admin", "email": "ada@acme.example"},
        "attachments": [],
        "external_id": None,
        "redacted": False,
        "app_package_code": None,
    }


@responses.activate
@pytest.mark.parametrize(
    ("action", "body", "topic", "state"),
    [
        ("note", "Customer is a VIP", "conversation.admin.noted", "open"),
        ("close", "", "conversation.admin.closed", "closed"),
    ],
)
def test_it_sends_the_topic_of_each_action(client, chat, action, body, topic, state):
    responses.add(responses.POST, HOOK, status=200)
    act(client, chat, action, body)
    notification, request = sent_notification()
    events = judged_by_octopods(request)
    if action == "note":
        assert events == []  # a note stays in the inbox
    else:
        assert [(type(e), e.conversation_id, e.open) for e in events] == [
            (ConversationState, str(chat.pk), False)
        ]
    assert notification["topic"] == topic
    (part,) = notification["data"]["item"]["conversation_parts"]["conversation_parts"]
    assert part["part_type"] == action
    assert notification["data"]["item"]["state"] == state
    chat.refresh_from_db()
    assert chat.state == state


@responses.activate
def test_it_reopens_a_closed_conversation_from_the_page(client, chat):
    responses.add(responses.POST, HOOK, status=200)
    act(client, chat, "close")
    html = act(client, chat, "open", admin_id=BEN).content.decode()
    assert "Reopened as Ben Agent." in html
    assert responses.calls[1].request.headers["X-Hub-Signature"].startswith("sha1=")
    (reopened,) = judged_by_octopods(responses.calls[1].request)
    assert reopened.open is True
    notification = json.loads(responses.calls[1].request.body)
    assert notification["topic"] == "conversation.admin.opened"
    assert notification["data"]["item"]["open"] is True
    chat.refresh_from_db()
    assert chat.state == "open"
    assert 'value="close"' in html


@responses.activate
@pytest.mark.parametrize(
    ("admin_id", "action", "body", "phrase"),
    [
        (GINA, "comment", "Hi", "Choose a teammate of Acme Support to act as."),
        ("", "comment", "Hi", "Choose a teammate of Acme Support to act as."),
        (ADA, "comment", "   ", "Write the reply or note first."),
        (ADA, "shout", "Hi", "Choose Reply, Add note, Close or Reopen."),
        (ADA, "open", "", "already open"),
    ],
)
def test_it_refuses_an_action_it_cannot_take_and_sends_nothing(
    client, chat, admin_id, action, body, phrase
):
    html = act(client, chat, action, body, admin_id=admin_id).content.decode()
    assert phrase in html
    assert not IntercomPart.objects.exclude(part_type="source").exists()
    assert len(responses.calls) == 0


@responses.activate
def test_it_signs_the_raw_body_so_a_changed_byte_fails_octopods_verifier(client, chat):
    responses.add(responses.POST, HOOK, status=200)
    act(client, chat, "comment", "Grüße aus Köln")
    request = responses.calls[0].request
    assert "Grüße aus Köln".encode() in request.body  # raw UTF-8, as typed
    hook = webhook_request(request)
    tampered = dataclasses.replace(hook, body=hook.body.replace("Köln".encode(), b"Bonn"))
    with pytest.raises(WebhookRejected):
        webhooks.verify(secret=settings.INTERCOM_CLIENT_SECRET, request=tampered)


@responses.activate
def test_it_shows_what_octopods_answered_when_it_is_not_a_2xx(client, chat):
    responses.add(responses.POST, HOOK, status=500, body="Internal error\n  in relay")
    html = act(client, chat, "comment", "Hello").content.decode()
    assert "Octopods answered 500: Internal error in relay" in html
    part = IntercomPart.objects.get(part_type="comment")
    assert not part.webhook_ok
    assert 'class="outcome-failed"' in html


@responses.activate
def test_it_shows_when_octopods_cannot_be_reached(client, chat):
    responses.add(responses.POST, HOOK, body=requests.ConnectionError("refused"))
    html = act(client, chat, "comment", "Hello").content.decode()
    assert f"Could not reach Octopods at {HOOK}: refused" in html
    # The reply is in the inbox all the same, as it would be in Intercom.
    assert IntercomPart.objects.filter(part_type="comment").count() == 1


@responses.activate
def test_it_resends_a_webhook_with_the_same_notification_id(client, chat):
    responses.add(responses.POST, HOOK, status=500)
    act(client, chat, "comment", "Hello")
    part = IntercomPart.objects.get(part_type="comment")
    responses.replace(responses.POST, HOOK, status=200)

    html = client.post(f"{page(chat)}parts/{part.pk}/redeliver", follow=True).content.decode()
    assert "Sent the webhook again. Octopods answered 200." in html
    assert "sent 2 times" in html
    first, second = (json.loads(call.request.body) for call in responses.calls)
    assert second["id"] == first["id"] == part.notification_id
    assert second["delivery_attempts"] == 2
    assert second["first_sent_at"] == first["first_sent_at"]


def test_it_remembers_the_teammate_chosen_last(client, chat):
    with responses.RequestsMock() as mocked:
        mocked.add(responses.POST, HOOK, status=200)
        act(client, chat, "note", "noted", admin_id=BEN)
    html = client.get(page(chat)).content.decode()
    assert f'<option value="{BEN}" selected>' in html


def test_it_answers_404_for_an_unknown_workspace_or_another_workspace_s_conversation(client, chat):
    assert client.get(f"{INBOX}/sbx-nope/").status_code == 404
    assert client.get(f"{INBOX}/sbx-globex/{chat.pk}/").status_code == 404
    response = client.post(
        f"{INBOX}/sbx-globex/{chat.pk}/act", {"admin_id": GINA, "action": "comment", "body": "x"}
    )
    assert response.status_code == 404
    assert not IntercomPart.objects.filter(part_type="comment").exists()


# --- the product's own client against the sandbox, over HTTP --------------------------------


@pytest.fixture
def over_http(client):
    """Route the product's HTTP calls to INTERCOM_API_URL into this Django app, so the
    product's Intercom adapter talks to the sandbox exactly as it would on a laptop."""

    def forward(request):
        parts = urlsplit(request.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = client.generic(
            request.method,
            path,
            data=request.body or b"",
            content_type=request.headers.get("Content-Type", ""),
            HTTP_AUTHORIZATION=request.headers.get("Authorization", ""),
        )
        return response.status_code, dict(response.items()), response.content

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        pattern = re.compile(re.escape(settings.INTERCOM_API_URL) + r"/.*")
        for method in (responses.GET, responses.POST, responses.PUT, responses.DELETE):
            mocked.add_callback(method, pattern, callback=forward)
        yield mocked


def delivery(body: str, **extra) -> InboxDelivery:
    customer = InboxCustomer(external_id="whatsapp:15551230001", name="Maria", phone="+15551230001")
    return InboxDelivery(customer=customer, body=body, tag="whatsapp", admin_id=ADA, **extra)


def test_it_serves_the_product_s_intercom_adapter_relaying_a_customer(client, over_http):
    adapter, access = IntercomAdapter(), TokenSet(access_token=token())
    first = adapter.deliver(tokens=access, delivery=delivery("Hello"))
    assert first.opened
    chat = IntercomConversation.objects.get(pk=first.conversation_id)
    assert chat.contact.intercom_id == first.contact_id
    assert chat.contact.external_id == "whatsapp:15551230001"
    assert [t.name for t in chat.tags.all()] == ["whatsapp"]
    assert chat.parts.get().pk == int(first.part_id)  # the Message id is the source's

    again = adapter.deliver(
        tokens=access, delivery=delivery("Still there?", conversation_id=first.conversation_id)
    )
    assert (again.conversation_id, again.opened) == (first.conversation_id, False)
    assert IntercomPart.objects.get(pk=again.part_id).body == "Still there?"

    adapter.post_note(
        tokens=access, conversation_id=first.conversation_id, admin_id=BEN, body="Sent late"
    )
    note = chat.parts.get(part_type="note")
    assert (note.author_id, note.app_package_code) == (BEN, APP_PACKAGE_CODE)

    # A new delivery finds the same contact by phone or external id instead of a second.
    other = adapter.deliver(tokens=access, delivery=delivery("New topic"))
    assert other.contact_id == first.contact_id
    assert IntercomContact.objects.count() == 1


def test_it_drives_a_rate_limit_storm_through_the_product_s_client(client, over_http):
    post_json(client, FAULTS, {"status": 429, "count": 1})
    adapter, access = IntercomAdapter(), TokenSet(access_token=token())
    with pytest.raises(ProviderError) as raised:
        adapter.deliver(tokens=access, delivery=delivery("Hello"))
    assert raised.value.status == 429
    assert raised.value.code == "rate_limit_exceeded"
    assert not raised.value.permanent
    assert 0 <= raised.value.retry_after <= 10
    assert adapter.deliver(tokens=access, delivery=delivery("Hello")).opened


# --- mounting ---------------------------------------------------------------------------------


def test_it_links_the_inbox_from_the_sandbox_index(client):
    html = client.get("/sandbox/").content.decode()
    assert f'<a href="{INBOX}/">Intercom inbox</a>' in html


def test_it_is_only_mounted_when_the_sandbox_is_enabled():
    paths = (f"{INBOX}/", f"{API}/contacts", f"{API}/conversations/1/reply", FAULTS)
    for path in paths:
        get_resolver().resolve(path)
    with override_settings(SANDBOX_ENABLED=False):
        resolver = URLResolver(RegexPattern(r"^/"), fresh_urlpatterns())
        for path in paths:
            with pytest.raises(Resolver404):
                resolver.resolve(path)
