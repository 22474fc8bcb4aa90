"""Replies to LINE customers (push messages) and their files, at the HTTP level.

Send push message: https://developers.line.biz/en/reference/messaging-api/#send-push-message
Retry key: https://developers.line.biz/en/docs/messaging-api/retrying-api-request/
Quota: https://developers.line.biz/en/reference/messaging-api/#get-quota
Content: https://developers.line.biz/en/reference/messaging-api/#get-content
"""

import json
import uuid

import pytest

from integrations.base import ProviderError
from integrations.channel import (
    FetchedMedia,
    Media,
    OutboundMedia,
    OutboundMessage,
    TemplateMessage,
)
from integrations.line.adapter import LineAdapter
from integrations.line.client import api_url, data_api_url, retry_key
from integrations.line.credentials import Credentials

TOKEN = "eyJhbGciOiJIUzI1NiJ9.tokenForAcme/w1cDnyilFU="
CUSTOMER = "U4af4980629a0b7c2d0e1f2a3b4c5d6e7"
CREDENTIALS = Credentials(
    channel_access_token=TOKEN,
    channel_secret="8c0f3a7e1b2d4c5f6a7b8c9d0e1f2a3b",
    bot_user_id="Ub1b2c3d4e5f60718293a4b5c6d7e8f90",
    basic_id="@acme",
)
PUSH = f"{api_url()}/v2/bot/message/push"
FILE = "https://bridge.example.com/files/abc123/photo.png?sig=xyz"
SENT = {"sentMessages": [{"id": "461230966842064897", "quoteToken": "IStG5h1Tz7b..."}]}
MONTHLY = {"message": "You have reached your monthly limit."}

adapter = LineAdapter()


def send(**message) -> str:
    return adapter.send(credentials=CREDENTIALS, message=OutboundMessage(to=CUSTOMER, **message))


def pushed(mocked, index: int = 0) -> dict:
    return json.loads(mocked.calls[index].request.body)


# --- text ---------------------------------------------------------------------------------


def test_a_text_reply_is_pushed_with_a_retry_key(mocked):
    """Send push message with X-Line-Retry-Key: the key is a UUID, stable per message."""
    mocked.post(PUSH, json=SENT)

    sent = send(text="Hello from Acme", idempotency_key="octopods-42")

    assert sent == "461230966842064897"
    (call,) = mocked.calls
    assert pushed(mocked) == {
        "to": CUSTOMER,
        "messages": [{"type": "text", "text": "Hello from Acme"}],
    }
    assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"
    key = call.request.headers["X-Line-Retry-Key"]
    assert uuid.UUID(key) and key == retry_key("octopods-42")


def test_a_retry_of_one_message_carries_the_same_key_and_another_message_another(mocked):
    mocked.post(PUSH, json=SENT)
    send(text="Hi", idempotency_key="octopods-42")
    send(text="Hi", idempotency_key="octopods-42")
    send(text="Hi", idempotency_key="octopods-43")
    keys = [call.request.headers["X-Line-Retry-Key"] for call in mocked.calls]
    assert keys[0] == keys[1] != keys[2]


def test_without_an_idempotency_key_no_retry_key_is_sent(mocked):
    mocked.post(PUSH, json=SENT)
    send(text="Hi")
    assert "X-Line-Retry-Key" not in mocked.calls[0].request.headers


def test_a_retry_line_already_accepted_is_a_success(mocked):
    """Retry failed API requests: a repeat of an accepted request answers 409 with the
    first request's id in X-Line-Accepted-Request-Id."""
    mocked.post(
        PUSH,
        status=409,
        json={"message": "The retry key is already accepted"},
        headers={"X-Line-Accepted-Request-Id": "123e4567-e89b-12d3-a456-426614174000"},
    )
    sent = send(text="Hi", idempotency_key="octopods-42")
    assert sent == "request:123e4567-e89b-12d3-a456-426614174000"


def test_html_becomes_plain_text():
    assert adapter.format_html("<p><b>Hi</b> <a href='https://acme.example'>site</a></p>") == (
        "Hi site (https://acme.example)"
    )


def test_an_empty_reply_is_refused_before_calling(mocked):
    with pytest.raises(ProviderError, match="nothing LINE can send"):
        send(text="  ")
    assert not mocked.calls


def test_a_template_is_refused(mocked):
    with pytest.raises(ProviderError, match="WhatsApp feature"):
        send(template=TemplateMessage(name="hello", language="en"))


# --- files ----------------------------------------------------------------------------------


def test_an_image_goes_by_its_https_url_with_its_text(mocked):
    """Image message: originalContentUrl and previewImageUrl, both HTTPS; up to five
    messages in one push."""
    mocked.post(PUSH, json=SENT)
    send(text="Here it is", media=OutboundMedia(url=FILE, mime_type="image/png"))
    assert pushed(mocked)["messages"] == [
        {"type": "image", "originalContentUrl": FILE, "previewImageUrl": FILE},
        {"type": "text", "text": "Here it is"},
    ]


def test_a_pdf_goes_as_a_link(mocked):
    """Message objects: LINE has no file message a bot can send."""
    mocked.post(PUSH, json=SENT)
    send(media=OutboundMedia(url=FILE, mime_type="application/pdf", filename="invoice.pdf"))
    assert pushed(mocked)["messages"] == [{"type": "text", "text": f"📎 invoice.pdf: {FILE}"}]


def test_a_video_goes_as_a_link_with_its_text(mocked):
    """Video message: previewImageUrl (a picture) is required, which a reply's file lacks."""
    mocked.post(PUSH, json=SENT)
    send(text="The demo", media=OutboundMedia(url=FILE, mime_type="video/mp4", filename="d.mp4"))
    assert pushed(mocked)["messages"] == [{"type": "text", "text": f"The demo\n📎 d.mp4: {FILE}"}]


# --- refusals -------------------------------------------------------------------------------


def test_a_used_up_monthly_quota_is_explained_with_the_numbers(mocked):
    """429 "You have reached your monthly limit.", then Get quota and Get consumption."""
    mocked.post(PUSH, status=429, json=MONTHLY)
    mocked.get(f"{api_url()}/v2/bot/message/quota", json={"type": "limited", "value": 200})
    mocked.get(f"{api_url()}/v2/bot/message/quota/consumption", json={"totalUsage": 200})

    with pytest.raises(ProviderError) as refused:
        send(text="Hi", idempotency_key="octopods-42")

    error = refused.value
    assert error.permanent and error.status == 429
    assert "used up the messages its plan allows this month (200 of 200 sent)" in error.message
    assert "push messages" in error.message
    assert "LINE Official Account Manager" in error.message
    assert "first day of next month" in error.message


def test_a_used_up_quota_is_explained_even_when_the_numbers_cannot_be_read(mocked):
    mocked.post(PUSH, status=429, json=MONTHLY)
    mocked.get(f"{api_url()}/v2/bot/message/quota", status=500)
    with pytest.raises(ProviderError, match="used up the messages its plan allows this month\\."):
        send(text="Hi")


def test_a_rate_limit_is_tried_again(mocked):
    """Rate limits: 429 "Too Many Requests" that is not the monthly limit."""
    mocked.post(PUSH, status=429, json={"message": "Too Many Requests"})
    with pytest.raises(ProviderError, match="slow down") as refused:
        send(text="Hi")
    assert refused.value.permanent is False


def test_a_revoked_token_asks_for_a_reconnect(mocked):
    """Status codes: 401 on a send."""
    mocked.post(PUSH, status=401, json={"message": "Authentication failed."})
    with pytest.raises(ProviderError, match="Reconnect the channel") as refused:
        send(text="Hi")
    assert refused.value.unauthorized and refused.value.permanent


def test_a_customer_line_does_not_know_is_explained(mocked):
    mocked.post(
        PUSH,
        status=400,
        json={
            "message": "The request body has 1 error(s)",
            "details": [{"message": "Invalid user ID", "property": "to"}],
        },
    )
    with pytest.raises(ProviderError, match="does not know this customer") as refused:
        send(text="Hi")
    assert refused.value.permanent


def test_lines_own_trouble_is_tried_again(mocked):
    mocked.post(PUSH, status=500, json={"message": "An error occurred"})
    with pytest.raises(ProviderError, match="tries again") as refused:
        send(text="Hi")
    assert refused.value.permanent is False


# --- customers' files -------------------------------------------------------------------------


def content(message_id: str) -> str:
    return f"{data_api_url()}/v2/bot/message/{message_id}/content"


def fetch(media: Media, max_bytes: int = 1_000_000) -> FetchedMedia:
    return adapter.fetch_media(credentials=CREDENTIALS, media=media, max_bytes=max_bytes)


def test_a_file_on_lines_servers_comes_from_the_data_host(mocked):
    """Get content: GET api-data.line.me/v2/bot/message/{messageId}/content."""
    mocked.get(content("325711"), body=b"hello", content_type="text/plain")
    fetched = fetch(Media(ref="325711", filename="file.txt", size=5))
    assert fetched == FetchedMedia(content=b"hello", mime_type="text/plain", filename="file.txt")
    assert mocked.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_a_photo_without_a_name_is_named_after_its_message(mocked):
    mocked.get(content("354718705033693859"), body=b"\xff\xd8jpeg", content_type="image/jpeg")
    fetched = fetch(Media(ref="354718705033693859", mime_type="image/jpeg"))
    assert fetched.mime_type == "image/jpeg"
    assert fetched.filename.startswith("line-354718705033693859")


def test_a_file_larger_than_allowed_is_not_read(mocked):
    mocked.get(content("325711"), body=b"x" * 100, content_type="text/plain")
    with pytest.raises(ProviderError, match="too large") as refused:
        fetch(Media(ref="325711"), max_bytes=10)
    assert refused.value.permanent


def test_a_file_line_no_longer_keeps_is_explained(mocked):
    mocked.get(content("325711"), status=404, json={"message": "Not found"})
    with pytest.raises(ProviderError, match="no longer has") as refused:
        fetch(Media(ref="325711"))
    assert refused.value.permanent


def test_an_external_file_is_fetched_over_https_without_our_token(mocked):
    """contentProvider.type external: originalContentUrl is the customer app's own."""
    mocked.get("https://example.com/original.jpg", body=b"jpeg", content_type="image/jpeg")
    fetched = fetch(Media(ref="https://example.com/original.jpg", mime_type="image/jpeg"))
    assert fetched.filename == "original.jpg"
    assert "Authorization" not in mocked.calls[0].request.headers


def test_an_external_file_over_plain_http_is_refused(mocked):
    with pytest.raises(ProviderError, match="not fetched"):
        fetch(Media(ref="http://example.com/original.jpg"))
    assert not mocked.calls
