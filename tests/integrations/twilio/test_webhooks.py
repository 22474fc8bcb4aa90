import random
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, quote, quote_plus, urlencode, urlparse

import pytest
from django.utils.datastructures import MultiValueDict
from twilio.request_validator import RequestValidator, get_signature_algorithm

from integrations.channel import (
    ContentType,
    DeliveryState,
    DeliveryStatus,
    InboundMessage,
    Location,
    MalformedPayload,
    Media,
    Sender,
    WebhookRejected,
    WebhookRequest,
)
from integrations.twilio import webhooks
from integrations.twilio.credentials import Credentials
from integrations.twilio.webhooks import ACK, parse, verify

FIXTURES = Path(__file__).parent / "fixtures"
URL = "https://bridge.example.com/hooks/twilio/chn_8d2e4f6a1b/"
ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
CREDENTIALS = Credentials(
    account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, phone_number="+14155550100"
)
NOW = datetime(2026, 8, 14, 15, 32, 7, tzinfo=UTC)
CUSTOMER = Sender(external_id="+14155550132", phone="+14155550132")
MARIANA = Sender(
    external_id="whatsapp:+5511987654321", phone="+5511987654321", name="Mariana Souza"
)
MEDIA = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages"


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    """Twilio's webhooks carry no timestamp: events are stamped with the receipt time."""
    monkeypatch.setattr(webhooks, "_now", lambda: NOW)


def fixture(name: str) -> bytes:
    # Twilio sends no trailing newline; an editor may add one to the file.
    return (FIXTURES / name).read_bytes().rstrip(b"\r\n")


def multi(params: dict[str, list[str]]) -> MultiValueDict:
    """What twilio-python's RequestValidator reads repeated names from (getlist)."""
    return MultiValueDict(params)


def twilio_signature(body: bytes, *, url: str = URL, token: str = AUTH_TOKEN) -> str:
    """Sign as Twilio does, with Twilio's own SDK (not our code)."""
    params = parse_qs(body.decode(), keep_blank_values=True)
    return RequestValidator(token).compute_signature(url, multi(params))


def request(
    body: bytes,
    *,
    url: str = URL,
    signature: str | None = None,
    method: str = "POST",
) -> WebhookRequest:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return WebhookRequest(
        method=method,
        url=url,
        headers=headers,
        body=body,
        form=parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True),
    )


def signed(body: bytes, *, url: str = URL, token: str = AUTH_TOKEN) -> WebhookRequest:
    return request(body, url=url, signature=twilio_signature(body, url=url, token=token))


def parsed(name: str) -> list:
    return parse(request=signed(fixture(name)))


# --- credentials ------------------------------------------------------------------------


def test_it_reads_credentials_from_a_dict_and_back():
    data = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "phone_number": "+14155550100"}
    assert Credentials.from_dict(data) == CREDENTIALS
    assert CREDENTIALS.to_dict() == data


@pytest.mark.parametrize("missing", ["account_sid", "auth_token", "phone_number"])
def test_it_names_the_missing_credentials_field(missing):
    data = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "phone_number": "+14155550100"}
    data[missing] = ""
    with pytest.raises(ValueError, match=missing):
        Credentials.from_dict(data)
    del data[missing]
    with pytest.raises(ValueError, match=missing):
        Credentials.from_dict(data)


def test_it_keeps_the_auth_token_out_of_the_repr():
    assert AUTH_TOKEN not in repr(CREDENTIALS)


# --- verify -----------------------------------------------------------------------------


def test_it_accepts_a_request_signed_with_the_accounts_auth_token():
    verify(credentials=CREDENTIALS, request=signed(fixture("sms_text.txt")))


def test_it_accepts_every_fixture_signed_by_twilio():
    for path in sorted(FIXTURES.glob("*.txt")):
        verify(credentials=CREDENTIALS, request=signed(fixture(path.name)))


def test_it_rejects_a_request_without_a_signature():
    with pytest.raises(WebhookRejected, match="missing"):
        verify(credentials=CREDENTIALS, request=request(fixture("sms_text.txt")))


def test_it_rejects_an_empty_signature_header():
    with pytest.raises(WebhookRejected, match="missing"):
        verify(credentials=CREDENTIALS, request=request(fixture("sms_text.txt"), signature=""))


def test_it_rejects_a_signature_made_with_another_auth_token():
    body = fixture("sms_text.txt")
    with pytest.raises(WebhookRejected, match="bad"):
        verify(credentials=CREDENTIALS, request=signed(body, token="another-accounts-token"))


def test_it_rejects_a_body_with_one_byte_changed():
    body = fixture("sms_text.txt")
    signature = twilio_signature(body)
    tampered = body.replace(b"order+%234521", b"order+%234522")
    assert tampered != body
    with pytest.raises(WebhookRejected, match="bad"):
        verify(credentials=CREDENTIALS, request=request(tampered, signature=signature))


def test_it_rejects_a_signature_for_another_url():
    body = fixture("sms_text.txt")
    signature = twilio_signature(body, url=URL.replace("chn_8d2e4f6a1b", "chn_0000000000"))
    with pytest.raises(WebhookRejected, match="bad"):
        verify(credentials=CREDENTIALS, request=request(body, signature=signature))


def test_it_accepts_the_same_form_reencoded_because_twilio_signs_decoded_sorted_params():
    # Unlike the JSON providers, Twilio's signature covers the decoded parameters in
    # sorted order, so field order and %20-vs-+ do not matter; values do (above).
    body = fixture("sms_text.txt")
    pairs = [
        (k, v) for k, vs in parse_qs(body.decode(), keep_blank_values=True).items() for v in vs
    ]
    reencoded = urlencode(list(reversed(pairs)), quote_via=quote).encode()
    assert reencoded != body
    verify(credentials=CREDENTIALS, request=request(reencoded, signature=twilio_signature(body)))


def test_it_rejects_a_json_body():
    body = b'{"MessageSid": "SM1f0e2d3c4b5a69788796a5b4c3d2e1f0", "AccountSid": "%s"}' % (
        ACCOUNT_SID.encode()
    )
    signature = RequestValidator(AUTH_TOKEN).compute_signature(URL, {})
    with pytest.raises(WebhookRejected):
        verify(credentials=CREDENTIALS, request=request(body, signature=signature))


def test_it_rejects_a_body_that_is_not_utf8():
    with pytest.raises(WebhookRejected, match="UTF-8"):
        verify(credentials=CREDENTIALS, request=request(b"Body=%FF&AccountSid=AC1", signature="x"))


@pytest.mark.parametrize(
    ("signed_url", "request_url"),
    [
        (
            "https://bridge.example.com:443/hooks/twilio/c/",
            "https://bridge.example.com/hooks/twilio/c/",
        ),
        (
            "https://bridge.example.com/hooks/twilio/c/",
            "https://bridge.example.com:443/hooks/twilio/c/",
        ),
        (
            "http://bridge.example.com:80/hooks/twilio/c/?x=1",
            "http://bridge.example.com/hooks/twilio/c/?x=1",
        ),
    ],
)
def test_it_accepts_the_url_with_the_default_port_added_or_removed(signed_url, request_url):
    body = fixture("sms_text.txt")
    signature = twilio_signature(body, url=signed_url)
    verify(credentials=CREDENTIALS, request=request(body, url=request_url, signature=signature))


def test_it_rejects_a_valid_signature_for_another_twilio_account():
    body = fixture("sms_text.txt").replace(
        ACCOUNT_SID.encode(), b"ACffffffffffffffffffffffffffffffff"
    )
    with pytest.raises(WebhookRejected, match="AccountSid"):
        verify(credentials=CREDENTIALS, request=signed(body))


def test_it_rejects_a_signed_form_without_account_sid():
    body = b"MessageSid=SM1f0e2d3c4b5a69788796a5b4c3d2e1f0&From=%2B14155550132&Body=hi"
    with pytest.raises(WebhookRejected, match="AccountSid"):
        verify(credentials=CREDENTIALS, request=signed(body))


def test_it_verifies_a_get_webhook_over_the_url_alone():
    query = fixture("sms_text.txt").decode()
    url = f"{URL}?{query}"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, {})
    get = WebhookRequest(
        method="GET",
        url=url,
        headers={"X-Twilio-Signature": signature},
        body=b"",
        query=parse_qs(query, keep_blank_values=True),
    )
    verify(credentials=CREDENTIALS, request=get)
    assert [event.provider_message_id for event in parse(request=get)] == [
        "SM1f0e2d3c4b5a69788796a5b4c3d2e1f0"
    ]


# Generated requests: our verify must agree with twilio-python's RequestValidator.

_NAMES = ["Body", "From", "To", "MediaUrl0", "NumMedia", "ÉtatCivil", "名前", "a b", "x&y=z"]
_VALUES = ["", "hello", "héllo wörld", "😀👍🏽", "a+b=c&d", "100%", "line\nbreak", "  ", "名前"]


def _random_text(rng: random.Random) -> str:
    alphabet = "abcXYZ019 +&=%/?#é—😀\t"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))


def _random_url(rng: random.Random) -> str:
    scheme = rng.choice(["https", "http"])
    host = rng.choice(["bridge.example.com", "hooks.octopods.test", "127.0.0.1"])
    port = rng.choice(["", "", f":{443 if scheme == 'https' else 80}", ":8443"])
    path = "/hooks/twilio/" + quote(_random_text(rng) or "k", safe="") + "/"
    url = f"{scheme}://{host}{port}{path}"
    if rng.random() < 0.5:
        query = [(_random_text(rng) or "q", _random_text(rng)) for _ in range(rng.randint(1, 3))]
        url += "?" + urlencode(query)
    return url


def _random_params(rng: random.Random) -> list[tuple[str, str]]:
    pairs = [("AccountSid", ACCOUNT_SID)]
    for _ in range(rng.randint(0, 12)):
        name = rng.choice(_NAMES) if rng.random() < 0.6 else (_random_text(rng) or "n")
        value = rng.choice(_VALUES) if rng.random() < 0.6 else _random_text(rng)
        pairs.append((name, value))
        if rng.random() < 0.2:  # the same name again, sometimes with the same value
            pairs.append((name, value if rng.random() < 0.5 else _random_text(rng)))
    rng.shuffle(pairs)
    return pairs


def _url_twilio_may_have_signed(rng: random.Random, url: str) -> str:
    """The URL itself, or it with the default port added or any port removed."""
    parts = urlparse(url)
    if parts.port:
        choices = [url, parts._replace(netloc=parts.hostname).geturl()]
    else:
        default = 443 if parts.scheme == "https" else 80
        choices = [url, parts._replace(netloc=f"{parts.netloc}:{default}").geturl()]
    return rng.choice(choices)


def test_it_agrees_with_twilios_request_validator_on_generated_requests():
    rng = random.Random(20260814)
    for case in range(300):
        url = _random_url(rng)
        pairs = _random_params(rng)
        body = urlencode(pairs, quote_via=rng.choice([quote, quote_plus])).encode()
        params: dict[str, list[str]] = {}
        for name, value in pairs:
            params.setdefault(name, []).append(value)
        validator = RequestValidator(AUTH_TOKEN)
        signature = validator.compute_signature(
            _url_twilio_may_have_signed(rng, url), multi(params)
        )
        good = request(body, url=url, signature=signature)

        assert validator.validate(url, multi(params), signature), case
        verify(credentials=CREDENTIALS, request=good)

        # Change one value to one no name holds, so the signed set surely changes.
        index = rng.randrange(len(pairs))
        name, value = pairs[index]
        tampered_pairs = list(pairs)
        tampered_pairs[index] = (name, f"{value}\u2603{case}")
        tampered_params: dict[str, list[str]] = {}
        for tname, tvalue in tampered_pairs:
            tampered_params.setdefault(tname, []).append(tvalue)
        tampered = request(urlencode(tampered_pairs).encode(), url=url, signature=signature)

        assert not validator.validate(url, multi(tampered_params), signature), case
        with pytest.raises(WebhookRejected):
            verify(credentials=CREDENTIALS, request=tampered)


# --- verify: a SharedKey signature (Webhooks configuration API) --------------------------
#
# Twilio's "Sign webhooks with shared keys" (twilio.com/docs/usage/webhooks/
# webhook-shared-keys, public beta): a Webhook Rule matching the webhook's URL (any
# outbound webhook, Messaging's included) makes Twilio sign with the Setting's SharedKey
# and algorithm and add X-Twilio-Webhooks-Signature-Settings: key=<id>,algorithm=<alg>.
# The signed string stays URL + sorted parameters. twilio-python's RequestValidator
# (get_signature_algorithm, compute_signature(..., algorithm)) signs these below.

SHARED_KEY = "whsk_9c1f2e3d4b5a69788796a5b4c3d2e1f0a1b2c3d4"
KEY_ID = "webhooks_sharedkey_01jz8y7x6w5v4t3s2r1q0p9n8m"
WITH_SHARED_KEY = Credentials(
    account_sid=ACCOUNT_SID,
    auth_token=AUTH_TOKEN,
    phone_number="+14155550100",
    webhook_shared_key=SHARED_KEY,
)


def shared_key_signed(
    body: bytes, *, algorithm="HMAC_SHA256", secret=SHARED_KEY, settings: str | None = None
) -> WebhookRequest:
    params = parse_qs(body.decode(), keep_blank_values=True)
    signature = RequestValidator(secret).compute_signature(URL, multi(params), algorithm)
    hook = request(body, signature=signature)
    header = f"key={KEY_ID},algorithm={algorithm}" if settings is None else settings
    return WebhookRequest(
        method=hook.method,
        url=hook.url,
        headers={**hook.headers, "X-Twilio-Webhooks-Signature-Settings": header},
        body=hook.body,
        form=hook.form,
    )


@pytest.mark.parametrize("algorithm", ["HMAC_SHA256", "HMAC_SHA1"])
def test_it_accepts_a_messaging_webhook_signed_with_the_channels_shared_key(algorithm):
    body = fixture("sms_text.txt")
    hook = shared_key_signed(body, algorithm=algorithm)
    # The official validator agrees, given the header's algorithm and the key's secret.
    validator = RequestValidator(SHARED_KEY)
    settings = hook.header("X-Twilio-Webhooks-Signature-Settings")
    assert validator.validate(
        URL,
        multi(parse_qs(body.decode(), keep_blank_values=True)),
        hook.header("X-Twilio-Signature"),
        get_signature_algorithm(settings),
    )
    verify(credentials=WITH_SHARED_KEY, request=hook)


def test_a_channel_with_a_shared_key_still_takes_the_auth_token_signature():
    # No Rule matched (no settings header): Twilio signs with the Auth Token.
    verify(credentials=WITH_SHARED_KEY, request=signed(fixture("sms_text.txt")))


def test_it_rejects_a_shared_key_signature_made_with_another_secret():
    hook = shared_key_signed(fixture("sms_text.txt"), secret="whsk_someone_else")
    with pytest.raises(WebhookRejected, match="bad X-Twilio-Signature"):
        verify(credentials=WITH_SHARED_KEY, request=hook)


def test_it_rejects_the_auth_token_hashed_with_sha256_under_the_settings_header():
    hook = shared_key_signed(fixture("sms_text.txt"), secret=AUTH_TOKEN)
    with pytest.raises(WebhookRejected, match="bad X-Twilio-Signature"):
        verify(credentials=WITH_SHARED_KEY, request=hook)


def test_it_says_so_when_the_channel_has_no_shared_key():
    hook = shared_key_signed(fixture("sms_text.txt"))
    with pytest.raises(WebhookRejected, match="the channel has none"):
        verify(credentials=CREDENTIALS, request=hook)


def test_it_rejects_an_algorithm_twilios_validator_does_not_know():
    body = fixture("sms_text.txt")
    hook = shared_key_signed(body, settings=f"key={KEY_ID},algorithm=HMAC_SHA512")
    assert not RequestValidator(SHARED_KEY).validate(
        URL, {}, hook.header("X-Twilio-Signature"), "HMAC_SHA512"
    )
    with pytest.raises(WebhookRejected, match="unsupported signature algorithm"):
        verify(credentials=WITH_SHARED_KEY, request=hook)


def test_it_reads_a_settings_header_without_an_algorithm_as_sha1_like_twilios_sdk():
    body = fixture("sms_text.txt")
    assert get_signature_algorithm(f"key={KEY_ID}") == "HMAC_SHA1"
    hook = shared_key_signed(body, algorithm="HMAC_SHA1", settings=f"key={KEY_ID}")
    verify(credentials=WITH_SHARED_KEY, request=hook)


def test_the_shared_key_is_optional_and_kept_out_of_the_repr():
    data = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "phone_number": "+14155550100"}
    assert Credentials.from_dict({**data, "webhook_shared_key": ""}) == CREDENTIALS
    stored = {**data, "webhook_shared_key": SHARED_KEY}
    assert Credentials.from_dict(stored) == WITH_SHARED_KEY
    assert WITH_SHARED_KEY.to_dict() == stored
    assert SHARED_KEY not in repr(WITH_SHARED_KEY)


# --- parse: inbound messages ------------------------------------------------------------


def test_it_parses_an_sms():
    assert parsed("sms_text.txt") == [
        InboundMessage(
            provider_message_id="SM1f0e2d3c4b5a69788796a5b4c3d2e1f0",
            sender=CUSTOMER,
            sent_at=NOW,
            type=ContentType.TEXT,
            text="Hi, is my order #4521 shipped yet? 📦",
        )
    ]


def test_it_parses_an_mms_with_one_image_and_its_body_as_caption():
    sid = "MM2a3b4c5d6e7f8091a2b3c4d5e6f70819"
    assert parsed("mms_one_image.txt") == [
        InboundMessage(
            provider_message_id=sid,
            sender=CUSTOMER,
            sent_at=NOW,
            type=ContentType.IMAGE,
            text="Here is the damaged box",
            media=Media(
                ref=f"{MEDIA}/{sid}/Media/ME3c4d5e6f708192a3b4c5d6e7f8091a2b",
                mime_type="image/jpeg",
            ),
        )
    ]


def test_it_splits_an_mms_with_two_media_into_one_message_per_media():
    sid = "MM4d5e6f708192a3b4c5d6e7f8091a2b3c"
    assert parsed("mms_two_media.txt") == [
        InboundMessage(
            provider_message_id=sid,
            sender=CUSTOMER,
            sent_at=NOW,
            type=ContentType.IMAGE,
            text="Receipt and my contact card",
            media=Media(
                ref=f"{MEDIA}/{sid}/Media/ME5e6f708192a3b4c5d6e7f8091a2b3c4d",
                mime_type="image/png",
            ),
        ),
        InboundMessage(
            provider_message_id=f"{sid}:1",
            sender=CUSTOMER,
            sent_at=NOW,
            type=ContentType.DOCUMENT,  # a vCard is a file on Twilio's host until fetched
            media=Media(
                ref=f"{MEDIA}/{sid}/Media/ME6f708192a3b4c5d6e7f8091a2b3c4d5e",
                mime_type="text/vcard",
            ),
        ),
    ]


def test_it_parses_an_mms_with_media_and_no_body():
    sid = "MM708192a3b4c5d6e7f8091a2b3c4d5e6f"
    assert parsed("mms_media_only.txt") == [
        InboundMessage(
            provider_message_id=sid,
            sender=CUSTOMER,
            sent_at=NOW,
            type=ContentType.VIDEO,
            text="",
            media=Media(
                ref=f"{MEDIA}/{sid}/Media/ME8192a3b4c5d6e7f8091a2b3c4d5e6f70",
                mime_type="video/3gpp",
            ),
        )
    ]


def test_it_parses_a_whatsapp_text_keeping_the_channel_address_as_external_id():
    assert parsed("whatsapp_text.txt") == [
        InboundMessage(
            provider_message_id="SM9a0b1c2d3e4f5061728394a5b6c7d8e9",
            sender=MARIANA,
            sent_at=NOW,
            type=ContentType.TEXT,
            text="Olá! Vocês entregam em Campinas?",
        )
    ]


def test_it_parses_a_whatsapp_location():
    assert parsed("whatsapp_location.txt") == [
        InboundMessage(
            provider_message_id="SMa1b2c3d4e5f60718293a4b5c6d7e8f90",
            sender=MARIANA,
            sent_at=NOW,
            type=ContentType.LOCATION,
            location=Location(
                latitude=-22.9099384,
                longitude=-47.0626332,
                name="Loja Centro",
                address="Av. Francisco Glicério, 1000, Campinas",
            ),
        )
    ]


def test_it_parses_a_whatsapp_button_reply_with_the_quoted_message():
    assert parsed("whatsapp_button_reply.txt") == [
        InboundMessage(
            provider_message_id="SMb2c3d4e5f60718293a4b5c6d7e8f90a1",
            sender=MARIANA,
            sent_at=NOW,
            type=ContentType.INTERACTIVE,
            text="Sim, confirmar",
            payload="confirm_order_4521",
            reply_to="MMc3d4e5f60718293a4b5c6d7e8f90a1b2",
            provider_type="button",
        )
    ]


def test_it_keeps_a_whatsapp_type_it_does_not_model_as_unsupported():
    assert parsed("whatsapp_unsupported.txt") == [
        InboundMessage(
            provider_message_id="SMd4e5f60718293a4b5c6d7e8f90a1b2c3",
            sender=MARIANA,
            sent_at=NOW,
            type=ContentType.UNSUPPORTED,
            provider_type="reaction",
        )
    ]


def test_it_leaves_the_phone_empty_for_a_whatsapp_user_without_a_number():
    body = b"MessageSid=SM1&AccountSid=AC1&From=whatsapp%3AUS.13491208655302741918&Body=hi"
    [message] = parse(request=request(body))
    assert message.sender == Sender(external_id="whatsapp:US.13491208655302741918", phone="")


def test_it_leaves_a_nul_in_the_body_for_storing_to_make_safe():
    # channels.services replaces it with U+FFFD, as for every provider and every field.
    body = b"MessageSid=SM1&AccountSid=AC1&From=%2B14155550132&Body=a%00b&NumMedia=0"
    [message] = parse(request=request(body))
    assert message.text == "a\x00b"


# --- parse: status callbacks ------------------------------------------------------------


def test_it_ignores_a_queued_status():
    assert parsed("status_queued.txt") == []


def test_it_parses_a_sent_status():
    assert parsed("status_sent.txt") == [
        DeliveryStatus(
            provider_message_id="SMe5f60718293a4b5c6d7e8f90a1b2c3d4",
            state=DeliveryState.SENT,
            at=NOW,
        )
    ]


def test_it_parses_a_delivered_status():
    assert parsed("status_delivered.txt") == [
        DeliveryStatus(
            provider_message_id="SMe5f60718293a4b5c6d7e8f90a1b2c3d4",
            state=DeliveryState.DELIVERED,
            at=NOW,
        )
    ]


def test_it_parses_a_read_status_from_a_whatsapp_sender():
    assert parsed("status_read.txt") == [
        DeliveryStatus(
            provider_message_id="SM18293a4b5c6d7e8f90a1b2c3d4e5f607",
            state=DeliveryState.READ,
            at=NOW,
        )
    ]


def test_it_parses_an_undelivered_status_as_failed_with_the_error_code():
    assert parsed("status_undelivered_30003.txt") == [
        DeliveryStatus(
            provider_message_id="SMf60718293a4b5c6d7e8f90a1b2c3d4e5",
            state=DeliveryState.FAILED,
            at=NOW,
            error_code="30003",
            error_text="Unreachable handset (off, out of coverage or blocked)",
        )
    ]


def test_it_parses_a_failed_status_with_the_error_code():
    assert parsed("status_failed_30007.txt") == [
        DeliveryStatus(
            provider_message_id="SM0718293a4b5c6d7e8f90a1b2c3d4e5f6",
            state=DeliveryState.FAILED,
            at=NOW,
            error_code="30007",
            error_text="Filtered by the carrier as spam or unregistered traffic",
        )
    ]


def test_it_prefers_twilios_error_message_and_keeps_unknown_codes():
    body = (
        b"MessageSid=SM1&AccountSid=AC1&MessageStatus=failed"
        b"&ErrorCode=63016&ErrorMessage=Outside+the+24h+window"
    )
    [status] = parse(request=request(body))
    assert (status.error_code, status.error_text) == ("63016", "Outside the 24h window")
    [status] = parse(request=request(body.split(b"&ErrorMessage")[0]))
    assert (status.error_code, status.error_text) == ("63016", "")


def test_it_returns_no_event_for_a_status_it_does_not_track():
    body = b"MessageSid=SM1&AccountSid=AC1&MessageStatus=partially_delivered"
    assert parse(request=request(body)) == []


# --- parse: malformed -------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"MessageSid": "SM1", "From": "+14155550132"}',  # JSON, not a form
        b"",  # nothing at all
        b"From=%2B14155550132&Body=hi&AccountSid=AC1",  # no MessageSid
        b"MessageSid=&From=%2B14155550132&Body=hi",  # empty MessageSid
        b"MessageSid=SM1&Body=hi&AccountSid=AC1",  # no From on an inbound message
        b"MessageSid=SM1&From=%2B1415&Body=%FF",  # not UTF-8
        b"MessageSid=SM1&From=%2B1415&Body=&NumMedia=two",  # NumMedia not a count
        b"MessageSid=MM1&From=%2B1415&Body=&NumMedia=2&MediaUrl0=https%3A%2F%2Fa",  # MediaUrl1?
        b"MessageSid=SM1&From=%2B1415&Body=&MessageType=location&Latitude=north&Longitude=1",
    ],
)
def test_it_rejects_a_body_twilio_does_not_send(body):
    with pytest.raises(MalformedPayload):
        parse(request=request(body))


# --- ack --------------------------------------------------------------------------------


def test_it_acks_with_an_empty_twiml_response():
    assert ACK == (
        b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>',
        "text/xml",
    )
