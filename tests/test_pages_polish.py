"""Pages a person would want to use: times in the viewer's own zone, tables that scroll
inside their box on a phone, empty lists that say what to do next, and the relay that
starts with the development server."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.core import mail
from django.core.signals import request_started
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.middleware import TIME_ZONE_COOKIE, ViewerTimeZoneMiddleware
from accounts.models import Invitation
from channels.models import Channel, Contact, Message, MessageTemplate
from workspaces.models import Provider, Workspace

pytestmark = pytest.mark.django_db

# 12:30 UTC on a winter day: 07:30 in New York (EST), 18:00 in Kolkata (IST).
INSTANT = datetime(2026, 1, 15, 12, 30, tzinfo=UTC)
INSTANT_ISO = "2026-01-15T12:30:00Z"


@pytest.fixture
def workspace(cast):
    workspace = Workspace.objects.create(
        account=cast.account, provider=Provider.INTERCOM, external_id="acme", name="Acme Help"
    )
    # updated_at is auto_now: only an update() sets it to a chosen instant.
    Workspace.objects.filter(pk=workspace.pk).update(updated_at=INSTANT)
    return workspace


@pytest.fixture
def channel(workspace, cast):
    return Channel.objects.create(
        workspace=workspace,
        kind="telegram",
        name="Acme Bot",
        identity="42",
        added_by=cast.admin,
        webhook_registered_at=INSTANT,
        last_inbound_at=INSTANT,
        last_error="The signature did not match",
        last_error_at=datetime(2026, 1, 15, 13, 0, tzinfo=UTC),
    )


def in_zone(client, zone):
    client.cookies[TIME_ZONE_COOKIE] = zone
    return client


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


# --- the viewer's time zone ---------------------------------------------------------------


def zone_seen_by_view(cookie=None):
    seen = {}

    def view(request):
        seen["zone"] = timezone.get_current_timezone_name()
        return None

    request = RequestFactory().get("/")
    if cookie is not None:
        request.COOKIES[TIME_ZONE_COOKIE] = cookie
    ViewerTimeZoneMiddleware(view)(request)
    return seen["zone"]


def test_it_activates_the_viewers_zone_for_the_request():
    assert zone_seen_by_view("America/New_York") == "America/New_York"
    assert zone_seen_by_view("America/Argentina/Buenos_Aires") == "America/Argentina/Buenos_Aires"


@pytest.mark.parametrize(
    "cookie",
    ["Mars/Olympus_Mons", "Europe", "../../etc/passwd", "/etc/localtime", "Europe/Paris\x00", ""],
)
def test_it_ignores_a_value_that_is_not_a_time_zone(cookie):
    assert zone_seen_by_view(cookie) == "UTC"


def test_it_keeps_utc_without_the_cookie():
    assert zone_seen_by_view() == "UTC"


def test_it_leaves_the_zone_behind_when_the_request_ends():
    zone_seen_by_view("Asia/Kolkata")
    assert timezone.get_current_timezone_name() == "UTC"


def test_it_shows_timestamps_in_the_viewers_zone_with_the_utc_instant_for_machines(cast, workspace):
    html = page(in_zone(cast.admin_client, "America/New_York"), "/")
    assert f'<time datetime="{INSTANT_ISO}"' in html
    assert ">2026-01-15 07:30 EST</time>" in html

    html = page(in_zone(cast.admin_client, "Asia/Kolkata"), f"/workspaces/{workspace.pk}/")
    assert ">2026-01-15 18:00 IST</time>" in html


def test_it_labels_times_utc_for_a_viewer_without_the_script(cast, workspace, channel):
    for url in ("/", f"/workspaces/{workspace.pk}/", f"/channels/{channel.pk}/"):
        html = page(cast.admin_client, url)
        assert ">2026-01-15 12:30 UTC</time>" in html
        # The zone comes from the date format now, never from a word after it.
        assert "UTC UTC" not in html
        assert "</time> UTC" not in html


def test_it_shows_every_time_on_the_channel_page_in_the_viewers_zone(cast, channel):
    contact = Contact.objects.create(channel=channel, external_id="7", name="Jane")
    message = Message.objects.create(
        channel=channel, contact=contact, direction="in", type="text", text="hi", status="relayed"
    )
    Message.objects.filter(pk=message.pk).update(created_at=INSTANT)
    html = page(in_zone(cast.admin_client, "America/New_York"), f"/channels/{channel.pk}/")
    assert "Registered</span> with Telegram on <time" in html
    assert ">2026-01-15 07:30:00 EST</time>" in html  # the message log, to the second
    # Included inside a sentence: nothing stands between the time and the bracket.
    assert re.search(r"\(<time [^>]*>2026-01-15 08:00 EST</time>\)", html)
    assert "UTC" not in re.sub(r'datetime="[^"]*"', "", html)


def test_it_dates_members_and_invitations_in_the_viewers_zone(cast):
    invitation = Invitation.objects.create(
        account=cast.account,
        email="new@acme.test",
        token_hash="0" * 64,
        invited_by=cast.admin,
        expires_at=datetime(2099, 1, 16, 2, 0, tzinfo=UTC),
    )
    html = page(in_zone(cast.admin_client, "America/Los_Angeles"), reverse("accounts:team"))
    assert ">2099-01-15 18:00 PST</time>" in html
    assert invitation.email in html


def test_it_writes_the_invitation_email_in_utc_whatever_the_inviters_zone(cast):
    client = in_zone(cast.admin_client, "Asia/Kolkata")
    response = client.post(reverse("accounts:invite"), {"email": "new@acme.test", "role": "member"})
    assert response.status_code == 302
    expires = Invitation.objects.get(email="new@acme.test").expires_at.astimezone(UTC)
    assert f"expires on {expires:%-d %B %Y, %H:%M} UTC." in mail.outbox[0].body


# --- phone width --------------------------------------------------------------------------


def test_it_wraps_every_table_in_a_box_that_scrolls_sideways(cast, workspace, channel):
    contact = Contact.objects.create(channel=channel, external_id="7", name="Jane")
    Message.objects.create(
        channel=channel, contact=contact, direction="in", type="text", text="hi", status="relayed"
    )
    MessageTemplate.objects.create(channel=channel, name="hello", language="en", body="Hi {{1}}")
    Invitation.objects.create(
        account=cast.account,
        email="new@acme.test",
        token_hash="1" * 64,
        invited_by=cast.admin,
        expires_at=timezone.now() + timedelta(days=7),
    )
    for client, url in (
        (cast.admin_client, "/"),
        (cast.admin_client, f"/workspaces/{workspace.pk}/"),
        (cast.admin_client, f"/channels/{channel.pk}/"),
        (cast.admin_client, f"/channels/{channel.pk}/settings/"),
        (cast.member_client, f"/channels/{channel.pk}/settings/"),  # opening hours, too
        (cast.admin_client, reverse("accounts:team")),
    ):
        html = page(client, url)
        wrapped = re.findall(r'<div class="table-scroll">\s*<table', html)
        assert wrapped, url
        assert html.count("<table") == len(wrapped), url


# --- empty states -------------------------------------------------------------------------


def test_it_tells_an_admin_alone_in_the_team_to_invite_someone(cast):
    cast.account.memberships.filter(user=cast.member).delete()
    html = page(cast.admin_client, reverse("accounts:team"))
    assert "You're the only member so far. Invite a teammate below" in html
    assert "No invitations waiting." in html


def test_it_says_how_to_add_the_first_template(cast, channel):
    html = page(cast.admin_client, f"/channels/{channel.pk}/settings/")
    assert "No templates yet. Add one for a message your team sends often" in html
    assert "{{1}}, {{2}}" in html
    html = page(cast.member_client, f"/channels/{channel.pk}/settings/")
    assert "No templates yet. An admin can add them." in html


def test_it_points_an_admin_at_the_round_trip_while_the_log_is_empty(cast, channel):
    html = page(cast.admin_client, f"/channels/{channel.pk}/")
    assert "No messages yet." in html
    assert "use Test round trip above" in html
    assert "use Test round trip above" not in page(cast.member_client, f"/channels/{channel.pk}/")


# --- the relay starts with the server -----------------------------------------------------


@pytest.fixture
def relay_starts(settings, monkeypatch):
    """Runs the app's start-up as the development server would, recording relay starts."""
    from relay import wakeup

    starts = []
    monkeypatch.setattr(wakeup.waker, "wake", lambda contact_ids: starts.append(list(contact_ids)))
    settings.RELAY_IN_PROCESS = True
    yield starts
    request_started.disconnect(dispatch_uid="relay.start")


def ready():
    apps.get_app_config("relay").ready()


def test_it_starts_the_relay_with_runservers_serving_process(relay_starts, monkeypatch):
    monkeypatch.setenv("RUN_MAIN", "true")
    ready()
    assert relay_starts == [[]]


def test_it_starts_the_relay_at_the_first_request_of_any_other_server(
    relay_starts, monkeypatch, client
):
    monkeypatch.delenv("RUN_MAIN", raising=False)
    ready()
    assert relay_starts == []
    client.get(reverse("account_login"))
    assert relay_starts == [[]]


def test_it_never_starts_the_relay_when_a_worker_runs_it(settings, monkeypatch, client):
    from relay import wakeup

    starts = []
    monkeypatch.setattr(wakeup.waker, "wake", lambda contact_ids: starts.append(contact_ids))
    monkeypatch.setenv("RUN_MAIN", "true")
    settings.RELAY_IN_PROCESS = False
    ready()
    client.get(reverse("account_login"))
    assert starts == []
