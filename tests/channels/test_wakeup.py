"""The relay wake-up: a hint sent after the webhook commits, never waited on."""

import json
import os
import threading

import pytest
import redis
from kombu.exceptions import OperationalError

from channels import services, wakeup
from channels.models import Contact, Message
from octopods.celery import app as celery_app
from workspaces.models import Provider, Workspace

from .test_webhook_view import make_channel, post_whatsapp, wa_text

pytestmark = pytest.mark.django_db

WAKE_TIMEOUT = 10


@pytest.fixture
def whatsapp(cast):
    workspace = Workspace.objects.create(
        account=cast.account, provider=Provider.INTERCOM, external_id="acme", name="Acme"
    )
    return make_channel(
        workspace,
        "whatsapp",
        {
            "phone_number_id": "PNID",
            "waba_id": "WABA",
            "access_token": "wa-token",
            "app_secret": "wa-app-secret",
            "verify_token": "verify-me",
        },
        "PNID",
    )


@pytest.fixture
def hints(monkeypatch):
    woken = []
    monkeypatch.setattr(services, "relay_wake", lambda ids: woken.append(list(ids)))
    return woken


@pytest.fixture
def broker_on(settings):
    """Wake-ups are only sent where a broker carries them (not with eager tasks)."""
    settings.CELERY_BROKER_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    yield
    assert wakeup.waker.flush(WAKE_TIMEOUT)


def test_it_wakes_the_relay_once_the_webhook_has_committed(
    client, whatsapp, hints, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert post_whatsapp(client, whatsapp, wa_text("wamid.1")).status_code == 200
    assert hints == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert hints == [[Contact.objects.get().pk]]


def test_a_burst_from_one_contact_is_one_wake_up(
    client, whatsapp, hints, django_capture_on_commit_callbacks
):
    body = json.loads(wa_text("wamid.1"))
    value = body["entry"][0]["changes"][0]["value"]
    second = dict(value["messages"][0], id="wamid.2")
    value["messages"].append(second)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_whatsapp(client, whatsapp, json.dumps(body).encode()).status_code == 200
    assert Message.objects.count() == 2
    assert hints == [[Contact.objects.get().pk]]


def test_statuses_alone_wake_nothing(client, whatsapp, hints, django_capture_on_commit_callbacks):
    from .test_webhook_view import wa_status

    with django_capture_on_commit_callbacks(execute=True):
        assert post_whatsapp(client, whatsapp, wa_status("wamid.9", "read")).status_code == 200
    assert hints == []


def test_without_a_broker_nothing_is_queued(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    sent = []
    monkeypatch.setattr(celery_app, "send_task", lambda *a, **k: sent.append(a))
    waker = wakeup.Waker()
    waker.wake([1, 2])
    assert waker.flush(WAKE_TIMEOUT)
    assert sent == []


def test_the_webhook_answers_while_the_broker_hangs(
    client, whatsapp, broker_on, monkeypatch, django_capture_on_commit_callbacks
):
    release = threading.Event()
    publishing = threading.Event()

    def hanging_send(*args, **kwargs):
        publishing.set()
        release.wait(WAKE_TIMEOUT)

    monkeypatch.setattr(celery_app, "send_task", hanging_send)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            first = post_whatsapp(client, whatsapp, wa_text("wamid.1"))
        assert publishing.wait(WAKE_TIMEOUT)  # the waker is stuck on the broker now
        with django_capture_on_commit_callbacks(execute=True):
            second = post_whatsapp(client, whatsapp, wa_text("wamid.2"))
        assert (first.status_code, second.status_code) == (200, 200)
        assert Message.objects.count() == 2
    finally:
        release.set()


def test_a_broker_outage_is_logged_not_raised(
    client, whatsapp, broker_on, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def refused(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(celery_app, "send_task", refused)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_whatsapp(client, whatsapp, wa_text()).status_code == 200
    assert wakeup.waker.flush(WAKE_TIMEOUT)
    assert Message.objects.count() == 1
    assert any("not sent (OperationalError)" in record.getMessage() for record in caplog.records)


def test_a_full_queue_drops_hints_with_a_log_line(broker_on, monkeypatch, caplog):
    release = threading.Event()
    monkeypatch.setattr(celery_app, "send_task", lambda *a, **k: release.wait(WAKE_TIMEOUT))
    waker = wakeup.Waker(maxsize=2)
    try:
        waker.wake(range(10))  # never blocks, whatever the queue holds
        assert any("queue is full" in record.getMessage() for record in caplog.records)
    finally:
        release.set()
    assert waker.flush(WAKE_TIMEOUT)


def test_wake_ups_reach_the_redis_broker(
    client, whatsapp, broker_on, django_capture_on_commit_callbacks
):
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.skip("REDIS_URL is not set (CI always sets it)")
    with django_capture_on_commit_callbacks(execute=True):
        assert post_whatsapp(client, whatsapp, wa_text()).status_code == 200
    assert wakeup.waker.flush(WAKE_TIMEOUT)
    contact_id = Contact.objects.get().pk
    connection = redis.Redis.from_url(redis_url)
    queue = celery_app.conf.task_default_queue
    mine = [
        raw
        for raw in connection.lrange(queue, 0, -1)
        if json.loads(raw)["headers"]["task"] == wakeup.RELAY_TASK
        and json.loads(raw)["headers"]["argsrepr"] == repr([contact_id])
    ]
    for raw in mine:
        connection.lrem(queue, 1, raw)
    assert len(mine) == 1


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_the_relay_runs_beside_the_web_process(
    client, cast, settings, monkeypatch
):
    """RELAY_IN_PROCESS (a laptop on embedded defaults): the waker's thread relays the
    contact itself, after the request that stored the message has answered."""
    from channels import relay

    from .relay_doubles import FakeInbox

    inbox = FakeInbox()
    monkeypatch.setattr(relay, "inbox_adapter", lambda provider: inbox)
    settings.RELAY_IN_PROCESS = True
    workspace = Workspace.objects.create(
        account=cast.account,
        provider=Provider.INTERCOM,
        external_id="acme",
        name="Acme",
        access_token="tok",
    )
    channel = make_channel(
        workspace,
        "whatsapp",
        {
            "phone_number_id": "PNID",
            "waba_id": "WABA",
            "access_token": "wa-token",
            "app_secret": "wa-app-secret",
            "verify_token": "verify-me",
        },
        "PNID",
    )
    waker = wakeup.Waker()
    monkeypatch.setattr(wakeup, "waker", waker)
    assert post_whatsapp(client, channel, wa_text()).status_code == 200
    assert waker.flush(WAKE_TIMEOUT)
    assert Message.objects.get().status == "relayed"
    assert [d.body for d in inbox.deliveries] == ["hi"]
