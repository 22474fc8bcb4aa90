"""What each HTTP row sends. The functions live in a module of their own so that the
load generator's processes find them by name, however the benchmark was started."""

import json
import time

from harness.faults import SECRET

TARGET = {}  # filled in before the load generator forks


def telegram_update(slot: int, thread: int, n: int):
    # Unique across processes, threads and repetitions: no update is a duplicate.
    update_id = TARGET["update_base"] + slot * 10**7 + thread * 10**5 + n
    customer = 900_000_000 + (update_id % 200)
    body = json.dumps(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "from": {"id": customer, "is_bot": False, "first_name": f"C{customer}"},
                "chat": {"id": customer, "type": "private", "first_name": f"C{customer}"},
                "date": int(time.time()),
                "text": f"bench message {update_id}",
            },
        }
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Telegram-Bot-Api-Secret-Token": SECRET,
        "Host": "127.0.0.1",
    }
    return "POST", TARGET["path"], body, headers


def signed_in_get(slot: int, thread: int, n: int):
    headers = {"Cookie": TARGET["cookie"], "Host": "127.0.0.1"}
    return "GET", TARGET["path"], None, headers
