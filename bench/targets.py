"""What each HTTP row sends. The functions live in a module of their own so that the
load generator's processes find them by name, however the benchmark was started."""

import json

from harness.data import SECRET, telegram_update

TARGET = {}  # filled in before the load generator forks
# The reference row's table (bench/floor.py, made by bench/__main__.py).
STORED_TABLE = "bench_floor_stored"


def webhook_post(slot: int, thread: int, n: int):
    # Unique across processes, threads and repetitions: no update is a duplicate.
    update_id = TARGET["update_base"] + slot * 10**7 + thread * 10**5 + n
    customer = 900_000_000 + (update_id % 200)
    body = telegram_update(
        update_id=update_id,
        message_id=update_id,
        customer=customer,
        text=f"bench message {update_id}",
    )
    headers = {
        "Content-Type": "application/json",
        "X-Telegram-Bot-Api-Secret-Token": SECRET,
        "Host": "127.0.0.1",
    }
    return "POST", TARGET["path"], body, headers


def signed_in_get(slot: int, thread: int, n: int):
    headers = {"Cookie": TARGET["cookie"], "Host": "127.0.0.1"}
    return "GET", TARGET["path"], None, headers


STUB_REPLY = json.dumps(
    {"message_type": "comment", "type": "user", "intercom_user_id": "probe", "body": "<p>hi</p>"}
).encode()


def stub_reply(slot: int, thread: int, n: int):
    """A contact's reply, as the relay makes it, in the stub's own conversation."""
    headers = {"Content-Type": "application/json", "Host": "127.0.0.1"}
    return "POST", "/intercom/conversations/1/reply", STUB_REPLY, headers
