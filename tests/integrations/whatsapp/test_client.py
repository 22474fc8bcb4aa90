import json
import logging
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings

from integrations.base import ProviderError
from integrations.channel import ChannelIdentity
from integrations.registry import channel_adapter
from integrations.whatsapp.credentials import Credentials

PHONE_NUMBER_ID = "100000000000001"
WABA_ID = "200000000000001"
TOKEN = "EAAsandboxWhatsAppAcmeAccessToken0001"
APP_SECRET = "5b1f0c1e8d2a4e6f9a0b3c4d5e6f7a8b"
VERIFY = "vt-0123456789abcdef"
HOOK = "https://bridge.example.com/hooks/whatsapp/chn_3f9a1c2b7d/"
CREDENTIALS = Credentials(
    phone_number_id=PHONE_NUMBER_ID,
    waba_id=WABA_ID,
    access_token=TOKEN,
    app_secret=APP_SECRET,
    verify_token=VERIFY,
)
DATA = {
    "phone_number_id": PHONE_NUMBER_ID,
    "waba_id": WABA_ID,
    "access_token": TOKEN,
    "app_secret": APP_SECRET,
    "verify_token": VERIFY,
}
NUMBER = {
    "display_phone_number": "+1 555-000-1111",
    "verified_name": "Acme Support",
    "id": PHONE_NUMBER_ID,
}

adapter = channel_adapter("whatsapp")


def graph(path: str) -> str:
    return f"{settings.META_GRAPH_API_URL}{path}"


def graph_error(code: int, message: str, **extra) -> dict:
    return {
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": "A4O5a8RAge",
            **extra,
        }
    }


def mock_identity(mocked, *, waba_numbers=(PHONE_NUMBER_ID,)) -> None:
    mocked.get(graph(f"/{PHONE_NUMBER_ID}"), json=NUMBER)
    mocked.get(
        graph(f"/{WABA_ID}/phone_numbers"),
        json={"data": [{"id": number} for number in waba_numbers]},
    )


def assert_get(call, path: str, query: dict) -> None:
    parts = urlsplit(call.request.url)
    assert call.request.method == "GET"
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == graph(path)
    assert parse_qs(parts.query) == query
    assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"


def failure(call) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        call()
    return caught.value


def identify() -> ChannelIdentity:
    return adapter.identify(data=DATA)


def register() -> None:
    adapter.register_webhook(credentials=CREDENTIALS, webhook_url=HOOK)


# --- identify --------------------------------------------------------------------------


def test_it_identifies_the_number_and_checks_it_belongs_to_the_waba(mocked):
    mock_identity(mocked, waba_numbers=("100000000000009", PHONE_NUMBER_ID))

    found = identify()

    assert found == ChannelIdentity(identity=PHONE_NUMBER_ID, name="Acme Support", credentials=DATA)
    assert Credentials.from_dict(found.credentials) == CREDENTIALS
    number, waba = mocked.calls
    assert_get(number, f"/{PHONE_NUMBER_ID}", {"fields": ["display_phone_number,verified_name"]})
    assert_get(waba, f"/{WABA_ID}/phone_numbers", {"fields": ["id"]})
    # The token travels in the header only, never in a URL.
    assert TOKEN not in number.request.url + waba.request.url


def test_it_names_the_channel_after_the_display_number_without_a_verified_name(mocked):
    mocked.get(graph(f"/{PHONE_NUMBER_ID}"), json={"display_phone_number": "+1 555-000-1111"})
    mocked.get(graph(f"/{WABA_ID}/phone_numbers"), json={"data": [{"id": PHONE_NUMBER_ID}]})

    assert identify().name == "+1 555-000-1111"


def test_it_reads_every_page_of_the_waba_s_numbers(mocked):
    mocked.get(graph(f"/{PHONE_NUMBER_ID}"), json=NUMBER)
    mocked.get(
        graph(f"/{WABA_ID}/phone_numbers"),
        json={
            "data": [{"id": "100000000000009"}],
            "paging": {
                "cursors": {"before": "QVFIUm", "after": "QVFIUn"},
                "next": graph(f"/{WABA_ID}/phone_numbers?after=QVFIUn"),
            },
        },
    )
    mocked.get(
        graph(f"/{WABA_ID}/phone_numbers"),
        json={"data": [{"id": PHONE_NUMBER_ID}], "paging": {"cursors": {"after": "QVFIUo"}}},
    )

    assert identify().identity == PHONE_NUMBER_ID

    _, first, second = mocked.calls
    assert_get(first, f"/{WABA_ID}/phone_numbers", {"fields": ["id"]})
    assert_get(second, f"/{WABA_ID}/phone_numbers", {"fields": ["id"], "after": ["QVFIUn"]})


def test_it_blames_the_waba_id_when_the_number_is_not_one_of_its_numbers(mocked):
    mock_identity(mocked, waba_numbers=("100000000000009",))

    error = failure(identify)

    assert error.field == "waba_id"
    assert error.message.startswith(
        "This phone number does not belong to this WhatsApp Business Account."
    )


def test_it_blames_the_access_token_when_meta_says_it_expired(mocked):
    mocked.get(
        graph(f"/{PHONE_NUMBER_ID}"),
        status=401,
        json=graph_error(
            190,
            "Error validating access token: Session has expired on Tuesday, 01-Sep-26.",
            error_subcode=463,
        ),
    )

    error = failure(identify)

    assert error.field == "access_token"
    assert error.code == "190"
    assert error.unauthorized and error.permanent
    assert error.message.startswith("Meta did not accept this access token")
    assert "System User" in error.message


def test_it_blames_the_phone_number_id_meta_cannot_find(mocked):
    mocked.get(
        graph(f"/{PHONE_NUMBER_ID}"),
        status=400,
        json=graph_error(
            100,
            f"Unsupported get request. Object with ID '{PHONE_NUMBER_ID}' does not exist, "
            "cannot be loaded due to missing permissions, or does not support this operation.",
            error_subcode=33,
        ),
    )

    error = failure(identify)

    assert error.field == "phone_number_id"
    assert error.permanent and not error.unauthorized
    assert error.message.startswith("Meta found no phone number with this ID")


def test_it_blames_the_waba_id_meta_cannot_find(mocked):
    mocked.get(graph(f"/{PHONE_NUMBER_ID}"), json=NUMBER)
    mocked.get(
        graph(f"/{WABA_ID}/phone_numbers"),
        status=400,
        json=graph_error(100, f"Object with ID '{WABA_ID}' does not exist."),
    )

    error = failure(identify)

    assert error.field == "waba_id"
    assert error.message.startswith("Meta found no WhatsApp Business Account with this ID")


@pytest.mark.parametrize(
    ("code", "message", "named"),
    [
        (
            200,
            "(#200) Requires whatsapp_business_management permission to manage the object",
            "(whatsapp_business_management)",
        ),
        (
            10,
            "(#10) Application does not have permission for this action",
            "(whatsapp_business_messaging and whatsapp_business_management)",
        ),
        (
            3,
            "(#3) Application does not have the capability to make this API call.",
            "(whatsapp_business_messaging and whatsapp_business_management)",
        ),
    ],
)
def test_it_blames_the_access_token_for_a_missing_permission(mocked, code, message, named):
    mocked.get(graph(f"/{PHONE_NUMBER_ID}"), status=403, json=graph_error(code, message))

    error = failure(identify)

    assert error.field == "access_token"
    assert error.message.startswith(f"This access token lacks a permission Meta requires {named}")
    assert error.permanent


def test_it_reports_another_graph_error_as_meta_words_it(mocked):
    mocked.get(
        graph(f"/{PHONE_NUMBER_ID}"),
        status=400,
        json=graph_error(100, "(#100) Tried accessing nonexisting field (verified_name)"),
    )

    error = failure(identify)

    assert error.message == (
        "Meta refused the request: (#100) Tried accessing nonexisting field (verified_name)"
    )
    assert error.field == ""
    assert error.permanent


# --- webhook -----------------------------------------------------------------------------


def test_it_subscribes_the_app_to_the_waba_and_overrides_the_number_s_callback(mocked):
    mocked.post(graph(f"/{WABA_ID}/subscribed_apps"), json={"success": True})
    mocked.post(graph(f"/{PHONE_NUMBER_ID}"), json={"success": True})

    register()

    subscribe, override = mocked.calls
    assert subscribe.request.method == "POST"
    assert subscribe.request.url == graph(f"/{WABA_ID}/subscribed_apps")
    assert subscribe.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert not subscribe.request.body
    assert override.request.method == "POST"
    assert override.request.url == graph(f"/{PHONE_NUMBER_ID}")
    assert override.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert override.request.headers["Content-Type"] == "application/json"
    assert json.loads(override.request.body) == {
        "webhook_configuration": {"override_callback_uri": HOOK, "verify_token": VERIFY}
    }


def test_it_says_our_address_must_answer_meta_s_check(mocked):
    mocked.post(graph(f"/{WABA_ID}/subscribed_apps"), json={"success": True})
    mocked.post(
        graph(f"/{PHONE_NUMBER_ID}"),
        status=400,
        json=graph_error(2200, "Callback verification failed with the following errors: 403"),
    )

    error = failure(register)

    assert error.message.startswith("Meta could not verify our webhook address")
    assert "PUBLIC_BASE_URL" in error.message
    assert "Callback verification failed with the following errors: 403" in error.message
    assert error.permanent
    assert error.field == ""


def test_it_does_not_override_the_callback_when_subscribing_the_app_failed(mocked):
    mocked.post(
        graph(f"/{WABA_ID}/subscribed_apps"),
        status=403,
        json=graph_error(200, "(#200) Permissions error"),
    )

    error = failure(register)

    assert error.field == "access_token"
    assert len(mocked.calls) == 1


def test_it_refuses_a_write_meta_does_not_confirm(mocked):
    mocked.post(graph(f"/{WABA_ID}/subscribed_apps"), json={"success": False})

    error = failure(register)

    assert error.message == (
        "Meta did not confirm that it could subscribe this app to the WhatsApp Business "
        "Account; try again."
    )
    assert not error.permanent


def test_on_removal_it_deletes_only_the_numbers_own_override(mocked):
    """Meta's "Webhook overrides" page: GET /<PHONE_NUMBER_ID>?fields=
    webhook_configuration, then "Delete phone number alternate callback" (a POST with
    an empty override_callback_uri). The WABA's subscription is not touched: its other
    numbers may be channels of their own."""
    ours = f"{settings.PUBLIC_BASE_URL}/hooks/whatsapp/chn_3f9a1c2b7d/"
    mocked.get(
        graph(f"/{PHONE_NUMBER_ID}"),
        json={"webhook_configuration": {"phone_number": ours}, "id": PHONE_NUMBER_ID},
    )
    mocked.post(graph(f"/{PHONE_NUMBER_ID}"), json={"success": True})

    adapter.unregister_webhook(credentials=CREDENTIALS)

    read, cleared = mocked.calls
    assert parse_qs(urlsplit(read.request.url).query) == {"fields": ["webhook_configuration"]}
    assert json.loads(cleared.request.body) == {
        "webhook_configuration": {"override_callback_uri": ""}
    }
    assert all(call.request.headers["Authorization"] == f"Bearer {TOKEN}" for call in mocked.calls)


def test_on_removal_a_refused_override_deletion_is_an_error(mocked):
    ours = f"{settings.PUBLIC_BASE_URL}/hooks/whatsapp/chn_3f9a1c2b7d/"
    mocked.get(graph(f"/{PHONE_NUMBER_ID}"), json={"webhook_configuration": {"phone_number": ours}})
    mocked.post(graph(f"/{PHONE_NUMBER_ID}"), json={"success": False})

    with pytest.raises(ProviderError) as caught:
        adapter.unregister_webhook(credentials=CREDENTIALS)

    assert "stop sending this number's messages to Octopods" in caught.value.message


# --- transient failures ------------------------------------------------------------------


def test_it_treats_a_meta_outage_as_temporary(mocked):
    mocked.get(graph(f"/{PHONE_NUMBER_ID}"), status=500, json=graph_error(1, "An unknown error"))

    error = failure(identify)

    assert not error.permanent
    assert error.message == "Meta could not be reached (HTTP 500); try again in a few minutes."


@pytest.mark.parametrize("code", [4, 80007, 130429])
def test_it_treats_rate_limits_as_temporary(mocked, code):
    mocked.get(graph(f"/{PHONE_NUMBER_ID}"), status=400, json=graph_error(code, "(#4) limit"))

    error = failure(identify)

    assert not error.permanent
    assert error.code == str(code)


def test_it_treats_a_timeout_as_temporary(mocked):
    mocked.get(graph(f"/{PHONE_NUMBER_ID}"), body=requests.ReadTimeout())

    error = failure(identify)

    assert error.message == "Meta did not answer in time"
    assert not error.permanent


def test_it_never_logs_the_access_token(mocked, caplog):
    mocked.get(graph(f"/{PHONE_NUMBER_ID}"), status=401, json=graph_error(190, "Invalid token"))
    caplog.set_level(logging.DEBUG)

    error = failure(identify)
    logging.getLogger("tests").error("adding the channel failed", exc_info=error)

    assert "provider call: GET" in caplog.text
    assert "Meta did not accept this access token" in caplog.text
    assert TOKEN not in caplog.text


# --- generated secrets -------------------------------------------------------------------


def test_it_generates_a_fresh_verify_token():
    first, second = adapter.generated_secrets(), adapter.generated_secrets()

    assert set(first) == {"verify_token"}
    assert len(first["verify_token"]) >= 40
    assert first != second
    assert adapter.manual_setup is False
