"""The fault harness: Octopods' real processes under a stream of customer messages and
agent replies while faults are injected, then a count of what arrived.

    scripts/faults [--messages N] [--faults M] [--customers C] [--seed S]

Customers write to a Telegram bot (signed webhooks, retried until accepted, as
Telegram retries); agents answer in Intercom (signed ``conversation.admin.replied``
webhooks, retried as Intercom retries). Octopods relays each way through the
sandbox's providers. Meanwhile, one fault at a time: a worker or beat killed (-9),
Redis killed or flushed, PostgreSQL restarted (immediate), 429 and 5xx windows at the
inbox, the app uninstalled (tokens revoked) and reconnected through OAuth, an inbox
slower than the lease. When the stream is done and the faults healed, the harness
waits for the relay to drain and counts, from the providers' own records:

    N messages, M faults, lost=…, duplicated=…, reordered=…, 5xx=…

lost: a message that never arrived. duplicated: one that arrived twice (a reply
re-sent after a worker died mid-send, which the relay allows once and logs, is
counted apart as "ambiguous"). reordered: a customer's messages (either way) out of
the order they were written. 5xx: answers of our webhooks other than the 503 with
Retry-After that a database outage calls for. The exit status is 1 when any is
not 0.
"""

import argparse
import json
import random
import re
import signal
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import requests

from .data import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    SECRET,
    admin_account,
    telegram_channel,
    telegram_update,
)
from .services import ServiceError, wait_until
from .stack import INTERCOM_WORKSPACE, Stack

BOT_TOKEN = "7000000001:AAHsandbox-acme-support-bot-token01"
BOT_ID = "7000000001"
CUSTOMER_BASE = 880_000_000
FAULT_KINDS = (
    "worker_kill",
    "pg_restart",
    "inbox_429",
    "redis_kill",
    "beat_kill",
    "inbox_5xx",
    "token_revoke",
    "redis_flushall",
    "slow_inbox",
)


def say(*args):
    print(*args, flush=True)


# --- the database, from the harness's side ---------------------------------------------


def db(call, *, timeout: float = 120):
    """Run an ORM call, riding out a database restart."""
    from django.db import InterfaceError, OperationalError, connection

    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except (OperationalError, InterfaceError):
            connection.close()
            if time.monotonic() > deadline:
                raise
            threading.Event().wait(0.2)


def setup_django(env: dict):
    import os

    for key in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        os.environ[key] = env[key]
    for key, value in env.items():
        os.environ.setdefault(key, value)
    import django

    django.setup()


# --- what the harness sends and what arrived ---------------------------------------------


@dataclass
class Ledger:
    inbound: dict = field(default_factory=lambda: defaultdict(list))  # customer → [n]
    outbound: dict = field(default_factory=lambda: defaultdict(list))
    statuses: Counter = field(default_factory=Counter)
    bad_5xx: int = 0
    gave_up: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answered(self, status: int, *, retry_after: bool):
        with self.lock:
            self.statuses[status] += 1
            if status >= 500 and not (status == 503 and retry_after):
                self.bad_5xx += 1


def post_until_accepted(session, url, body: bytes, headers: dict, ledger: Ledger, deadline):
    """POST as a provider that retries: until a 2xx, backing off, within the run."""
    pause = 0.2
    while True:
        try:
            response = session.post(url, data=body, headers=headers, timeout=10)
        except requests.RequestException:
            ledger.answered(0, retry_after=False)
        else:
            ledger.answered(response.status_code, retry_after="Retry-After" in response.headers)
            if 200 <= response.status_code < 300:
                return True
            if 400 <= response.status_code < 500 and response.status_code != 429:
                say(f"  ! {url} answered {response.status_code}: {response.text[:200]}")
                return False
        if time.monotonic() > deadline:
            with ledger.lock:
                ledger.gave_up += 1
            return False
        threading.Event().wait(pause)
        pause = min(pause * 2, 3.0)


class Traffic:
    def __init__(
        self, stack: Stack, *, messages: int, customers: int, rng, deadline, duration: float
    ):
        self.stack, self.rng, self.deadline = stack, rng, deadline
        # Spread over the faults' time: every fault meets traffic, both ways.
        self.gap = duration * customers / max(messages, 1)
        self.ledger = Ledger()
        self.customers = [CUSTOMER_BASE + n for n in range(customers)]
        self.plans = {c: [] for c in self.customers}
        for n in range(messages):
            customer = self.customers[n % customers]
            plan = self.plans[customer]
            # Everyone writes first; afterwards agents answer about half the time.
            plan.append("in" if not plan or rng.random() < 0.5 else "out")
        self.channel_key = ""
        self.update_ids = iter(range(1, 10**9))
        self.update_lock = threading.Lock()
        self.done = threading.Event()

    def run(self):
        threads = [
            threading.Thread(target=self._customer, args=(c,), daemon=True) for c in self.customers
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.done.set()

    def _customer(self, customer: int):
        from django.db import connections

        session = requests.Session()
        try:
            counts = Counter()
            pause = threading.Event()
            for direction in self.plans[customer]:
                pause.wait(self.gap * self.rng.uniform(0.5, 1.5))
                counts[direction] += 1
                if direction == "in":
                    if self._inbound(session, customer, counts["in"]):
                        self.ledger.inbound[customer].append(counts["in"])
                elif self._outbound(session, customer, counts["out"]):
                    self.ledger.outbound[customer].append(counts["out"])
        finally:
            connections.close_all()

    def _inbound(self, session, customer: int, n: int) -> bool:
        with self.update_lock:
            update_id = next(self.update_ids)
        # Telegram numbers a chat's messages from one counter, both ways; the sandbox
        # numbers its sends from 1, so the customer's side takes numbers far above (and
        # needs no database of its own while ours restarts).
        message_id = 1_000_000 + n
        body = telegram_update(
            update_id=update_id, message_id=message_id, customer=customer, text=f"in {customer} {n}"
        )
        return post_until_accepted(
            session,
            f"{self.stack.web_url}/hooks/telegram/{self.channel_key}/",
            body,
            {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET},
            self.ledger,
            self.deadline,
        )

    def _outbound(self, session, customer: int, n: int) -> bool:
        """An agent answers in the customer's conversation: Intercom stores the part,
        then sends its webhook (again until it is accepted)."""
        from channels.models import Conversation
        from sandbox.directory import intercom_workspace
        from sandbox.intercom_inbox_page import html_body, notification, signature
        from sandbox.models import IntercomConversation, IntercomPart

        def conversation():
            return (
                Conversation.objects.filter(contact__external_id=str(customer))
                .order_by("-created_at", "-pk")
                .values_list("inbox_conversation_id", flat=True)
                .first()
            )

        try:
            inbox_id = wait_until(
                lambda: db(conversation),
                timeout=max(1, self.deadline - time.monotonic()),
                what=f"customer {customer}'s conversation",
            )
        except ServiceError:
            say(f"  ! no conversation for customer {customer}: reply {n} not written")
            return False
        workspace = intercom_workspace(INTERCOM_WORKSPACE)
        admin = workspace.admins[0]

        def write():
            from django.utils import timezone

            return IntercomPart.objects.create(
                conversation=IntercomConversation.objects.get(pk=int(inbox_id)),
                part_type=IntercomPart.Type.COMMENT,
                body=html_body(f"out {customer} {n}"),
                author_type=IntercomPart.Author.ADMIN,
                author_id=admin.id,
                author_name=admin.name,
                author_email=admin.email,
                created_at=timezone.now(),
                notification_id=f"notif_harness_{customer}_{n}",
                notification_topic="conversation.admin.replied",
            )

        part = db(write)
        raw = json.dumps(db(lambda: notification(workspace, part)), separators=(",", ":"))
        return post_until_accepted(
            session,
            f"{self.stack.web_url}/hooks/intercom/",
            raw.encode(),
            {"Content-Type": "application/json", "X-Hub-Signature": signature(raw.encode())},
            self.ledger,
            self.deadline,
        )


# --- setting up: an admin, the workspace connected through OAuth, a Telegram bot ------


def set_up(stack: Stack, customers: list[int]) -> str:
    from sandbox.kinds import Kind
    from sandbox.models import Conversation
    from workspaces.models import Workspace

    admin_account("Harness Support")
    admin = signed_in(stack)
    connect_intercom(stack, admin)
    workspace = Workspace.objects.get(external_id=INTERCOM_WORKSPACE)
    channel = telegram_channel(
        workspace,
        name="Harness bot",
        bot_id=BOT_ID,
        bot_token=BOT_TOKEN,
        username="acme_support_bot",
    )
    for customer in customers:
        Conversation.objects.create(
            kind=Kind.TELEGRAM,
            endpoint=BOT_ID,
            customer_id=str(customer),
            customer_name=f"C{customer}",
        )
    return channel.webhook_key


def signed_in(stack: Stack) -> requests.Session:
    session = requests.Session()
    login = f"{stack.web_url}/auth/login/"
    session.get(login, timeout=10)
    response = session.post(
        login,
        data={
            "login": ADMIN_EMAIL,
            "password": ADMIN_PASSWORD,
            "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""),
        },
        headers={"Referer": login},
        timeout=10,
    )
    if "sessionid" not in session.cookies:
        raise ServiceError(f"could not sign in: {response.status_code}")
    return session


def connect_intercom(stack: Stack, session: requests.Session):
    """Connect (or reconnect) the workspace as an admin would: Connect → the sandbox's
    consent page → Approve → back to Octopods' callback."""
    home = stack.web_url + "/"
    page = session.get(home, timeout=10)
    csrf = session.cookies.get("csrftoken", domain="127.0.0.1") or session.cookies.get("csrftoken")
    consent = session.post(
        f"{stack.web_url}/connect/intercom/",
        data={"csrfmiddlewaretoken": csrf},
        headers={"Referer": home},
        timeout=10,
    )
    if "/sandbox/intercom/oauth" not in consent.url:
        raise ServiceError(f"Connect did not reach the consent page ({page.status_code})")
    form = dict(re.findall(r'name="(\w+)" value="([^"]*)"', consent.text))
    provider_csrf = session.cookies.get("csrftoken", domain="localhost") or form.get(
        "csrfmiddlewaretoken", ""
    )
    done = session.post(
        consent.url.split("?", 1)[0],
        data={
            **form,
            "csrfmiddlewaretoken": provider_csrf,
            "choice": INTERCOM_WORKSPACE,
            "decision": "approve",
        },
        headers={"Referer": consent.url},
        timeout=30,
    )
    if done.status_code >= 400 or not done.url.startswith(stack.web_url):
        raise ServiceError(f"the OAuth round trip ended at {done.url} ({done.status_code})")
    from workspaces.models import Status, Workspace

    if not db(
        lambda: Workspace.objects.filter(
            external_id=INTERCOM_WORKSPACE, status=Status.ACTIVE
        ).exists()
    ):
        raise ServiceError("the workspace is not Active after connecting it")


# --- faults -----------------------------------------------------------------------------


class Faults:
    def __init__(self, stack: Stack, *, count: int, interval: float, rng, lease: int):
        self.stack, self.count, self.interval, self.rng, self.lease = (
            stack,
            count,
            interval,
            rng,
            lease,
        )
        self.applied = Counter()
        self.done = threading.Event()
        self.admin: requests.Session | None = None

    def run(self, traffic_done: threading.Event):
        kinds = list(FAULT_KINDS)
        self.rng.shuffle(kinds)
        pause = threading.Event()
        for n in range(self.count):
            kind = kinds[n % len(kinds)]
            try:
                getattr(self, kind)()
                self.applied[kind] += 1
                say(f"  fault {n + 1}/{self.count}: {kind}")
            except Exception as error:  # reported; the run goes on
                say(f"  ! fault {kind} could not be applied: {error!r}")
            pause.wait(self.interval * self.rng.uniform(0.5, 1.5))
        self.done.set()

    def _arm(self, status: int, count: int, delay_ms: int = 0):
        response = requests.post(
            f"{self.stack.provider_url}/sandbox/intercom/faults",
            json={
                "status": status,
                "count": count,
                "workspace": INTERCOM_WORKSPACE,
                "delay_ms": delay_ms,
            },
            timeout=10,
        )
        response.raise_for_status()

    def worker_kill(self):
        worker = self.rng.choice(self.stack.workers)
        self.stack.restart(worker)

    def beat_kill(self):
        self.stack.restart(self.stack.beat)

    def redis_kill(self):
        self.stack.redis_down()
        threading.Event().wait(self.rng.uniform(1, 4))
        self.stack.redis_up()

    def redis_flushall(self):
        self.stack.redis.flushall()

    def pg_restart(self):
        self.stack.postgres.stop(mode="immediate")
        threading.Event().wait(self.rng.uniform(1, 5))
        self.stack.postgres.start()

    def inbox_429(self):
        self._arm(429, self.rng.randint(3, 8))

    def inbox_5xx(self):
        self._arm(self.rng.choice([500, 502, 503]), self.rng.randint(3, 8))

    def slow_inbox(self):
        # Carried out, answered after more than a lease: the worker must keep its claim.
        self._arm(200, self.rng.randint(1, 3), delay_ms=int((self.lease + 2) * 1000))

    def token_revoke(self):
        """The app is uninstalled in Intercom (its tokens revoked, Octopods told), then
        an admin reconnects through OAuth: messages wait in between."""
        session = requests.Session()
        page = f"{self.stack.provider_url}/sandbox/intercom/uninstall"
        session.get(page, timeout=10)
        session.post(
            page,
            data={
                "id_code": INTERCOM_WORKSPACE,
                "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""),
            },
            headers={"Referer": page},
            timeout=30,
        ).raise_for_status()
        threading.Event().wait(self.rng.uniform(1, 3))
        self.reconnect()

    def reconnect(self):
        if self.admin is None:
            self.admin = signed_in(self.stack)
        connect_intercom(self.stack, self.admin)

    def heal(self):
        """Everything back up, nothing armed, the workspace connected."""
        from workspaces.models import Status, Workspace

        if not self.stack.redis.answers():
            self.stack.redis_up()
        if not self.stack.postgres.accepts():
            self.stack.postgres.start()
        requests.delete(f"{self.stack.provider_url}/sandbox/intercom/faults", timeout=10)
        status = db(lambda: Workspace.objects.get(external_id=INTERCOM_WORKSPACE).status)
        if status != Status.ACTIVE:
            self.reconnect()


# --- counting ---------------------------------------------------------------------------


@dataclass
class Count:
    messages: int
    lost: int
    duplicated: int
    ambiguous: int
    reordered: int
    failed: int
    details: list


def arrived() -> tuple[dict, dict]:
    """What the providers received, in the order they received it: customer → [n]."""
    from sandbox.models import IntercomPart
    from sandbox.models import Message as PhoneMessage

    inbound, outbound = defaultdict(list), defaultdict(list)
    pattern = re.compile(r"\b(in|out) (\d+) (\d+)\b")
    for body in (
        IntercomPart.objects.filter(author_type__in=["user", "lead"])
        .order_by("created_at", "pk")
        .values_list("body", flat=True)
    ):
        if match := pattern.search(body):
            inbound[int(match[2])].append(int(match[3]))
    for text in (
        PhoneMessage.objects.filter(direction="out").order_by("pk").values_list("text", flat=True)
    ):
        if match := pattern.search(text):
            outbound[int(match[2])].append(int(match[3]))
    return inbound, outbound


def settled() -> bool:
    from channels.models import Message, MessageStatus

    return not Message.objects.filter(
        status__in=[MessageStatus.RECEIVED, MessageStatus.PENDING]
    ).exists()


def count(ledger: Ledger) -> Count:
    from channels.models import Message, MessageStatus

    inbound, outbound = db(arrived)
    ambiguous_texts = set(
        db(
            lambda: list(
                Message.objects.filter(direction="out", unknown_outcomes__gt=0).values_list(
                    "text", flat=True
                )
            )
        )
    )
    lost = duplicated = ambiguous = reordered = 0
    details = []
    for direction, sent, got in (
        ("in", ledger.inbound, inbound),
        ("out", ledger.outbound, outbound),
    ):
        for customer, numbers in sent.items():
            received = got.get(customer, [])
            missing = set(numbers) - set(received)
            lost += len(missing)
            if missing:
                details.append(f"{direction} {customer}: lost {sorted(missing)}")
            for number, times in Counter(received).items():
                if times > 1:
                    if f"{direction} {customer} {number}" in ambiguous_texts:
                        ambiguous += times - 1
                    else:
                        duplicated += times - 1
                        details.append(f"{direction} {customer} {number}: {times} times")
            firsts = list(dict.fromkeys(received))
            if firsts != sorted(firsts):
                reordered += 1
                details.append(f"{direction} {customer}: order {firsts}")
    failed = db(lambda: Message.objects.filter(status=MessageStatus.FAILED).count())
    messages = sum(len(v) for v in ledger.inbound.values()) + sum(
        len(v) for v in ledger.outbound.values()
    )
    return Count(messages, lost, duplicated, ambiguous, reordered, failed, details)


# --- the run ----------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/faults", description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=300, help="messages, both ways")
    parser.add_argument("--faults", type=int, default=12, help="faults to inject")
    parser.add_argument("--customers", type=int, default=12)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--lease", type=int, default=6, help="RELAY_LEASE_SECONDS")
    parser.add_argument("--interval", type=float, default=4.0, help="seconds between faults")
    parser.add_argument("--timeout", type=int, default=1800, help="give up after this")
    parser.add_argument("--keep", action="store_true", help="keep logs and the database")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    rng = random.Random(seed)
    started = time.monotonic()
    deadline = started + args.timeout
    say(f"fault harness: {args.messages} messages, {args.faults} faults, seed {seed}")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # clean up as on Ctrl-C
    stack = Stack(lease_seconds=args.lease, log=say)
    ok = False
    try:
        stack.start()
        setup_django(stack.env)
        traffic = Traffic(
            stack,
            messages=args.messages,
            customers=args.customers,
            rng=rng,
            deadline=deadline,
            duration=args.faults * args.interval,
        )
        traffic.channel_key = set_up(stack, traffic.customers)
        faults = Faults(stack, count=args.faults, interval=args.interval, rng=rng, lease=args.lease)
        sending = threading.Thread(target=traffic.run, daemon=True)
        injecting = threading.Thread(target=faults.run, args=(traffic.done,), daemon=True)
        sending.start()
        injecting.start()
        sending.join()
        injecting.join()
        say(f"  stream and faults done after {time.monotonic() - started:.0f} s; draining")
        faults.heal()
        try:
            drained = wait_until(
                lambda: db(settled),
                timeout=max(60, deadline - time.monotonic()),
                what="the relay to drain",
            )
        except ServiceError as error:
            say(f"  ! {error}: counting what arrived")
            drained = False
        result = count(traffic.ledger)
        ok = drained and not (
            result.lost
            or result.duplicated
            or result.reordered
            or traffic.ledger.bad_5xx
            or traffic.ledger.gave_up
            or stack.unexpected_exits
        )
        for line in result.details[:20]:
            say(f"  {line}")
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(traffic.ledger.statuses.items()))
        say(
            f"  webhook answers {statuses}; failed messages {result.failed}; "
            f"ambiguous re-sends {result.ambiguous}; unexpected exits "
            f"{len(stack.unexpected_exits)} {stack.unexpected_exits or ''}; faults "
            f"{dict(faults.applied)}; {time.monotonic() - started:.0f} s"
        )
        say(
            f"{result.messages} messages, {sum(faults.applied.values())} faults, "
            f"lost={result.lost}, duplicated={result.duplicated}, "
            f"reordered={result.reordered}, 5xx={traffic.ledger.bad_5xx}; "
            f"sent again after a worker died mid-send (allowed once, logged): "
            f"{result.ambiguous}"
        )
    except ServiceError as error:
        say(f"fault harness failed: {error}")
    finally:
        stack.stop(keep=args.keep or not ok)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
