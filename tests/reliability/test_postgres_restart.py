"""The relay through a PostgreSQL restart: ``pg_ctl -m immediate`` cuts every
connection, as a crash or a failover would, while messages wait to be relayed. The same
worker processes (and the in-process relay thread) must relay everything afterwards on
their own, without being restarted.

Why they would not: a Celery worker keeps its connection between tasks
(``CELERY_DB_REUSE_MAX``: celery/fixups/django.py only looks at it every
``2 * db_reuse_max`` tasks), and Django checks a kept connection only where
``close_old_connections()`` runs (django/db/__init__.py: at request start and end),
which a worker never reaches. So each pool thread went on using its dead connection
("the connection is closed") until the worker was restarted.
"""

import json
import threading
import time

import pytest
import requests
from django.db import connection

from channels.models import Channel, Message, MessageStatus
from relay import wakeup

from .conftest import SECRET, settled, telegram_channel, wait_for
from .test_relay_worker import report

pytestmark = pytest.mark.django_db(transaction=True)

WORKERS = 2
SWEEPS = 40


def from_customer(n: int, customer: int, text: str) -> bytes:
    """Telegram's update for message ``n`` from customer number ``customer``."""
    user = {"id": 555000000 + customer, "is_bot": False, "first_name": f"Customer {customer}"}
    return json.dumps(
        {
            "update_id": 900000 + n,
            "message": {
                "message_id": 1000 + n,
                "from": user,
                "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
                "date": 1718000000 + n,
                "text": text,
            },
        }
    ).encode()


class Customers:
    """Write to the channel through its webhook over HTTP, as Telegram does (a request of
    the live server, which starts on a healthy connection as any request does)."""

    def __init__(self, base_url: str, channel: Channel):
        self.url = f"{base_url}/hooks/telegram/{channel.webhook_key}/"
        self.sent = []

    def write(self, customer: int, text: str):
        response = requests.post(
            self.url,
            data=from_customer(len(self.sent), customer, text),
            headers={
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": SECRET,
            },
            timeout=30,
        )
        assert response.status_code == 200, response.text
        self.sent.append(text)


def relayed() -> int:
    return Message.objects.filter(status=MessageStatus.RELAYED).count()


def unrelayed() -> list:
    return list(
        Message.objects.exclude(status=MessageStatus.RELAYED).values_list(
            "text",
            "status",
            "attempts",
            "next_attempt_at",
            "error_text",
            "contact__relay_lease_until",
        )
    )


def relay_connections() -> dict[str, int]:
    """Per worker (its connections' application_name), how many of its connections have
    run the relay's queries: a worker's pool threads each keep one."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT application_name, count(*) FROM pg_stat_activity"
            " WHERE application_name LIKE 'relay-worker-%%'"
            " AND (query LIKE '%%relay_lease_until%%'"
            " OR query LIKE '%%octopods_channels_message%%')"
            " GROUP BY application_name"
        )
        return dict(cursor.fetchall())


def test_the_same_workers_relay_everything_after_an_immediate_restart(own_postgres, stack, capsys):
    channel = telegram_channel()
    # One relay thread each, so every thread that will relay after the restart holds a
    # connection from before it (a fresh thread would connect anew and hide the fault).
    workers = [stack.workers.start(concurrency=1, name=f"relay-worker-{n}") for n in range(WORKERS)]
    customers = Customers(stack.base_url, channel)

    def warmed_up():
        customers.write(len(customers.sent) % 8, f"before {len(customers.sent)}")
        wait_for(lambda: relayed() == len(customers.sent), what="the warm-up relayed")
        return len(relay_connections()) == WORKERS

    wait_for(warmed_up, what="every worker to relay with a kept connection")

    # Messages waiting, then the restart: every connection is cut mid-stream.
    for n in range(8):
        customers.write(n, f"waiting {n}")
    waiting = len(customers.sent) - relayed()
    own_postgres.restart(mode="immediate")
    restarted = time.monotonic()
    # More after the restart: new webhooks, new wake-ups for the same workers.
    for n in range(8):
        customers.write(n, f"after {n}")

    # Beat's sweep, counted: Celery's Django fixup replaces a worker's connection after
    # 2 * CELERY_DB_REUSE_MAX task signals (celery/fixups/django.py, close_database),
    # i.e. after 1000 tasks, so sweeping as fast as the machine allows would bring the
    # workers back that way within seconds. Production sweeps every 15 s; here at most
    # SWEEPS times contacts tasks (well under 1000) are woken, each round 0.5 s apart, which
    # leaves the 3-s leases of relays cut off by the restart time to run out.
    pause = threading.Event()
    for _ in range(SWEEPS):
        if settled(lambda: relayed() == len(customers.sent)):
            break
        settled(stack.sweep)
        pause.wait(0.5)
    else:
        logs = "\n".join(stack.workers.log(worker, lines=15) for worker in workers)
        raise AssertionError(
            f"{settled(relayed)} of {len(customers.sent)} relayed after {SWEEPS} sweeps;"
            f" not: {settled(unrelayed)}\n{logs}"
        )
    took = time.monotonic() - restarted
    _, figures = report(
        capsys,
        f"PostgreSQL restarted (immediate) with {waiting} waiting, same {WORKERS} workers,"
        f" all relayed {took:.1f} s later",
        customers.sent,
    )
    assert figures["lost"] == figures["duplicated"] == 0
    assert all(worker.poll() is None for worker in workers)  # never restarted


def test_the_in_process_relay_thread_relays_everything_after_an_immediate_restart(
    own_postgres, stack, settings, monkeypatch, capsys
):
    """``scripts/run`` without a broker: the relay is a thread of the web process."""
    settings.RELAY_IN_PROCESS = True
    # A pass cut off by the restart cannot release the contact it holds: it comes back
    # after the lease, as a killed worker's does (3 s here, as for the test's workers).
    settings.RELAY_LEASE_SECONDS = 3
    # A waker of this test's own (its thread ends with the process), looking for due work
    # every second rather than every 15.
    monkeypatch.setattr(wakeup, "waker", wakeup.Waker())
    monkeypatch.setattr(wakeup, "IN_PROCESS_SWEEP_SECONDS", 1)
    channel = telegram_channel()
    customers = Customers(stack.base_url, channel)
    for n in range(4):
        customers.write(n, f"before {n}")
    wait_for(lambda: relayed() == 4, what="the relay thread to relay")

    for n in range(4):
        customers.write(n, f"waiting {n}")
    own_postgres.restart(mode="immediate")
    restarted = time.monotonic()
    for n in range(4):
        customers.write(n, f"after {n}")

    wait_for(
        lambda: settled(lambda: relayed() == len(customers.sent)),
        what="everything relayed after the restart",
    )
    took = time.monotonic() - restarted
    _, figures = report(
        capsys,
        f"PostgreSQL restarted (immediate) under the in-process relay, all relayed {took:.1f} s"
        " later",
        customers.sent,
    )
    assert figures["lost"] == figures["duplicated"] == 0
