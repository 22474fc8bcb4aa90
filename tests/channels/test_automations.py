"""The rules of a channel's automations and the functions the relay calls with them:
the schedule, the signature and message templates."""

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from channels.automations import (
    SCHEDULE_PREFETCH,
    Block,
    HolidayEntry,
    TemplateVariablesError,
    channel_is_open,
    holidays_parse,
    hours_format,
    hours_parse,
    language_normalize,
    signature_check,
    signature_render,
    template_render,
    template_variable_count,
    time_zone_check,
)
from channels.models import Channel, Holiday, MessageTemplate, OpeningHours
from workspaces.models import Provider, Workspace

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def at(*args, tz="UTC"):
    return datetime(*args, tzinfo=ZoneInfo(tz))


def messages_of(error: ValidationError) -> list[str]:
    return error.value.messages


@pytest.fixture
def channel(cast):
    workspace = Workspace.objects.create(
        account=cast.account, provider=Provider.INTERCOM, external_id="acme", name="Acme"
    )
    return Channel.objects.create(
        workspace=workspace, kind="whatsapp", name="Acme WhatsApp", identity="PNID"
    )


def schedule(channel, *, time_zone="UTC", hours=(), holidays=()):
    """Turn out-of-office on with these (weekday, "HH:MM-HH:MM, …") and dates."""
    channel.away_enabled = True
    channel.time_zone = time_zone
    channel.away_message = "We are closed."
    channel.save()
    for weekday, text in hours:
        OpeningHours.objects.bulk_create(
            OpeningHours(channel=channel, weekday=b.weekday, opens=b.opens, closes=b.closes)
            for b in hours_parse(text, weekday=weekday)
        )
    Holiday.objects.bulk_create(Holiday(channel=channel, date=day) for day in holidays)
    return Channel.objects.prefetch_related(*SCHEDULE_PREFETCH).get(pk=channel.pk)


# --- channel_is_open ----------------------------------------------------------------


@pytest.mark.django_db
def test_it_is_always_open_when_out_of_office_is_off(channel, django_assert_num_queries):
    Holiday.objects.create(channel=channel, date=date(2025, 12, 25))
    with django_assert_num_queries(0):
        assert channel_is_open(channel=channel, at=at(2025, 12, 25, 3, 0))
        assert channel_is_open(channel=channel, at=at(2025, 12, 28, 23, 0))


@pytest.mark.django_db
def test_it_is_open_from_a_blocks_start_until_just_before_its_end(channel):
    # 2025-03-03 is a Monday.
    channel = schedule(channel, hours=[(MON, "09:00-12:00, 13:00-17:30")])
    assert not channel_is_open(channel=channel, at=at(2025, 3, 3, 8, 59, 59))
    assert channel_is_open(channel=channel, at=at(2025, 3, 3, 9, 0))
    assert channel_is_open(channel=channel, at=at(2025, 3, 3, 11, 59, 59))
    assert not channel_is_open(channel=channel, at=at(2025, 3, 3, 12, 0))
    assert not channel_is_open(channel=channel, at=at(2025, 3, 3, 12, 30))
    assert channel_is_open(channel=channel, at=at(2025, 3, 3, 13, 0))
    assert channel_is_open(channel=channel, at=at(2025, 3, 3, 17, 29, 59))
    assert not channel_is_open(channel=channel, at=at(2025, 3, 3, 17, 30))


@pytest.mark.django_db
def test_a_day_without_blocks_is_closed(channel):
    channel = schedule(channel, hours=[(MON, "00:00-24:00")])
    assert channel_is_open(channel=channel, at=at(2025, 3, 3, 12, 0))
    assert not channel_is_open(channel=channel, at=at(2025, 3, 4, 12, 0))  # Tuesday


@pytest.mark.django_db
def test_it_is_always_closed_with_no_hours_at_all(channel):
    channel = schedule(channel)
    assert not channel_is_open(channel=channel, at=at(2025, 3, 3, 12, 0))


@pytest.mark.django_db
def test_a_block_to_24_00_stays_open_until_midnight(channel):
    channel = schedule(channel, hours=[(MON, "22:00-24:00"), (TUE, "00:00-02:00")])
    assert channel_is_open(channel=channel, at=at(2025, 3, 3, 23, 59, 59))
    assert channel_is_open(channel=channel, at=at(2025, 3, 4, 0, 0))
    assert channel_is_open(channel=channel, at=at(2025, 3, 4, 1, 59))
    assert not channel_is_open(channel=channel, at=at(2025, 3, 4, 2, 0))


@pytest.mark.django_db
def test_it_reads_the_hours_in_the_channels_time_zone(channel):
    channel = schedule(channel, time_zone="Europe/Paris", hours=[(MON, "09:00-17:00")])
    # Paris is UTC+1 in winter: 09:00 there is 08:00 UTC.
    assert not channel_is_open(channel=channel, at=at(2025, 3, 3, 7, 59))
    assert channel_is_open(channel=channel, at=at(2025, 3, 3, 8, 0))
    assert channel_is_open(channel=channel, at=at(2025, 3, 3, 15, 59))
    assert not channel_is_open(channel=channel, at=at(2025, 3, 3, 16, 0))
    # The same instant given in another zone is the same answer.
    assert channel_is_open(channel=channel, at=at(2025, 3, 3, 3, 0, tz="America/New_York"))


@pytest.mark.django_db
def test_the_hours_stay_wall_clock_hours_across_a_dst_change(channel):
    # New York moves from UTC-5 to UTC-4 on Sunday 2025-03-09.
    channel = schedule(channel, time_zone="America/New_York", hours=[(MON, "09:00-17:00")])
    # Monday before: 09:00 local is 14:00 UTC.
    assert not channel_is_open(channel=channel, at=at(2025, 3, 3, 13, 30))
    assert channel_is_open(channel=channel, at=at(2025, 3, 3, 14, 0))
    assert channel_is_open(channel=channel, at=at(2025, 3, 3, 21, 59))
    assert not channel_is_open(channel=channel, at=at(2025, 3, 3, 22, 0))
    # Monday after: 09:00 local is 13:00 UTC.
    assert channel_is_open(channel=channel, at=at(2025, 3, 10, 13, 30))
    assert not channel_is_open(channel=channel, at=at(2025, 3, 10, 12, 59))
    assert channel_is_open(channel=channel, at=at(2025, 3, 10, 20, 59))
    assert not channel_is_open(channel=channel, at=at(2025, 3, 10, 21, 0))


@pytest.mark.django_db
def test_a_block_spanning_the_skipped_hour_is_open_on_both_sides(channel):
    # On 2025-03-09 New York's clocks jump from 02:00 to 03:00.
    channel = schedule(channel, time_zone="America/New_York", hours=[(SUN, "01:00-04:00")])
    assert not channel_is_open(channel=channel, at=at(2025, 3, 9, 5, 59))  # 00:59 EST
    assert channel_is_open(channel=channel, at=at(2025, 3, 9, 6, 59))  # 01:59 EST
    assert channel_is_open(channel=channel, at=at(2025, 3, 9, 7, 0))  # 03:00 EDT
    assert not channel_is_open(channel=channel, at=at(2025, 3, 9, 8, 0))  # 04:00 EDT


@pytest.mark.django_db
def test_the_weekday_is_the_local_one(channel):
    # Auckland is UTC+13 in January: Sunday 21:00 UTC is Monday 10:00 there.
    channel = schedule(channel, time_zone="Pacific/Auckland", hours=[(MON, "09:00-17:00")])
    assert channel_is_open(channel=channel, at=at(2025, 1, 5, 21, 0))
    assert not channel_is_open(channel=channel, at=at(2025, 1, 6, 21, 0))  # Tuesday there


@pytest.mark.django_db
def test_a_holiday_closes_its_whole_local_date(channel):
    every_day = [(day, "00:00-24:00") for day in range(7)]
    channel = schedule(
        channel, time_zone="Europe/Paris", hours=every_day, holidays=[date(2025, 12, 25)]
    )
    # 22:30 UTC on the 24th is 23:30 in Paris, still the 24th; an hour later it is the 25th.
    assert channel_is_open(channel=channel, at=at(2025, 12, 24, 22, 30))
    assert not channel_is_open(channel=channel, at=at(2025, 12, 24, 23, 30))
    assert not channel_is_open(channel=channel, at=at(2025, 12, 25, 22, 59))
    assert channel_is_open(channel=channel, at=at(2025, 12, 25, 23, 0))


@pytest.mark.django_db
def test_a_holiday_west_of_utc_follows_the_local_date_too(channel):
    every_day = [(day, "00:00-24:00") for day in range(7)]
    channel = schedule(
        channel, time_zone="America/Los_Angeles", hours=every_day, holidays=[date(2025, 12, 25)]
    )
    # 03:00 UTC on the 26th is 19:00 on the 25th in Los Angeles.
    assert not channel_is_open(channel=channel, at=at(2025, 12, 26, 3, 0))
    assert channel_is_open(channel=channel, at=at(2025, 12, 26, 8, 0))


@pytest.mark.django_db
def test_a_naive_datetime_is_refused(channel):
    channel = schedule(channel, hours=[(MON, "09:00-17:00")])
    with pytest.raises(ValueError, match="aware"):
        channel_is_open(channel=channel, at=datetime(2025, 3, 3, 10, 0))


@pytest.mark.django_db
def test_it_makes_no_query_with_the_schedule_prefetched(channel, django_assert_num_queries):
    channel = schedule(
        channel,
        hours=[(day, "09:00-12:00, 13:00-17:00") for day in range(5)],
        holidays=[date(2025, 1, day) for day in range(1, 20)],
    )
    with django_assert_num_queries(0):
        for hour in range(24):
            channel_is_open(channel=channel, at=at(2025, 3, 3, hour, 0))


@pytest.mark.django_db
def test_without_the_prefetch_it_costs_two_queries(channel, django_assert_num_queries):
    schedule(channel, hours=[(MON, "09:00-17:00")], holidays=[date(2025, 12, 25)])
    channel = Channel.objects.get(pk=channel.pk)
    with django_assert_num_queries(2):
        assert channel_is_open(channel=channel, at=at(2025, 3, 3, 10, 0))


@pytest.mark.django_db
def test_a_time_zone_the_server_no_longer_knows_is_read_as_utc(channel, caplog):
    channel = schedule(channel, hours=[(MON, "09:00-17:00")])
    channel.time_zone = "Mars/Olympus_Mons"
    assert channel_is_open(channel=channel, at=at(2025, 3, 3, 9, 0))
    assert "unknown time zone" in caplog.text


# --- Opening hours and holidays as admins type them ---------------------------------


def test_hours_parse_reads_several_blocks_in_any_order():
    blocks = hours_parse("13:00-17:30, 09:00-12:00", weekday=MON)
    assert blocks == [Block(MON, 9 * 60, 12 * 60), Block(MON, 13 * 60, 17 * 60 + 30)]
    assert hours_format(blocks) == "09:00-12:00, 13:00-17:30"


def test_hours_parse_is_lenient_about_spacing_dashes_and_single_digit_hours():
    assert hours_parse(" 9:00 \u2013 12:00 ;13:00 -17:00 ", weekday=TUE) == [
        Block(TUE, 9 * 60, 12 * 60),
        Block(TUE, 13 * 60, 17 * 60),
    ]


def test_hours_parse_reads_empty_and_closed_as_no_blocks():
    assert hours_parse("", weekday=MON) == []
    assert hours_parse("  Closed ", weekday=MON) == []


def test_adjacent_blocks_do_not_overlap():
    assert len(hours_parse("09:00-12:00, 12:00-13:00", weekday=MON)) == 2


def test_a_block_must_end_after_it_starts():
    with pytest.raises(ValidationError) as error:
        hours_parse("12:00-09:00", weekday=WED)
    assert messages_of(error) == [
        "Wednesday: 12:00-09:00 must end after it starts. An overnight shift is two blocks: "
        "22:00-24:00 on one day and 00:00-06:00 on the next."
    ]
    with pytest.raises(ValidationError, match="must end after it starts"):
        hours_parse("09:00-09:00", weekday=WED)


def test_blocks_of_one_day_must_not_overlap():
    with pytest.raises(ValidationError) as error:
        hours_parse("09:00-12:00, 11:30-14:00", weekday=FRI)
    assert messages_of(error) == ["Friday: 09:00-12:00 and 11:30-14:00 overlap."]


def test_times_must_be_hh_mm():
    with pytest.raises(ValidationError) as error:
        hours_parse("09:00-25:00, 9h-12:60", weekday=SAT)
    assert messages_of(error) == [
        "Saturday: “25:00” is not a time. Use HH:MM from 00:00 to 23:59 "
        "(24:00 to close at midnight).",
        "Saturday: “9h” is not a time. Use HH:MM from 00:00 to 23:59 (24:00 to close at midnight).",
        "Saturday: “12:60” is not a time. Use HH:MM from 00:00 to 23:59 "
        "(24:00 to close at midnight).",
    ]


def test_a_block_needs_a_start_and_an_end():
    with pytest.raises(ValidationError) as error:
        hours_parse("09:00", weekday=SUN)
    assert messages_of(error) == [
        "Sunday: “09:00” is not a block of time. Write HH:MM-HH:MM, e.g. 09:00-12:00, "
        "and separate blocks with commas."
    ]


def test_holidays_parse_reads_dates_with_optional_names_and_skips_blank_lines():
    text = "2025-12-26 Boxing Day\n\n  2025-12-25   Christmas Day  \n2026-01-01\n"
    assert holidays_parse(text) == [
        HolidayEntry(date(2025, 12, 25), "Christmas Day"),
        HolidayEntry(date(2025, 12, 26), "Boxing Day"),
        HolidayEntry(date(2026, 1, 1), ""),
    ]


def test_a_holiday_date_must_be_a_real_date():
    with pytest.raises(ValidationError) as error:
        holidays_parse("2025-12-25 Christmas\n2025-02-30 Nope\n25/12/2025 Christmas")
    assert messages_of(error) == [
        "Line 2: 2025-02-30 is not a real date.",
        "Line 3: “25/12/2025” is not a date. Start the line with YYYY-MM-DD, "
        "e.g. 2025-12-25 Christmas Day.",
    ]


def test_a_holiday_date_cannot_be_listed_twice():
    with pytest.raises(ValidationError) as error:
        holidays_parse("2025-12-25 Christmas\n2025-12-26\n2025-12-25 Again")
    assert messages_of(error) == ["Line 3: 2025-12-25 is already listed on line 1."]


def test_a_holiday_name_has_a_maximum_length():
    with pytest.raises(ValidationError, match="Line 1: the name is longer than 100"):
        holidays_parse("2025-12-25 " + "x" * 101)


def test_time_zones_are_iana_names_zoneinfo_knows():
    assert time_zone_check("America/Sao_Paulo") == "America/Sao_Paulo"
    assert time_zone_check("UTC") == "UTC"
    for wrong in ("Europe/Pariss", "../etc/passwd", "localtime", ""):
        with pytest.raises(ValidationError, match="is not a time zone we know"):
            time_zone_check(wrong)


# --- Signature ----------------------------------------------------------------------


def test_a_signature_may_use_the_two_placeholders():
    signature_check("— {agent_name}, {channel_name}")
    signature_check("Thanks! The Acme team")
    signature_check("")


def test_unknown_placeholders_are_named():
    with pytest.raises(ValidationError) as error:
        signature_check("{agent} at {company} ({agent})")
    assert messages_of(error) == [
        "Unknown placeholders {agent}, {company}: the signature can use {agent_name} and "
        "{channel_name}."
    ]
    with pytest.raises(ValidationError, match=r"^\['Unknown placeholder \{AGENT_NAME\}:"):
        signature_check("{AGENT_NAME}")


def test_unbalanced_braces_are_refused():
    with pytest.raises(ValidationError) as error:
        signature_check("— {agent_name")
    assert messages_of(error) == [
        "A “{” is never closed: placeholders look like {agent_name}, "
        "and braces cannot be used otherwise."
    ]
    with pytest.raises(ValidationError, match=re.escape("A “}” has no opening “{”")):
        signature_check("agent_name} here")


@pytest.mark.django_db
def test_signature_render_fills_the_placeholders(channel):
    channel.signature = "— {agent_name}, { channel_name }"
    assert signature_render(channel=channel, agent_name="Ana") == "— Ana, Acme WhatsApp"


@pytest.mark.django_db
def test_signature_render_is_empty_without_a_signature(channel):
    channel.signature = ""
    assert signature_render(channel=channel, agent_name="Ana") == ""
    channel.signature = "  \n "
    assert signature_render(channel=channel, agent_name="Ana") == ""


@pytest.mark.django_db
def test_signature_render_inserts_values_as_they_are(channel):
    channel.signature = "{agent_name} / {channel_name}"
    assert signature_render(channel=channel, agent_name="{channel_name}") == (
        "{channel_name} / Acme WhatsApp"
    )


@pytest.mark.django_db
def test_signature_render_leaves_a_placeholder_it_does_not_know_as_written(channel):
    channel.signature = "{agent_name} {team}"
    assert signature_render(channel=channel, agent_name="Ana") == "Ana {team}"


# --- Templates ----------------------------------------------------------------------


def test_template_variables_are_counted():
    assert template_variable_count("Hello") == 0
    assert template_variable_count("Hi {{1}}, order {{2}} ships {{3}}. Bye {{1}}") == 3
    assert template_variable_count("Hi {{ 2 }} and {{1}}") == 2


def test_a_missing_variable_number_is_named():
    with pytest.raises(ValidationError) as error:
        template_variable_count("Hi {{1}}, order {{3}}")
    assert messages_of(error) == [
        "Variable {{2}} is missing: number the variables from {{1}} with no gaps "
        "(this text has {{1}}, {{3}})."
    ]
    with pytest.raises(ValidationError) as error:
        template_variable_count("Order {{3}}")
    assert messages_of(error) == [
        "Variables {{1}}, {{2}} are missing: number the variables from {{1}} with no gaps "
        "(this text has {{3}})."
    ]


def test_variables_are_numbers_from_one_in_double_braces():
    with pytest.raises(ValidationError) as error:
        template_variable_count("Hi {{name}}, {{0}} and {1}")
    assert messages_of(error) == [
        "{{name}} is not a variable: variables are numbers in double braces, like {{1}}.",
        "{1} needs double braces: {{1}}.",
        "Variables are numbered from {{1}}: {{0}} is not allowed.",
    ]


def test_language_codes_take_metas_form():
    assert language_normalize("en") == "en"
    assert language_normalize("pt_BR") == "pt_BR"
    assert language_normalize(" en-us ") == "en_US"
    assert language_normalize("FIL") == "fil"
    for wrong in ("english", "e", "en_USA", "en US"):
        with pytest.raises(ValidationError, match="is not a language code"):
            language_normalize(wrong)


def template(body, name="Order update", language="en"):
    return MessageTemplate(name=name, language=language, body=body)


def test_template_render_fills_the_variables_in_order():
    shipped = template("Hi {{1}}, order {{2}} has shipped. Thanks, {{1}}!")
    assert template_render(template=shipped, variables=["Ana", "A-17"]) == (
        "Hi Ana, order A-17 has shipped. Thanks, Ana!"
    )
    assert template_render(template=template("No variables."), variables=[]) == "No variables."


def test_template_render_inserts_values_as_they_are():
    rendered = template_render(template=template("{{1}} / {{2}}"), variables=["{{2}}", "x"])
    assert rendered == "{{2}} / x"


def test_template_render_refuses_the_wrong_number_of_variables():
    shipped = template("Hi {{1}}, order {{2}} has shipped.")
    with pytest.raises(TemplateVariablesError) as error:
        template_render(template=shipped, variables=["Ana", "A-17", "extra"])
    assert str(error.value) == (
        "Template “Order update” (en) takes 2 variables ({{1}}, {{2}}); 3 were given."
    )
    with pytest.raises(TemplateVariablesError, match=r"takes 2 variables .*; 1 was given\."):
        template_render(template=shipped, variables=["Ana"])
    with pytest.raises(TemplateVariablesError, match=r"takes none; 1 was given\."):
        template_render(template=template("Hello"), variables=["Ana"])


def test_template_render_refuses_blank_values():
    with pytest.raises(TemplateVariablesError) as error:
        template_render(template=template("{{1}} {{2}}"), variables=["Ana", "  "])
    assert str(error.value) == "Template “Order update” (en): {{2}} cannot be empty."
