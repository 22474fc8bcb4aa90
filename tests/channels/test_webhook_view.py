"""The webhook endpoint: identify the channel, verify, store exactly once, answer."""

import hashlib
import hmac
import json
from urllib.parse import urlencode

import pytest
import responses
from django.conf import settings

from channels.models import Channel, Contact, Direction, Message, MessageStatus
from tests.channels.conftest import BOT_SECRET
from workspaces.models import Provider, Workspace

pytestmark = pytest.mark.django_db

APP_SECRET = "wa-app-secret"


@pytest.fixture
def workspace(cast):
    return Workspace.objects.create(
        account=cast.account, provider=Provider.INTERCOM, external_id="acme", name="Acme"
    )


def make_channel(workspace, kind, credentials, identity):
    channel = Channel(workspace=workspace, kind=kind, name=f"{kind} line", identity=identity)
    channel.credentials_data = credentials
    channel.save()
    return channel


@pytest.fixture
def whatsapp(workspace):
    return make_channel(
        workspace,
        "whatsapp",
        {
            "phone_number_id": "PNID",
            "waba_id": "WABA",
            "access_token": "wa-token",
            "app_secret": APP_SECRET,
            "verify_token": "verify-me",
        },
        "PNID",
    )


@pytest.fixture
def no_outbound_http():
    """Any HTTP call from the view would fail the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
    assert not mock.calls


def wa_text(wamid="wamid.X1", body="hi", name="Jane"):
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "WABA",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": "15550001111",
                                    "phone_number_id": "PNID",
                                },
                                "contacts": [{"profile": {"name": name}, "wa_id": "15551234567"}],
                                "messages": [
                                    {
                                        "from": "15551234567",
                                        "id": wamid,
                                        "timestamp": "1749416383",
                                        "type": "text",
                                        "text": {"body": body},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()


def wa_status(wamid, status, **extra):
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": "PNID"},
        "statuses": [
            {
                "id": wamid,
                "status": status,
                "timestamp": "1749416400",
                "recipient_id": "15551234567",
                **extra,
            }
        ],
    }
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}],
        }
    ).encode()


def meta_signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_whatsapp(client, channel, body, signature=None):
    return client.post(
        f"/hooks/whatsapp/{channel.webhook_key}/",
        data=body,
        content_type="application/json",
        headers={"X-Hub-Signature-256": meta_signature(body) if signature is None else signature},
    )


def test_it_stores_a_verified_message_and_its_contact(client, whatsapp, no_outbound_http):
    response = post_whatsapp(client, whatsapp, wa_text())
    assert response.status_code == 200
    message = Message.objects.get()
    assert (message.channel, message.direction, message.type, message.text) == (
        whatsapp,
        Direction.INBOUND,
        "text",
        "hi",
    )
    assert message.status == MessageStatus.RECEIVED
    assert message.provider_message_id == "wamid.X1"
    contact = message.contact
    assert (contact.external_id, contact.phone_e164, contact.name) == (
        "15551234567",
        "+15551234567",
        "Jane",
    )
    whatsapp.refresh_from_db()
    assert whatsapp.last_inbound_at is not None


def test_a_message_retried_three_times_leaves_one_row(client, whatsapp):
    for _ in range(3):
        assert post_whatsapp(client, whatsapp, wa_text()).status_code == 200
    assert Message.objects.count() == 1
    assert Contact.objects.count() == 1


def test_the_contact_name_is_kept_fresh(client, whatsapp):
    post_whatsapp(client, whatsapp, wa_text("wamid.1", name="Jane"))
    post_whatsapp(client, whatsapp, wa_text("wamid.2", name="Jane Doe"))
    assert list(Contact.objects.values_list("name", flat=True)) == ["Jane Doe"]
    assert Message.objects.count() == 2


@pytest.mark.parametrize(
    "signature",
    ["", "sha256=", meta_signature(b"other body"), meta_signature(wa_text(), "wrong-secret")],
    ids=["missing", "empty", "other-body", "wrong-secret"],
)
def test_a_bad_signature_is_a_403_and_stores_nothing(client, whatsapp, signature):
    assert post_whatsapp(client, whatsapp, wa_text(), signature=signature).status_code == 403
    assert not Message.objects.exists()
    assert not Contact.objects.exists()


def test_a_malformed_body_is_a_400_and_stores_nothing(client, whatsapp):
    body = b"{not json"
    response = post_whatsapp(client, whatsapp, body)
    assert response.status_code == 400
    assert not Message.objects.exists()


def test_an_unknown_key_or_kind_is_a_404(client, whatsapp):
    body = wa_text()
    headers = {"X-Hub-Signature-256": meta_signature(body)}
    for path in ("/hooks/whatsapp/not-a-key/", f"/hooks/viber/{whatsapp.webhook_key}/"):
        response = client.post(path, data=body, content_type="application/json", headers=headers)
        assert response.status_code == 404
    # A key is only valid with its own kind.
    response = client.post(
        f"/hooks/telegram/{whatsapp.webhook_key}/",
        data=body,
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 404
    assert not Message.objects.exists()


def test_a_body_over_the_cap_is_a_413(client, whatsapp, settings):
    settings.WEBHOOK_MAX_BYTES = 100
    assert post_whatsapp(client, whatsapp, wa_text(body="x" * 200)).status_code == 413
    assert not Message.objects.exists()


def test_an_event_we_do_not_handle_is_acknowledged(client, whatsapp):
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "WABA", "changes": [{"field": "account_update", "value": {}}]}],
        }
    ).encode()
    assert post_whatsapp(client, whatsapp, body).status_code == 200
    assert not Message.objects.exists()


def test_the_meta_handshake_answers_the_challenge(client, whatsapp):
    url = f"/hooks/whatsapp/{whatsapp.webhook_key}/"
    ok = client.get(
        url, {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "42"}
    )
    assert (ok.status_code, ok.content) == (200, b"42")
    whatsapp.refresh_from_db()
    assert whatsapp.webhook_verified_at is not None
    bad = client.get(
        url, {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "42"}
    )
    assert bad.status_code == 403


def test_a_refused_webhook_shows_on_the_channels_health(client, whatsapp):
    post_whatsapp(client, whatsapp, wa_text(), signature=meta_signature(wa_text(), "old-secret"))
    whatsapp.refresh_from_db()
    assert whatsapp.last_error == "Webhook refused: signature mismatch"
    assert whatsapp.health == "error"
    # A message that gets through afterwards is what the channel's health shows.
    assert post_whatsapp(client, whatsapp, wa_text()).status_code == 200
    whatsapp.refresh_from_db()
    assert whatsapp.health == "receiving"


def test_an_unreadable_body_shows_on_the_channels_health(client, whatsapp):
    post_whatsapp(client, whatsapp, b"{not json")
    whatsapp.refresh_from_db()
    assert whatsapp.last_error.startswith("Webhook body not understood:")
    assert whatsapp.last_error_at is not None


def outbound(channel, wamid):
    contact = Contact.objects.create(channel=channel, external_id="15551234567")
    return Message.objects.create(
        channel=channel,
        contact=contact,
        direction=Direction.OUTBOUND,
        provider_message_id=wamid,
        type="text",
        text="Thanks!",
        status=MessageStatus.SENT,
    )


def test_delivery_statuses_update_the_outbound_message_and_never_go_back(client, whatsapp):
    message = outbound(whatsapp, "wamid.OUT")
    post_whatsapp(client, whatsapp, wa_status("wamid.OUT", "read"))
    post_whatsapp(client, whatsapp, wa_status("wamid.OUT", "delivered"))
    message.refresh_from_db()
    assert message.status == MessageStatus.READ


def test_a_failed_status_keeps_the_providers_code_and_text(client, whatsapp):
    message = outbound(whatsapp, "wamid.OUT")
    errors = [
        {
            "code": 131047,
            "title": "Re-engagement message",
            "message": "Re-engagement message",
            "error_data": {"details": "More than 24 hours have passed."},
        }
    ]
    post_whatsapp(client, whatsapp, wa_status("wamid.OUT", "failed", errors=errors))
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.error_code == "131047"
    assert "24 hours" in message.error_text


def test_telegram_needs_its_secret_token_header(client, telegram, no_outbound_http):
    body = json.dumps(
        {
            "update_id": 1,
            "message": {
                "message_id": 7,
                "date": 1718000000,
                "from": {"id": 555, "is_bot": False, "first_name": "Jane"},
                "chat": {"id": 555, "type": "private", "first_name": "Jane"},
                "text": "hello",
            },
        }
    ).encode()
    url = f"/hooks/telegram/{telegram.webhook_key}/"
    bad = client.post(url, data=body, content_type="application/json")
    assert bad.status_code == 403
    good = client.post(
        url,
        data=body,
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": BOT_SECRET},
    )
    assert good.status_code == 200
    message = Message.objects.get()
    assert (message.text, message.provider_message_id, message.contact.external_id) == (
        "hello",
        "555:7",
        "555",
    )


def post_sms(client, workspace, form: dict):
    """A Twilio SMS webhook, signed as Twilio signs it: over the address it called (our
    public one, whatever host the proxy used) and the sorted form fields."""
    from twilio.request_validator import RequestValidator

    channel = make_channel(
        workspace,
        "sms",
        {"account_sid": "AC" + "1" * 32, "auth_token": "tw-auth", "phone_number": "+15550001111"},
        "+15550001111",
    )
    path = f"/hooks/sms/{channel.webhook_key}/"
    signature = RequestValidator("tw-auth").compute_signature(settings.PUBLIC_BASE_URL + path, form)
    response = client.post(
        path,
        urlencode(form),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )
    return response, path, signature


def test_twilio_is_verified_over_the_public_url_and_answered_with_twiml(client, workspace):
    form = {
        "MessageSid": "SM" + "a" * 32,
        "AccountSid": "AC" + "1" * 32,
        "From": "+15551234567",
        "To": "+15550001111",
        "Body": "Hello by SMS",
        "NumMedia": "0",
    }
    response, path, signature = post_sms(client, workspace, form)
    assert response.status_code == 200
    assert b"<Response" in response.content
    message = Message.objects.get()
    assert (message.text, message.contact.phone_e164) == ("Hello by SMS", "+15551234567")
    tampered = client.post(
        path, {**form, "Body": "changed"}, headers={"X-Twilio-Signature": signature}
    )
    assert tampered.status_code == 403


def test_a_twilio_webhook_signed_with_a_shared_key_is_stored_and_a_wrong_one_refused(
    client, workspace
):
    """Twilio's "Sign webhooks with shared keys" (twilio.com/docs/usage/webhooks/
    webhook-shared-keys): HMAC-SHA256 with the SharedKey's secret over the URL and sorted
    form fields, named in X-Twilio-Webhooks-Signature-Settings; signed here with
    twilio-python's RequestValidator, posted as raw form bytes to the real endpoint."""
    from twilio.request_validator import RequestValidator

    channel = make_channel(
        workspace,
        "sms",
        {
            "account_sid": "AC" + "1" * 32,
            "auth_token": "tw-auth",
            "phone_number": "+15550001111",
            "webhook_shared_key": "whsk_secret_of_the_key",
        },
        "+15550001111",
    )
    form = {
        "MessageSid": "SM" + "b" * 32,
        "AccountSid": "AC" + "1" * 32,
        "From": "+15551234567",
        "To": "+15550001111",
        "Body": "Signed with a shared key",
        "NumMedia": "0",
    }
    path = f"/hooks/sms/{channel.webhook_key}/"
    url = settings.PUBLIC_BASE_URL + path
    settings_header = "key=webhooks_sharedkey_01jz8y7x6w5v4t3s2r1q0p9n8m,algorithm=HMAC_SHA256"

    def post(secret: str):
        signature = RequestValidator(secret).compute_signature(url, form, "HMAC_SHA256")
        return client.post(
            path,
            urlencode(form),
            content_type="application/x-www-form-urlencoded",
            headers={
                "X-Twilio-Signature": signature,
                "X-Twilio-Webhooks-Signature-Settings": settings_header,
            },
        )

    assert post("tw-auth").status_code == 403
    assert not Message.objects.exists()
    assert post("whsk_secret_of_the_key").status_code == 200
    assert Message.objects.get().text == "Signed with a shared key"


# --- poison messages: a signed request is stored safely or refused with a reason -------


def tg_update(**message):
    base = {
        "message_id": 7,
        "date": 1718000000,
        "from": {"id": 555, "is_bot": False, "first_name": "Jane"},
        "chat": {"id": 555, "type": "private", "first_name": "Jane"},
        "text": "hello",
    }
    return json.dumps({"update_id": 1, "message": {**base, **message}}).encode()


def post_telegram(client, channel, body):
    return client.post(
        f"/hooks/telegram/{channel.webhook_key}/",
        data=body,
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": BOT_SECRET},
    )


def test_text_with_nul_and_lone_surrogates_is_stored_made_safe(client, whatsapp):
    # Escaped as Meta escapes non-ASCII: \u0000 and an unpaired \ud83d reach the parser.
    body = wa_text(body="a\x00b\ud83dc", name="Ja\x00ne\udc00")
    response = post_whatsapp(client, whatsapp, body)
    assert response.status_code == 200
    message = Message.objects.get()
    assert message.text == "a\ufffdb\ufffdc"
    assert message.contact.name == "Ja\ufffdne\ufffd"


def test_over_long_ids_and_names_are_cut_and_kept_whole(client, whatsapp):
    wamid, name = "wamid." + "W" * 600, "Jane " + "Q" * 900
    body = wa_text(wamid=wamid, name=name, body="hi")
    assert post_whatsapp(client, whatsapp, body).status_code == 200
    message = Message.objects.get()
    assert len(message.provider_message_id) == 255
    assert len(message.contact.name) == 200
    # Nothing the customer wrote is lost: the values as sent ride with the message.
    assert message.data["uncut"] == {"provider_message_id": wamid, "sender.name": name}
    # The cut id is still the dedupe key: a retry leaves one row.
    assert post_whatsapp(client, whatsapp, body).status_code == 200
    assert Message.objects.count() == 1


def test_over_long_ids_that_share_a_prefix_stay_apart(client, telegram):
    long_id = 10**300
    for message_id in (long_id + 1, long_id + 2):
        assert post_telegram(client, telegram, tg_update(message_id=message_id)).status_code == 200
    ids = set(Message.objects.values_list("provider_message_id", flat=True))
    assert len(ids) == 2
    assert all(len(value) <= 255 for value in ids)


def test_an_over_long_sender_id_is_cut_for_the_contact(client, telegram):
    user = {"id": 10**200, "is_bot": False, "first_name": "Jane"}
    chat = {"id": 10**200, "type": "private"}
    assert (
        post_telegram(client, telegram, tg_update(**{"from": user, "chat": chat})).status_code
        == 200
    )
    contact = Contact.objects.get()
    assert len(contact.external_id) == 128
    assert Message.objects.get().data["uncut"]["sender.external_id"] == str(10**200)


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"update_id": 1, "message": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001,
    ],
    ids=["top-level", "inside"],
)
def test_deeply_nested_json_is_a_400_with_a_reason(client, telegram, body):
    response = post_telegram(client, telegram, body)
    assert response.status_code == 400
    assert b"nested" in response.content
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("date", "reason"),
    [(10**20, b"date"), (-(10**15), b"date"), ("9" * 5000, b"integer")],
    ids=["far-future", "far-past", "5000-digits"],
)
def test_a_telegram_date_no_datetime_can_hold_is_a_400(client, telegram, date, reason):
    body = tg_update(date=date)
    if isinstance(date, str):  # a bare number too long to be read as an integer
        body = body.replace(f'"{date}"'.encode(), date.encode())
    response = post_telegram(client, telegram, body)
    assert response.status_code == 400
    assert reason in response.content
    assert not Message.objects.exists()


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_a_number_json_cannot_carry_is_a_400(client, whatsapp, number):
    body = (
        b'{"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{'
        b'"field": "messages", "value": {"metadata": {"phone_number_id": "PNID"}, '
        b'"messages": [{"from": "1555", "id": "w1", "timestamp": "1749416383", '
        b'"type": "location", "location": {"latitude": ' + number + b', "longitude": 1}}]}}]}]}'
    )
    response = post_whatsapp(client, whatsapp, body)
    assert response.status_code == 400
    assert not Message.objects.exists()


def test_sms_fields_with_nul_are_stored_made_safe(client, workspace):
    form = {
        "MessageSid": "SM\x00" + "a" * 300,
        "AccountSid": "AC" + "1" * 32,
        "From": "+1555\x001234567",
        "To": "+15550001111",
        "ProfileName": "Ja\x00ne",
        "Body": "Hel\x00lo",
        "NumMedia": "0",
    }
    response, _, _ = post_sms(client, workspace, form)
    assert response.status_code == 200
    message = Message.objects.get()
    assert "\x00" not in message.provider_message_id
    assert message.contact.name == "Ja\ufffdne"
    assert message.text == "Hel\ufffdlo"
    assert message.data["uncut"]["provider_message_id"] == form["MessageSid"].replace(
        "\x00", "\ufffd"
    )


def test_a_status_naming_an_id_with_nul_is_acknowledged(client, whatsapp):
    assert post_whatsapp(client, whatsapp, wa_status("wamid.\x00", "read")).status_code == 200


def test_a_webhook_key_with_unsafe_characters_is_a_404(client, whatsapp):
    for key in ("%00", "a%00b", "%ED%A0%80", "k" * 300):
        response = client.post(f"/hooks/whatsapp/{key}/", data=b"{}", content_type="text/plain")
        assert response.status_code == 404


def test_an_unreadable_content_length_is_a_400(client, whatsapp):
    response = client.generic(
        "POST",
        f"/hooks/whatsapp/{whatsapp.webhook_key}/",
        wa_text(),
        content_type="application/json",
        CONTENT_LENGTH="twelve",
    )
    assert response.status_code == 400


def test_refusals_are_recorded_at_most_once_a_minute(client, whatsapp):
    from datetime import timedelta

    from django.utils import timezone

    wrong = meta_signature(wa_text(), "stranger")
    post_whatsapp(client, whatsapp, wa_text(), signature=wrong)
    whatsapp.refresh_from_db()
    first = whatsapp.last_error_at
    assert whatsapp.last_error == "Webhook refused: signature mismatch"
    # A stranger posting again and again does not get to write the row each time.
    for _ in range(3):
        assert post_whatsapp(client, whatsapp, wa_text(), signature="sha256=00").status_code == 403
    whatsapp.refresh_from_db()
    assert whatsapp.last_error_at == first
    # A minute later the next refusal is recorded again.
    Channel.objects.filter(pk=whatsapp.pk).update(last_error_at=first - timedelta(seconds=61))
    post_whatsapp(client, whatsapp, wa_text(), signature="")
    whatsapp.refresh_from_db()
    assert whatsapp.last_error == "Webhook refused: missing X-Hub-Signature-256"
    assert whatsapp.last_error_at > timezone.now() - timedelta(seconds=5)


def test_a_wrong_verify_token_is_recorded_at_most_once_a_minute(client, whatsapp):
    url = f"/hooks/whatsapp/{whatsapp.webhook_key}/"
    params = {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"}
    assert client.get(url, params).status_code == 403
    whatsapp.refresh_from_db()
    first = whatsapp.last_error_at
    assert first is not None
    assert client.get(url, params).status_code == 403
    whatsapp.refresh_from_db()
    assert whatsapp.last_error_at == first
