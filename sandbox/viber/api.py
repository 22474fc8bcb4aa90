"""A stand-in for Viber's REST bot API (docs/channels/viber.md): ``{VIBER_API_URL}/
<method>``, a POST of JSON with the bot's token in ``X-Viber-Auth-Token``.

Like Viber, it answers HTTP 200 with ``{"status": N, "status_message": …}`` whether it
accepted the call or not (0 / "ok" is success), refuses a missing or unknown token with
status 2, checks a new webhook by posting it a signed ``webhook`` callback (and fails
set_webhook unless it answers 200), and lets a bot write only to subscribed users
(status 6 for anyone else). Customers' files are served under ``media/``.
"""

import hashlib
import hmac
import json
import re
import secrets

from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from .. import media
from ..customer import millis
from ..delivery import Outcome, send
from ..models import Conversation, Message, Webhook
from .directory import ViberBot, viber_bot

KIND = "viber"
AUTH_HEADER = "X-Viber-Auth-Token"
SIGNATURE_HEADER = "X-Viber-Content-Signature"
CHAT_HOSTNAME = "SN-CHAT-05_"
EVENT_TYPES = ("delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started")
MAX_TEXT = 7000
SENDER_NAME_LENGTH = 28
# Every sandbox customer uses a recent Viber app.
API_VERSION = 10
WEBHOOK_URL = re.compile(r"https?://[^/\s]+\S*")

# A customer's messages that subscribe them to the bot ("users' first message to the
# bot will make them subscribed"), and the events kept on the phone for their standing.
SUBSCRIBED = "subscribed"
UNSUBSCRIBED = "unsubscribed"
CONVERSATION_STARTED = "conversation_started"
NOT_SUBSCRIBING = (UNSUBSCRIBED, CONVERSATION_STARTED)


def answer(status: int = 0, status_message: str = "ok", **more) -> JsonResponse:
    return JsonResponse(
        {"status": status, "status_message": status_message, **more, "chat_hostname": CHAT_HOSTNAME}
    )


def new_token() -> int:
    """A message token: Viber's are 64-bit integers."""
    return secrets.randbelow(9 * 10**18) + 10**18


def sign(auth_token: str, body: bytes) -> str:
    """X-Viber-Content-Signature: hex HMAC-SHA256 of the body keyed with the token."""
    return hmac.new(auth_token.encode(), body, hashlib.sha256).hexdigest()


def post_viber(url: str, callback: dict, *, auth_token: str) -> Outcome:
    """One callback, as Viber posts it: compact JSON, signed over the exact bytes."""
    body = json.dumps(callback, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(auth_token, body)}
    return send("POST", url, body=body, headers=headers)


def bot_webhook(bot: ViberBot) -> Webhook | None:
    return Webhook.objects.filter(scope=Webhook.Scope.VIBER_BOT, owner=bot.id).first()


def subscribed(conversation: Conversation) -> bool:
    """Whether the customer is subscribed to the bot: they subscribed or wrote to it,
    and have not unsubscribed since."""
    latest = (
        conversation.messages.filter(direction=Message.Direction.IN)
        .exclude(content_type=CONVERSATION_STARTED)
        .order_by("-created_at", "-pk")
        .first()
    )
    return latest is not None and latest.content_type != UNSUBSCRIBED


@csrf_exempt
def method(request, name):
    if request.method != "POST":
        return JsonResponse({"status": 3, "status_message": "badData"}, status=405)
    token = request.headers.get(AUTH_HEADER, "")
    if not token:
        return answer(2, "missing_auth_token")
    bot = viber_bot(token)
    if bot is None:
        return answer(2, "invalidAuthToken")
    handler = METHODS.get(name)
    if handler is None:
        return JsonResponse({"status": 3, "status_message": "badData"}, status=404)
    try:
        params = json.loads(request.body or b"{}")
    except ValueError:
        return answer(3, "badData")
    if not isinstance(params, dict):
        return answer(3, "badData")
    return handler(bot, params)


def get_account_info(bot: ViberBot, params: dict):
    webhook = bot_webhook(bot)
    return answer(
        id=bot.id,
        name=bot.name,
        uri=bot.uri,
        icon="",
        background="",
        category="Organizations",
        subcategory="Customer service",
        location={"lat": 52.520008, "lon": 13.404954},
        country="US",
        webhook=webhook.url if webhook else "",
        event_types=list(webhook.options.get("event_types", EVENT_TYPES)) if webhook else [],
        subscribers_count=sum(
            subscribed(c) for c in Conversation.objects.filter(kind=KIND, endpoint=bot.id)
        ),
        members=[],
    )


def set_webhook(bot: ViberBot, params: dict):
    url = params.get("url")
    if not isinstance(url, str):
        return answer(4, "missingData")
    url = url.strip()
    if not url:
        # "Removing your webhook": an empty url.
        Webhook.objects.filter(scope=Webhook.Scope.VIBER_BOT, owner=bot.id).delete()
        return answer()
    # Viber wants HTTPS with a trusted certificate; the sandbox also takes plain http,
    # since Octopods runs on a laptop.
    if not WEBHOOK_URL.fullmatch(url):
        return answer(1, "invalidUrl")
    event_types = params.get("event_types")
    if event_types is None:
        event_types = list(EVENT_TYPES)
    if not isinstance(event_types, list) or not all(e in EVENT_TYPES for e in event_types):
        return answer(3, "badData")
    # Viber checks the URL with a signed "webhook" callback before it accepts it.
    check = {
        "event": "webhook",
        "timestamp": millis(timezone.now()),
        "chat_hostname": CHAT_HOSTNAME,
        "message_token": new_token(),
    }
    outcome = post_viber(url, check, auth_token=bot.auth_token)
    if outcome.status != 200:
        return answer(1, "invalidUrl")
    Webhook.objects.update_or_create(
        scope=Webhook.Scope.VIBER_BOT,
        owner=bot.id,
        defaults={
            "url": url,
            "secret": "",
            "options": {
                "event_types": event_types,
                "send_name": bool(params.get("send_name")),
                "send_photo": bool(params.get("send_photo")),
            },
            "last_error": "",
        },
    )
    return answer(event_types=event_types)


# --- sending --------------------------------------------------------------------------

# Fields send_message requires per type (creators.viber.com data-models/message).
REQUIRED = {
    "text": ("text",),
    "picture": ("media",),
    "video": ("media", "size"),
    "file": ("media", "size", "file_name"),
    "location": ("location",),
    "contact": ("contact",),
    "sticker": ("sticker_id",),
    "url": ("media",),
}


def send_message(bot: ViberBot, params: dict):
    receiver = params.get("receiver")
    sender = params.get("sender")
    kind = params.get("type")
    if not isinstance(receiver, str) or not receiver or not isinstance(sender, dict):
        return answer(4, "missingData")
    name = sender.get("name")
    if not isinstance(name, str) or not name or len(name) > SENDER_NAME_LENGTH:
        return answer(3, "badData")
    if kind not in REQUIRED or any(params.get(field) in (None, "") for field in REQUIRED[kind]):
        return answer(3, "badData")
    text = params.get("text") or ""
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        return answer(3, "badData")
    conversation = Conversation.objects.filter(
        kind=KIND, endpoint=bot.id, customer_id=receiver
    ).first()
    if conversation is None or not subscribed(conversation):
        # A bot may write only to users who subscribed (or wrote to it).
        return answer(6, "notSubscribed")
    token = new_token()
    detail = {k: params[k] for k in ("sender", "media", "size", "file_name") if k in params}
    Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.OUT,
        provider_message_id=str(token),
        content_type=kind,
        text=text,
        detail=detail,
        status="sent",
    )
    return answer(message_token=token, billing_status=1)


METHODS = {
    "get_account_info": get_account_info,
    "set_webhook": set_webhook,
    "send_message": send_message,
}


# --- files ----------------------------------------------------------------------------


@require_GET
def file(request, ref):
    """A customer's picture or sticker, on Viber's media host (public: no token)."""
    found = Message.objects.filter(
        conversation__kind=KIND, direction=Message.Direction.IN, media_ref=ref
    ).exists()
    if not found:
        return JsonResponse({"status": 404, "status_message": "Not Found"}, status=404)
    return media.photo_response()
