"""A task the reliability tests load into a real worker (``-I tests.reliability.probe``)
to keep messages in flight: started, not yet acknowledged (acks_late)."""

import threading
import time
from pathlib import Path

from celery import shared_task

HOLD = "tests.reliability.probe.hold"


@shared_task(name=HOLD, ignore_result=True)
def hold(folder: str, name: str) -> None:
    """Write ``<name>.started`` in ``folder``, then wait (at most two minutes) until the
    test writes ``release`` there. Files, not Redis: the test kills Redis meanwhile."""
    Path(folder, f"{name}.started").touch()
    release = Path(folder, "release")
    deadline = time.monotonic() + 120
    pause = threading.Event()
    while not release.exists() and time.monotonic() < deadline:
        pause.wait(0.05)
