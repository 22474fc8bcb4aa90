"""Meta's side of a webhook (WhatsApp, Messenger, Instagram): its body encoding, its signature with
the app secret, and its subscribe handshake."""

import hashlib
import hmac
import json
import secrets
from urllib.parse import urlencode

import requests

from ..delivery import TIMEOUT, Outcome, send
from .directory import META_APP

USER_AGENT = "facebookexternalua"


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
        "User-Agent": USER_AGENT,
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
            headers={"User-Agent": USER_AGENT},
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
