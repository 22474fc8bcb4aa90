"""A WhatsApp channel's templates synced from Meta: the sync (on add, on schedule, on
Sync now), Meta's status webhook, and the channel page, with Graph mocked at the HTTP
level (payload shapes: tests/integrations/whatsapp/fixtures/templates/)."""

import hashlib
import hmac
import json
from datetime import timedelta
from pathlib import Path

import pytest
import responses
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from channels import tasks
from channels.models import Channel, WhatsAppTemplate
from channels.selectors import whatsapp_templates_sendable
from channels.template_services import (
    whatsapp_template_message,
    whatsapp_template_used,
    whatsapp_templates_sync,
)
from integrations.base import ProviderError
from integrations.whatsapp import templates
from workspaces.models import Provider, Workspace

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parents[1] / "integrations" / "whatsapp" / "fixtures" / "templates"
WABA = "102290129340398"
APP_SECRET = "0f4c2b7e9a1d3c5e7f9a0b2c4d6e8f1a"
TOKEN = "EAAG-templates-secret-token"
LISTING = f"{settings.META_GRAPH_API_URL}/{WABA}/message_templates"


def page(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def workspace(cast):
    return Workspace.objects.create(
        account=cast.account, provider=Provider.INTERCOM, external_id="acme", name="Acme Help"
    )


def whatsapp_channel(workspace, identity="106540352242922") -> Channel:
    channel = Channel(workspace=workspace, kind="whatsapp", name="Acme WA", identity=identity)
    channel.credentials_data = {
        "phone_number_id": identity,
        "waba_id": WABA,
        "access_token": TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": "vt",
    }
    channel.save()
    return channel


@pytest.fixture
def channel(workspace):
    return whatsapp_channel(workspace)


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def both_pages(mocked):
    mocked.get(LISTING, json=page("page1.json"))
    mocked.get(LISTING, json=page("page2.json"))


def stored(channel) -> list[tuple]:
    return list(
        WhatsAppTemplate.objects.filter(channel=channel)
        .order_by("name", "language")
        .values_list("name", "language", "status", "category", "parameter_format")
    )


# --- the sync --------------------------------------------------------------------------


def test_a_sync_stores_every_template_meta_lists(channel, mocked):
    both_pages(mocked)

    result = whatsapp_templates_sync(channel=channel)

    assert (result.synced, result.removed, result.complete) == (4, 0, True)
    assert stored(channel) == [
        ("account_alert", "en_US", "REJECTED", "UTILITY", "POSITIONAL"),
        ("order_shipped", "en_US", "APPROVED", "UTILITY", "POSITIONAL"),
        ("spring_sale", "en", "APPROVED", "MARKETING", "NAMED"),
        ("winback_offer", "pt_BR", "PAUSED", "MARKETING", "POSITIONAL"),
    ]
    shipped = WhatsAppTemplate.objects.get(name="order_shipped")
    assert shipped.meta_id == "1387562738432187"
    assert shipped.components[0] == {
        "type": "HEADER",
        "format": "IMAGE",
        "example": {"header_handle": ["https://scontent.whatsapp.net/v/t61.29466-34/order.jpg"]},
    }
    assert WhatsAppTemplate.objects.get(name="account_alert").status_reason == "INVALID_FORMAT"
    channel.refresh_from_db()
    assert channel.templates_synced_at is not None and channel.templates_sync_error == ""
    assert result.summary() == "4 WhatsApp templates synced from Meta."


def test_a_sync_updates_changed_templates_and_removes_those_meta_no_longer_has(channel, mocked):
    both_pages(mocked)
    whatsapp_templates_sync(channel=channel)
    used_at = timezone.now()
    WhatsAppTemplate.objects.filter(name="order_shipped").update(last_used_at=used_at)
    first = page("page1.json")
    first["data"][0]["status"] = "PAUSED"
    first.pop("paging")
    mocked.replace(responses.GET, LISTING, json=first)

    result = whatsapp_templates_sync(channel=channel)

    assert (result.synced, result.removed) == (2, 2)
    assert [row[:3] for row in stored(channel)] == [
        ("order_shipped", "en_US", "PAUSED"),
        ("spring_sale", "en", "APPROVED"),
    ]
    # Ours, not Meta's: kept through the sync.
    assert WhatsAppTemplate.objects.get(name="order_shipped").last_used_at == used_at


def test_a_listing_cut_short_removes_nothing(channel, mocked, monkeypatch):
    both_pages(mocked)
    whatsapp_templates_sync(channel=channel)
    monkeypatch.setattr("integrations.whatsapp.client.TEMPLATES_MAX_PAGES", 1)
    mocked.replace(responses.GET, LISTING, json=page("page1.json"))

    result = whatsapp_templates_sync(channel=channel)

    assert result.complete is False
    assert len(stored(channel)) == 4
    assert "none was removed" in result.summary()


def test_a_sync_that_asked_meta_before_the_last_written_one_changes_nothing(channel, mocked):
    both_pages(mocked)
    whatsapp_templates_sync(channel=channel)
    later = timezone.now() + timedelta(minutes=5)
    Channel.objects.filter(pk=channel.pk).update(templates_synced_at=later)
    mocked.replace(responses.GET, LISTING, json={"data": []})

    result = whatsapp_templates_sync(channel=channel)

    assert result.stale and len(stored(channel)) == 4
    assert result.summary() == "A newer sync finished first; the list below is its result."


def test_a_failed_sync_keeps_the_templates_and_records_why(channel, mocked):
    both_pages(mocked)
    whatsapp_templates_sync(channel=channel)
    mocked.replace(
        responses.GET,
        LISTING,
        status=401,
        json={"error": {"message": "Error validating access token", "code": 190}},
    )

    with pytest.raises(ProviderError):
        whatsapp_templates_sync(channel=channel)

    assert len(stored(channel)) == 4
    channel.refresh_from_db()
    assert "did not accept this access token" in channel.templates_sync_error
    assert TOKEN not in channel.templates_sync_error


def test_unreadable_templates_are_left_out_and_counted(channel, mocked):
    good = page("page1.json")["data"][1]
    huge = {**good, "name": "huge", "components": [{"type": "BODY", "text": "x"}] * 1000}
    nul = {**good, "name": "with_nul", "components": [{"type": "BODY", "text": "a\x00b"}]}
    mocked.get(LISTING, json={"data": [good, huge, nul]})

    result = whatsapp_templates_sync(channel=channel)

    assert [row[0] for row in stored(channel)] == ["spring_sale", "with_nul"]
    assert WhatsAppTemplate.objects.get(name="with_nul").components[0]["text"] == "a\ufffdb"
    assert result.skipped == 1
    assert "1 could not be read" in result.summary()


def test_the_scheduled_task_syncs_every_whatsapp_channel(workspace, mocked):
    first = whatsapp_channel(workspace, "1001")
    second = whatsapp_channel(workspace, "1002")
    mocked.get(LISTING, json={"data": page("page1.json")["data"]})

    tasks.sync_all_templates()

    assert len(stored(first)) == 2 and len(stored(second)) == 2
    assert "sync-whatsapp-templates" in settings.CELERY_BEAT_SCHEDULE
    entry = settings.CELERY_BEAT_SCHEDULE["sync-whatsapp-templates"]
    assert (entry["task"], entry["schedule"]) == ("channels.sync_all_templates", 3 * 60 * 60)


def test_the_task_survives_meta_being_down(channel, mocked):
    mocked.get(LISTING, status=503, json={"error": {"message": "down", "code": 2}})
    tasks.sync_whatsapp_templates(channel.pk)
    channel.refresh_from_db()
    assert "could not be reached" in channel.templates_sync_error
    tasks.sync_whatsapp_templates(999999)  # a removed channel: nothing to do


def test_adding_a_whatsapp_channel_syncs_its_templates(cast, workspace, mocked):
    graph = settings.META_GRAPH_API_URL
    mocked.get(
        f"{graph}/1001",
        json={"id": "1001", "display_phone_number": "+1 555-000-1111", "verified_name": "Acme"},
    )
    mocked.get(f"{graph}/{WABA}/phone_numbers", json={"data": [{"id": "1001"}]})
    mocked.post(f"{graph}/{WABA}/subscribed_apps", json={"success": True})
    mocked.post(f"{graph}/1001", json={"success": True})
    both_pages(mocked)

    response = cast.admin_client.post(
        reverse("channels:add", args=[workspace.pk, "whatsapp"]),
        {
            "phone_number_id": "1001",
            "waba_id": WABA,
            "access_token": TOKEN,
            "app_secret": APP_SECRET,
        },
    )

    assert response.status_code == 302
    channel = Channel.objects.get()
    assert len(stored(channel)) == 4
    listing_calls = [c for c in mocked.calls if "message_templates" in c.request.url]
    assert listing_calls and all(
        c.request.headers["Authorization"] == f"Bearer {TOKEN}" for c in listing_calls
    )


# --- Sync now ------------------------------------------------------------------------------


def sync_url(channel) -> str:
    return reverse("channels:templates_sync", args=[channel.pk])


def test_sync_now_says_how_many_were_synced(cast, channel, mocked):
    both_pages(mocked)
    response = cast.admin_client.post(sync_url(channel), follow=True)
    assert response.status_code == 200
    assert "4 WhatsApp templates synced from Meta." in response.content.decode()


def test_sync_now_says_why_it_failed_in_plain_words(cast, channel, mocked):
    mocked.get(LISTING, status=500, json={"error": {"message": "boom", "code": 1}})
    html = cast.admin_client.post(sync_url(channel), follow=True).content.decode()
    assert "The templates could not be synced: Meta could not be reached (HTTP 500)" in html


def test_sync_now_is_for_admins_and_this_account(cast, channel, workspace, mocked):
    assert cast.member_client.post(sync_url(channel)).status_code == 403
    assert cast.outsider_client.post(sync_url(channel)).status_code == 404
    assert cast.admin_client.get(sync_url(channel)).status_code == 405
    assert not mocked.calls


def test_sync_now_is_a_404_for_a_channel_without_provider_templates(cast, workspace, mocked):
    telegram = Channel(workspace=workspace, kind="telegram", name="Bot", identity="9")
    telegram.credentials_data = {"bot_token": "9:x", "secret_token": "s", "bot_id": "9"}
    telegram.save()
    assert cast.admin_client.post(sync_url(telegram)).status_code == 404


# --- the channel page ------------------------------------------------------------------


def test_the_channel_page_lists_the_templates_with_their_status(cast, channel, mocked):
    both_pages(mocked)
    whatsapp_templates_sync(channel=channel)
    html = cast.member_client.get(reverse("channels:detail", args=[channel.pk])).content.decode()
    assert "<code>order_shipped</code>" in html and "<code>spring_sale</code>" in html
    assert "pt_BR" in html and "Marketing" in html and "Utility" in html
    assert 'class="badge status-active">Approved<' in html
    assert 'class="badge status-needs_reconnect">Paused<' in html
    assert 'class="badge status-disconnected">Rejected<' in html
    assert "cannot be sent: INVALID_FORMAT" in html
    assert "Last synced" in html
    # Members see the list, not the button.
    assert "Sync now" not in html
    assert (
        "Sync now"
        in cast.admin_client.get(reverse("channels:detail", args=[channel.pk])).content.decode()
    )


def test_the_channel_page_says_when_a_sync_failed(cast, channel, mocked):
    Channel.objects.filter(pk=channel.pk).update(templates_sync_error="Meta could not be reached")
    html = cast.admin_client.get(reverse("channels:detail", args=[channel.pk])).content.decode()
    assert "The last sync failed: Meta could not be reached" in html
    assert "Not synced yet." in html


def test_the_channel_page_costs_the_same_queries_for_2_or_200_templates(cast, channel):
    client = cast.admin_client
    url = reverse("channels:detail", args=[channel.pk])

    def make(count):
        WhatsAppTemplate.objects.all().delete()
        WhatsAppTemplate.objects.bulk_create(
            WhatsAppTemplate(
                channel=channel,
                meta_id=str(n),
                name=f"template_{n}",
                language="en",
                status="APPROVED",
                synced_at=timezone.now(),
            )
            for n in range(count)
        )

    make(2)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    make(200)
    with CaptureQueriesContext(connection) as many:
        html = client.get(url).content.decode()
    assert len(few) == len(many)
    # The four of every channel page, and one for the templates.
    assert len(few) == 5
    assert "template_199" in html


def test_another_accounts_channel_page_is_a_404(cast, channel):
    url = reverse("channels:detail", args=[channel.pk])
    assert cast.outsider_client.get(url).status_code == 404


# --- Meta's status webhook -------------------------------------------------------------


def status_update(event: str, template_id="1387562738432187", reason="NONE") -> bytes:
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": WABA,
                    "time": 1751234563,
                    "changes": [
                        {
                            "field": "message_template_status_update",
                            "value": {
                                "event": event,
                                "message_template_id": int(template_id),
                                "message_template_name": "order_shipped",
                                "message_template_language": "en_US",
                                "reason": reason,
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()


def post_signed(client, channel, body: bytes):
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return client.post(
        f"/hooks/whatsapp/{channel.webhook_key}/",
        data=body,
        content_type="application/json",
        headers={"X-Hub-Signature-256": signature},
    )


@pytest.fixture
def synced(channel, mocked):
    both_pages(mocked)
    whatsapp_templates_sync(channel=channel)
    mocked.reset()
    return channel


def test_a_status_update_changes_that_template(client, synced, mocked):
    response = post_signed(client, synced, status_update("PAUSED", reason="FIRST_PAUSE"))
    assert response.status_code == 200
    template = WhatsAppTemplate.objects.get(name="order_shipped")
    assert (template.status, template.status_reason) == ("PAUSED", "FIRST_PAUSE")
    assert template.name not in [t.name for t in whatsapp_templates_sendable(channel=synced)]
    post_signed(client, synced, status_update("REINSTATED"))
    assert WhatsAppTemplate.objects.get(name="order_shipped").status == "APPROVED"
    assert not mocked.calls  # the webhook never calls Meta


def test_a_status_update_reaches_the_accounts_other_numbers_of_the_waba(
    client, synced, workspace, mocked
):
    sibling = whatsapp_channel(workspace, "2002")
    both_pages(mocked)
    whatsapp_templates_sync(channel=sibling)
    post_signed(client, synced, status_update("DISABLED"))
    statuses = set(
        WhatsAppTemplate.objects.filter(name="order_shipped").values_list("status", flat=True)
    )
    assert statuses == {"DISABLED"}


def test_a_status_update_never_touches_another_accounts_templates(client, synced, cast, mocked):
    theirs = whatsapp_channel(cast.other_workspace, "3003")
    WhatsAppTemplate.objects.create(
        channel=theirs,
        meta_id="1387562738432187",
        name="order_shipped",
        language="en_US",
        status="APPROVED",
        synced_at=timezone.now(),
    )
    post_signed(client, synced, status_update("PAUSED"))
    assert WhatsAppTemplate.objects.get(channel=theirs).status == "APPROVED"


def test_a_deleted_template_is_removed(client, synced):
    post_signed(client, synced, status_update("DELETED"))
    assert not WhatsAppTemplate.objects.filter(name="order_shipped").exists()


def test_a_status_for_an_unknown_template_is_acknowledged(client, synced, mocked):
    response = post_signed(client, synced, status_update("APPROVED", template_id="555"))
    assert response.status_code == 200
    assert len(stored(synced)) == 4
    assert not mocked.calls  # without a broker, left to the next sync


def test_with_a_broker_a_status_for_an_unknown_template_enqueues_a_sync(
    client, synced, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    queued = []
    monkeypatch.setattr(tasks.sync_whatsapp_templates, "delay", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(client, synced, status_update("APPROVED", template_id="555"))
    assert response.status_code == 200
    assert queued == [synced.pk]


def test_a_broker_that_refuses_the_sync_does_not_fail_the_webhook(
    client, synced, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False

    def down(channel_id):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.sync_whatsapp_templates, "delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(client, synced, status_update("APPROVED", template_id="555"))
    assert response.status_code == 200


def test_an_unsigned_status_update_is_refused(client, synced):
    response = client.post(
        f"/hooks/whatsapp/{synced.webhook_key}/",
        data=status_update("PAUSED"),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert WhatsAppTemplate.objects.get(name="order_shipped").status == "APPROVED"


@pytest.mark.parametrize(
    "value",
    [
        {"event": "PAUSED"},  # no template id
        {"event": 7, "message_template_id": 1},
        {"event": "PAUSED", "message_template_id": [1]},
    ],
)
def test_a_malformed_status_update_is_a_400_not_a_500(client, synced, value):
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": WABA,
                    "changes": [{"field": "message_template_status_update", "value": value}],
                }
            ],
        }
    ).encode()
    assert post_signed(client, synced, body).status_code == 400


def test_a_status_update_with_a_nul_and_a_huge_reason_is_stored_safely(client, synced):
    body = status_update("REJECTED", reason="bad\x00" + "r" * 100_000)
    assert post_signed(client, synced, body).status_code == 200
    template = WhatsAppTemplate.objects.get(name="order_shipped")
    assert template.status == "REJECTED"
    assert template.status_reason.startswith("bad\ufffd") and len(template.status_reason) == 200


# --- sending -----------------------------------------------------------------------------


def test_a_template_message_is_built_from_the_synced_row(synced):
    template = WhatsAppTemplate.objects.get(name="spring_sale")
    values = {
        "header.first_name": "Jane",
        "body.first_name": "Jane",
        "body.discount": "20%",
        "button.0": "jane",
        "button.1": "SPRING20",
    }
    message = whatsapp_template_message(template=template, values=values)
    assert (message.name, message.language, message.parameter_format) == (
        "spring_sale",
        "en",
        "NAMED",
    )
    assert dict(message.values) == values
    # Kept with a queued message as JSON and read back by the relay unchanged.
    assert type(message).from_data(json.loads(json.dumps(message.as_data()))) == message
    with pytest.raises(templates.TemplateValuesInvalid, match="needs a value"):
        whatsapp_template_message(template=template, values={})
    paused = WhatsAppTemplate.objects.get(name="winback_offer")
    with pytest.raises(ValueError, match="PAUSED"):
        whatsapp_template_message(template=paused, values={"body.1": "x"})


def test_only_approved_templates_are_offered_recently_used_first(synced):
    WhatsAppTemplate.objects.filter(name="spring_sale").update(last_used_at=timezone.now())
    names = [t.name for t in whatsapp_templates_sendable(channel=synced)]
    assert names == ["spring_sale", "order_shipped"]


def test_a_sent_template_is_noted_as_used(synced):
    template = WhatsAppTemplate.objects.get(name="order_shipped")
    assert template.last_used_at is None
    whatsapp_template_used(template=template)
    template.refresh_from_db()
    assert template.last_used_at is not None
    assert whatsapp_templates_sendable(channel=synced)[0].name == "order_shipped"
