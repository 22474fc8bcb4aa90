"""A channel's settings pages: admins edit each section, members read, outsiders get 404."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from channels.models import Channel, Holiday, MessageTemplate, OpeningHours
from channels.settings_services import TemplateNameTaken, template_create
from workspaces.models import Provider, Workspace

pytestmark = pytest.mark.django_db

WEEK = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


@pytest.fixture
def workspace(cast):
    return Workspace.objects.create(
        account=cast.account, provider=Provider.INTERCOM, external_id="acme", name="Acme Help"
    )


def make_channel(workspace, kind="whatsapp", name="Acme WhatsApp"):
    return Channel.objects.create(
        workspace=workspace, kind=kind, name=name, identity=f"{kind}-{name}"
    )


@pytest.fixture
def channel(workspace):
    return make_channel(workspace)


def settings_url(channel, section=None):
    name = f"channels:settings_{section}" if section else "channels:settings"
    return reverse(name, args=[channel.pk])


def away_data(**changes):
    data = {
        "away-enabled": "on",
        "away-time_zone": "Europe/Paris",
        "away-monday": "09:00-12:00, 13:00-17:30",
        "away-tuesday": "09:00-17:30",
        "away-wednesday": "",
        "away-thursday": "",
        "away-friday": "",
        "away-saturday": "",
        "away-sunday": "",
        "away-holidays": "2025-12-25 Christmas Day\n2026-01-01",
        "away-message": "We are closed; we answer from 09:00.",
    }
    data.update({f"away-{key}": value for key, value in changes.items()})
    return {key: value for key, value in data.items() if value is not None}


def page(response) -> str:
    return response.content.decode()


# --- The page -----------------------------------------------------------------------


def test_admins_see_a_form_per_section(cast, channel):
    response = cast.admin_client.get(settings_url(channel))
    assert response.status_code == 200
    html = page(response)
    for section in ("welcome", "away", "signature"):
        assert f'action="{settings_url(channel, section)}"' in html
    assert reverse("channels:template_add", args=[channel.pk]) in html
    assert f'href="{reverse("channels:detail", args=[channel.pk])}"' in html
    assert "<legend>Opening hours</legend>" in html
    assert '<option value="Europe/Paris">Europe/Paris</option>' in html
    assert "css/settings.css" in html


def test_members_read_the_settings_without_forms(cast, channel):
    channel.welcome_enabled, channel.welcome_message = True, "Hello there!"
    channel.away_enabled, channel.time_zone = True, "Europe/Lisbon"
    channel.away_message, channel.signature = "Back at nine.", "— {agent_name}"
    channel.save()
    OpeningHours.objects.create(channel=channel, weekday=0, opens=9 * 60, closes=12 * 60)
    OpeningHours.objects.create(channel=channel, weekday=0, opens=13 * 60, closes=24 * 60)
    Holiday.objects.create(channel=channel, date=date(2025, 12, 25), name="Christmas Day")
    MessageTemplate.objects.create(
        channel=channel, name="Order update", language="pt_BR", body="Oi {{1}}"
    )
    response = cast.member_client.get(settings_url(channel))
    assert response.status_code == 200
    html = page(response)
    assert "Only admins can change these settings." in html
    assert "Hello there!" in html
    assert "Europe/Lisbon" in html
    assert '<th scope="row">Monday</th><td>09:00-12:00, 13:00-24:00</td>' in html
    assert '<th scope="row">Tuesday</th><td>Closed</td>' in html
    assert "2025-12-25</time> Christmas Day" in html
    assert "Back at nine." in html
    assert "— {agent_name}" in html
    assert "Order update" in html and "pt_BR" in html and "Oi {{1}}" in html
    assert "/settings/welcome/" not in html
    assert "/templates/" not in html
    assert "<textarea" not in html and "<select" not in html
    assert "<button" in html  # only the top bar's Sign out
    assert html.count("<button") == 1


def test_another_accounts_channel_is_a_404(cast):
    theirs = make_channel(cast.other_workspace, kind="telegram", name="Globex bot")
    assert cast.admin_client.get(settings_url(theirs)).status_code == 404
    assert cast.outsider_client.get(settings_url(theirs)).status_code == 200


def test_the_page_costs_the_same_queries_for_1_or_20_rows(cast, workspace):
    def fill(channel, count):
        OpeningHours.objects.bulk_create(
            OpeningHours(channel=channel, weekday=i % 7, opens=i * 60, closes=i * 60 + 30)
            for i in range(count)
        )
        Holiday.objects.bulk_create(
            Holiday(channel=channel, date=date(2025, 1, i + 1)) for i in range(count)
        )
        MessageTemplate.objects.bulk_create(
            MessageTemplate(channel=channel, name=f"T{i}", language="en", body="Hi {{1}}")
            for i in range(count)
        )
        return channel

    small = fill(make_channel(workspace, name="Small"), 1)
    large = fill(make_channel(workspace, name="Large"), 20)
    for client in (cast.admin_client, cast.member_client):
        counts = []
        for channel in (small, large):
            client.get(settings_url(channel))  # session and caches warm
            with CaptureQueriesContext(connection) as queries:
                assert client.get(settings_url(channel)).status_code == 200
            counts.append(len(queries))
        assert counts[0] == counts[1]


# --- Welcome message ----------------------------------------------------------------


def test_admins_turn_the_welcome_message_on(cast, channel):
    client = cast.admin_client
    response = client.post(
        settings_url(channel, "welcome"),
        {"welcome-enabled": "on", "welcome-message": "Hi! We reply within the hour."},
    )
    assert response.status_code == 302
    assert response["Location"] == settings_url(channel) + "#welcome"
    channel.refresh_from_db()
    assert channel.welcome_enabled
    assert channel.welcome_message == "Hi! We reply within the hour."
    html = page(client.get(response["Location"]))
    assert "Welcome message saved." in html
    assert "Hi! We reply within the hour.</textarea>" in html
    assert 'name="welcome-enabled" id="id_welcome-enabled" checked' in html


def test_turning_the_welcome_message_off_keeps_its_text(cast, channel):
    channel.welcome_enabled, channel.welcome_message = True, "Hi!"
    channel.save()
    cast.admin_client.post(settings_url(channel, "welcome"), {"welcome-message": "Hi!"})
    channel.refresh_from_db()
    assert not channel.welcome_enabled
    assert channel.welcome_message == "Hi!"


def test_a_welcome_message_that_is_on_needs_text(cast, channel):
    response = cast.admin_client.post(
        settings_url(channel, "welcome"), {"welcome-enabled": "on", "welcome-message": "  "}
    )
    assert response.status_code == 400
    html = page(response)
    assert "Welcome message not saved: see what to fix below." in html
    assert '<label for="id_welcome-message">Welcome message</label>' in html
    assert "Write the welcome message, or turn the welcome message off." in html
    assert 'aria-describedby="id_welcome-message_helptext id_welcome-message_error"' in html
    assert 'id="id_welcome-message_error"' in html
    assert 'aria-invalid="true"' in html
    # The other sections still show their forms.
    assert f'action="{settings_url(channel, "away")}"' in html
    channel.refresh_from_db()
    assert not channel.welcome_enabled


def test_a_welcome_message_has_a_maximum_length(cast, channel):
    response = cast.admin_client.post(
        settings_url(channel, "welcome"), {"welcome-enabled": "on", "welcome-message": "x" * 1001}
    )
    assert response.status_code == 400
    assert "Ensure this value has at most 1000 characters (it has 1001)." in page(response)


# --- Out-of-office ------------------------------------------------------------------


def test_admins_save_a_schedule_as_rows(cast, channel):
    client = cast.admin_client
    response = client.post(settings_url(channel, "away"), away_data())
    assert response.status_code == 302
    assert response["Location"] == settings_url(channel) + "#away"
    channel.refresh_from_db()
    assert channel.away_enabled
    assert channel.time_zone == "Europe/Paris"
    assert channel.away_message == "We are closed; we answer from 09:00."
    assert list(channel.opening_hours.values_list("weekday", "opens", "closes")) == [
        (0, 540, 720),
        (0, 780, 1050),
        (1, 540, 1050),
    ]
    assert list(channel.holidays.values_list("date", "name")) == [
        (date(2025, 12, 25), "Christmas Day"),
        (date(2026, 1, 1), ""),
    ]
    html = page(client.get(response["Location"]))
    assert "Out-of-office saved." in html
    assert 'value="09:00-12:00, 13:00-17:30"' in html
    assert "2025-12-25 Christmas Day\n2026-01-01</textarea>" in html
    assert '<option value="Europe/Paris" selected>' in html


def test_saving_again_replaces_the_hours_and_holidays(cast, channel):
    client = cast.admin_client
    client.post(settings_url(channel, "away"), away_data())
    client.post(
        settings_url(channel, "away"),
        away_data(monday="", tuesday="", sunday="10:00-14:00", holidays="2026-05-01 May Day"),
    )
    assert list(channel.opening_hours.values_list("weekday", "opens", "closes")) == [(6, 600, 840)]
    assert list(channel.holidays.values_list("date", "name")) == [(date(2026, 5, 1), "May Day")]


def test_the_holidays_have_a_size_limit(cast, channel):
    lines = [date.fromordinal(date(2026, 1, 1).toordinal() + n).isoformat() for n in range(400)]
    response = cast.admin_client.post(
        settings_url(channel, "away"), away_data(holidays="\n".join(lines))
    )
    assert response.status_code == 400
    assert "at most 370 holidays" in page(response)
    too_long = cast.admin_client.post(
        settings_url(channel, "away"), away_data(holidays="2026-01-01 " + "x" * 30_000)
    )
    assert too_long.status_code == 400
    assert not channel.holidays.exists()


def test_out_of_office_off_needs_no_message(cast, channel):
    response = cast.admin_client.post(
        settings_url(channel, "away"), away_data(enabled=None, message="")
    )
    assert response.status_code == 302
    channel.refresh_from_db()
    assert not channel.away_enabled
    assert channel.opening_hours.count() == 3


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"thursday": "17:00-09:00"},
            "thursday",
            "Thursday: 17:00-09:00 must end after it starts.",
        ),
        (
            {"friday": "09:00-12:00, 11:00-13:00"},
            "friday",
            "Friday: 09:00-12:00 and 11:00-13:00 overlap.",
        ),
        ({"saturday": "9am-1pm"}, "saturday", "Saturday: “9am” is not a time."),
        ({"sunday": "10:00"}, "sunday", "Sunday: “10:00” is not a block of time."),
        (
            {"holidays": "2025-12-25\n2025-13-01 Nope"},
            "holidays",
            "Line 2: 2025-13-01 is not a real date.",
        ),
        (
            {"holidays": "2025-12-25\n2025-12-25 again"},
            "holidays",
            "Line 2: 2025-12-25 is already listed on line 1.",
        ),
        (
            {"time_zone": "Europe/Atlantis"},
            "time_zone",
            "“Europe/Atlantis” is not a time zone we know: choose one from the list.",
        ),
        ({"message": ""}, "message", "Write the away message, or turn out-of-office off."),
    ],
)
def test_a_wrong_schedule_is_refused_with_a_readable_error(cast, channel, changes, field, message):
    data = away_data(**changes)
    response = cast.admin_client.post(settings_url(channel, "away"), data)
    assert response.status_code == 400
    html = page(response)
    assert f'<ul class="errorlist" id="id_away-{field}_error"><li>{message}' in html
    assert f'aria-describedby="id_away-{field}_error"' in html or (
        f'aria-describedby="id_away-{field}_helptext id_away-{field}_error"' in html
    )
    channel.refresh_from_db()
    assert not channel.away_enabled
    assert not channel.opening_hours.exists()
    assert not channel.holidays.exists()


def test_the_schedule_form_keeps_what_the_admin_typed(cast, channel):
    data = away_data(thursday="17:00-09:00", holidays="2025-12-25 Christmas\n2025-02-30 Oops")
    html = page(cast.admin_client.post(settings_url(channel, "away"), data))
    assert 'value="17:00-09:00"' in html
    assert 'value="09:00-12:00, 13:00-17:30"' in html
    assert "2025-12-25 Christmas\n2025-02-30 Oops</textarea>" in html
    assert "We are closed; we answer from 09:00.</textarea>" in html
    assert '<option value="Europe/Paris" selected>' in html
    assert 'name="away-enabled" id="id_away-enabled" checked' in html


# --- Signature ----------------------------------------------------------------------


def test_admins_save_a_signature(cast, channel):
    client = cast.admin_client
    response = client.post(
        settings_url(channel, "signature"), {"signature-signature": "— {agent_name}, Acme"}
    )
    assert response.status_code == 302
    assert response["Location"] == settings_url(channel) + "#signature"
    channel.refresh_from_db()
    assert channel.signature == "— {agent_name}, Acme"
    html = page(client.get(response["Location"]))
    assert "Signature saved." in html
    assert "— {agent_name}, Acme</textarea>" in html


def test_an_empty_signature_means_none(cast, channel):
    channel.signature = "— {agent_name}"
    channel.save()
    cast.admin_client.post(settings_url(channel, "signature"), {"signature-signature": ""})
    channel.refresh_from_db()
    assert channel.signature == ""


def test_a_signature_with_unknown_placeholders_names_them(cast, channel):
    response = cast.admin_client.post(
        settings_url(channel, "signature"), {"signature-signature": "{agent} from {team"}
    )
    assert response.status_code == 400
    html = page(response)
    assert "Unknown placeholder {agent}: the signature can use {agent_name} and" in html
    assert "A “{” is never closed" in html
    assert "{agent} from {team</textarea>" in html
    channel.refresh_from_db()
    assert channel.signature == ""


# --- Templates ----------------------------------------------------------------------


def template_data(**changes):
    data = {
        "name": "Order update",
        "language": "en-us",
        "body": "Hi {{1}}, order {{2}} has shipped.",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_admins_add_a_saved_text_to_a_whatsapp_channel(cast, channel):
    client = cast.admin_client
    add = reverse("channels:template_add", args=[channel.pk])
    response = client.post(add, template_data())
    assert response.status_code == 302
    assert response["Location"] == settings_url(channel) + "#templates"
    template = channel.templates.get()
    assert (template.name, template.language) == ("Order update", "en_US")
    html = page(client.get(response["Location"]))
    assert "Template “Order update (en_US)” added." in html
    assert reverse("channels:template_edit", args=[channel.pk, template.pk]) in html
    assert reverse("channels:template_delete", args=[channel.pk, template.pk]) in html


def test_a_whatsapp_settings_page_points_at_the_templates_synced_from_meta(cast, channel):
    html = page(cast.admin_client.get(settings_url(channel)))
    assert "Templates Meta approved" in html
    assert reverse("channels:detail", args=[channel.pk]) + "#templates-heading" in html


def test_other_kinds_keep_their_saved_texts_alone(cast, workspace):
    telegram = make_channel(workspace, kind="telegram", name="Acme bot")
    add = reverse("channels:template_add", args=[telegram.pk])
    response = cast.admin_client.post(add, template_data())
    assert response.status_code == 302
    assert telegram.templates.get().body == "Hi {{1}}, order {{2}} has shipped."
    assert "Templates Meta approved" not in page(cast.admin_client.get(settings_url(telegram)))


def test_a_template_with_a_gap_in_its_variables_says_which_is_missing(cast, channel):
    add = reverse("channels:template_add", args=[channel.pk])
    response = cast.admin_client.post(add, template_data(body="Hi {{1}}, order {{3}}."))
    assert response.status_code == 400
    html = page(response)
    assert "Variable {{2}} is missing" in html
    assert 'aria-describedby="id_body_helptext id_body_error"' in html
    # What was typed stays.
    assert "Hi {{1}}, order {{3}}.</textarea>" in html
    assert 'value="Order update"' in html


def test_a_variable_number_beyond_the_limit_is_refused_in_linear_time(cast, channel):
    # {{99999999999}} once made the check list every missing variable up to it, and the
    # web worker was killed at 14 GB; the cost must not grow with the number written.
    import tracemalloc

    add = reverse("channels:template_add", args=[channel.pk])
    tracemalloc.start()
    try:
        response = cast.admin_client.post(add, template_data(body="Hi {{1}} {{200000}}."))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 400
    assert "{{200000}} is beyond the 100 variables a template can have" in page(response)
    assert peak < 2_000_000
    assert len(response.content) < 100_000
    huge = cast.admin_client.post(add, template_data(body="{{99999999999}}"))
    assert huge.status_code == 400
    assert not MessageTemplate.objects.exists()


def test_missing_variables_are_listed_up_to_a_few(cast, channel):
    body = " ".join(f"{{{{{n}}}}}" for n in (1, 60))
    add = reverse("channels:template_add", args=[channel.pk])
    html = page(cast.admin_client.post(add, template_data(body=body)))
    assert "Variables {{2}}, {{3}}, {{4}}, {{5}}, {{6}} and 53 more are missing" in html


def test_variables_are_ascii_digits(cast, channel):
    add = reverse("channels:template_add", args=[channel.pk])
    # Both pass str.isdigit(); neither is a variable number.
    for body in ("Hi {{\u00b2}}", "Hi {{\u0661}}"):
        response = cast.admin_client.post(add, template_data(body=body))
        assert response.status_code == 400
        assert "is not a variable" in page(response)


def test_a_bad_language_code_is_refused(cast, channel):
    add = reverse("channels:template_add", args=[channel.pk])
    response = cast.admin_client.post(add, template_data(language="English"))
    assert response.status_code == 400
    assert "“English” is not a language code: use one like en, en_US or pt_BR." in page(response)


def test_name_and_language_are_unique_per_channel(cast, channel, workspace):
    MessageTemplate.objects.create(channel=channel, name="Order update", language="en_US", body="x")
    add = reverse("channels:template_add", args=[channel.pk])
    response = cast.admin_client.post(add, template_data())
    assert response.status_code == 400
    assert "This channel already has a template named “Order update” in en_US." in page(response)
    # Another language, or another channel, is fine.
    assert cast.admin_client.post(add, template_data(language="pt_BR")).status_code == 302
    other = make_channel(workspace, name="Second number")
    other_add = reverse("channels:template_add", args=[other.pk])
    assert cast.admin_client.post(other_add, template_data()).status_code == 302


def test_admins_edit_a_template(cast, channel):
    template = MessageTemplate.objects.create(
        channel=channel, name="Order update", language="en", body="Hi {{1}}"
    )
    edit = reverse("channels:template_edit", args=[channel.pk, template.pk])
    form = page(cast.admin_client.get(edit))
    assert 'value="Order update"' in form
    assert "Hi {{1}}</textarea>" in form
    response = cast.admin_client.post(
        edit, template_data(name="Order shipped", language="en", body="Shipped, {{1}}!")
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.name, template.body) == ("Order shipped", "Shipped, {{1}}!")
    # Saving it unchanged does not collide with itself.
    assert cast.admin_client.post(edit, template_data(name="Order shipped", language="en"))[
        "Location"
    ].endswith("#templates")


def test_admins_delete_a_template(cast, channel):
    template = MessageTemplate.objects.create(
        channel=channel, name="Order update", language="en", body="Hi"
    )
    response = cast.admin_client.post(
        reverse("channels:template_delete", args=[channel.pk, template.pk])
    )
    assert response.status_code == 302
    assert not MessageTemplate.objects.filter(pk=template.pk).exists()
    delete_get = cast.admin_client.get(
        reverse("channels:template_delete", args=[channel.pk, template.pk])
    )
    assert delete_get.status_code == 405


def test_a_template_of_another_channel_is_a_404(cast, channel, workspace):
    other = make_channel(workspace, name="Second number")
    theirs = MessageTemplate.objects.create(channel=other, name="Hi", language="en", body="Hi")
    for name in ("channels:template_edit", "channels:template_delete"):
        url = reverse(name, args=[channel.pk, theirs.pk])
        assert cast.admin_client.post(url, template_data()).status_code == 404
    assert (
        cast.admin_client.get(
            reverse("channels:template_edit", args=[channel.pk, theirs.pk])
        ).status_code
        == 404
    )
    theirs.refresh_from_db()
    assert theirs.name == "Hi"


# --- Members and outsiders ----------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "data"),
    [
        ("welcome", {"welcome-enabled": "on", "welcome-message": "Hi"}),
        ("away", away_data()),
        ("signature", {"signature-signature": "— {agent_name}"}),
    ],
)
def test_members_cannot_change_settings(cast, channel, section, data):
    response = cast.member_client.post(settings_url(channel, section), data)
    assert response.status_code == 403
    assert "Only admins can do this" in page(response)
    channel.refresh_from_db()
    assert not channel.welcome_enabled and not channel.away_enabled and channel.signature == ""
    assert not channel.opening_hours.exists()


def test_a_post_to_the_settings_page_is_403_for_members_and_405_for_admins(cast, channel):
    member = cast.member_client.post(settings_url(channel), {"welcome-enabled": "on"})
    assert member.status_code == 403
    assert "Only admins can do this" in page(member)
    assert cast.admin_client.post(settings_url(channel)).status_code == 405
    channel.refresh_from_db()
    assert not channel.welcome_enabled


def test_members_cannot_add_edit_or_delete_templates(cast, channel):
    template = MessageTemplate.objects.create(channel=channel, name="Hi", language="en", body="Hi")
    add = reverse("channels:template_add", args=[channel.pk])
    edit = reverse("channels:template_edit", args=[channel.pk, template.pk])
    delete = reverse("channels:template_delete", args=[channel.pk, template.pk])
    client = cast.member_client
    assert client.get(add).status_code == 403
    assert client.get(edit).status_code == 403
    assert client.post(add, template_data()).status_code == 403
    assert client.post(edit, template_data()).status_code == 403
    assert client.post(delete).status_code == 403
    assert list(MessageTemplate.objects.values_list("name", flat=True)) == ["Hi"]


def test_outsiders_cannot_read_or_change_our_channel(cast, channel):
    client = cast.outsider_client
    assert client.get(settings_url(channel)).status_code == 404
    for section in ("welcome", "away", "signature"):
        assert client.post(settings_url(channel, section), away_data()).status_code == 404
    assert (
        client.post(
            reverse("channels:template_add", args=[channel.pk]), template_data()
        ).status_code
        == 404
    )
    assert not channel.templates.exists()


def test_a_duplicate_that_slips_past_the_form_is_refused_by_the_database(channel):
    template_create(channel=channel, name="Hi", language="en", body="Hi")
    with pytest.raises(TemplateNameTaken, match="already has a template named “Hi” in en"):
        template_create(channel=channel, name="Hi", language="en", body="Hi")
    assert channel.templates.count() == 1


def test_admins_choose_when_a_new_conversation_starts(cast, channel):
    from datetime import timedelta

    url = reverse("channels:settings_conversations", args=[channel.pk])
    response = cast.admin_client.post(url, {"conversations-new_conversation_after": "604800"})
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.new_conversation_after == timedelta(weeks=1)
    page = cast.member_client.get(reverse("channels:settings", args=[channel.pk]))
    assert "1 week closed" in page.content.decode()
    refused = cast.admin_client.post(url, {"conversations-new_conversation_after": "60"})
    assert refused.status_code == 400
    channel.refresh_from_db()
    assert channel.new_conversation_after == timedelta(weeks=1)
