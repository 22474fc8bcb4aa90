"""Customer files in an S3-compatible bucket (moto's server, a real one over HTTP): kept
there by the relay, served through our own signed link with the same rules as from
disk, and a bucket that is missing or unreachable holds the message with a reason
instead of losing it or its file."""

import logging
import uuid

import pytest
from django.core import signing

from channels.models import MessageStatus
from relay.media import MEDIA_SALT, media_url
from tests.s3 import SECRET_KEY, S3Server, s3_storages

from .relay_doubles import inbound, make_due, run

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def s3_server():
    server = S3Server().start()
    yield server
    server.stop()


@pytest.fixture
def bucket(s3_server, settings, monkeypatch):
    """A bucket of this test's own (not yet created), and the storage pointed at it."""
    name = f"octopods-{uuid.uuid4().hex[:12]}"
    settings.STORAGES = s3_storages(s3_server, name, monkeypatch)
    return name


def photo(contact, n=1):
    return inbound(
        contact, "receipt", n, type="image", data={"media": {"ref": f"file-{n}", "mime_type": ""}}
    )


def local_path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_a_photo_is_kept_in_the_bucket_and_served_through_our_link(
    s3_server, bucket, contact, inbox, phone, client, settings
):
    s3_server.create_bucket(bucket)
    message = photo(contact)
    assert run(contact).relayed == 1
    (url,) = inbox.deliveries[0].attachment_urls
    # The inbox gets our link, never the bucket's address.
    assert url.startswith(settings.PUBLIC_BASE_URL + "/media/")
    assert s3_server.url not in url and bucket not in url
    message.refresh_from_db()
    key = message.data["stored_media"]["path"]
    assert s3_server.keys(bucket) == [key]
    assert s3_server.body(bucket, key) == b"\x89PNG fake"

    served = client.get(local_path(url))
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == b"\x89PNG fake"
    assert served["Content-Type"] == "image/png"
    assert served["Content-Disposition"].startswith("inline")
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_links_expire_and_forgeries_fail_as_they_do_on_disk(
    s3_server, bucket, contact, inbox, phone, client, monkeypatch
):
    s3_server.create_bucket(bucket)
    photo(contact)
    run(contact)
    (url,) = inbox.deliveries[0].attachment_urls
    assert client.get("/media/forged-token/").status_code == 404
    assert client.get(local_path(media_url("media/1/1/not-there.png"))).status_code == 404
    # Thirty days and one second later, the same link is refused.
    from relay import media

    token = local_path(url).split("/")[2]
    path = signing.loads(token, salt=MEDIA_SALT)
    monkeypatch.setattr(media, "MEDIA_LINK_MAX_AGE", -1)
    assert media.media_path(token) is None
    assert client.get(local_path(url)).status_code == 404
    assert path.startswith("media/")


def test_a_missing_bucket_holds_the_message_with_the_reason(
    s3_server, bucket, contact, inbox, phone, caplog
):
    caplog.set_level(logging.DEBUG)
    message = photo(contact)
    result = run(contact)
    assert result.relayed == 0 and result.waiting
    assert inbox.deliveries == []  # never relayed without its file
    message.refresh_from_db()
    assert message.status == MessageStatus.RECEIVED
    assert message.attempts == 1 and message.next_attempt_at is not None
    assert message.error_code == "storage"
    assert "NoSuchBucket" in message.error_text and bucket in message.error_text
    assert "could not store the customer's file" in message.error_text
    assert SECRET_KEY not in caplog.text

    # The bucket is there now: the next attempt keeps the file and relays the message.
    s3_server.create_bucket(bucket)
    make_due(message)
    assert run(contact).relayed == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.RELAYED
    assert s3_server.keys(bucket) == [message.data["stored_media"]["path"]]


def test_an_unreachable_bucket_holds_the_message_and_the_link_answers_503(
    s3_server, bucket, contact, inbox, phone, client, settings, monkeypatch, caplog
):
    s3_server.create_bucket(bucket)
    kept = photo(contact, 1)
    run(contact)
    (url,) = inbox.deliveries[0].attachment_urls

    # The same bucket behind an address where nothing listens.
    gone = S3Server()  # a free port, never started
    monkeypatch.setattr(gone, "url", f"http://127.0.0.1:{gone.port}")
    settings.STORAGES = s3_storages(gone, bucket, monkeypatch)
    caplog.set_level(logging.DEBUG)
    second = photo(contact, 2)
    run(contact)
    second.refresh_from_db()
    assert second.status == MessageStatus.RECEIVED and second.error_code == "storage"
    assert "Could not connect" in second.error_text
    assert len(inbox.deliveries) == 1

    served = client.get(local_path(url))
    assert served.status_code == 503
    assert served["Retry-After"] == "30"
    assert SECRET_KEY not in caplog.text
    kept.refresh_from_db()
    assert kept.status == MessageStatus.RELAYED
