import base64
import logging
from urllib.parse import parse_qs

import pytest
import requests
from django.conf import settings

from integrations.base import ProviderError
from integrations.channel import (
    FetchedMedia,
    Media,
    OutboundMedia,
    OutboundMessage,
    TemplateMessage,
)
from integrations.registry import channel_adapter
from integrations.twilio.credentials import Credentials

SID = "AC5a0d1e2f3a4b5c6d7e8f90a1b2c3d4e5"
AUTH = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
NUMBER = "+15550002222"
CUSTOMER = "+15551234567"
CREDENTIALS = Credentials(account_sid=SID, auth_token=AUTH, phone_number=NUMBER)
BASIC = "Basic " + base64.b64encode(f"{SID}:{AUTH}".encode()).decode()
MESSAGE_SID = "SM0123456789abcdef0123456789abcdef"
CALLBACK = "https://bridge.example.com/hooks/sms/chn_3f9a1c2b7d/"
PHOTO = b"\xff\xd8\xff\xe0" + b"jpeg" * 256

adapter = channel_adapter("sms")


def api(path: str) -> str:
    return f"{settings.TWILIO_API_URL}/2010-04-01/Accounts/{SID}{path}"


MESSAGES_URL = api("/Messages.json")
MEDIA_PATH = f"/2010-04-01/Accounts/{SID}/Messages/MM0a1b/Media/ME9f8e"
MEDIA_URL = f"https://api.twilio.com{MEDIA_PATH}"
CDN_URL = "https://mms.twiliocdn.com/AC5a0d/0f1e2d3c4b5a?Expires=1&Signature=x"


def accepted(mocked) -> None:
    mocked.post(
        MESSAGES_URL,
        status=201,
        json={"sid": MESSAGE_SID, "status": "queued", "to": CUSTOMER, "from": NUMBER},
    )


def refused(mocked, status: int, code: int, message: str, *, headers=None) -> None:
    mocked.post(
        MESSAGES_URL,
        status=status,
        json={
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        headers=headers or {},
    )


def send(**message) -> str:
    return adapter.send(credentials=CREDENTIALS, message=OutboundMessage(to=CUSTOMER, **message))


def failure(**message) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        send(**message)
    return caught.value


def sent_form(mocked) -> dict:
    (call,) = mocked.calls
    assert call.request.method == "POST"
    assert call.request.url == MESSAGES_URL
    assert call.request.headers["Authorization"] == BASIC
    assert call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    return parse_qs(call.request.body)


# --- message shapes ------------------------------------------------------------------------


def test_it_sends_an_sms_from_the_channels_number(mocked):
    accepted(mocked)

    message_id = send(text="Your order shipped (https://acme.example/t/1)")

    assert message_id == MESSAGE_SID
    assert sent_form(mocked) == {
        "To": [CUSTOMER],
        "From": [NUMBER],
        "Body": ["Your order shipped (https://acme.example/t/1)"],
    }


def test_it_asks_for_delivery_statuses_where_the_relay_says(mocked):
    accepted(mocked)

    send(text="hi", status_callback=CALLBACK)

    # Retried by Twilio up to five times on any failure (connection overrides).
    assert sent_form(mocked)["StatusCallback"] == [CALLBACK + "#rc=5&rp=all"]


def test_it_sends_a_file_as_mms_with_its_text(mocked):
    accepted(mocked)
    media = OutboundMedia(url="https://bridge.example.com/m/abc", mime_type="image/jpeg")

    send(text="Here it is", media=media, status_callback=CALLBACK)

    assert sent_form(mocked) == {
        "To": [CUSTOMER],
        "From": [NUMBER],
        "Body": ["Here it is"],
        "MediaUrl": ["https://bridge.example.com/m/abc"],
        "StatusCallback": [CALLBACK + "#rc=5&rp=all"],
    }
    assert adapter.takes_caption(media)


def test_it_sends_a_file_without_text(mocked):
    accepted(mocked)

    send(media=OutboundMedia(url="https://bridge.example.com/m/abc"))

    assert sent_form(mocked) == {
        "To": [CUSTOMER],
        "From": [NUMBER],
        "MediaUrl": ["https://bridge.example.com/m/abc"],
    }


def test_it_refuses_templates_as_whatsapps(mocked):
    error = failure(template=TemplateMessage(name="order_update", language="en_US"))

    assert error.permanent
    assert "WhatsApp" in error.message
    assert not mocked.calls


def test_it_refuses_a_message_with_nothing_to_send(mocked):
    error = failure(text="")

    assert error.permanent
    assert not mocked.calls


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "says"),
    [
        (21211, "not a valid number"),
        (21614, "not a mobile number"),
        (21610, "replied STOP"),
        (21612, "cannot route"),
        (21408, "Geo permissions"),
        (21608, "trial account"),
        (21606, "can no longer send SMS"),
        (21617, "1,600 characters"),
    ],
)
def test_it_says_what_to_do_when_twilio_will_never_send_it(mocked, code, says):
    refused(mocked, 400, code, "Twilio's own words")

    error = failure(text="hi")

    assert error.permanent
    assert error.code == str(code)
    assert says in error.message


def test_it_asks_to_reconnect_the_channel_when_the_credentials_are_refused(mocked):
    refused(mocked, 401, 20003, "Authenticate")

    error = failure(text="hi")

    assert error.permanent
    assert error.unauthorized
    assert "Reconnect the channel" in error.message


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (400, 63018)])
def test_it_retries_rate_limits_after_the_wait_twilio_asks(mocked, status, code):
    refused(mocked, status, code, "Too Many Requests", headers={"Retry-After": "12"})

    error = failure(text="hi")

    assert not error.permanent
    assert error.retry_after == 12
    assert "in 12 seconds" in error.message


def test_it_retries_when_twilio_is_down(mocked):
    mocked.post(MESSAGES_URL, status=503, body="Service Unavailable")

    error = failure(text="hi")

    assert not error.permanent


def test_it_retries_a_timeout(mocked):
    mocked.post(MESSAGES_URL, body=requests.ReadTimeout("slow"))

    assert not failure(text="hi").permanent


def test_it_quotes_twilio_on_an_error_it_has_no_words_for(mocked):
    refused(mocked, 400, 21602, "Message body is required.")

    error = failure(text="hi")

    assert error.permanent
    assert error.message == "Twilio refused the request: Message body is required."


# --- media --------------------------------------------------------------------------------


def fetch(ref=MEDIA_URL, max_bytes=1_000_000, **media) -> FetchedMedia:
    return adapter.fetch_media(
        credentials=CREDENTIALS, media=Media(ref=ref, **media), max_bytes=max_bytes
    )


def fetch_failure(**kwargs) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        fetch(**kwargs)
    return caught.value


def test_it_follows_twilios_redirect_to_its_media_host_without_the_credentials(mocked):
    mocked.get(MEDIA_URL, status=307, headers={"Location": CDN_URL})
    mocked.get(CDN_URL, body=PHOTO, content_type="image/jpeg")

    fetched = fetch(mime_type="image/png")

    assert fetched == FetchedMedia(content=PHOTO, mime_type="image/jpeg")
    first, second = mocked.calls
    assert first.request.headers["Authorization"] == BASIC
    assert second.request.url == CDN_URL
    assert "Authorization" not in second.request.headers


def test_it_follows_the_redirect_of_older_media_to_twilios_bucket(mocked):
    bucket = f"https://s3-external-1.amazonaws.com/media.twiliocdn.com/{SID}/0f1e2d"
    mocked.get(MEDIA_URL, status=302, headers={"Location": bucket})
    mocked.get(bucket, body=PHOTO, content_type="image/jpeg")

    assert fetch().content == PHOTO


def test_it_fetches_from_the_configured_api_host(mocked):
    url = api("/Messages/MM0a1b/Media/ME9f8e")
    mocked.get(url, body=PHOTO, content_type="image/gif")

    fetched = fetch(ref=url)

    assert fetched.mime_type == "image/gif"
    assert mocked.calls[0].request.headers["Authorization"] == BASIC


def test_it_keeps_the_filename_twilio_gives(mocked):
    mocked.get(
        MEDIA_URL,
        body=b"%PDF",
        content_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="../../invoice.pdf"'},
    )

    assert fetch().filename == "invoice.pdf"


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/2010-04-01/Accounts/AC5a0d1e2f3a4b5c6d7e8f90a1b2c3d4e5/Messages/x",
        "http://api.twilio.com" + MEDIA_PATH,
        "https://api.twilio.com/2010-04-01/Accounts/ACsomeoneelse/Messages/MM1/Media/ME1",
        "https://mms.twiliocdn.com/AC5a0d/0f1e2d",  # a CDN link is never the first hop
    ],
)
def test_it_sends_the_credentials_only_to_this_accounts_media(mocked, url):
    error = fetch_failure(ref=url)

    assert error.permanent
    assert not mocked.calls


@pytest.mark.parametrize(
    "location",
    [
        "https://evil.example/x",
        "https://s3-external-1.amazonaws.com/someone-elses-bucket/x",
        "http://mms.twiliocdn.com/x",
    ],
)
def test_it_refuses_a_redirect_off_twilios_media_hosts(mocked, location):
    mocked.get(MEDIA_URL, status=302, headers={"Location": location})

    error = fetch_failure()

    assert error.permanent
    assert "not one of Twilio's own servers" in error.message
    assert len(mocked.calls) == 1


def test_it_gives_up_after_too_many_redirects(mocked):
    mocked.get(MEDIA_URL, status=302, headers={"Location": MEDIA_URL})

    error = fetch_failure()

    assert error.permanent
    assert "too many redirects" in error.message


def test_it_stops_reading_at_the_size_cap(mocked):
    mocked.get(MEDIA_URL, status=307, headers={"Location": CDN_URL})
    mocked.get(CDN_URL, body=PHOTO)

    error = fetch_failure(max_bytes=100)

    assert error.permanent
    assert error.code == "too_large"


def test_it_says_when_the_file_is_gone(mocked):
    mocked.get(MEDIA_URL, status=404, json={"code": 20404, "message": "Not found", "status": 404})

    error = fetch_failure()

    assert error.permanent
    assert "the file is gone" in error.message


def test_it_retries_a_download_that_times_out(mocked):
    mocked.get(MEDIA_URL, status=307, headers={"Location": CDN_URL})
    mocked.get(CDN_URL, body=requests.ReadTimeout("slow"))

    assert not fetch_failure().permanent


# --- secrets ------------------------------------------------------------------------------


def test_it_never_logs_the_auth_token(mocked, caplog):
    caplog.set_level(logging.DEBUG)
    refused(mocked, 401, 20003, "Authenticate")
    mocked.get(MEDIA_URL, status=307, headers={"Location": CDN_URL})
    mocked.get(CDN_URL, body=PHOTO)

    error = failure(text="hi")
    logging.getLogger("tests").error("the send failed", exc_info=error)
    fetch()

    assert "provider call: POST" in caplog.text
    assert "provider call: GET" in caplog.text
    assert AUTH not in caplog.text
    assert BASIC.split()[1] not in caplog.text
