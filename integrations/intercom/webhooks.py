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
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings

from ..base import AgentReply, ConversationState, InboxAttachment, InboxEvent
from ..channel import MalformedPayload, WebhookRejected, WebhookRequest
from ..payload import as_dict, dict_at, load_json, opt_str_at, str_at
from ..webhook_guard import digests_equal

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


# --- the notification, typed -----------------------------------------------------------


@dataclass(frozen=True)
class Notification:
    topic: str
    app_id: str  # the workspace (its id_code)
    created_at: datetime | None
    item: dict  # the object the topic is about, with its own "type"


@dataclass(frozen=True)
class Part:
    id: str
    part_type: str
    body: str
    author_type: str
    author_id: str
    author_name: str
    attachments: tuple[InboxAttachment, ...]
    created_at: datetime | None
    # Set when the part was written through the REST API (by some app: ours included).
    app_package_code: str | None


def parse(*, request: WebhookRequest) -> list[InboxEvent]:
    notification = _notification(request.body)
    handler = TOPIC_HANDLERS.get(notification.topic)
    if handler is None:
        # ping, conversation.admin.noted (notes stay in the inbox), conversation.user.*
        # (the customer's own words, which came from us), snoozes, assignments, contact
        # topics and whatever Intercom adds: nothing to send to the customer.
        return []
    return handler(notification)


# --- topics ----------------------------------------------------------------------------


def _on_admin_replied(notification: Notification) -> list[InboxEvent]:
    conversation_id = _id(notification.item, "id")
    return [
        AgentReply(
            workspace_external_id=notification.app_id,
            conversation_id=conversation_id,
            part_id=part.id,
            admin_id=part.author_id,
            admin_name=part.author_name,
            body_html=_as_html(part.body),
            attachments=part.attachments,
            at=part.created_at,
        )
        for part in _parts(notification.item, required=True)
        if part.part_type == "comment"
        and part.author_type == "admin"
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


def _on_admin_closed(notification: Notification) -> list[InboxEvent]:
    return [_state(notification, open=False, part_types={"close"})]


def _on_admin_opened(notification: Notification) -> list[InboxEvent]:
    return [_state(notification, open=True, part_types={"open"})]


def _on_user_replied(notification: Notification) -> list[InboxEvent]:
    # A contact's reply to a closed conversation reopens it and arrives as an "open"
    # part carrying the reply; an ordinary reply changes no state and is not relayed
    # (the customer's words reached Intercom through us).
    if not any(part.part_type == "open" for part in _parts(notification.item)):
        return []
    return [_state(notification, open=True, part_types={"open"})]


TOPIC_HANDLERS: dict[str, Callable[[Notification], list[InboxEvent]]] = {
    "conversation.admin.replied": _on_admin_replied,
    "conversation.admin.closed": _on_admin_closed,
    "conversation.admin.opened": _on_admin_opened,
    "conversation.user.replied": _on_user_replied,
}


def _state(notification: Notification, *, open: bool, part_types: set[str]) -> ConversationState:
    # The part that changed the state dates it; the notification's own time is later
    # (and later still on a resend), so it is only the fallback.
    times = [
        part.created_at
        for part in _parts(notification.item)
        if part.part_type in part_types and part.created_at is not None
    ]
    return ConversationState(
        workspace_external_id=notification.app_id,
        conversation_id=_id(notification.item, "id"),
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


# --- shapes: anything else is MalformedPayload -----------------------------------------


def _notification(body: bytes) -> Notification:
    data = as_dict(load_json(body), "notification")
    app_id = str_at(data, "app_id")
    if not app_id:
        raise MalformedPayload("app_id is empty")
    return Notification(
        topic=str_at(data, "topic"),
        app_id=app_id,
        created_at=_opt_time(data, "created_at"),
        item=dict_at(dict_at(data, "data"), "item"),
    )


def _parts(item: dict, *, required: bool = False) -> list[Part]:
    if "conversation_parts" not in item and not required:
        return []
    listing = dict_at(item, "conversation_parts")
    parts = listing.get("conversation_parts")
    if not isinstance(parts, list):
        raise MalformedPayload("conversation_parts is not a list")
    return [_part(as_dict(part, "conversation part")) for part in parts]


def _part(part: dict) -> Part:
    author = as_dict(part.get("author") or {}, "author")
    code = part.get("app_package_code")
    return Part(
        id=_id(part, "id"),
        part_type=str_at(part, "part_type"),
        body=opt_str_at(part, "body"),
        author_type=opt_str_at(author, "type"),
        author_id=_opt_id(author, "id"),
        author_name=opt_str_at(author, "name"),
        attachments=_attachments(part),
        created_at=_opt_time(part, "created_at"),
        app_package_code=None if code is None else str(code),
    )


def _attachments(part: dict) -> tuple[InboxAttachment, ...]:
    attachments = part.get("attachments") or []
    if not isinstance(attachments, list):
        raise MalformedPayload("attachments is not a list")
    return tuple(
        InboxAttachment(
            url=attachment["url"],
            name=opt_str_at(attachment, "name"),
            content_type=opt_str_at(attachment, "content_type"),
        )
        for attachment in (as_dict(a, "attachment") for a in attachments)
        # An attachment without a link has nothing to send on.
        if isinstance(attachment.get("url"), str) and attachment["url"]
    )


def _id(obj: dict, key: str) -> str:
    # Intercom's ids are strings; older payloads had numbers for some of them.
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise MalformedPayload(f"{key} is not an id")
    return str(value)


def _opt_id(obj: dict, key: str) -> str:
    return "" if obj.get(key) is None else _id(obj, key)


def _opt_time(obj: dict, key: str) -> datetime | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedPayload(f"{key} is not a timestamp")
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise MalformedPayload(f"{key} is out of range") from error
