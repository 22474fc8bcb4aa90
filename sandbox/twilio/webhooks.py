"""Twilio's side of a webhook: its form body signed with the account's auth token
(X-Twilio-Signature)."""

import base64
import hashlib
import hmac
import secrets
from urllib.parse import urlencode

from ..delivery import send

USER_AGENT = "TwilioProxy/1.1"


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
        "User-Agent": USER_AGENT,
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
