"""What WhatsApp Cloud API, Messenger and Instagram share: Meta's webhook signature and
its GET subscribe handshake (PROVIDERS.md §3.2-3.3, §6.1), Graph API calls with their
error mapping (§3.8, §6.3), the App secret field of their set-up forms, and for the two
that speak as a Page (Messenger, Instagram) the Send API with its messaging window and the
download of customers' files from Meta's CDN."""

import hashlib
import hmac
import json
import logging
import mimetypes
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import PurePosixPath
from typing import Annotated, Any
from urllib.parse import unquote, urlsplit

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from pydantic import AfterValidator, BeforeValidator, model_validator

from .base import ProviderError
from .channel import (
    ContentType,
    FetchedMedia,
    InboundEvent,
    InboundMessage,
    Media,
    OutboundMedia,
    OutboundMessage,
    Sender,
    WebhookRejected,
    WebhookRequest,
)
from .errors import provider_call
from .forms import secret_input
from .http import ProviderSession
from .media import Download, download, file_too_large, host_matches, safe_filename
from .payload import OptStr, Payload
from .webhook_guard import digests_equal

SIGNATURE_HEADER = "X-Hub-Signature-256"


def verify_signature(*, app_secret: str, request: WebhookRequest) -> None:
    """Raise ``WebhookRejected`` unless ``X-Hub-Signature-256`` is
    ``sha256=<hex HMAC-SHA256(app_secret, raw body)>``.

    Meta signs the bytes it sent (non-ASCII escaped as ``\\uXXXX``), so only the raw
    body matches; JSON decoded and dumped again does not. Meta signs no timestamp, so
    deduplication by message id is the only replay defence (RELIABILITY.md §1.1).
    """
    if not app_secret:
        raise WebhookRejected("no app secret configured")
    header = request.header(SIGNATURE_HEADER).strip()
    if not header:
        raise WebhookRejected(f"missing {SIGNATURE_HEADER}")
    scheme, _, given = header.partition("=")
    if scheme != "sha256" or not given:
        raise WebhookRejected(f"malformed {SIGNATURE_HEADER}")
    expected = hmac.new(app_secret.encode(), request.body, hashlib.sha256).hexdigest()
    if not digests_equal(expected, given.lower()):
        raise WebhookRejected("signature mismatch")


def handshake(*, verify_token: str, request: WebhookRequest) -> str:
    """The GET Meta sends when the webhook is subscribed: return ``hub.challenge`` (to be
    answered as a bare text/plain 200, never as HTML, since it is echoed input) when the
    mode is ``subscribe`` and the verify token is ours."""
    mode = _query(request, "hub.mode")
    token = _query(request, "hub.verify_token")
    challenge = _query(request, "hub.challenge")
    if mode != "subscribe":
        raise WebhookRejected("hub.mode is not subscribe")
    if not verify_token or not digests_equal(verify_token, token):
        raise WebhookRejected("verify token mismatch")
    if not challenge:
        raise WebhookRejected("missing hub.challenge")
    return challenge


def _query(request: WebhookRequest, name: str) -> str:
    values = request.query.get(name) or [""]
    return values[0]


# --- the Messaging Platform's webhook fields (Messenger, Instagram) ----------------------

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _not_empty(value: str) -> str:
    if not value:
        raise ValueError("is empty")
    return value


def _millis(value: Any) -> datetime:
    # Unlike payload.UnixMillis, the Messaging Platform's times are always JSON integers
    # (a string is refused), and exact to the millisecond.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("is not an integer")
    try:
        return EPOCH + timedelta(milliseconds=value)
    except OverflowError:
        raise ValueError("is out of range") from None


# An id (mid, PSID, IGSID, attachment type…): a string that is not empty.
NonEmpty = Annotated[str, AfterValidator(_not_empty)]
# Unix milliseconds, as a JSON integer.
Millis = Annotated[datetime, BeforeValidator(_millis)]
# Optional parts Meta may send as {} or "" when they are empty: read as absent.
empty_as_none = BeforeValidator(lambda value: value or None)
empty_as_list = BeforeValidator(lambda value: value or [])
# Text we only show if it is text (a share's link or title): anything else reads as "".
LooseStr = Annotated[str, BeforeValidator(lambda value: value if isinstance(value, str) else "")]


# --- Graph API calls (PROVIDERS.md §3.8, §6.3) --------------------------------------------

GRAPH_LABEL = "Meta"

# Graph codes after which the same call can succeed later: unknown and temporary errors,
# and the app, user, Page and WhatsApp rate limits.
_TRANSIENT_CODES = {1, 2, 4, 17, 32, 341, 613, 80007, 130429, 131048, 131056}
# 3 is a missing capability, 10 a denied permission, 200-299 the named permissions.
_PERMISSION_CODES = {3, 10}
_PERMISSION_NAME = re.compile(r"\b((?:pages|whatsapp_business|business|instagram)_[a-z_]+)\b")


@dataclass(frozen=True)
class GraphError:
    """Graph's ``{"error": {...}}`` body read once, so each kind can word its own message
    (which credential is at fault depends on the call) on top of the same facts."""

    status: int
    code: int | None
    message: str  # Graph's own text, e.g. "(#100) Unsupported get request. …"
    transient: bool
    retry_after: float | None
    user_message: str = ""  # error_user_msg, written for people, when Graph gives one

    @property
    def token_rejected(self) -> bool:
        return self.code == 190 or self.status == 401

    @property
    def permission_missing(self) -> bool:
        code = self.code or 0
        return code in _PERMISSION_CODES or 200 <= code <= 299

    @property
    def object_missing(self) -> bool:
        # Graph says the same for an id that does not exist and for one the token may
        # not see: "Unsupported get request. Object with ID '…' does not exist, cannot be
        # loaded due to missing permissions, or does not support this operation".
        lowered = self.message.lower()
        return self.code == 100 and (
            "does not exist" in lowered or "unsupported get request" in lowered
        )

    def permissions_named(self) -> tuple[str, ...]:
        """The permissions Meta's message names (``pages_messaging``, …), in order."""
        return tuple(dict.fromkeys(_PERMISSION_NAME.findall(self.message)))

    def default_message(self) -> str:
        if self.status >= 500:
            return f"Meta could not be reached (HTTP {self.status}); try again in a few minutes."
        if self.transient:
            return f"Meta asked us to slow down or try later ({self.message}); try again soon."
        return f"Meta refused the request: {self.user_message or self.message}"

    def provider_error(self, message: str = "", *, field: str = "") -> ProviderError:
        return ProviderError(
            message or self.default_message(),
            permanent=not self.transient,
            status=self.status,
            code=str(self.code) if self.code is not None else "",
            unauthorized=self.token_rejected,
            retry_after=self.retry_after,
            field=field,
        )


def graph_error(response) -> GraphError:
    """Read Graph's error body (any shape, or none) from an error response."""
    body = _error_body(response)
    code = body.get("code")
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    if not isinstance(code, int) or isinstance(code, bool):
        code = None
    status = response.status_code
    message = str(body.get("message") or response.reason or "")
    transient = (
        status >= 500 or status == 429 or code in _TRANSIENT_CODES or body.get("is_transient")
    )
    return GraphError(
        status=status,
        code=code,
        message=message,
        transient=bool(transient),
        retry_after=_retry_after(response),
        user_message=str(body.get("error_user_msg") or ""),
    )


def _error_body(response) -> dict:
    try:
        body = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return {}
    return body if isinstance(body, dict) else {}


def describe_graph_error(response) -> ProviderError:
    """Graph's error body → ProviderError, worded generically (kinds refine it)."""
    return graph_error(response).provider_error()


def _retry_after(response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, TypeError, ValueError):
        return None


def graph_session(access_token: str) -> ProviderSession:
    """A session that speaks to Graph with a System User or Page token."""
    session = ProviderSession()
    # In a header, not the access_token query parameter Graph also takes: URLs end up
    # in logs and proxies.
    session.headers.update({"Authorization": f"Bearer {access_token}"})
    return session


def graph_request(
    session: ProviderSession,
    method: str,
    path: str,
    *,
    describe=describe_graph_error,
    max_bytes: int | None = None,
    **kwargs,
) -> dict:
    """One Graph call (``path`` relative to META_GRAPH_API_URL) → its JSON object.
    ``max_bytes`` bounds the answer's body: a longer one is refused unread."""
    with provider_call(GRAPH_LABEL, describe):
        url = f"{settings.META_GRAPH_API_URL}{path}"
        if max_bytes is None:
            response = session.request(method, url, **kwargs)
            response.raise_for_status()
            body = response.json()
        else:
            with session.request(method, url, stream=True, **kwargs) as response:
                if not response.ok:
                    # Read while the connection is open, for the error mapping.
                    _ = response.content
                response.raise_for_status()
                content = response.raw.read(max_bytes + 1, decode_content=True)
                if len(content) > max_bytes:
                    raise ProviderError(
                        f"{GRAPH_LABEL} sent an answer longer than {max_bytes // 1024} KB; "
                        "it was not read",
                        permanent=False,
                    )
                body = json.loads(content)
        if not isinstance(body, dict):
            raise ValueError("not a JSON object")
        return body


def require_success(body: dict, *, action: str) -> None:
    """Graph's writes answer ``{"success": true}``; anything else did not happen."""
    if body.get("success") is not True:
        raise ProviderError(
            f"Meta did not confirm that it could {action}; try again.", permanent=False
        )


def app_secret_field() -> forms.CharField:
    return forms.CharField(
        label="App secret",
        max_length=32,
        help_text="In the Meta app dashboard, App settings → Basic → App secret (Show). "
        "Meta signs the messages it sends us with it.",
        widget=secret_input(),
        validators=[
            RegexValidator(r"^[0-9a-fA-F]{32}$", "An App secret is 32 characters of 0-9 and a-f.")
        ],
    )


# --- Graph error details the message path needs ---------------------------------------------


@dataclass(frozen=True)
class GraphErrorDetail:
    """What ``GraphError`` leaves out: Meta's ``error_subcode`` (which of several causes
    a code has, e.g. Messenger's 10/2018278 "outside the allowed window") and
    ``error_data.details`` (WhatsApp's explanation in words)."""

    subcode: int | None
    details: str


def graph_error_detail(response) -> GraphErrorDetail:
    body = _error_body(response)
    subcode = body.get("error_subcode")
    if isinstance(subcode, str) and subcode.isdigit():
        subcode = int(subcode)
    if not isinstance(subcode, int) or isinstance(subcode, bool):
        subcode = None
    data = body.get("error_data")
    details = data.get("details") if isinstance(data, dict) else None
    return GraphErrorDetail(subcode=subcode, details=str(details or ""))


# --- the Send API and customers' files (Messenger, and Instagram through its Page) ------------

# Code 10 with one of these subcodes: the Send API refused a reply as outside the window
# its messaging type allows (Messenger's 2018278, Instagram's 2534022).
OUTSIDE_WINDOW_SUBCODES = frozenset({2018278, 2534022})


class OutsideWindow(ProviderError):
    """Meta refused a reply as outside the messaging window (``outside_window``)."""


def outside_window(response) -> bool:
    """Whether Graph refused a send because the messaging window has closed."""
    error = graph_error(response)
    return error.code == 10 and graph_error_detail(response).subcode in OUTSIDE_WINDOW_SUBCODES


def as_human_agent(payload: dict) -> dict:
    """A Send API payload tagged HUMAN_AGENT: a person's reply, which Meta allows up to
    7 days after the customer's last message (the app must have the Human Agent feature)."""
    return {**payload, "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}


def send_message(session: ProviderSession, page_id: str, payload: dict, *, describe) -> str:
    """One Send API call (``POST /{page_id}/messages``) → the sent ``message_id``.

    ``describe(response, tagged=…)`` words a refusal for the kind, and returns an
    ``OutsideWindow`` when ``outside_window``: the reply is then sent once more with the
    HUMAN_AGENT tag (Meta refuses it the same way past 7 days, and ``tagged`` lets the
    kind say so).
    """
    try:
        return _send(session, page_id, payload, describe=partial(describe, tagged=False))
    except OutsideWindow:
        tagged = as_human_agent(payload)
        return _send(session, page_id, tagged, describe=partial(describe, tagged=True))


def _send(session: ProviderSession, page_id: str, payload: dict, *, describe) -> str:
    body = graph_request(session, "POST", f"/{page_id}/messages", json=payload, describe=describe)
    message_id = body.get("message_id")
    if not isinstance(message_id, str) or not message_id:
        raise ProviderError(f"{GRAPH_LABEL} sent an answer we could not read", permanent=False)
    return message_id


def _describe_cdn_error(response) -> ProviderError:
    if response.status_code in (403, 404, 410):
        # Meta's CDN links are signed and expire (Instagram's also stop working once the
        # customer unsends the message or the story expires).
        return ProviderError(
            "Meta no longer serves the customer's file (its link has expired, or the "
            "customer removed it). Ask the customer to send it again.",
            permanent=True,
            status=response.status_code,
        )
    return graph_error(response).provider_error()


def download_from_cdn(url: str, *, label: str, hosts: tuple[str, ...], max_bytes: int) -> Download:
    """A customer's attachment from Meta's CDN (``hosts``, or the configured Graph host):
    the URL itself is the permission, so no token is sent (and none could leak to a host
    that is not Meta's)."""

    def allowed(address: str) -> bool:
        return host_matches(address, api_url=settings.META_GRAPH_API_URL, hosts=hosts)

    return download(
        url,
        session=ProviderSession(),
        label=label,
        describe=_describe_cdn_error,
        max_bytes=max_bytes,
        allowed=allowed,
        redirect_allowed=allowed,
    )


# --- what Messenger's and Instagram's webhooks share (entry[].messaging[]) ------------


class Postback(Payload):
    # Older postbacks carry no mid.
    mid: OptStr = ""
    title: OptStr = ""
    payload: OptStr = ""


class Reaction(Payload):
    mid: NonEmpty
    action: OptStr = ""  # "react" or "unreact"
    emoji: OptStr = ""
    reaction: OptStr = ""  # Meta's word for it: "like", "love", "other"…

    @model_validator(mode="before")
    @classmethod
    def _unread_words(cls, data: Any) -> Any:
        # An unreact names no emoji worth reading; a react's word is only read when it
        # has no emoji.
        if not isinstance(data, dict) or not isinstance(data.get("action"), str | None):
            return data
        if data.get("action") == "unreact":
            unread = ("emoji", "reaction")
        elif isinstance(data.get("emoji"), str) and data["emoji"]:
            unread = ("reaction",)
        else:
            return data
        return {key: value for key, value in data.items() if key not in unread}


def messaging_events(envelope, *, object_name: str, handlers: dict) -> list[InboundEvent]:
    """The events of ``entry[].messaging[]`` for our ``object`` ("page", "instagram"),
    each read by its kind's handler; another object's webhook, and kinds without a
    handler (optin, referral, echoes…: read as unread events), give none."""
    if envelope.object != object_name:
        return []
    events: list[InboundEvent] = []
    for entry in envelope.entry:
        for event in entry.messaging:
            handler = handlers.get(type(event))
            if handler is not None:
                events.extend(handler(event))
    return events


def unix_millis(at: datetime) -> int:
    """The Unix milliseconds Meta sent, for ids built from them."""
    return (at - EPOCH) // timedelta(milliseconds=1)


def text_or_nothing(*, mid: str, text: str, common: dict) -> list[InboundEvent]:
    """A message without attachments: its text, or (nothing we can read) a note."""
    if text:
        return [InboundMessage(provider_message_id=mid, type=ContentType.TEXT, text=text, **common)]
    return [
        InboundMessage(
            provider_message_id=mid, type=ContentType.UNSUPPORTED, provider_type="message", **common
        )
    ]


def attachment_messages(*, mid: str, text: str, attachments, fields_of, common: dict) -> list:
    """One message per attachment (``fields_of`` gives each one's InboundMessage
    fields); the first keeps the mid, so a single-attachment message dedupes on the
    plain mid, the rest get "<mid>:<n>". Meta has no captions: the message's text (or
    an attachment's own, a shared link's URL) rides on the first one."""
    messages: list[InboundEvent] = []
    for n, attachment in enumerate(attachments):
        fields = fields_of(attachment)
        own_text = fields.pop("text", "")
        messages.append(
            InboundMessage(
                provider_message_id=mid if n == 0 else f"{mid}:{n}",
                text=(text if n == 0 else "") or own_text,
                **fields,
                **common,
            )
        )
    return messages


def postback_message(*, sender: str, at: datetime, postback: Postback) -> list[InboundEvent]:
    """A tapped button: its title as text, its payload as the reply's data."""
    return [
        InboundMessage(
            # Older postbacks carry no mid; sender + timestamp is then the stable dedupe key.
            provider_message_id=postback.mid or f"postback:{sender}:{unix_millis(at)}",
            sender=Sender(external_id=sender),
            sent_at=at,
            type=ContentType.INTERACTIVE,
            text=postback.title,
            payload=postback.payload,
        )
    ]


def reaction_message(*, sender: str, at: datetime, reaction: Reaction) -> list[InboundEvent]:
    # A react must never read as a removal, so fall back to Meta's word ("like").
    emoji = "" if reaction.action == "unreact" else reaction.emoji or reaction.reaction
    return [
        InboundMessage(
            # Reactions have no id of their own; one person's react/unreact on one
            # message at one instant is unique.
            provider_message_id=f"reaction:{reaction.mid}:{sender}:{unix_millis(at)}",
            sender=Sender(external_id=sender),
            sent_at=at,
            type=ContentType.REACTION,
            reaction_emoji=emoji,
            reacted_to=reaction.mid,
        )
    ]


# --- what Messenger's and Instagram's adapters share (the Send API, attachments) -----


def message_content(message: OutboundMessage, *, label: str, reusable: bool) -> dict:
    """The Send API's ``message`` for one OutboundMessage. Neither kind has captions:
    with ``media`` only the file goes (``takes_caption`` is False, so the relay sends
    the text as a message of its own); ``reusable`` asks Meta to keep the file."""
    if message.template is not None:
        raise ProviderError(
            f"Approved templates are a WhatsApp feature; {label} has none. Send the "
            "message as an ordinary reply.",
            permanent=True,
        )
    if message.media is not None:
        if message.text:
            logging.getLogger(__name__).warning(
                "%s takes no caption: a file was sent without its text", label
            )
        payload: dict = {"url": message.media.url}
        if reusable:
            payload["is_reusable"] = True
        return {"attachment": {"type": _attachment_type(message.media), "payload": payload}}
    if message.text.strip():
        return {"text": message.text}
    raise ProviderError(
        f"The reply had nothing {label} can send: no text and no file.", permanent=True
    )


def fetched_attachment(media: Media, *, label: str, max_bytes: int, fetch) -> FetchedMedia:
    """A customer's file from Meta's file hosts (``fetch``: the kind's download)."""
    if media.size is not None and media.size > max_bytes:
        raise file_too_large(label, max_bytes=max_bytes, size=media.size)
    fetched = fetch(media.ref, max_bytes=max_bytes)
    name = safe_filename(media.filename) or fetched.filename or _url_name(media.ref)
    mime_type = (
        fetched.content_type
        or media.mime_type
        or mimetypes.guess_type(name)[0]
        or "application/octet-stream"
    )
    return FetchedMedia(content=fetched.content, mime_type=mime_type, filename=name)


def _attachment_type(media: OutboundMedia) -> str:
    family = media.mime_type.split("/", 1)[0].strip().lower()
    return family if family in ("image", "video", "audio") else "file"


def _url_name(url: str) -> str:
    return safe_filename(unquote(PurePosixPath(urlsplit(url).path).name))
