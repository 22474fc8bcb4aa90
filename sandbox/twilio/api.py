"""A stand-in for Twilio's REST API (2010-04-01) as Programmable Messaging uses it
(PROVIDERS.md §4): incoming phone numbers, sending messages, and the media URLs of
what customers send. HTTP Basic ``AccountSid:AuthToken``; form-encoded requests;
snake_case JSON answers; errors as ``{code, message, more_info, status}``.
"""

import base64
import binascii
import hmac
import math
import re
import secrets
from datetime import UTC, datetime
from email.utils import format_datetime

from django.conf import settings
from django.http import JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from .. import media
from ..models import Conversation, Message, Webhook
from .directory import TwilioAccount, TwilioNumber, twilio_account

KIND = "twilio"

API_VERSION = "2010-04-01"
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
MAX_BODY = 1600
MAX_MEDIA = 10
# The numbers' (fake) purchase date, for date_created.
NUMBERS_CREATED = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)


def twilio_error(status: int, code: int, message: str) -> JsonResponse:
    return JsonResponse(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status=status,
    )


def _unauthenticated() -> JsonResponse:
    response = twilio_error(401, 20003, "Authenticate")
    response["WWW-Authenticate"] = 'Basic realm="Twilio API"'
    return response


def _not_found(path: str) -> JsonResponse:
    return twilio_error(404, 20404, f"The requested resource {path} was not found")


def _basic(request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(encoded.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def _account(request, account_sid: str) -> TwilioAccount | None:
    """The account, if the Basic credentials are its SID and Auth Token and it is the
    account the URL names."""
    credentials = _basic(request)
    if credentials is None:
        return None
    user, password = credentials
    account = twilio_account(user)
    if account is None or user != account_sid:
        return None
    if not hmac.compare_digest(password.encode(), account.auth_token.encode()):
        return None
    return account


def rfc2822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC))


def _base(account: TwilioAccount) -> str:
    return f"/{API_VERSION}/Accounts/{account.account_sid}"


# --- incoming phone numbers -----------------------------------------------------------


def _number_webhook(number: TwilioNumber) -> Webhook | None:
    return Webhook.objects.filter(scope=Webhook.Scope.TWILIO_NUMBER, owner=number.sid).first()


def number_json(account: TwilioAccount, number: TwilioNumber) -> dict:
    webhook = _number_webhook(number)
    updated = webhook.updated_at if webhook else NUMBERS_CREATED
    return {
        "account_sid": account.account_sid,
        "address_requirements": "none",
        "api_version": API_VERSION,
        "beta": False,
        "capabilities": {"fax": False, "mms": True, "sms": True, "voice": True},
        "date_created": rfc2822(NUMBERS_CREATED),
        "date_updated": rfc2822(updated),
        "friendly_name": number.friendly_name,
        "origin": "twilio",
        "phone_number": number.phone_number,
        "sid": number.sid,
        "sms_application_sid": "",
        "sms_fallback_method": "POST",
        "sms_fallback_url": "",
        "sms_method": webhook.options.get("method", "POST") if webhook else "POST",
        "sms_url": webhook.url if webhook else "",
        "status": "in-use",
        "status_callback": "",
        "status_callback_method": "POST",
        "uri": f"{_base(account)}/IncomingPhoneNumbers/{number.sid}.json",
        "voice_method": "POST",
        "voice_url": None,
    }


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


@csrf_exempt
@require_GET
def incoming_phone_numbers(request, account_sid):
    account = _account(request, account_sid)
    if account is None:
        return _unauthenticated()
    # A "+" left unencoded in the query arrives as a space; match on the digits.
    wanted = _digits(request.GET.get("PhoneNumber", ""))
    friendly = request.GET.get("FriendlyName", "")
    numbers = [
        n
        for n in account.numbers
        if (not wanted or wanted in _digits(n.phone_number))
        and (not friendly or friendly == n.friendly_name)
    ]
    uri = f"{_base(account)}/IncomingPhoneNumbers.json"
    page_size = 50
    return JsonResponse(
        {
            "end": max(len(numbers) - 1, 0),
            "first_page_uri": f"{uri}?PageSize={page_size}&Page=0",
            "incoming_phone_numbers": [number_json(account, n) for n in numbers],
            "next_page_uri": None,
            "page": 0,
            "page_size": page_size,
            "previous_page_uri": None,
            "start": 0,
            "uri": f"{uri}?PageSize={page_size}&Page=0",
        }
    )


def _valid_url(value: str) -> bool:
    return bool(re.match(r"https?://[^/\s]+", value))


@csrf_exempt
@require_http_methods(["GET", "POST"])
def incoming_phone_number(request, account_sid, sid):
    account = _account(request, account_sid)
    if account is None:
        return _unauthenticated()
    number = next((n for n in account.numbers if n.sid == sid), None)
    if number is None:
        return _not_found(f"{_base(account)}/IncomingPhoneNumbers/{sid}.json")
    if request.method == "POST":
        failure = _update_number(number, request.POST)
        if failure is not None:
            return failure
    return JsonResponse(number_json(account, number))


def _update_number(number: TwilioNumber, form):
    webhook = _number_webhook(number)
    url = form.get("SmsUrl", webhook.url if webhook else "")
    method = form.get("SmsMethod", webhook.options.get("method", "POST") if webhook else "POST")
    method = method.upper()
    if method not in ("GET", "POST"):
        return twilio_error(400, 21601, f"SmsMethod is not valid: {method}")
    if not url:
        Webhook.objects.filter(scope=Webhook.Scope.TWILIO_NUMBER, owner=number.sid).delete()
        return None
    if not _valid_url(url):
        return twilio_error(400, 21502, f"SmsUrl is not a valid URL: {url}")
    Webhook.objects.update_or_create(
        scope=Webhook.Scope.TWILIO_NUMBER,
        owner=number.sid,
        defaults={"url": url, "options": {"method": method}, "last_error": ""},
    )
    return None


# --- messages -------------------------------------------------------------------------


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def message_json(account: TwilioAccount, number: TwilioNumber, message: Message) -> dict:
    outbound = message.direction == Message.Direction.OUT
    customer = message.conversation.customer_id
    media_urls = message.detail.get("media_urls", [])
    sid = message.provider_message_id
    return {
        "account_sid": account.account_sid,
        "api_version": API_VERSION,
        "body": message.text,
        "date_created": rfc2822(message.created_at),
        "date_sent": rfc2822(message.created_at) if message.status != "queued" else None,
        "date_updated": rfc2822(message.created_at),
        "direction": "outbound-api" if outbound else "inbound",
        "error_code": None,
        "error_message": None,
        "from": number.phone_number if outbound else customer,
        "messaging_service_sid": message.detail.get("messaging_service_sid"),
        "num_media": str(len(media_urls) if outbound else int(bool(message.media_ref))),
        "num_segments": str(max(1, math.ceil(len(message.text) / 160))),
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": message.status,
        "subresource_uris": {"media": f"{_base(account)}/Messages/{sid}/Media.json"},
        "to": customer if outbound else number.phone_number,
        "uri": f"{_base(account)}/Messages/{sid}.json",
    }


def _sender(account: TwilioAccount, form, to: str):
    """The number a send goes out from: ``From``, or for a Messaging Service the
    account's number this customer already talks to (else its first number)."""
    sender = form.get("From", "").strip()
    service = form.get("MessagingServiceSid", "").strip()
    if sender:
        number = next((n for n in account.numbers if n.phone_number == sender), None)
        if number is None:
            return None, twilio_error(
                400,
                21606,
                f"The From phone number {sender} is not a valid, SMS-capable inbound phone "
                "number or short code for your account.",
            )
        return number, None
    if not service:
        return None, twilio_error(400, 21603, "A 'From' phone number is required.")
    if not re.fullmatch(r"MG[0-9a-fA-F]{32}", service):
        return None, twilio_error(400, 21705, f"The Messaging Service Sid {service} is invalid.")
    talking = Conversation.objects.filter(
        kind=KIND, endpoint__in=[n.sid for n in account.numbers], customer_id=to
    ).first()
    number = next((n for n in account.numbers if talking and n.sid == talking.endpoint), None)
    return number or account.numbers[0], None


@csrf_exempt
@require_http_methods(["POST"])
def messages(request, account_sid):
    account = _account(request, account_sid)
    if account is None:
        return _unauthenticated()
    form = request.POST
    to = form.get("To", "").strip()
    if not to:
        return twilio_error(400, 21604, "A 'To' phone number is required.")
    if not E164.fullmatch(to):
        return twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    number, failure = _sender(account, form, to)
    if failure is not None:
        return failure
    body = form.get("Body", "")
    media_urls = form.getlist("MediaUrl")
    if not body and not media_urls:
        return twilio_error(400, 21602, "Message body is required.")
    if len(body) > MAX_BODY:
        return twilio_error(
            400, 21617, "The concatenated message body exceeds the 1600 character limit."
        )
    if len(media_urls) > MAX_MEDIA or not all(_valid_url(u) for u in media_urls):
        return twilio_error(400, 21620, "Invalid media URL(s).")
    status_callback = form.get("StatusCallback", "").strip()
    if status_callback and not _valid_url(status_callback):
        return twilio_error(400, 21609, f"Invalid StatusCallback url: {status_callback}")

    conversation, _ = Conversation.objects.get_or_create(
        kind=KIND, endpoint=number.sid, customer_id=to
    )
    service = form.get("MessagingServiceSid", "").strip()
    message = Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.OUT,
        provider_message_id=new_sid("MM" if media_urls else "SM"),
        content_type="mms" if media_urls else "sms",
        text=body,
        detail={"media_urls": media_urls, "messaging_service_sid": service or None},
        # A Messaging Service first accepts the message, then picks the sender.
        status="accepted" if service else "queued",
        status_callback=status_callback,
    )
    return JsonResponse(message_json(account, number, message), status=201)


def _account_message(account: TwilioAccount, sid: str) -> Message | None:
    return (
        Message.objects.filter(
            conversation__kind=KIND,
            conversation__endpoint__in=[n.sid for n in account.numbers],
            provider_message_id=sid,
        )
        .select_related("conversation")
        .first()
    )


@require_GET
def message(request, account_sid, sid):
    account = _account(request, account_sid)
    if account is None:
        return _unauthenticated()
    found = _account_message(account, sid)
    if found is None:
        return _not_found(f"{_base(account)}/Messages/{sid}.json")
    number = next(n for n in account.numbers if n.sid == found.conversation.endpoint)
    return JsonResponse(message_json(account, number, found))


def media_url(account: TwilioAccount, message: Message) -> str:
    path = reverse(
        "sandbox:twilio_media",
        kwargs={
            "account_sid": account.account_sid,
            "message_sid": message.provider_message_id,
            "media_sid": message.media_ref,
        },
    )
    return settings.PUBLIC_BASE_URL + path


@require_GET
def message_media(request, account_sid, message_sid, media_sid):
    """A customer's MMS picture. Twilio serves media without authentication unless the
    account enforces it; credentials that are sent must be right."""
    account = twilio_account(account_sid)
    if account is None:
        return _not_found(request.path)
    if "Authorization" in request.headers and _account(request, account_sid) is None:
        return _unauthenticated()
    found = _account_message(account, message_sid)
    if found is None or not found.media_ref or found.media_ref != media_sid:
        return _not_found(request.path)
    return media.photo_response()
