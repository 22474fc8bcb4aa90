"""A stand-in for Meta's Graph API as the WhatsApp Cloud API, Messenger and Instagram
use it.

PROVIDERS.md §3 (WhatsApp: numbers, webhook overrides, send, media, the 24-hour window),
§6 (Messenger: Page, subscribed_apps, Send API, the allowed window) and
docs/channels/instagram.md (a Page's linked Instagram account, the Send API to an IGSID,
its window: code 10 / subcode 2534022, HUMAN_AGENT for 7 days). Calls are
``{META_GRAPH_API_URL}/{id}`` and ``/{id}/{edge}``; the access token comes as
``Authorization: Bearer`` or an ``access_token`` parameter, and parameters as a query,
a form or a JSON body, as Graph accepts all three.
"""

import hmac
import json
import re
import secrets
import string
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.http import JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from .. import media, tokens
from ..models import (
    HUMAN_AGENT_WINDOW,
    AppSubscription,
    Conversation,
    Message,
    Webhook,
)
from ..views import BadRequest, request_params
from . import whatsapp_templates
from .directory import (
    FACEBOOK_PAGES,
    META_APP,
    WHATSAPP_NUMBERS,
    InstagramAccount,
    MessengerPage,
    WhatsAppNumber,
    facebook_page,
    linked_instagram_account,
    whatsapp_number,
)
from .webhooks import meta_handshake

WHATSAPP = "whatsapp"
MESSENGER = "messenger"
INSTAGRAM = "instagram"

APP_NAME = "Octopods (sandbox)"
MEDIA_URL_MAX_AGE = 5 * 60  # WhatsApp's media download URLs live about five minutes
# Tags that let a Page message a person after the 24-hour window (PROVIDERS.md §6.2).
# A business-scoped user id: a country code, a dot, then letters and digits (a parent id
# adds ENT.), e.g. US.13491208655302741918.
BSUID = re.compile(r"[A-Z]{2}(\.ENT)?\.[A-Za-z0-9]{1,128}")
MESSAGE_TAGS = {"CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE", "HUMAN_AGENT"}
WHATSAPP_TYPES = {
    "text",
    "image",
    "video",
    "audio",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "template",
    "reaction",
}
RE_ENGAGEMENT_DETAILS = (
    "Message failed to send because more than 24 hours have passed since the customer "
    "last replied to this number."
)


# --- errors ---------------------------------------------------------------------------


def _fbtrace_id() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(11))


def graph_error(
    status: int,
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    details: str = "",
    whatsapp: bool = False,
) -> JsonResponse:
    error: dict = {"message": message, "type": "OAuthException", "code": code}
    if details or whatsapp:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details or message}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = _fbtrace_id()
    return JsonResponse({"error": error}, status=status)


def _invalid_token() -> JsonResponse:
    return graph_error(401, 190, "(#190) Invalid OAuth access token - Cannot parse access token")


def _unsupported(method: str, node: str) -> JsonResponse:
    # Graph's answer both for an id that does not exist and for one the token may not
    # see: it never says which.
    return graph_error(
        400,
        100,
        f"Unsupported {method.lower()} request. Object with ID '{node}' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this operation.",
        subcode=33,
    )


def _missing(name: str, *, whatsapp: bool = False) -> JsonResponse:
    return graph_error(400, 100, f"(#100) The parameter {name} is required", whatsapp=whatsapp)


# --- request parsing ------------------------------------------------------------------


def _params(request) -> dict:
    return request_params(request, unreadable_json="The request body is not a JSON object.")


def _object_param(params: dict, name: str) -> dict | None:
    """A parameter Graph takes as a JSON object, sent either as one (JSON body) or as a
    JSON string (form or query)."""
    value = params.get(name)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise BadRequest(f"(#100) Param {name} must be a JSON object") from error
    if value is not None and not isinstance(value, dict):
        raise BadRequest(f"(#100) Param {name} must be a JSON object")
    return value


def _list_param(params: dict, name: str) -> list[str]:
    """A list parameter: a JSON array, a JSON-encoded array or comma-separated names."""
    value = params.get(name)
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                value = json.loads(stripped)
            except ValueError as error:
                raise BadRequest(f"(#100) Param {name} must be an array") from error
        else:
            value = [part for part in (p.strip() for p in stripped.split(",")) if part]
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f"(#100) Param {name} must be an array of strings")
    return value


def _fields(params: dict) -> list[str]:
    """Top-level names of ``fields`` ("a,b{c,d},e" → a, b, e)."""
    raw = params.get("fields")
    if not isinstance(raw, str):
        return []
    names, depth, current = [], 0, ""
    for char in raw:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "," and depth == 0:
            names.append(current.strip())
            current = ""
        elif depth == 0:
            current += char
    names.append(current.strip())
    return [name for name in names if name]


@dataclass(frozen=True)
class Caller:
    """Whose token it is: a WhatsApp number's system-user token or a Page token."""

    number: WhatsAppNumber | None = None
    page: MessengerPage | None = None


def _token(request, params: dict) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() in ("bearer", "oauth") and value.strip():
        return value.strip()
    token = params.get("access_token")
    return token if isinstance(token, str) else ""


def _matches(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def caller_for(token: str) -> Caller | None:
    for number in WHATSAPP_NUMBERS:
        if _matches(token, number.access_token):
            return Caller(number=number)
    for page in FACEBOOK_PAGES:
        if _matches(token, page.page_access_token):
            return Caller(page=page)
    return None


def _waba_numbers(waba_id: str) -> list[WhatsAppNumber]:
    return [n for n in WHATSAPP_NUMBERS if n.waba_id == waba_id]


# --- entry points ---------------------------------------------------------------------


def _authenticated(request):
    """(params, caller) or an error response."""
    try:
        params = _params(request)
    except BadRequest as error:
        return None, graph_error(400, 100, str(error))
    token = _token(request, params)
    if not token:
        return None, graph_error(400, 104, "An access token is required to request this resource.")
    caller = caller_for(token)
    if caller is None:
        return None, _invalid_token()
    return (params, caller), None


@csrf_exempt
def node(request, version, node_id):
    """GET/POST /{id}: a number, a WABA, a Page (or ``me``) or a media id."""
    authenticated, error = _authenticated(request)
    if error is not None:
        return error
    params, caller = authenticated
    try:
        if node_id == "me":
            return _me(request, params, caller)
        if number := whatsapp_number(node_id):
            return _phone_number(request, params, caller, number)
        if _waba_numbers(node_id):
            return _waba(request, params, caller, node_id)
        if page := facebook_page(node_id):
            return _page(request, params, caller, page)
        if request.method == "GET":
            return _media(request, caller, node_id)
    except BadRequest as bad:
        return graph_error(400, 100, str(bad))
    return _unsupported(request.method, node_id)


@csrf_exempt
def edge(request, version, node_id, edge_name):
    """/{id}/phone_numbers, /{id}/subscribed_apps, /{id}/messages,
    /{id}/message_templates."""
    authenticated, error = _authenticated(request)
    if error is not None:
        return error
    params, caller = authenticated
    handler = EDGES.get(edge_name)
    if handler is None:
        return graph_error(400, 2500, f"Unknown path components: /{edge_name}")
    try:
        return handler(request, params, caller, node_id)
    except BadRequest as bad:
        return graph_error(400, 100, str(bad))


# --- nodes ----------------------------------------------------------------------------


def _only(data: dict, fields: list[str], default: list[str]) -> dict:
    # Unknown fields are left out rather than refused, so a client asking for a field
    # the sandbox does not model still works.
    wanted = fields or default
    return {"id": data["id"], **{name: data[name] for name in wanted if name in data}}


def _me(request, params, caller: Caller):
    if request.method != "GET":
        return _unsupported(request.method, "me")
    if caller.page is not None:
        return JsonResponse(_page_json(caller.page, _fields(params)))
    # A system user's token: /me is that user.
    user = {"id": f"61{caller.number.phone_number_id[2:]}", "name": "Sandbox system user"}
    return JsonResponse(_only(user, _fields(params), ["name"]))


def _page_json(page: MessengerPage, fields: list[str]) -> dict:
    data = {"id": page.page_id, "name": page.name, "category": "Business"}
    # A Page linked to an Instagram professional account names it (Graph leaves the
    # field out for a Page with none); the sandbox always expands its id and username.
    if account := linked_instagram_account(page):
        linked = {"id": account.account_id, "username": account.username}
        data["instagram_business_account"] = linked
    return _only(data, fields, ["name"])


def _page(request, params, caller: Caller, page: MessengerPage):
    if request.method != "GET" or caller.page != page:
        return _unsupported(request.method, page.page_id)
    return JsonResponse(_page_json(page, _fields(params)))


def _webhook_configuration(number: WhatsAppNumber) -> dict:
    found = {
        (w.scope, w.owner): w.url
        for w in Webhook.objects.filter(
            owner__in=[number.phone_number_id, number.waba_id, "whatsapp_business_account"]
        )
    }
    configuration = {}
    if url := found.get((Webhook.Scope.WHATSAPP_NUMBER, number.phone_number_id)):
        configuration["phone_number"] = url
    if url := found.get((Webhook.Scope.WHATSAPP_WABA, number.waba_id)):
        configuration["whatsapp_business_account"] = url
    if url := found.get((Webhook.Scope.META_APP, "whatsapp_business_account")):
        configuration["application"] = url
    return configuration


def number_json(number: WhatsAppNumber, fields: list[str]) -> dict:
    data = {
        "id": number.phone_number_id,
        "verified_name": number.verified_name,
        "code_verification_status": "VERIFIED",
        "display_phone_number": number.display_phone_number,
        "quality_rating": "GREEN",
        "platform_type": "CLOUD_API",
        "throughput": {"level": "STANDARD"},
        "name_status": "APPROVED",
        "status": "CONNECTED",
    }
    if "webhook_configuration" in fields:
        data["webhook_configuration"] = _webhook_configuration(number)
    default = [
        "verified_name",
        "code_verification_status",
        "display_phone_number",
        "quality_rating",
        "platform_type",
        "throughput",
    ]
    return _only(data, fields, default)


def _phone_number(request, params, caller: Caller, number: WhatsAppNumber):
    if caller.number != number:
        return _unsupported(request.method, number.phone_number_id)
    if request.method == "GET":
        return JsonResponse(number_json(number, _fields(params)))
    if request.method == "POST":
        return _set_number_override(params, number)
    return _unsupported(request.method, number.phone_number_id)


def _set_number_override(params: dict, number: WhatsAppNumber):
    configuration = _object_param(params, "webhook_configuration")
    if configuration is None:
        return _missing("webhook_configuration", whatsapp=True)
    failed = _set_override(
        configuration, Webhook.Scope.WHATSAPP_NUMBER, number.phone_number_id, required=True
    )
    return failed or JsonResponse({"success": True})


def _set_override(values: dict, scope: str, owner: str, *, required: bool):
    """Meta's alternate callback URL for a number or a WABA: verified by the GET
    handshake before it is stored. An empty URL removes the override. None when done,
    else the error to answer."""
    url = values.get("override_callback_uri")
    if url is None and not required:
        return None
    if not isinstance(url, str):
        return _missing("override_callback_uri", whatsapp=True)
    if not url:
        Webhook.objects.filter(scope=scope, owner=owner).delete()
        return None
    verify_token = values.get("verify_token")
    if not isinstance(verify_token, str) or not verify_token:
        return _missing("verify_token", whatsapp=True)
    if not url.startswith(("http://", "https://")):
        # Meta wants HTTPS; the sandbox also takes http:// for a laptop.
        return graph_error(
            400, 100, "(#100) Param override_callback_uri must be a valid URL", whatsapp=True
        )
    failure = meta_handshake(url, verify_token)
    if failure is not None:
        return graph_error(400, 2200, f"(#2200) {failure}", whatsapp=True)
    Webhook.objects.update_or_create(
        scope=scope, owner=owner, defaults={"url": url, "secret": verify_token, "options": {}}
    )
    return None


def _waba(request, params, caller: Caller, waba_id: str):
    if caller.number is None or caller.number.waba_id != waba_id or request.method != "GET":
        return _unsupported(request.method, waba_id)
    data = {
        "id": waba_id,
        "name": caller.number.verified_name,
        "timezone_id": "1",
        "message_template_namespace": f"sbx_{waba_id[-6:]}",
        "currency": "USD",
    }
    return JsonResponse(_only(data, _fields(params), ["name", "timezone_id"]))


def media_download_url(media_id: str) -> str:
    signed = tokens.issue("whatsapp.media", mid=media_id)
    path = reverse("sandbox:whatsapp_media_download")
    ext = int(timezone.now().timestamp())
    return f"{settings.PUBLIC_BASE_URL}{path}?mid={media_id}&ext={ext}&hash={signed}"


def _media(request, caller: Caller, media_id: str):
    message = _whatsapp_media(media_id)
    if message is None or caller.number is None:
        return _unsupported(request.method, media_id)
    if message.conversation.endpoint != caller.number.phone_number_id:
        return _unsupported(request.method, media_id)
    return JsonResponse(
        {
            "messaging_product": "whatsapp",
            "url": media_download_url(media_id),
            "mime_type": media.PHOTO_MIME,
            "sha256": media.photo_sha256_hex(),
            "file_size": str(len(media.photo())),
            "id": media_id,
        }
    )


def _whatsapp_media(media_id: str) -> Message | None:
    return (
        Message.objects.filter(conversation__kind=WHATSAPP, media_ref=media_id)
        .select_related("conversation")
        .first()
    )


@require_GET
def whatsapp_media_download(request):
    """The lookaside URL ``GET /{media-id}`` hands out: bytes, for the same Bearer token
    that asked for the URL, for about five minutes."""
    claims = tokens.read("whatsapp.media", request.GET.get("hash", ""), max_age=MEDIA_URL_MAX_AGE)
    message = _whatsapp_media(request.GET.get("mid", ""))
    if claims is None or message is None or claims.get("mid") != message.media_ref:
        return graph_error(404, 100, "(#100) The media URL is invalid or has expired")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    caller = caller_for(token.strip()) if scheme.lower() == "bearer" else None
    if caller is None or caller.number is None:
        return _invalid_token()
    if caller.number.phone_number_id != message.conversation.endpoint:
        return _unsupported("GET", message.media_ref)
    return media.photo_response()


# --- edges ----------------------------------------------------------------------------


def _phone_numbers(request, params, caller: Caller, waba_id: str):
    if request.method != "GET" or caller.number is None or caller.number.waba_id != waba_id:
        return _unsupported(request.method, waba_id)
    fields = _fields(params)
    data = [number_json(number, fields) for number in _waba_numbers(waba_id)]
    return JsonResponse({"data": data, "paging": {"cursors": {"before": "QVFI", "after": "QVFI"}}})


def _subscription_owner(caller: Caller, node_id: str) -> tuple[str, str] | None:
    if caller.number is not None and caller.number.waba_id == node_id:
        return AppSubscription.Owner.WABA, node_id
    if caller.page is not None and node_id in (caller.page.page_id, "me"):
        return AppSubscription.Owner.PAGE, caller.page.page_id
    return None


def _subscribed_apps(request, params, caller: Caller, node_id: str):
    owner = _subscription_owner(caller, node_id)
    if owner is None:
        return _unsupported(request.method, node_id)
    owner_kind, owner_id = owner
    existing = AppSubscription.objects.filter(owner_kind=owner_kind, owner_id=owner_id)
    if request.method == "GET":
        return JsonResponse({"data": [_subscribed_app_json(s) for s in existing]})
    if request.method == "DELETE":
        existing.delete()
        if owner_kind == AppSubscription.Owner.WABA:
            Webhook.objects.filter(scope=Webhook.Scope.WHATSAPP_WABA, owner=owner_id).delete()
        return JsonResponse({"success": True})
    if request.method != "POST":
        return _unsupported(request.method, node_id)
    fields: list[str] = []
    if owner_kind == AppSubscription.Owner.PAGE:
        fields = _list_param(params, "subscribed_fields")
        if not fields:
            return _missing("subscribed_fields")
    else:
        # A WABA may name its own alternate callback URL while subscribing.
        failed = _set_override(params, Webhook.Scope.WHATSAPP_WABA, owner_id, required=False)
        if failed is not None:
            return failed
    AppSubscription.objects.update_or_create(
        owner_kind=owner_kind, owner_id=owner_id, defaults={"subscribed_fields": fields}
    )
    return JsonResponse({"success": True})


def _subscribed_app_json(subscription: AppSubscription) -> dict:
    if subscription.owner_kind == AppSubscription.Owner.WABA:
        return {"whatsapp_business_api_data": {"id": META_APP.app_id, "name": APP_NAME}}
    return {
        "category": "Business",
        "name": APP_NAME,
        "id": META_APP.app_id,
        "subscribed_fields": subscription.subscribed_fields,
    }


def _messages(request, params, caller: Caller, node_id: str):
    if request.method != "POST":
        return _unsupported(request.method, node_id)
    if caller.number is not None and caller.number.phone_number_id == node_id:
        return _whatsapp_send(params, caller.number)
    if caller.page is not None and node_id in (caller.page.page_id, "me"):
        # The sandbox's Pages linked to an Instagram account talk only on Instagram.
        if (account := linked_instagram_account(caller.page)) is not None:
            return _instagram_send(params, account)
        return _messenger_send(params, caller.page)
    return _unsupported(request.method, node_id)


def _message_templates(request, params, caller: Caller, waba_id: str):
    """The WABA's templates, a page at a time (``limit``, ``after``; ``paging.next``
    while more follow, as Graph pages every edge)."""
    if request.method != "GET" or caller.number is None or caller.number.waba_id != waba_id:
        return _unsupported(request.method, waba_id)

    def next_url(after: str) -> str:
        query = {"limit": params.get("limit") or whatsapp_templates.DEFAULT_PAGE_SIZE}
        if params.get("fields"):
            query["fields"] = params["fields"]
        query["after"] = after
        return f"{settings.PUBLIC_BASE_URL}{request.path}?{urlencode(query)}"

    try:
        page = whatsapp_templates.listing(
            waba_id,
            limit=params.get("limit"),
            after=params.get("after"),
            fields=_fields(params),
            next_url=next_url,
        )
    except whatsapp_templates.BadListing as bad:
        return graph_error(400, 100, str(bad))
    return JsonResponse(page)


EDGES = {
    "message_templates": _message_templates,
    "phone_numbers": _phone_numbers,
    "subscribed_apps": _subscribed_apps,
    "messages": _messages,
}


# --- WhatsApp send --------------------------------------------------------------------


def new_wamid() -> str:
    return "wamid." + secrets.token_urlsafe(36)


def _whatsapp_send(params: dict, number: WhatsAppNumber):
    if params.get("messaging_product") != "whatsapp":
        return _missing("messaging_product", whatsapp=True)
    if params.get("status") == "read":
        return _mark_read(params, number)
    to = params.get("to")
    recipient = params.get("recipient")
    if to is None and isinstance(recipient, str) and BSUID.fullmatch(recipient):
        # A customer known by their business-scoped user id only (a username): Meta
        # takes it in ``recipient``; ``to`` wins when both are given.
        wa_id, to, answer_key = recipient, recipient, "user_id"
    elif not isinstance(to, str | int) or not str(to).strip():
        return _missing("to", whatsapp=True)
    else:
        wa_id, answer_key = "".join(ch for ch in str(to) if ch.isdigit()), "wa_id"
    if answer_key == "wa_id" and not 7 <= len(wa_id) <= 15:
        return graph_error(
            400,
            131009,
            "(#131009) Parameter value is not valid",
            details=f"The recipient phone number {to} is not a valid phone number.",
        )
    message_type = params.get("type") or "text"
    if message_type not in WHATSAPP_TYPES:
        return graph_error(
            400,
            131009,
            "(#131009) Parameter value is not valid",
            details=f"Unsupported message type: {message_type}",
        )
    content = _object_param(params, message_type)
    if content is None:
        return _missing(message_type, whatsapp=True)
    if message_type == "text" and not str(content.get("body") or "").strip():
        return _missing("text['body']", whatsapp=True)

    conversation = Conversation.objects.filter(
        kind=WHATSAPP, endpoint=number.phone_number_id, customer_id=wa_id
    ).first()
    # Templates are the one kind of message allowed outside the customer service
    # window; anything else needs the customer to have written in the last 24 hours.
    if message_type != "template" and (conversation is None or not conversation.window_open()):
        return graph_error(
            400,
            131047,
            "(#131047) Re-engagement message",
            details=RE_ENGAGEMENT_DETAILS,
        )
    detail = {key: params[key] for key in (message_type, "context") if key in params}
    text = _whatsapp_text(message_type, content)
    if message_type == "template":
        checked = whatsapp_templates.send_template(number.waba_id, content)
        if isinstance(checked, whatsapp_templates.Refusal):
            return graph_error(400, checked.code, checked.message, details=checked.details)
        text, detail["rendered"] = checked.as_text(), checked.as_detail()
    if conversation is None:
        conversation = Conversation.objects.create(
            kind=WHATSAPP, endpoint=number.phone_number_id, customer_id=wa_id
        )
    wamid = new_wamid()
    Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.OUT,
        provider_message_id=wamid,
        content_type=message_type,
        text=text,
        detail=detail,
        status="accepted",
    )
    response = {
        "messaging_product": "whatsapp",
        "contacts": [{"input": str(to), answer_key: wa_id}],
        "messages": [{"id": wamid}],
    }
    if message_type == "template":
        response["messages"][0]["message_status"] = "accepted"
    return JsonResponse(response)


def _whatsapp_text(message_type: str, content: dict) -> str:
    if message_type == "text":
        return str(content.get("body", ""))
    if message_type == "template":
        return f"Template “{content.get('name', '')}”"
    if message_type == "interactive":
        body = content.get("body")
        return str(body.get("text", "")) if isinstance(body, dict) else ""
    return str(content.get("caption") or content.get("link") or content.get("id") or "")


def _mark_read(params: dict, number: WhatsAppNumber):
    message_id = params.get("message_id")
    if not isinstance(message_id, str) or not message_id:
        return _missing("message_id", whatsapp=True)
    updated = Message.objects.filter(
        conversation__kind=WHATSAPP,
        conversation__endpoint=number.phone_number_id,
        direction=Message.Direction.IN,
        provider_message_id=message_id,
    ).update(status="read")
    if not updated:
        return graph_error(
            400,
            100,
            "(#100) Invalid parameter",
            details=f"Message {message_id} was not found for this phone number.",
        )
    return JsonResponse({"success": True})


# --- Messenger send -------------------------------------------------------------------


def new_mid() -> str:
    return "m_" + secrets.token_urlsafe(40)


def _messenger_send(params: dict, page: MessengerPage):
    recipient = _object_param(params, "recipient")
    psid = str(recipient.get("id", "")) if recipient else ""
    if not psid:
        return _missing("recipient")
    conversation = Conversation.objects.filter(
        kind=MESSENGER, endpoint=page.page_id, customer_id=psid
    ).first()
    if conversation is None:
        return graph_error(400, 100, "(#100) No matching user found", subcode=2018001)
    if params.get("sender_action"):
        return JsonResponse({"recipient_id": psid})
    message = _object_param(params, "message")
    if not message or not (message.get("text") or message.get("attachment")):
        return graph_error(400, 100, "(#100) Must send either message or sender_action")
    messaging_type = params.get("messaging_type") or "RESPONSE"
    tag = params.get("tag") or ""
    if not _messenger_allowed(conversation, messaging_type, tag):
        return graph_error(
            400,
            10,
            "(#10) This message is sent outside of allowed window.",
            subcode=2018278,
        )
    mid = new_mid()
    attachment = message.get("attachment") if isinstance(message.get("attachment"), dict) else {}
    Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.OUT,
        provider_message_id=mid,
        content_type=str(attachment.get("type") or "text"),
        text=str(message.get("text") or ""),
        detail={"message": message, "messaging_type": messaging_type, "tag": tag},
        status="sent",
    )
    return JsonResponse({"recipient_id": psid, "message_id": mid})


def _messenger_allowed(conversation: Conversation, messaging_type: str, tag: str) -> bool:
    if conversation.window_open():
        return True
    if messaging_type != "MESSAGE_TAG" or tag not in MESSAGE_TAGS:
        return False
    if tag == "HUMAN_AGENT":
        # A person's reply may follow the customer's last message by up to 7 days.
        return conversation.window_open(length=HUMAN_AGENT_WINDOW)
    return True


# --- Instagram send (Messenger API support for Instagram) ------------------------------

# Instagram takes one tag only: HUMAN_AGENT, a person's reply up to 7 days after the
# customer's last message (docs/channels/instagram.md).
INSTAGRAM_TAGS = {"HUMAN_AGENT"}
INSTAGRAM_ATTACHMENTS = {"image", "video", "audio", "file"}


def _instagram_send(params: dict, account: InstagramAccount):
    recipient = _object_param(params, "recipient")
    igsid = str(recipient.get("id", "")) if recipient else ""
    if not igsid:
        return _missing("recipient")
    conversation = Conversation.objects.filter(
        kind=INSTAGRAM, endpoint=account.account_id, customer_id=igsid
    ).first()
    if conversation is None:
        return graph_error(400, 100, "(#100) No matching user found", subcode=2534014)
    if params.get("sender_action"):
        return JsonResponse({"recipient_id": igsid})
    message = _object_param(params, "message")
    attachment = message.get("attachment") if message else None
    if not message or not (message.get("text") or attachment):
        return graph_error(400, 100, "(#100) Must send either message or sender_action")
    if attachment is not None:
        if not isinstance(attachment, dict) or attachment.get("type") not in INSTAGRAM_ATTACHMENTS:
            return graph_error(
                400,
                100,
                "(#100) Param message[attachment][type] must be one of {image, video, audio, file}",
            )
        payload = attachment.get("payload")
        if not isinstance(payload, dict) or not str(payload.get("url") or "").strip():
            return _missing("message[attachment][payload][url]")
    messaging_type = params.get("messaging_type") or "RESPONSE"
    tag = params.get("tag") or ""
    if messaging_type == "MESSAGE_TAG" and tag not in INSTAGRAM_TAGS:
        return graph_error(
            400, 100, f"(#100) Param tag must be one of {{HUMAN_AGENT}} for Instagram, got {tag!r}"
        )
    if not _instagram_allowed(conversation, messaging_type, tag):
        return graph_error(
            400,
            10,
            "(#10) This message is sent outside of allowed window.",
            subcode=2534022,
        )
    mid = new_instagram_mid()
    Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.OUT,
        provider_message_id=mid,
        content_type=str(attachment.get("type")) if attachment else "text",
        text=str(message.get("text") or ""),
        detail={"message": message, "messaging_type": messaging_type, "tag": tag},
        status="sent",
    )
    return JsonResponse({"recipient_id": igsid, "message_id": mid})


def _instagram_allowed(conversation: Conversation, messaging_type: str, tag: str) -> bool:
    if conversation.window_open():
        return True
    # A person's reply (HUMAN_AGENT) may follow the customer's last message by 7 days.
    return (
        messaging_type == "MESSAGE_TAG"
        and tag == "HUMAN_AGENT"
        and conversation.window_open(length=HUMAN_AGENT_WINDOW)
    )


def new_instagram_mid() -> str:
    # Instagram's message ids are long base64 strings ("aWdfZAG1faXRlbTox…").
    return "aWdfZAG1faXRlbTox" + secrets.token_urlsafe(48)


@require_GET
def instagram_attachment(request, ref):
    """A customer's picture on lookaside.fbsbx.com/ig_messaging_cdn: an unguessable URL,
    no token needed."""
    found = Message.objects.filter(
        conversation__kind=INSTAGRAM, direction=Message.Direction.IN, media_ref=ref
    ).exists()
    if not found:
        return graph_error(404, 100, "(#100) The attachment does not exist or has expired")
    return media.photo_response()


@require_GET
def messenger_attachment(request, ref):
    """A customer's picture on Meta's CDN: a long unguessable URL, no token needed."""
    found = Message.objects.filter(
        conversation__kind=MESSENGER, direction=Message.Direction.IN, media_ref=ref
    ).exists()
    if not found:
        return graph_error(404, 100, "(#100) The attachment does not exist or has expired")
    return media.photo_response()
