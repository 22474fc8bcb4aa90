"""Adding an Instagram channel: identify, register and unregister, at the HTTP level.

Graph calls as Meta's Instagram Platform documents them: "Page" (GET
/<PAGE_ID>?fields=instagram_business_account, https://developers.facebook.com/
documentation/instagram-platform/instagram-graph-api/reference/page) and the Instagram
messaging webhook set-up (POST /{page-id}/subscribed_apps, https://developers.facebook.com/
docs/messenger-platform/instagram/features/webhook).
"""

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings

from integrations.base import ProviderError
from integrations.channel import ChannelIdentity
from integrations.instagram.adapter import InstagramAdapter
from integrations.instagram.credentials import Credentials

PAGE_ID = "134895793791914"
IG_ID = "17841405822304914"
TOKEN = "EAAsandboxInstagramAcmePageToken00001"
APP_SECRET = "5b1f0c1e8d2a4e6f9a0b3c4d5e6f7a8b"
VERIFY = "vt-0123456789abcdef"
HOOK = "https://bridge.example.com/hooks/instagram/chn_3f9a1c2b7d/"
CREDENTIALS = Credentials(
    page_id=PAGE_ID,
    instagram_account_id=IG_ID,
    page_access_token=TOKEN,
    app_secret=APP_SECRET,
    verify_token=VERIFY,
    username="acme.shop",
)
DATA = {
    "page_id": PAGE_ID,
    "page_access_token": TOKEN,
    "app_secret": APP_SECRET,
    "verify_token": VERIFY,
}
PAGE = {
    "id": PAGE_ID,
    "name": "Acme Shop",
    "instagram_business_account": {"id": IG_ID, "username": "acme.shop"},
}

adapter = InstagramAdapter()


def graph(path: str) -> str:
    return f"{settings.META_GRAPH_API_URL}{path}"


SUBSCRIBED_APPS = graph(f"/{PAGE_ID}/subscribed_apps")


def graph_error(code: int, message: str, **extra) -> dict:
    return {
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": "BLBz/WZt8dN",
            **extra,
        }
    }


def failure(call) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        call()
    return caught.value


def identify() -> ChannelIdentity:
    return adapter.identify(data=DATA)


def register() -> None:
    adapter.register_webhook(credentials=CREDENTIALS, webhook_url=HOOK)


# --- identify --------------------------------------------------------------------------


def test_it_identifies_the_instagram_account_linked_to_the_page(mocked):
    """Page reference: instagram_business_account is the IG User linked to the Page;
    IG User reference: its id and username."""
    mocked.get(graph("/me"), json=PAGE)

    found = identify()

    assert found == ChannelIdentity(
        identity=IG_ID,
        name="@acme.shop",
        credentials={**DATA, "instagram_account_id": IG_ID, "username": "acme.shop"},
    )
    assert Credentials.from_dict(found.credentials) == CREDENTIALS
    (call,) = mocked.calls
    parts = urlsplit(call.request.url)
    assert call.request.method == "GET"
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == graph("/me")
    assert parse_qs(parts.query) == {"fields": ["id,name,instagram_business_account{id,username}"]}
    assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in call.request.url


def test_it_names_the_channel_after_the_page_when_instagram_gives_no_username(mocked):
    mocked.get(graph("/me"), json={**PAGE, "instagram_business_account": {"id": IG_ID}})

    found = identify()

    assert (found.identity, found.name) == (IG_ID, "Acme Shop")
    assert "username" not in found.credentials


def test_it_explains_a_page_without_an_instagram_account(mocked):
    mocked.get(graph("/me"), json={"id": PAGE_ID, "name": "Acme Shop"})

    error = failure(identify)

    assert error.field == "page_id"
    assert error.permanent
    assert error.message.startswith(
        "The Page Acme Shop has no Instagram professional account linked to it"
    )


def test_it_blames_the_token_when_it_belongs_to_another_page(mocked):
    mocked.get(graph("/me"), json={**PAGE, "id": "400000000000002", "name": "Globex"})

    error = failure(identify)

    assert error.field == "page_access_token"
    assert error.message.startswith("This token belongs to another Page: Globex.")


def test_it_blames_the_token_meta_does_not_accept(mocked):
    mocked.get(
        graph("/me"),
        status=400,
        json=graph_error(190, "Error validating access token: Session has expired"),
    )

    error = failure(identify)

    assert error.field == "page_access_token"
    assert error.code == "190"
    assert error.unauthorized and error.permanent
    assert error.message.startswith("Meta did not accept this Page access token")


def test_it_treats_a_meta_outage_as_temporary(mocked):
    mocked.get(graph("/me"), status=503, body="Service Unavailable")

    error = failure(identify)

    assert not error.permanent
    assert "try again" in error.message


def test_it_treats_a_timeout_as_temporary(mocked):
    mocked.get(graph("/me"), body=requests.ConnectTimeout())

    assert not failure(identify).permanent


# --- webhook -----------------------------------------------------------------------------


def test_it_subscribes_the_app_to_the_linked_page(mocked):
    """Webhooks for Instagram Messaging, step 2: enable Page subscriptions with POST
    /{page-id}/subscribed_apps (any Page field)."""
    mocked.post(SUBSCRIBED_APPS, json={"success": True})

    register()

    (call,) = mocked.calls
    assert call.request.method == "POST"
    assert call.request.url == SUBSCRIBED_APPS
    assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert parse_qs(call.request.body) == {
        "subscribed_fields": ["messages,messaging_postbacks,message_reactions"]
    }


def test_it_names_the_permission_the_page_token_lacks(mocked):
    mocked.post(
        SUBSCRIBED_APPS,
        status=403,
        json=graph_error(200, "(#200) Requires instagram_manage_messages permission"),
    )

    error = failure(register)

    assert error.field == "page_access_token"
    assert error.message.startswith(
        "This Page access token lacks a permission Meta requires (instagram_manage_messages)."
    )


def test_it_blames_the_page_id_meta_cannot_find(mocked):
    mocked.post(
        SUBSCRIBED_APPS,
        status=400,
        json=graph_error(
            100, f"Unsupported post request. Object with ID '{PAGE_ID}' does not exist"
        ),
    )

    assert failure(register).field == "page_id"


def test_it_refuses_a_subscription_meta_does_not_confirm(mocked):
    mocked.post(SUBSCRIBED_APPS, json={"success": False})

    error = failure(register)

    assert error.message.startswith("Meta did not confirm")
    assert not error.permanent


def test_it_retries_a_rate_limited_subscription_after_metas_delay(mocked):
    mocked.post(
        SUBSCRIBED_APPS,
        status=429,
        headers={"Retry-After": "120"},
        json=graph_error(4, "(#4) Application request limit reached"),
    )

    error = failure(register)

    assert not error.permanent
    assert error.retry_after == 120


def test_it_unsubscribes_the_app_from_the_page_when_the_channel_goes(mocked):
    mocked.delete(SUBSCRIBED_APPS, json={"success": True})

    adapter.unregister_webhook(credentials=CREDENTIALS)

    (call,) = mocked.calls
    assert call.request.method == "DELETE"
    assert call.request.url == SUBSCRIBED_APPS
    assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_it_says_what_may_still_reach_octopods_when_unsubscribing_fails(mocked):
    mocked.delete(SUBSCRIBED_APPS, status=400, json=graph_error(190, "Session has expired"))

    assert failure(lambda: adapter.unregister_webhook(credentials=CREDENTIALS)).unauthorized
    assert "Meta may still send" in adapter.unregister_advice


def test_it_never_logs_the_page_token(mocked, caplog):
    mocked.get(graph("/me"), status=400, json=graph_error(190, "Invalid OAuth access token"))
    caplog.set_level(logging.DEBUG)

    error = failure(identify)
    logging.getLogger("tests").error("adding the channel failed", exc_info=error)

    assert "Meta did not accept this Page access token" in caplog.text
    assert TOKEN not in caplog.text
