"""The Celery application.

PostgreSQL is the record of what still has to happen; Celery and Redis only carry
wake-ups. Settings live in Django settings under the ``CELERY_`` prefix.
"""

import os

from celery import Celery, bootsteps
from celery.signals import setup_logging, task_postrun, task_prerun, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "octopods.settings.dev")

app = Celery("octopods")
app.config_from_object("django.conf:settings", namespace="CELERY")
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
