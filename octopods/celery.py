"""The Celery application.

PostgreSQL is the record of what still has to happen; Celery and Redis only carry
wake-ups. Settings live in Django settings under the ``CELERY_`` prefix.
"""

import os
import time
from pathlib import Path

from celery import Celery, bootsteps
from celery.beat import PersistentScheduler
from celery.signals import setup_logging, task_postrun, task_prerun, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "octopods.settings.dev")

# Two queues, so that neither kind of work waits behind the other: customer-facing work
# (a contact's relay, a button tap's answer) on ``relay``; the 15-second sweep and the
# periodic upkeep (connection checks, template syncs) on ``maintenance``, where a
# backlog of relay tasks can never hold up the sweep that finds what is due. A worker
# consumes what its ``-Q`` names (README, "Queues"); with no broker every task runs
# in-process and queues play no part.
RELAY_QUEUE = "relay"
MAINTENANCE_QUEUE = "maintenance"
QUEUES = (RELAY_QUEUE, MAINTENANCE_QUEUE)
TASK_QUEUES = {
    "channels.relay_contact": RELAY_QUEUE,
    "channels.answer_button_taps": RELAY_QUEUE,
    "channels.sweep": MAINTENANCE_QUEUE,
    "channels.sync_all_templates": MAINTENANCE_QUEUE,
    "channels.sync_whatsapp_templates": MAINTENANCE_QUEUE,
    "integrations.check_connections": MAINTENANCE_QUEUE,
    "integrations.check_connection": MAINTENANCE_QUEUE,
}

app = Celery("octopods")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_routes = {name: {"queue": queue} for name, queue in TASK_QUEUES.items()}
# A task without a route (none of the product's: a test checks) goes where the relay
# workers listen rather than to a queue no worker consumes.
app.conf.task_default_queue = RELAY_QUEUE
app.autodiscover_tasks()


class RelayDispatch(bootsteps.StartStopStep):
    """Every worker process also runs the relay's dispatcher (relay/dispatch.py):
    RELAY_THREADS threads relaying the contacts woken in Redis, beside the pool that
    runs the periodic tasks. RELAY_THREADS=0 leaves it out."""

    def __init__(self, worker, **kwargs):
        from django.conf import settings

        self.threads = settings.RELAY_THREADS

    def start(self, worker):
        if self.threads:
            from relay import dispatch

            dispatch.start(self.threads)

    def stop(self, worker):
        if self.threads:
            from relay import dispatch

            dispatch.stop()


app.steps["worker"].add(RelayDispatch)

# --- Heartbeat files: what the containers' health checks read ----------------------
# A worker's timer and beat's loop touch HEARTBEAT_FILE; the health check only compares
# its age with the clock (docker-compose.yml), so it cannot hang on Redis or PostgreSQL
# and costs no Python start-up of Django. Empty: no file.
HEARTBEAT_SECONDS = 10


def beat_heart(path: str) -> None:
    Path(path).touch()


class Heartbeat(bootsteps.StartStopStep):
    """Touches HEARTBEAT_FILE every HEARTBEAT_SECONDS from the worker's own timer: the
    file goes stale when the worker's machinery stops running, not merely its process."""

    requires = ("celery.worker.components:Timer",)

    def __init__(self, worker, **kwargs):
        from django.conf import settings

        self.path = settings.HEARTBEAT_FILE
        self.timer = None

    def start(self, worker):
        if self.path:
            beat_heart(self.path)
            self.timer = worker.timer.call_repeatedly(HEARTBEAT_SECONDS, beat_heart, (self.path,))

    def stop(self, worker):
        if self.timer is not None:
            self.timer.cancel()


app.steps["worker"].add(Heartbeat)


class HeartbeatScheduler(PersistentScheduler):
    """Beat's scheduler, touching HEARTBEAT_FILE on every turn of beat's loop (at least
    every 15 s: the sweep's interval), at most once a second."""

    _touched = 0.0

    def tick(self, *args, **kwargs):
        from django.conf import settings

        if settings.HEARTBEAT_FILE and time.monotonic() - self._touched >= 1:
            beat_heart(settings.HEARTBEAT_FILE)
            self._touched = time.monotonic()
        return super().tick(*args, **kwargs)


@worker_init.connect
def _metrics_exporter(**kwargs):
    # The worker's own Prometheus metrics on METRICS_PORT (README, "Metrics").
    from octopods.metrics import worker_exporter_start

    worker_exporter_start()


@setup_logging.connect
def _use_django_logging(**kwargs):
    # Keep one logging configuration (Django's LOGGING) for web and worker.
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


@task_prerun.connect
@task_postrun.connect
def _database_connections_checked(task=None, **kwargs):
    """Around every task, what Django does around every request: drop this thread's
    database connection if it broke or aged out, and have the next query check it
    (CONN_HEALTH_CHECKS). Workers keep their connection between tasks
    (CELERY_DB_REUSE_MAX), and Celery's Django fixup only looks at it every
    CELERY_DB_REUSE_MAX tasks (celery/fixups/django.py, close_database), so after a
    PostgreSQL restart a worker failed its next thousand tasks on the dead connection
    ("the connection is closed"): in practice, until someone restarted it. The signals
    run in the thread that runs the task, and Django's connections are per thread, so
    each pool thread checks its own."""
    # An eager task runs inside its caller's request or transaction, whose connection
    # is not ours to close (it may be mid-transaction).
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
