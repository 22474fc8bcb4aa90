"""Sending to Instagram and fetching customers' files, at the HTTP level.

The Send API as "Send a Message" documents it for Instagram (POST /<PAGE_ID>/messages
with the linked Page's token, recipient.id the IGSID: https://developers.facebook.com/
docs/messenger-platform/instagram/features/send-message), the HUMAN_AGENT tag for a
person's reply within 7 days (https://developers.facebook.com/docs/features-reference/
human-agent) and Graph's error codes (code 10 / subcode 2534022 "This message is sent
outside of allowed window").
"""

import json
import logging

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
from integrations.instagram.adapter import InstagramAdapter
from integrations.instagram.credentials import Credentials

PAGE_ID = "134895793791914"
TOKEN = "EAAsandboxInstagramAcmePageToken0001"
CREDENTIALS = Credentials(
    page_id=PAGE_ID,
    instagram_account_id="17841405822304914",
    page_access_token=TOKEN,
    app_secret="5b1f0c1e8d2a4e6f9a0b3c4d5e6f7a8b",
    verify_token="vt-0123456789abcdef",
)
IGSID = "6843718926432597"
MID = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1ODIyMzA0OTE0OnNlbnQ="
CDN = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=18290461234567890&signature=Ab"
PHOTO = b"\xff\xd8\xff\xe0" + b"jpeg" * 256

adapter = InstagramAdapter()


def graph(path: str) -> str:
    return f"{settings.META_GRAPH_API_URL}{path}"


SEND_URL = graph(f"/{PAGE_ID}/messages")


def accepted() -> dict:
    return {"body": json.dumps({"recipient_id": IGSID, "message_id": MID}), "status": 200}


def graph_refusal(code: int, message: str, *, subcode=None, status=400, **extra) -> dict:
    error = {"message": message, "type": "IGApiException", "code": code, "fbtrace_id": "BLBz"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"body": json.dumps({"error": error}), "status": status, **extra}


OUTSIDE_WINDOW = graph_refusal(
    10, "This message is sent outside of allowed window.", subcode=2534022, status=403
)


def answers(mocked, *replies: dict) -> None:
    """The Send API answers each call in turn."""
    for reply in replies:
        mocked.post(SEND_URL, content_type="application/json", **reply)


def send(**message) -> str:
    return adapter.send(credentials=CREDENTIALS, message=OutboundMessage(to=IGSID, **message))


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


# --- text and files -------------------------------------------------------------------------


def test_it_sends_text_as_a_response(mocked):
    """Send a Message: recipient.id is the IGSID, message.text the text."""
    answers(mocked, accepted())

    assert send(text="Yes, the blue tote is in stock.") == MID
    assert sent_bodies(mocked) == [
        {
            "recipient": {"id": IGSID},
            "messaging_type": "RESPONSE",
            "message": {"text": "Yes, the blue tote is in stock."},
        }
    ]


def test_it_writes_an_inbox_reply_as_plain_text():
    assert adapter.format_html("<p><b>Hello</b> <a href='https://acme.example'>site</a></p>") == (
        "Hello site (https://acme.example)"
    )


@pytest.mark.parametrize(
    ("mime_type", "kind"),
    [
        ("image/jpeg", "image"),
        ("video/mp4", "video"),
        ("audio/mp4", "audio"),
        ("application/pdf", "file"),
    ],
)
def test_it_sends_a_file_as_an_attachment_by_link(mocked, mime_type, kind):
    """Send a Message: message.attachment.type image, video or audio with payload.url
    (Upload Media for Instagram Messaging adds file, PDF)."""
    answers(mocked, accepted())
    media = OutboundMedia(url="https://octopods.example/m/signed/abc", mime_type=mime_type)

    assert send(media=media) == MID
    (sent,) = sent_bodies(mocked)
    assert sent["message"] == {
        "attachment": {"type": kind, "payload": {"url": "https://octopods.example/m/signed/abc"}}
    }
    assert adapter.takes_caption(media) is False


def test_it_refuses_templates_as_whatsapps(mocked):
    error = failure(template=TemplateMessage(name="order_update", language="en"))

    assert error.permanent
    assert "WhatsApp" in error.message
    assert not mocked.calls


def test_it_refuses_a_message_with_nothing_to_send(mocked):
    assert failure(text="  ").permanent
    assert not mocked.calls


# --- the messaging window -------------------------------------------------------------------


def test_it_sends_again_as_a_human_agent_outside_the_24_hour_window(mocked):
    """Human Agent: a person's reply may go out up to 7 days after the customer's last
    message with messaging_type MESSAGE_TAG and tag HUMAN_AGENT."""
    answers(mocked, OUTSIDE_WINDOW, accepted())

    assert send(text="Sorry for the wait!") == MID
    first, second = sent_bodies(mocked)
    assert first["messaging_type"] == "RESPONSE" and "tag" not in first
    assert second == {
        "recipient": {"id": IGSID},
        "messaging_type": "MESSAGE_TAG",
        "tag": "HUMAN_AGENT",
        "message": {"text": "Sorry for the wait!"},
    }


def test_it_explains_what_the_agent_can_do_when_even_a_human_agent_is_too_late(mocked):
    answers(mocked, OUTSIDE_WINDOW, OUTSIDE_WINDOW)

    error = failure(text="Hello again")

    assert error.permanent
    assert error.code == "10"
    assert error.message.startswith("Instagram only lets a business reply within 24 hours")
    assert "7 days" in error.message
    assert "once the customer writes again" in error.message
    assert len(mocked.calls) == 2


def test_it_also_knows_messengers_window_refusal(mocked):
    answers(mocked, graph_refusal(10, "(#10) outside of allowed window", subcode=2018278))
    answers(mocked, accepted())

    assert send(text="hi") == MID


def test_it_does_not_retry_other_refusals_as_a_human_agent(mocked):
    answers(mocked, graph_refusal(10, "(#10) Application does not have permission", status=403))

    failure(text="hi")

    assert len(mocked.calls) == 1


# --- other refusals --------------------------------------------------------------------------


def test_it_asks_to_reconnect_the_channel_when_the_token_has_expired(mocked):
    answers(
        mocked,
        graph_refusal(
            190,
            "Error validating access token: Session has expired on Friday, 05-Dec-26.",
            subcode=463,
            status=401,
        ),
    )

    error = failure(text="hi")

    assert error.unauthorized and error.permanent
    assert error.message.startswith("Meta no longer accepts the channel's Page access token")
    assert "Reconnect the Instagram channel" in error.message


def test_it_retries_a_rate_limit_after_the_delay_meta_gives(mocked):
    answers(
        mocked,
        graph_refusal(
            613,
            "(#613) Calls to this api have exceeded the rate limit.",
            status=429,
            headers={"Retry-After": "60"},
        ),
    )

    error = failure(text="hi")

    assert not error.permanent
    assert error.retry_after == 60
    assert "tries again" in error.message


def test_it_says_when_the_customer_cannot_be_reached(mocked):
    answers(mocked, graph_refusal(551, "This person isn't available right now."))

    error = failure(text="hi")

    assert error.permanent
    assert "cannot receive messages" in error.message


def test_it_says_when_the_customer_is_unknown_to_the_account(mocked):
    answers(mocked, graph_refusal(100, "No matching user found", subcode=2534014))

    error = failure(text="hi")

    assert error.permanent
    assert "no customer with this id" in error.message


def test_it_asks_to_reconnect_when_the_token_may_not_send(mocked):
    answers(
        mocked,
        graph_refusal(200, "(#200) Requires instagram_manage_messages permission", status=403),
    )

    error = failure(text="hi")

    assert error.permanent
    assert "instagram_manage_messages" in error.message


def test_it_retries_when_meta_is_down(mocked):
    mocked.post(SEND_URL, status=500, body="oops")

    assert not failure(text="hi").permanent


def test_it_retries_a_timeout(mocked):
    mocked.post(SEND_URL, body=requests.ConnectTimeout("slow"))

    assert not failure(text="hi").permanent


def test_it_refuses_an_answer_without_a_message_id(mocked):
    answers(mocked, {"body": json.dumps({"recipient_id": IGSID}), "status": 200})

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

    assert fetched.content == PHOTO
    assert fetched.mime_type == "image/jpeg"
    (call,) = mocked.calls
    assert "Authorization" not in call.request.headers


def test_it_fetches_from_instagrams_cdn(mocked):
    url = "https://scontent-ams2-1.cdninstagram.com/v/t51.2885-15/123_n.jpg?oh=abc"
    mocked.get(url, body=PHOTO, content_type="image/jpeg")

    assert fetch(ref=url).filename == "123_n.jpg"


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/x.jpg",
        "https://cdninstagram.com.evil.example/x.jpg",
        "http://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1",
        "https://169.254.169.254/latest/meta-data/",
    ],
)
def test_it_refuses_an_attachment_off_metas_hosts(mocked, url):
    error = fetch_failure(ref=url)

    assert error.permanent
    assert not mocked.calls


def test_it_says_when_an_attachment_link_has_expired(mocked):
    mocked.get(CDN, status=404, body="")

    error = fetch_failure()

    assert error.permanent
    assert "expired" in error.message


def test_it_stops_reading_at_the_size_cap(mocked):
    mocked.get(CDN, body=PHOTO)

    error = fetch_failure(max_bytes=100)

    assert error.permanent
    assert error.code == "too_large"


def test_it_refuses_a_file_it_knows_is_too_large_without_fetching(mocked):
    assert fetch_failure(max_bytes=100, size=5000).permanent
    assert not mocked.calls


# --- secrets ------------------------------------------------------------------------------


def test_it_never_logs_the_page_token(mocked, caplog):
    caplog.set_level(logging.DEBUG)
    answers(mocked, graph_refusal(190, "Error validating access token", status=401))

    error = failure(text="hi")
    logging.getLogger("tests").error("the send failed", exc_info=error)

    assert "provider call: POST" in caplog.text
    assert TOKEN not in caplog.text
