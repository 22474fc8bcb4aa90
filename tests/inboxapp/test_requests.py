"""Who may ask the panel for anything: Intercom's signature over the raw body, the
workspace it names, and the sizes we answer with or take."""

import json

import pytest

from workspaces.models import Status

from .conftest import (
    INITIALIZE,
    SUBMIT,
    click,
    components,
    initialize,
    initialize_payload,
    intercom_contact,
    post,
    sign,
    words,
)

pytestmark = pytest.mark.django_db


def test_it_answers_a_signed_initialize_with_the_first_screen(workspace, jane_on_whatsapp):
    """Intercom's Canvas Kit "Request signing": X-Body-Signature is the hex HMAC-SHA256
    of the body with the app's client secret. The answer is an InitializeResponse
    (intercom-client ``InitializeResponse``: ``{"canvas": CanvasObject}``, the canvas's
    ``content.components``)."""
    response = post(INITIALIZE, initialize_payload())

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    canvas = response.json()["canvas"]
    assert canvas["content"]["components"][0] == {
        "type": "text",
        "text": "Send a proactive message",
        "style": "header",
    }
    send_to = next(c for c in canvas["content"]["components"] if c.get("id") == "this_contact")
    assert send_to["label"] == "Send to Jane Doe"
    assert send_to["action"] == {"type": "submit"}
    assert canvas["stored_data"]["recipient"]["intercom_id"] == "6762f11b1bb69f9f2193bba3"


@pytest.mark.parametrize("path", [INITIALIZE, SUBMIT])
def test_it_refuses_an_unsigned_request_with_401(workspace, path):
    response = post(path, initialize_payload(), signature=None)

    assert response.status_code == 401
    assert response.content == b"Missing X-Body-Signature header."
    assert "canvas" not in response.content.decode()


@pytest.mark.parametrize("path", [INITIALIZE, SUBMIT])
def test_it_refuses_a_signature_made_with_another_secret(workspace, path):
    body = json.dumps(initialize_payload()).encode()

    response = post(path, body, signature=sign(body, "someone-elses-secret"))

    assert response.status_code == 403
    assert response.content == b"Bad signature."


def test_it_refuses_a_body_changed_by_one_byte_after_signing(workspace):
    body = json.dumps(initialize_payload()).encode()
    signature = sign(body)
    changed = body.replace(b'"acme-app"', b'"acme-apq"')
    assert len(changed) == len(body)

    response = post(INITIALIZE, changed, signature=signature)

    assert response.status_code == 403


def test_it_refuses_a_signature_that_is_not_even_text(workspace):
    response = post(INITIALIZE, initialize_payload(), signature="é" * 64)

    assert response.status_code == 403


def test_it_refuses_everything_when_no_client_secret_is_configured(workspace, settings):
    settings.INTERCOM_CLIENT_SECRET = ""
    body = json.dumps(initialize_payload()).encode()

    response = post(INITIALIZE, body, signature=sign(body, ""))

    assert response.status_code == 403
    assert b"not configured" in response.content


def test_it_takes_only_post(workspace):
    from django.test import Client

    assert Client().get(INITIALIZE).status_code == 405


def test_it_says_so_when_the_workspace_is_not_connected(workspace):
    canvas = initialize(workspace_id="never-connected")

    assert "not connected to Octopods" in words(canvas)
    assert "Jane" not in words(canvas)
    assert "stored_data" not in canvas["canvas"]


def test_a_longer_id_that_starts_like_a_connected_one_is_not_that_one(workspace):
    workspace.external_id = "acme-app".ljust(64, "x")
    workspace.save()

    canvas = initialize(workspace_id=workspace.external_id + "-and-more")

    assert "not connected to Octopods" in words(canvas)


def test_it_says_so_when_the_workspace_is_disconnected(workspace, jane_on_whatsapp):
    workspace.status = Status.DISCONNECTED
    workspace.save()

    canvas = initialize()

    assert "connection to Octopods is disconnected" in words(canvas)
    assert "this_contact" not in json.dumps(canvas)


def test_a_disconnected_workspace_sends_nothing_on_submit(workspace, jane_on_whatsapp):
    first = initialize()
    workspace.status = Status.NEEDS_RECONNECT
    workspace.save()

    canvas = click(first, "this_contact")

    assert "connection to Octopods is needs reconnect" in words(canvas)


def test_it_refuses_a_body_that_is_not_json_with_its_reason(workspace):
    response = post(INITIALIZE, b'{"workspace_id": ')

    assert response.status_code == 400
    assert response.content.startswith(b"Malformed Canvas Kit request: body is not JSON")


def test_it_refuses_a_body_that_is_not_an_object(workspace):
    response = post(INITIALIZE, b'["workspace_id"]')

    assert response.status_code == 400
    assert response.content == b"Malformed Canvas Kit request: request is not an object."


def test_it_refuses_a_request_without_a_workspace_id(workspace):
    response = post(INITIALIZE, {"admin": {"id": "991"}})

    assert response.status_code == 400
    assert b"workspace_id" in response.content


def test_it_refuses_ten_megabytes_before_reading_them(workspace):
    payload = initialize_payload()
    payload["input_values"] = {"text": "x" * (10 * 1024 * 1024)}

    response = post(SUBMIT, payload)

    assert response.status_code == 413
    assert response.content == b"Body too large."


def test_it_refuses_raw_nul_bytes_in_the_body_as_malformed(workspace):
    body = json.dumps(initialize_payload()).encode().replace(b"Jane Doe", b"Jane\x00Doe")

    response = post(INITIALIZE, body)

    assert response.status_code == 400
    assert b"not JSON" in response.content


def test_a_contact_with_a_huge_name_stays_within_intercoms_64_kb(workspace, jane_on_whatsapp):
    """CanvasObject (intercom-client): content and stored_data are 64 KB at most each."""
    huge = "Ж" * 60_000  # 360 KB as JSON escapes: under our body limit, far over 64 KB

    first = initialize(contact=intercom_contact(name=huge))
    channels = click(first, "this_contact", contact=intercom_contact(name=huge))

    for canvas in (first, channels):
        content = json.dumps(canvas["canvas"]["content"], ensure_ascii=False).encode()
        stored = json.dumps(canvas["canvas"]["stored_data"], ensure_ascii=False).encode()
        assert len(content) < 64 * 1024 and len(stored) < 64 * 1024
    assert "Send to ЖЖЖ" in words(first)
    assert components(channels)[0]["text"].endswith("…")
