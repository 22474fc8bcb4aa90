"""Run a command several times while every core is kept busy, and count the failures:
tests that pass only on an idle machine are racing, not waiting on conditions.

    scripts/busy [--runs 10] [--hogs N] -- COMMAND...

Each hog is a process spinning at full speed (one per core by default) for as long as
the runs last. Prints one line per run and ``runs=…, failures=…``; exits 1 if any run
failed.
"""

import argparse
import multiprocessing
import os
import subprocess
import sys
import time


def spin():  # pragma: no cover - killed, never returns
    while True:
        pass


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/busy", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--hogs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    hogs = [multiprocessing.Process(target=spin, daemon=True) for _ in range(args.hogs)]
    for hog in hogs:
        hog.start()
    failures = 0
    try:
        for run in range(1, args.runs + 1):
            started = time.monotonic()
            code = subprocess.run(command, check=False).returncode  # noqa: S603 - the caller's
            failures += code != 0
            print(
                f"[busy] run {run}/{args.runs} with {args.hogs} busy cores: "
                f"{'passed' if code == 0 else f'FAILED ({code})'} in "
                f"{time.monotonic() - started:.0f} s",
                flush=True,
            )
    finally:
        for hog in hogs:
            hog.kill()
    print(f"[busy] runs={args.runs}, failures={failures}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
