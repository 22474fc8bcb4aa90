"""Figures from /proc: the background load (the CPU that processes other than the
benchmark's own used during a measurement, from utime + stime per process), a
process's CPU time, and its resident memory. Ours are this process's descendants and
the PostgreSQL server's (pg_ctl detaches the postmaster from us)."""

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


def cpu_seconds(pid: int | None) -> float:
    """CPU time (user + system) a process has used so far, in seconds; 0 if it is gone."""
    if pid is None:
        return 0.0
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def children(pid: int) -> list[int]:
    return sorted(p for p, (ppid, _) in _snapshot().items() if ppid == pid)


def tree(pid: int) -> set[int]:
    """A process and all its descendants."""
    return _descendants({pid}, _snapshot())


def rss_mib(pid: int) -> float:
    """Resident memory of one process (VmRSS), in MiB; NaN if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")
