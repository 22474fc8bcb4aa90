"""A fast stub inbox (Intercom's REST API) and channel provider (Telegram's Bot API) for
the benchmark's relay rows, in a process of its own on a loopback port.

    python -m bench.stub --port P [--delay-ms 50]

The sandbox's Intercom is a Django app in one gunicorn process: it capped both sides of
the relay row. This is one asyncio loop speaking just enough HTTP/1.1 (keep-alive,
Content-Length bodies), answering in Intercom's and Telegram's shapes (PROVIDERS.md §1,
§5) after a delay that the benchmark sets, so the provider's latency is a fixed,
known part of every call and never the bottleneck (the stub row measures that).

It keeps what the relay needs to find again (contacts by external id, conversations
and their last parts) and two records for the benchmark:
- the number of calls per endpoint (ids in the path folded into ``{id}``);
- for the first call that carries a message's text (``MARK``) or a contact's
  external id (``CONTACT_MARK``), when it arrived (CLOCK_MONOTONIC, one clock for every
  process on the machine), so the benchmark can time webhook → first inbox call.

Its own endpoints, answered at once and not counted: ``GET /_stub/stats``,
``POST /_stub/reset`` (counts and arrivals; contacts and conversations stay), and
``POST /_stub/delay`` with ``{"ms": 50}``.
"""

import argparse
import asyncio
import contextlib
import http.client
import itertools
import json
import re
import signal
import time
from collections import Counter

# What the benchmark writes in a message, and how the stub finds it in a call's body.
TEXT = "relay message {n}"
MARK = re.compile(rb"relay message (\d+)")
CONTACT_MARK = re.compile(rb"telegram:(\d+)")
# Parts a conversation answer shows (Intercom shows up to 500; the relay looks for its
# own, the newest, so a long history only costs the relay JSON it does not need).
PARTS_SHOWN = 20
ID_SEGMENT = re.compile(r"/(?=[^/]*\d)[^/]+")  # a path segment with a digit is an id
REASONS = {200: b"OK", 400: b"Bad Request", 404: b"Not Found", 409: b"Conflict"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _error_body(error: ApiError) -> dict:
    return {
        "type": "error.list",
        "request_id": "stub",
        "errors": [{"code": error.code, "message": error.message}],
    }


class Stub:
    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.counts: Counter[str] = Counter()
        self.first: dict[str, float] = {}
        self.first_contact: dict[str, float] = {}
        self.contacts: dict[str, dict] = {}  # external id → contact
        self.contact_ids: dict[str, dict] = {}  # id → contact
        self.conversations: dict[str, dict] = {}  # id → {"contact": id, "parts": [...]}
        self.ids = itertools.count(1_000_001)
        self.telegram_ids = itertools.count(1)
        # The stub row's conversation, so probing it goes through the reply path.
        self.conversations["1"] = {"contact": "probe", "parts": [], "created_at": 0}

    # --- the benchmark's own endpoints ----------------------------------------------------

    def control(self, method: str, path: str, body: bytes) -> dict:
        if path == "/_stub/stats":
            return {
                "counts": dict(self.counts),
                "first": self.first,
                "first_contact": self.first_contact,
                "delay_ms": self.delay * 1000,
            }
        if path == "/_stub/reset" and method == "POST":
            self.counts.clear()
            self.first.clear()
            self.first_contact.clear()
            return {"ok": True}
        if path == "/_stub/delay" and method == "POST":
            self.delay = float(json.loads(body)["ms"]) / 1000
            return {"ok": True, "delay_ms": self.delay * 1000}
        raise ApiError(404, "not_found", "Resource Not Found")

    # --- what a provider answers -----------------------------------------------------------

    def answer(self, method: str, path: str, body: bytes, arrived: float) -> tuple[int, dict]:
        provider, _, rest = path.lstrip("/").partition("/")
        rest = "/" + rest
        if provider == "telegram":
            # /bot<token>/<method>: the token is no endpoint.
            name = f"telegram {method} /{rest.rsplit('/', 1)[-1]}"
        else:
            name = f"{provider} {method} {ID_SEGMENT.sub('/{id}', rest)}"
        self.counts[name] += 1
        for found in MARK.finditer(body):
            self.first.setdefault(found.group(1).decode(), arrived)
        for found in CONTACT_MARK.finditer(body):
            self.first_contact.setdefault(found.group(1).decode(), arrived)
        data = json.loads(body) if body else {}
        if not isinstance(data, dict):
            raise ApiError(400, "parameter_invalid", "The body is not a JSON object.")
        if provider == "intercom":
            return 200, self.intercom(method, rest, data)
        if provider == "telegram":
            return 200, self.telegram(rest.rsplit("/", 1)[-1], data)
        raise ApiError(404, "not_found", "Resource Not Found")

    def intercom(self, method: str, path: str, data: dict) -> dict:
        parts = path.strip("/").split("/")
        match method, parts:
            case "POST", ["contacts", "search"]:
                found = [
                    self.contacts[value]
                    for value in _filter_values(data.get("query"))
                    if value in self.contacts
                ]
                return {
                    "type": "list",
                    "data": found,
                    "total_count": len(found),
                    "pages": {"type": "pages", "page": 1, "per_page": 20, "total_pages": 1},
                }
            case "POST", ["contacts"]:
                external_id = str(data.get("external_id") or "")
                if external_id in self.contacts:
                    existing = self.contacts[external_id]["id"]
                    raise ApiError(
                        409,
                        "conflict",
                        f"A contact matching those details already exists with id={existing}",
                    )
                now = int(time.time())
                contact = {
                    "type": "contact",
                    "id": f"{next(self.ids):024x}",
                    "workspace_id": "stub",
                    "external_id": external_id or None,
                    "role": data.get("role") or "lead",
                    "email": data.get("email"),
                    "phone": data.get("phone"),
                    "name": data.get("name"),
                    "created_at": now,
                    "updated_at": now,
                    "custom_attributes": {},
                    "tags": {"type": "list", "data": [], "total_count": 0, "has_more": False},
                }
                if external_id:
                    self.contacts[external_id] = contact
                self.contact_ids[contact["id"]] = contact
                return contact
            case "POST", ["contacts", contact_id, "unarchive"]:
                return {"type": "contact", "id": contact_id, "archived": False}
            case "GET", ["contacts", contact_id]:
                if contact_id not in self.contact_ids:
                    raise ApiError(404, "not_found", "User Not Found")
                return self.contact_ids[contact_id]
            case "POST", ["conversations"]:
                sender = data.get("from") or {}
                contact_id = str(sender.get("id") or "")
                if contact_id not in self.contact_ids:
                    raise ApiError(404, "not_found", "User Not Found")
                conversation_id = str(next(self.ids))
                source_id = str(next(self.ids))
                now = int(time.time())
                self.conversations[conversation_id] = {
                    "contact": contact_id,
                    "created_at": now,
                    "source": _part(source_id, contact_id, data.get("body", ""), now),
                    "parts": [],
                }
                return {
                    "type": "user_message",
                    "id": source_id,
                    "created_at": now,
                    "body": data.get("body", ""),
                    "message_type": "inapp",
                    "conversation_id": conversation_id,
                }
            case "POST", ["conversations", "search"]:
                return {
                    "type": "conversation.list",
                    "conversations": [],
                    "total_count": 0,
                    "pages": {"type": "pages", "page": 1, "per_page": 20, "total_pages": 0},
                }
            case "GET", ["conversations", conversation_id]:
                return self._conversation(conversation_id)
            case "POST", ["conversations", conversation_id, "reply" | "parts" as kind]:
                conversation = self._found(conversation_id)
                author = (
                    str(data.get("admin_id") or "")
                    if data.get("type") == "admin" or kind == "parts"
                    else str(data.get("intercom_user_id") or conversation["contact"])
                )
                part = _part(
                    str(next(self.ids)),
                    author,
                    data.get("body") or "",
                    int(time.time()),
                    part_type=data.get("message_type") or "comment",
                    admin=data.get("type") == "admin" or kind == "parts",
                )
                conversation["parts"] = [*conversation["parts"][-(PARTS_SHOWN - 1) :], part]
                return self._conversation(conversation_id)
            case "POST", ["tags"]:
                return {"type": "tag", "id": "81", "name": str(data.get("name", ""))}
            case "POST", ["conversations", conversation_id, "tags"]:
                self._found(conversation_id)
                return {"type": "tag", "id": str(data.get("id", "")), "name": "tag"}
            case "GET", ["me"]:
                return {
                    "type": "admin",
                    "id": "991",
                    "name": "Stub Admin",
                    "app": {"type": "app", "id_code": "stub", "name": "Stub"},
                }
            case "GET", ["admins"]:
                return {"type": "admin.list", "admins": [{"type": "admin", "id": "991"}]}
        raise ApiError(404, "not_found", "Resource Not Found")

    def _found(self, conversation_id: str) -> dict:
        if conversation_id not in self.conversations:
            raise ApiError(404, "not_found", "Resource Not Found")
        return self.conversations[conversation_id]

    def _conversation(self, conversation_id: str) -> dict:
        conversation = self._found(conversation_id)
        contact = conversation["contact"]
        return {
            "type": "conversation",
            "id": conversation_id,
            "created_at": conversation["created_at"],
            "updated_at": int(time.time()),
            "open": True,
            "state": "open",
            "read": False,
            "source": conversation.get("source") or {"type": "conversation", "id": None},
            "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": contact}]},
            "tags": {"type": "tag.list", "tags": []},
            "conversation_parts": {
                "type": "conversation_part.list",
                "conversation_parts": conversation["parts"],
                "total_count": len(conversation["parts"]),
            },
        }

    def telegram(self, method: str, data: dict) -> dict:
        if method == "getMe":
            return {"ok": True, "result": {"id": 7000000004, "is_bot": True, "username": "stub"}}
        if method in ("setWebhook", "deleteWebhook", "sendChatAction", "setMessageReaction"):
            return {"ok": True, "result": True}
        if method == "getFile":
            file_id = str(data.get("file_id", ""))
            return {"ok": True, "result": {"file_id": file_id, "file_path": f"files/{file_id}"}}
        if method.startswith("send"):
            chat = data.get("chat_id")
            return {
                "ok": True,
                "result": {
                    "message_id": next(self.telegram_ids),
                    "date": int(time.time()),
                    "chat": {"id": chat if isinstance(chat, int) else 0, "type": "private"},
                    "text": data.get("text", ""),
                },
            }
        return {"ok": False, "error_code": 404, "description": "Not Found: method not found"}


def _part(part_id, author, body, created, *, part_type="comment", admin=False) -> dict:
    return {
        "type": "conversation_part",
        "id": part_id,
        "part_type": part_type,
        "body": body,
        "created_at": created,
        "updated_at": created,
        "author": {"type": "admin" if admin else "user", "id": author},
        "attachments": [],
        "redacted": False,
    }


def _filter_values(query) -> list[str]:
    """The values a contacts search compares with ``=`` (one filter, or a group)."""
    if not isinstance(query, dict):
        return []
    if isinstance(query.get("value"), list):
        return [v for item in query["value"] for v in _filter_values(item)]
    return [str(query.get("value"))] if query.get("operator") == "=" else []


# --- HTTP/1.1, just enough --------------------------------------------------------------


async def _serve_connection(stub: Stub, reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            arrived = time.monotonic()
            lines = head.split(b"\r\n")
            method, target, version = lines[0].decode("latin-1").split(" ", 2)
            length, close = 0, version == "HTTP/1.0"
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection":
                    close = value.strip().lower() == b"close"
            body = await reader.readexactly(length) if length else b""
            path = target.split("?", 1)[0]
            try:
                if path.startswith("/_stub/"):
                    status, data = 200, stub.control(method, path, body)
                else:
                    status, data = stub.answer(method, path, body, arrived)
                    if stub.delay:
                        await asyncio.sleep(stub.delay)
            except ApiError as error:
                status, data = error.status, _error_body(error)
            except (ValueError, KeyError) as error:
                status, data = 400, _error_body(ApiError(400, "parameter_invalid", str(error)))
            payload = json.dumps(data, separators=(",", ":")).encode()
            writer.write(
                b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n%s\r\n"
                % (
                    status,
                    REASONS.get(status, b"Error"),
                    len(payload),
                    b"Connection: close\r\n" if close else b"",
                )
                + payload
            )
            await writer.drain()
            if close:
                break
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def serve(port: int, delay: float):
    stub = Stub(delay)
    server = await asyncio.start_server(
        lambda r, w: _serve_connection(stub, r, w), "127.0.0.1", port, backlog=1024
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


# --- the benchmark's side ------------------------------------------------------------------


class StubClient:
    """The benchmark's handle on a running stub."""

    def __init__(self, port: int):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(
                method,
                path,
                body=json.dumps(body).encode() if body is not None else None,
                headers={"Content-Type": "application/json"},
            )
            response = connection.getresponse()
            return json.loads(response.read())
        finally:
            connection.close()

    def answers(self) -> bool:
        try:
            self.stats()
        except OSError:
            return False
        return True

    def stats(self) -> dict:
        return self._call("GET", "/_stub/stats")

    def reset(self):
        self._call("POST", "/_stub/reset", {})

    def set_delay(self, ms: float):
        self._call("POST", "/_stub/delay", {"ms": ms})

    @staticmethod
    def intercom_calls(stats: dict) -> int:
        return sum(n for name, n in stats["counts"].items() if name.startswith("intercom "))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.stub", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.port, args.delay_ms / 1000))


if __name__ == "__main__":
    main()
