"""The relay under real processes: Celery workers on Redis relaying Telegram messages
into the sandbox's Intercom over HTTP, while the test kills workers, stops Redis and
makes Intercom refuse with 429s. Each test prints what was sent, relayed, lost and
duplicated."""

import json
import time

import pytest

from accounts.models import Account
from channels.models import Contact, Message, MessageStatus
from sandbox import tokens
from sandbox.models import IntercomConversation, IntercomFault, IntercomPart
from workspaces.models import Provider, Workspace

from .conftest import SECRET, telegram_channel, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def telegram(stack):
    return telegram_channel()


def update(n: int, text: str) -> bytes:
    user = {"id": 555000111, "is_bot": False, "first_name": "Jane"}
    return json.dumps(
        {
            "update_id": 900000 + n,
            "message": {
                "message_id": 1000 + n,
                "from": user,
                "chat": {"id": 555000111, "type": "private", "first_name": "Jane"},
                "date": 1718000000 + n,
                "text": text,
            },
        }
    ).encode()


def post(client, channel, body: bytes):
    response = client.post(
        f"/hooks/telegram/{channel.webhook_key}/",
        data=body,
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
    )
    assert response.status_code == 200
    return response


def parts_from_customer() -> list[str]:
    return [
        part.body
        for part in IntercomPart.objects.filter(author_type__in=["user", "lead"]).order_by("pk")
    ]


def report(capsys, scenario: str, sent: list[str]):
    bodies = [body.removeprefix("<p>").removesuffix("</p>") for body in parts_from_customer()]
    relayed = set(bodies) & set(sent)
    figures = {
        "sent": len(sent),
        "relayed": len(relayed),
        "lost": len(set(sent) - set(bodies)),
        "duplicated": len(bodies) - len(set(bodies)),
    }
    with capsys.disabled():
        print(f"\n[relay] {scenario}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    return bodies, figures


def all_relayed(count: int):
    return lambda: Message.objects.filter(status=MessageStatus.RELAYED).count() == count


def test_a_burst_from_a_new_customer_is_one_conversation_in_order(client, stack, telegram, capsys):
    stack.workers.start()
    sent = [f"burst {n}" for n in range(5)]
    for n, text in enumerate(sent):
        post(client, telegram, update(n, text))
    wait_for(all_relayed(5), what="five messages relayed")
    bodies, figures = report(capsys, "burst of 5", sent)
    assert bodies == sent  # in order, once each
    assert Contact.objects.count() == 1
    assert IntercomConversation.objects.count() == 1
    assert figures["lost"] == figures["duplicated"] == 0


def test_a_webhook_delivered_three_times_is_one_part(client, stack, telegram, capsys):
    stack.workers.start()
    for _ in range(3):
        post(client, telegram, update(1, "only once"))
    wait_for(all_relayed(1), what="the message relayed")
    stack.sweep()  # even a redundant wake-up finds nothing more to do
    stack.sweep()
    _, figures = report(capsys, "same webhook 3 times", ["only once"])
    assert Message.objects.count() == 1
    assert figures == {"sent": 1, "relayed": 1, "lost": 0, "duplicated": 0}


def test_a_worker_killed_mid_relay_loses_and_duplicates_nothing(client, stack, telegram, capsys):
    first = stack.workers.start()
    sent = [f"kill {n}" for n in range(30)]
    for n, text in enumerate(sent):
        post(client, telegram, update(n, text))
    # Kill it while it is working through the burst.
    wait_for(
        lambda: Message.objects.filter(status=MessageStatus.RELAYED).exists(),
        what="the first worker to start relaying",
    )
    stack.workers.kill(first)
    killed_at = Message.objects.filter(status=MessageStatus.RELAYED).count()
    stack.workers.start()

    def recovered():
        stack.sweep()  # beat's job: the killed worker's hold runs out, then it is re-woken
        return all_relayed(len(sent))()

    wait_for(recovered, what="the second worker to finish the burst")
    bodies, figures = report(capsys, f"worker SIGKILLed after {killed_at} relayed", sent)
    assert figures["lost"] == 0
    assert figures["duplicated"] == 0
    assert bodies == sent


def test_webhooks_answer_while_redis_is_down_and_are_relayed_after(client, stack, telegram, capsys):
    stack.workers.start()
    stack.redis.stop()
    sent = [f"outage {n}" for n in range(5)]
    for n, text in enumerate(sent):
        started = time.monotonic()
        post(client, telegram, update(n, text))  # 200 each, stored, wake-ups lost
        # Not a speed target: a view that waited on the dead broker would take at least
        # its connect timeout, and a hanging publish forever.
        assert time.monotonic() - started < 1
    assert Message.objects.filter(status=MessageStatus.RECEIVED).count() == 5
    stack.redis.start()

    def recovered():
        stack.sweep()
        return all_relayed(5)()

    wait_for(recovered, what="relaying after Redis came back")
    bodies, figures = report(capsys, "Redis down while 5 webhooks arrived", sent)
    assert bodies == sent
    assert figures["lost"] == figures["duplicated"] == 0


def test_a_429_storm_is_waited_out_within_the_attempt_budget(client, stack, telegram, capsys):
    from relay.attempts import MAX_ATTEMPTS

    IntercomFault.objects.create(status=429, remaining=3, workspace="sbx-acme")
    stack.workers.start()
    sent = [f"storm {n}" for n in range(3)]
    for n, text in enumerate(sent):
        post(client, telegram, update(n, text))

    def done():
        stack.sweep()
        return all_relayed(3)()

    wait_for(done, timeout=90, what="the storm to pass")
    bodies, figures = report(capsys, "3 answers of 429 from Intercom", sent)
    assert bodies == sent
    assert figures["lost"] == figures["duplicated"] == 0
    assert max(Message.objects.values_list("attempts", flat=True)) < MAX_ATTEMPTS
    assert not IntercomFault.objects.filter(remaining__gt=0).exists()


def test_a_round_trip_customer_to_inbox_and_the_agents_reply_back(client, stack, telegram, capsys):
    """Every hop over HTTP as in production: the sandbox phone posts Telegram's webhook,
    a worker relays into the sandbox's Intercom, an admin replies on the sandbox's inbox
    page, Intercom's signed webhook comes back, and a worker sends the reply through the
    sandbox's Bot API to the customer's phone."""
    from django.urls import reverse

    from integrations.registry import channel_adapter
    from sandbox.models import Message as PhoneMessage

    telegram.signature = "— {agent_name}, {channel_name}"
    telegram.save()
    adapter = channel_adapter("telegram")
    adapter.register_webhook(
        credentials=adapter.credentials(telegram.credentials_data),
        webhook_url=f"{stack.base_url}/hooks/telegram/{telegram.webhook_key}/",
    )
    stack.workers.start()

    opened = client.post(
        reverse("sandbox:phone"),
        {"endpoint": "telegram:7000000001", "name": "Jane", "customer_id": "555000111"},
    )
    assert opened.status_code == 302
    chat = opened["Location"].rstrip("/").rsplit("/", 1)[-1]
    client.post(reverse("sandbox:phone_send", args=[chat]), {"what": "text", "text": "hello"})
    wait_for(all_relayed(1), what="the customer's message in the inbox")
    (conversation,) = IntercomConversation.objects.all()
    assert "hello" in parts_from_customer()[-1]

    act = reverse(
        "sandbox:intercom_inbox_act", kwargs={"id_code": "sbx-acme", "pk": conversation.pk}
    )
    client.post(act, {"admin_id": "1001", "action": "comment", "body": "Hi! How can we help?"})

    def reply_on_phone():
        return PhoneMessage.objects.filter(direction="out").first()

    delivered = wait_for(reply_on_phone, what="the agent's reply on the customer's phone")
    assert delivered.text == "Hi! How can we help?\n\n— Ada Admin, Acme bot"
    # The phone has it as soon as the Bot API took it; the worker records the answer
    # after that. Telegram reports no receipts: a send it accepted is Delivered.
    wait_for(
        lambda: Message.objects.filter(direction="out", status=MessageStatus.DELIVERED).exists(),
        what="the reply recorded as delivered",
    )
    assert Message.objects.filter(direction="out").count() == 1
    with capsys.disabled():
        print("\n[relay] round trip: customer → inbox → agent reply → customer: ok")


def test_a_hubspot_round_trip_through_a_custom_channel(client, stack, capsys):
    """The same with HubSpot: the channel gets its channel account in the sandbox's
    portal when it is added, the customer's message is published into a thread once,
    the agent's reply comes back as OUTGOING_CHANNEL_MESSAGE_CREATED (v3-signed), goes
    out to the customer's phone, and HubSpot is told it was SENT."""
    from django.urls import reverse

    from channels.services import channel_add
    from sandbox.models import HubSpotMessage
    from sandbox.models import Message as PhoneMessage

    account = Account.objects.create(name="Acme Support")
    workspace = Workspace.objects.create(
        account=account,
        provider=Provider.HUBSPOT,
        external_id="9000001",
        name="9000001",
        access_token=tokens.issue(
            "hubspot.access",
            hub=9000001,
            scopes=[
                "oauth",
                "conversations.read",
                "conversations.custom_channels.read",
                "conversations.custom_channels.write",
            ],
        ),
        refresh_token="unused",
        token_expires_at=None,
    )
    channel = channel_add(
        workspace=workspace,
        kind="telegram",
        data={"bot_token": "7000000001:AAHsandbox-acme-support-bot-token01"},
        name="Acme bot",
        user=None,
    )
    assert channel.inbox_channel_id  # the channel account in the portal
    stack.workers.start()

    opened = client.post(
        reverse("sandbox:phone"),
        {"endpoint": "telegram:7000000001", "name": "Jane", "customer_id": "555000111"},
    )
    chat = opened["Location"].rstrip("/").rsplit("/", 1)[-1]
    client.post(reverse("sandbox:phone_send", args=[chat]), {"what": "text", "text": "hello"})
    wait_for(all_relayed(1), what="the customer's message in HubSpot")
    (incoming,) = HubSpotMessage.objects.filter(direction="INCOMING")
    assert incoming.text == "hello"

    reply = reverse(
        "sandbox:hubspot_inbox_reply", kwargs={"hub_id": 9000001, "pk": incoming.thread_id}
    )
    client.post(reply, {"agent": "5100001", "text": "Hi! How can we help?"})
    delivered = wait_for(
        lambda: PhoneMessage.objects.filter(direction="out").first(),
        what="the agent's reply on the customer's phone",
    )
    assert delivered.text == "Hi! How can we help?"
    outgoing = HubSpotMessage.objects.get(direction="OUTGOING")
    wait_for(
        lambda: HubSpotMessage.objects.filter(pk=outgoing.pk, status="SENT").exists(),
        what="HubSpot to hear the reply was sent",
    )
    with capsys.disabled():
        print("\n[relay] HubSpot round trip: customer → thread → agent reply → customer: ok")
