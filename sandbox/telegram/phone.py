"""A Telegram chat on the customer phone: the bot's updates (PROVIDERS.md §5.2) posted to
the webhook setWebhook registered, with the secret_token header."""

import json
import re
import secrets

from django.utils import timezone

from .. import media
from ..customer import Endpoint, KindPhone, Target, remember, resolve, unix, webhook
from ..delivery import Outcome, send
from ..models import TAP, Message, Webhook
from .api import KIND, chat_json
from .directory import TELEGRAM_BOTS

# Telegram update ids only have to grow; the message's row id keeps them growing.
TELEGRAM_UPDATE_BASE = 100_000_000


def post_telegram(url: str, update: dict, *, secret_token: str) -> Outcome:
    headers = {"Content-Type": "application/json"}
    if secret_token:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
    body = json.dumps(update, separators=(",", ":"), ensure_ascii=False).encode()
    return send("POST", url, body=body, headers=headers)


def _update_id() -> int:
    # Edits and taps have no row of their own to number them; the clock keeps their
    # ids growing and apart from the messages' (TELEGRAM_UPDATE_BASE + row id).
    return int(timezone.now().timestamp() * 1000)


def _user(chat: dict) -> dict:
    user = {k: v for k, v in chat.items() if k != "type"}
    return {"id": user.pop("id"), "is_bot": False, **user, "language_code": "en"}


class TelegramPhone(KindPhone):
    kind = KIND
    customer_default = ("Jane Doe", "555000111")
    customer_id_help = "Telegram user id (digits)"
    no_receipts = "Telegram tells bots nothing about delivery or reading."
    edits_and_taps = True
    index_template = "sandbox/telegram/index.html"

    def index_context(self) -> dict:
        return {"telegram_bots": TELEGRAM_BOTS}

    def endpoints(self) -> list[Endpoint]:
        return [Endpoint(KIND, str(b.id), b.first_name, f"@{b.username}") for b in TELEGRAM_BOTS]

    def resolve(self, endpoint_id: str) -> tuple[Target | None, str]:
        found = webhook(Webhook.Scope.TELEGRAM_BOT, endpoint_id)
        if found is None:
            return None, (
                "No webhook is set for this bot. Add it as a Telegram channel in Octopods "
                "(with its bot token); Octopods then calls setWebhook."
            )
        return Target(found), ""

    def refusal(self, target: Target, event: str) -> str:
        allowed = target.webhook.options.get("allowed_updates") or []
        update = {"messages": "message"}.get(event, event)
        if allowed and update not in allowed:
            return (
                f"Not sent: the bot's allowed_updates leave out “{update}”, so Telegram "
                "would not deliver it."
            )
        return ""

    def new_ids(self, conversation, content) -> tuple[str, str]:
        ref = "AgACAgQAAxkBAAI" + secrets.token_urlsafe(24) if content.type == "image" else ""
        return str(conversation.next_message_number()), ref

    def send(self, conversation, message, content, target) -> Outcome:
        chat = chat_json(conversation)
        body: dict = {
            "message_id": int(message.provider_message_id),
            "from": _user(chat),
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
                body["venue"] = {
                    "location": point,
                    "title": content.name,
                    "address": content.address,
                }
            body["location"] = point
        update = {"update_id": TELEGRAM_UPDATE_BASE + message.pk, "message": body}
        return post_telegram(target.webhook.url, update, secret_token=target.webhook.secret)

    def _target(self, conversation, update: str) -> tuple[Target | None, str]:
        target, problem = resolve(conversation.kind, conversation.endpoint)
        if target is None:
            return None, problem
        if refusal := self.refusal(target, update):
            return None, refusal
        return target, ""

    def edit(self, conversation, message, text: str) -> Outcome:
        """Telegram's ``edited_message`` update (the same message_id and date, a new text
        and ``edit_date``)."""
        target, problem = self._target(conversation, "edited_message")
        if target is None:
            return Outcome(False, problem)
        message.text = text
        message.save(update_fields=["text"])
        chat = chat_json(conversation)
        body = {
            "message_id": int(message.provider_message_id),
            "from": _user(chat),
            "chat": chat,
            "date": unix(message.created_at),
            "edit_date": unix(timezone.now()),
            "text": text,
        }
        update = {"update_id": _update_id(), "edited_message": body}
        outcome = post_telegram(target.webhook.url, update, secret_token=target.webhook.secret)
        remember(target.webhook, outcome)
        return outcome

    def tap(self, conversation, label: str) -> Outcome:
        """Telegram's ``callback_query`` (Bot API CallbackQuery: id, from, message,
        chat_instance, data) for an inline button under the bot's latest message. With no
        message from the bot yet, the button is an inline-mode one: no ``message``, an
        ``inline_message_id``."""
        target, problem = self._target(conversation, "callback_query")
        if target is None:
            return Outcome(False, problem)
        chat = chat_json(conversation)
        data = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:64] or "button"
        query: dict = {
            "id": str(secrets.randbelow(9 * 10**18) + 10**18),
            "from": _user(chat),
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
        # The phone shows the tap, and whether the bot answered it (answerCallbackQuery
        # marks it answered), before the webhook is sent: the answer may come while it is.
        tapped = Message.objects.create(
            conversation=conversation,
            direction=Message.Direction.IN,
            provider_message_id=query["id"],
            content_type=TAP,
            text=label,
            detail={"data": data},
        )
        update = {"update_id": _update_id(), "callback_query": query}
        outcome = post_telegram(target.webhook.url, update, secret_token=target.webhook.secret)
        tapped.outcome = outcome.text
        tapped.save(update_fields=["outcome"])
        remember(target.webhook, outcome)
        return outcome
