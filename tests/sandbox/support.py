"""What the channel-provider sandbox tests share: the fake credentials, requests made the
way the product's clients make them, and captured webhooks turned into the product's
``WebhookRequest`` so the product's own verifiers and parsers judge them."""

import base64
import json
from urllib.parse import parse_qs, urlsplit

import responses
from django.conf import settings

from integrations import meta
from integrations.channel import WebhookRejected, WebhookRequest
from sandbox.meta.directory import MESSENGER_PAGES, META_APP, WHATSAPP_NUMBERS
from sandbox.telegram.directory import TELEGRAM_BOTS
from sandbox.twilio.directory import TWILIO_ACCOUNTS

BASE = settings.PUBLIC_BASE_URL
GRAPH = "/sandbox/graph/v25.0"
TELEGRAM = "/sandbox/telegram"
BOT = TELEGRAM_BOTS[0]
NUMBER = WHATSAPP_NUMBERS[0]
OTHER_NUMBER = WHATSAPP_NUMBERS[1]
PAGE = MESSENGER_PAGES[0]
ACCOUNT = TWILIO_ACCOUNTS[0]
SMS_NUMBER = ACCOUNT.numbers[0]
TWILIO = f"/sandbox/twilio/2010-04-01/Accounts/{ACCOUNT.account_sid}"
APP_SECRET = META_APP.app_secret
VERIFY_TOKEN = "octopods-verify-4411"
SECRET_TOKEN = "tg_secret-0123456789"
HOOKS = {
    "telegram": f"{BASE}/hooks/telegram/tg-key-1/",
    "whatsapp": f"{BASE}/hooks/whatsapp/wa-key-1/",
    "messenger": f"{BASE}/hooks/messenger/fb-key-1/",
    "sms": f"{BASE}/hooks/sms/sms-key-1/",
}


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def basic(sid: str = ACCOUNT.account_sid, token: str = ACCOUNT.auth_token) -> dict:
    encoded = base64.b64encode(f"{sid}:{token}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {encoded}"}


def post_json(client, path: str, data: dict, **headers):
    return client.post(path, json.dumps(data), content_type="application/json", **headers)


def tg(client, method: str, data: dict | None = None, *, token: str = BOT.token):
    return post_json(client, f"{TELEGRAM}/bot{token}/{method}", data or {})


def body_bytes(request) -> bytes:
    body = request.body or b""
    return body.encode() if isinstance(body, str) else body


def webhook_request(request) -> WebhookRequest:
    """The product's view of a request the sandbox made (as channels.views builds it)
    from the ``requests`` request ``responses`` captured."""
    body = body_bytes(request)
    form_encoded = request.headers.get("Content-Type", "").startswith(
        "application/x-www-form-urlencoded"
    )
    return WebhookRequest(
        method=request.method,
        url=request.url,
        headers=dict(request.headers),
        body=body,
        query=parse_qs(urlsplit(request.url).query, keep_blank_values=True),
        form=parse_qs(body.decode(), keep_blank_values=True) if form_encoded else {},
    )


def answer_handshake(verify_token: str = VERIFY_TOKEN):
    """A ``responses`` callback that answers Meta's GET exactly as the product does."""

    def callback(request):
        hook = webhook_request(request)
        try:
            challenge = meta.handshake(verify_token=verify_token, request=hook)
        except WebhookRejected:
            return 403, {}, "Verify token mismatch."
        return 200, {"Content-Type": "text/plain"}, challenge

    return callback


def mock_handshake(mocked, url: str, verify_token: str = VERIFY_TOKEN) -> None:
    mocked.add_callback(responses.GET, url, callback=answer_handshake(verify_token))


def register_telegram(client, url: str = HOOKS["telegram"], **extra) -> None:
    response = tg(client, "setWebhook", {"url": url, "secret_token": SECRET_TOKEN, **extra})
    assert response.json()["ok"] is True


def register_whatsapp(client, mocked, url: str = HOOKS["whatsapp"]) -> None:
    """What adding a WhatsApp channel does: subscribe the WABA, override the number's URL."""
    response = client.post(
        f"{GRAPH}/{NUMBER.waba_id}/subscribed_apps", **bearer(NUMBER.access_token)
    )
    assert response.json() == {"success": True}
    mock_handshake(mocked, url)
    configuration = {"override_callback_uri": url, "verify_token": VERIFY_TOKEN}
    response = post_json(
        client,
        f"{GRAPH}/{NUMBER.phone_number_id}",
        {"webhook_configuration": configuration},
        **bearer(NUMBER.access_token),
    )
    assert response.json() == {"success": True}, response.content


def register_messenger(
    client,
    mocked,
    url: str = HOOKS["messenger"],
    fields: str = "messages,message_deliveries,message_reads,messaging_postbacks",
) -> None:
    """Subscribe the Page (the product's call), then paste the URL in the dashboard (a person)."""
    response = client.post(
        f"{GRAPH}/{PAGE.page_id}/subscribed_apps",
        {"subscribed_fields": fields},
        **bearer(PAGE.page_access_token),
    )
    assert response.json() == {"success": True}
    mock_handshake(mocked, url)
    client.post(
        "/sandbox/meta/app/",
        {
            "object": "page",
            "action": "subscribe",
            "callback_url": url,
            "verify_token": VERIFY_TOKEN,
        },
    )


def register_twilio(client, url: str = HOOKS["sms"], method: str = "POST") -> None:
    response = client.post(
        f"{TWILIO}/IncomingPhoneNumbers/{SMS_NUMBER.sid}.json",
        {"SmsUrl": url, "SmsMethod": method},
        **basic(),
    )
    assert response.status_code == 200, response.content


# Meta's send of the sandbox's spring_sale template (named values, a URL-button suffix).
SPRING_SALE_SEND = {
    "to": "+1 555 123 4567",
    "type": "template",
    "template": {
        "name": "spring_sale",
        "language": {"code": "en"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Kerry", "parameter_name": "first_name"},
                    {"type": "text", "text": "15%", "parameter_name": "discount"},
                ],
            },
            {
                "type": "button",
                "sub_type": "url",
                "index": "0",
                "parameters": [{"type": "text", "text": "kerry"}],
            },
        ],
    },
}
