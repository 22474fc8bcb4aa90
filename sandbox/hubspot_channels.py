"""A stand-in for HubSpot's Conversations custom channels API: the channel the app
registers with its developer API key, the channel accounts a portal connects to it, the
messages the app publishes into threads, and the status it reports on agents' replies.
State lives in the sandbox's own tables, one fake portal per Bearer token.

PROVIDERS.md §2.2 (custom channels), §2.5 (rate limits and errors). Every path answers
at its v3 form and at its dated 2026-03 form. What the spec marks required but the app
can do without (``timestamp``, ``senders``, ``recipients``, ``attachments``, a channel's
``capabilities``) the sandbox accepts missing; what it gets, it checks.
"""

import hmac
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from http import HTTPStatus
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from . import tokens
from .directory import (
    HUBSPOT_APP_ID,
    HUBSPOT_CHANNEL_ID,
    HUBSPOT_DEVELOPER_API_KEY,
    HubSpotInbox,
    HubSpotPortal,
    hubspot_inbox,
    hubspot_portal,
)
from .hubspot import ACCESS_TOKEN_LIFETIME
from .models import (
    HubSpotChannel,
    HubSpotChannelAccount,
    HubSpotFault,
    HubSpotMessage,
    HubSpotThread,
)
from .views import BadRequest, request_params, spend_fault

# Public apps: 110 requests every 10 seconds per installing account.
RATE_LIMIT = 110
RATE_INTERVAL_MS = 10_000
DELIVERY_IDENTIFIER_TYPES = (
    "HS_EMAIL_ADDRESS",
    "HS_PHONE_NUMBER",
    "HS_SHORT_CODE",
    "CHANNEL_SPECIFIC_OPAQUE_ID",
)
ATTACHMENT_TYPES = (
    "FILE",
    "LOCATION",
    "CONTACT",
    "UNSUPPORTED_CONTENT",
    "MESSAGE_HEADER",
    "QUICK_REPLIES",
    "SOCIAL_MEDIA_METADATA",
)
THREADING_MODELS = ("INTEGRATION_THREAD_ID", "DELIVERY_IDENTIFIER")
BOOLEAN_CAPABILITIES = ("allowInlineImages", "allowOutgoingMessages", "allowConversationStart")
COUNT_CAPABILITIES = (
    "maxFileAttachmentCount",
    "maxFileAttachmentSizeBytes",
    "maxTotalFileAttachmentSizeBytes",
    "maxTextLength",
)
# What the sandbox's own channel (directory.HUBSPOT_CHANNEL_ID) starts with.
DEFAULT_CAPABILITIES = {
    "threadingModel": "INTEGRATION_THREAD_ID",
    "deliveryIdentifierTypes": ["CHANNEL_SPECIFIC_OPAQUE_ID", "HS_PHONE_NUMBER"],
    "allowInlineImages": False,
    "allowOutgoingMessages": True,
    "outgoingAttachmentTypes": ["FILE"],
}
READ_SCOPES = ("conversations.custom_channels.read", "conversations.custom_channels.write")
WRITE_SCOPES = ("conversations.custom_channels.write",)
INBOX_SCOPES = ("conversations.read",)
MAX_NAME = 255
MAX_TEXT = 65_536
CAPABILITY_ERROR = "CustomChannelsError.INVALID_CHANNEL_CAPABILITY_VALUES"

Direction = HubSpotMessage.Direction
Status = HubSpotMessage.Status


class ApiError(Exception):
    """An answer HubSpot gives in its error shape."""

    def __init__(self, status: int, category: str, message: str, **extra):
        super().__init__(message)
        self.status, self.category, self.message, self.extra = status, category, message, extra


def error_response(status: int, category: str, message: str, **extra) -> JsonResponse:
    body = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
        **extra,
    }
    return JsonResponse(body, status=status)


def _invalid(message: str, *, field: str = "", sub_category: str = "") -> ApiError:
    extra: dict = {"errors": [{"message": message, **({"in": field} if field else {})}]}
    if sub_category:
        extra["subCategory"] = sub_category
    return ApiError(400, "VALIDATION_ERROR", message, **extra)


def _not_found(what: str) -> ApiError:
    return ApiError(404, "OBJECT_NOT_FOUND", f"{what} does not exist.")


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- who is calling ------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """The portal an OAuth token belongs to and the scopes it was granted; a developer
    API key call has no portal."""

    portal: HubSpotPortal | None = None
    scopes: tuple[str, ...] = ()

    @property
    def hub_id(self) -> int | None:
        return self.portal.hub_id if self.portal else None

    def need(self, *any_of: str) -> None:
        if not set(any_of) & set(self.scopes):
            raise ApiError(
                403,
                "MISSING_SCOPES",
                "This app hasn't been granted all required scopes to make this call.",
                errors=[
                    {
                        "message": "One or more of the following scopes are required.",
                        "context": {"requiredGranularScopes": list(any_of)},
                    }
                ],
            )


def _install_subject(hub_id: int) -> str:
    return f"hubspot-install:{hub_id}"


def install_revoked(hub_id: int, issued_at: float) -> bool:
    """Whether the app was uninstalled from the portal after this token was issued."""
    return tokens.is_revoked(_install_subject(hub_id), issued_at)


def _bearer(request) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def oauth_caller(request) -> Caller:
    token = _bearer(request)
    if not token:
        raise ApiError(
            401,
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
        )
    claims = tokens.read("hubspot.access", token)
    portal = hubspot_portal(claims.get("hub")) if claims else None
    if portal is None:
        raise ApiError(401, "INVALID_AUTHENTICATION", "The OAuth token used is not valid.")
    expired_for = tokens.now() - claims["iat"] - ACCESS_TOKEN_LIFETIME
    if expired_for > 0:
        minutes = max(int(expired_for // 60), 1)
        raise ApiError(
            401,
            "EXPIRED_AUTHENTICATION",
            f"The OAuth token used to make this call expired {minutes} minute(s) ago.",
        )
    if install_revoked(portal.hub_id, claims["iat"]):
        raise ApiError(
            401,
            "INVALID_AUTHENTICATION",
            "The OAuth token used to make this call was revoked: the app was uninstalled.",
        )
    return Caller(portal=portal, scopes=tuple(claims.get("scopes") or ()))


def developer_caller(request) -> Caller:
    # hapikey in the query is what the guide shows; newer clients send a header.
    given = request.GET.get("hapikey") or request.headers.get("X-HubSpot-Developer-API-Key", "")
    if not hmac.compare_digest(given.encode(), HUBSPOT_DEVELOPER_API_KEY.encode()):
        raise ApiError(
            401,
            "INVALID_AUTHENTICATION",
            "The API key provided is invalid. The sandbox's developer API key is on its "
            "index page.",
        )
    return Caller()


# --- the API's frame: auth, faults, rate-limit headers -------------------------------------


def _rate_headers(response, *, remaining: int) -> None:
    response["X-HubSpot-RateLimit-Interval-Milliseconds"] = str(RATE_INTERVAL_MS)
    response["X-HubSpot-RateLimit-Max"] = str(RATE_LIMIT)
    response["X-HubSpot-RateLimit-Remaining"] = str(remaining)


def take_fault(hub_id: int | None) -> int | None:
    """The status the next armed fault (of this portal, or of any) makes this call
    answer, or None."""
    scope = Q(portal__isnull=True) | Q(portal=hub_id) if hub_id else Q(portal__isnull=True)
    return spend_fault(HubSpotFault.objects.filter(scope))


FAULT_CATEGORIES = {
    400: "VALIDATION_ERROR",
    401: "INVALID_AUTHENTICATION",
    403: "MISSING_SCOPES",
    404: "OBJECT_NOT_FOUND",
    409: "CONFLICT",
}


def _fault_answer(status: int) -> JsonResponse:
    if status == 429:
        return JsonResponse(
            {
                "status": "error",
                "message": "You have reached your ten_secondly_rolling limit.",
                "errorType": "RATE_LIMIT",
                "correlationId": str(uuid.uuid4()),
                "policyName": "TEN_SECONDLY_ROLLING",
                "requestId": str(uuid.uuid4()),
            },
            status=429,
        )
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    category = "INTERNAL_ERROR" if status >= 500 else FAULT_CATEGORIES.get(status, "ERROR")
    return error_response(status, category, phrase)


def _api(authenticate: Callable[..., Caller], methods: tuple[str, ...]):
    def decorate(view: Callable):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            remaining = RATE_LIMIT - 1
            try:
                caller = authenticate(request)
                if request.method not in methods:
                    allowed = " or ".join(methods)
                    raise ApiError(
                        405,
                        "METHOD_NOT_ALLOWED",
                        f"{request.method} is not supported here; use {allowed}.",
                    )
                if (status := take_fault(caller.hub_id)) is not None:
                    response = _fault_answer(status)
                    remaining = 0 if status == 429 else remaining
                else:
                    response = view(request, caller, *args, **kwargs)
            except ApiError as error:
                response = error_response(
                    error.status, error.category, error.message, **error.extra
                )
            _rate_headers(response, remaining=remaining)
            return response

        return wrapper

    return decorate


def oauth_api(*methods: str):
    """A portal's endpoint: a live Bearer access token picks the portal (401 otherwise)."""
    return _api(oauth_caller, methods)


def developer_api(*methods: str):
    """An app developer's endpoint: the developer API key (401 otherwise)."""
    return _api(developer_caller, methods)


def _body(request) -> dict:
    try:
        return request_params(request, unreadable_json="The request body is not a JSON object.")
    except BadRequest as error:
        raise _invalid(str(error)) from None


def _string(body: dict, name: str, *, required: bool = False, limit: int = MAX_NAME) -> str:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise _invalid(f"{name} is required.", field=name)
        return ""
    if not isinstance(value, str):
        raise _invalid(f"{name} must be a string.", field=name)
    if len(value) > limit:
        raise _invalid(f"{name} is longer than {limit:,} characters.", field=name)
    return value


def _id_value(body: dict, name: str) -> str:
    """An id the client may send as a number or a string, as HubSpot takes both."""
    value = body.get(name)
    if isinstance(value, bool) or value in (None, ""):
        raise _invalid(f"{name} is required.", field=name)
    if not isinstance(value, str | int):
        raise _invalid(f"{name} must be a string.", field=name)
    return str(value)


def _boolean(body: dict, name: str, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise _invalid(f"{name} must be true or false.", field=name)
    return value


def _url(body: dict, name: str) -> str:
    value = _string(body, name, limit=2048)
    parts = urlsplit(value)
    if value and (parts.scheme not in ("http", "https") or not parts.netloc):
        raise _invalid(f"{name} must be an absolute http:// or https:// URL.", field=name)
    return value


def delivery_identifier(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise _invalid(f"{where} must be an object with type and value.", field=where)
    kind, text = value.get("type"), value.get("value")
    if kind not in DELIVERY_IDENTIFIER_TYPES:
        allowed = ", ".join(DELIVERY_IDENTIFIER_TYPES)
        raise _invalid(f"{where}.type must be one of {allowed}.", field=f"{where}.type")
    if not isinstance(text, str) or not text.strip():
        raise _invalid(f"{where}.value is required.", field=f"{where}.value")
    return {"type": kind, "value": text}


# --- channels (developer API key) ---------------------------------------------------------


def channel_json(channel: HubSpotChannel) -> dict:
    return {
        "id": str(channel.pk),
        "name": channel.name,
        "capabilities": channel.capabilities,
        "webhookUrl": channel.webhook_url or None,
        "channelAccountConnectionRedirectUrl": channel.connection_redirect_url or None,
        "channelDescription": channel.description or None,
        "channelLogoUrl": channel.logo_url or None,
        "createdAt": iso(channel.created_at),
    }


def sandbox_channel() -> HubSpotChannel:
    """The channel the sandbox starts with, made on first use."""
    channel, _ = HubSpotChannel.objects.get_or_create(
        pk=HUBSPOT_CHANNEL_ID,
        defaults={
            "app_id": HUBSPOT_APP_ID,
            "name": "Octopods",
            "capabilities": DEFAULT_CAPABILITIES,
            "description": "Customer messages from WhatsApp, SMS, Telegram and Messenger.",
        },
    )
    return channel


def find_channel(channel_id) -> HubSpotChannel:
    text = str(channel_id)
    if not text.isdigit():
        raise _not_found(f"Channel {text}")
    if int(text) == HUBSPOT_CHANNEL_ID:
        sandbox_channel()
    channel = HubSpotChannel.objects.filter(pk=int(text), archived=False).first()
    if channel is None:
        raise _not_found(f"Channel {text}")
    return channel


def _capabilities(value) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _invalid("capabilities must be an object.", field="capabilities")

    def refuse(message: str):
        return _invalid(message, field="capabilities", sub_category=CAPABILITY_ERROR)

    model = value.get("threadingModel")
    if model is not None and model not in THREADING_MODELS:
        raise refuse(f"threadingModel must be one of {', '.join(THREADING_MODELS)}.")
    kinds = value.get("deliveryIdentifierTypes")
    if kinds is not None and (
        not isinstance(kinds, list) or any(k not in DELIVERY_IDENTIFIER_TYPES for k in kinds)
    ):
        raise refuse(
            f"deliveryIdentifierTypes must be a list of {', '.join(DELIVERY_IDENTIFIER_TYPES)}."
        )
    for name in BOOLEAN_CAPABILITIES:
        if name in value and not isinstance(value[name], bool):
            raise refuse(f"{name} must be true or false.")
    for name in COUNT_CAPABILITIES:
        if name in value and (
            isinstance(value[name], bool) or not isinstance(value[name], int) or value[name] < 0
        ):
            raise refuse(f"{name} must be a whole number of at least 0.")
    rich = value.get("richText")
    if rich is not None and not isinstance(rich, bool | list):
        raise refuse("richText must be true, false or a list of rich text elements.")
    return value


CHANNEL_FIELDS: dict[str, Callable[[dict], object]] = {
    "name": lambda body: _string(body, "name", required=True),
    "capabilities": lambda body: _capabilities(body.get("capabilities")),
    "webhook_url": lambda body: _url(body, "webhookUrl"),
    "connection_redirect_url": lambda body: _url(body, "channelAccountConnectionRedirectUrl"),
    "description": lambda body: _string(body, "channelDescription", limit=2000),
    "logo_url": lambda body: _url(body, "channelLogoUrl"),
}
CHANNEL_KEYS = {
    "name": "name",
    "capabilities": "capabilities",
    "webhook_url": "webhookUrl",
    "connection_redirect_url": "channelAccountConnectionRedirectUrl",
    "description": "channelDescription",
    "logo_url": "channelLogoUrl",
}


def _app_id(request) -> int:
    given = request.GET.get("appId", "")
    if given and given != str(HUBSPOT_APP_ID):
        raise _invalid(
            f"appId {given} is not an app of this developer account; the sandbox's app is "
            f"{HUBSPOT_APP_ID}.",
            field="appId",
        )
    return HUBSPOT_APP_ID


@developer_api("GET", "POST")
def channels(request, caller):
    if request.method == "GET":
        sandbox_channel()
        listed = HubSpotChannel.objects.filter(archived=False)
        return JsonResponse({"total": listed.count(), "results": [channel_json(c) for c in listed]})
    app_id = _app_id(request)
    body = _body(request)
    fields = {name: read(body) for name, read in CHANNEL_FIELDS.items()}
    channel = HubSpotChannel.objects.create(app_id=app_id, **fields)
    return JsonResponse(channel_json(channel), status=201)


@developer_api("GET", "PATCH", "DELETE")
def channel(request, caller, channel_id):
    found = find_channel(channel_id)
    if request.method == "DELETE":
        found.archived = True
        found.updated_at = timezone.now()
        found.save(update_fields=["archived", "updated_at"])
        return HttpResponse(status=204)
    if request.method == "PATCH":
        body = _body(request)
        # Only what the PATCH names changes.
        for name, key in CHANNEL_KEYS.items():
            if key in body:
                setattr(found, name, CHANNEL_FIELDS[name](body))
        found.updated_at = timezone.now()
        found.save()
    return JsonResponse(channel_json(found))


# --- inboxes and uninstall (OAuth) ----------------------------------------------------------


# The fake portals' inboxes have always been there.
INBOXES_CREATED_AT = "2024-01-02T09:00:00.000Z"


def inbox_json(inbox: HubSpotInbox) -> dict:
    return {
        "id": inbox.id,
        "name": inbox.name,
        "type": inbox.type,
        "createdAt": INBOXES_CREATED_AT,
        "updatedAt": INBOXES_CREATED_AT,
        "archived": False,
    }


@oauth_api("GET")
def inboxes(request, caller):
    caller.need(*INBOX_SCOPES)
    results = [inbox_json(inbox) for inbox in caller.portal.inboxes]
    return JsonResponse({"total": len(results), "results": results})


@oauth_api("DELETE")
def external_install(request, caller):
    """Uninstall the app from the token's portal: every token issued for it so far stops
    working here."""
    tokens.revoke(_install_subject(caller.portal.hub_id))
    return HttpResponse(status=204)


# --- channel accounts (OAuth) ---------------------------------------------------------------


def account_json(account: HubSpotChannelAccount) -> dict:
    data = {
        "id": str(account.pk),
        "channelId": str(account.channel_id),
        "inboxId": account.inbox_id,
        "name": account.name,
        "authorized": account.authorized,
        "active": account.authorized and not account.archived,
        "archived": account.archived,
        "createdAt": iso(account.created_at),
    }
    if account.delivery_identifier:
        data["deliveryIdentifier"] = account.delivery_identifier
    return data


def portal_accounts(caller: Caller, channel: HubSpotChannel):
    return HubSpotChannelAccount.objects.filter(
        channel=channel, portal=caller.portal.hub_id, archived=False
    )


def _account(caller: Caller, channel: HubSpotChannel, account_id) -> HubSpotChannelAccount:
    text = str(account_id)
    account = (
        portal_accounts(caller, channel).filter(pk=int(text)).first() if text.isdigit() else None
    )
    if account is None:
        raise _not_found(f"Channel account {text}")
    return account


@oauth_api("GET", "POST")
def channel_accounts(request, caller, channel_id):
    caller.need(*READ_SCOPES)
    found = find_channel(channel_id)
    if request.method == "GET":
        listed = portal_accounts(caller, found)
        return JsonResponse({"total": listed.count(), "results": [account_json(a) for a in listed]})
    body = _body(request)
    name = _string(body, "name", required=True)
    inbox_id = _id_value(body, "inboxId")
    if hubspot_inbox(caller.portal, inbox_id) is None:
        known = ", ".join(i.id for i in caller.portal.inboxes)
        raise _invalid(
            f"inboxId {inbox_id} is not an inbox of this account (its inboxes: {known}).",
            field="inboxId",
        )
    identifier = body.get("deliveryIdentifier")
    account = HubSpotChannelAccount.objects.create(
        channel=found,
        portal=caller.portal.hub_id,
        inbox_id=inbox_id,
        name=name,
        authorized=_boolean(body, "authorized", True),
        delivery_identifier=(
            delivery_identifier(identifier, "deliveryIdentifier") if identifier else {}
        ),
    )
    return JsonResponse(account_json(account), status=201)


@oauth_api("GET", "PATCH")
def channel_account(request, caller, channel_id, account_id):
    caller.need(*READ_SCOPES)
    account = _account(caller, find_channel(channel_id), account_id)
    if request.method == "PATCH":
        body = _body(request)
        if "name" in body:
            account.name = _string(body, "name", required=True)
        if "authorized" in body:
            account.authorized = _boolean(body, "authorized", account.authorized)
        account.updated_at = timezone.now()
        account.save()
    return JsonResponse(account_json(account))


# --- messages (OAuth) -----------------------------------------------------------------------


def message_json(message: HubSpotMessage) -> dict:
    account = message.account
    channel_id = account.channel_id
    if message.client == HubSpotMessage.Client.INTEGRATION:
        client = {"clientType": message.client, "integrationAppId": HUBSPOT_APP_ID}
        created_by = f"I-{HUBSPOT_APP_ID}"
    else:
        client = {"clientType": message.client}
        created_by = next((s.get("actorId") for s in message.senders if s.get("actorId")), "")
    data = {
        "type": "MESSAGE",
        "id": message.message_id,
        "conversationsThreadId": str(message.thread_id),
        "channelId": str(channel_id),
        "channelAccountId": str(account.pk),
        "createdAt": iso(message.created_at),
        "updatedAt": iso(message.updated_at),
        "createdBy": created_by,
        "client": client,
        "senders": message.senders,
        "recipients": message.recipients,
        "archived": False,
        "text": message.text,
        "richText": message.rich_text,
        "attachments": message.attachments,
        "truncationStatus": "NOT_TRUNCATED",
        "direction": message.direction,
    }
    if message.status:
        status: dict = {"statusType": message.status}
        if message.status == Status.FAILED:
            status["failureDetails"] = {
                "errorMessage": message.error_message,
                "errorMessageTokens": {},
            }
        data["status"] = status
    return data


def _participants(body: dict, name: str) -> list:
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _invalid(f"{name} must be a list.", field=name)
    people = []
    for index, person in enumerate(value):
        where = f"{name}[{index}]"
        if not isinstance(person, dict):
            raise _invalid(f"{where} must be an object.", field=where)
        if person.get("name") is not None and not isinstance(person["name"], str):
            raise _invalid(f"{where}.name must be a string.", field=f"{where}.name")
        checked = {k: v for k, v in person.items() if k != "deliveryIdentifier"}
        if "deliveryIdentifier" in person:
            identifier = person["deliveryIdentifier"]
            checked["deliveryIdentifier"] = delivery_identifier(
                identifier, f"{where}.deliveryIdentifier"
            )
        people.append(checked)
    return people


def _attachment(item, where: str) -> dict:
    if not isinstance(item, dict) or item.get("type") not in ATTACHMENT_TYPES:
        raise _invalid(
            f"{where}.type must be one of {', '.join(ATTACHMENT_TYPES)}.", field=f"{where}.type"
        )
    if item["type"] == "FILE" and not isinstance(item.get("fileId"), str | int):
        raise _invalid(f"{where}.fileId is required for a FILE.", field=f"{where}.fileId")
    if item["type"] == "LOCATION":
        for axis in ("latitude", "longitude"):
            if isinstance(item.get(axis), bool) or not isinstance(item.get(axis), int | float):
                raise _invalid(f"{where}.{axis} must be a number.", field=f"{where}.{axis}")
    return item


def _attachments(body: dict) -> list:
    value = body.get("attachments")
    if value is None:
        return []
    if not isinstance(value, list):
        raise _invalid("attachments must be a list.", field="attachments")
    return [_attachment(item, f"attachments[{i}]") for i, item in enumerate(value)]


def _timestamp(body: dict) -> datetime:
    value = body.get("timestamp")
    if value is None or value == "":
        return timezone.now()
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value / 1000, UTC)  # epoch milliseconds
        if isinstance(value, str):
            moment = datetime.fromisoformat(value)
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise _invalid(
        "timestamp must be an ISO 8601 date-time such as 2026-05-01T10:00:00Z.", field="timestamp"
    )


@dataclass(frozen=True)
class _Egg:
    """A message to publish, checked."""

    direction: str
    account: HubSpotChannelAccount
    thread_id: str
    idempotency_id: str
    text: str
    rich_text: str
    senders: list
    recipients: list
    attachments: list
    sent_at: datetime


def _egg(caller: Caller, found: HubSpotChannel, body: dict) -> _Egg:
    direction = body.get("messageDirection")
    if direction not in Direction.values:
        raise _invalid("messageDirection must be INCOMING or OUTGOING.", field="messageDirection")
    account_id = _id_value(body, "channelAccountId")
    account = (
        portal_accounts(caller, found).filter(pk=int(account_id)).first()
        if account_id.isdigit()
        else None
    )
    if account is None:
        raise _invalid(
            f"channelAccountId {account_id} is not a channel account of channel {found.pk} "
            "in this account.",
            field="channelAccountId",
        )
    if not account.authorized:
        raise _invalid(
            f"Channel account {account.pk} is not authorized (authorized is false), so it "
            "takes no messages.",
            field="channelAccountId",
        )
    egg = _Egg(
        direction=direction,
        account=account,
        thread_id=_string(body, "integrationThreadId", required=True),
        idempotency_id=_string(body, "integrationIdempotencyId"),
        text=_string(body, "text", limit=MAX_TEXT),
        rich_text=_string(body, "richText", limit=MAX_TEXT),
        senders=_participants(body, "senders"),
        recipients=_participants(body, "recipients"),
        attachments=_attachments(body),
        sent_at=_timestamp(body),
    )
    if not (egg.text.strip() or egg.rich_text.strip() or egg.attachments):
        raise _invalid("A message needs text, richText or an attachment.", field="text")
    return egg


def _thread(egg: _Egg) -> HubSpotThread:
    scope = HubSpotThread.objects.filter(account=egg.account)
    thread = scope.filter(integration_thread_id=egg.thread_id).first()
    if thread is None:
        try:
            with transaction.atomic():
                thread = HubSpotThread.objects.create(
                    account=egg.account, integration_thread_id=egg.thread_id
                )
        except IntegrityError:
            # Another publish opened the same thread at once: theirs is the thread.
            thread = scope.get(integration_thread_id=egg.thread_id)
    return thread


def _first_with(egg: _Egg) -> HubSpotMessage | None:
    if not egg.idempotency_id:
        return None
    return HubSpotMessage.objects.filter(
        account=egg.account, idempotency_id=egg.idempotency_id
    ).first()


def publish(caller: Caller, found: HubSpotChannel, body: dict) -> HubSpotMessage:
    egg = _egg(caller, found, body)
    if (first := _first_with(egg)) is not None:
        return first
    thread = _thread(egg)
    now = timezone.now()
    incoming = egg.direction == Direction.INCOMING
    try:
        with transaction.atomic():
            message = HubSpotMessage.objects.create(
                thread=thread,
                account=egg.account,
                direction=egg.direction,
                client=HubSpotMessage.Client.INTEGRATION,
                idempotency_id=egg.idempotency_id,
                text=egg.text,
                rich_text=egg.rich_text,
                senders=egg.senders,
                recipients=egg.recipients,
                attachments=egg.attachments,
                sent_at=egg.sent_at,
                status=Status.RECEIVED if incoming else Status.SENT,
                created_at=now,
                updated_at=now,
            )
    except IntegrityError:
        # The same integrationIdempotencyId arrived twice at once: the first one stands.
        return _first_with(egg)
    thread.updated_at = now
    # The customer is the sender of what they write, and the recipient of what the app
    # sends on the business's behalf (a thread may start with either).
    customers = egg.senders if incoming else egg.recipients
    if customers and (incoming or not thread.customer_identifier):
        customer = customers[0]
        thread.customer_name = customer.get("name") or thread.customer_name
        thread.customer_identifier = customer.get("deliveryIdentifier") or (
            thread.customer_identifier
        )
    thread.save()
    return message


@oauth_api("POST")
def messages(request, caller, channel_id):
    caller.need(*WRITE_SCOPES)
    found = find_channel(channel_id)
    published = publish(caller, found, _body(request))
    return JsonResponse(message_json(published), status=201)


UPDATABLE = (Status.SENT, Status.FAILED, Status.READ)


@oauth_api("GET", "PATCH")
def message(request, caller, channel_id, message_id):
    caller.need(*(READ_SCOPES if request.method == "GET" else WRITE_SCOPES))
    found = find_channel(channel_id)
    target = (
        HubSpotMessage.objects.filter(
            message_id=str(message_id), account__channel=found, account__portal=caller.hub_id
        )
        .select_related("account")
        .first()
    )
    if target is None:
        raise _not_found(f"Message {message_id}")
    if request.method == "PATCH":
        body = _body(request)
        status = body.get("statusType")
        if status not in UPDATABLE:
            raise _invalid("statusType must be SENT, FAILED or READ.", field="statusType")
        if status != Status.READ and target.direction == Direction.INCOMING:
            raise _invalid(
                f"Message {target.message_id} is INCOMING: only an outgoing message is sent "
                "or fails.",
                field="statusType",
            )
        error = _string(body, "errorMessage", limit=MAX_TEXT)
        target.status = status
        target.error_message = error if status == Status.FAILED else ""
        target.updated_at = timezone.now()
        target.save(update_fields=["status", "error_message", "updated_at"])
    return JsonResponse(message_json(target))


# --- faults: a sandbox-only control, not part of HubSpot's API -------------------------------


@csrf_exempt
def faults(request):
    """Arm failures: ``POST {status, count, portal?}`` makes the next ``count`` API calls
    (of that portal's hub id, or any) answer ``status``; GET lists what is armed; DELETE
    disarms everything."""
    if request.method == "DELETE":
        HubSpotFault.objects.all().delete()
    elif request.method == "POST":
        try:
            params = request_params(request, unreadable_json="The body is not a JSON object.")
            status, count = int(params.get("status", "")), int(params.get("count", 1))
            portal = int(params["portal"]) if params.get("portal") not in (None, "") else None
        except (BadRequest, TypeError, ValueError):
            return _fault_problem(
                "Send status (400 to 599), count (1 to 1000) and portal (a hub id) as numbers."
            )
        if not 400 <= status <= 599 or not 1 <= count <= 1000:
            return _fault_problem("status must be 400 to 599 and count 1 to 1000.")
        if portal is not None and hubspot_portal(portal) is None:
            return _fault_problem(f"No fake HubSpot account has the hub id {portal}.")
        HubSpotFault.objects.create(status=status, remaining=count, portal=portal)
    elif request.method != "GET":
        return _fault_problem("Use GET, POST or DELETE.", status=405)
    armed = HubSpotFault.objects.filter(remaining__gt=0)
    return JsonResponse(
        {
            "faults": [
                {"status": f.status, "remaining": f.remaining, "portal": f.portal} for f in armed
            ]
        }
    )


def _fault_problem(message: str, *, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)
