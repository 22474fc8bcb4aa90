import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from integrations.base import AgentReply, ConversationState, InboxAttachment
from integrations.channel import MalformedPayload, WebhookRejected, WebhookRequest
from integrations.intercom.adapter import IntercomAdapter
from integrations.intercom.webhooks import text_to_html

FIXTURES = Path(__file__).parent / "fixtures"
URL = "https://bridge.example.com/hooks/intercom/"
SECRET = "intercom-client-secret-for-tests"
WORKSPACE = "acme-app"

adapter = IntercomAdapter()


@pytest.fixture(autouse=True)
def client_secret(settings):
    settings.INTERCOM_CLIENT_SECRET = SECRET


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def signature(body: bytes, secret: str = SECRET) -> str:
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def request(body: bytes, headers: dict[str, str] | None = None) -> WebhookRequest:
    if headers is None:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "intercom-parrot-service-client/1.0",
            "X-Hub-Signature": signature(body),
        }
    return WebhookRequest(method="POST", url=URL, headers=headers, body=body)


def parsed(name: str) -> list:
    hook = request(fixture(name))
    adapter.verify_webhook(request=hook)
    return adapter.parse_webhook(request=hook)


def at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


# --- verify --------------------------------------------------------------------------


def test_it_accepts_the_signature_over_the_raw_body():
    adapter.verify_webhook(request=request(fixture("conversation.admin.replied.json")))


def test_it_reads_the_signature_header_whatever_its_case_and_the_hex_case():
    body = fixture("conversation.admin.replied.json")
    headers = {"x-hub-signature": "sha1=" + signature(body).removeprefix("sha1=").upper()}
    adapter.verify_webhook(request=request(body, headers))


def test_it_rejects_a_request_without_a_signature():
    body = fixture("conversation.admin.replied.json")
    with pytest.raises(WebhookRejected, match="missing X-Hub-Signature"):
        adapter.verify_webhook(request=request(body, {"Content-Type": "application/json"}))


def test_it_rejects_a_signature_made_with_another_secret():
    body = fixture("conversation.admin.replied.json")
    headers = {"X-Hub-Signature": signature(body, secret="someone-elses-secret")}
    with pytest.raises(WebhookRejected, match="mismatch"):
        adapter.verify_webhook(request=request(body, headers))


def test_it_rejects_a_body_with_one_byte_changed():
    body = fixture("conversation.admin.replied.json")
    headers = {"X-Hub-Signature": signature(body)}
    tampered = body.replace(b'"991267715"', b'"991267716"', 1)
    assert tampered != body and len(tampered) == len(body)
    with pytest.raises(WebhookRejected, match="mismatch"):
        adapter.verify_webhook(request=request(tampered, headers))


def test_it_rejects_the_same_json_serialized_again():
    body = fixture("conversation.admin.replied.json")
    headers = {"X-Hub-Signature": signature(body)}
    reserialized = json.dumps(json.loads(body), separators=(",", ":")).encode()
    assert json.loads(reserialized) == json.loads(body)
    with pytest.raises(WebhookRejected, match="mismatch"):
        adapter.verify_webhook(request=request(reserialized, headers))


def test_it_rejects_a_sha256_signature_in_the_sha1_header():
    body = fixture("conversation.admin.replied.json")
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    with pytest.raises(WebhookRejected, match="malformed"):
        adapter.verify_webhook(request=request(body, {"X-Hub-Signature": f"sha256={digest}"}))


def test_it_rejects_a_bare_hex_signature_and_a_non_ascii_one():
    body = fixture("conversation.admin.replied.json")
    bare = signature(body).removeprefix("sha1=")
    with pytest.raises(WebhookRejected, match="malformed"):
        adapter.verify_webhook(request=request(body, {"X-Hub-Signature": bare}))
    with pytest.raises(WebhookRejected, match="mismatch"):
        adapter.verify_webhook(request=request(body, {"X-Hub-Signature": "sha1=é" * 20}))


def test_it_rejects_everything_while_no_client_secret_is_configured(settings):
    settings.INTERCOM_CLIENT_SECRET = ""
    body = fixture("conversation.admin.replied.json")
    with pytest.raises(WebhookRejected, match="no Intercom client secret"):
        adapter.verify_webhook(request=request(body, {"X-Hub-Signature": signature(body, "")}))


# --- one test per fixture ------------------------------------------------------------


def test_an_admin_reply_becomes_an_agent_reply_with_its_attachments():
    assert parsed("conversation.admin.replied.json") == [
        AgentReply(
            workspace_external_id=WORKSPACE,
            conversation_id="499",
            part_id="135",
            admin_id="991267715",
            admin_name="Ann",
            body_html=(
                "<p>Thanks! It left our warehouse <b>today</b>.</p><p>Here is the invoice.</p>"
            ),
            attachments=(
                InboxAttachment(
                    url="https://downloads.intercomcdn.com/i/o/123/invoice.pdf",
                    name="invoice.pdf",
                    content_type="application/pdf",
                ),
            ),
            at=at(1718000400),
        )
    ]


def test_a_plain_text_admin_reply_from_api_2_15_on_is_escaped_into_html():
    [reply] = parsed("conversation.admin.replied.plain_text.json")
    assert reply.part_id == "136"
    assert reply.workspace_external_id == WORKSPACE
    assert reply.body_html == "<p>Tracking: 1Z999 &amp; more &lt;3<br>See you soon</p>"
    assert reply.attachments == ()
    assert reply.at == at(1718000450)


def test_our_own_api_replies_echoing_back_are_skipped():
    assert parsed("conversation.admin.replied.api_echo.json") == []


def test_with_our_package_code_known_other_apps_replies_still_go_out(settings):
    settings.INTERCOM_APP_PACKAGE_CODE = "octopods-app"
    assert parsed("conversation.admin.replied.api_echo.json") == []
    settings.INTERCOM_APP_PACKAGE_CODE = "octopods"
    (reply,) = parsed("conversation.admin.replied.api_echo.json")
    assert isinstance(reply, AgentReply)


def test_notes_are_never_sent_to_the_customer():
    assert parsed("conversation.admin.noted.json") == []


def test_closing_a_conversation_is_a_closed_state_dated_by_its_close_part():
    assert parsed("conversation.admin.closed.json") == [
        ConversationState(
            workspace_external_id=WORKSPACE,
            conversation_id="499",
            open=False,
            at=at(1718000600),
        )
    ]


def test_reopening_a_conversation_is_an_open_state():
    assert parsed("conversation.admin.opened.json") == [
        ConversationState(
            workspace_external_id=WORKSPACE, conversation_id="499", open=True, at=at(1718000700)
        )
    ]


def test_snoozing_changes_nothing_for_the_customer():
    assert parsed("conversation.admin.snoozed.json") == []


def test_a_contact_reply_is_not_relayed_back():
    assert parsed("conversation.user.replied.json") == []


def test_a_contact_reply_that_reopens_a_closed_conversation_is_an_open_state():
    assert parsed("conversation.user.replied.reopened.json") == [
        ConversationState(
            workspace_external_id=WORKSPACE, conversation_id="499", open=True, at=at(1718001000)
        )
    ]


def test_a_contact_started_conversation_is_not_relayed_back():
    assert parsed("conversation.user.created.json") == []


def test_a_ping_is_acknowledged_with_no_events():
    assert parsed("ping.json") == []


# --- what a reply keeps and leaves out -------------------------------------------------


def replied(*parts: dict, **notification) -> list:
    body = json.loads(fixture("conversation.admin.replied.json"))
    body["data"]["item"]["conversation_parts"]["conversation_parts"] = list(parts)
    body.update(notification)
    return adapter.parse_webhook(request=request(json.dumps(body).encode()))


def comment(part_id: str, **fields) -> dict:
    return {
        "type": "conversation_part",
        "id": part_id,
        "part_type": "comment",
        "body": "<p>Hello</p>",
        "created_at": 1718000400,
        "author": {"type": "admin", "id": "991267715", "name": "Ann"},
        "attachments": [],
        "app_package_code": None,
        **fields,
    }


def test_only_admin_comments_written_in_the_inbox_become_replies():
    events = replied(
        comment("1"),
        comment("2", part_type="note"),
        comment("3", part_type="assignment", body=None),
        comment("4", author={"type": "bot", "id": "55", "name": "Fin"}),
        comment("5", app_package_code="some-app"),
        comment("6", body="<p>Second</p>"),
    )
    assert [(event.part_id, event.body_html) for event in events] == [
        ("1", "<p>Hello</p>"),
        ("6", "<p>Second</p>"),
    ]


def test_a_reply_part_without_a_time_or_author_name_is_still_a_reply():
    [reply] = replied(comment("7", created_at=None, author={"type": "admin", "id": 991}))
    assert (reply.admin_id, reply.admin_name, reply.at) == ("991", "", None)


def test_an_attachment_without_a_link_is_left_out():
    [reply] = replied(
        comment("8", attachments=[{"type": "upload", "name": "lost.png"}, {"url": "https://x/a"}])
    )
    assert reply.attachments == (InboxAttachment(url="https://x/a"),)


def test_a_closed_state_without_parts_is_dated_by_the_notification():
    body = json.loads(fixture("conversation.admin.closed.json"))
    del body["data"]["item"]["conversation_parts"]
    [state] = adapter.parse_webhook(request=request(json.dumps(body).encode()))
    assert state == ConversationState(
        workspace_external_id=WORKSPACE, conversation_id="499", open=False, at=at(1718000602)
    )


def test_an_unknown_topic_gives_no_events():
    assert replied(comment("1"), topic="conversation.admin.single.created") == []


# --- malformed -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[]", "body is not an object"),
        (b'{"topic": "ping", "data": {"item": {}}}', "app_id is missing"),
        (b'{"topic": "ping", "app_id": "", "data": {"item": {}}}', "app_id is empty"),
        (b'{"topic": "ping", "app_id": "acme-app"}', "data is missing"),
        (b'{"topic": "ping", "app_id": "acme-app", "data": {}}', "data.item is missing"),
        (b'{"topic": "ping", "app_id": "acme-app", "data": {"item": []}}', "item is not"),
        (b'{"app_id": "acme-app", "data": {"item": {}}}', "topic is missing"),
    ],
)
def test_it_refuses_what_intercom_does_not_send(body, error):
    with pytest.raises(MalformedPayload, match=error):
        adapter.parse_webhook(request=request(body))


def test_an_admin_reply_without_parts_is_malformed():
    body = json.loads(fixture("conversation.admin.replied.json"))
    del body["data"]["item"]["conversation_parts"]
    with pytest.raises(MalformedPayload, match="conversation_parts is missing"):
        adapter.parse_webhook(request=request(json.dumps(body).encode()))


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"id": None}, "id is not an id"),
        ({"part_type": 5}, "part_type is not a string"),
        ({"body": ["x"]}, "body is not a string"),
        ({"created_at": "yesterday"}, "created_at is not a timestamp"),
        ({"attachments": "a.png"}, "attachments is not a list"),
        ({"author": "Ann"}, "author is not an object"),
    ],
)
def test_a_reply_part_of_the_wrong_shape_is_malformed(fields, error):
    with pytest.raises(MalformedPayload, match=error):
        replied(comment("1", **fields))


def test_a_conversation_without_an_id_is_malformed():
    body = json.loads(fixture("conversation.admin.closed.json"))
    del body["data"]["item"]["id"]
    with pytest.raises(MalformedPayload, match="id is not an id"):
        adapter.parse_webhook(request=request(json.dumps(body).encode()))


# --- text into HTML (notes, plain-text webhook bodies) ---------------------------------


def test_text_becomes_escaped_paragraphs_with_line_breaks():
    text = "Order <#42> & co\r\nline two\n\n\nnext paragraph\n"
    assert text_to_html(text) == (
        "<p>Order &lt;#42&gt; &amp; co<br>line two</p><p>next paragraph</p>"
    )
    assert text_to_html("  \n ") == ""


# --- the notification as typed models ----------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        (
            {"author": {"type": "admin", "id": True}},
            "data.item.conversation_parts.conversation_parts.0.author.id is not an id",
        ),
        (
            {"attachments": [{"url": "https://x/a.png", "name": 5}]},
            "data.item.conversation_parts.conversation_parts.0.attachments.0.name is not a string",
        ),
        (
            {"created_at": 10**30},
            "data.item.conversation_parts.conversation_parts.0.created_at is out of range",
        ),
    ],
)
def test_a_wrong_type_deep_in_a_notification_is_refused_with_its_path(fields, error):
    """conversation_part.author.id is a string (older payloads: a number), attachment
    names are strings, created_at is Unix seconds (Intercom's conversation_part and
    part_attachment, PROVIDERS.md §1.5; the notification wraps the conversation in
    data.item: https://developers.intercom.com/docs/references/2.5/webhooks/webhook-models)."""
    with pytest.raises(MalformedPayload) as refused:
        replied(comment("1", **fields))
    assert str(refused.value) == error


def test_null_optional_fields_of_a_part_read_as_empty():
    """author.name, body, attachment name and content_type may be null in Intercom's
    payloads (PROVIDERS.md §1.5)."""
    [reply] = replied(
        comment(
            "1",
            body=None,
            author={"type": "admin", "id": 991267715, "name": None},
            attachments=[{"url": "https://x/a.png", "name": None, "content_type": None}],
        )
    )
    assert reply.admin_id == "991267715"
    assert reply.admin_name == ""
    assert reply.body_html == ""
    assert reply.attachments == (InboxAttachment(url="https://x/a.png", name="", content_type=""),)


def test_fields_intercom_adds_are_ignored():
    """Intercom adds fields to its webhook models without notice
    (https://developers.intercom.com/docs/references/2.5/webhooks/webhook-models)."""
    body = json.loads(fixture("conversation.admin.replied.json"))
    body["delivery_status"] = {"new": True}
    body["data"]["item"]["ai_agent"] = {"source_type": 3}
    body["data"]["item"]["conversation_parts"]["conversation_parts"][0]["redacted"] = "no"
    events = adapter.parse_webhook(request=request(json.dumps(body).encode()))
    assert events == parsed("conversation.admin.replied.json")
