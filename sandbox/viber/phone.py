"""A Viber chat on the customer phone: the bot's callbacks (docs/channels/viber.md,
Callbacks) posted to the webhook set_webhook registered, signed with the bot's auth
token (X-Viber-Content-Signature), only for the event types the webhook asked for.

Besides what every kind offers (text, a picture with a caption, a location, receipts),
a Viber customer opens the chat (``conversation_started``), subscribes, unsubscribes
and sends a sticker: on the chat's Viber page (``actions``), linked from the sandbox's
index. The customer's standing is kept as their messages (``api.subscribed``).
"""

import re
import secrets

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from ..customer import Endpoint, KindPhone, Target, millis, remember, webhook
from ..delivery import Outcome
from ..models import Conversation, Message, Webhook
from . import api
from .api import KIND
from .directory import VIBER_BOTS, viber_bot_by_id

VIBER_ID = re.compile(r"[A-Za-z0-9+/]{8,40}={0,2}")
# A sticker from Viber's free packs.
STICKER_ID = 46105


def media_url(ref: str) -> str:
    return settings.PUBLIC_BASE_URL + reverse("sandbox:viber_media", kwargs={"ref": ref})


def _user(conversation: Conversation, target: Target) -> dict:
    """The customer as Viber describes them: name and avatar only where set_webhook
    asked for them (send_name, send_photo)."""
    user: dict = {"id": conversation.customer_id}
    if target.webhook.options.get("send_name"):
        user["name"] = conversation.customer_name
    if target.webhook.options.get("send_photo"):
        user["avatar"] = settings.PUBLIC_BASE_URL + "/static/sandbox/customer-photo.jpg"
    return {**user, "language": "en", "country": "US", "api_version": api.API_VERSION}


def _callback(event: str, moment, message_token: int | None = None) -> dict:
    callback: dict = {
        "event": event,
        "timestamp": millis(moment),
        "chat_hostname": api.CHAT_HOSTNAME,
    }
    if message_token is not None:
        callback["message_token"] = message_token
    return callback


def _auth_token(conversation: Conversation) -> str:
    bot = viber_bot_by_id(conversation.endpoint)
    return bot.auth_token if bot else ""


class ViberPhone(KindPhone):
    kind = KIND
    customer_default = ("Alex Kim", "vB3mQ9tK2xLp7RzA1cYe0w==")
    customer_id_help = "Viber user id (letters, digits, + and /, ending in =)"
    receipts = ("delivered", "read")
    index_template = "sandbox/viber/index.html"

    def index_context(self) -> dict:
        return {"viber_bots": VIBER_BOTS}

    def endpoints(self) -> list[Endpoint]:
        return [Endpoint(KIND, b.id, b.name, f"viber://pa?chatURI={b.uri}") for b in VIBER_BOTS]

    def customer_id(self, value: str) -> str:
        if not VIBER_ID.fullmatch(value):
            raise ValueError(f"This customer needs a {self.customer_id_help}.")
        return value

    def resolve(self, endpoint_id: str) -> tuple[Target | None, str]:
        found = webhook(Webhook.Scope.VIBER_BOT, endpoint_id)
        if found is None:
            return None, (
                "No webhook is set for this bot. Add it as a Viber channel in Octopods (with "
                "its auth token); Octopods then calls set_webhook."
            )
        return Target(found), ""

    def refusal(self, target: Target, event: str) -> str:
        # message callbacks cannot be filtered out; the others only come when asked for.
        if event == "messages":
            return ""
        asked = target.webhook.options.get("event_types") or api.EVENT_TYPES
        if event not in asked:
            return (
                f"Not sent: the bot's webhook event_types leave out “{event}”, so Viber "
                "would not deliver it."
            )
        return ""

    def new_ids(self, conversation, content) -> tuple[str, str]:
        ref = secrets.token_urlsafe(18) if content.type == "image" else ""
        return str(api.new_token()), ref

    def send(self, conversation, message, content, target) -> Outcome:
        if content.type == "text":
            body: dict = {"type": "text", "text": content.text}
        elif content.type == "image":
            url = media_url(message.media_ref)
            body = {"type": "picture", "text": content.text, "media": url, "thumbnail": url}
        else:
            # Viber's location message is a point: no place name or address.
            body = {
                "type": "location",
                "location": {"lat": content.latitude, "lon": content.longitude},
            }
        return self.post_message(conversation, message, body, target)

    def post_message(self, conversation, message, body: dict, target: Target) -> Outcome:
        callback = {
            **_callback("message", message.created_at, int(message.provider_message_id)),
            "sender": _user(conversation, target),
            "message": body,
            "silent": False,
        }
        return api.post_viber(target.webhook.url, callback, auth_token=_auth_token(conversation))

    def receipt_event(self, state: str) -> str:
        return "delivered" if state == "delivered" else "seen"

    def post_receipts(self, conversation, waiting, state, target) -> Outcome:
        """One callback per reply (``delivered`` or ``seen``), keyed by its message_token."""
        event = self.receipt_event(state)
        texts: list[str] = []
        for message in waiting:
            callback = {
                **_callback(event, timezone.now(), int(message.provider_message_id)),
                "user_id": conversation.customer_id,
            }
            outcome = api.post_viber(
                target.webhook.url, callback, auth_token=_auth_token(conversation)
            )
            if not outcome.ok:
                return outcome
            texts.append(outcome.text)
        return Outcome(True, " ".join(dict.fromkeys(texts)))

    # --- what only a Viber customer does ---------------------------------------------

    def standing(self, conversation: Conversation, action: str) -> Outcome:
        """The customer opens the chat, subscribes or unsubscribes: Viber's
        ``conversation_started``, ``subscribed`` or ``unsubscribed`` callback."""
        target, problem = self.resolve(conversation.endpoint)
        if target is None:
            return Outcome(False, problem)
        event = {
            "open": api.CONVERSATION_STARTED,
            "subscribe": api.SUBSCRIBED,
            "unsubscribe": api.UNSUBSCRIBED,
        }[action]
        now = timezone.now()
        was_subscribed = api.subscribed(conversation)
        token = api.new_token()
        callback = _callback(event, now, token)
        if event == api.CONVERSATION_STARTED:
            callback.update(
                type="open", context="", user=_user(conversation, target), subscribed=was_subscribed
            )
            text = "Opened the chat with the bot."
        elif event == api.SUBSCRIBED:
            callback["user"] = _user(conversation, target)
            text = "Subscribed to the bot."
        else:
            callback["user_id"] = conversation.customer_id
            text = "Unsubscribed from the bot."
        # The customer's standing changes at Viber whether or not the bot hears of it.
        Message.objects.create(
            conversation=conversation,
            direction=Message.Direction.IN,
            provider_message_id=str(token),
            content_type=event,
            text=text,
            created_at=now,
        )
        if refusal := self.refusal(target, event):
            return Outcome(False, f"{text} {refusal}")
        outcome = api.post_viber(target.webhook.url, callback, auth_token=_auth_token(conversation))
        remember(target.webhook, outcome)
        return outcome

    def sticker(self, conversation: Conversation) -> Outcome:
        """The customer sends a sticker: a message callback of type ``sticker``."""
        target, problem = self.resolve(conversation.endpoint)
        if target is None:
            return Outcome(False, problem)
        now = timezone.now()
        message = Message.objects.create(
            conversation=conversation,
            direction=Message.Direction.IN,
            provider_message_id=str(api.new_token()),
            content_type="sticker",
            media_ref=secrets.token_urlsafe(18),
            detail={"sticker_id": STICKER_ID},
            status="received",
            created_at=now,
        )
        conversation.last_customer_message_at = now
        conversation.save(update_fields=["last_customer_message_at"])
        body = {
            "type": "sticker",
            "sticker_id": STICKER_ID,
            "media": media_url(message.media_ref),
        }
        outcome = self.post_message(conversation, message, body, target)
        message.outcome = outcome.text
        message.save(update_fields=["outcome"])
        remember(target.webhook, outcome)
        return outcome


# --- the chat's Viber page ----------------------------------------------------------

ACTIONS = ("open", "subscribe", "unsubscribe", "sticker")


@require_GET
def chats(request):
    """The Viber chats on the phone, each with its Viber page."""
    return render(
        request,
        "sandbox/viber/chats.html",
        {"provider": "Viber", "chats": Conversation.objects.filter(kind=KIND)[:50]},
    )


@require_GET
def actions(request, pk):
    chat = get_object_or_404(Conversation, pk=pk, kind=KIND)
    return render(
        request,
        "sandbox/viber/actions.html",
        {"provider": "Viber", "chat": chat, "subscribed": api.subscribed(chat)},
    )


@require_POST
def act(request, pk):
    chat = get_object_or_404(Conversation, pk=pk, kind=KIND)
    action = request.POST.get("action", "")
    if action not in ACTIONS:
        messages.error(request, "Choose what the customer does.")
        return redirect("sandbox:viber_actions", pk=chat.pk)
    phone = ViberPhone()
    outcome = phone.sticker(chat) if action == "sticker" else phone.standing(chat, action)
    (messages.success if outcome.ok else messages.error)(request, outcome.text)
    return redirect("sandbox:viber_actions", pk=chat.pk)
