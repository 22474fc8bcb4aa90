"""Best-effort wake-ups for the relay, sent after the webhook's transaction commits.

PostgreSQL is the record of what still has to be relayed; a wake-up only saves the
relay the wait for its next sweep. So the webhook view never waits on Redis: it drops
contact ids into an in-process queue and returns, and one daemon thread per process
publishes them — every id it finds waiting in one round trip — into a Redis sorted set
of contacts to relay (``WAKE_KEY``, contact id → when it was first woken). The relay's
dispatcher in each worker (relay/dispatch.py) takes them out oldest first. A contact
woken again before a worker took it stays one entry, in its place: a burst from one
customer is one wake-up, not one task per message. Redis can hang for as long as it is
unreachable; here that only stalls the thread, whose queue is bounded — when it is
full, ids are dropped with a log line and the sweeper finds their messages. Without a
Redis (a broker of another kind), the wake-up is a Celery task instead.

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

logger = logging.getLogger(__name__)

RELAY_TASK = "channels.relay_contact"
# The sorted set of contacts the relay is asked to look at.
WAKE_KEY = "octopods:relay:wake"
# Ids published in one round trip at most.
PUBLISH_BATCH = 500
# Redis answers on loopback in well under a millisecond; these only bound a hang.
REDIS_CONNECT_TIMEOUT = 5
REDIS_TIMEOUT = 10
# Enough for a burst far beyond what one web process takes in while Redis restarts.
QUEUE_SIZE = 10_000
# With RELAY_IN_PROCESS, how often the thread looks for retries that came due.
IN_PROCESS_SWEEP_SECONDS = 15


class Waker:
    def __init__(self, *, maxsize: int = QUEUE_SIZE):
        self._maxsize = maxsize
        self._lock = threading.Lock()
        self._queue: queue.Queue[int] | None = None
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def wake(self, contact_ids: Iterable[int]) -> None:
        """Ask the relay to look at these contacts soon. Never raises, never blocks."""
        if not (settings.RELAY_IN_PROCESS or _broker_configured()):
            return
        try:
            work = self._started()
            for contact_id in contact_ids:
                work.put_nowait(contact_id)
        except queue.Full:
            logger.warning("relay wake-up queue is full; the sweeper will pick the rest up")
        except Exception:
            logger.exception("relay wake-up could not be queued")

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

    def _started(self) -> queue.Queue[int]:
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
    def _run(work: queue.Queue[int]) -> None:
        while True:
            try:
                contact_id = work.get(timeout=IN_PROCESS_SWEEP_SECONDS)
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
                    _relay_in_process(contact_id)
                except Exception:
                    logger.exception("in-process relay of contact %s failed", contact_id)
                finally:
                    work.task_done()
                continue
            # Everything that queued up meanwhile goes in the same round trip.
            batch, taken = {contact_id: None}, 1
            while taken < PUBLISH_BATCH:
                try:
                    batch[work.get_nowait()] = None
                except queue.Empty:
                    break
                taken += 1
            try:
                publish(list(batch))
            except Exception as error:
                logger.debug("relay wake-up failure", exc_info=True)
                logger.warning(
                    "relay wake-up for %s not sent (%s); the sweeper will relay %s",
                    _contacts(batch),
                    type(error).__name__,
                    "it" if len(batch) == 1 else "them",
                )
            finally:
                for _ in range(taken):
                    work.task_done()


def _contacts(ids) -> str:
    ids = list(ids)
    return f"contact {ids[0]}" if len(ids) == 1 else f"{len(ids)} contacts"


_clients: dict[tuple[int, str], redis.Redis] = {}
_clients_lock = threading.Lock()


def wake_redis_url() -> str:
    """The Redis that carries wake-ups: the broker's when the broker is a Redis (they
    carry the same hints), else REDIS_URL; "" when there is no Redis (wake-ups are then
    Celery tasks)."""
    broker = settings.CELERY_BROKER_URL or ""
    if broker.startswith(("redis://", "rediss://", "unix://")):
        return broker
    return settings.REDIS_URL or ""


def wake_redis() -> redis.Redis | None:
    """This process's client for the wake-up set (thread-safe: redis-py pools its
    connections), or None without a Redis."""
    url = wake_redis_url()
    if not url:
        return None
    key = (os.getpid(), url)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = redis.Redis.from_url(
                url,
                socket_connect_timeout=REDIS_CONNECT_TIMEOUT,
                socket_timeout=REDIS_TIMEOUT,
                socket_keepalive=True,
                health_check_interval=30,
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
