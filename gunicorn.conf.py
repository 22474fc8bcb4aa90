"""gunicorn's settings for Octopods, read from the working directory (gunicorn's default
``./gunicorn.conf.py``): the Dockerfile, compose and the harness all start it here.

Prometheus metrics across worker processes (octopods/metrics.py): each worker writes
its counters to files in PROMETHEUS_MULTIPROC_DIR and /metrics adds them up. The
directory is emptied when gunicorn starts (a restarted server must not add up the
last run's counters twice, nor read files of processes long gone); without the
variable, a directory of this server's own is made. When a worker exits, its
live gauges' files go with it.
"""

import glob
import os
import shutil
import tempfile

_made = []  # the folder this server made for itself, removed when it stops


def on_starting(server):
    # Runs in the master before any worker is forked (and before the app is imported,
    # so prometheus_client sees the variable in every worker).
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        path = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="octopods-metrics-")
        _made.append(path)
    os.makedirs(path, exist_ok=True)
    for stale in glob.glob(os.path.join(path, "*.db")):
        os.remove(stale)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    for path in _made:
        shutil.rmtree(path, ignore_errors=True)
