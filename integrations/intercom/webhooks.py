"""Intercom webhooks (PROVIDERS.md §1.6): verify the signature, turn a notification into
inbox events.

Subscriptions belong to the app, so one URL hears every workspace that installed it;
each notification names its workspace in ``app_id``. Intercom signs no timestamp and
resends a notification it thinks failed, so the part ids kept on every ``AgentReply``
are the dedupe keys (RELIABILITY.md §2.3).
"""

import hashlib
import hmac
import html
import re
from collections.abc import Callable

from django.conf import settings

from ..base import AgentReply, ConversationState, InboxAttachment, InboxEvent
from ..channel import MalformedPayload, WebhookRejected, WebhookRequest
from ..payload import load_json, parse_as
from ..webhook_guard import digests_equal
from . import schema
from .schema import ConversationNotification

SIGNATURE_HEADER = "X-Hub-Signature"


def verify(*, secret: str, request: WebhookRequest) -> None:
    """Raise ``WebhookRejected`` unless ``X-Hub-Signature`` is ``sha1=<hex
    HMAC-SHA1(secret, raw body)>``; ``secret`` is the app's OAuth client secret."""
    if not secret:
        raise WebhookRejected("no Intercom client secret configured")
    header = request.header(SIGNATURE_HEADER).strip()
    if not header:
        raise WebhookRejected(f"missing {SIGNATURE_HEADER}")
    scheme, _, given = header.partition("=")
    if scheme != "sha1" or not given:
        raise WebhookRejected(f"malformed {SIGNATURE_HEADER}")
    # Only the bytes Intercom sent match: JSON decoded and dumped again does not.
    expected = hmac.new(secret.encode(), request.body, hashlib.sha1).hexdigest()
    if not digests_equal(expected, given.lower()):
        raise WebhookRejected("signature mismatch")


def parse(*, request: WebhookRequest) -> list[InboxEvent]:
    data = load_json(request.body)
    topic = parse_as(schema.Notification, data).topic
    handler = TOPIC_HANDLERS.get(topic)
    if handler is None:
        # ping, conversation.admin.noted (notes stay in the inbox), conversation.user.*
        # (the customer's own words, which came from us), snoozes, assignments, contact
        # topics and whatever Intercom adds: nothing to send to the customer.
        return []
    # The topics we handle are all about a conversation: read the item as one.
    return handler(parse_as(schema.ConversationNotification, data))


# --- topics ----------------------------------------------------------------------------


def _on_admin_replied(notification: ConversationNotification) -> list[InboxEvent]:
    conversation_id = _conversation_id(notification)
    if notification.data.item.conversation_parts is None:
        raise MalformedPayload("data.item.conversation_parts is missing")
    return [
        AgentReply(
            workspace_external_id=notification.app_id,
            conversation_id=conversation_id,
            part_id=part.id,
            admin_id=part.author.id,
            admin_name=part.author.name,
            body_html=_as_html(part.body),
            attachments=_attachments(part),
            at=part.created_at,
        )
        for part in _parts(notification)
        if part.part_type == "comment"
        and part.author.type == "admin"
        and not _our_own_write(part.app_package_code)
    ]


def _our_own_write(app_package_code: str | None) -> bool:
    """A part written through the API carries its app's package code. Ours echoing back
    would go out to the customer twice. With INTERCOM_APP_PACKAGE_CODE set, only our
    own are skipped, so replies other apps post for teammates still reach customers;
    unset, every API-written part is skipped (the safe side)."""
    if app_package_code is None:
        return False
    ours = settings.INTERCOM_APP_PACKAGE_CODE
    return not ours or app_package_code == ours


def _on_admin_closed(notification: ConversationNotification) -> list[InboxEvent]:
    return [_state(notification, open=False, part_types={"close"})]


def _on_admin_opened(notification: ConversationNotification) -> list[InboxEvent]:
    return [_state(notification, open=True, part_types={"open"})]


def _on_user_replied(notification: ConversationNotification) -> list[InboxEvent]:
    # A contact's reply to a closed conversation reopens it and arrives as an "open"
    # part carrying the reply; an ordinary reply changes no state and is not relayed
    # (the customer's words reached Intercom through us).
    if not any(part.part_type == "open" for part in _parts(notification)):
        return []
    return [_state(notification, open=True, part_types={"open"})]


TOPIC_HANDLERS: dict[str, Callable[[ConversationNotification], list[InboxEvent]]] = {
    "conversation.admin.replied": _on_admin_replied,
    "conversation.admin.closed": _on_admin_closed,
    "conversation.admin.opened": _on_admin_opened,
    "conversation.user.replied": _on_user_replied,
}


def _state(
    notification: ConversationNotification, *, open: bool, part_types: set[str]
) -> ConversationState:
    # The part that changed the state dates it; the notification's own time is later
    # (and later still on a resend), so it is only the fallback.
    times = [
        part.created_at
        for part in _parts(notification)
        if part.part_type in part_types and part.created_at is not None
    ]
    return ConversationState(
        workspace_external_id=notification.app_id,
        conversation_id=_conversation_id(notification),
        open=open,
        at=max(times) if times else notification.created_at,
    )


# --- bodies ----------------------------------------------------------------------------

_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")


def _as_html(body: str) -> str:
    # Webhooks of API version 2.15 and later carry part bodies as plain text; earlier
    # ones as HTML. The version is the app's Developer Hub setting, not ours to read
    # from the payload, so a body with no tag in it is taken for text and escaped:
    # body_html is always HTML the channel formatter can read.
    return body if _TAG.search(body) else text_to_html(body)


def text_to_html(text: str) -> str:
    """Plain text as the simple HTML Intercom renders: escaped, a paragraph per blank-line
    separated block, single line breaks kept as ``<br>``."""
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n").strip())
    return "".join(
        "<p>" + "<br>".join(html.escape(line) for line in block.split("\n")) + "</p>"
        for block in blocks
        if block.strip()
    )


# --- reading the conversation ------------------------------------------------------------


def _conversation_id(notification: ConversationNotification) -> str:
    conversation_id = notification.data.item.id
    if conversation_id is None:
        raise MalformedPayload("data.item.id is not an id")
    return conversation_id


def _parts(notification: ConversationNotification) -> list[schema.Part]:
    listing = notification.data.item.conversation_parts
    return [] if listing is None else listing.conversation_parts


def _attachments(part: schema.Part) -> tuple[InboxAttachment, ...]:
    return tuple(
        InboxAttachment(
            url=attachment.url, name=attachment.name, content_type=attachment.content_type
        )
        for attachment in part.attachments
        # An attachment without a link has nothing to send on.
        if attachment.url
    )
