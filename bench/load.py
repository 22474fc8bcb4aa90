"""A closed-loop load generator from the standard library: P processes x T threads,
each with one keep-alive http.client connection (it connects again when the server
closes, as gunicorn's sync workers do after every response). Every run stops at a
fixed request count or a time cap, whichever comes first."""

import http.client
import multiprocessing
import signal
import threading
import time
from dataclasses import dataclass


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    latencies: list  # seconds, successful requests only

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _worker(args):
    port, make_request, threads, count, cap, slot = args
    # The parent cleans up on SIGTERM; the pool ends its children with one.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    lock = threading.Lock()
    remaining = [count]
    latencies, errors = [], [0]
    began = time.monotonic()
    deadline = began + cap

    def loop(thread: int):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        n = 0
        mine = []
        while time.monotonic() < deadline:
            with lock:
                if remaining[0] <= 0:
                    break
                remaining[0] -= 1
            method, path, body, headers = make_request(slot, thread, n)
            n += 1
            started = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                ok = response.status < 400
            except (OSError, http.client.HTTPException):
                connection.close()
                ok = False
            if ok:
                mine.append(time.perf_counter() - started)
            else:
                with lock:
                    errors[0] += 1
        connection.close()
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=loop, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(cap + 15)
    return latencies, errors[0], began, time.monotonic()


def run(port: int, make_request, *, concurrency: int, count: int, cap: float, processes=2):
    """``make_request(slot, thread, n) -> (method, path, body, headers)`` must be a
    module-level function (it goes to forked processes)."""
    processes = max(1, min(processes, concurrency))
    per = [concurrency // processes + (i < concurrency % processes) for i in range(processes)]
    jobs = [(port, make_request, per[i], count // processes, cap, i) for i in range(processes)]
    context = multiprocessing.get_context("fork")
    with context.Pool(processes) as pool:
        parts = pool.map(_worker, jobs)
    # CLOCK_MONOTONIC is one clock for every process: the span from the first start
    # to the last finish, without the pool's start-up.
    seconds = max(p[3] for p in parts) - min(p[2] for p in parts)
    latencies = [x for part in parts for x in part[0]]
    return Result(len(latencies), sum(p[1] for p in parts), seconds, latencies)
