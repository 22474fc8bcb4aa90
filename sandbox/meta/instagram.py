"""An Instagram chat on the customer phone: Messenger API support for Instagram
(docs/channels/instagram.md). Meta sends the account's messaging events (``object:
"instagram"``) to the Meta app's callback for the Instagram object, signed with the app
secret, once the linked Page subscribed the app, and only for the fields chosen on the
app's Instagram webhook (messages, messaging_seen, message_reactions, …)."""

import re
import secrets

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from ..customer import Endpoint, KindPhone, Target, millis, subscription, webhook
from ..delivery import Outcome
from ..models import AppSubscription, Conversation, Message, Webhook
from . import graph
from .directory import INSTAGRAM_ACCOUNTS, META_APP, instagram_account
from .webhooks import post_meta

KIND = "instagram"
IGSID = re.compile(r"[1-9][0-9]{9,19}")


def instagram_cdn_url(media_ref: str) -> str:
    """Where the customer's picture is served: Instagram's messaging CDN stand-in."""
    path = reverse("sandbox:instagram_attachment", kwargs={"ref": media_ref})
    return settings.PUBLIC_BASE_URL + path


def envelope(conversation: Conversation, events: list[dict]) -> dict:
    return {
        "object": "instagram",
        "entry": [
            {"id": conversation.endpoint, "time": millis(timezone.now()), "messaging": events}
        ],
    }


def _parties(conversation: Conversation) -> dict:
    return {"sender": {"id": conversation.customer_id}, "recipient": {"id": conversation.endpoint}}


def message_event(conversation: Conversation, message: Message, body: dict) -> dict:
    return {**_parties(conversation), "timestamp": millis(message.created_at), "message": body}


def reaction_event(conversation: Conversation, reply_mid: str, emoji: str) -> dict:
    """The customer reacts to one of the account's messages (``emoji`` "" unreacts), as
    Meta's message_reactions field sends it."""
    reaction = (
        {"mid": reply_mid, "action": "react", "reaction": "love", "emoji": emoji}
        if emoji
        else {"mid": reply_mid, "action": "unreact"}
    )
    return {**_parties(conversation), "timestamp": millis(timezone.now()), "reaction": reaction}


def unsend_event(conversation: Conversation, mid: str) -> dict:
    """The customer unsends one of their messages: Meta repeats its mid, flagged deleted
    (its own example writes the flag as the string "true")."""
    body = {"mid": mid, "is_deleted": "true"}
    return {**_parties(conversation), "timestamp": millis(timezone.now()), "message": body}


def seen_event(conversation: Conversation, mid: str) -> dict:
    """messaging_seen: Instagram names the message the customer saw."""
    return {**_parties(conversation), "timestamp": millis(timezone.now()), "read": {"mid": mid}}


class InstagramPhone(KindPhone):
    kind = KIND
    customer_default = ("Robin Diaz", "6845302917734512")
    customer_id_help = "Instagram-scoped user id (IGSID, digits)"
    window = True
    window_closed = "only a person's replies get through (the HUMAN_AGENT tag, up to 7 days)"
    after_window = "Instagram only a person's replies (HUMAN_AGENT up to 7 days)"
    # messaging_seen only: Instagram never reports delivery.
    receipts = ("read",)
    no_receipts = "Instagram reports only when the customer saw a reply, never its delivery."
    captions = False
    no_captions = "Instagram pictures have no caption."
    locations = False
    no_locations = "Instagram does not let apps receive a shared location"
    index_template = "sandbox/meta/instagram_index.html"

    def index_context(self) -> dict:
        return {"meta_app": META_APP, "instagram_accounts": INSTAGRAM_ACCOUNTS}

    def endpoints(self) -> list[Endpoint]:
        return [
            Endpoint(KIND, a.account_id, a.page.name, f"@{a.username}") for a in INSTAGRAM_ACCOUNTS
        ]

    def customer_id(self, value: str) -> str:
        if not IGSID.fullmatch(value):
            raise ValueError(f"This customer needs an {self.customer_id_help}: 10 to 20 digits.")
        return value

    def resolve(self, endpoint_id: str) -> tuple[Target | None, str]:
        account = instagram_account(endpoint_id)
        if account is None:
            return None, "The sandbox has no such Instagram account."
        if subscription(AppSubscription.Owner.PAGE, account.page.page_id) is None:
            return None, (
                f"The Page linked to @{account.username} has not subscribed the app. Add the "
                "account as an Instagram channel in Octopods; Octopods then calls "
                "POST /{page-id}/subscribed_apps."
            )
        found = webhook(Webhook.Scope.META_APP, KIND)
        if found is None:
            return None, (
                "The Meta app has no callback URL for Instagram. Paste the callback URL and "
                "verify token Octopods shows for the channel into the Meta app dashboard, "
                "under Instagram."
            )
        return Target(found, tuple(found.options.get("fields") or ())), ""

    def refusal(self, target: Target, event: str) -> str:
        if event not in target.fields:
            return (
                f"Not sent: the app's Instagram webhook is not subscribed to “{event}”, so "
                "Meta would not deliver it."
            )
        return ""

    def new_ids(self, conversation, content) -> tuple[str, str]:
        ref = secrets.token_urlsafe(24) if content.type == "image" else ""
        return graph.new_instagram_mid(), ref

    def send(self, conversation, message, content, target) -> Outcome:
        body: dict = {"mid": message.provider_message_id}
        if content.type == "image":
            # An Instagram picture has no caption: it arrives on its own.
            url = instagram_cdn_url(message.media_ref)
            body["attachments"] = [{"type": "image", "payload": {"url": url}}]
        else:
            body["text"] = content.text
        event = message_event(conversation, message, body)
        return post_meta(target.webhook.url, envelope(conversation, [event]))

    def receipt_event(self, state: str) -> str:
        return "messaging_seen"

    def post_receipts(self, conversation, waiting, state, target) -> Outcome:
        # Each seen names one message; the phone saw every waiting reply at once.
        events = [seen_event(conversation, m.provider_message_id) for m in waiting]
        return post_meta(target.webhook.url, envelope(conversation, events))

    def react(self, conversation: Conversation, reply: Message, emoji: str) -> Outcome:
        """The customer reacts to (``emoji`` "" : unreacts from) one of the replies."""
        target, problem = self.resolve(conversation.endpoint)
        if target is None:
            return Outcome(False, problem)
        if refusal := self.refusal(target, "message_reactions"):
            return Outcome(False, refusal)
        event = reaction_event(conversation, reply.provider_message_id, emoji)
        return post_meta(target.webhook.url, envelope(conversation, [event]))

    def unsend(self, conversation: Conversation, message: Message) -> Outcome:
        """The customer unsends one of their messages (a ``messages`` event)."""
        target, problem = self.resolve(conversation.endpoint)
        if target is None:
            return Outcome(False, problem)
        if refusal := self.refusal(target, "messages"):
            return Outcome(False, refusal)
        event = unsend_event(conversation, message.provider_message_id)
        return post_meta(target.webhook.url, envelope(conversation, [event]))


# --- what else an Instagram customer does: react to a reply, unsend a message ---------------

REACTIONS = ("❤️", "😂", "😮", "😢", "😡", "👍")


def _instagram_chat(pk: int) -> Conversation:
    return get_object_or_404(Conversation, pk=pk, kind=KIND)


@require_GET
def customer_actions(request, pk=None):
    """An Instagram conversation's reactions and unsends (the phone's own page offers
    what every kind has); without ``pk``, the Instagram conversations to choose from."""
    if pk is None:
        return render(
            request,
            "sandbox/meta/instagram_actions.html",
            {"chats": Conversation.objects.filter(kind=KIND)[:50]},
        )
    chat = _instagram_chat(pk)
    return render(
        request,
        "sandbox/meta/instagram_actions.html",
        {
            "chat": chat,
            "replies": chat.messages.filter(direction=Message.Direction.OUT),
            "own": chat.messages.filter(direction=Message.Direction.IN),
            "reactions": REACTIONS,
        },
    )


def _flash(request, outcome: Outcome) -> None:
    (messages.success if outcome.ok else messages.error)(request, outcome.text)


@require_POST
def react(request, pk):
    chat = _instagram_chat(pk)
    reply = chat.messages.filter(
        direction=Message.Direction.OUT, pk=request.POST.get("message") or 0
    ).first()
    emoji = request.POST.get("emoji", "")
    if reply is None or (emoji and emoji not in REACTIONS):
        messages.error(request, "Choose one of Octopods' replies and a reaction.")
    else:
        _flash(request, InstagramPhone().react(chat, reply, emoji))
    return redirect("sandbox:instagram_actions", pk=chat.pk)


@require_POST
def unsend(request, pk):
    chat = _instagram_chat(pk)
    own = chat.messages.filter(
        direction=Message.Direction.IN, pk=request.POST.get("message") or 0
    ).first()
    if own is None:
        messages.error(request, "Choose one of the customer's messages.")
    else:
        _flash(request, InstagramPhone().unsend(chat, own))
    return redirect("sandbox:instagram_actions", pk=chat.pk)
