"""A stand-in for the LINE Messaging API (docs/channels/line.md): ``{LINE_API_URL}/v2/bot/
...`` and the content of customers' files at ``{LINE_DATA_API_URL}/v2/bot/message/{id}/
content``.

Every call carries the channel access token as ``Authorization: Bearer``; a token LINE
does not know is answered 401 with LINE's message. Errors are LINE's shape:
``{"message": …, "details": [{"message", "property"}]}``.
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
import uuid

from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import media
from ..delivery import send
from ..models import Conversation, Message, Webhook
from .directory import LineAccount, line_account

KIND = "line"

MAX_MESSAGES = 5
MAX_TEXT = 5000
RETRY_KEY_HEADER = "X-Line-Retry-Key"
ACCEPTED_HEADER = "X-Line-Accepted-Request-Id"
SIGNATURE_HEADER = "X-Line-Signature"


def error(status: int, message: str, details: list[dict] | None = None) -> JsonResponse:
    body: dict = {"message": message}
    if details:
        body["details"] = details
    return JsonResponse(body, status=status)


def _unauthorized() -> JsonResponse:
    return error(
        401,
        "Authentication failed. Confirm that the access token in the authorization header "
        "is valid.",
    )


def _account(request) -> LineAccount | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return line_account(token.strip()) if scheme.lower() == "bearer" else None


def _json(request) -> dict | None:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _answer(data: dict, status: int = 200, **headers) -> JsonResponse:
    response = JsonResponse(data, status=status)
    response["X-Line-Request-Id"] = headers.pop("request_id", None) or str(uuid.uuid4())
    for name, value in headers.items():
        response[name] = value
    return response


def authenticated(view):
    def wrapped(request, *args, **kwargs):
        account = _account(request)
        if account is None:
            return _unauthorized()
        return view(request, account, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return csrf_exempt(wrapped)


# --- the bot -------------------------------------------------------------------------


@require_GET
@authenticated
def bot_info(request, account: LineAccount):
    return _answer(
        {
            "userId": account.user_id,
            "basicId": account.basic_id,
            "displayName": account.display_name,
            "chatMode": "bot",
            "markAsReadMode": "manual",
        }
    )


# --- webhooks ------------------------------------------------------------------------


def webhook_of(account: LineAccount) -> Webhook | None:
    return Webhook.objects.filter(scope=Webhook.Scope.LINE_CHANNEL, owner=account.user_id).first()


def _endpoint_problem(url: object) -> str:
    # LINE wants HTTPS; the sandbox also takes plain http, since Octopods runs on a laptop.
    if not isinstance(url, str) or not re.match(r"https?://[^/\s]+", url) or len(url) > 500:
        return "Invalid webhook endpoint URL"
    return ""


@require_http_methods(["GET", "PUT"])
@authenticated
def webhook_endpoint(request, account: LineAccount):
    if request.method == "GET":
        webhook = webhook_of(account)
        if webhook is None:
            return error(404, "Not found")
        return _answer({"endpoint": webhook.url, "active": webhook.options.get("active", True)})
    body = _json(request)
    if body is None:
        return error(400, "The request body has 1 error(s)")
    url = body.get("endpoint")
    if problem := _endpoint_problem(url):
        return error(400, problem, [{"message": "invalid", "property": "endpoint"}])
    Webhook.objects.update_or_create(
        scope=Webhook.Scope.LINE_CHANNEL,
        owner=account.user_id,
        # The secret LINE signs with is the channel's own, not chosen here.
        defaults={
            "url": url,
            "secret": account.channel_secret,
            "options": {"active": True},
            "last_error": "",
        },
    )
    return _answer({})


def sign(secret: str, body: bytes) -> str:
    """X-Line-Signature: the Base64 HMAC-SHA256 of the raw body, keyed with the channel
    secret (computed here, not borrowed from the product)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def post_line(url: str, account: LineAccount, events: list[dict]):
    """LINE's webhook request: the events for ``account``, signed with its secret."""
    body = json.dumps(
        {"destination": account.user_id, "events": events},
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        SIGNATURE_HEADER: sign(account.channel_secret, body),
        "User-Agent": "LineBotWebhook/2.0",
    }
    return send("POST", url, body=body, headers=headers)


@require_POST
@authenticated
def webhook_test(request, account: LineAccount):
    """LINE posts the endpoint a signed body with no events and reports what came back."""
    body = _json(request) or {}
    url = body.get("endpoint") or getattr(webhook_of(account), "url", "")
    if not url:
        return error(400, "Webhook endpoint URL is not set")
    if problem := _endpoint_problem(url):
        return error(400, problem, [{"message": "invalid", "property": "endpoint"}])
    outcome = post_line(url, account, [])
    status = outcome.status or 0
    return _answer(
        {
            "success": outcome.ok,
            "timestamp": timezone.now().isoformat().replace("+00:00", "Z"),
            "statusCode": status,
            "reason": "OK"
            if outcome.ok
            else ("ERROR_STATUS_CODE" if status else "COULD_NOT_CONNECT"),
            "detail": str(status) if status else outcome.text[:200],
        }
    )


# --- sending -------------------------------------------------------------------------


def _pushes(account: LineAccount):
    """This month's accepted push requests of the account, one row per request."""
    start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (
        Message.objects.filter(
            conversation__kind=KIND,
            conversation__endpoint=account.user_id,
            direction=Message.Direction.OUT,
            created_at__gte=start,
        )
        .filter(detail__has_key="request_id")
        .values_list("detail__request_id", flat=True)
        .distinct()
    )


def _message_problem(index: int, message: object) -> dict | None:
    where = f"messages[{index}]"
    if not isinstance(message, dict):
        return {"message": "must be an object", "property": where}
    kind = message.get("type")
    if kind == "text":
        text = message.get("text")
        if not isinstance(text, str) or not text:
            return {"message": "must be specified", "property": f"{where}.text"}
        if len(text) > MAX_TEXT:
            return {
                "message": f"Length must be between 0 and {MAX_TEXT}",
                "property": f"{where}.text",
            }
        return None
    if kind == "image":
        for field in ("originalContentUrl", "previewImageUrl"):
            url = message.get(field)
            if not isinstance(url, str) or not re.match(r"https?://", url):
                return {"message": "must be specified", "property": f"{where}.{field}"}
        return None
    return {"message": "The sandbox takes text and image messages", "property": f"{where}.type"}


@require_POST
@authenticated
def push(request, account: LineAccount):
    retry_key = request.headers.get(RETRY_KEY_HEADER, "")
    if retry_key:
        try:
            retry_key = str(uuid.UUID(retry_key))
        except ValueError:
            return error(400, "The retry key must be a hexadecimal UUID")
        done = (
            Message.objects.filter(
                conversation__kind=KIND,
                conversation__endpoint=account.user_id,
                detail__retry_key=retry_key,
            )
            .order_by("pk")
            .first()
        )
        if done is not None:
            # LINE ran this request already: 409, and the first request's id.
            response = error(409, "The retry key is already accepted")
            response[ACCEPTED_HEADER] = done.detail["request_id"]
            response["X-Line-Request-Id"] = str(uuid.uuid4())
            return response
    body = _json(request)
    if body is None:
        return error(400, "The request body has 1 error(s)")
    to = body.get("to")
    messages = body.get("messages")
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        return error(
            400,
            "The request body has 1 error(s)",
            [{"message": f"Size must be between 1 and {MAX_MESSAGES}", "property": "messages"}],
        )
    problems = [p for i, m in enumerate(messages) if (p := _message_problem(i, m))]
    if problems:
        return error(400, f"The request body has {len(problems)} error(s)", problems)
    conversation = (
        Conversation.objects.filter(kind=KIND, endpoint=account.user_id, customer_id=to).first()
        if isinstance(to, str)
        else None
    )
    if conversation is None:
        # A bot pushes only to a friend of the account (someone who wrote to it).
        return error(400, "The property, 'to', in the request body is invalid (line: -, column: -)")
    if account.monthly_limit is not None and len(_pushes(account)) >= account.monthly_limit:
        return error(429, "You have reached your monthly limit.")
    request_id = str(uuid.uuid4())
    sent = []
    for message in messages:
        message_id = str(secrets.randbelow(9 * 10**17) + 10**17)
        detail = {"request_id": request_id, "line": message}
        if retry_key:
            detail["retry_key"] = retry_key
        Message.objects.create(
            conversation=conversation,
            direction=Message.Direction.OUT,
            provider_message_id=message_id,
            content_type=message["type"],
            text=message.get("text", ""),
            detail=detail,
            # LINE tells a bot nothing after this: the message is in the chat.
            status="sent",
        )
        sent.append({"id": message_id, "quoteToken": secrets.token_urlsafe(48)})
    return _answer({"sentMessages": sent}, request_id=request_id)


@require_GET
@authenticated
def quota(request, account: LineAccount):
    if account.monthly_limit is None:
        return _answer({"type": "none"})
    return _answer({"type": "limited", "value": account.monthly_limit})


@require_GET
@authenticated
def quota_consumption(request, account: LineAccount):
    return _answer({"totalUsage": len(_pushes(account))})


# --- customers' files (the data API) -------------------------------------------------


@require_GET
@authenticated
def content(request, account: LineAccount, message_id: str):
    message = (
        Message.objects.filter(
            conversation__kind=KIND,
            conversation__endpoint=account.user_id,
            direction=Message.Direction.IN,
            provider_message_id=message_id,
        )
        .exclude(media_ref="")
        .first()
    )
    if message is None:
        return error(404, "Not found")
    return media.photo_response()
