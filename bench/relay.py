"""The relay row: messages relayed per second by one Celery worker on 16 threads into
the sandbox's Intercom, against 16 plain threads making the same HTTP call (the
contact's reply in its conversation, on a keep-alive session) and one UPDATE of the
message each. Both are timed the same way, from the rows: (n - 1) over the span of
the relayed messages' ``updated_at``, so a worker's start-up is not counted."""

import logging
import queue
import signal
import threading
import time
from contextlib import suppress

from harness.data import telegram_update
from harness.services import ServiceError, wait_until

from . import load

CUSTOMERS = 48
CUSTOMER_BASE = 910_000_000
THREADS = 16


def _post_updates(stack, path: str, secret: str, numbers: list[tuple[int, int]]):
    """Store messages through the webhook (the worker stopped: they wait for it)."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", stack.web_port, timeout=30)
    for update_id, customer in numbers:
        body = telegram_update(
            update_id=update_id,
            message_id=update_id,
            customer=customer,
            text=f"relay message {update_id}",
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
        if response.status != 200:
            raise ServiceError(f"the relay row's webhook answered {response.status}")
    connection.close()


def _span_rate(pks: list[int]) -> load.Result:
    from django.db.models import Max, Min

    from channels.models import Message, MessageStatus

    relayed = Message.objects.filter(pk__in=pks, status=MessageStatus.RELAYED)
    n = relayed.count()
    times = relayed.aggregate(first=Min("updated_at"), last=Max("updated_at"))
    seconds = (times["last"] - times["first"]).total_seconds() if n > 1 else 0.0
    return load.Result(max(n - 1, 0), len(pks) - n, seconds, [])


def _relayed(pks: list[int]) -> int:
    from channels.models import Message, MessageStatus

    return Message.objects.filter(pk__in=pks, status=MessageStatus.RELAYED).count()


class Relay:
    def __init__(self, stack, *, channel_pk: int, webhook: str, secret: str, cap: float):
        self.stack, self.channel_pk, self.webhook, self.secret = stack, channel_pk, webhook, secret
        self.cap = cap
        self.next_update = 5 * 10**9
        self.worker = stack.workers[0]

    def _store(self, per_customer: int) -> list[int]:
        from channels.models import Message

        before = set(
            Message.objects.filter(channel_id=self.channel_pk).values_list("pk", flat=True)
        )
        numbers = []
        for _ in range(per_customer):
            for c in range(CUSTOMERS):
                self.next_update += 1
                numbers.append((self.next_update, CUSTOMER_BASE + c))
        _post_updates(self.stack, self.webhook, self.secret, numbers)
        return sorted(
            set(Message.objects.filter(channel_id=self.channel_pk).values_list("pk", flat=True))
            - before
        )

    def _drain(self, pks: list[int], *, cap: float):
        self.worker.start()
        try:
            # What has not arrived by then is counted, not raised.
            with suppress(ServiceError):
                wait_until(lambda: _relayed(pks) == len(pks), timeout=cap, what="the relay")
        finally:
            self.worker.kill(signal.SIGTERM)

    def warm_up(self):
        """One message per customer: contacts and conversations exist afterwards, so
        every measured message is a reply in an open conversation."""
        pks = self._store(1)
        self._drain(pks, cap=120)
        if _relayed(pks) != len(pks):
            raise ServiceError(f"warm-up: {_relayed(pks)} of {len(pks)} messages relayed")

    def candidate(self, per_customer: int) -> load.Result:
        pks = self._store(per_customer)
        self._drain(pks, cap=self.cap)
        return _span_rate(pks)

    def floor(self, per_customer: int) -> load.Result:
        from django.db import connection
        from django.utils import timezone

        from channels.models import Conversation, Message, MessageStatus
        from integrations.intercom.client import IntercomClient
        from integrations.intercom.webhooks import text_to_html

        # One log line per provider call is the worker's business, not this console's.
        logging.getLogger("integrations").setLevel(logging.WARNING)
        pks = self._store(per_customer)
        # The webhook enqueued wake-ups for these; the floor relays them itself.
        self.stack.redis.flushall()
        rows = list(
            Message.objects.filter(pk__in=pks)
            .select_related("contact", "channel__workspace")
            .order_by("pk")
        )
        conversations = {
            c.contact_id: c
            for c in Conversation.objects.filter(contact__channel_id=self.channel_pk).order_by(
                "created_at", "pk"
            )
        }
        token = rows[0].channel.workspace.access_token
        work: queue.Queue = queue.Queue()
        for message in rows:
            work.put(message)
        deadline = time.monotonic() + self.cap

        def loop():
            api = IntercomClient(token)
            try:
                while time.monotonic() < deadline:
                    try:
                        message = work.get_nowait()
                    except queue.Empty:
                        return
                    conversation = conversations[message.contact_id]
                    answer = api.reply(
                        conversation.inbox_conversation_id,
                        {
                            "message_type": "comment",
                            "type": "user",
                            "intercom_user_id": message.contact.inbox_contact_id,
                            "body": text_to_html(message.text),
                        },
                    )
                    parts = answer.get("conversation_parts", {}).get("conversation_parts", [])
                    Message.objects.filter(pk=message.pk).update(
                        status=MessageStatus.RELAYED,
                        conversation=conversation,
                        inbox_part_id=str(parts[-1]["id"]) if parts else "",
                        updated_at=timezone.now(),
                    )
            finally:
                connection.close()

        # Daemons: a Ctrl-C must not wait for them to find the services gone.
        threads = [threading.Thread(target=loop, daemon=True) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(self.cap + 30)
        return _span_rate(pks)
