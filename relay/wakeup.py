"""Best-effort wake-ups for the relay, sent after the webhook's transaction commits.

PostgreSQL is the record of what still has to be relayed; a wake-up only saves the
relay the wait for its next sweep. The contacts to relay wait in a Redis sorted set
(``WAKE_KEY``, contact id → when it was first woken); the relay's dispatcher in each
worker (relay/dispatch.py) takes them out oldest first. A contact woken again before a
worker took it stays one entry, in its place: a burst from one customer is one
wake-up, not one task per message.

The webhook's process adds its contacts itself, in one ZADD on a connection with a
short timeout (``DIRECT_TIMEOUT``): a tenth of a millisecond on loopback, and no thread
to hand over to. Should that fail or time out, the process stops trying it for
``DIRECT_PAUSE_SECONDS`` and hands wake-ups to one daemon thread instead, which
publishes every id it finds waiting in one round trip and may hang for as long as Redis
does: a request waits on a sick Redis at most once per pause, never for longer than
the short timeout. The thread's queue is bounded — when it is full, ids are dropped
with a log line and the sweeper finds their messages. Without a Redis (a broker of
another kind), the wake-up is a Celery task sent from that thread.

With RELAY_IN_PROCESS (the default without a broker: a laptop on embedded defaults)
the same thread runs the relay itself, outside the request that stored the messages.
"""

import logging
import os
import queue
import threading
import time
from collections.abc import Iterable

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

from octopods import logs

logger = logging.getLogger(__name__)

RELAY_TASK = "channels.relay_contact"
# The sorted set of contacts the relay is asked to look at.
WAKE_KEY = "octopods:relay:wake"
# Ids published in one round trip at most.
PUBLISH_BATCH = 500
# Redis answers on loopback in well under a millisecond; these only bound a hang.
REDIS_CONNECT_TIMEOUT = 5
REDIS_TIMEOUT = 10
# A webhook adds its wake-ups itself, waiting this long for Redis at most; after a
# failure the thread carries them for a while.
DIRECT_TIMEOUT = 0.25
DIRECT_PAUSE_SECONDS = 5
# Enough for a burst far beyond what one web process takes in while Redis restarts.
QUEUE_SIZE = 10_000
# With RELAY_IN_PROCESS, how often the thread looks for retries that came due.
IN_PROCESS_SWEEP_SECONDS = 15


class Waker:
    def __init__(self, *, maxsize: int = QUEUE_SIZE, direct: bool = True):
        self._maxsize = maxsize
        self._direct = direct
        self._direct_paused_until = 0.0
        self._lock = threading.Lock()
        # (contact id, correlation id of the webhook that woke it)
        self._queue: queue.Queue[tuple[int, str]] | None = None
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def wake(self, contact_ids: Iterable[int]) -> None:
        """Ask the relay to look at these contacts soon. Never raises; waits on Redis
        for DIRECT_TIMEOUT at most."""
        if not (settings.RELAY_IN_PROCESS or _broker_configured()):
            return
        contact_ids = list(contact_ids)
        if contact_ids and self._published_now(contact_ids):
            return
        try:
            work = self._started()
            # The thread logs each wake-up under the id of the webhook that asked for it.
            correlation_id = logs.current()
            for contact_id in contact_ids:
                work.put_nowait((contact_id, correlation_id))
        except queue.Full:
            logger.warning("relay wake-up queue is full; the sweeper will pick the rest up")
        except Exception:
            logger.exception("relay wake-up could not be queued")

    def _published_now(self, contact_ids: list[int]) -> bool:
        """Add the contacts to the wake-up set from this thread; False when the thread
        has to carry them (in-process relay, no Redis, or Redis failed lately)."""
        if not self._direct or settings.RELAY_IN_PROCESS:
            return False
        if time.monotonic() < self._direct_paused_until:
            return False
        client = wake_redis(timeout=DIRECT_TIMEOUT)
        if client is None:
            return False
        try:
            client.zadd(WAKE_KEY, dict.fromkeys(contact_ids, time.time()), nx=True)
        except Exception as error:
            self._direct_paused_until = time.monotonic() + DIRECT_PAUSE_SECONDS
            logger.warning(
                "relay wake-up not sent at once (%s); the wake-up thread carries them for "
                "the next %s s",
                type(error).__name__,
                DIRECT_PAUSE_SECONDS,
            )
            return False
        return True

    def flush(self, timeout: float) -> bool:
        """Wait until every queued wake-up has been handled (published or logged as
        failed); False if that took longer than ``timeout`` seconds."""
        work = self._queue
        if work is None:
            return True
        done = threading.Event()

        def wait():
            work.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        return done.wait(timeout)

    def _started(self) -> queue.Queue[tuple[int, str]]:
        # A forked web worker inherits the queue but not the thread: start afresh.
        pid = os.getpid()
        with self._lock:
            if self._pid != pid or self._thread is None or not self._thread.is_alive():
                self._queue = queue.Queue(maxsize=self._maxsize)
                self._thread = threading.Thread(
                    target=self._run, args=(self._queue,), name="relay-waker", daemon=True
                )
                self._pid = pid
                self._thread.start()
            return self._queue

    @staticmethod
    def _run(work: queue.Queue[tuple[int, str]]) -> None:
        while True:
            try:
                contact_id, correlation_id = work.get(timeout=IN_PROCESS_SWEEP_SECONDS)
            except queue.Empty:
                if settings.RELAY_IN_PROCESS:
                    # No beat runs beside an in-process relay: retries that came due
                    # are picked up here. A failing sweep must not end the thread.
                    try:
                        _relay_in_process(None)
                    except Exception:
                        logger.exception("in-process relay sweep failed; trying again later")
                continue
            if settings.RELAY_IN_PROCESS:
                try:
                    with logs.bound(correlation_id):
                        _relay_in_process(contact_id)
                except Exception:
                    logger.exception("in-process relay of contact %s failed", contact_id)
                finally:
                    work.task_done()
                continue
            # Everything that queued up meanwhile goes in the same round trip.
            batch, taken = {contact_id: correlation_id}, 1
            while taken < PUBLISH_BATCH:
                try:
                    contact_id, correlation_id = work.get_nowait()
                except queue.Empty:
                    break
                batch.setdefault(contact_id, correlation_id)
                taken += 1
            try:
                publish(list(batch))
            except Exception as error:
                # One webhook's wake-up is logged under its id; a batch lists them.
                ids = sorted({each for each in batch.values() if each})
                with logs.bound(ids[0] if len(ids) == 1 else ""):
                    logger.debug("relay wake-up failure", exc_info=True)
                    logger.warning(
                        "relay wake-up for %s not sent (%s); the sweeper will relay %s",
                        _contacts(batch),
                        type(error).__name__,
                        "it" if len(batch) == 1 else "them",
                        extra={"correlation_ids": ids} if len(ids) > 1 else None,
                    )
            finally:
                for _ in range(taken):
                    work.task_done()


def _contacts(ids) -> str:
    ids = list(ids)
    return f"contact {ids[0]}" if len(ids) == 1 else f"{len(ids)} contacts"


_clients: dict[tuple[int, str, float | None], redis.Redis] = {}
_clients_lock = threading.Lock()


def wake_redis_url() -> str:
    """The Redis that carries wake-ups: the broker's when the broker is a Redis (they
    carry the same hints), else REDIS_URL; "" when there is no Redis (wake-ups are then
    Celery tasks)."""
    broker = settings.CELERY_BROKER_URL or ""
    if broker.startswith(("redis://", "rediss://", "unix://")):
        return broker
    return settings.REDIS_URL or ""


def wake_redis(*, timeout: float | None = None) -> redis.Redis | None:
    """This process's client for the wake-up set (thread-safe: redis-py pools its
    connections), or None without a Redis. ``timeout`` bounds both the connect and
    every answer, with no retry (the webhook's own wake-ups: one try, then the thread);
    the default is the thread's, with redis-py's retries."""
    url = wake_redis_url()
    if not url:
        return None
    key = (os.getpid(), url, timeout)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            once = {"retry": Retry(NoBackoff(), 0)} if timeout else {}
            client = redis.Redis.from_url(
                url,
                socket_connect_timeout=timeout or REDIS_CONNECT_TIMEOUT,
                socket_timeout=timeout or REDIS_TIMEOUT,
                socket_keepalive=True,
                health_check_interval=30,
                **once,
            )
            _clients[key] = client
        return client


def publish(contact_ids: list[int]) -> None:
    """Ask the relay to look at these contacts, now (raises if Redis is away). A contact
    already waiting keeps its place."""
    if not contact_ids:
        return
    client = wake_redis()
    if client is None:
        from octopods.celery import app

        for contact_id in contact_ids:
            app.send_task(RELAY_TASK, args=[contact_id], retry=False)
        return
    now = time.time()
    client.zadd(WAKE_KEY, dict.fromkeys(contact_ids, now), nx=True)


def _relay_in_process(contact_id: int | None) -> None:
    """Relay one contact, or (None) every contact with work that is due."""
    from django.db import connections

    from .engine import contact_relay, contacts_due

    try:
        for due in [contact_id] if contact_id is not None else contacts_due():
            while contact_relay(contact_id=due).more:
                pass
    finally:
        # This thread's own connections: nothing else would ever close them.
        connections.close_all()


def _broker_configured() -> bool:
    return bool(settings.CELERY_BROKER_URL) and not settings.CELERY_TASK_ALWAYS_EAGER


waker = Waker()


def relay_wake(contact_ids: Iterable[int]) -> None:
    waker.wake(contact_ids)
