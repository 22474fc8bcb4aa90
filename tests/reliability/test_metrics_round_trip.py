"""Metrics through real processes: gunicorn serving Octopods with several worker
processes (PROMETHEUS_MULTIPROC_DIR, from gunicorn.conf.py), a Celery worker relaying
into the sandbox's Intercom (the live server), and Prometheus's view of both — a
customer's message is counted stored by the web, relayed by the worker, and the
backlog goes from 1 to 0."""

import json
import os
import signal
import subprocess
import sys
from contextlib import suppress
from pathlib import Path

import pytest
import requests
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from channels.models import Message, MessageStatus
from harness.services import free_port

from .conftest import ROOT, SECRET, telegram_channel, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "round-trip-scrape-token"


def samples(text: str) -> dict:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(url: str) -> dict:
    answer = requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert answer.status_code == 200, answer.text[:500]
    return samples(answer.text)


def sample(found: dict, name: str, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def web(stack, tmp_path):
    """Octopods under gunicorn, three worker processes, on the test's database."""
    db = connection.settings_dict
    folder = tmp_path / "prometheus"
    folder.mkdir()
    # A file of a run before: gunicorn empties the folder as it starts.
    (folder / "counter_1.db").write_bytes(b"left over from the last run")
    port = free_port()
    env = {
        **stack.workers.env,
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}"
            f":{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
        "METRICS_TOKEN": TOKEN,
    }
    log = tmp_path / "web.log"
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own server
            [
                str(Path(sys.executable).parent / "python"),
                "-m",
                "gunicorn",
                "octopods.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "3",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"

    def answers():
        try:
            return requests.get(f"{url}/metrics", timeout=2).status_code == 403
        except requests.RequestException:
            return process.poll() is not None  # died: stop waiting, say so below

    wait_for(answers, what="gunicorn to answer")
    assert process.poll() is None, log.read_text()[-3000:]
    try:
        yield url
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def update(text: str) -> bytes:
    user = {"id": 555000111, "is_bot": False, "first_name": "Jane"}
    return json.dumps(
        {
            "update_id": 900001,
            "message": {
                "message_id": 1001,
                "from": user,
                "chat": {"id": 555000111, "type": "private", "first_name": "Jane"},
                "date": 1718000001,
                "text": text,
            },
        }
    ).encode()


def test_a_customer_message_is_counted_stored_then_relayed_and_the_backlog_empties(stack, web):
    channel = telegram_channel()
    hook = f"{web}/hooks/telegram/{channel.webhook_key}/"
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}

    refused = requests.post(
        hook,
        data=update("hi"),
        headers={**headers, "X-Telegram-Bot-Api-Secret-Token": "no"},
        timeout=10,
    )
    assert refused.status_code == 403
    stored = requests.post(
        hook, data=update("hello from a real process"), headers=headers, timeout=10
    )
    assert stored.status_code == 200
    assert Message.objects.filter(status=MessageStatus.RECEIVED).count() == 1

    # No worker yet: the web's scrape shows what is owed.
    before = scrape(f"{web}/metrics")
    inbound = {"inbox": "intercom", "direction": "in"}
    assert sample(before, "octopods_relay_backlog_messages", **inbound) == 1
    assert sample(before, "octopods_relay_oldest_due_age_seconds", **inbound) >= 0
    telegram = {"direction": "in", "kind": "telegram"}
    assert sample(before, "octopods_messages_stored_total", **telegram) == 1
    assert sample(before, "octopods_webhooks_total", kind="telegram", outcome="accepted") == 1
    assert (
        sample(before, "octopods_webhooks_total", kind="telegram", outcome="rejected_signature")
        == 1
    )
    # The webhook, timed under its route's name (whichever gunicorn worker took it).
    assert (
        sample(
            before, "octopods_http_request_seconds_count", route="channels:webhook", status="2xx"
        )
        == 1
    )

    worker_port = free_port()
    stack.workers.env.update(
        METRICS_TOKEN=TOKEN, METRICS_PORT=str(worker_port), METRICS_ADDR="127.0.0.1"
    )
    stack.workers.start()

    def relayed():
        # Beat's job: the web runs the test settings, whose Celery is eager, so its
        # webhook wakes no worker; the sweep wakes the contact as beat would.
        stack.sweep()
        return Message.objects.filter(status=MessageStatus.RELAYED).count() == 1

    wait_for(relayed, what="the message relayed into the inbox")

    def worker_scrape():
        try:
            return scrape(f"http://127.0.0.1:{worker_port}/metrics")
        except requests.RequestException:
            return None

    # The counter is written right after the row; wait for it rather than assume.
    worker = wait_for(
        lambda: (
            (found := worker_scrape())
            and sample(found, "octopods_messages_relayed_total", **telegram) == 1
            and found
        ),
        what="the worker to count the message relayed",
    )
    assert sample(worker, "octopods_messages_failed_total", **telegram) == 0
    assert sample(worker, "octopods_relay_attempts_total", direction="in") == 1
    assert sample(worker, "octopods_relay_backoffs_total", direction="in") == 0
    intercom_calls = sum(
        value
        for (name, labels), value in worker.items()
        if name == "octopods_provider_call_seconds_count" and ("provider", "intercom") in labels
    )
    assert intercom_calls >= 1

    after = scrape(f"{web}/metrics")
    assert sample(after, "octopods_relay_backlog_messages", **inbound) == 0
    assert sample(after, "octopods_relay_oldest_due_age_seconds", **inbound) == 0
    assert sample(after, "octopods_messages_stored_total", **telegram) == 1
    assert sample(after, "octopods_relay_backlog_query_ok") == 1
