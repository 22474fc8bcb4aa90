"""Background load: the CPU that processes other than the benchmark's own used during a
measurement, from /proc (utime + stime per process). Ours are this process's
descendants and the PostgreSQL server's (pg_ctl detaches the postmaster from us)."""

import os
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _snapshot() -> dict[int, tuple[int, int]]:
    """pid → (ppid, CPU ticks)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: split after the last ")".
        fields = raw[raw.rindex(")") + 2 :].split()
        found[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return found


def _descendants(roots: set[int], snapshot: dict) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in snapshot.items():
        children.setdefault(ppid, []).append(pid)
    ours, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid in ours:
            continue
        ours.add(pid)
        todo.extend(children.get(pid, ()))
    return ours


class Background:
    """``with Background(roots) as load: ...`` then ``load.percent`` is the others'
    CPU as a percentage of one core over the block (processes that lived entirely
    inside it are missed)."""

    def __init__(self, roots: set[int]):
        self.roots = roots | {os.getpid()}
        self.percent = float("nan")

    def __enter__(self):
        self._before, self._started = _snapshot(), time.monotonic()
        return self

    def __exit__(self, *exc):
        after, seconds = _snapshot(), time.monotonic() - self._started
        ours = _descendants(self.roots, after) | _descendants(self.roots, self._before)
        ticks = 0
        for pid, (_, used) in after.items():
            if pid not in ours:
                ticks += used - self._before.get(pid, (0, 0))[1]
        self.percent = 100.0 * ticks / TICKS / seconds if seconds else float("nan")
        return False
