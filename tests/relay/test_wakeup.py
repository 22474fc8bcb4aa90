"""The relay wake-up: a hint sent after the webhook commits, waited on briefly at most."""

import json
import os
import socket
import threading

import pytest
import redis

from channels import services
from channels.models import Contact, Message
from harness.services import free_port
from octopods.celery import app as celery_app
from relay import wakeup
from tests.channels.test_webhook_view import make_channel, post_whatsapp, wa_text
from workspaces.models import Provider, Workspace

pytestmark = pytest.mark.django_db

WAKE_TIMEOUT = 10


@pytest.fixture
def whatsapp(cast):
    workspace = Workspace.objects.create(
        account=cast.account,
        provider=Provider.INTERCOM,
        external_id="acme",
        name="Acme",
        access_token="tok",
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
    from tests.channels.test_webhook_view import wa_status

    with django_capture_on_commit_callbacks(execute=True):
        assert post_whatsapp(client, whatsapp, wa_status("wamid.9", "read")).status_code == 200
    assert hints == []


def test_without_a_broker_nothing_is_queued(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    sent = []
    monkeypatch.setattr(wakeup, "publish", sent.append)
    waker = wakeup.Waker()
    waker.wake([1, 2])
    assert waker.flush(WAKE_TIMEOUT)
    assert sent == []


@pytest.fixture
def silent_redis():
    """A Redis address that accepts connections and never answers: the kernel completes
    the handshake into the listen backlog, so connecting works and every read waits."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


@pytest.fixture
def fresh_waker(monkeypatch):
    waker = wakeup.Waker()
    monkeypatch.setattr(wakeup, "waker", waker)
    return waker


def test_a_webhook_adds_its_wake_up_itself(
    client, whatsapp, broker_on, wake_set, fresh_waker, django_capture_on_commit_callbacks
):
    """One ZADD from the request's own thread: nothing handed over, no thread started."""
    connection, key = wake_set
    with django_capture_on_commit_callbacks(execute=True):
        assert post_whatsapp(client, whatsapp, wa_text()).status_code == 200
    assert [int(member) for member in connection.zrange(key, 0, -1)] == [Contact.objects.get().pk]
    assert fresh_waker._thread is None


def test_a_hanging_redis_holds_one_webhook_for_the_short_timeout_then_the_thread_carries_wake_ups(
    client,
    whatsapp,
    settings,
    silent_redis,
    fresh_waker,
    monkeypatch,
    caplog,
    django_capture_on_commit_callbacks,
):
    settings.CELERY_BROKER_URL = silent_redis
    settings.CELERY_TASK_ALWAYS_EAGER = False
    tried = []
    real_client = wakeup.wake_redis
    monkeypatch.setattr(
        wakeup, "wake_redis", lambda **kwargs: tried.append(kwargs) or real_client(**kwargs)
    )
    handed = []
    monkeypatch.setattr(wakeup, "publish", handed.append)  # the thread's way to Redis
    with django_capture_on_commit_callbacks(execute=True):
        first = post_whatsapp(client, whatsapp, wa_text("wamid.1"))
    with django_capture_on_commit_callbacks(execute=True):
        second = post_whatsapp(client, whatsapp, wa_text("wamid.2"))
    assert (first.status_code, second.status_code) == (200, 200)
    assert Message.objects.count() == 2
    # The first webhook waited on Redis once; the second did not try it at all.
    assert tried == [{"timeout": wakeup.DIRECT_TIMEOUT}]
    assert any("not sent at once (TimeoutError)" in r.getMessage() for r in caplog.records)
    assert fresh_waker.flush(WAKE_TIMEOUT)
    assert {contact_id for batch in handed for contact_id in batch} == {Contact.objects.get().pk}


def test_a_redis_outage_is_logged_not_raised(
    client,
    whatsapp,
    broker_on,
    settings,
    fresh_waker,
    monkeypatch,
    caplog,
    django_capture_on_commit_callbacks,
):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens

    def refused(contact_ids):
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(wakeup, "publish", refused)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_whatsapp(client, whatsapp, wa_text()).status_code == 200
    assert fresh_waker.flush(WAKE_TIMEOUT)
    assert Message.objects.count() == 1
    messages = [record.getMessage() for record in caplog.records]
    assert any("not sent at once (ConnectionError)" in message for message in messages)
    assert any("not sent (ConnectionError)" in message for message in messages)


def test_a_full_queue_drops_hints_with_a_log_line(broker_on, monkeypatch, caplog):
    release = threading.Event()
    monkeypatch.setattr(wakeup, "publish", lambda ids: release.wait(WAKE_TIMEOUT))
    waker = wakeup.Waker(maxsize=2, direct=False)
    try:
        waker.wake(range(10))  # never blocks, whatever the queue holds
        assert any("queue is full" in record.getMessage() for record in caplog.records)
    finally:
        release.set()
    assert waker.flush(WAKE_TIMEOUT)


def test_what_queued_up_meanwhile_goes_in_one_round_trip(broker_on, monkeypatch):
    first_taken = threading.Event()
    release = threading.Event()
    published = []

    def publish(contact_ids):
        published.append(list(contact_ids))
        first_taken.set()
        release.wait(WAKE_TIMEOUT)

    monkeypatch.setattr(wakeup, "publish", publish)
    waker = wakeup.Waker(direct=False)
    waker.wake([1])
    assert first_taken.wait(WAKE_TIMEOUT)  # the thread is busy with contact 1
    waker.wake([2, 3, 2, 4])
    release.set()
    assert waker.flush(WAKE_TIMEOUT)
    assert published == [[1], [2, 3, 4]]


def test_wake_ups_reach_redis(
    client, whatsapp, broker_on, wake_set, django_capture_on_commit_callbacks
):
    connection, key = wake_set
    with django_capture_on_commit_callbacks(execute=True):
        assert post_whatsapp(client, whatsapp, wa_text()).status_code == 200
    assert wakeup.waker.flush(WAKE_TIMEOUT)
    contact_id = Contact.objects.get().pk
    assert [int(member) for member in connection.zrange(key, 0, -1)] == [contact_id]


def test_a_contact_woken_twice_keeps_its_place(wake_set):
    connection, key = wake_set
    wakeup.publish([7])
    first = connection.zscore(key, 7)
    wakeup.publish([8])
    wakeup.publish([7, 9])
    assert connection.zscore(key, 7) == first
    assert [int(member) for member in connection.zrange(key, 0, -1)] == [7, 8, 9]


def test_without_redis_a_wake_up_is_a_celery_task(settings, monkeypatch):
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = "amqp://guest@127.0.0.1:5672//"
    sent = []
    monkeypatch.setattr(celery_app, "send_task", lambda name, args, **kw: sent.append((name, args)))
    wakeup.publish([4, 5])
    assert sent == [(wakeup.RELAY_TASK, [4]), (wakeup.RELAY_TASK, [5])]


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_the_relay_runs_beside_the_web_process(
    client, whatsapp, settings, monkeypatch
):
    """RELAY_IN_PROCESS (a laptop on embedded defaults): the waker's thread relays the
    contact itself, after the request that stored the message has answered."""
    from relay import inbox as workspace_inbox

    from .relay_doubles import FakeInbox

    inbox = FakeInbox()
    monkeypatch.setattr(workspace_inbox, "inbox_adapter", lambda provider: inbox)
    settings.RELAY_IN_PROCESS = True
    waker = wakeup.Waker()
    monkeypatch.setattr(wakeup, "waker", waker)
    assert post_whatsapp(client, whatsapp, wa_text()).status_code == 200
    assert waker.flush(WAKE_TIMEOUT)
    assert Message.objects.get().status == "relayed"
    assert [d.body for d in inbox.deliveries] == ["hi"]


def test_a_wake_up_the_thread_could_not_send_is_logged_under_the_webhooks_id(
    client,
    whatsapp,
    broker_on,
    settings,
    fresh_waker,
    monkeypatch,
    caplog,
    django_capture_on_commit_callbacks,
):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens

    def refused(contact_ids):
        raise redis.ConnectionError("Connection refused.")

    monkeypatch.setattr(wakeup, "publish", refused)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_whatsapp(client, whatsapp, wa_text()).status_code == 200
    assert fresh_waker.flush(WAKE_TIMEOUT)
    (stored,) = [r for r in caplog.records if "events stored" in r.getMessage()]
    assert stored.correlation_id
    # One line from the webhook's own thread, one from the wake-up thread.
    for line in ("not sent at once (ConnectionError)", "not sent (ConnectionError)"):
        (record,) = [r for r in caplog.records if line in r.getMessage()]
        assert record.correlation_id == stored.correlation_id
