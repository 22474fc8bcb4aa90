"""A LINE chat on the customer phone: the Messaging API's webhook events (docs/channels/
line.md) for what the customer does, posted to the URL the channel set, signed with the
channel secret as LINE signs them (X-Line-Signature).

The phone's own page sends text, the photo and a location; LINE's other moves (adding
the account as a friend, a sticker, unsending a message) are on this kind's page of
actions, /sandbox/line/phone/<conversation>/ (listed at /sandbox/line/phone/, linked from
the sandbox's index).
"""

import re
import secrets
import time

from django.contrib import messages as flash
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from ..customer import Endpoint, KindPhone, Target, millis, remember, webhook
from ..delivery import Outcome
from ..models import Conversation, Message, Webhook
from .api import KIND, post_line
from .directory import LINE_ACCOUNTS, LineAccount, line_account_by_user_id

USER_ID = re.compile(r"U[0-9a-f]{32}")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# The sticker the phone sends: one of LINE's free stickers, with the keywords LINE
# gives for it.
STICKER = {"packageId": "11537", "stickerId": "52002734", "keywords": ["Thanks", "happy"]}


def message_id() -> str:
    """A LINE message id: 18 digits."""
    return str(secrets.randbelow(9 * 10**17) + 10**17)


def event_id() -> str:
    """A webhookEventId: a ULID (48 bits of milliseconds, 80 random bits, Crockford)."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def _event(conversation: Conversation, kind: str, *, at=None, reply_token=True, **fields) -> dict:
    event = {
        "type": kind,
        **fields,
        "webhookEventId": event_id(),
        "deliveryContext": {"isRedelivery": False},
        "timestamp": millis(at or timezone.now()),
        "source": {"type": "user", "userId": conversation.customer_id},
        "mode": "active",
    }
    if reply_token:
        event["replyToken"] = secrets.token_hex(16)
    return event


def message_event(conversation: Conversation, message: Message, body: dict) -> dict:
    content = {"id": message.provider_message_id, **body}
    if body["type"] in ("text", "image", "sticker"):
        content["quoteToken"] = secrets.token_urlsafe(48)
    return _event(conversation, "message", at=message.created_at, message=content)


class LinePhone(KindPhone):
    kind = KIND
    customer_default = ("Mei Tanaka", "U4af4980629c8e2f5d8a1b7c3e9d60f21")
    customer_id_help = "LINE user id (U and 32 hex digits)"
    no_receipts = (
        "LINE tells a bot nothing about delivery or reading: a push LINE accepted is in the chat."
    )
    captions = False
    no_captions = "A LINE photo carries no words: send them as a text of their own."
    index_template = "sandbox/line/index.html"

    def index_context(self) -> dict:
        return {"line_accounts": LINE_ACCOUNTS}

    def endpoints(self) -> list[Endpoint]:
        return [Endpoint(KIND, a.user_id, a.display_name, a.basic_id) for a in LINE_ACCOUNTS]

    def customer_id(self, value: str) -> str:
        if not USER_ID.fullmatch(value):
            raise ValueError(f"This customer needs a {self.customer_id_help}.")
        return value

    def resolve(self, endpoint_id: str) -> tuple[Target | None, str]:
        found = webhook(Webhook.Scope.LINE_CHANNEL, endpoint_id)
        if found is None or line_account_by_user_id(endpoint_id) is None:
            return None, (
                "No webhook URL is set for this LINE channel. Add it as a LINE channel in "
                "Octopods (with its channel access token and secret); Octopods then sets "
                "the webhook URL."
            )
        if not found.options.get("active", True):
            return None, "Use webhook is off for this channel, so LINE sends nothing."
        return Target(found), ""

    def new_ids(self, conversation, content) -> tuple[str, str]:
        number = message_id()
        # An image's content is fetched by its message id (the data API).
        return number, number if content.type == "image" else ""

    def _post(self, conversation: Conversation, target: Target, event: dict) -> Outcome:
        account: LineAccount = line_account_by_user_id(conversation.endpoint)
        return post_line(target.webhook.url, account, [event])

    def send(self, conversation, message, content, target) -> Outcome:
        if content.type == "text":
            body: dict = {"type": "text", "text": content.text}
        elif content.type == "image":
            body = {"type": "image", "contentProvider": {"type": "line"}}
        else:
            body = {
                "type": "location",
                "title": content.name or "Location",
                "address": content.address,
                "latitude": content.latitude,
                "longitude": content.longitude,
            }
        return self._post(conversation, target, message_event(conversation, message, body))

    # --- LINE's other moves ---------------------------------------------------------

    def _record_and_post(self, conversation, *, content_type, text, provider_id, event, detail):
        target, problem = self.resolve(conversation.endpoint)
        if target is None:
            return Outcome(False, problem)
        now = timezone.now()
        row = Message.objects.create(
            conversation=conversation,
            direction=Message.Direction.IN,
            provider_message_id=provider_id,
            content_type=content_type,
            text=text,
            detail=detail,
            status="received",
            created_at=now,
        )
        outcome = self._post(conversation, target, event(row))
        row.outcome = outcome.text
        row.save(update_fields=["outcome"])
        remember(target.webhook, outcome)
        return outcome

    def follow(self, conversation: Conversation) -> Outcome:
        """The customer adds the account as a friend (``follow``)."""
        return self._record_and_post(
            conversation,
            content_type="follow",
            text="Added the account as a friend.",
            provider_id=event_id(),
            detail={},
            event=lambda row: _event(
                conversation, "follow", at=row.created_at, follow={"isUnblocked": False}
            ),
        )

    def sticker(self, conversation: Conversation) -> Outcome:
        """The customer sends a sticker (``message`` of type sticker)."""
        body = {"type": "sticker", "stickerResourceType": "STATIC", **STICKER}
        conversation.last_customer_message_at = timezone.now()
        conversation.save(update_fields=["last_customer_message_at"])
        return self._record_and_post(
            conversation,
            content_type="sticker",
            text=f"(sticker: {', '.join(STICKER['keywords'])})",
            provider_id=message_id(),
            detail={"sticker": STICKER},
            event=lambda row: message_event(conversation, row, body),
        )

    def unsend(self, conversation: Conversation, message: Message) -> Outcome:
        """The customer takes back one of their messages (``unsend``: no reply token)."""
        if message.direction != Message.Direction.IN or message.content_type in (
            "follow",
            "unsend",
        ):
            return Outcome(False, "Only the customer's own messages can be unsent.")
        target, problem = self.resolve(conversation.endpoint)
        if target is None:
            return Outcome(False, problem)
        event = _event(
            conversation,
            "unsend",
            reply_token=False,
            unsend={"messageId": message.provider_message_id},
        )
        outcome = self._post(conversation, target, event)
        remember(target.webhook, outcome)
        if outcome.ok:
            Message.objects.filter(pk=message.pk).update(status="unsent")
        return outcome


def _phone() -> LinePhone:
    from ..kinds import phone

    return phone(KIND)


@require_http_methods(["GET"])
def chats(request):
    """The phone's LINE conversations, each with LINE's other moves."""
    return render(
        request, "sandbox/line/chats.html", {"chats": Conversation.objects.filter(kind=KIND)}
    )


@require_http_methods(["GET", "POST"])
def actions(request, pk):
    """LINE's moves the shared phone page does not offer: follow, a sticker, unsend."""
    chat = get_object_or_404(Conversation, pk=pk, kind=KIND)
    phone = _phone()
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "follow":
            outcome = phone.follow(chat)
        elif action == "sticker":
            outcome = phone.sticker(chat)
        elif action == "unsend":
            unsent = chat.messages.filter(pk=request.POST.get("message") or 0).first()
            outcome = (
                phone.unsend(chat, unsent)
                if unsent is not None
                else Outcome(False, "Choose one of the customer's messages to unsend.")
            )
        else:
            outcome = Outcome(False, "Choose what the customer does.")
        (flash.success if outcome.ok else flash.error)(request, outcome.text)
        return redirect("sandbox:line_phone_actions", pk=chat.pk)
    return render(
        request,
        "sandbox/line/actions.html",
        {
            "chat": chat,
            "unsendable": chat.messages.filter(direction=Message.Direction.IN)
            .exclude(content_type__in=("follow", "unsend"))
            .exclude(status="unsent")
            .order_by("-pk"),
        },
    )
