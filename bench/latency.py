"""The latency row: from a customer's message reaching the webhook to the first inbox
call that carries it, at a fixed offered rate, the worker running.

Open loop: a sender sends message i at t0 + i / rate, from as many threads (each with
its own keep-alive connection) as it takes to stay on that schedule however slowly the
webhook answers, and never waits for the relay. A message's latency runs from its
scheduled send time (so a late sender counts against us, not for us) to the stub's
arrival time for the first call carrying its text, on the same clock
(CLOCK_MONOTONIC). A message that has not arrived when the row gives up counts as
later than any that did.

Its floor is the raw queue hand-off the wake-up rides on (PERFORMANCE.md §3): redis-py
LPUSH of a 950-byte message, at the same rate, picked up by BRPOP in another process.
"""

import http.client
import math
import multiprocessing
import signal
import threading
import time

from .relay import post_update

SENDER_THREADS = 64
HANDOFF_KEY = "bench:handoff"
HANDOFF_BYTES = 950


def percentile(values: list[float], q: float, *, missing: int = 0) -> float:
    """The q-quantile of values plus ``missing`` ones later than all of them (inf)."""
    ordered = sorted(values) + [math.inf] * missing
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def open_loop(
    port: int,
    path: str,
    secret: str,
    numbers: list[tuple[int, int]],
    *,
    rate: float,
    cap: float,
):
    """Send ``numbers`` (update id, customer) to the webhook at ``rate`` per second.
    Returns ({update id: scheduled time}, errors, the sender's worst lag in seconds)."""
    lock = threading.Lock()
    following = [0]
    scheduled: dict[int, float] = {}
    errors, lag = [0], [0.0]
    start = time.monotonic() + 0.1
    deadline = start + len(numbers) / rate + cap

    def loop():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            while True:
                with lock:
                    i = following[0]
                    following[0] += 1
                if i >= len(numbers):
                    return
                update_id, customer = numbers[i]
                at = start + i / rate
                pause = at - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                now = time.monotonic()
                if now > deadline:
                    return
                try:
                    ok = post_update(connection, path, secret, update_id, customer) == 200
                except (OSError, http.client.HTTPException):
                    connection.close()
                    ok = False
                with lock:
                    lag[0] = max(lag[0], now - at)
                    if ok:
                        scheduled[update_id] = at
                    else:
                        errors[0] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(SENDER_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()) + 15)
    return scheduled, errors[0], lag[0]


def _consume(url: str, count: int, cap: float, pipe):
    import redis

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    client = redis.Redis.from_url(url)
    client.ping()
    pipe.send("ready")
    latencies = []
    deadline = time.monotonic() + cap
    while len(latencies) < count and time.monotonic() < deadline:
        item = client.brpop([HANDOFF_KEY], timeout=1)
        if item is not None:
            latencies.append(time.monotonic() - float(item[1][:20]))
    pipe.send(latencies)


def handoff(url: str, *, rate: float, count: int, cap: float) -> tuple[list[float], int]:
    """The floor: (latencies in seconds, messages lost)."""
    import redis

    client = redis.Redis.from_url(url)
    client.delete(HANDOFF_KEY)
    context = multiprocessing.get_context("fork")
    mine, theirs = context.Pipe()
    consumer = context.Process(
        target=_consume, args=(url, count, count / rate + cap, theirs), daemon=True
    )
    consumer.start()
    try:
        if not mine.poll(30):
            return [], count
        mine.recv()
        start = time.monotonic()
        padding = b"x" * (HANDOFF_BYTES - 20)
        for i in range(count):
            pause = start + i / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            client.lpush(HANDOFF_KEY, f"{time.monotonic():020.9f}".encode() + padding)
        latencies = mine.recv() if mine.poll(cap + 5) else []
    finally:
        consumer.join(5)
        if consumer.is_alive():
            consumer.kill()
            consumer.join(5)
        client.delete(HANDOFF_KEY)
        client.close()
    return latencies, count - len(latencies)
