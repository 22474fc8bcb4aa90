"""Best-effort wake-ups for the relay, sent after the webhook's transaction commits.

PostgreSQL is the record of what still has to be relayed; a wake-up only saves the
relay the wait for its next sweep. So the webhook view never waits on the broker: it
drops contact ids into an in-process queue and returns, and one daemon thread per
process publishes them. Celery's publish can hang for as long as Redis is unreachable
(celery#4296, kombu#1463); here that only stalls the thread, whose queue is bounded —
when it is full, ids are dropped with a log line and the sweeper finds their messages.

With RELAY_IN_PROCESS (the default without a broker: a laptop on embedded defaults)
the same thread runs the relay itself, outside the request that stored the messages.
"""

import logging
import os
import queue
import threading
from collections.abc import Iterable

from django.conf import settings

logger = logging.getLogger(__name__)

RELAY_TASK = "channels.relay_contact"
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
        from octopods.celery import app

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
            try:
                if settings.RELAY_IN_PROCESS:
                    _relay_in_process(contact_id)
                else:
                    app.send_task(RELAY_TASK, args=[contact_id], retry=False)
            except Exception as error:
                logger.debug("relay wake-up failure", exc_info=True)
                logger.warning(
                    "relay wake-up for contact %s not sent (%s); the sweeper will relay it",
                    contact_id,
                    type(error).__name__,
                )
            finally:
                work.task_done()


def _relay_in_process(contact_id: int | None) -> None:
    """Relay one contact, or (None) every contact with work that is due."""
    from django.db import connections

    from .relay import contact_relay, contacts_due

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
