"""A stand-in for the Telegram Bot API (PROVIDERS.md §5): ``{TELEGRAM_API_URL}/bot<token>/
<method>`` and file downloads at ``/file/bot<token>/<file_path>``.

Like Telegram, it takes parameters as a query string, a form, multipart or JSON, on
GET or POST, and method names in any case; every answer has ``ok``.
"""

import json
import re
import secrets

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from .. import media
from ..models import TAP, TAP_ANSWERED, Conversation, Message, Webhook
from ..views import BadRequest, request_params
from .directory import TelegramBot, telegram_bot

KIND = "telegram"

SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
MAX_TEXT = 4096
# The file_id of the smaller copy of a photo is its full-size file_id plus this.
THUMB_SUFFIX = "-thumb"
FILE_PATH = re.compile(r"photos/file_(?P<pk>[0-9]+)\.jpg")


def ok(result) -> JsonResponse:
    return JsonResponse({"ok": True, "result": result})


def error(code: int, description: str) -> JsonResponse:
    return JsonResponse({"ok": False, "error_code": code, "description": description}, status=code)


def _unauthorized() -> JsonResponse:
    return error(401, "Unauthorized")


def _params(request) -> dict:
    return request_params(request, unreadable_json="Bad Request: can't parse JSON object")


@csrf_exempt
def method(request, token, name):
    bot = telegram_bot(token)
    if bot is None:
        return _unauthorized()
    handler = METHODS.get(name.lower())
    if handler is None:
        return error(404, "Not Found")
    try:
        return handler(bot, _params(request))
    except BadRequest as bad:
        return error(400, str(bad))


def user_json(bot: TelegramBot) -> dict:
    return {"id": bot.id, "is_bot": True, "first_name": bot.first_name, "username": bot.username}


def get_me(bot: TelegramBot, params: dict):
    return ok(
        {
            **user_json(bot),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
    )


# --- webhooks -------------------------------------------------------------------------


def _allowed_updates(value) -> list[str] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise BadRequest("Bad Request: can't parse allowed updates JSON array") from exc
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest("Bad Request: can't parse allowed updates JSON array")
    return value


def set_webhook(bot: TelegramBot, params: dict):
    url = str(params.get("url") or "").strip()
    if not url:
        return _delete(bot, "Webhook was deleted", "Webhook is already deleted")
    # Telegram wants HTTPS on port 443, 80, 88 or 8443; the sandbox also takes plain
    # http on any port, since Octopods runs on a laptop.
    if not re.match(r"https?://[^/\s]+", url):
        raise BadRequest("Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
    secret_token = str(params.get("secret_token") or "")
    if secret_token and not SECRET_TOKEN.fullmatch(secret_token):
        raise BadRequest("Bad Request: secret token contains unallowed characters")
    try:
        max_connections = int(params.get("max_connections") or 40)
    except (TypeError, ValueError) as exc:
        raise BadRequest("Bad Request: bad max_connections") from exc
    if not 1 <= max_connections <= 100:
        raise BadRequest("Bad Request: bad max_connections")
    previous = Webhook.objects.filter(scope=Webhook.Scope.TELEGRAM_BOT, owner=str(bot.id)).first()
    allowed = _allowed_updates(params.get("allowed_updates"))
    if allowed is None and previous is not None:
        # "If not specified, the previous setting will be used."
        allowed = previous.options.get("allowed_updates")
    options = {"max_connections": max_connections}
    if allowed is not None:
        options["allowed_updates"] = allowed
    Webhook.objects.update_or_create(
        scope=Webhook.Scope.TELEGRAM_BOT,
        owner=str(bot.id),
        defaults={"url": url, "secret": secret_token, "options": options, "last_error": ""},
    )
    return JsonResponse({"ok": True, "result": True, "description": "Webhook was set"})


def _delete(bot: TelegramBot, done: str, already: str):
    deleted, _ = Webhook.objects.filter(
        scope=Webhook.Scope.TELEGRAM_BOT, owner=str(bot.id)
    ).delete()
    return JsonResponse({"ok": True, "result": True, "description": done if deleted else already})


def delete_webhook(bot: TelegramBot, params: dict):
    return _delete(bot, "Webhook was deleted", "Webhook is already deleted")


def get_webhook_info(bot: TelegramBot, params: dict):
    webhook = Webhook.objects.filter(scope=Webhook.Scope.TELEGRAM_BOT, owner=str(bot.id)).first()
    if webhook is None:
        return ok({"url": "", "has_custom_certificate": False, "pending_update_count": 0})
    info = {
        "url": webhook.url,
        "has_custom_certificate": False,
        "pending_update_count": 0,
        "max_connections": webhook.options.get("max_connections", 40),
        "ip_address": "127.0.0.1",
    }
    if "allowed_updates" in webhook.options:
        info["allowed_updates"] = webhook.options["allowed_updates"]
    if webhook.last_error and webhook.last_error_at:
        info["last_error_date"] = int(webhook.last_error_at.timestamp())
        info["last_error_message"] = webhook.last_error
    return ok(info)


# --- sending --------------------------------------------------------------------------


def chat_json(conversation: Conversation) -> dict:
    first, _, last = conversation.customer_name.partition(" ")
    chat = {"id": int(conversation.customer_id), "first_name": first or "Customer"}
    if last:
        chat["last_name"] = last
    chat["type"] = "private"
    return chat


def _chat(bot: TelegramBot, params: dict) -> Conversation:
    chat_id = str(params.get("chat_id") or "").strip()
    if not chat_id:
        raise BadRequest("Bad Request: chat_id is empty")
    conversation = Conversation.objects.filter(
        kind=KIND, endpoint=str(bot.id), customer_id=chat_id
    ).first()
    if conversation is None:
        # A bot can only write to someone who has started a chat with it.
        raise BadRequest("Bad Request: chat not found")
    return conversation


def _record(bot, conversation, *, content_type, text, detail, content) -> JsonResponse:
    number = conversation.next_message_number()
    message = Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.OUT,
        provider_message_id=str(number),
        content_type=content_type,
        text=text,
        detail=detail,
        status="sent",
    )
    return ok(
        {
            "message_id": number,
            "from": user_json(bot),
            "chat": chat_json(conversation),
            "date": int(message.created_at.timestamp()),
            **content,
        }
    )


def send_message(bot: TelegramBot, params: dict):
    conversation = _chat(bot, params)
    text = str(params.get("text") or "")
    if not text.strip():
        raise BadRequest("Bad Request: message text is empty")
    if len(text) > MAX_TEXT:
        raise BadRequest("Bad Request: message is too long")
    detail = {k: params[k] for k in ("parse_mode", "reply_parameters") if params.get(k)}
    return _record(
        bot, conversation, content_type="text", text=text, detail=detail, content={"text": text}
    )


def _file_param(params: dict, name: str) -> dict:
    """What Octopods sent as a file: an upload, a URL for Telegram to fetch, or a file_id."""
    value = params.get(name)
    if value is None or value == "":
        raise BadRequest(f"Bad Request: there is no {name} in the request")
    if hasattr(value, "read"):
        return {"upload": value.name, "mime_type": value.content_type or "", "size": value.size}
    value = str(value)
    if value.startswith(("http://", "https://")):
        return {"url": value}
    return {"file_id": value}


def _new_file_id() -> str:
    return "BQACAgQAAxkD" + secrets.token_urlsafe(24)


def _caption(params: dict) -> dict:
    caption = str(params.get("caption") or "")
    return {"caption": caption} if caption else {}


def send_photo(bot: TelegramBot, params: dict):
    conversation = _chat(bot, params)
    sent = _file_param(params, "photo")
    file_id = _new_file_id()
    # The sandbox does not decode pictures, so it reports the size of its own.
    sizes = [
        {
            "file_id": file_id,
            "file_unique_id": file_id[-16:],
            "width": media.PHOTO_WIDTH,
            "height": media.PHOTO_HEIGHT,
        },
    ]
    return _record(
        bot,
        conversation,
        content_type="photo",
        text=_caption(params).get("caption", ""),
        detail={"photo": sent},
        content={"photo": sizes, **_caption(params)},
    )


def send_document(bot: TelegramBot, params: dict):
    conversation = _chat(bot, params)
    sent = _file_param(params, "document")
    file_id = _new_file_id()
    name = sent.get("upload") or str(sent.get("url", "")).rsplit("/", 1)[-1] or "document"
    document = {"file_id": file_id, "file_unique_id": file_id[-16:], "file_name": name}
    if sent.get("mime_type"):
        document["mime_type"] = sent["mime_type"]
    return _record(
        bot,
        conversation,
        content_type="document",
        text=_caption(params).get("caption", ""),
        detail={"document": sent},
        content={"document": document, **_caption(params)},
    )


# --- files ----------------------------------------------------------------------------


def _customer_photo(bot: TelegramBot, *, file_id: str = "", pk: int | None = None):
    messages = Message.objects.filter(
        conversation__kind=KIND,
        conversation__endpoint=str(bot.id),
        direction=Message.Direction.IN,
    ).exclude(media_ref="")
    if pk is not None:
        return messages.filter(pk=pk).first()
    return messages.filter(media_ref=file_id.removesuffix(THUMB_SUFFIX)).first()


def get_file(bot: TelegramBot, params: dict):
    file_id = str(params.get("file_id") or "")
    message = _customer_photo(bot, file_id=file_id) if file_id else None
    if message is None:
        raise BadRequest("Bad Request: invalid file_id")
    return ok(
        {
            "file_id": file_id,
            "file_unique_id": file_id[-16:],
            "file_size": len(media.photo()),
            "file_path": f"photos/file_{message.pk}.jpg",
        }
    )


def file(request, token, file_path):
    bot = telegram_bot(token)
    if bot is None:
        return _unauthorized()
    match = FILE_PATH.fullmatch(file_path)
    message = _customer_photo(bot, pk=int(match["pk"])) if match else None
    if message is None:
        return error(404, "Not Found")
    return media.photo_response()


def answer_callback_query(bot: TelegramBot, params: dict):
    # Telegram answers True for any query id it still knows; the customer's phone shows
    # the tap answered (its spinner stopped).
    query_id = str(params.get("callback_query_id") or "")
    if not query_id:
        return error(400, "Bad Request: query is too old and response timeout expired")
    Message.objects.filter(
        conversation__kind=KIND,
        conversation__endpoint=str(bot.id),
        content_type=TAP,
        provider_message_id=query_id,
    ).update(status=TAP_ANSWERED)
    return ok(True)


METHODS = {
    "getme": get_me,
    "setwebhook": set_webhook,
    "deletewebhook": delete_webhook,
    "getwebhookinfo": get_webhook_info,
    "sendmessage": send_message,
    "sendphoto": send_photo,
    "senddocument": send_document,
    "getfile": get_file,
    "answercallbackquery": answer_callback_query,
}
