"""The WSGI application gunicorn serves: webhooks through their own short middleware
chain, pages through the full one (octopods/wsgi.py)."""

import io
import sys

import pytest
from django.core.signals import request_finished, request_started
from django.db import OperationalError, close_old_connections

from channels import views as channel_views
from channels.models import Message
from octopods import wsgi
from tests.channels.test_webhook_view import meta_signature, wa_text, whatsapp, workspace  # noqa: F401

pytestmark = pytest.mark.django_db


def serve(method: str, path: str, body: bytes = b"", headers: dict | None = None):
    """One request through octopods.wsgi.application, as gunicorn makes it."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
    }
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    answered = {}

    def start_response(status, response_headers, exc_info=None):
        answered["status"] = int(status.split()[0])
        answered["headers"] = dict(response_headers)

    # As Django's test client does: the test's transaction holds the connection, so
    # the per-request connection clean-up must not close it.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        chunks = wsgi.application(environ, start_response)
        try:
            content = b"".join(chunks)
        finally:
            chunks.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return answered["status"], answered["headers"], content


def post_signed(channel, body: bytes):
    return serve(
        "POST",
        f"/hooks/whatsapp/{channel.webhook_key}/",
        body,
        {"X-Hub-Signature-256": meta_signature(body)},
    )


def test_a_webhook_is_stored_through_the_short_chain(whatsapp):  # noqa: F811
    status, headers, _ = post_signed(whatsapp, wa_text("wamid.W1"))
    assert status == 200
    assert Message.objects.get().provider_message_id == "wamid.W1"
    # No page middleware ran: a page's policy and framing headers are absent...
    assert "Content-Security-Policy" not in headers
    assert "X-Frame-Options" not in headers
    # ...while the security middleware did.
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_pages_keep_the_full_chain():
    status, headers, _ = serve("GET", "/auth/login/")
    assert status == 200
    assert "Content-Security-Policy" in headers
    assert headers["X-Frame-Options"] == "DENY"


def test_a_webhook_that_cannot_reach_the_database_answers_503(whatsapp, monkeypatch):  # noqa: F811
    def unreachable(kind, key):
        raise OperationalError("connection refused")

    monkeypatch.setattr(channel_views, "webhook_channel", unreachable)
    status, headers, content = post_signed(whatsapp, wa_text("wamid.W2"))
    assert status == 503
    assert headers["Retry-After"]
    assert b"nothing was stored" in content
    assert not Message.objects.exists()
