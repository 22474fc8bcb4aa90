"""The relay's dispatcher: in every worker process, threads that relay the contacts the
wake-up set names (relay/wakeup.py), without a Celery task per wake-up.

One thread takes the contact woken longest ago out of the set (Redis ``BZPOPMIN``,
blocking, so a wake-up is picked up the moment it lands) whenever a relay thread is
free, and hands it to that thread. The relay thread claims the contact
(relay/lease.py), relays its backlog, gives it back, and looks once more: a message
stored while it was giving the contact back — whose wake-up found the contact held —
is relayed then, not at the next sweep. A contact with more than one batch to go is
woken again at the back of the set, so one long backlog never starves the others.

Redis only carries hints. A wake-up taken out of the set and lost with a dying worker
costs the sweeper's delay, never a message: PostgreSQL's rows say what is due, the
sweeper (``channels.sweep``) wakes whatever is, and a contact whose worker died is
taken over when its lease runs out.
"""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import redis
from django.db import close_old_connections, connections

from .wakeup import WAKE_KEY, wake_redis

logger = logging.getLogger(__name__)

# How long the taking thread blocks on Redis at a time: how soon it sees a stop.
POP_SECONDS = 1.0
# After Redis failed: first wait, doubled up to the cap, while it stays away.
RETRY_FIRST = 0.5
RETRY_CAP = 10.0


class Dispatcher:
    def __init__(self, *, threads: int):
        self.threads = threads
        self._free = threading.Semaphore(threads)
        self._stopping = threading.Event()
        self._taker: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None

    @property
    def running(self) -> bool:
        return self._taker is not None and self._taker.is_alive()

    def start(self) -> None:
        self._stopping.clear()
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="relay")
        self._taker = threading.Thread(target=self._take, name="relay-dispatch", daemon=True)
        self._taker.start()
        logger.info("relay dispatcher started: %d threads", self.threads)

    def stop(self, timeout: float = 60.0) -> None:
        """Stop taking wake-ups; let each relay thread finish the contact it has (a
        batch never outlasts a quarter of the lease) for up to ``timeout`` seconds."""
        self._stopping.set()
        if self._taker is not None:
            self._taker.join(timeout)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        logger.info("relay dispatcher stopped")

    def _take(self) -> None:
        wait = RETRY_FIRST
        while not self._stopping.is_set():
            if not self._free.acquire(timeout=POP_SECONDS):
                continue
            try:
                client = wake_redis()
                taken = client.bzpopmin(WAKE_KEY, timeout=POP_SECONDS) if client else None
                contact_id = int(taken[1]) if taken else None
            except (redis.RedisError, OSError) as error:
                self._free.release()
                logger.warning(
                    "relay dispatcher cannot reach Redis (%s); trying again in %.1f s",
                    type(error).__name__,
                    wait,
                )
                self._stopping.wait(wait)
                wait = min(wait * 2, RETRY_CAP)
                continue
            except Exception:
                # Anything else (an entry that is not a contact id, say) must not end
                # the only thread that takes wake-ups.
                self._free.release()
                logger.exception("relay dispatcher: a wake-up could not be taken")
                continue
            wait = RETRY_FIRST
            if contact_id is None:
                self._free.release()
                if client is None:
                    self._stopping.wait(POP_SECONDS)  # no Redis configured (yet)
                continue
            try:
                self._pool.submit(self._relay, contact_id)
            except RuntimeError:  # shutting down: the sweeper wakes it again
                self._free.release()

    def _relay(self, contact_id: int) -> None:
        try:
            relay_contact_now(contact_id)
        except Exception:
            # The contact's rows are as they were (or as far as they got): the sweeper
            # wakes it again.
            logger.exception("relay of contact %s failed", contact_id)
        finally:
            if self._stopping.is_set():
                connections.close_all()  # this thread's own, before the pool ends it
            self._free.release()


def relay_contact_now(contact_id: int) -> None:
    """Relay one contact in this thread, with the connection checks a Celery task gets
    around it (a connection broken by a database restart is replaced)."""
    from .engine import relay_contact_once

    close_old_connections()
    try:
        relay_contact_once(contact_id)
    finally:
        close_old_connections()


dispatcher: Dispatcher | None = None
_lock = threading.Lock()


def start(threads: int) -> Dispatcher:
    global dispatcher
    with _lock:
        if dispatcher is None or not dispatcher.running:
            dispatcher = Dispatcher(threads=threads)
            dispatcher.start()
        return dispatcher


def stop(timeout: float = 60.0) -> None:
    global dispatcher
    with _lock:
        running, dispatcher = dispatcher, None
    if running is not None:
        running.stop(timeout)
        connections.close_all()
