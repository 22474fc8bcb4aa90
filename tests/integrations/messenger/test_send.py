import json
import logging
from urllib.parse import urlsplit

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
from integrations.messenger.credentials import Credentials
from integrations.registry import channel_adapter

PAGE_ID = "300000000000001"
TOKEN = "EAAsandboxMessengerAcmePageToken0001"
CREDENTIALS = Credentials(
    page_id=PAGE_ID,
    page_access_token=TOKEN,
    app_secret="5b1f0c1e8d2a4e6f9a0b3c4d5e6f7a8b",
    verify_token="vt-0123456789abcdef",
)
PSID = "6000000000000001"
MID = "m_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
CDN = "https://scontent.xx.fbcdn.net/v/t1.15752-9/123_456_n.jpg?_nc_cat=1&oh=abc&oe=6700"
PHOTO = b"\xff\xd8\xff\xe0" + b"jpeg" * 256

adapter = channel_adapter("messenger")


def graph(path: str) -> str:
    return f"{settings.META_GRAPH_API_URL}{path}"


SEND_URL = graph(f"/{PAGE_ID}/messages")


def accepted() -> dict:
    return {"body": json.dumps({"recipient_id": PSID, "message_id": MID}), "status": 200}


def graph_refusal(code: int, message: str, *, subcode=None, status=400) -> dict:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "BLBz"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"body": json.dumps({"error": error}), "status": status}


OUTSIDE_WINDOW = graph_refusal(
    10, "(#10) This message is sent outside of allowed window.", subcode=2018278
)


def answers(mocked, *replies: dict) -> None:
    """The Send API answers each call in turn."""
    for reply in replies:
        mocked.post(SEND_URL, content_type="application/json", **reply)


def send(**message) -> str:
    return adapter.send(credentials=CREDENTIALS, message=OutboundMessage(to=PSID, **message))


def failure(**message) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        send(**message)
    return caught.value


def sent_bodies(mocked) -> list[dict]:
    for call in mocked.calls:
        assert call.request.method == "POST"
        assert call.request.url == SEND_URL
        assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"
    return [json.loads(call.request.body) for call in mocked.calls]


# --- message shapes ------------------------------------------------------------------------


def test_it_sends_text_as_a_response(mocked):
    answers(mocked, accepted())

    message_id = send(text="Your order shipped (https://acme.example/t/1)")

    assert message_id == MID
    assert sent_bodies(mocked) == [
        {
            "recipient": {"id": PSID},
            "messaging_type": "RESPONSE",
            "message": {"text": "Your order shipped (https://acme.example/t/1)"},
        }
    ]


@pytest.mark.parametrize(
    ("mime_type", "kind"),
    [
        ("image/jpeg", "image"),
        ("video/mp4", "video"),
        ("audio/mpeg", "audio"),
        ("application/pdf", "file"),
        ("", "file"),
    ],
)
def test_it_sends_a_file_as_an_attachment_by_link(mocked, mime_type, kind):
    answers(mocked, accepted())

    send(media=OutboundMedia(url="https://bridge.example.com/m/abc", mime_type=mime_type))

    assert sent_bodies(mocked) == [
        {
            "recipient": {"id": PSID},
            "messaging_type": "RESPONSE",
            "message": {
                "attachment": {
                    "type": kind,
                    "payload": {"url": "https://bridge.example.com/m/abc", "is_reusable": True},
                }
            },
        }
    ]


def test_it_sends_a_file_without_its_text_since_messenger_has_no_captions(mocked):
    answers(mocked, accepted())
    media = OutboundMedia(url="https://bridge.example.com/m/abc", mime_type="image/png")

    send(text="the relay sends this on its own", media=media)

    (body,) = sent_bodies(mocked)
    assert "text" not in body["message"]
    assert adapter.takes_caption(media) is False


def test_it_refuses_templates_as_whatsapps(mocked):
    error = failure(template=TemplateMessage(name="order_update", language="en"))

    assert error.permanent
    assert "WhatsApp" in error.message
    assert not mocked.calls


def test_it_refuses_a_message_with_nothing_to_send(mocked):
    assert failure(text="").permanent
    assert not mocked.calls


# --- the 24-hour window and HUMAN_AGENT -------------------------------------------------------


def test_it_sends_again_as_a_human_agent_outside_the_24_hour_window(mocked):
    answers(mocked, OUTSIDE_WINDOW, accepted())

    message_id = send(text="Sorry for the wait")

    assert message_id == MID
    first, second = sent_bodies(mocked)
    assert first["messaging_type"] == "RESPONSE"
    assert "tag" not in first
    assert second == {
        "recipient": {"id": PSID},
        "messaging_type": "MESSAGE_TAG",
        "tag": "HUMAN_AGENT",
        "message": {"text": "Sorry for the wait"},
    }


def test_it_gives_up_when_even_a_human_agent_is_too_late(mocked):
    answers(mocked, OUTSIDE_WINDOW, OUTSIDE_WINDOW)

    error = failure(text="Sorry for the wait")

    assert error.permanent
    assert error.code == "10"
    assert "within 7 days" in error.message
    assert "once the customer writes again" in error.message
    assert len(mocked.calls) == 2


def test_it_does_not_retry_other_refusals_as_a_human_agent(mocked):
    answers(mocked, graph_refusal(551, "(#551) This person isn't available right now."))

    error = failure(text="hi")

    assert error.permanent
    assert "cannot receive messages from the Page" in error.message
    assert len(mocked.calls) == 1


def test_it_passes_on_another_refusal_of_the_human_agent_retry(mocked):
    answers(
        mocked,
        OUTSIDE_WINDOW,
        graph_refusal(613, "(#613) Calls to this api have exceeded the rate limit."),
    )

    error = failure(text="hi")

    assert not error.permanent
    assert len(mocked.calls) == 2


# --- errors ------------------------------------------------------------------------------


def test_it_asks_to_reconnect_the_channel_when_the_token_is_refused(mocked):
    answers(mocked, graph_refusal(190, "Error validating access token", status=401))

    error = failure(text="hi")

    assert error.permanent
    assert error.unauthorized
    assert "Reconnect the channel" in error.message


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (613, "(#613) Calls to this api have exceeded the rate limit."),
        (4, "(#4) Application request limit reached"),
    ],
)
def test_it_retries_rate_limits(mocked, code, message):
    answers(mocked, graph_refusal(code, message))

    error = failure(text="hi")

    assert not error.permanent
    assert "tries again" in error.message


def test_it_says_when_the_customer_is_unknown_to_the_page(mocked):
    answers(mocked, graph_refusal(100, "(#100) No matching user found", subcode=2018001))

    error = failure(text="hi")

    assert error.permanent
    assert "no customer with this id" in error.message


def test_it_asks_to_reconnect_when_the_token_may_not_send(mocked):
    answers(mocked, graph_refusal(200, "(#200) Requires pages_messaging permission", status=403))

    error = failure(text="hi")

    assert error.permanent
    assert "pages_messaging" in error.message


def test_it_retries_when_meta_is_down(mocked):
    mocked.post(SEND_URL, status=500, body="oops")

    assert not failure(text="hi").permanent


def test_it_retries_a_timeout(mocked):
    mocked.post(SEND_URL, body=requests.ConnectTimeout("slow"))

    assert not failure(text="hi").permanent


# --- media --------------------------------------------------------------------------------


def fetch(ref=CDN, max_bytes=1_000_000, **media) -> FetchedMedia:
    return adapter.fetch_media(
        credentials=CREDENTIALS, media=Media(ref=ref, **media), max_bytes=max_bytes
    )


def fetch_failure(**kwargs) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        fetch(**kwargs)
    return caught.value


def test_it_fetches_an_attachment_from_metas_cdn_without_the_token(mocked):
    mocked.get(CDN, body=PHOTO, content_type="image/jpeg")

    fetched = fetch()

    assert fetched == FetchedMedia(content=PHOTO, mime_type="image/jpeg", filename="123_456_n.jpg")
    (call,) = mocked.calls
    assert "Authorization" not in call.request.headers


def test_it_keeps_the_filename_of_a_file(mocked):
    url = "https://cdn.fbsbx.com/v/t59.2708-21/99_n.pdf/Invoice%20May.pdf?_nc_cat=1"
    mocked.get(url, body=b"%PDF", content_type="application/pdf")

    fetched = fetch(ref=url, filename="Invoice May.pdf")

    assert fetched.filename == "Invoice May.pdf"
    assert fetched.mime_type == "application/pdf"


def test_it_fetches_from_the_configured_api_host(mocked):
    api = urlsplit(settings.META_GRAPH_API_URL)
    url = f"{api.scheme}://{api.netloc}/sandbox/graph/fbcdn/abc.jpg"
    mocked.get(url, body=PHOTO, content_type="image/jpeg")

    assert fetch(ref=url).content == PHOTO


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/x.jpg",
        "https://fbcdn.net.evil.example/x.jpg",
        "https://evilfbcdn.net/x.jpg",
        "http://scontent.xx.fbcdn.net/x.jpg",
        "https://169.254.169.254/latest/meta-data/",
    ],
)
def test_it_refuses_an_attachment_off_metas_hosts(mocked, url):
    error = fetch_failure(ref=url)

    assert error.permanent
    assert "not one of Messenger's own servers" in error.message
    assert not mocked.calls


def test_it_follows_a_redirect_only_within_metas_hosts(mocked):
    other = "https://video.xx.fbcdn.net/v/x.mp4"
    mocked.get(CDN, status=302, headers={"Location": other})
    mocked.get(other, body=b"mp4", content_type="video/mp4")

    assert fetch().mime_type == "video/mp4"

    mocked.get(
        "https://scontent.xx.fbcdn.net/moved",
        status=302,
        headers={"Location": "https://evil.example/"},
    )
    assert fetch_failure(ref="https://scontent.xx.fbcdn.net/moved").permanent


def test_it_says_when_an_attachment_link_has_expired(mocked):
    mocked.get(CDN, status=403, body="URL signature expired")

    error = fetch_failure()

    assert error.permanent
    assert "expired" in error.message


def test_it_stops_reading_at_the_size_cap(mocked):
    mocked.get(CDN, body=PHOTO)

    error = fetch_failure(max_bytes=100)

    assert error.permanent
    assert error.code == "too_large"


def test_it_retries_when_the_cdn_is_down(mocked):
    mocked.get(CDN, status=503, body="")

    assert not fetch_failure().permanent


# --- secrets ------------------------------------------------------------------------------


def test_it_never_logs_the_page_token(mocked, caplog):
    caplog.set_level(logging.DEBUG)
    answers(mocked, graph_refusal(190, "Error validating access token", status=401))

    error = failure(text="hi")
    logging.getLogger("tests").error("the send failed", exc_info=error)

    assert "provider call: POST" in caplog.text
    assert TOKEN not in caplog.text
