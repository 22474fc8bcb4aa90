"""Adding, viewing and removing channels, with the providers mocked at the HTTP level."""

import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest
import responses
from django.conf import settings
from django.core.paginator import Paginator
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from channels.models import Channel, Contact, Direction, Message, MessageStatus
from channels.selectors import channel_message_page
from workspaces.models import Provider, Workspace

pytestmark = pytest.mark.django_db

TOKEN = "123456:ABCdefGhIJKlmNoPQRsTUVwxyZ-0123456789"
TELEGRAM = f"{settings.TELEGRAM_API_URL}/bot{TOKEN}"
GRAPH = settings.META_GRAPH_API_URL
TWILIO_SID = "AC" + "0123456789abcdef" * 2
TWILIO_TOKEN = "fedcba9876543210" * 2
TWILIO_NUMBERS = f"{settings.TWILIO_API_URL}/2010-04-01/Accounts/{TWILIO_SID}/IncomingPhoneNumbers"


@pytest.fixture
def workspace(cast):
    return Workspace.objects.create(
        account=cast.account, provider=Provider.INTERCOM, external_id="acme", name="Acme Help"
    )


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def mock_telegram(mocked, *, bot_id=123456, set_webhook=None):
    me = {
        "ok": True,
        "result": {"id": bot_id, "is_bot": True, "first_name": "Acme", "username": "acme_bot"},
    }
    for method in (responses.GET, responses.POST):
        mocked.add(method, f"{TELEGRAM}/getMe", json=me)
    mocked.add(
        responses.POST,
        f"{TELEGRAM}/setWebhook",
        **(set_webhook or {"json": {"ok": True, "result": True, "description": "Webhook was set"}}),
    )
    mocked.add(responses.POST, f"{TELEGRAM}/deleteWebhook", json={"ok": True, "result": True})
    mocked.add(responses.GET, f"{TELEGRAM}/deleteWebhook", json={"ok": True, "result": True})


def add_url(workspace, kind):
    return reverse("channels:add", args=[workspace.pk, kind])


def add_telegram(client, workspace, **extra):
    return client.post(add_url(workspace, "telegram"), {"bot_token": TOKEN, **extra})


def calls_to(mocked, suffix):
    return [call for call in mocked.calls if call.request.url.split("?")[0].endswith(suffix)]


# --- adding -----------------------------------------------------------------------------


def test_the_kind_picker_lists_every_kind_from_the_registry(cast, workspace):
    page = cast.admin_client.get(reverse("channels:add_kind", args=[workspace.pk]))
    assert page.status_code == 200
    for kind in ("whatsapp", "sms", "telegram", "messenger"):
        assert add_url(workspace, kind) in page.content.decode()


def test_an_unknown_kind_is_a_404(cast, workspace):
    assert cast.admin_client.get(add_url(workspace, "fax")).status_code == 404


def test_adding_a_telegram_bot_checks_it_and_points_its_webhook_here(cast, workspace, mocked):
    mock_telegram(mocked)
    response = add_telegram(cast.admin_client, workspace)
    channel = Channel.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("channels:detail", args=[channel.pk])
    assert (channel.kind, channel.identity, channel.name) == ("telegram", "123456", "@acme_bot")
    assert channel.added_by == cast.admin
    assert channel.webhook_registered_at is not None
    stored = channel.credentials_data
    assert stored["bot_token"] == TOKEN
    assert stored["bot_id"] == "123456"
    # setWebhook got this channel's URL and the secret we keep for its header.
    (set_webhook,) = calls_to(mocked, "/setWebhook")
    sent = json.loads(set_webhook.request.body)
    assert sent["url"] == (f"{settings.PUBLIC_BASE_URL}/hooks/telegram/{channel.webhook_key}/")
    assert sent["secret_token"] == stored["secret_token"]
    assert TOKEN not in channel.webhook_key


def test_the_admin_can_name_the_channel(cast, workspace, mocked):
    mock_telegram(mocked)
    add_telegram(cast.admin_client, workspace, name="Support bot")
    assert Channel.objects.get().name == "Support bot"


def test_credentials_are_encrypted_at_rest(cast, workspace, mocked):
    mock_telegram(mocked)
    add_telegram(cast.admin_client, workspace)
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM octopods_channels_channel")
        (raw,) = cursor.fetchone()
    assert TOKEN not in raw and "bot_token" not in raw


def test_a_token_telegram_refuses_is_a_form_error_and_nothing_is_saved(cast, workspace, mocked):
    for method in (responses.GET, responses.POST):
        mocked.add(
            method,
            f"{TELEGRAM}/getMe",
            status=401,
            json={"ok": False, "error_code": 401, "description": "Unauthorized"},
        )
    response = add_telegram(cast.admin_client, workspace)
    assert response.status_code == 400
    assert response.context["form"].errors["bot_token"]
    assert not Channel.objects.exists()
    assert not calls_to(mocked, "/setWebhook")
    # The token is never echoed back into the page.
    assert TOKEN not in response.content.decode()


def test_when_the_webhook_cannot_be_registered_nothing_is_saved(cast, workspace, mocked):
    mock_telegram(
        mocked,
        set_webhook={
            "status": 400,
            "json": {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: bad webhook: HTTPS url must be provided for webhook",
            },
        },
    )
    response = add_telegram(cast.admin_client, workspace)
    assert response.status_code == 400
    assert response.context["form"].errors
    assert not Channel.objects.exists()


def test_a_bot_bound_to_another_account_is_refused_before_its_webhook_moves(
    cast, workspace, mocked
):
    Channel.objects.create(
        workspace=cast.other_workspace, kind="telegram", name="Globex bot", identity="123456"
    )
    mock_telegram(mocked)
    response = add_telegram(cast.admin_client, workspace)
    assert response.status_code == 400
    errors = response.context["form"].non_field_errors()
    assert errors == [
        "This Telegram bot is already connected to another Octopods account. "
        "It can be connected to one channel at a time."
    ]
    assert "Globex" not in response.content.decode()
    assert not calls_to(mocked, "/setWebhook")
    assert Channel.objects.count() == 1


def test_a_bot_bound_in_the_same_account_names_its_channel(cast, workspace, mocked):
    Channel.objects.create(workspace=workspace, kind="telegram", name="Old bot", identity="123456")
    mock_telegram(mocked)
    response = add_telegram(cast.admin_client, workspace)
    assert response.context["form"].non_field_errors() == [
        "This Telegram bot is already connected as “Old bot” in Acme Help. "
        "Remove that channel first to move it here."
    ]


def test_the_database_refuses_a_second_channel_for_one_identity(workspace):
    from django.db import IntegrityError, transaction

    Channel.objects.create(workspace=workspace, kind="telegram", name="A", identity="123456")
    with pytest.raises(IntegrityError), transaction.atomic():
        Channel.objects.create(workspace=workspace, kind="telegram", name="B", identity="123456")


def test_a_form_with_bad_input_keeps_what_was_typed_but_no_secret(cast, workspace, mocked):
    response = cast.admin_client.post(
        add_url(workspace, "telegram"), {"name": "My bot", "bot_token": "not-a-token"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'value="My bot"' in html
    assert "not-a-token" not in html
    assert not mocked.calls


def test_adding_whatsapp_reads_the_number_and_registers_the_override(cast, workspace, mocked):
    mocked.get(
        f"{GRAPH}/1001",
        json={"id": "1001", "display_phone_number": "+1 555-000-1111", "verified_name": "Acme"},
    )
    mocked.get(f"{GRAPH}/2002/phone_numbers", json={"data": [{"id": "1001"}]})
    mocked.post(f"{GRAPH}/2002/subscribed_apps", json={"success": True})
    mocked.post(f"{GRAPH}/1001", json={"success": True})
    response = cast.admin_client.post(
        add_url(workspace, "whatsapp"),
        {
            "phone_number_id": "1001",
            "waba_id": "2002",
            "access_token": "EAAG-secret-token",
            "app_secret": "0123456789abcdef0123456789abcdef",
        },
    )
    assert response.status_code == 302, response.content
    channel = Channel.objects.get()
    assert (channel.identity, channel.name) == ("1001", "Acme")
    assert channel.credentials_data["verify_token"]
    graph_calls = [call for call in mocked.calls if call.request.url.startswith(GRAPH)]
    assert all(
        call.request.headers["Authorization"] == "Bearer EAAG-secret-token" for call in graph_calls
    )
    override = [
        call
        for call in graph_calls
        if call.request.method == "POST" and call.request.url.split("?")[0] == f"{GRAPH}/1001"
    ]
    assert len(override) == 1
    assert f"/hooks/whatsapp/{channel.webhook_key}/" in override[0].request.body.decode()


def test_adding_messenger_leaves_the_callback_url_to_paste(cast, workspace, mocked):
    mocked.get(f"{GRAPH}/me", json={"id": "3003", "name": "Acme Page"})
    mocked.post(f"{GRAPH}/3003/subscribed_apps", json={"success": True})
    response = cast.admin_client.post(
        add_url(workspace, "messenger"),
        {
            "page_id": "3003",
            "page_access_token": "EAAG-page-token",
            "app_secret": "0123456789abcdef0123456789abcdef",
        },
    )
    assert response.status_code == 302, response.content
    channel = Channel.objects.get()
    assert channel.health == "setup"
    page = cast.admin_client.get(response["Location"]).content.decode()
    assert f"{settings.PUBLIC_BASE_URL}/hooks/messenger/{channel.webhook_key}/" in page
    assert channel.credentials_data["verify_token"] in page
    assert "EAAG-page-token" not in page
    # Once Meta's handshake passes, the instructions give way to "Verified".
    cast.admin_client.get(
        f"/hooks/messenger/{channel.webhook_key}/",
        {
            "hub.mode": "subscribe",
            "hub.verify_token": channel.credentials_data["verify_token"],
            "hub.challenge": "7",
        },
    )
    page = cast.admin_client.get(response["Location"]).content.decode()
    assert "Verified" in page and "One more step" not in page


def test_adding_a_twilio_number_points_its_sms_url_here(cast, workspace, mocked):
    number = {
        "sid": "PN" + "a" * 32,
        "phone_number": "+15550002222",
        "friendly_name": "Acme SMS",
        "capabilities": {"sms": True, "mms": True, "voice": True},
        "sms_url": "",
    }
    mocked.get(f"{TWILIO_NUMBERS}.json", json={"incoming_phone_numbers": [number]})
    mocked.post(f"{TWILIO_NUMBERS}/{number['sid']}.json", json=number)
    response = cast.admin_client.post(
        add_url(workspace, "sms"),
        {"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN, "phone_number": "+1 555 000 2222"},
    )
    assert response.status_code == 302, response.content
    channel = Channel.objects.get()
    assert channel.identity == "+15550002222"
    (update,) = [call for call in mocked.calls if call.request.method == "POST"]
    form = parse_qs(update.request.body)
    # With Twilio's connection overrides: retry up to five times on any failure.
    assert form["SmsUrl"] == [
        f"{settings.PUBLIC_BASE_URL}/hooks/sms/{channel.webhook_key}/#rc=5&rp=all"
    ]


# --- the channel page -------------------------------------------------------------------


@pytest.fixture
def channel(workspace):
    channel = Channel(workspace=workspace, kind="telegram", name="Support bot", identity="123456")
    channel.credentials_data = {
        "bot_token": TOKEN,
        "secret_token": "s3cret_token-value",
        "bot_id": "123456",
        "bot_username": "acme_bot",
    }
    channel.save()
    return channel


def log(channel, count):
    contact, _ = Contact.objects.get_or_create(channel=channel, external_id="555", name="Jane")
    Message.objects.bulk_create(
        Message(
            channel=channel,
            contact=contact,
            direction=Direction.INBOUND if n % 2 else Direction.OUTBOUND,
            provider_message_id=f"m{n}",
            type="text" if n % 3 else "image",
            text=f"logged text {n}",
            status=MessageStatus.FAILED if n == 0 else MessageStatus.RECEIVED,
            error_code="131047" if n == 0 else "",
            error_text="Re-engagement message" if n == 0 else "",
        )
        for n in range(count)
    )


def test_members_read_the_channel_page_without_admin_actions(cast, channel):
    page = cast.member_client.get(reverse("channels:detail", args=[channel.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Support bot" in html
    assert reverse("channels:remove", args=[channel.pk]) not in html
    assert channel.webhook_key not in html


def test_the_channel_page_never_shows_a_secret_in_full(cast, channel):
    html = cast.admin_client.get(reverse("channels:detail", args=[channel.pk])).content.decode()
    assert TOKEN not in html
    assert "s3cret_token-value" not in html
    assert "••••6789" in html  # the token's last four characters identify it
    assert "acme_bot" in html


def test_the_message_log_shows_status_and_failure_reason(cast, channel):
    log(channel, 3)
    html = cast.admin_client.get(reverse("channels:detail", args=[channel.pk])).content.decode()
    assert "logged text 2" in html and "Jane" in html
    assert "Re-engagement message" in html and "131047" in html
    assert "Failed" in html and "Image" in html


# The rows as the page's template printed them before {% message_log_rows %}, kept to
# compare.
LOG_ROWS_BEFORE = (Path(__file__).parent / "log_rows_before.html").read_text()


@pytest.mark.parametrize("role", ["admin", "member"])
@pytest.mark.parametrize("zone", ["UTC", "Asia/Kathmandu"])
def test_a_log_row_is_the_markup_the_template_printed(cast, channel, role, zone):
    log(channel, 4)
    jane = Contact.objects.get(channel=channel)
    nameless = Contact.objects.create(channel=channel, external_id="777", phone_e164="+15550001")
    anonymous = Contact.objects.create(channel=channel, external_id="<b>888</b>")
    for contact, text, kind in [
        (nameless, "x" * 141, "text"),
        (anonymous, "Ünïcödé and <script>alert(1)</script> & more " * 4, "document"),
        (jane, "short but combining: e\u0301", ""),
    ]:
        Message.objects.create(
            channel=channel,
            contact=contact,
            direction="??",  # not one of the choices: shown as it is
            type=kind,
            text=text,
            status=MessageStatus.FAILED,
            error_text='<Bad> "request"' if kind == "document" else "",
            error_code="E<1>" if kind == "" else "",
        )
    Message.objects.update(created_at=datetime(2026, 10, 25, 1, 30, 15, tzinfo=UTC))
    membership = Membership.objects.get(account=cast.account, user__email__startswith=role)
    context = {"channel": channel, "current_membership": membership, "csrf_token": "a-token"}
    # The page's rows come from the selector (plain values); the template of before had
    # model instances.
    shown = channel_message_page(channel=channel, number=1).object_list
    whole = Message.objects.filter(channel=channel).order_by("-created_at", "-pk")
    with timezone.override(ZoneInfo(zone)):
        before = Template(LOG_ROWS_BEFORE).render(
            Context({**context, "page": {"object_list": whole}})
        )
        after = Template(
            "{% load message_log %}{% message_log_rows channel page.object_list %}"
        ).render(Context({**context, "page": {"object_list": shown}}))
    # The same markup; only the indentation differs (a run of white space shows as one).
    assert after.split() == before.split()
    assert after.count("<tr>") == 7
    assert after.count(">Retry<") == (4 if role == "admin" else 0)


def test_a_log_that_did_not_change_is_built_once_and_a_status_change_shows_at_once(cast, channel):
    """The log's rows are kept by what they are made of (octopods.html.kept_rows): the
    same page again is not rebuilt, a message whose status changed is, and each request's
    retry forms carry its own CSRF token."""
    from channels.templatetags.message_log import rendered_rows

    client = cast.admin_client
    url = reverse("channels:detail", args=[channel.pk])
    log(channel, 3)
    rendered_rows.cache_clear()
    first, again = client.get(url), client.get(url)
    assert rendered_rows.cache_info().hits == 1
    token = again.context["csrf_token"]
    assert f'value="{token}"' in again.content.decode()
    Message.objects.filter(provider_message_id="m0").update(status=MessageStatus.RELAYED)
    after = client.get(url).content.decode()
    assert rendered_rows.cache_info().misses == 2
    assert ">Retry<" in first.content.decode() and ">Retry<" not in after


def test_the_channel_page_costs_the_same_queries_for_3_or_120_messages(cast, channel):
    client = cast.admin_client
    url = reverse("channels:detail", args=[channel.pk])
    log(channel, 3)
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    Message.objects.all().delete()
    log(channel, 120)
    with CaptureQueriesContext(connection) as many:
        page = client.get(url)
    assert len(many) == len(few)
    # The user, the user's memberships, the channel, the page with the count; the
    # session comes from the cache.
    assert len(few) == 4
    html = page.content.decode()
    assert "Page 1 of 3" in html
    # Not "message N": the Retry buttons are labelled with the message's id.
    assert "logged text 119" in html and "logged text 69" not in html
    older = client.get(url, {"page": 3}).content.decode()
    assert "logged text 0" in older and "logged text 119" not in older


@pytest.mark.parametrize("count", [0, 1, 50, 51, 120])
def test_the_log_pages_as_django_paginates(cast, channel, count):
    log(channel, count)
    everything = Message.objects.filter(channel=channel).order_by("-created_at", "-pk")
    huge = "9" * 30  # an OFFSET beyond bigint, were it computed
    for number in [None, "", "x", "1", "2", "3", "4", "0", "-1", 2.0, 2.5, "99", huge]:
        expected = Paginator(everything, 50).get_page(number)
        with CaptureQueriesContext(connection) as queries:
            page = channel_message_page(channel=channel, number=number)
        assert (page.number, page.paginator.num_pages, page.paginator.count) == (
            expected.number,
            expected.paginator.num_pages,
            expected.paginator.count,
        ), number
        assert [row.pk for row in page.object_list] == [m.pk for m in expected.object_list]
        # One query for a page that exists, or for the first page of an empty log; past
        # the end, the count and the last page besides.
        if page.number == _number(number):
            assert len(queries) == 1, number
        else:
            assert len(queries) <= 3, number


def _number(number):
    try:
        return int(number)
    except (TypeError, ValueError):
        return 1


def test_the_workspace_page_lists_channels_with_their_health(cast, workspace, channel):
    html = cast.member_client.get(
        reverse("workspaces:detail", args=[workspace.pk])
    ).content.decode()
    assert reverse("channels:detail", args=[channel.pk]) in html
    assert "Needs set-up" in html
    assert reverse("channels:add_kind", args=[workspace.pk]) not in html
    admin_html = cast.admin_client.get(
        reverse("workspaces:detail", args=[workspace.pk])
    ).content.decode()
    assert reverse("channels:add_kind", args=[workspace.pk]) in admin_html


# --- removing ---------------------------------------------------------------------------


def test_removing_a_channel_stops_its_webhook_and_deletes_its_log(cast, channel, mocked):
    mock_telegram(mocked)
    log(channel, 2)
    url = reverse("channels:remove", args=[channel.pk])
    confirm = cast.admin_client.get(url)
    assert confirm.status_code == 200 and "Support bot" in confirm.content.decode()
    response = cast.admin_client.post(url)
    assert response.status_code == 302
    assert not Channel.objects.exists() and not Message.objects.exists()
    assert calls_to(mocked, "/deleteWebhook")


def test_a_channel_is_removed_even_when_the_provider_cannot_be_reached(cast, channel, mocked):
    for method in (responses.GET, responses.POST):
        mocked.add(method, f"{TELEGRAM}/deleteWebhook", status=502, body="Bad Gateway")
    assert cast.admin_client.post(reverse("channels:remove", args=[channel.pk])).status_code == 302
    assert not Channel.objects.exists()


def meta_channel(workspace, kind):
    channel = Channel(workspace=workspace, kind=kind, name=f"Acme {kind}", identity="1001")
    secrets_ = {"app_secret": "0123456789abcdef0123456789abcdef", "verify_token": "vt-1"}
    if kind == "whatsapp":
        channel.credentials_data = {
            "phone_number_id": "1001",
            "waba_id": "2002",
            "access_token": "EAAG-secret-token",
            **secrets_,
        }
    else:
        channel.credentials_data = {
            "page_id": "1001",
            "page_access_token": "EAAG-page-token",
            **secrets_,
        }
    channel.save()
    return channel


def graph_refusal(code: int, message: str) -> dict:
    return {"error": {"message": message, "type": "OAuthException", "code": code}}


def removed_page(cast, channel) -> str:
    response = cast.admin_client.post(reverse("channels:remove", args=[channel.pk]), follow=True)
    assert response.status_code == 200
    assert not Channel.objects.filter(pk=channel.pk).exists()
    return " ".join(response.content.decode().split())


def test_removing_a_whatsapp_channel_deletes_the_numbers_webhook_override(cast, workspace, mocked):
    """Meta's "Webhook overrides" page (developers.facebook.com/documentation/
    business-messaging/whatsapp/webhooks/override): GET /<PHONE_NUMBER_ID>?fields=
    webhook_configuration answers the number's own alternate callback as
    ``phone_number``; "Delete phone number alternate callback" is a POST to the number
    with ``override_callback_uri`` set to an empty string. The WABA's subscription,
    which its other numbers need, is left alone."""
    channel = meta_channel(workspace, "whatsapp")
    ours = f"{settings.PUBLIC_BASE_URL}/hooks/whatsapp/{channel.webhook_key}/"
    mocked.get(
        f"{GRAPH}/1001",
        json={
            "webhook_configuration": {
                "phone_number": ours,
                "application": "https://elsewhere.example.com/meta",
            },
            "id": "1001",
        },
    )
    mocked.post(f"{GRAPH}/1001", json={"success": True})
    html = removed_page(cast, channel)
    assert "Acme whatsapp was removed." in html
    assert "could not" not in html
    read, cleared = mocked.calls
    assert parse_qs(read.request.url.split("?")[1]) == {"fields": ["webhook_configuration"]}
    assert cleared.request.method == "POST"
    assert json.loads(cleared.request.body) == {
        "webhook_configuration": {"override_callback_uri": ""}
    }
    assert cleared.request.headers["Authorization"] == "Bearer EAAG-secret-token"


@pytest.mark.parametrize(
    "configuration",
    [
        # Pointed elsewhere since: someone else's to keep.
        {"phone_number": "https://elsewhere.example.com/hook", "application": "https://a.example"},
        # No override of its own (only the app's URL).
        {"application": f"{settings.PUBLIC_BASE_URL}/hooks/whatsapp/other/"},
    ],
)
def test_a_whatsapp_override_that_is_not_ours_is_left_alone(cast, workspace, mocked, configuration):
    channel = meta_channel(workspace, "whatsapp")
    mocked.get(f"{GRAPH}/1001", json={"webhook_configuration": configuration, "id": "1001"})
    html = removed_page(cast, channel)
    assert "Acme whatsapp was removed." in html
    assert [call.request.method for call in mocked.calls] == ["GET"]


def test_when_meta_refuses_to_delete_the_override_the_page_says_what_to_do(cast, workspace, mocked):
    channel = meta_channel(workspace, "whatsapp")
    ours = f"{settings.PUBLIC_BASE_URL}/hooks/whatsapp/{channel.webhook_key}/"
    mocked.get(f"{GRAPH}/1001", json={"webhook_configuration": {"phone_number": ours}})
    mocked.post(f"{GRAPH}/1001", status=403, json=graph_refusal(200, "(#200) Permissions error"))
    html = removed_page(cast, channel)
    assert "Acme whatsapp was removed. Octopods could not tell WhatsApp to stop" in html
    assert "Meta may still send this number&#x27;s messages to Octopods" in html
    assert "remove the number&#x27;s alternate callback URL" in html
    assert "EAAG-secret-token" not in html


def test_removing_a_messenger_channel_unsubscribes_the_app_from_the_page(cast, workspace, mocked):
    """Graph API reference, "Page Subscribed Apps" (developers.facebook.com/docs/
    graph-api/reference/page/subscribed_apps): the edge subscribes or unsubscribes an
    app for the Page's webhooks, with a Page access token; its writes answer
    {"success": true}. Octopods subscribed the app when the channel was added."""
    channel = meta_channel(workspace, "messenger")
    mocked.delete(f"{GRAPH}/1001/subscribed_apps", json={"success": True})
    html = removed_page(cast, channel)
    assert "Acme messenger was removed." in html
    (call,) = mocked.calls
    assert call.request.method == "DELETE"
    assert call.request.headers["Authorization"] == "Bearer EAAG-page-token"


def test_when_meta_refuses_to_unsubscribe_the_page_the_page_says_what_to_do(
    cast, workspace, mocked
):
    channel = meta_channel(workspace, "messenger")
    mocked.delete(
        f"{GRAPH}/1001/subscribed_apps",
        status=400,
        json=graph_refusal(190, "Error validating access token: Session has expired"),
    )
    html = removed_page(cast, channel)
    assert "Acme messenger was removed. Octopods could not tell Messenger to stop" in html
    assert "Meta may still send this Page&#x27;s messages to Octopods" in html
    assert "Messenger API Settings" in html


@pytest.mark.parametrize("pk", [2**63, 2**64 + 7, 0])
def test_a_channel_id_no_row_can_have_is_a_404(cast, channel, pk):
    assert cast.admin_client.get(f"/channels/{pk}/").status_code == 404
