"""The benchmark: Octopods' hot paths, each beside its floor measured in the same run.

    scripts/bench [--smoke] [--repeat N] [--workers W] [--seconds S]
                  [--only webhook,pages,relay,latency] [--no-relay]
                  [--relay-workers N] [--relay-threads T]
                  [--floor-processes P] [--floor-threads Q] [--keep]

It starts the stack as the fault harness does (a PostgreSQL and a Redis of its own on
free loopback ports, gunicorn serving Octopods with W sync workers, the sandbox's
providers) plus a second gunicorn, with the same workers, serving a bare Django view
(bench/floor.py), and a stub Intercom and Telegram (bench/stub.py) that the Celery
worker(s) talk to instead of the sandbox. The worker(s) and beat are stopped while HTTP
is measured, so the queue only fills. Then:
- the webhook at 16 and 64 connections and two pages, beside the bare view;
- the stub on its own: 64 keep-alive connections at 50 ms, to show it is not the limit;
- the relay (bench/relay.py): a warm-up opens every contact's conversation (the
  first-message cost), then the worker(s) relay a stored backlog into the stub
  answering in 50 ms and at once, beside plain threads making the same call and one
  UPDATE; the inbox calls each steady-state message cost;
- webhook → first inbox call at 100 messages per second offered, open loop, the
  worker running (bench/latency.py), beside a raw Redis LPUSH → BRPOP hand-off;
- the resident memory of a web worker and of the relay worker after the runs.
Candidate and floor run interleaved, N times each; the table gives medians, the ratio
candidate/floor, the goal, and the CPU that other processes on the machine used
during the row. Only ratios within one run mean anything: the machine drifts by tens
of percent between runs. --only picks rows (the relay's warm-up runs for either relay
or latency); --relay-* say how the worker runs, and the relay floor gets as many
processes and threads unless --floor-* say otherwise.

--smoke runs every row for a few seconds, once, and checks only that the table came
out (exit 0); it never judges a figure.
"""

import argparse
import math
import signal
import statistics
import sys
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from harness.data import SECRET, admin_account, telegram_channel
from harness.faults import connect_intercom, setup_django, signed_in
from harness.services import ServiceError, free_port, wait_until
from harness.stack import INTERCOM_WORKSPACE, Process, Stack

from . import load
from .cpu import Background, children, cpu_seconds, rss_mib
from .latency import handoff, open_loop, percentile
from .relay import CUSTOMERS, Relay, RelayRun, arrivals
from .stub import StubClient
from .targets import STORED_TABLE, TARGET, signed_in_get, stub_reply, webhook_post

GROUPS = ("webhook", "pages", "relay", "latency")
STUB_CONNECTIONS, STUB_DELAY_MS = 64, 50
LATENCY_RATE, LATENCY_DELAY_MS = 100.0, 50

BOT_ID = "7000000002"
BOT_TOKEN = f"{BOT_ID}:AAHbench-support-bot-token-000000001"


def say(*args):
    print(*args, flush=True)


# --- the data -----------------------------------------------------------------------------


def set_up(stack: Stack, *, workspaces: int, messages: int) -> dict:
    from django.utils import timezone

    from channels.models import Channel, Contact, Direction, Message, MessageStatus
    from workspaces.models import Provider, Workspace

    user, account = admin_account("Bench Support")
    session = signed_in(stack)
    # The relay's workspace is connected through the sandbox's OAuth pages, as an admin
    # would; it counts as the first of the page's workspaces.
    connect_intercom(stack, session)
    inbox = Workspace.objects.get(external_id=INTERCOM_WORKSPACE)
    Workspace.objects.bulk_create(
        Workspace(
            account=account,
            provider=Provider.INTERCOM if n % 2 else Provider.HUBSPOT,
            external_id=f"bench-{n}",
            name=f"Workspace {n:03d}",
            connected_by=user,
            token_expires_at=timezone.now(),
        )
        for n in range(workspaces - 1)
    )
    workspace = Workspace.objects.filter(account=account).order_by("name").first()

    def channel(name: str, bot_id: str, workspace=workspace) -> Channel:
        return telegram_channel(
            workspace,
            name=name,
            bot_id=bot_id,
            bot_token=f"{bot_id}:AAHbench-support-bot-token-000000001",
            username=f"bench_{bot_id}_bot",
        )

    # The webhook fills one channel; the page reads another that holds exactly N.
    hooked = channel("Bench bot", BOT_ID)
    shown = channel("Bench page bot", "7000000003")
    relayed = channel("Bench relay bot", "7000000004", inbox)
    contacts = Contact.objects.bulk_create(
        Contact(channel=shown, external_id=str(800_000_000 + n), name=f"Customer {n}")
        for n in range(10)
    )
    Message.objects.bulk_create(
        Message(
            channel=shown,
            contact=contacts[n % len(contacts)],
            direction=Direction.INBOUND,
            provider_message_id=str(n + 1),
            type="text",
            text=f"Hello, this is message {n} about my order",
            status=MessageStatus.RELAYED,
        )
        for n in range(messages)
    )
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies if c.domain != "localhost")
    return {
        "webhook": f"/hooks/telegram/{hooked.webhook_key}/",
        "hooked": hooked.pk,
        "channel": shown.pk,
        "relay_channel": relayed.pk,
        "relay_webhook": f"/hooks/telegram/{relayed.webhook_key}/",
        "cookie": cookie,
    }


# --- measuring ----------------------------------------------------------------------------


@dataclass
class Line:
    """One row of the table."""

    path: str
    octopods: str
    floor: str
    ratio: str
    goal: str
    cpu: str

    def __str__(self):
        cells = (self.path, self.octopods, self.floor, self.ratio, self.goal, self.cpu)
        return "| " + " | ".join(cells) + " |"


def _met(ok: bool) -> str:
    return "met" if ok else "not met"


def _cpu(background: list[float], extra: str = "") -> str:
    load_ = max(background) if background else float("nan")
    return f"max {load_:.0f} % of a core{f'; {extra}' if extra else ''}"


class Row:
    def __init__(self, name: str, goal: float | None, unit: str = "req/s", *, p99_under=None):
        self.name, self.goal, self.unit = name, goal, unit
        self.p99_under = p99_under  # ms, for the candidate
        self.candidate: list[load.Result] = []
        self.floor: list[load.Result] = []
        self.background: list[float] = []
        self.note = ""
        self.floor_name = "bare Django view"

    @staticmethod
    def median(results, what):
        return statistics.median(what(r) for r in results) if results else float("nan")

    def figures(self, results):
        return (
            self.median(results, lambda r: r.rate),
            self.median(results, lambda r: r.percentile(0.50) * 1000),
            self.median(results, lambda r: r.percentile(0.99) * 1000),
        )

    def line(self) -> Line:
        c_rate, c50, c99 = self.figures(self.candidate)
        f_rate, f50, f99 = self.figures(self.floor)
        ratio = c_rate / f_rate if f_rate else float("nan")
        errors = sum(r.errors for r in self.candidate + self.floor)
        if self.goal is None:
            goal, ok = "", None
        else:
            goal = f">= {self.goal}x"
            ok = ratio >= self.goal
        if self.p99_under is not None:
            goal += f", p99 < {self.p99_under} ms"
            ok = ok and c99 < self.p99_under
        extra = "; ".join(x for x in (f"{errors} errors" if errors else "", self.note) if x)
        return Line(
            self.name,
            f"{c_rate:,.0f} {self.unit}, p50 {c50:.1f} / p99 {c99:.1f} ms",
            f"{self.floor_name}: {f_rate:,.0f} {self.unit}, p50 {f50:.1f} / p99 {f99:.1f} ms",
            f"{ratio:.3f}x",
            f"{goal}: {_met(ok)}" if ok is not None else "none: what a durable write costs",
            _cpu(self.background, extra),
        )


def measure(
    row: Row,
    *,
    candidate,
    floor,
    repeat: int,
    count: int,
    cap: float,
    concurrency: int,
    roots: set[int],
    index: int,
):
    for n in range(repeat):
        for side, (port, path, make, extra) in (("candidate", candidate), ("floor", floor)):
            TARGET.clear()
            TARGET.update(
                path=path,
                # Unique across rows, runs and sides: no update is a duplicate.
                update_base=(index * 100 + n + 1) * 10**9 + (side == "floor") * 10**8,
                **extra,
            )
            with Background(roots) as background:
                result = load.run(port, make, concurrency=concurrency, count=count, cap=cap)
            getattr(row, side).append(result)
            row.background.append(background.percent)
            say(
                f"  {row.name} {side} {n + 1}/{repeat}: {result.rate:,.0f} {row.unit}, "
                f"p50 {result.percentile(0.5) * 1000:.1f} ms, "
                f"p99 {result.percentile(0.99) * 1000:.1f} ms, errors {result.errors}, "
                f"others' CPU {background.percent:.0f} %"
            )


def table(lines: list[Line], args) -> str:
    return "\n".join(
        [
            f"gunicorn sync x{args.workers} for Octopods and for the floor; relay: "
            f"{args.relay_workers} Celery worker(s) x RELAY_THREADS={args.relay_threads}; "
            "medians; ratio = candidate / floor in "
            "this run",
            "",
            "| path | Octopods | floor | ratio | goal | others' CPU |",
            "|---|---|---|---|---|---|",
            *(str(line) for line in lines),
        ]
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="every row briefly, once")
    parser.add_argument("--repeat", type=int, default=None, help="runs per side (default 3)")
    parser.add_argument("--workers", type=int, default=5, help="gunicorn sync workers")
    parser.add_argument("--seconds", type=float, default=None, help="time cap per HTTP run")
    parser.add_argument(
        "--only",
        default=",".join(GROUPS),
        help=f"comma-separated rows to run, of {', '.join(GROUPS)} (default all); "
        "the memory row always comes out",
    )
    parser.add_argument(
        "--no-relay", action="store_true", help="leave out the relay and latency rows"
    )
    parser.add_argument(
        "--relay-workers",
        type=int,
        default=2,
        help="Celery worker processes (default 2, as deployed)",
    )
    parser.add_argument(
        "--latency-rate",
        type=float,
        default=LATENCY_RATE,
        help="messages a second the latency row offers (default 100)",
    )
    parser.add_argument(
        "--relay-threads", type=int, default=32, help="each worker's relay threads (RELAY_THREADS)"
    )
    parser.add_argument(
        "--floor-processes",
        type=int,
        default=None,
        help="the relay floor's processes (default: as many as the worker's)",
    )
    parser.add_argument(
        "--floor-threads",
        type=int,
        default=None,
        help="the relay floor's threads per process (default: as many as the worker's)",
    )
    parser.add_argument("--keep", action="store_true", help="keep logs and the database")
    args = parser.parse_args(argv)
    groups = {g.strip() for g in args.only.split(",") if g.strip()}
    if unknown := groups - set(GROUPS):
        parser.error(f"--only: no such rows: {', '.join(sorted(unknown))}")
    if args.no_relay:
        groups -= {"relay", "latency"}
    repeat = args.repeat or (1 if args.smoke else 3)
    cap = args.seconds or (2.0 if args.smoke else 8.0)
    say(
        f"benchmark: {repeat} run(s) per side, at most {cap:.0f} s each, "
        f"{args.workers} sync workers; rows: {', '.join(g for g in GROUPS if g in groups)}"
    )

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # clean up as on Ctrl-C
    stack = Stack(lease_seconds=30, workers=args.relay_workers, threads=args.relay_threads, log=say)
    python = str(Path(sys.executable).parent / "python")
    gunicorn = [python, "-m", "gunicorn"]
    stack.web.command = [
        *gunicorn,
        "octopods.wsgi",
        "--bind",
        f"127.0.0.1:{stack.web_port}",
        "--workers",
        str(args.workers),
    ]
    floor_port = free_port()
    floor = Process(
        "floor",
        [
            *gunicorn,
            "bench.floor:application",
            "--bind",
            f"127.0.0.1:{floor_port}",
            "--workers",
            str(args.workers),
        ],
        stack.env,
        stack.root / "floor.log",
    )
    stub = StubClient(free_port())
    stub_process = Process(
        "stub",
        [python, "-m", "bench.stub", "--port", str(stub.port)],
        stack.env,
        stack.root / "stub.log",
    )
    # The relay talks to the stub; the web (and the OAuth set-up) to the sandbox.
    for worker in stack.workers:
        worker.env = {
            **stack.env,
            "INTERCOM_API_URL": f"{stub.url}/intercom",
            "TELEGRAM_API_URL": f"{stub.url}/telegram",
        }
    stack.processes += [floor, stub_process]
    ok = failed = False
    lines: list[Line] = []
    try:
        stack.start()
        wait_until(
            lambda: Stack._answers(f"http://127.0.0.1:{floor_port}/"),
            timeout=60,
            what="the floor to answer",
        )
        wait_until(stub.answers, timeout=30, what="the stub to answer")
        # HTTP rows run with no relay competing for the two cores.
        for process in (*stack.workers, stack.beat):
            process.kill(signal.SIGTERM)
        setup_django(stack.env)
        data = set_up(stack, workspaces=100, messages=50)
        roots = _roots(stack)
        lines += http_rows(stack, data, floor_port, groups, repeat=repeat, cap=cap, roots=roots)
        if groups & {"relay", "latency"}:
            # The webhook rows' messages and wake-ups are not the relay's work.
            from channels.models import Message, MessageStatus

            Message.objects.filter(channel_id=data["hooked"], status=MessageStatus.RECEIVED).update(
                status=MessageStatus.RELAYED
            )
            stack.redis.flushall()
            lines.append(stub_row(stub, stub_process, smoke=args.smoke, roots=roots))
            relay = Relay(
                stack,
                stub,
                stub_pid=stub_process.popen.pid,
                channel_pk=data["relay_channel"],
                webhook=data["relay_webhook"],
                secret=SECRET,
                cap=30 if args.smoke else 90,
                floor_shape=_floor_shape(args),
                log=say,
            )
            try:
                lines += relay_rows(relay, args, groups, repeat=repeat)
            finally:
                relay.stop_workers()
        else:
            relay = None
        lines.append(memory_row(stack, floor, relay))
        say("")
        say(table(lines, args))
        ok = True
    except ServiceError as error:
        say(f"benchmark failed: {error}")
        failed = True
    finally:
        # Logs and database stay for a failure, not for Ctrl-C or SIGTERM.
        stack.stop(keep=args.keep or failed)
    return 0 if ok else 1


def http_rows(stack, data, floor_port, groups, *, repeat, cap, roots) -> list[Line]:
    bare = (floor_port, "/", signed_in_get, {"cookie": data["cookie"]})
    post_floor = (floor_port, "/", webhook_post, {})
    hook = (stack.web_port, data["webhook"], webhook_post, {})
    rows = []
    if "webhook" in groups:
        _make_stored_table()
        rows += [
            (
                Row("reference: the bare view + one INSERT committed, c=16", None),
                16,
                (floor_port, "/stored/", webhook_post, {}),
                post_floor,
            ),
            (Row("signed Telegram webhook stored, c=16", 0.5), 16, hook, post_floor),
            (
                Row("signed Telegram webhook stored, c=64", 0.5, p99_under=50),
                64,
                hook,
                post_floor,
            ),
        ]
    if "pages" in groups:
        rows += [
            (
                Row("Connected Workspaces, 100 workspaces, c=8", 0.15),
                8,
                (stack.web_port, "/", signed_in_get, {"cookie": data["cookie"]}),
                bare,
            ),
            (
                Row("channel page, 50 messages, c=8", 0.15),
                8,
                (
                    stack.web_port,
                    f"/channels/{data['channel']}/",
                    signed_in_get,
                    {"cookie": data["cookie"]},
                ),
                bare,
            ),
        ]
    for index, (row, concurrency, candidate, floor_side) in enumerate(rows):
        _check(candidate)
        measure(
            row,
            candidate=candidate,
            floor=floor_side,
            repeat=repeat,
            count=100_000,
            cap=cap,
            concurrency=concurrency,
            roots=roots,
            index=index,
        )
    if "webhook" in groups:
        webhooks = [row for row, *_ in rows[1:3]]
        accepted = 1 + sum(r.requests for row in webhooks for r in row.candidate)  # +_check's
        stored = _stored(data["hooked"])
        say(f"  webhook: {accepted} accepted, {stored} messages stored")
        if stored != accepted:
            webhooks[0].note = f"{accepted} accepted but {stored} stored"
    return [row.line() for row, *_ in rows]


def stub_row(stub: StubClient, process: Process, *, smoke: bool, roots) -> Line:
    """The stub must not be what limits a relay row: 64 keep-alive connections at 50 ms
    can ask at most 64 / 0.05 = 1,280 calls per second of it."""
    stub.set_delay(STUB_DELAY_MS)
    ideal = STUB_CONNECTIONS / (STUB_DELAY_MS / 1000)
    used = cpu_seconds(process.popen.pid)
    with Background(roots) as background:
        result = load.run(
            stub.port,
            stub_reply,
            concurrency=STUB_CONNECTIONS,
            count=100_000,
            cap=2.0 if smoke else 5.0,
        )
    busy = 100 * (cpu_seconds(process.popen.pid) - used) / result.seconds
    stub.reset()
    say(
        f"  stub, reply call, c={STUB_CONNECTIONS} at {STUB_DELAY_MS} ms: {result.rate:,.0f} "
        f"req/s of {ideal:,.0f}, p50 {result.percentile(0.5) * 1000:.1f} ms, p99 "
        f"{result.percentile(0.99) * 1000:.1f} ms, errors {result.errors}, stub CPU {busy:.0f} %"
    )
    ratio = result.rate / ideal
    return Line(
        f"stub Intercom (bench/stub.py), reply call, c={STUB_CONNECTIONS}, "
        f"answering in {STUB_DELAY_MS} ms",
        f"{result.rate:,.0f} req/s, p50 {result.percentile(0.5) * 1000:.1f} / p99 "
        f"{result.percentile(0.99) * 1000:.1f} ms; the stub used {busy:.0f} % of a core",
        f"c / delay: {ideal:,.0f} req/s",
        f"{ratio:.3f}x",
        f">= 0.8x (not the bottleneck): {_met(ratio >= 0.8)}",
        _cpu([background.percent], f"{result.errors} errors" if result.errors else ""),
    )


def relay_rows(relay: Relay, args, groups, *, repeat: int) -> list[Line]:
    per_customer = 2 if args.smoke else 12
    relay.warm_up()
    say(
        f"  warm-up: {CUSTOMERS} first messages, {relay.first_cost:.2f} inbox calls each: "
        f"{_counts(relay.first_counts)}"
    )
    lines = []
    steady: list[RelayRun] = []
    processes, threads = relay.floor_shape
    if "relay" in groups:
        for delay_ms, goal in ((50, 300.0), (0, 0.8)):
            runs: dict[str, list[RelayRun]] = {"candidate": [], "floor": []}
            background = []
            for n in range(repeat):
                for side in ("candidate", "floor"):
                    with Background(_roots(relay.stack)) as load_:
                        run = getattr(relay, side)(per_customer, delay_ms)
                    runs[side].append(run)
                    background.append(load_.percent)
                    say(
                        f"  relay, stub at {delay_ms} ms, {side} {n + 1}/{repeat}: "
                        f"{run.rate:,.0f} msg/s ({run.relayed} of {run.sent} relayed, "
                        f"{run.arrived} reached the inbox), {run.calls} inbox calls, "
                        + (
                            f"worker CPU {run.worker_ms:.1f} ms per message, "
                            if side == "candidate"
                            else ""
                        )
                        + f"stub CPU {run.stub_cpu:.0f} %, others' CPU {load_.percent:.0f} %"
                    )
            steady += runs["candidate"]
            lines.append(_relay_line(delay_ms, goal, runs, background, relay, processes, threads))
        lines.append(_calls_line(relay, steady))
    if "latency" in groups:
        lines.append(latency_row(relay, args, repeat=repeat))
    return lines


def _relay_line(delay_ms, goal, runs, background, relay: Relay, processes, threads) -> Line:
    c = statistics.median(r.rate for r in runs["candidate"])
    f = statistics.median(r.rate for r in runs["floor"])
    ratio = c / f if f else float("nan")
    missing = sum(r.sent - r.relayed for r in runs["candidate"] + runs["floor"])
    stub_cpu = max(r.stub_cpu for r in runs["candidate"] + runs["floor"])
    if goal >= 1:
        aim = f">= {goal:.0f} msg/s: {_met(c >= goal)}"
    else:
        aim = f">= {goal}x: {_met(ratio >= goal)}"
    extra = f"stub max {stub_cpu:.0f} %"
    if missing:
        extra += f"; {missing} messages not relayed within the cap"
    return Line(
        f"relay, stub answering in {delay_ms} ms, {CUSTOMERS} contacts",
        f"{c:,.0f} msg/s; the worker's CPU: "
        f"{statistics.median(r.worker_ms for r in runs['candidate']):.1f} ms per message",
        f"{processes} process(es) x {threads} threads, the reply call + 1 UPDATE: {f:,.0f} msg/s",
        f"{ratio:.3f}x",
        aim,
        _cpu(background, extra),
    )


def _calls_line(relay: Relay, steady: list[RelayRun]) -> Line:
    calls = sum(r.calls for r in steady)
    relayed = sum(r.relayed for r in steady)
    per = calls / relayed if relayed else float("nan")
    counts: dict[str, int] = {}
    for run in steady:
        for name, n in run.counts.items():
            counts[name] = counts.get(name, 0) + n
    say(f"  steady state: {calls} calls for {relayed} messages: {_counts(counts)}")
    return Line(
        "Intercom calls per message, steady state (every contact has a conversation)",
        f"{per:.2f} ({calls} calls for {relayed} messages); a contact's first message: "
        f"{relay.first_cost:.2f}",
        "-",
        "-",
        f"<= 1.05: {_met(per <= 1.05)}",
        "-",
    )


def latency_row(relay: Relay, args, *, repeat: int) -> Line:
    count = 200 if args.smoke else 1000
    wait = 20 if args.smoke else 30
    relay.stub.set_delay(LATENCY_DELAY_MS)
    stack = relay.stack
    relay.start_workers()
    # The worker is ready when a message goes through.
    probe = relay.numbers(1)[:1]
    relay.store(probe)
    wait_until(
        lambda: arrivals(relay.stub.stats(), [probe[0][0]]),
        timeout=120,
        what="the worker to relay a first message",
    )
    candidate, floor, background = [], [], []
    for n in range(repeat):
        relay.stub.reset()
        numbers = [
            (update_id, customer)
            for update_id, customer in (relay.numbers(count // CUSTOMERS + 1))[:count]
        ]
        with Background(_roots(stack)) as load_:
            sent, errors, lag = open_loop(
                stack.web_port,
                relay.webhook,
                SECRET,
                numbers,
                rate=args.latency_rate,
                cap=wait,
            )
            with suppress(ServiceError):
                wait_until(
                    lambda sent=sent: len(arrivals(relay.stub.stats(), sent)) == len(sent),
                    timeout=wait,
                    what="the relay",
                )
        stats = relay.stub.stats()
        first = stats["first"]
        latencies = [first[str(k)] - t for k, t in sent.items() if str(k) in first]
        missing = len(numbers) - len(latencies)
        c50 = percentile(latencies, 0.5, missing=missing) * 1000
        c99 = percentile(latencies, 0.99, missing=missing) * 1000
        candidate.append((c50, c99, missing, StubClient.intercom_calls(stats), len(latencies)))
        background.append(load_.percent)
        say(
            f"  webhook -> first inbox call at {args.latency_rate:.0f} msg/s, candidate "
            f"{n + 1}/{repeat}: p50 {c50:.1f} ms, p99 {c99:.1f} ms, {len(latencies)} of "
            f"{len(numbers)} arrived ({errors} webhook errors, sender late by at most "
            f"{lag * 1000:.0f} ms), {StubClient.intercom_calls(stats)} inbox calls, "
            f"others' CPU {load_.percent:.0f} %"
        )
        with Background(_roots(stack)) as load_:
            floor_latencies, lost = handoff(
                stack.redis.url, rate=args.latency_rate, count=count, cap=wait
            )
        f50 = percentile(floor_latencies, 0.5, missing=lost) * 1000
        f99 = percentile(floor_latencies, 0.99, missing=lost) * 1000
        floor.append((f50, f99))
        background.append(load_.percent)
        say(
            f"  webhook -> first inbox call, floor {n + 1}/{repeat}: Redis LPUSH -> BRPOP "
            f"p50 {f50:.2f} ms, p99 {f99:.2f} ms, {lost} lost, others' CPU {load_.percent:.0f} %"
        )
    relay.stop_workers()
    c50 = statistics.median(c[0] for c in candidate)
    c99 = statistics.median(c[1] for c in candidate)
    f50 = statistics.median(f[0] for f in floor)
    f99 = statistics.median(f[1] for f in floor)
    missing = sum(c[2] for c in candidate)
    extra = f"{missing} messages had not reached the inbox after {wait} s" if missing else ""
    return Line(
        f"webhook -> first Intercom call, {args.latency_rate:.0f} msg/s offered (open loop), "
        f"stub answering in {LATENCY_DELAY_MS} ms",
        f"p50 {_ms(c50)} / p99 {_ms(c99)}",
        f"Redis LPUSH -> BRPOP between two processes: p50 {f50:.2f} / p99 {f99:.2f} ms",
        f"p50 {c50 / f50:,.0f}x the floor" if math.isfinite(c50) and f50 else "-",
        f"p50 < 15 ms, p99 < 50 ms: {_met(c50 < 15 and c99 < 50)}",
        _cpu(background, extra),
    )


def _ms(value: float) -> str:
    return f"{value:,.1f} ms" if math.isfinite(value) else "never (not arrived)"


def memory_row(stack: Stack, floor: Process, relay: Relay | None) -> Line:
    def workers_rss(process: Process) -> list[float]:
        return [rss_mib(pid) for pid in children(process.popen.pid)] if process.popen else []

    web = workers_rss(stack.web)
    bare = workers_rss(floor)
    octopods = f"web worker (gunicorn child) {_mib(web)}"
    if relay is not None and relay.worker_rss:
        octopods += f"; relay worker {_mib(relay.worker_rss)}"
    else:
        octopods += "; relay worker not run"
    return Line(
        "memory (RSS) after the runs",
        octopods,
        f"bare-view worker {_mib(bare)}",
        "-",
        "-",
        "-",
    )


def _mib(values: list[float]) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.0f} MiB"
    return f"{statistics.median(values):.0f} MiB (median of {len(values)}, max {max(values):.0f})"


def _counts(counts: dict) -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items(), key=lambda x: -x[1]))


def _floor_shape(args) -> tuple[int, int]:
    # The relay runs on each worker's own threads (relay/dispatch.py).
    return (
        args.floor_processes or args.relay_workers,
        args.floor_threads or args.relay_threads,
    )


def _roots(stack: Stack) -> set[int]:
    return {p.popen.pid for p in stack.processes if p.popen} | _postmaster(stack)


def _check(side):
    """One request first: a row that only measures errors (a 403, a redirect to the
    sign-in page) is a broken benchmark, not a slow product."""
    import http.client

    port, path, make, extra = side
    TARGET.clear()
    TARGET.update(path=path, update_base=0, **extra)
    method, path, body, headers = make(9, 0, 0)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    if response.status != 200:
        raise ServiceError(f"{method} {path} answered {response.status}, not 200")


def _make_stored_table():
    """The reference row's table (bench/floor.py): one row per request, as lean as a
    stored webhook can be."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {STORED_TABLE} (id bigserial PRIMARY KEY, "
            "received_at timestamptz NOT NULL DEFAULT now(), update_id bigint NOT NULL, "
            "payload jsonb NOT NULL)"
        )


def _stored(channel: int) -> int:
    from channels.models import Message

    return Message.objects.filter(channel_id=channel).count()


def _postmaster(stack: Stack) -> set[int]:
    pid_file = stack.postgres.data / "postmaster.pid"
    try:
        return {int(pid_file.read_text().split()[0])}
    except (OSError, ValueError, IndexError):
        return set()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # everything is stopped by then (main's finally)
        say("benchmark interrupted")
        sys.exit(130)
