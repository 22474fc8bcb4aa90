"""A customer's photo kept in S3-compatible storage by one process and served by
another: a Celery worker (its own process, configured only through the environment as
in production) fetches the photo from the sandbox's Telegram, stores it in a bucket on
moto's S3 server and hands the inbox our signed link; the web process (the live server)
serves that link from the bucket."""

import logging
import uuid

import pytest
import requests
from django.urls import reverse

from channels.models import Message, MessageStatus
from integrations.registry import channel_adapter
from sandbox import media
from sandbox.models import IntercomPart
from tests.s3 import S3Server, s3_storages

from .conftest import telegram_channel, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
logger = logging.getLogger(__name__)


@pytest.fixture
def s3_server():
    server = S3Server().start()
    yield server
    server.stop()


def test_a_file_stored_by_a_worker_is_served_by_the_web_process_from_s3(
    client, stack, s3_server, settings, monkeypatch, tmp_path
):
    bucket = f"octopods-{uuid.uuid4().hex[:12]}"
    s3_server.create_bucket(bucket)
    # The web process (this one: the live server's threads) and the worker read the same
    # bucket; neither has a disk in common with the other for it.
    settings.STORAGES = s3_storages(s3_server, bucket, monkeypatch)
    stack.workers.env.update(s3_server.env(bucket))
    stack.workers.env["MEDIA_ROOT"] = str(tmp_path / "worker-disk")

    telegram = telegram_channel()
    adapter = channel_adapter("telegram")
    adapter.register_webhook(
        credentials=adapter.credentials(telegram.credentials_data),
        webhook_url=f"{stack.base_url}/hooks/telegram/{telegram.webhook_key}/",
    )
    worker = stack.workers.start()

    opened = client.post(
        reverse("sandbox:phone"),
        {"endpoint": "telegram:7000000001", "name": "Jane", "customer_id": "555000111"},
    )
    chat = opened["Location"].rstrip("/").rsplit("/", 1)[-1]
    client.post(reverse("sandbox:phone_send", args=[chat]), {"what": "image", "caption": "receipt"})

    def relayed():
        return Message.objects.filter(status=MessageStatus.RELAYED, type="image").first()

    message = wait_for(relayed, what=f"the photo relayed\n{stack.workers.log(worker)}")
    key = message.data["stored_media"]["path"]
    assert s3_server.keys(bucket) == [key]
    assert not (tmp_path / "worker-disk").exists()  # nothing went to the worker's disk

    (part,) = IntercomPart.objects.filter(author_type__in=["user", "lead"])
    (attachment,) = part.attachments
    url = attachment["url"]
    assert url.startswith(f"{stack.base_url}/media/")
    assert s3_server.url not in url and bucket not in url

    served = requests.get(url, timeout=30)
    assert served.status_code == 200
    assert served.content == media.photo()
    assert served.headers["Content-Type"] == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    logger.info("worker → s3://%s/%s → web: %d bytes, equal", bucket, key, len(served.content))
