"""The WSGI application gunicorn serves: webhooks through their own short middleware
chain, pages through the full one (octopods/wsgi.py)."""

import pytest
from django.db import OperationalError

from channels import views as channel_views
from channels.models import Message
from tests.channels.test_webhook_view import meta_signature, wa_text, whatsapp, workspace  # noqa: F401
from tests.wsgi_client import serve

pytestmark = pytest.mark.django_db


def post_signed(channel, body: bytes):
    return serve(
        "POST",
        f"/hooks/whatsapp/{channel.webhook_key}/",
        body=body,
        headers={"X-Hub-Signature-256": meta_signature(body)},
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
