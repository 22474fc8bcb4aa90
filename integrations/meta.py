"""What WhatsApp Cloud API and Messenger share: Meta's webhook signature and its GET
subscribe handshake (PROVIDERS.md §3.2-3.3, §6.1)."""

import hashlib
import hmac

from .channel import WebhookRejected, WebhookRequest

SIGNATURE_HEADER = "X-Hub-Signature-256"


def verify_signature(*, app_secret: str, request: WebhookRequest) -> None:
    """Raise ``WebhookRejected`` unless ``X-Hub-Signature-256`` is
    ``sha256=<hex HMAC-SHA256(app_secret, raw body)>``.

    Meta signs the bytes it sent (non-ASCII escaped as ``\\uXXXX``), so only the raw
    body matches; JSON decoded and dumped again does not. Meta signs no timestamp, so
    deduplication by message id is the only replay defence (RELIABILITY.md §1.1).
    """
    if not app_secret:
        raise WebhookRejected("no app secret configured")
    header = request.header(SIGNATURE_HEADER).strip()
    if not header:
        raise WebhookRejected(f"missing {SIGNATURE_HEADER}")
    scheme, _, given = header.partition("=")
    if scheme != "sha256" or not given:
        raise WebhookRejected(f"malformed {SIGNATURE_HEADER}")
    expected = hmac.new(app_secret.encode(), request.body, hashlib.sha256).hexdigest()
    # Bytes, not str: compare_digest refuses non-ASCII str, and the header is untrusted.
    if not hmac.compare_digest(expected.encode(), given.lower().encode()):
        raise WebhookRejected("signature mismatch")


def handshake(*, verify_token: str, request: WebhookRequest) -> str:
    """The GET Meta sends when the webhook is subscribed: return ``hub.challenge`` (to be
    answered as a bare text/plain 200, never as HTML, since it is echoed input) when the
    mode is ``subscribe`` and the verify token is ours."""
    mode = _query(request, "hub.mode")
    token = _query(request, "hub.verify_token")
    challenge = _query(request, "hub.challenge")
    if mode != "subscribe":
        raise WebhookRejected("hub.mode is not subscribe")
    if not verify_token or not hmac.compare_digest(token.encode(), verify_token.encode()):
        raise WebhookRejected("verify token mismatch")
    if not challenge:
        raise WebhookRejected("missing hub.challenge")
    return challenge


def _query(request: WebhookRequest, name: str) -> str:
    values = request.query.get(name) or [""]
    return values[0]
