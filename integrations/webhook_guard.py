"""What every webhook endpoint checks before it believes a request: the size it
declares, and a signature compared in constant time."""

import hmac

from django.http import HttpResponse


def body_refusal(request, *, max_bytes: int) -> HttpResponse | None:
    """A 413 for a body declared larger than ``max_bytes``, a 400 for a Content-Length
    that is not a number; None when the request may be read."""
    declared = request.headers.get("Content-Length") or "0"
    if not declared.isascii() or not declared.strip().isdigit():
        return HttpResponse("Unreadable Content-Length.", status=400, content_type="text/plain")
    if int(declared) > max_bytes:
        return HttpResponse("Body too large.", status=413, content_type="text/plain")
    return None


def digests_equal(expected: str | bytes, given: str) -> bool:
    """``hmac.compare_digest`` for an untrusted header: compared as bytes, because
    compare_digest raises TypeError on a str with non-ASCII characters, and anything
    that is not even valid text simply does not match."""
    if isinstance(expected, str):
        expected = expected.encode()
    try:
        given_bytes = given.encode()
    except UnicodeEncodeError:  # an unpaired surrogate: no signature of ours
        return False
    return hmac.compare_digest(expected, given_bytes)
