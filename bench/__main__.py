"""The benchmark: Octopods' hot paths, each beside its floor measured in the same run.

    scripts/bench [--smoke] [--repeat N] [--workers W] [--seconds S] [--no-relay]

It starts the stack as the fault harness does (a PostgreSQL and a Redis of its own on
free loopback ports, gunicorn serving Octopods with W sync workers, the sandbox's
providers) plus a second gunicorn, with the same workers, serving a bare Django view
(bench/floor.py). Celery's worker (one, on 16 threads) and beat are stopped while HTTP
is measured, so the queue only fills; the relay row then starts the worker on stored
messages and sets it beside plain threads making the same calls (bench/relay.py).
Candidate and floor run interleaved, N times each; the table gives
medians, the ratio candidate/floor, the goal for that ratio, and the CPU that other
processes on the machine used during the row. Only ratios within one run mean
anything: the machine drifts by tens of percent between runs.

--smoke runs every row for a few seconds, once, and checks only that the table came
out (exit 0); it never judges a figure.
"""

import argparse
import signal
import statistics
import sys
from pathlib import Path

from harness.data import SECRET, admin_account, telegram_channel
from harness.faults import connect_intercom, setup_django, signed_in
from harness.services import ServiceError, free_port, wait_until
from harness.stack import INTERCOM_WORKSPACE, Process, Stack

from . import load
from .cpu import Background
from .relay import CUSTOMERS, Relay
from .targets import TARGET, signed_in_get, webhook_post

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


class Row:
    def __init__(self, name: str, goal: float, unit: str = "req/s"):
        self.name, self.goal, self.unit = name, goal, unit
        self.candidate: list[load.Result] = []
        self.floor: list[load.Result] = []
        self.background: list[float] = []
        self.note = ""
        self.latency = True
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
):
    for n in range(repeat):
        for side, (port, path, make, extra) in (("candidate", candidate), ("floor", floor)):
            TARGET.clear()
            TARGET.update(
                path=path, update_base=(n + 1) * 10**9 + (side == "floor") * 10**8, **extra
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


def table(rows: list[Row], workers: int) -> str:
    lines = [
        f"gunicorn sync x{workers} for Octopods and for the floor; medians; "
        "ratio = candidate / floor in this run",
        "",
        "| path | Octopods | floor | ratio | goal | others' CPU |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        c_rate, c50, c99 = row.figures(row.candidate)
        f_rate, f50, f99 = row.figures(row.floor)
        ratio = c_rate / f_rate if f_rate else float("nan")
        errors = sum(r.errors for r in row.candidate + row.floor)
        load_ = max(row.background) if row.background else float("nan")
        candidate, floor = f"{c_rate:,.0f} {row.unit}", f"{f_rate:,.0f} {row.unit}"
        if row.latency:
            candidate += f", p50 {c50:.1f} / p99 {c99:.1f} ms"
            floor += f", p50 {f50:.1f} / p99 {f99:.1f} ms"
        lines.append(
            f"| {row.name} | {candidate} | {row.floor_name}: {floor} "
            f"| {ratio:.3f}x | >= {row.goal}x {'met' if ratio >= row.goal else 'not met'} "
            f"| max {load_:.0f} % of a core{f'; {errors} errors' if errors else ''}"
            f"{f'; {row.note}' if row.note else ''} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a few seconds per row, once")
    parser.add_argument("--repeat", type=int, default=None, help="runs per side (default 3)")
    parser.add_argument("--workers", type=int, default=5, help="gunicorn sync workers")
    parser.add_argument("--seconds", type=float, default=None, help="time cap per run")
    parser.add_argument("--no-relay", action="store_true", help="leave out the relay row")
    parser.add_argument("--keep", action="store_true", help="keep logs and the database")
    args = parser.parse_args(argv)
    repeat = args.repeat or (1 if args.smoke else 3)
    cap = args.seconds or (2.0 if args.smoke else 8.0)
    say(
        f"benchmark: {repeat} run(s) per side, at most {cap:.0f} s each, "
        f"{args.workers} sync workers"
    )

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # clean up as on Ctrl-C
    stack = Stack(lease_seconds=30, workers=1, threads=16, log=say)
    gunicorn = [str(Path(sys.executable).parent / "python"), "-m", "gunicorn"]
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
    stack.processes.append(floor)
    ok = failed = False
    try:
        stack.start()
        wait_until(
            lambda: Stack._answers(f"http://127.0.0.1:{floor_port}/"),
            timeout=60,
            what="the floor to answer",
        )
        # HTTP rows run with no relay competing for the two cores.
        for process in (*stack.workers, stack.beat):
            process.kill(signal.SIGTERM)
        setup_django(stack.env)
        data = set_up(stack, workspaces=100, messages=50)
        roots = {p.popen.pid for p in stack.processes if p.popen} | _postmaster(stack)
        bare = (floor_port, "/", signed_in_get, {"cookie": data["cookie"]})
        post_floor = (floor_port, "/", webhook_post, {})
        rows = [
            (
                Row("signed Telegram webhook stored, c=16", 0.5),
                16,
                (stack.web_port, data["webhook"], webhook_post, {}),
                post_floor,
            ),
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
        for row, concurrency, candidate, floor_side in rows:
            _check(stack.web_port, candidate)
            measure(
                row,
                candidate=candidate,
                floor=floor_side,
                repeat=repeat,
                count=100_000,
                cap=cap,
                concurrency=concurrency,
                roots=roots,
            )
        webhook = rows[0][0]
        accepted = 1 + sum(r.requests for r in webhook.candidate)  # and _check's
        stored = _stored(data["hooked"])
        say(f"  webhook: {accepted} accepted, {stored} messages stored")
        if stored != accepted:
            webhook.note = f"{accepted} accepted but {stored} stored"
        if not args.no_relay:
            rows.append((relay_row(stack, data, repeat=repeat, smoke=args.smoke), 0, None, None))
        say("")
        say(table([row for row, *_ in rows], args.workers))
        ok = True
    except ServiceError as error:
        say(f"benchmark failed: {error}")
        failed = True
    finally:
        # Logs and database stay for a failure, not for Ctrl-C or SIGTERM.
        stack.stop(keep=args.keep or failed)
    return 0 if ok else 1


def relay_row(stack: Stack, data: dict, *, repeat: int, smoke: bool) -> Row:
    row = Row("relay into the sandbox's Intercom, 1 worker x 16 threads", 0.8, "msg/s")
    row.latency = False
    row.floor_name = "16 threads, the same reply call + 1 UPDATE"
    per_customer = 2 if smoke else 6
    relay = Relay(
        stack,
        channel_pk=data["relay_channel"],
        webhook=data["relay_webhook"],
        secret=SECRET,
        cap=30 if smoke else 90,
    )
    # The webhook row's wake-ups are still queued: they are not this row's work.
    stack.redis.flushall()
    relay.warm_up()
    roots = _roots(stack)
    for n in range(repeat):
        for side in ("candidate", "floor"):
            with Background(roots | _roots(stack)) as background:
                result = getattr(relay, side)(per_customer)
            getattr(row, side).append(result)
            row.background.append(background.percent)
            say(
                f"  {row.name} {side} {n + 1}/{repeat}: {result.rate:,.0f} msg/s "
                f"({result.requests + 1} of {CUSTOMERS * per_customer} relayed), "
                f"others' CPU {background.percent:.0f} %"
            )
    return row


def _roots(stack: Stack) -> set[int]:
    return {p.popen.pid for p in stack.processes if p.popen} | _postmaster(stack)


def _check(port: int, side):
    """One request first: a row that only measures errors (a 403, a redirect to the
    sign-in page) is a broken benchmark, not a slow product."""
    import http.client

    _, path, make, extra = side
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
