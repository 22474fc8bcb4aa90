"""The providers' side of a webhook: bodies encoded and signed exactly as each provider
does (PROVIDERS.md §0), sent with ``requests``, and an outcome a person can read.

Computed here rather than borrowed from the product, so the sandbox checks the
product's verifiers instead of agreeing with them by construction.
"""

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

import requests

from .directory import META_APP

TIMEOUT = 5  # seconds; Intercom gives 5 s too, and a laptop answers well within it
USER_AGENTS = {
    "meta": "facebookexternalua",
    "twilio": "TwilioProxy/1.1",
}


@dataclass(frozen=True)
class Outcome:
    ok: bool
    text: str
    status: int | None = None


def _outcome(response: requests.Response) -> Outcome:
    if 200 <= response.status_code < 300:
        return Outcome(
            True, f"Delivered to your webhook ({response.status_code}).", response.status_code
        )
    answer = " ".join(response.text.split())[:300] or "(empty body)"
    return Outcome(
        False, f"Your webhook answered {response.status_code}: {answer}", response.status_code
    )


def send(method: str, url: str, *, body: bytes = b"", headers: dict | None = None) -> Outcome:
    """Make the provider's request; never raises for a webhook that fails or is down."""
    try:
        response = requests.request(
            method, url, data=body or None, headers=headers or {}, timeout=TIMEOUT
        )
    except requests.RequestException as error:
        return Outcome(False, f"Could not reach your webhook at {url}: {error}")
    return _outcome(response)


# --- Meta (WhatsApp, Messenger) ---------------------------------------------------------


def meta_body(payload: dict) -> bytes:
    """Meta's encoding: compact JSON, non-ASCII as \\uXXXX and "/" escaped as "\\/", so a
    verifier that re-serializes the JSON instead of hashing the raw body fails here as
    it would against Meta."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=True)
    return text.replace("/", "\\/").encode("ascii")


def meta_signature(body: bytes, app_secret: str = META_APP.app_secret) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def post_meta(url: str, payload: dict) -> Outcome:
    body = meta_body(payload)
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": meta_signature(body),
        # Meta still sends the SHA-1 signature beside the SHA-256 one.
        "X-Hub-Signature": "sha1="
        + hmac.new(META_APP.app_secret.encode(), body, hashlib.sha1).hexdigest(),
        "User-Agent": USER_AGENTS["meta"],
    }
    return send("POST", url, body=body, headers=headers)


def meta_handshake(url: str, verify_token: str) -> str | None:
    """Meta's subscribe check: GET the callback with hub.* parameters and expect 200 with
    the bare challenge. None when it passed, else Meta's reason, as its dashboard and
    Graph error 2200 word it."""
    challenge = str(secrets.randbelow(9 * 10**9) + 10**9)
    params = {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": verify_token}
    separator = "&" if "?" in url else "?"
    try:
        response = requests.get(
            url + separator + urlencode(params),
            headers={"User-Agent": USER_AGENTS["meta"]},
            timeout=TIMEOUT,
        )
    except requests.RequestException as error:
        return f"Callback verification failed with the following errors: {error}"
    if response.status_code != 200:
        return (
            "Callback verification failed with the following errors: HTTP Status Code = "
            f"{response.status_code}; HTTP Message = {response.reason or 'Error'}"
        )
    received = response.text
    if received != challenge:
        return (
            f"The URL couldn't be validated. Response does not match challenge, expected "
            f'value="{challenge}", received="{received[:60]}"'
        )
    return None


# --- Twilio ---------------------------------------------------------------------------


def twilio_signature(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    """X-Twilio-Signature: base64 HMAC-SHA1 over the URL followed by each name+value,
    names sorted and each name's values sorted (PROVIDERS.md §4.2)."""
    by_name: dict[str, list[str]] = {}
    for name, value in params:
        by_name.setdefault(name, []).append(value)
    data = url + "".join(
        name + value for name in sorted(by_name) for value in sorted(by_name[name])
    )
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def post_twilio(url: str, params: list[tuple[str, str]], *, auth_token: str, method: str = "POST"):
    headers = {
        "User-Agent": USER_AGENTS["twilio"],
        "I-Twilio-Idempotency-Token": secrets.token_hex(16),
    }
    if method == "GET":
        # A GET webhook carries its parameters in the URL, which is signed as it stands.
        separator = "&" if "?" in url else "?"
        full = url + separator + urlencode(params)
        headers["X-Twilio-Signature"] = twilio_signature(auth_token, full, [])
        return send("GET", full, headers=headers)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    headers["X-Twilio-Signature"] = twilio_signature(auth_token, url, params)
    return send("POST", url, body=urlencode(params).encode(), headers=headers)


# --- Telegram -------------------------------------------------------------------------


def post_telegram(url: str, update: dict, *, secret_token: str) -> Outcome:
    headers = {"Content-Type": "application/json"}
    if secret_token:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
    body = json.dumps(update, separators=(",", ":"), ensure_ascii=False).encode()
    return send("POST", url, body=body, headers=headers)
