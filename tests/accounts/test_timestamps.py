"""{% timestamp %} prints exactly what the template it replaced did: the moment in the
viewer's zone with its abbreviation, the UTC instant in datetime=, the full local time
and zone in the title."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone

# The markup {% timestamp %} replaced (an included template), kept here to compare.
BEFORE = (
    "{% load tz %}{% get_current_timezone as viewer_zone %}"
    "<time datetime=\"{{ value|utc|date:'Y-m-d\\TH:i:s\\Z' }}\" "
    "title=\"{{ value|date:'Y-m-d H:i:s T' }} ({{ viewer_zone }})\">"
    '{% if format %}{{ value|date:format }}{% else %}{{ value|date:"Y-m-d H:i T" }}{% endif %}'
    "</time>"
)

MOMENTS = [
    datetime(2026, 12, 5, 18, 41, 7, 123456, tzinfo=UTC),
    datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC),  # a second before Europe's DST change
    datetime(2026, 3, 29, 1, 0, 0, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, tzinfo=ZoneInfo("Asia/Kolkata")),
    # Europe's 02:00-03:00 of 25 October 2026 happens twice: no abbreviation then.
    datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
    datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=ZoneInfo("America/St_Johns")),
]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kathmandu"])
@pytest.mark.parametrize("moment", MOMENTS)
# The formats pages use, and others that take dateformat's own way (other letters, a
# backslash) or need braces kept.
@pytest.mark.parametrize(
    "format",
    [
        None,
        "Y-m-d",
        "Y-m-d H:i:s T",
        "j N Y, P",
        "H:i \\o\\n d/m/Y",
        "{Y}.m.d H:i (T)",
        "d/m/Y <H:i> & T",
    ],
)
def test_it_prints_what_the_template_it_replaced_printed(zone, moment, format):
    with timezone.override(ZoneInfo(zone)):
        before = Template(BEFORE).render(Context({"value": moment, "format": format}))
        tag = "{% timestamp value %}" if format is None else "{% timestamp value format %}"
        after = Template(tag).render(Context({"value": moment, "format": format}))
    assert after == before
    assert after.startswith('<time datetime="') and 'Z" title="' in after


def test_nothing_is_an_empty_time():
    with timezone.override(ZoneInfo("Europe/Berlin")):
        assert Template("{% timestamp value %}").render(Context({"value": None})) == (
            '<time datetime="" title=" (Europe/Berlin)"></time>'
        )
