"""Webhooks while PostgreSQL is down or too slow: over real HTTP to the live server,
every webhook endpoint answers 503 with Retry-After (a 500 before), stores nothing,
and the provider's retry once the database is back is stored exactly once."""

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import psycopg
import pytest
import requests
from django.conf import settings
from django.db import connection

from channels.models import Contact, Message

from .conftest import settled
from .test_postgres_restart import from_customer, telegram_channel
from .test_relay_worker import SECRET

pytestmark = pytest.mark.django_db(transaction=True)

FIXTURES = Path(__file__).parent.parent / "integrations"
# What a provider waits for an answer (Intercom's 5 s is the shortest).
PROVIDER_TIMEOUT = 5


def telegram_update(url: str, n: int) -> requests.Response:
    return requests.post(
        url,
        data=from_customer(n, 1, f"hello {n}"),
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET},
        timeout=30,
    )


def intercom_reply(base_url: str) -> requests.Response:
    body = (FIXTURES / "intercom" / "fixtures" / "conversation.admin.replied.json").read_bytes()
    digest = hmac.new(settings.INTERCOM_CLIENT_SECRET.encode(), body, hashlib.sha1).hexdigest()
    return requests.post(
        f"{base_url}/hooks/intercom/",
        data=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature": f"sha1={digest}"},
        timeout=30,
    )


def intercom_uninstall(base_url: str) -> requests.Response:
    body = json.dumps({"app_id": "sbx-acme"}).encode()
    digest = hmac.new(settings.INTERCOM_CLIENT_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return requests.post(
        f"{base_url}/hooks/intercom/uninstall/",
        data=body,
        headers={"Content-Type": "application/json", "X-Body-Signature": digest},
        timeout=30,
    )


def hubspot_reply(base_url: str) -> requests.Response:
    event = json.loads(
        (FIXTURES / "hubspot" / "fixtures" / "OUTGOING_CHANNEL_MESSAGE_CREATED.json").read_text()
    )
    body = json.dumps([event]).encode()
    url = f"{settings.PUBLIC_BASE_URL}/hooks/hubspot/"
    timestamp = str(int(time.time() * 1000))
    source = b"POST" + url.encode() + body + timestamp.encode()
    signature = hmac.new(settings.HUBSPOT_CLIENT_SECRET.encode(), source, hashlib.sha256)
    return requests.post(
        f"{base_url}/hooks/hubspot/",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-HubSpot-Signature-v3": base64.b64encode(signature.digest()).decode(),
            "X-HubSpot-Request-Timestamp": timestamp,
        },
        timeout=30,
    )


def assert_unavailable(response: requests.Response):
    assert response.status_code == 503, (response.status_code, response.text[:300])
    assert response.headers["Retry-After"] == "10"


def test_every_webhook_answers_503_while_postgres_is_down_and_a_retry_is_stored_once(
    own_postgres, stack, capsys
):
    channel = telegram_channel()
    hook = f"{stack.base_url}/hooks/telegram/{channel.webhook_key}/"
    own_postgres.stop(mode="immediate")

    answers = {
        "telegram": telegram_update(hook, 1),
        "intercom": intercom_reply(stack.base_url),
        "hubspot": hubspot_reply(stack.base_url),
        "intercom uninstall": intercom_uninstall(stack.base_url),
    }
    for response in answers.values():
        assert_unavailable(response)

    own_postgres.start()
    assert settled(lambda: Message.objects.count()) == 0  # nothing half-written
    # The provider's retry, and a duplicate of it: stored once.
    assert telegram_update(hook, 1).status_code == 200
    assert telegram_update(hook, 1).status_code == 200
    assert Message.objects.filter(channel=channel).count() == 1
    with capsys.disabled():
        print(
            "\n[webhooks] PostgreSQL down: "
            + ", ".join(f"{name} {r.status_code}" for name, r in answers.items())
            + "; the retry afterwards stored once"
        )


def test_a_webhook_answers_503_in_time_when_the_database_is_too_slow(
    own_postgres, stack, monkeypatch, capsys
):
    """DB_STATEMENT_TIMEOUT: a statement stuck behind a lock (or a slow server) is
    cancelled, and the webhook answers before the provider gives up, rather than when
    the database gets round to it."""
    channel = telegram_channel()
    hook = f"{stack.base_url}/hooks/telegram/{channel.webhook_key}/"
    # The live server's connections (each request opens its own) cancel statements
    # after 1 s, as DB_STATEMENT_TIMEOUT=1 would make them.
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "options", "-c statement_timeout=1000")
    with psycopg.connect(
        host="127.0.0.1", port=own_postgres.port, dbname=own_postgres.database, user="postgres"
    ) as locker:
        locker.execute(f"LOCK TABLE {Message._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        response = telegram_update(hook, 1)
        took = time.monotonic() - started
        locker.rollback()
    assert_unavailable(response)
    assert took < PROVIDER_TIMEOUT
    # The contact the webhook created went with the message it could not store.
    assert Contact.objects.count() == Message.objects.count() == 0
    assert telegram_update(hook, 1).status_code == 200
    assert Message.objects.filter(channel=channel).count() == 1
    with capsys.disabled():
        print(f"\n[webhooks] a statement stuck behind a lock: 503 after {took:.1f} s")
