"""The providers' side of a webhook: sent with ``requests``, with an outcome a person can
read. Each provider's package encodes and signs its bodies exactly as the provider does
(PROVIDERS.md §0): sandbox/meta/webhooks.py, sandbox/twilio/webhooks.py,
sandbox/telegram/phone.py.

Computed here rather than borrowed from the product, so the sandbox checks the
product's verifiers instead of agreeing with them by construction.
"""

from dataclasses import dataclass

import requests

TIMEOUT = 5  # seconds; Intercom gives 5 s too, and a laptop answers well within it


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
