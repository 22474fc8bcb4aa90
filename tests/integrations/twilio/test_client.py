import base64
import logging
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings

from integrations.base import ProviderError
from integrations.channel import ChannelIdentity
from integrations.registry import channel_adapter
from integrations.twilio.credentials import Credentials

SID = "AC5a0d1e2f3a4b5c6d7e8f90a1b2c3d4e5"
AUTH = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
NUMBER = "+15550002222"
NUMBER_SID = "PN0a1b2c3d4e5f60718293a4b5c6d7e8f9"
HOOK = f"{settings.PUBLIC_BASE_URL}/hooks/sms/chn_3f9a1c2b7d/"
CREDENTIALS = Credentials(account_sid=SID, auth_token=AUTH, phone_number=NUMBER)
BASIC = "Basic " + base64.b64encode(f"{SID}:{AUTH}".encode()).decode()

adapter = channel_adapter("sms")


def api(path: str) -> str:
    return f"{settings.TWILIO_API_URL}/2010-04-01/Accounts/{SID}{path}"


LIST_URL = api("/IncomingPhoneNumbers.json")
NUMBER_URL = api(f"/IncomingPhoneNumbers/{NUMBER_SID}.json")


def incoming_number(**overrides) -> dict:
    return {
        "sid": NUMBER_SID,
        "account_sid": SID,
        "phone_number": NUMBER,
        "friendly_name": "Acme SMS",
        "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
        "sms_url": "",
        "sms_method": "POST",
        **overrides,
    }


def listing(*numbers) -> dict:
    return {"incoming_phone_numbers": list(numbers), "page": 0, "page_size": 50}


def identify() -> ChannelIdentity:
    return adapter.identify(data={"account_sid": SID, "auth_token": AUTH, "phone_number": NUMBER})


def assert_lookup(call) -> None:
    assert call.request.method == "GET"
    parts = urlsplit(call.request.url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == LIST_URL
    assert parse_qs(parts.query) == {"PhoneNumber": [NUMBER]}
    assert call.request.headers["Authorization"] == BASIC


# --- identify --------------------------------------------------------------------------


def test_it_identifies_the_number_among_the_account_s_numbers(mocked):
    mocked.get(LIST_URL, json=listing(incoming_number()))

    found = identify()

    assert found == ChannelIdentity(
        identity=NUMBER,
        name="Acme SMS",
        credentials={"account_sid": SID, "auth_token": AUTH, "phone_number": NUMBER},
    )
    assert Credentials.from_dict(found.credentials) == CREDENTIALS
    (call,) = mocked.calls
    assert_lookup(call)


def test_it_names_the_channel_after_the_number_when_it_has_no_friendly_name(mocked):
    mocked.get(LIST_URL, json=listing(incoming_number(friendly_name="")))

    assert identify().name == NUMBER


def test_it_blames_the_auth_token_when_twilio_refuses_the_pair(mocked):
    mocked.get(
        LIST_URL,
        status=401,
        json={
            "code": 20003,
            "message": "Authenticate",
            "more_info": "https://www.twilio.com/docs/errors/20003",
            "status": 401,
        },
    )

    with pytest.raises(ProviderError) as caught:
        identify()

    error = caught.value
    assert error.field == "auth_token"
    assert error.code == "20003"
    assert error.unauthorized and error.permanent
    assert error.message.startswith("Twilio did not accept this Account SID and Auth Token.")


def test_it_blames_the_number_when_the_account_does_not_have_it(mocked):
    mocked.get(LIST_URL, json=listing())

    with pytest.raises(ProviderError) as caught:
        identify()

    error = caught.value
    assert error.field == "phone_number"
    assert error.message.startswith("+15550002222 is not a number of this Twilio account.")
    assert error.permanent


def test_it_ignores_numbers_that_only_resemble_ours(mocked):
    mocked.get(LIST_URL, json=listing(incoming_number(phone_number="+155500022229")))

    with pytest.raises(ProviderError) as caught:
        identify()

    assert caught.value.field == "phone_number"


def test_it_refuses_a_number_that_cannot_do_sms(mocked):
    mocked.get(
        LIST_URL,
        json=listing(incoming_number(capabilities={"voice": True, "sms": False, "mms": False})),
    )

    with pytest.raises(ProviderError) as caught:
        identify()

    assert caught.value.field == "phone_number"
    assert caught.value.message.startswith("This number cannot send or receive SMS")


# --- webhook -----------------------------------------------------------------------------


def test_it_points_the_number_s_incoming_messages_at_our_webhook(mocked):
    mocked.get(LIST_URL, json=listing(incoming_number()))
    mocked.post(NUMBER_URL, json=incoming_number(sms_url=HOOK))

    adapter.register_webhook(credentials=CREDENTIALS, webhook_url=HOOK)

    lookup, update = mocked.calls
    assert_lookup(lookup)
    assert update.request.method == "POST"
    assert update.request.url == NUMBER_URL
    assert update.request.headers["Authorization"] == BASIC
    assert update.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    # With Twilio's connection overrides: retry up to five times on any failure.
    assert parse_qs(update.request.body) == {
        "SmsUrl": [HOOK + "#rc=5&rp=all"],
        "SmsMethod": ["POST"],
    }


def test_it_says_so_when_the_number_left_the_account_before_registering(mocked):
    mocked.get(LIST_URL, json=listing())

    with pytest.raises(ProviderError) as caught:
        adapter.register_webhook(credentials=CREDENTIALS, webhook_url=HOOK)

    assert caught.value.field == "phone_number"
    assert len(mocked.calls) == 1


def test_it_clears_the_number_s_url_when_it_still_points_at_us(mocked):
    mocked.get(LIST_URL, json=listing(incoming_number(sms_url=HOOK)))
    mocked.post(NUMBER_URL, json=incoming_number())

    adapter.unregister_webhook(credentials=CREDENTIALS)

    lookup, update = mocked.calls
    assert_lookup(lookup)
    assert update.request.url == NUMBER_URL
    assert parse_qs(update.request.body, keep_blank_values=True) == {
        "SmsUrl": [""],
        "SmsMethod": ["POST"],
    }


@pytest.mark.parametrize(
    "sms_url",
    [
        "https://hooks.example.com/sms",
        # Shares our address as a prefix, but is another host.
        f"{settings.PUBLIC_BASE_URL}.example.net/hooks/sms/x/",
        "",
    ],
)
def test_it_leaves_a_url_someone_else_set_alone(mocked, sms_url):
    mocked.get(LIST_URL, json=listing(incoming_number(sms_url=sms_url)))

    adapter.unregister_webhook(credentials=CREDENTIALS)

    assert len(mocked.calls) == 1


def test_it_has_nothing_to_clear_when_the_number_is_gone(mocked):
    mocked.get(LIST_URL, json=listing())

    adapter.unregister_webhook(credentials=CREDENTIALS)

    assert len(mocked.calls) == 1


# --- transient failures ------------------------------------------------------------------


def test_it_passes_on_how_long_twilio_asks_us_to_wait(mocked):
    mocked.get(
        LIST_URL,
        status=429,
        headers={"Retry-After": "7"},
        json={"code": 20429, "message": "Too Many Requests", "status": 429},
    )

    with pytest.raises(ProviderError) as caught:
        identify()

    error = caught.value
    assert not error.permanent
    assert error.retry_after == 7
    assert error.code == "20429"


def test_it_treats_a_twilio_outage_as_temporary(mocked):
    mocked.get(LIST_URL, status=503, body="Service Unavailable")

    with pytest.raises(ProviderError) as caught:
        identify()

    assert not caught.value.permanent
    assert caught.value.message == (
        "Twilio could not be reached (HTTP 503); try again in a few minutes."
    )


def test_it_treats_a_timeout_as_temporary(mocked):
    mocked.get(LIST_URL, body=requests.ConnectTimeout())

    with pytest.raises(ProviderError) as caught:
        identify()

    assert caught.value.message == "Twilio did not answer in time"
    assert not caught.value.permanent


def test_it_reads_problem_json_errors(mocked):
    mocked.post(
        NUMBER_URL,
        status=400,
        json={
            "type": "https://www.twilio.com/docs/errors/21402",
            "title": "Invalid URL",
            "status": 400,
            "code": 21402,
            "detail": "SmsUrl is not a valid URL",
        },
    )
    mocked.get(LIST_URL, json=listing(incoming_number()))

    with pytest.raises(ProviderError) as caught:
        adapter.register_webhook(credentials=CREDENTIALS, webhook_url="not a url")

    assert caught.value.message == "Twilio refused the request: SmsUrl is not a valid URL"
    assert caught.value.code == "21402"
    assert caught.value.permanent


def test_it_never_logs_the_auth_token(mocked, caplog):
    mocked.get(LIST_URL, status=401, json={"code": 20003, "message": "Authenticate"})
    caplog.set_level(logging.DEBUG)

    with pytest.raises(ProviderError) as caught:
        identify()
    logging.getLogger("tests").error("adding the channel failed", exc_info=caught.value)

    assert "provider call: GET" in caplog.text
    assert "Twilio did not accept" in caplog.text
    assert AUTH not in caplog.text
    assert BASIC.split()[1] not in caplog.text


def test_it_generates_no_secrets():
    assert adapter.generated_secrets() == {}
    assert adapter.manual_setup is False
