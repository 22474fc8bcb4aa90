import logging
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings

from integrations.base import ProviderError
from integrations.channel import ChannelIdentity
from integrations.messenger.credentials import Credentials
from integrations.registry import channel_adapter

PAGE_ID = "400000000000001"
TOKEN = "EAAsandboxMessengerAcmePageToken00001"
APP_SECRET = "5b1f0c1e8d2a4e6f9a0b3c4d5e6f7a8b"
VERIFY = "vt-0123456789abcdef"
HOOK = "https://bridge.example.com/hooks/messenger/chn_3f9a1c2b7d/"
CREDENTIALS = Credentials(
    page_id=PAGE_ID, page_access_token=TOKEN, app_secret=APP_SECRET, verify_token=VERIFY
)
DATA = {
    "page_id": PAGE_ID,
    "page_access_token": TOKEN,
    "app_secret": APP_SECRET,
    "verify_token": VERIFY,
}

adapter = channel_adapter("messenger")


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


def test_it_identifies_the_page_its_token_speaks_for(mocked):
    mocked.get(graph("/me"), json={"id": PAGE_ID, "name": "Acme Support"})

    found = identify()

    assert found == ChannelIdentity(identity=PAGE_ID, name="Acme Support", credentials=DATA)
    assert Credentials.from_dict(found.credentials) == CREDENTIALS
    (call,) = mocked.calls
    parts = urlsplit(call.request.url)
    assert call.request.method == "GET"
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == graph("/me")
    assert parse_qs(parts.query) == {"fields": ["id,name"]}
    assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in call.request.url


def test_it_blames_the_token_when_it_belongs_to_another_page(mocked):
    mocked.get(graph("/me"), json={"id": "400000000000002", "name": "Globex Help"})

    error = failure(identify)

    assert error.field == "page_access_token"
    assert error.message.startswith("This token belongs to another Page: Globex Help.")
    assert error.permanent


def test_it_blames_the_token_meta_does_not_accept(mocked):
    mocked.get(
        graph("/me"),
        status=400,
        json=graph_error(190, "Invalid OAuth access token - Cannot parse access token"),
    )

    error = failure(identify)

    assert error.field == "page_access_token"
    assert error.code == "190"
    assert error.unauthorized and error.permanent
    assert error.message.startswith("Meta did not accept this Page access token")


# --- webhook -----------------------------------------------------------------------------


def test_it_subscribes_the_app_to_the_page_s_messaging_fields(mocked):
    mocked.post(SUBSCRIBED_APPS, json={"success": True})

    register()

    (call,) = mocked.calls
    assert call.request.method == "POST"
    assert call.request.url == SUBSCRIBED_APPS
    assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(call.request.body) == {
        "subscribed_fields": [
            "messages,messaging_postbacks,message_deliveries,message_reads,"
            "message_reactions,message_echoes"
        ]
    }


@pytest.mark.parametrize(
    ("code", "message", "named"),
    [
        (
            200,
            "(#200) Requires pages_messaging permission to manage the object",
            "(pages_messaging)",
        ),
        (
            200,
            "(#200) To subscribe to the messages field, one of these permissions is needed: "
            "pages_messaging. The app also needs pages_manage_metadata",
            "(pages_messaging and pages_manage_metadata)",
        ),
        (
            10,
            "(#10) Application does not have permission for this action",
            "(pages_messaging and pages_manage_metadata)",
        ),
    ],
)
def test_it_names_the_permission_the_page_token_lacks(mocked, code, message, named):
    mocked.post(SUBSCRIBED_APPS, status=403, json=graph_error(code, message))

    error = failure(register)

    assert error.field == "page_access_token"
    assert error.message.startswith(
        f"This Page access token lacks a permission Meta requires {named}."
    )
    assert error.permanent


def test_it_blames_the_page_id_meta_cannot_find(mocked):
    mocked.post(
        SUBSCRIBED_APPS,
        status=400,
        json=graph_error(
            100, f"Unsupported post request. Object with ID '{PAGE_ID}' does not exist"
        ),
    )

    error = failure(register)

    assert error.field == "page_id"
    assert error.message.startswith("Meta found no Page with this ID")


def test_it_refuses_a_subscription_meta_does_not_confirm(mocked):
    mocked.post(SUBSCRIBED_APPS, json={"success": False})

    error = failure(register)

    assert error.message.startswith("Meta did not confirm that it could send this Page's")
    assert not error.permanent


def test_it_unsubscribes_the_app_from_the_page_when_the_channel_goes(mocked):
    mocked.delete(SUBSCRIBED_APPS, json={"success": True})

    adapter.unregister_webhook(credentials=CREDENTIALS)

    (call,) = mocked.calls
    assert call.request.method == "DELETE"
    assert call.request.url == SUBSCRIBED_APPS
    assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_it_leaves_the_callback_url_to_the_admin():
    assert adapter.manual_setup is True


# --- transient failures ------------------------------------------------------------------


def test_it_treats_a_meta_outage_as_temporary(mocked):
    mocked.get(graph("/me"), status=503, body="Service Unavailable")

    error = failure(identify)

    assert not error.permanent
    assert error.status == 503
    assert "try again" in error.message


def test_it_treats_a_temporary_graph_error_as_temporary(mocked):
    mocked.post(
        SUBSCRIBED_APPS,
        status=400,
        json=graph_error(2, "An unexpected error has occurred. Please retry your request later."),
    )

    assert not failure(register).permanent


def test_it_treats_a_timeout_as_temporary(mocked):
    mocked.get(graph("/me"), body=requests.ConnectTimeout())

    error = failure(identify)

    assert error.message == "Meta did not answer in time"
    assert not error.permanent


def test_it_never_logs_the_page_token(mocked, caplog):
    mocked.get(graph("/me"), status=400, json=graph_error(190, "Invalid OAuth access token"))
    caplog.set_level(logging.DEBUG)

    error = failure(identify)
    logging.getLogger("tests").error("adding the channel failed", exc_info=error)

    assert "provider call: GET" in caplog.text
    assert "Meta did not accept this Page access token" in caplog.text
    assert TOKEN not in caplog.text


# --- generated secrets -------------------------------------------------------------------


def test_it_generates_a_fresh_verify_token():
    first, second = adapter.generated_secrets(), adapter.generated_secrets()

    assert set(first) == {"verify_token"}
    assert len(first["verify_token"]) >= 40
    assert first != second
