"""What the customer phone does: a customer's messages and the receipts for the replies,
built as each provider's real webhook payload (PROVIDERS.md §3.4, §4.1, §4.4, §5.2,
§6.1) and sent, signed, to whatever URL the provider has registered for the endpoint.
"""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from . import delivery, graph, media, twilio
from .delivery import Outcome
from .directory import (
    MESSENGER_PAGES,
    TELEGRAM_BOTS,
    TWILIO_ACCOUNTS,
    WHATSAPP_NUMBERS,
    twilio_number,
    whatsapp_number,
)
from .models import TAP, AppSubscription, Conversation, Kind, Message, Webhook
from .telegram import chat_json

LATER = timedelta(hours=25)
# Telegram update ids only have to grow; the message's row id keeps them growing.
TELEGRAM_UPDATE_BASE = 100_000_000


@dataclass(frozen=True)
class Endpoint:
    """What the customer writes to: a bot, a WhatsApp number, a Page, a Twilio number."""

    kind: str
    id: str
    name: str
    address: str

    @property
    def value(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def label(self) -> str:
        return f"{Kind(self.kind).label}: {self.name} ({self.address})"


def endpoints() -> list[Endpoint]:
    return [
        *(
            Endpoint(Kind.TELEGRAM, str(b.id), b.first_name, f"@{b.username}")
            for b in TELEGRAM_BOTS
        ),
        *(
            Endpoint(Kind.WHATSAPP, n.phone_number_id, n.verified_name, n.display_phone_number)
            for n in WHATSAPP_NUMBERS
        ),
        *(
            Endpoint(Kind.MESSENGER, p.page_id, p.name, f"Page {p.page_id}")
            for p in MESSENGER_PAGES
        ),
        *(
            Endpoint(Kind.TWILIO, n.sid, n.friendly_name, n.phone_number)
            for a in TWILIO_ACCOUNTS
            for n in a.numbers
        ),
    ]


def endpoint(value: str) -> Endpoint | None:
    return next((e for e in endpoints() if e.value == value), None)


# --- customers ------------------------------------------------------------------------

# Every default customer is a different person with a number of their own: Pat shared
# Kerry's number once, and since Intercom finds a customer by phone, Pat's texts landed
# under Kerry's name (one person on two channels is README "One number on two
# channels"; type the same number on both to see it).
CUSTOMER_DEFAULTS = {
    Kind.TELEGRAM: ("Jane Doe", "555000111"),
    Kind.WHATSAPP: ("Kerry Fisher", "15551234567"),
    Kind.MESSENGER: ("Sam Lee", "7423051946112835"),
    Kind.TWILIO: ("Pat Jones", "+15557654321"),
}
CUSTOMER_ID_HELP = {
    Kind.TELEGRAM: "Telegram user id (digits)",
    Kind.WHATSAPP: "WhatsApp number (digits, country code first)",
    Kind.MESSENGER: "Page-scoped user id (PSID, digits)",
    Kind.TWILIO: "Phone number in E.164 (+ and digits)",
}


def customer_id(kind: str, raw: str) -> str:
    """The provider's id for the customer typed on the phone; ValueError says why not."""
    value = raw.strip() or CUSTOMER_DEFAULTS[kind][1]
    if kind == Kind.TWILIO:
        value = "+" + re.sub(r"[^0-9]", "", value) if value.startswith("+") else value
        if not re.fullmatch(r"\+[1-9][0-9]{6,14}", value):
            raise ValueError("An SMS customer needs a phone number like +15557654321.")
        return value
    if kind == Kind.WHATSAPP:
        value = re.sub(r"[\s()+-]", "", value)
        if not re.fullmatch(r"[1-9][0-9]{6,14}", value):
            raise ValueError(
                "A WhatsApp customer needs a phone number with its country code, like 15551234567."
            )
        return value
    if not re.fullmatch(r"[1-9][0-9]{4,19}", value):
        raise ValueError(f"This customer needs a {CUSTOMER_ID_HELP[kind].lower()}.")
    return value


# --- where the provider would send it -------------------------------------------------


@dataclass(frozen=True)
class Target:
    webhook: Webhook
    # The Page's subscribed_fields (Messenger sends only what the Page subscribed to).
    fields: tuple[str, ...] = ()

    def refusal(self, kind: str, event: str) -> str:
        """Why the provider would not send this event to the webhook; empty if it would."""
        if kind == Kind.TELEGRAM:
            allowed = self.webhook.options.get("allowed_updates") or []
            update = {"messages": "message"}.get(event, event)
            if allowed and update not in allowed:
                return (
                    f"Not sent: the bot's allowed_updates leave out “{update}”, so Telegram "
                    "would not deliver it."
                )
        if kind == Kind.MESSENGER and event not in self.fields:
            return (
                f"Not sent: the Page has not subscribed the app to “{event}” "
                "(subscribed_fields), so Meta would not deliver it."
            )
        return ""


def _webhook(scope: str, owner: str) -> Webhook | None:
    return Webhook.objects.filter(scope=scope, owner=owner).first()


def _subscription(owner_kind: str, owner_id: str) -> AppSubscription | None:
    return AppSubscription.objects.filter(owner_kind=owner_kind, owner_id=owner_id).first()


def resolve(kind: str, endpoint_id: str) -> tuple[Target | None, str]:
    """Where the provider sends this endpoint's webhooks, or what to do first."""
    if kind == Kind.TELEGRAM:
        webhook = _webhook(Webhook.Scope.TELEGRAM_BOT, endpoint_id)
        if webhook is None:
            return None, (
                "No webhook is set for this bot. Add it as a Telegram channel in Octopods "
                "(with its bot token); Octopods then calls setWebhook."
            )
        return Target(webhook), ""
    if kind == Kind.TWILIO:
        webhook = _webhook(Webhook.Scope.TWILIO_NUMBER, endpoint_id)
        if webhook is None:
            return None, (
                "This number has no SmsUrl. Add it as an SMS channel in Octopods (account "
                "SID, auth token and number); Octopods then sets the number's SmsUrl."
            )
        return Target(webhook), ""
    if kind == Kind.WHATSAPP:
        return _whatsapp_target(endpoint_id)
    return _messenger_target(endpoint_id)


def _whatsapp_target(phone_number_id: str) -> tuple[Target | None, str]:
    number = whatsapp_number(phone_number_id)
    if _subscription(AppSubscription.Owner.WABA, number.waba_id) is None:
        return None, (
            "The number's WhatsApp Business Account has not subscribed the app. Add the "
            "number as a WhatsApp channel in Octopods; Octopods then calls "
            "POST /{waba-id}/subscribed_apps."
        )
    # Meta's order: the number's override, then the WABA's, then the app's callback.
    for scope, owner in (
        (Webhook.Scope.WHATSAPP_NUMBER, phone_number_id),
        (Webhook.Scope.WHATSAPP_WABA, number.waba_id),
        (Webhook.Scope.META_APP, "whatsapp_business_account"),
    ):
        if webhook := _webhook(scope, owner):
            return Target(webhook), ""
    return None, (
        "No callback URL: Octopods sets one for the number (webhook_configuration), or "
        "paste one into the Meta app dashboard."
    )


def _messenger_target(page_id: str) -> tuple[Target | None, str]:
    subscription = _subscription(AppSubscription.Owner.PAGE, page_id)
    if subscription is None:
        return None, (
            "The Page has not subscribed the app. Add it as a Messenger channel in "
            "Octopods; Octopods then calls POST /{page-id}/subscribed_apps."
        )
    webhook = _webhook(Webhook.Scope.META_APP, "page")
    if webhook is None:
        return None, (
            "The Meta app has no callback URL for Pages. Paste the callback URL and verify "
            "token Octopods shows for the channel into the Meta app dashboard."
        )
    return Target(webhook, tuple(subscription.subscribed_fields)), ""


def _remember(webhook: Webhook, outcome: Outcome) -> None:
    if outcome.ok:
        Webhook.objects.filter(pk=webhook.pk).update(last_error="", last_error_at=None)
    else:
        Webhook.objects.filter(pk=webhook.pk).update(
            last_error=outcome.text[:500], last_error_at=timezone.now()
        )


# --- the customer's messages ----------------------------------------------------------


@dataclass(frozen=True)
class Content:
    """What the customer sends: text, the sample photo (with a caption), or a place."""

    type: str  # text, image, location
    text: str = ""
    latitude: float = 0.0
    longitude: float = 0.0
    name: str = ""
    address: str = ""

    @property
    def location(self) -> dict:
        place = {"latitude": self.latitude, "longitude": self.longitude}
        return {**place, **{k: v for k, v in (("name", self.name), ("address", self.address)) if v}}


def _new_ids(conversation: Conversation, content: Content) -> tuple[str, str]:
    """(provider message id, media reference) for a customer's message."""
    photo = content.type == "image"
    kind = conversation.kind
    if kind == Kind.TELEGRAM:
        ref = "AgACAgQAAxkBAAI" + secrets.token_urlsafe(24) if photo else ""
        return str(conversation.next_message_number()), ref
    if kind == Kind.WHATSAPP:
        ref = str(secrets.randbelow(9 * 10**15) + 10**15) if photo else ""
        return graph.new_wamid(), ref
    if kind == Kind.MESSENGER:
        return graph.new_mid(), secrets.token_urlsafe(24) if photo else ""
    return twilio.new_sid("MM" if photo else "SM"), twilio.new_sid("ME") if photo else ""


def customer_sends(conversation: Conversation, content: Content) -> Outcome:
    if content.type == "location" and conversation.kind == Kind.TWILIO:
        return Outcome(False, "SMS has no location messages; send the address as text.")
    target, problem = resolve(conversation.kind, conversation.endpoint)
    if target is None:
        return Outcome(False, problem)
    if refusal := target.refusal(conversation.kind, "messages"):
        return Outcome(False, refusal)
    message_id, media_ref = _new_ids(conversation, content)
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.create(
            conversation=conversation,
            direction=Message.Direction.IN,
            provider_message_id=message_id,
            content_type=content.type,
            text=content.text,
            detail={"location": content.location} if content.type == "location" else {},
            media_ref=media_ref,
            status="received",
            created_at=now,
        )
        # The customer wrote, whatever became of the webhook: the window opens at the
        # provider either way.
        conversation.last_customer_message_at = now
        conversation.save(update_fields=["last_customer_message_at"])
    outcome = MESSAGE_SENDERS[conversation.kind](conversation, message, content, target)
    message.outcome = outcome.text
    message.save(update_fields=["outcome"])
    _remember(target.webhook, outcome)
    return outcome


def _telegram_update_id() -> int:
    # Edits and taps have no row of their own to number them; the clock keeps their
    # ids growing and apart from the messages' (TELEGRAM_UPDATE_BASE + row id).
    return int(timezone.now().timestamp() * 1000)


def _telegram_target(conversation: Conversation, update: str) -> tuple[Target | None, str]:
    if conversation.kind != Kind.TELEGRAM:
        return None, "Only Telegram is wired for this in the sandbox."
    target, problem = resolve(conversation.kind, conversation.endpoint)
    if target is None:
        return None, problem
    if refusal := target.refusal(conversation.kind, update):
        return None, refusal
    return target, ""


def customer_edits(conversation: Conversation, message: Message, text: str) -> Outcome:
    """The customer changes a text they sent: Telegram's ``edited_message`` update (the
    same message_id and date, a new text and ``edit_date``)."""
    if message.direction != Message.Direction.IN or message.content_type != "text":
        return Outcome(False, "Only the customer's own texts can be edited.")
    target, problem = _telegram_target(conversation, "edited_message")
    if target is None:
        return Outcome(False, problem)
    message.text = text
    message.save(update_fields=["text"])
    chat = chat_json(conversation)
    body = {
        "message_id": int(message.provider_message_id),
        "from": _telegram_user(chat),
        "chat": chat,
        "date": unix(message.created_at),
        "edit_date": unix(timezone.now()),
        "text": text,
    }
    update = {"update_id": _telegram_update_id(), "edited_message": body}
    outcome = delivery.post_telegram(target.webhook.url, update, secret_token=target.webhook.secret)
    _remember(target.webhook, outcome)
    return outcome


def customer_taps(conversation: Conversation, label: str) -> Outcome:
    """The customer taps an inline button labelled ``label`` under the bot's latest
    message: Telegram's ``callback_query`` (Bot API CallbackQuery: id, from, message,
    chat_instance, data). With no message from the bot yet, the button is an inline-mode
    one: no ``message``, an ``inline_message_id``."""
    target, problem = _telegram_target(conversation, "callback_query")
    if target is None:
        return Outcome(False, problem)
    chat = chat_json(conversation)
    data = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:64] or "button"
    query: dict = {
        "id": str(secrets.randbelow(9 * 10**18) + 10**18),
        "from": _telegram_user(chat),
        "chat_instance": str(-secrets.randbelow(9 * 10**18)),
        "data": data,
    }
    bot_message = (
        conversation.messages.filter(direction=Message.Direction.OUT).order_by("-pk").first()
    )
    if bot_message is None:
        query["inline_message_id"] = secrets.token_urlsafe(18)
    else:
        query["message"] = {
            "message_id": int(bot_message.provider_message_id),
            "chat": chat,
            "date": unix(bot_message.created_at),
            "text": bot_message.text,
            "reply_markup": {"inline_keyboard": [[{"text": label, "callback_data": data}]]},
        }
    # The phone shows the tap, and whether the bot answered it (answerCallbackQuery marks
    # it answered), before the webhook is sent: the answer may come while it is.
    tapped = Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.IN,
        provider_message_id=query["id"],
        content_type=TAP,
        text=label,
        detail={"data": data},
    )
    update = {"update_id": _telegram_update_id(), "callback_query": query}
    outcome = delivery.post_telegram(target.webhook.url, update, secret_token=target.webhook.secret)
    tapped.outcome = outcome.text
    tapped.save(update_fields=["outcome"])
    _remember(target.webhook, outcome)
    return outcome


def _telegram_user(chat: dict) -> dict:
    user = {k: v for k, v in chat.items() if k != "type"}
    return {"id": user.pop("id"), "is_bot": False, **user, "language_code": "en"}


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


def millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _telegram_message(conversation, message, content, target) -> Outcome:
    chat = chat_json(conversation)
    body: dict = {
        "message_id": int(message.provider_message_id),
        "from": _telegram_user(chat),
        "chat": chat,
        "date": unix(message.created_at),
    }
    if content.type == "text":
        body["text"] = content.text
    elif content.type == "image":
        ref = message.media_ref
        body["photo"] = [
            {
                "file_id": ref + "-thumb",
                "file_unique_id": "AQAD" + ref[-12:] + "s",
                "file_size": len(media.photo()),
                "width": 90,
                "height": 67,
            },
            {
                "file_id": ref,
                "file_unique_id": "AQAD" + ref[-12:],
                "file_size": len(media.photo()),
                "width": media.PHOTO_WIDTH,
                "height": media.PHOTO_HEIGHT,
            },
        ]
        if content.text:
            body["caption"] = content.text
    else:
        point = {"latitude": content.latitude, "longitude": content.longitude}
        if content.name:
            # A named place is a venue; Telegram sets location on it too for old clients.
            body["venue"] = {"location": point, "title": content.name, "address": content.address}
        body["location"] = point
    update = {"update_id": TELEGRAM_UPDATE_BASE + message.pk, "message": body}
    return delivery.post_telegram(target.webhook.url, update, secret_token=target.webhook.secret)


def whatsapp_display_digits(display_phone_number: str) -> str:
    # Webhook metadata carries the business number as bare digits.
    return re.sub(r"[^0-9]", "", display_phone_number)


def _whatsapp_envelope(conversation: Conversation, value: dict) -> dict:
    number = whatsapp_number(conversation.endpoint)
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": number.waba_id,
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": whatsapp_display_digits(
                                    number.display_phone_number
                                ),
                                "phone_number_id": number.phone_number_id,
                            },
                            **value,
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def _whatsapp_message(conversation, message, content, target) -> Outcome:
    item: dict = {
        "from": conversation.customer_id,
        "id": message.provider_message_id,
        "timestamp": str(unix(message.created_at)),
        "type": content.type,
    }
    if content.type == "text":
        item["text"] = {"body": content.text}
    elif content.type == "image":
        image = {
            "mime_type": media.PHOTO_MIME,
            "sha256": media.photo_sha256_base64(),
            "id": message.media_ref,
        }
        item["image"] = {"caption": content.text, **image} if content.text else image
    else:
        item["location"] = content.location
    value = {
        "contacts": [
            {
                "profile": {"name": conversation.customer_name or conversation.customer_id},
                "wa_id": conversation.customer_id,
            }
        ],
        "messages": [item],
    }
    return delivery.post_meta(target.webhook.url, _whatsapp_envelope(conversation, value))


def messenger_cdn_url(media_ref: str) -> str:
    path = reverse("sandbox:messenger_attachment", kwargs={"ref": media_ref})
    return settings.PUBLIC_BASE_URL + path


def _messenger_envelope(conversation: Conversation, events: list[dict]) -> dict:
    return {
        "object": "page",
        "entry": [
            {"id": conversation.endpoint, "time": millis(timezone.now()), "messaging": events}
        ],
    }


def _messenger_parties(conversation: Conversation) -> dict:
    return {"sender": {"id": conversation.customer_id}, "recipient": {"id": conversation.endpoint}}


def _messenger_message(conversation, message, content, target) -> Outcome:
    body: dict = {"mid": message.provider_message_id}
    if content.type == "text":
        body["text"] = content.text
    elif content.type == "image":
        # Messenger has no captions: a picture arrives on its own.
        url = messenger_cdn_url(message.media_ref)
        body["attachments"] = [{"type": "image", "payload": {"url": url}}]
    else:
        body["attachments"] = [
            {
                "type": "location",
                "title": content.name or "Pinned Location",
                "payload": {"coordinates": {"lat": content.latitude, "long": content.longitude}},
            }
        ]
    event = {
        **_messenger_parties(conversation),
        "timestamp": millis(message.created_at),
        "message": body,
    }
    return delivery.post_meta(target.webhook.url, _messenger_envelope(conversation, [event]))


def _twilio_message(conversation, message, content, target) -> Outcome:
    account, number = twilio_number(conversation.endpoint)
    sid = message.provider_message_id
    photo = content.type == "image"
    params = [
        ("ToCountry", "US"),
        ("SmsMessageSid", sid),
        ("NumMedia", "1" if photo else "0"),
        ("SmsSid", sid),
        ("SmsStatus", "received"),
        ("Body", content.text),
        ("To", number.phone_number),
        ("NumSegments", "1"),
        ("MessageSid", sid),
        ("AccountSid", account.account_sid),
        ("From", conversation.customer_id),
        ("ApiVersion", twilio.API_VERSION),
    ]
    if photo:
        params += [
            ("MediaContentType0", media.PHOTO_MIME),
            ("MediaUrl0", twilio.media_url(account, message)),
        ]
    method = target.webhook.options.get("method", "POST")
    return delivery.post_twilio(
        target.webhook.url, params, auth_token=account.auth_token, method=method
    )


MESSAGE_SENDERS = {
    Kind.TELEGRAM: _telegram_message,
    Kind.WHATSAPP: _whatsapp_message,
    Kind.MESSENGER: _messenger_message,
    Kind.TWILIO: _twilio_message,
}


# --- receipts for Octopods' replies ---------------------------------------------------

RECEIPTS = {
    Kind.WHATSAPP: ("delivered", "read"),
    Kind.MESSENGER: ("delivered", "read"),
    Kind.TWILIO: ("delivered",),
    Kind.TELEGRAM: (),
}


def _waiting(conversation: Conversation, state: str) -> list[Message]:
    done = {"delivered": ("delivered", "read"), "read": ("read",)}[state]
    return list(
        conversation.messages.filter(direction=Message.Direction.OUT).exclude(status__in=done)
    )


def post_receipts(conversation: Conversation, state: str) -> Outcome:
    """Tell Octopods its replies were delivered (or read), as the provider would."""
    if state not in RECEIPTS[conversation.kind]:
        if conversation.kind == Kind.TELEGRAM:
            return Outcome(False, "Telegram tells bots nothing about delivery or reading.")
        return Outcome(False, "SMS has no read receipts.")
    waiting = _waiting(conversation, state)
    if not waiting:
        return Outcome(False, f"No replies are waiting to be marked {state}.")
    if conversation.kind == Kind.TWILIO:
        return _twilio_receipts(conversation, waiting)
    target, problem = resolve(conversation.kind, conversation.endpoint)
    if target is None:
        return Outcome(False, problem)
    if conversation.kind == Kind.WHATSAPP:
        outcome = _whatsapp_receipts(conversation, waiting, state, target)
    else:
        field = "message_deliveries" if state == "delivered" else "message_reads"
        if refusal := target.refusal(conversation.kind, field):
            return Outcome(False, refusal)
        outcome = _messenger_receipts(conversation, waiting, state, target)
    _remember(target.webhook, outcome)
    if outcome.ok:
        Message.objects.filter(pk__in=[m.pk for m in waiting]).update(status=state)
    return outcome


def _whatsapp_receipts(conversation, waiting, state, target) -> Outcome:
    now = str(unix(timezone.now()))
    statuses = []
    for message in waiting:
        status = {
            "id": message.provider_message_id,
            "status": state,
            "timestamp": now,
            "recipient_id": conversation.customer_id,
        }
        if state == "delivered":
            template = message.content_type == "template"
            status["pricing"] = {
                "billable": template,
                "pricing_model": "PMP",
                "category": "utility" if template else "service",
            }
        statuses.append(status)
    payload = _whatsapp_envelope(conversation, {"statuses": statuses})
    return delivery.post_meta(target.webhook.url, payload)


def _messenger_receipts(conversation, waiting, state, target) -> Outcome:
    now = millis(timezone.now())
    if state == "delivered":
        event = {
            **_messenger_parties(conversation),
            "delivery": {"mids": [m.provider_message_id for m in waiting], "watermark": now},
        }
    else:
        # Reads name no message: everything sent before the watermark was read.
        event = {**_messenger_parties(conversation), "timestamp": now, "read": {"watermark": now}}
    return delivery.post_meta(target.webhook.url, _messenger_envelope(conversation, [event]))


def _twilio_receipts(conversation, waiting) -> Outcome:
    """One status callback per message and status, to the StatusCallback its send named."""
    account, number = twilio_number(conversation.endpoint)
    results: list[str] = []
    failed = posted = False
    for message in waiting:
        if not message.status_callback:
            results.append(f"{message.provider_message_id}: its send named no StatusCallback")
            continue
        posted = True
        steps = ["sent", "delivered"] if message.status in ("queued", "accepted") else ["delivered"]
        for status in steps:
            params = [
                ("SmsSid", message.provider_message_id),
                ("SmsStatus", status),
                ("MessageStatus", status),
                ("To", conversation.customer_id),
                ("MessageSid", message.provider_message_id),
                ("AccountSid", account.account_sid),
                ("From", number.phone_number),
                ("ApiVersion", twilio.API_VERSION),
            ]
            if service := message.detail.get("messaging_service_sid"):
                params.append(("MessagingServiceSid", service))
            outcome = delivery.post_twilio(
                message.status_callback, params, auth_token=account.auth_token
            )
            results.append(f"{message.provider_message_id} {status}: {outcome.text}")
            if not outcome.ok:
                failed = True
                break
            Message.objects.filter(pk=message.pk).update(status=status)
    return Outcome(posted and not failed, " · ".join(results))


def pretend_later(conversation: Conversation) -> None:
    """Move the customer's last message 25 hours back: the 24-hour window closes."""
    if conversation.last_customer_message_at is not None:
        conversation.last_customer_message_at -= LATER
        conversation.save(update_fields=["last_customer_message_at"])
