"""Hostile inputs against every webhook and every form, through Django's test client.

``run`` sets up a cast (an account with an admin and a member, an Intercom and a HubSpot
workspace, a channel of each kind with a customer in a conversation) in the database it
is given, then sends:

- to each webhook (every channel kind in integrations.registry.CHANNELS, Intercom's and
  HubSpot's inbox hooks, Intercom's uninstall notice), payloads of the provider's own
  shape (``HOSTILE_KINDS`` says, per kind, where they come from, the cast channel's
  credentials and how a body is signed), mutated: NUL
  bytes, unpaired surrogates, every character 0-255, huge and non-finite numbers, deep
  nesting, over-long ids and names, wrong types, missing fields, huge arrays, raw bytes
  and broken bodies. Most are correctly signed, so they reach the parser; the rest are
  unsigned or wrongly signed, and hostile keys in the webhook path;
- to each form (sign-up, sign-in, password reset, adding an e-mail address, invitation,
  switching account, contact matching, each channel kind's add form, the channel
  settings sections with opening hours and holidays, template add and edit, the
  settings page itself), hostile values as admin, as member and signed out.

and checks, request by request: no 500; a request that was not authenticated changed
nothing; a request answered 4xx changed nothing (nothing half-written). At the end it
checks that no user is left without an account and no account without an admin.

No request leaves the process: outbound HTTP fails as if the provider could not be
reached, and the relay is not woken (what is tested is what gets stored).
"""

import base64
import hashlib
import hmac
import json
import random
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock
from urllib.parse import quote, quote_from_bytes

import requests
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from integrations.registry import CHANNELS

# Inbox webhooks; the channel kinds' come from the registry (``HOSTILE_KINDS`` below).
INBOX_TARGETS = ("intercom", "hubspot", "intercom-uninstall")
WEBHOOK_TARGETS = (*CHANNELS, *INBOX_TARGETS)

APP_SECRET = "hostile-meta-app-secret"
VERIFY_TOKEN = "hostile-verify-token"
BOT_SECRET = "hostile-telegram-secret"
TWILIO_SID = "AC" + "7" * 32
TWILIO_TOKEN = "hostile-twilio-auth-token"
VIBER_TOKEN = "hostile-viber-auth-token"
LINE_SECRET = "hostile-line-channel-secret"
FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "integrations"
INTERCOM_SECRET = "hostile-intercom-client-secret"
HUBSPOT_SECRET = "hostile-hubspot-client-secret"

# --- hostile values ----------------------------------------------------------------------

EVERY_BYTE_AS_TEXT = "".join(map(chr, range(256)))
STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\ud83d",
    "\ud83d\ude00",
    "😀" * 300,
    "\u202eevil\u202c",
    "\ufeffbom",
    "line\r\nInjected: header",
    "<script>alert(1)</script>",
    "<svg onload=alert(1)>",
    "'; DROP TABLE channels_message; --",
    "%00%ff%fe",
    "../../../etc/passwd",
    "\\u0000",
    EVERY_BYTE_AS_TEXT,
    "A" * 129,
    "A" * 256,
    "A" * 5000,
    "A" * 100_000,
    "9" * 400,
    "{{99999999999}}",
    "{{1}}" * 400,
    "{0}{1}%s%n",
    "null",
    "NaN",
    "-1",
    "1e999",
]


def hostile_string(rng: random.Random) -> str:
    if rng.random() < 0.15:
        # Random code points anywhere in Unicode, surrogates included.
        return "".join(chr(rng.randrange(0x110000)) for _ in range(rng.randrange(1, 60)))
    return rng.choice(STRINGS)


def deep(depth: int, kind: str = "list"):
    value: object = 1
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


def hostile_value(rng: random.Random):
    roll = rng.random()
    if roll < 0.45:
        return hostile_string(rng)
    return rng.choice(
        [
            0,
            -1,
            2**31,
            2**63,
            -(2**63) - 1,
            10**30,
            10**300,
            10**4000,
            1e308,
            -0.0,
            float("nan"),
            float("inf"),
            True,
            False,
            None,
            [],
            {},
            deep(40),
            deep(40, "dict"),
            [0] * 20_000,
            [{"id": str(n)} for n in range(2000)],
            {"nested": {"object": ["where", "a", "string", "belongs"]}},
        ]
    )


def _paths(document) -> list[tuple]:
    """Every path into ``document`` (iteratively: documents may be deep)."""
    paths, stack = [], [((), document)]
    while stack:
        path, node = stack.pop()
        paths.append(path)
        if isinstance(node, dict):
            stack.extend(((*path, key), value) for key, value in node.items())
        elif isinstance(node, list):
            stack.extend(((*path, index), value) for index, value in enumerate(node[:20]))
    return paths


def _set(document, path: tuple, value):
    if not path:
        return value
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return document


def _delete(document, path: tuple):
    if not path:
        return document
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    return document


def mutate_document(rng: random.Random, document):
    """1-3 mutations of a JSON document at random places."""
    document = json.loads(json.dumps(document))
    for _ in range(rng.randrange(1, 4)):
        path = rng.choice(_paths(document))
        roll = rng.random()
        if roll < 0.6:
            document = _set(document, path, hostile_value(rng))
        elif roll < 0.8 and path:
            document = _delete(document, path)
        elif roll < 0.9 and path:
            parent = document
            for key in path[:-1]:
                parent = parent[key]
            if isinstance(parent, list):
                parent.extend([parent[path[-1]]] * rng.choice([2, 50, 1500]))
        else:
            node = document
            for key in path:
                node = node[key]
            if isinstance(node, dict):
                node[hostile_string(rng)[:50] or "k"] = hostile_value(rng)
    return document


def serialize(rng: random.Random, document) -> bytes:
    """JSON as providers write it (non-ASCII escaped), or raw UTF-8 with whatever
    surrogates are in it written as the invalid bytes they become."""
    if rng.random() < 0.7:
        return json.dumps(document).encode()
    return json.dumps(document, ensure_ascii=False).encode("utf-8", "surrogatepass")


def broken_body(rng: random.Random, good: bytes) -> bytes:
    choices = [
        b"",
        b"null",
        b"[]",
        b'"a string"',
        b"123",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a": ' * 3000 + b"1" + b"}" * 3000,
        b"1" * 5000,
        b'{"a": NaN, "b": Infinity, "c": -Infinity}',
        bytes(range(256)),
        bytes(rng.randrange(256) for _ in range(rng.randrange(1, 2000))),
        good[: rng.randrange(len(good) + 1)],
        b"\xef\xbb\xbf" + good,
        good.decode().encode("utf-16"),
        good + b"\x00",
        good.replace(b'"', b"'"),
        b'{"dup": 1, "dup": 2}',
        b"\xff" * 1000,
    ]
    return rng.choice(choices)


# --- payloads of each provider's shape ---------------------------------------------------


def whatsapp_payloads() -> list[dict]:
    def envelope(value):
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}],
        }

    metadata = {"display_phone_number": "15550001111", "phone_number_id": "HPNID"}
    contacts = [{"profile": {"name": "Jane"}, "wa_id": "15551234567"}]
    message = {"from": "15551234567", "id": "wamid.H1", "timestamp": "1749416383"}
    template_status = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA",
                "time": 1751234563,
                "changes": [
                    {
                        "field": "message_template_status_update",
                        "value": {
                            "event": "PAUSED",
                            "message_template_id": 1387562738432187,
                            "message_template_name": "order_shipped",
                            "message_template_language": "en_US",
                            "reason": "FIRST_PAUSE",
                        },
                    }
                ],
            }
        ],
    }
    return [
        template_status,
        envelope(
            {
                "messaging_product": "whatsapp",
                "metadata": metadata,
                "contacts": contacts,
                "messages": [{**message, "type": "text", "text": {"body": "hello"}}],
            }
        ),
        envelope(
            {
                "metadata": metadata,
                "contacts": contacts,
                "messages": [
                    {
                        **message,
                        "type": "image",
                        "image": {"id": "M1", "mime_type": "image/jpeg", "caption": "receipt"},
                    }
                ],
            }
        ),
        envelope(
            {
                "metadata": metadata,
                "messages": [
                    {
                        **message,
                        "type": "location",
                        "location": {"latitude": 52.5, "longitude": 13.4, "name": "Cafe"},
                    },
                    {
                        **message,
                        "id": "wamid.H2",
                        "type": "contacts",
                        "contacts": [
                            {"name": {"formatted_name": "Bob"}, "phones": [{"phone": "+1"}]}
                        ],
                    },
                ],
            }
        ),
        envelope(
            {
                "metadata": metadata,
                "statuses": [
                    {
                        "id": "wamid.OUT",
                        "status": "failed",
                        "timestamp": "1749416400",
                        "recipient_id": "15551234567",
                        "errors": [{"code": 131047, "title": "Re-engagement message"}],
                    }
                ],
            }
        ),
    ]


def messenger_payloads() -> list[dict]:
    def envelope(event):
        return {"object": "page", "entry": [{"id": "HPAGE", "time": 1, "messaging": [event]}]}

    base = {"sender": {"id": "PSID1"}, "recipient": {"id": "HPAGE"}, "timestamp": 1718000000000}
    return [
        envelope({**base, "message": {"mid": "m_1", "text": "hello"}}),
        envelope(
            {
                **base,
                "message": {
                    "mid": "m_2",
                    "attachments": [{"type": "image", "payload": {"url": "https://x.fbcdn/1.jpg"}}],
                },
            }
        ),
        envelope({**base, "postback": {"mid": "m_3", "title": "Yes", "payload": "YES"}}),
        envelope({**base, "reaction": {"mid": "m_1", "action": "react", "emoji": "👍"}}),
        envelope({**base, "delivery": {"mids": ["m_out"], "watermark": 1718000000000}}),
    ]


def telegram_payloads() -> list[dict]:
    user = {"id": 555, "is_bot": False, "first_name": "Jane", "username": "jane"}
    chat = {"id": 555, "type": "private", "first_name": "Jane"}
    message = {"message_id": 7, "date": 1718000000, "from": user, "chat": chat}
    return [
        {"update_id": 1, "message": {**message, "text": "hello"}},
        {
            "update_id": 2,
            "message": {
                **message,
                "message_id": 8,
                "caption": "receipt",
                "photo": [{"file_id": "F1", "file_unique_id": "U1", "width": 90, "height": 90}],
            },
        },
        {
            "update_id": 3,
            "callback_query": {
                "id": "cb1",
                "from": user,
                "data": "YES",
                "message": {**message, "message_id": 9, "text": "Pick"},
            },
        },
        {
            "update_id": 4,
            "message_reaction": {
                "chat": chat,
                "message_id": 7,
                "user": user,
                "date": 1718000000,
                "old_reaction": [],
                "new_reaction": [{"type": "emoji", "emoji": "👍"}],
            },
        },
    ]


def twilio_forms() -> list[dict]:
    base = {
        "MessageSid": "SM" + "a" * 32,
        "AccountSid": TWILIO_SID,
        "From": "+15551234567",
        "To": "+15550009999",
        "ProfileName": "Jane",
        "Body": "hello",
        "NumMedia": "0",
    }
    return [
        base,
        {
            **base,
            "NumMedia": "1",
            "MediaUrl0": "https://api.twilio.com/m/1",
            "MediaContentType0": "image/jpeg",
        },
        {**base, "MessageType": "location", "Latitude": "52.5", "Longitude": "13.4"},
        {
            "MessageSid": "SM" + "b" * 32,
            "AccountSid": TWILIO_SID,
            "MessageStatus": "undelivered",
            "ErrorCode": "30003",
        },
    ]


def intercom_payloads(conversation_id: str) -> list[dict]:
    part = {
        "type": "conversation_part",
        "id": "135",
        "part_type": "comment",
        "body": "<p>Thanks! It left today.</p>",
        "created_at": 1718000000,
        "author": {"type": "admin", "id": "991", "name": "Ann"},
        "attachments": [
            {
                "url": "https://downloads.intercom/x.pdf",
                "name": "x.pdf",
                "content_type": "application/pdf",
            }
        ],
    }
    item = {
        "type": "conversation",
        "id": conversation_id,
        "conversation_parts": {"type": "conversation_part.list", "conversation_parts": [part]},
    }

    def notification(topic, item):
        return {
            "type": "notification_event",
            "app_id": "hostile-app",
            "topic": topic,
            "created_at": 1718000000,
            "data": {"type": "notification_event_data", "item": item},
        }

    closed = {**part, "id": "136", "part_type": "close", "body": None}
    return [
        notification("conversation.admin.replied", item),
        notification(
            "conversation.admin.closed",
            {**item, "conversation_parts": {"conversation_parts": [closed]}},
        ),
        notification("ping", {"type": "ping", "message": "hi"}),
    ]


def hubspot_payloads(thread_id: str) -> list:
    event = {
        "type": "OUTGOING_CHANNEL_MESSAGE_CREATED",
        "portalId": 9000777,
        "eventTimestamp": 1718000000000,
        "message": {
            "id": "hs-msg-1",
            "conversationsThreadId": thread_id,
            "direction": "OUTGOING",
            "text": "Thanks!",
            "richText": "<p>Thanks!</p>",
            "createdAt": "2026-01-01T10:00:00Z",
            "senders": [{"actorId": "A-1", "name": "Ann"}],
            "attachments": [
                {"type": "FILE", "url": "https://files.hubspot/x.pdf", "name": "x.pdf"}
            ],
        },
    }
    return [event, [event, {**event, "type": "CHANNEL_ACCOUNT_CREATED"}]]


def fixture_payloads(kind: str) -> list:
    """The webhook bodies a kind's own tests read (tests/integrations/<kind>/fixtures)."""
    paths = sorted((FIXTURES / kind / "fixtures").glob("*.json"))
    if not paths:
        raise LookupError(f"no webhook fixtures for {kind} in {FIXTURES / kind / 'fixtures'}")
    return [json.loads(path.read_text()) for path in paths]


# --- what the run needs of each channel kind ---------------------------------------------


def _meta_signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _hex_sha256(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _base64_sha256(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass(frozen=True)
class HostileKind:
    """A channel kind as the run sees it: its cast channel (``identity``,
    ``credentials``), the bodies it mutates (``payloads``), and how a body is signed:
    ``header`` carries ``sign(body, secret)``; a wrong secret signs the unsigned
    variants. ``handshake`` is Meta's GET subscribe (hostile ``hub.*`` queries; a plain
    GET otherwise). ``form``: Twilio's signed form posts (``Generator._twilio``)."""

    identity: str
    credentials: dict
    payloads: Callable[[], list]
    header: str = ""
    secret: str = ""
    sign: Callable[[bytes, str], str] = lambda body, secret: secret
    handshake: bool = False
    form: bool = False


_META = {"header": "X-Hub-Signature-256", "secret": APP_SECRET, "sign": _meta_signature}

# One entry per registered channel kind (tests/test_hostile_inputs.py checks this).
HOSTILE_KINDS = {
    "whatsapp": HostileKind(
        identity="HPNID",
        credentials={
            "phone_number_id": "HPNID",
            "waba_id": "WABA",
            "access_token": "t",
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
        },
        payloads=whatsapp_payloads,
        handshake=True,
        **_META,
    ),
    "sms": HostileKind(
        identity="+15550009999",
        credentials={
            "account_sid": TWILIO_SID,
            "auth_token": TWILIO_TOKEN,
            "phone_number": "+15550009999",
        },
        payloads=twilio_forms,
        form=True,
    ),
    "telegram": HostileKind(
        identity="900",
        credentials={
            "bot_token": "900:x",
            "secret_token": BOT_SECRET,
            "bot_id": "900",
            "bot_username": "b",
        },
        payloads=telegram_payloads,
        header="X-Telegram-Bot-Api-Secret-Token",
        secret=BOT_SECRET,
    ),
    "messenger": HostileKind(
        identity="HPAGE",
        credentials={
            "page_id": "HPAGE",
            "page_access_token": "t",
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
        },
        payloads=messenger_payloads,
        handshake=True,
        **_META,
    ),
    "instagram": HostileKind(
        identity="17841405822304914",
        credentials={
            "page_id": "HIGPAGE",
            "instagram_account_id": "17841405822304914",
            "page_access_token": "t",
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
            "username": "hostile.shop",
        },
        payloads=lambda: fixture_payloads("instagram"),
        handshake=True,
        **_META,
    ),
    "viber": HostileKind(
        identity="pa:hostile",
        credentials={"auth_token": VIBER_TOKEN, "bot_id": "pa:hostile", "bot_name": "Hostile"},
        payloads=lambda: fixture_payloads("viber"),
        header="X-Viber-Content-Signature",
        secret=VIBER_TOKEN,
        sign=_hex_sha256,
    ),
    "line": HostileKind(
        identity="Ub1b2c3d4e5f60718293a4b5c6d7e8f90",
        credentials={
            "channel_access_token": "t",
            "channel_secret": LINE_SECRET,
            "bot_user_id": "Ub1b2c3d4e5f60718293a4b5c6d7e8f90",
            "basic_id": "@hostile",
        },
        payloads=lambda: fixture_payloads("line"),
        header="X-Line-Signature",
        secret=LINE_SECRET,
        sign=_base64_sha256,
    ),
}


def hostile_kinds() -> dict[str, HostileKind]:
    """``HOSTILE_KINDS`` for every registered kind, in the registry's order; a kind
    registered without an entry stops the run rather than go untested."""
    missing = [kind for kind in CHANNELS if kind not in HOSTILE_KINDS]
    if missing:
        raise LookupError(f"harness/hostile.py has no HOSTILE_KINDS entry for {missing}")
    return {kind: HOSTILE_KINDS[kind] for kind in CHANNELS}


# --- the cast -------------------------------------------------------------------------------


@dataclass
class Cast:
    admin: Client
    member: Client
    channels: dict  # kind -> Channel
    workspace_pk: int
    template_pk: int
    member_pk: int
    intercom_conversation: str
    hubspot_thread: str


def _make_cast() -> Cast:
    from accounts.models import Account, Membership, Role, User
    from channels.models import (
        Channel,
        Contact,
        Conversation,
        MessageTemplate,
        WhatsAppTemplate,
    )
    from workspaces.models import Provider, Workspace

    account = Account.objects.create(name="Hostile Inputs Ltd")
    admin = User.objects.create_user(email="admin@hostile.test", password="x-Hostile-pw-1")
    member = User.objects.create_user(email="member@hostile.test", password="x-Hostile-pw-2")
    Membership.objects.create(user=admin, account=account, role=Role.ADMIN)
    Membership.objects.create(user=member, account=account, role=Role.MEMBER)
    intercom = Workspace.objects.create(
        account=account,
        provider=Provider.INTERCOM,
        external_id="hostile-app",
        name="Hostile Intercom",
        connected_by=admin,
        access_token="tok",
    )
    hubspot = Workspace.objects.create(
        account=account,
        provider=Provider.HUBSPOT,
        external_id="9000777",
        name="Hostile HubSpot",
        connected_by=admin,
        access_token="tok",
    )
    channels = {}
    for kind, entry in hostile_kinds().items():
        channel = Channel(
            workspace=intercom, kind=kind, name=f"Hostile {kind}", identity=entry.identity
        )
        channel.credentials_data = entry.credentials
        channel.save()
        channels[kind] = channel
    intercom_contact = Contact.objects.create(channel=channels["whatsapp"], external_id="1555")
    Conversation.objects.create(
        workspace=intercom, contact=intercom_contact, inbox_conversation_id="4990"
    )
    hubspot_channel = Channel.objects.create(
        workspace=hubspot, kind="sms", name="Hostile HubSpot SMS", identity="+15550008888"
    )
    hubspot_contact = Contact.objects.create(channel=hubspot_channel, external_id="+1555")
    Conversation.objects.create(
        workspace=hubspot, contact=hubspot_contact, inbox_conversation_id="7770"
    )
    template = MessageTemplate.objects.create(
        channel=channels["whatsapp"], name="Hello", language="en", body="Hi {{1}}"
    )
    # What Meta's signed template status updates change.
    WhatsAppTemplate.objects.create(
        channel=channels["whatsapp"],
        meta_id="1387562738432187",
        name="order_shipped",
        language="en_US",
        status="APPROVED",
        synced_at=timezone.now(),
    )
    admin_client, member_client = (
        Client(raise_request_exception=False),
        Client(raise_request_exception=False),
    )
    admin_client.force_login(admin)
    member_client.force_login(member)
    return Cast(
        admin=admin_client,
        member=member_client,
        channels=channels,
        workspace_pk=intercom.pk,
        template_pk=template.pk,
        member_pk=Membership.objects.get(user=member).pk,
        intercom_conversation="4990",
        hubspot_thread="7770",
    )


# --- requests -------------------------------------------------------------------------------


@dataclass
class Attempt:
    target: str
    auth: str  # "signed", "unsigned" (no or a wrong signature or key), "admin", "member", "anon"
    send: Callable[[], object]
    detail: str = ""

    @property
    def may_write(self) -> bool:
        """Whether this request may change anything: a signed webhook, an admin's form,
        and signing up; never an unsigned webhook, a member's post or a stranger's."""
        return self.auth in ("signed", "admin") or self.target == "form:signup"


def _q(text: str) -> str:
    """Percent-encoded UTF-8, unpaired surrogates as the invalid bytes they become."""
    return quote_from_bytes(text.encode("utf-8", "surrogatepass"), safe="")


def _query(query: dict) -> str:
    return "&".join(f"{_q(key)}={_q(value)}" for key, value in query.items())


def _twilio_signature(url: str, pairs: list[tuple[str, str]], token: str = TWILIO_TOKEN) -> str:
    params: dict[str, set] = defaultdict(set)
    for name, value in pairs:
        params[name].add(value)
    data = url + "".join(name + value for name in sorted(params) for value in sorted(params[name]))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def _wrong_header(rng: random.Random, good: str) -> str:
    """A signature header that is not the right one: missing, empty, of another body,
    truncated, non-ASCII, control characters, huge."""
    return rng.choice(
        [
            "",
            " ",
            good[:-1],
            good[:-2] + ("00" if not good.endswith("00") else "11"),
            good.upper() + "x",
            "sha1=" + "0" * 40,
            "sha256=" + "é" * 64,
            "\xff" * 64,
            "ünïcödé",
            "sha256=" + "0" * 10_000,
            "=",
            "sha256",
            good + ",v1=" + good,
        ]
    )


class Generator:
    def __init__(self, rng: random.Random, cast: Cast):
        self.rng, self.cast = rng, cast
        self.anon = Client(raise_request_exception=False)
        self.kinds = hostile_kinds()
        self.bases = {
            **{kind: entry.payloads() for kind, entry in self.kinds.items()},
            "intercom": intercom_payloads(cast.intercom_conversation),
            "hubspot": hubspot_payloads(cast.hubspot_thread),
            "intercom-uninstall": [{"app_id": "some-other-app"}],
        }

    # -- webhooks -------------------------------------------------------------------------

    def webhook(self, target: str) -> Attempt:
        rng = self.rng
        entry = self.kinds.get(target)
        if entry is not None and entry.form:
            return self._twilio(target)
        base = rng.choice(self.bases[target])
        if rng.random() < 0.15:
            body = broken_body(rng, json.dumps(base).encode())
        elif rng.random() < 0.1:
            body = json.dumps(base).encode()  # well-formed: the happy path among the rest
        else:
            body = serialize(rng, mutate_document(rng, base))
        signed = rng.random() < 0.65
        if entry is not None:
            return self._channel_json(target, body, signed)
        return self._inbox(target, body, signed)

    def _client_post(self, path, body, headers, content_type="application/json", **extra):
        return lambda: self.anon.generic(
            "POST", path, body, content_type=content_type, headers=headers, **extra
        )

    def _channel_json(self, kind: str, body: bytes, signed: bool) -> Attempt:
        rng = self.rng
        entry = self.kinds[kind]
        channel = self.cast.channels[kind]
        path = f"/hooks/{kind}/{channel.webhook_key}/"
        name, good = entry.header, entry.sign(body, entry.secret)
        if signed:
            return Attempt(kind, "signed", self._client_post(path, body, {name: good}))
        roll = rng.random()
        if roll < 0.15:
            # Meta's GET handshake with a wrong token, or hostile values in it.
            if not entry.handshake:
                return Attempt(kind, "unsigned", lambda: self.anon.get(path))
            query = {
                "hub.mode": rng.choice(["subscribe", "", hostile_string(rng)]),
                "hub.verify_token": rng.choice(["", "nope", hostile_string(rng)]),
                "hub.challenge": hostile_string(rng),
            }
            return Attempt(kind, "unsigned", lambda: self.anon.get(f"{path}?{_query(query)}"))
        if roll < 0.3:
            # Another kind's channel: its key does not open this kind's webhook.
            other = rng.choice([k for k in self.cast.channels if k != kind])
            key = rng.choice(
                [
                    "%00",
                    "a%00b",
                    "%ED%A0%80",
                    "k" * 300,
                    _q(hostile_string(rng)[:200] or "x"),
                    channel.webhook_key + "x",
                    self.cast.channels[other].webhook_key,
                ]
            )
            other_kind = rng.choice([kind, "signal", "%00", "intercom"])
            headers = {name: good}
            return Attempt(
                kind, "unsigned", self._client_post(f"/hooks/{other_kind}/{key}/", body, headers)
            )
        if roll < 0.4:
            wrong_secret = {name: entry.sign(body, "not-" + entry.secret)}
            return Attempt(kind, "unsigned", self._client_post(path, body, wrong_secret))
        headers = {} if rng.random() < 0.2 else {name: _wrong_header(rng, good)}
        return Attempt(kind, "unsigned", self._client_post(path, body, headers))

    def _inbox(self, target: str, body: bytes, signed: bool) -> Attempt:
        rng = self.rng
        if target == "intercom":
            path = "/hooks/intercom/"
            name = "X-Hub-Signature"
            good = "sha1=" + hmac.new(INTERCOM_SECRET.encode(), body, hashlib.sha1).hexdigest()
            headers = {name: good}
        elif target == "intercom-uninstall":
            path = "/hooks/intercom/uninstall/"
            name = "X-Body-Signature"
            good = hmac.new(INTERCOM_SECRET.encode(), body, hashlib.sha256).hexdigest()
            headers = {name: good}
        else:
            path = "/hooks/hubspot/"
            name = "X-HubSpot-Signature-v3"
            timestamp = str(int(time.time() * 1000))
            if not signed and rng.random() < 0.3:
                # Correctly signed, but too old or from the future: a replay.
                timestamp = str(int((time.time() + rng.choice([-601, 601, -86400])) * 1000))
                signed_late = True
            else:
                signed_late = False
            url = settings.PUBLIC_BASE_URL + path
            message = b"POST" + url.encode() + body + timestamp.encode()
            digest = hmac.new(HUBSPOT_SECRET.encode(), message, hashlib.sha256).digest()
            good = base64.b64encode(digest).decode()
            headers = {name: good, "X-HubSpot-Request-Timestamp": timestamp}
            if signed_late:
                return Attempt(target, "unsigned", self._client_post(path, body, headers), "stale")
            if not signed and rng.random() < 0.2:
                headers["X-HubSpot-Request-Timestamp"] = rng.choice(
                    ["", "abc", "-1", "9" * 40, "١٢"]
                )
                return Attempt(target, "unsigned", self._client_post(path, body, headers))
        if signed:
            if rng.random() < 0.03:
                # A declared length the server cannot read, or one over the cap.
                length = rng.choice(["abc", "-1", "1e3", "99999999999999999999"])
                return Attempt(
                    target, "signed", self._client_post(path, body, headers, CONTENT_LENGTH=length)
                )
            return Attempt(target, "signed", self._client_post(path, body, headers))
        headers = dict(headers)
        if rng.random() < 0.2:
            del headers[name]
        else:
            headers[name] = _wrong_header(rng, good)
        return Attempt(target, "unsigned", self._client_post(path, body, headers))

    def _twilio(self, kind: str) -> Attempt:
        rng = self.rng
        channel = self.cast.channels[kind]
        path = f"/hooks/{kind}/{channel.webhook_key}/"
        form = dict(rng.choice(self.bases[kind]))
        pairs = list(form.items())
        for _ in range(rng.randrange(1, 4)):
            roll = rng.random()
            if roll < 0.6 and pairs:
                index = rng.randrange(len(pairs))
                value = hostile_string(rng)
                # Twilio sends text: no unpaired surrogate can be in what it signed.
                value = value.encode("utf-8", "replace").decode("utf-8")
                pairs[index] = (pairs[index][0], value)
            elif roll < 0.75 and pairs:
                pairs.pop(rng.randrange(len(pairs)))
            elif roll < 0.85:
                pairs.append(
                    (rng.choice(["Body", "NumMedia", "MediaUrl0", "X"]), hostile_string(rng)[:100])
                )
                pairs[-1] = (pairs[-1][0], pairs[-1][1].encode("utf-8", "replace").decode())
            elif roll < 0.9:
                pairs.extend((f"F{n}", "x") for n in range(rng.choice([50, 1200])))
            else:
                pairs.append(("NumMedia", rng.choice(["999", "-1", "1e3", "١", "5"])))
        body = "&".join(
            quote(name, safe="") + "=" + quote(value, safe="") for name, value in pairs
        ).encode()
        url = settings.PUBLIC_BASE_URL + path
        good = _twilio_signature(url, pairs)
        signed = rng.random() < 0.65
        content_type = "application/x-www-form-urlencoded"
        if signed:
            if rng.random() < 0.05:
                # Raw bytes that are not UTF-8: Twilio signs decoded text, so no signature
                # of ours can match; still never a 500.
                body = body + b"&Body=" + quote_from_bytes(bytes(range(128, 256))).encode()
            return Attempt(
                kind,
                "signed",
                self._client_post(path, body, {"X-Twilio-Signature": good}, content_type),
            )
        wrong = rng.choice(
            [
                {},
                {"X-Twilio-Signature": _wrong_header(rng, good)},
                {"X-Twilio-Signature": _twilio_signature(url, pairs, "not-the-token")},
                {"X-Twilio-Signature": _twilio_signature(url + "?x=1", pairs)},
            ]
        )
        return Attempt(kind, "unsigned", self._client_post(path, body, wrong, content_type))

    # -- forms ----------------------------------------------------------------------------

    def form(self) -> Attempt:
        from integrations.registry import CHANNELS, channel_adapter

        rng, cast = self.rng, self.cast
        whatsapp = cast.channels["whatsapp"].pk
        kind = rng.choice(list(CHANNELS))
        add_fields = {name: "x" for name in channel_adapter(kind).form.base_fields} | {"name": "x"}
        days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        targets = {
            "signup": (
                "/auth/signup/",
                {
                    "account_name": "Acme",
                    "email": f"new{rng.randrange(10**9)}@hostile.test",
                    "password1": "a-Long-pw-123",
                    "password2": "a-Long-pw-123",
                },
                ("anon",),
            ),
            "login": (
                "/auth/login/",
                {"login": "admin@hostile.test", "password": "wrong"},
                ("anon",),
            ),
            "email-add": (
                "/auth/email/",
                {"email": f"more{rng.randrange(10**9)}@hostile.test", "action_add": ""},
                ("admin",),
            ),
            "password-reset": ("/auth/password/reset/", {"email": "admin@hostile.test"}, ("anon",)),
            "invite": (
                "/team/invite/",
                {"email": f"x{rng.randrange(10**9)}@hostile.test", "role": "member"},
                ("admin", "member"),
            ),
            "switch-account": ("/team/switch/", {"account": "1"}, ("admin", "member")),
            "join": (f"/team/join/{_q(hostile_string(rng)[:300] or 'x')}/", {}, ("anon", "member")),
            "contact-match": (
                f"/workspaces/{cast.workspace_pk}/contact-match/",
                {"contact_match": "recent"},
                ("admin", "member"),
            ),
            f"add-{kind}": (
                f"/workspaces/{cast.workspace_pk}/channels/add/{kind}/",
                add_fields,
                ("admin", "member"),
            ),
            "settings-welcome": (
                f"/channels/{whatsapp}/settings/welcome/",
                {"welcome-enabled": "on", "welcome-message": "Hi"},
                ("admin", "member"),
            ),
            "settings-conversations": (
                f"/channels/{whatsapp}/settings/conversations/",
                {"conversations-new_conversation_after": "3600"},
                ("admin", "member"),
            ),
            "settings-away": (
                f"/channels/{whatsapp}/settings/away/",
                {
                    "away-enabled": "on",
                    "away-time_zone": "Europe/Paris",
                    "away-message": "Closed",
                    "away-holidays": "2026-12-25 Christmas",
                    **{f"away-{day}": "09:00-12:00, 13:00-17:00" for day in days},
                },
                ("admin", "member"),
            ),
            "settings-signature": (
                f"/channels/{whatsapp}/settings/signature/",
                {"signature-signature": "— {agent_name}"},
                ("admin", "member"),
            ),
            "settings-page": (f"/channels/{whatsapp}/settings/", {"x": "y"}, ("admin", "member")),
            "template-add": (
                f"/channels/{whatsapp}/templates/add/",
                {
                    "name": f"T{rng.randrange(10**9)}",
                    "language": "en",
                    "body": "Hi {{1}}",
                },
                ("admin", "member"),
            ),
            "template-edit": (
                f"/channels/{whatsapp}/templates/{cast.template_pk}/",
                {"name": "Hello", "language": "en", "body": "Hi {{1}}"},
                ("admin", "member"),
            ),
        }
        name = rng.choice(list(targets))
        path, data, roles = targets[name]
        pairs = list(data.items())
        for _ in range(rng.randrange(1, 4)):
            roll = rng.random()
            if roll < 0.7 and pairs:
                index = rng.randrange(len(pairs))
                pairs[index] = (pairs[index][0], self._form_value(pairs[index][0]))
            elif roll < 0.8 and pairs:
                pairs.pop(rng.randrange(len(pairs)))
            elif roll < 0.9 and pairs:
                pairs.append((rng.choice(pairs)[0], hostile_string(rng)))
            else:
                pairs.append((hostile_string(rng)[:40] or "k", hostile_string(rng)))
        body = "&".join(_form_pair(name, value) for name, value in pairs).encode()
        role = rng.choice(roles)
        client = {
            "admin": cast.admin,
            "member": cast.member,
            "anon": Client(raise_request_exception=False),
        }[role]
        if rng.random() < 0.05:
            # Hostile query strings and cookies on a page read, too.
            query = _query({"page": hostile_string(rng)})
            client.cookies["tz"] = _q(hostile_string(rng)[:100])
            page = f"/channels/{whatsapp}/?{query}"
            return Attempt("page:channel", role, lambda: client.get(page))
        send = lambda: client.generic(  # noqa: E731
            "POST", path, body, content_type="application/x-www-form-urlencoded"
        )
        return Attempt(f"form:{name}", role, send)

    def _form_value(self, field: str) -> str:
        rng = self.rng
        specific = {
            "email": [
                "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".com",
                "x@" + "y" * 300,
                "@",
                "a@b",
                "ü@ü.de",
                "a@b.c\r\nBcc: x@y.z",
            ],
            "body": [
                "{{99999999999}}",
                "{{1}} {{200000}}",
                "{{" + "9" * 5000 + "}}",
                "{{0}}",
                "{{²}}",
                "{" * 5000,
                "{{1}" * 300,
            ],
            "holidays": [
                "\n".join(f"20{n % 90 + 10:02d}-01-01" for n in range(5000)),
                "9999-12-31",
                "0000-01-01",
                "2026-02-30 x",
                "2026-01-01 " + "x" * 50_000,
            ],
            "time_zone": [
                "../../etc/passwd",
                "Europe/Paris\x00",
                "UTC" * 1000,
                "Factory",
                "localtime",
                "posixrules",
            ],
            "new_conversation_after": ["9" * 400, "-1", "1e9", "0", "3600.5"],
            "account": ["9" * 40, "-1", "0", "1e3", "١"],
            "role": ["owner", "ADMIN", "admin\x00"],
            "contact_match": ["x" * 9, "recent\x00"],
        }
        for suffix, values in specific.items():
            if field.endswith(suffix) and rng.random() < 0.6:
                return rng.choice(values)
        if (
            field.startswith("away-")
            and field[5:]
            in {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
            and rng.random() < 0.6
        ):
            return rng.choice(
                [
                    "00:00-24:00, " * 20,
                    "25:00-26:00",
                    "09:00-08:00",
                    "9-5",
                    "-" * 200,
                    "00:00-24:00" + " " * 189,
                    "１０:００-１２:００",
                ]
            )
        return hostile_string(rng)


def _form_pair(name: str, value: str) -> str:
    return f"{_q(name)}={_q(value)}"


# --- what changed -------------------------------------------------------------------------


def _snapshot_sql() -> str:
    from accounts.models import Account, Invitation, Membership, User
    from channels.models import (
        Channel,
        Contact,
        Conversation,
        Holiday,
        Message,
        MessageTemplate,
        OpeningHours,
        WhatsAppTemplate,
    )
    from workspaces.models import Workspace

    parts = []
    for model in (
        Message,
        Contact,
        Conversation,
        OpeningHours,
        Holiday,
        MessageTemplate,
        Invitation,
        Membership,
        User,
        Account,
        Workspace,
        Channel,
    ):
        table = connection.ops.quote_name(model._meta.db_table)
        parts.append(f"(SELECT count(*) FROM {table})")
        parts.append(f"(SELECT max(id) FROM {table})")
        if any(f.name == "updated_at" for f in model._meta.fields):
            parts.append(f"(SELECT max(updated_at) FROM {table})")
    conversation = connection.ops.quote_name(Conversation._meta.db_table)
    parts.append(f"(SELECT count(*) FROM {conversation} WHERE open)")
    parts.append(f"(SELECT max(closed_at) FROM {conversation})")
    template = connection.ops.quote_name(WhatsAppTemplate._meta.db_table)
    parts.append(f"(SELECT count(*) FROM {template})")
    parts.append(f"(SELECT count(*) FROM {template} WHERE status <> 'APPROVED')")
    parts.append(f"(SELECT sum(length(status) + length(status_reason)) FROM {template})")
    workspace = connection.ops.quote_name(Workspace._meta.db_table)
    parts.append(f"(SELECT count(*) FROM {workspace} WHERE status = 'active')")
    return "SELECT " + ", ".join(parts)


def _invariants() -> dict[str, int]:
    from django.db.models import F

    from accounts.models import Account, Role, User
    from channels.models import Message

    return {
        "users without an account": User.objects.filter(memberships__isnull=True).count(),
        "accounts without an admin": Account.objects.exclude(memberships__role=Role.ADMIN).count(),
        "messages of a contact on another channel": Message.objects.exclude(
            contact__channel_id=F("channel_id")
        ).count(),
    }


# --- the run ----------------------------------------------------------------------------------


@dataclass
class Report:
    counts: dict = field(default_factory=lambda: defaultdict(Counter))
    server_errors: list = field(default_factory=list)  # (target, auth, traceback summary)
    unauthenticated_stored: list = field(default_factory=list)
    refused_but_written: list = field(default_factory=list)
    invariants: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return sum(sum(counter.values()) for counter in self.counts.values())

    def requests_to(self, kind: str) -> int:
        """Requests to webhooks (``kind`` "webhook") or to forms and pages (anything else)."""
        return sum(
            sum(counter.values())
            for (target, _), counter in self.counts.items()
            if (target in WEBHOOK_TARGETS) == (kind == "webhook")
        )

    @property
    def ok(self) -> bool:
        return not (
            self.server_errors
            or self.unauthenticated_stored
            or self.refused_but_written
            or any(self.invariants.values())
        )

    def table(self) -> str:
        statuses = sorted({status for counter in self.counts.values() for status in counter})
        width = max([len(target) for target, _ in self.counts] + [6]) + 2
        head = (
            f"{'target':<{width}}{'auth':<10}"
            + "".join(f"{s:>7}" for s in statuses)
            + f"{'total':>8}"
        )
        lines = [head, "-" * len(head)]
        totals = Counter()
        for (target, auth), counter in sorted(self.counts.items()):
            totals.update(counter)
            row = f"{target:<{width}}{auth:<10}" + "".join(
                f"{counter.get(s, 0):>7}" for s in statuses
            )
            lines.append(row + f"{sum(counter.values()):>8}")
        lines.append("-" * len(head))
        total_row = f"{'all':<{width}}{'':<10}" + "".join(
            f"{totals.get(s, 0):>7}" for s in statuses
        )
        lines.append(total_row + f"{sum(totals.values()):>8}")
        return "\n".join(lines)

    def summary(self) -> str:
        distinct = Counter(summary for _, _, summary in self.server_errors)
        lines = [
            f"requests: {self.requests} ({self.requests_to('webhook')} to webhooks, "
            f"{self.requests_to('form')} to forms and pages) in {self.seconds:.0f} s",
            f"500s={len(self.server_errors)} ({len(distinct)} distinct tracebacks)",
            f"unauthenticated stored={len(self.unauthenticated_stored)}",
            f"refused but written (half-written)={len(self.refused_but_written)}",
        ]
        lines += [f"{name}={count}" for name, count in self.invariants.items()]
        for summary, count in distinct.most_common(10):
            lines.append(f"  500 x{count}: {summary}")
        for target, auth, status in (self.unauthenticated_stored + self.refused_but_written)[:10]:
            lines.append(f"  changed: {target} ({auth}) answered {status}")
        lines.append("RESULT: " + ("PASS" if self.ok else "FAIL"))
        return "\n".join(lines)


def _traceback_summary(exc_info) -> str:
    if not exc_info:
        return "500 without an exception"
    kind, error, tb = exc_info
    frames = [frame for frame in traceback.extract_tb(tb) if "site-packages" not in frame.filename]
    where = "/".join(frames[-1].filename.rsplit("/", 2)[-2:]) if frames else "?"
    where += f":{frames[-1].lineno}" if frames else ""
    return f"{kind.__name__} at {where}: {str(error)[:120]}"


def run(*, webhooks: int = 5600, forms: int = 1400, seed: int = 1, progress=None) -> Report:
    """Send ``webhooks`` hostile webhook requests (spread over every webhook) and
    ``forms`` hostile form posts, in the current database. Returns the report."""
    from django.test.utils import override_settings

    overrides = {
        "INTERCOM_CLIENT_SECRET": INTERCOM_SECRET,
        "HUBSPOT_CLIENT_SECRET": HUBSPOT_SECRET,
        "HUBSPOT_APP_ID": "7000777",
        "ACCOUNT_RATE_LIMITS": False,
        "MAILERS": {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}},
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        "ALLOWED_HOSTS": ["testserver", *settings.ALLOWED_HOSTS],
        "SECURE_SSL_REDIRECT": False,
        "DEBUG": False,
    }

    def unreachable(*args, **kwargs):
        raise requests.ConnectionError("no network during the hostile-input run")

    report = Report()
    started = time.monotonic()
    with (
        override_settings(**overrides),
        mock.patch("requests.Session.send", unreachable),
        mock.patch("channels.services.relay_wake", lambda contact_ids: None),
    ):
        cast = _make_cast()
        generator = Generator(random.Random(seed), cast)
        snapshot_sql = _snapshot_sql()

        def snapshot():
            with connection.cursor() as cursor:
                cursor.execute(snapshot_sql)
                return cursor.fetchone()

        plan = [WEBHOOK_TARGETS[n % len(WEBHOOK_TARGETS)] for n in range(webhooks)]
        plan += ["form"] * forms
        random.Random(seed + 1).shuffle(plan)
        for number, target in enumerate(plan, start=1):
            attempt = generator.form() if target == "form" else generator.webhook(target)
            before = snapshot()
            response = attempt.send()
            status = response.status_code
            report.counts[(attempt.target, attempt.auth)][status] += 1
            if status >= 500:
                summary = _traceback_summary(getattr(response, "exc_info", None))
                report.server_errors.append((attempt.target, attempt.auth, summary))
            changed = None
            if not attempt.may_write or status >= 400:
                changed = snapshot() != before
            if changed and not attempt.may_write:
                report.unauthenticated_stored.append((attempt.target, attempt.auth, status))
            elif changed:
                report.refused_but_written.append((attempt.target, attempt.auth, status))
            if progress and number % 500 == 0:
                progress(f"{number}/{len(plan)} requests")
        report.invariants = _invariants()
    report.seconds = time.monotonic() - started
    return report
