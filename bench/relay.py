"""The relay rows: messages relayed per second into the stub inbox (bench/stub.py), by
the Celery worker(s) as the stack runs them, against plain threads making the same
HTTP call and one UPDATE; and how many inbox calls each message cost.

Candidate: messages stored through the webhook while the worker is stopped (CUSTOMERS
customers, each with a conversation already open after the warm-up), then the worker
started on that backlog. Floor: the same number of rows, written straight to the
table, relayed by P forked processes of Q threads (by default as many as the worker
has), each thread with its own keep-alive session making the contact's reply in its
conversation and one UPDATE of the message. Both sides are timed the same way, at
the stub: (n - 1) over the span between the first and the last message's first call
(so a worker's start-up is not counted); a message counts as relayed when its row says
so. The warm-up gives the first-message cost: every contact's first message opens a
contact and a conversation in the inbox.
"""

import logging
import multiprocessing
import os
import queue
import signal
import subprocess
import threading
import time
from contextlib import suppress
from dataclasses import dataclass, field

from harness.data import telegram_update
from harness.services import ServiceError, wait_until

from .cpu import cpu_seconds, rss_mib, tree
from .stub import TEXT, StubClient

CUSTOMERS = 60
CUSTOMER_BASE = 910_000_000
POSTING_THREADS = 8


@dataclass
class RelayRun:
    relayed: int  # by the rows
    sent: int
    seconds: float  # from the first to the last message's first inbox call
    arrived: int  # messages whose text reached the stub
    calls: int = 0  # inbox calls during the run
    counts: dict = field(default_factory=dict)
    stub_cpu: float = float("nan")  # % of one core
    worker_ms: float = float("nan")  # the relay worker's CPU per message (candidate)

    @property
    def rate(self) -> float:
        return (self.arrived - 1) / self.seconds if self.seconds > 0 else float("nan")


def post_update(connection, path: str, secret: str, update_id: int, customer: int) -> int:
    """POST Telegram's update for the customer's text to the webhook; its status."""
    body = telegram_update(
        update_id=update_id,
        message_id=update_id,
        customer=customer,
        text=TEXT.format(n=update_id),
    )
    connection.request(
        "POST",
        path,
        body=body,
        headers={
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": secret,
        },
    )
    response = connection.getresponse()
    response.read()
    return response.status


def post_updates(port: int, path: str, secret: str, numbers: list[tuple[int, int]]):
    """Store messages through the webhook: one keep-alive connection per thread, each
    customer's messages in order on one thread."""
    import http.client

    lanes: list[list[tuple[int, int]]] = [[] for _ in range(POSTING_THREADS)]
    for update_id, customer in numbers:
        lanes[customer % POSTING_THREADS].append((update_id, customer))
    failures: list[str] = []

    def lane(items):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for update_id, customer in items:
                status = post_update(connection, path, secret, update_id, customer)
                if status != 200:
                    failures.append(f"the webhook answered {status}")
                    return
        except (OSError, http.client.HTTPException) as error:
            failures.append(f"the webhook failed: {error}")
        finally:
            connection.close()

    threads = [threading.Thread(target=lane, args=(items,), daemon=True) for items in lanes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    if failures:
        raise ServiceError(failures[0])


def _relayed(pks: list[int]) -> int:
    from channels.models import Message, MessageStatus

    return Message.objects.filter(pk__in=pks, status=MessageStatus.RELAYED).count()


def arrivals(stats: dict, numbers) -> list[float]:
    first = stats["first"]
    return sorted(first[str(n)] for n in numbers if str(n) in first)


class Relay:
    def __init__(
        self,
        stack,
        stub: StubClient,
        *,
        stub_pid: int,
        channel_pk: int,
        webhook: str,
        secret: str,
        cap: float,
        floor_shape: tuple[int, int],
        log=print,
    ):
        self.stack, self.stub, self.stub_pid = stack, stub, stub_pid
        self.channel_pk, self.webhook, self.secret = channel_pk, webhook, secret
        self.cap = cap
        self.floor_shape = floor_shape
        self.say = log
        self.next_update = 5 * 10**9
        self.workers = stack.workers
        self.running = False
        self.worker_rss: list[float] = []
        self.first_cost = float("nan")
        self.first_counts: dict = {}

    # --- the worker(s) ------------------------------------------------------------------

    def start_workers(self):
        for worker in self.workers:
            worker.start()
        self.running = True

    def stop_workers(self):
        if not self.running:
            return
        # Memory after the work, before the stop: the worker and any pool children.
        rss = []
        for worker in self.workers:
            if worker.alive():
                rss.append(sum(rss_mib(pid) for pid in tree(worker.popen.pid)))
        if rss:
            self.worker_rss = rss
        # A warm shutdown through the worker's main process only: SIGTERM to a prefork
        # pool's children as well would end tasks mid-way, leaving a contact claimed
        # until its lease runs out and the next run's messages behind it.
        for worker in self.workers:
            with worker.lock:
                worker.expected_exit = True
                if worker.alive():
                    with suppress(ProcessLookupError):
                        os.kill(worker.popen.pid, signal.SIGTERM)
        for worker in self.workers:
            with worker.lock:
                if worker.popen is not None:
                    with suppress(subprocess.TimeoutExpired):
                        worker.popen.wait(timeout=30)
                worker.kill(signal.SIGTERM)  # whatever is left of its process group
        self.running = False

    # --- messages -----------------------------------------------------------------------

    def numbers(self, per_customer: int) -> list[tuple[int, int]]:
        numbers = []
        for _ in range(per_customer):
            for c in range(CUSTOMERS):
                self.next_update += 1
                numbers.append((self.next_update, CUSTOMER_BASE + c))
        return numbers

    def store(self, numbers: list[tuple[int, int]]) -> list[int]:
        """Through the webhook; the new rows' pks."""
        from channels.models import Message

        before = set(
            Message.objects.filter(channel_id=self.channel_pk).values_list("pk", flat=True)
        )
        post_updates(self.stack.web_port, self.webhook, self.secret, numbers)
        return sorted(
            set(Message.objects.filter(channel_id=self.channel_pk).values_list("pk", flat=True))
            - before
        )

    def worker_cpu(self) -> float:
        """CPU seconds the running worker(s) and their pools have used so far."""
        return sum(
            cpu_seconds(pid)
            for worker in self.workers
            if worker.alive()
            for pid in tree(worker.popen.pid)
        )

    def _drain(self, pks: list[int], *, cap: float) -> tuple[float, int]:
        """Start the worker(s) on stored messages and stop them when these are relayed
        (or at ``cap``). Returns the workers' CPU seconds from the first message's first
        inbox call on (their start-up left out) and how many messages were relayed then."""
        self.start_workers()
        deadline = time.monotonic() + cap
        try:
            # What has not arrived by then is counted, not raised.
            with suppress(ServiceError):
                wait_until(lambda: self.stub.stats()["first"], timeout=cap, what="a first call")
            used, before = self.worker_cpu(), _relayed(pks)
            with suppress(ServiceError):
                wait_until(
                    lambda: _relayed(pks) == len(pks),
                    timeout=max(0.0, deadline - time.monotonic()),
                    what="the relay",
                )
            return self.worker_cpu() - used, _relayed(pks) - before
        finally:
            self.stop_workers()

    def warm_up(self):
        """One message per customer, the stub answering at once: contacts and
        conversations exist afterwards, so every measured message is a reply in an open
        conversation. Its inbox calls per message are the first-message cost."""
        self.stub.set_delay(0)
        pks = self.store(self.numbers(1))
        self.stub.reset()
        self._drain(pks, cap=120)
        relayed = _relayed(pks)
        if relayed != len(pks):
            raise ServiceError(f"warm-up: {relayed} of {len(pks)} messages relayed")
        stats = self.stub.stats()
        self.first_cost = StubClient.intercom_calls(stats) / relayed
        self.first_counts = stats["counts"]

    def candidate(self, per_customer: int, delay_ms: float) -> RelayRun:
        self.stub.set_delay(delay_ms)
        numbers = self.numbers(per_customer)
        pks = self.store(numbers)
        self.stub.reset()
        used = cpu_seconds(self.stub_pid)
        worker_cpu, relayed = self._drain(pks, cap=self.cap)
        run = self._result(numbers, pks, cpu_seconds(self.stub_pid) - used)
        run.worker_ms = 1000 * worker_cpu / relayed if relayed else float("nan")
        return run

    def _result(self, numbers, pks, stub_cpu: float) -> RelayRun:
        stats = self.stub.stats()
        times = arrivals(stats, [n for n, _ in numbers])
        seconds = times[-1] - times[0] if len(times) > 1 else 0.0
        return RelayRun(
            relayed=_relayed(pks),
            sent=len(numbers),
            seconds=seconds,
            arrived=len(times),
            calls=StubClient.intercom_calls(stats),
            counts=stats["counts"],
            stub_cpu=100 * stub_cpu / seconds if seconds > 0 else float("nan"),
        )

    def floor(self, per_customer: int, delay_ms: float) -> RelayRun:
        from django.db import connections

        from channels.models import Contact, Conversation, Direction, Message, MessageStatus

        self.stub.set_delay(delay_ms)
        numbers = self.numbers(per_customer)
        contacts = {
            int(c.external_id): c for c in Contact.objects.filter(channel_id=self.channel_pk)
        }
        conversations = {
            c.contact_id: c
            for c in Conversation.objects.filter(contact__channel_id=self.channel_pk).order_by(
                "created_at", "pk"
            )
        }
        # Failed, so that no worker would ever take them for its own work; the floor
        # marks them relayed.
        rows = Message.objects.bulk_create(
            Message(
                channel_id=self.channel_pk,
                contact=contacts[customer],
                direction=Direction.INBOUND,
                provider_message_id=f"floor:{n}",
                type="text",
                text=TEXT.format(n=n),
                status=MessageStatus.FAILED,
            )
            for n, customer in numbers
        )
        token = (
            Contact.objects.select_related("channel__workspace")
            .get(pk=rows[0].contact_id)
            .channel.workspace.access_token
        )
        processes, threads = self.floor_shape
        lanes: list[list[tuple]] = [[] for _ in range(processes)]
        for row, (_, customer) in zip(rows, numbers, strict=True):
            contact = contacts[customer]
            conversation = conversations[contact.pk]
            lanes[customer % processes].append(
                (
                    row.pk,
                    row.text,
                    conversation.pk,
                    conversation.inbox_conversation_id,
                    contact.inbox_contact_id,
                )
            )
        pks = [row.pk for row in rows]
        self.stub.reset()
        used = cpu_seconds(self.stub_pid)
        # A forked child must not share the parent's database connection.
        connections.close_all()
        deadline = time.monotonic() + self.cap
        jobs = [(lane, threads, deadline, self.stub.url, token) for lane in lanes]
        context = multiprocessing.get_context("fork")
        with context.Pool(processes) as pool:
            pool.map(_floor_process, jobs)
        return self._result(numbers, pks, cpu_seconds(self.stub_pid) - used)


def _floor_process(job) -> int:
    """One floor process: ``threads`` threads taking messages off one queue."""
    from django.conf import settings
    from django.db import connections
    from django.utils import timezone

    from channels.models import Message, MessageStatus
    from integrations.intercom.client import IntercomClient
    from integrations.intercom.webhooks import text_to_html

    items, threads, deadline, stub_url, token = job
    # The parent cleans up on SIGTERM; the pool ends its children with one.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # One log line per provider call is the worker's business, not this console's.
    logging.getLogger("integrations").setLevel(logging.WARNING)
    settings.INTERCOM_API_URL = f"{stub_url}/intercom"
    work: queue.Queue = queue.Queue()
    for item in items:
        work.put(item)
    done = [0]
    lock = threading.Lock()

    def loop():
        api = IntercomClient(token)
        try:
            while time.monotonic() < deadline:
                try:
                    pk, text, conversation_pk, conversation_id, contact_id = work.get_nowait()
                except queue.Empty:
                    return
                answer = api.reply(
                    conversation_id,
                    {
                        "message_type": "comment",
                        "type": "user",
                        "intercom_user_id": contact_id,
                        "body": text_to_html(text),
                    },
                )
                parts = answer.get("conversation_parts", {}).get("conversation_parts", [])
                Message.objects.filter(pk=pk).update(
                    status=MessageStatus.RELAYED,
                    conversation_id=conversation_pk,
                    inbox_part_id=str(parts[-1]["id"]) if parts else "",
                    updated_at=timezone.now(),
                )
                with lock:
                    done[0] += 1
        finally:
            connections.close_all()

    # Daemons: a Ctrl-C must not wait for them to find the services gone.
    pool = [threading.Thread(target=loop, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(max(0.0, deadline - time.monotonic()) + 30)
    return done[0]
