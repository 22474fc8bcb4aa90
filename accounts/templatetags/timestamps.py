"""``{% timestamp value %}``: a moment in the viewer's time zone (accounts/middleware.py),
named by its abbreviation, with the UTC instant in ``datetime=`` for machines.

    {% timestamp message.created_at %}                  2026-12-05 18:41 CET
    {% timestamp member.created_at "Y-m-d" %}           2026-12-05

One tag instead of an included template with three date filters: tables print a
timestamp a row, and the include cost more than the rest of the row. Python code that
renders a table's rows itself calls ``timestamp_html`` for the same markup.
"""

import html
from datetime import UTC, datetime
from functools import cache, lru_cache

from django import template
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

TITLE_FORMAT = "Y-m-d H:i:s T"

# Django's date format letters that a table's timestamps use, as str.format fields of
# (local time, zone abbreviation). They print exactly what django.utils.dateformat
# prints for them; a format with any other letter goes through dateformat itself.
_FIELDS = {
    "Y": "{0.year:04d}",
    "m": "{0.month:02d}",
    "d": "{0.day:02d}",
    "H": "{0.hour:02d}",
    "i": "{0.minute:02d}",
    "s": "{0.second:02d}",
    "T": "{1}",
}
_FORMAT_LETTERS = frozenset("aAbcdDeEfFgGhHiIjlLmMnNoOPrsStTUuwWyYzZ")


@cache
def _pattern(format: str) -> str | None:
    """``format`` as a str.format pattern whose text is HTML-escaped already (its
    fields are digits and the escaped abbreviation), or None when dateformat must do it.
    """
    if "\\" in format:
        return None
    pattern = []
    for char in format:
        if char in _FIELDS:
            pattern.append(_FIELDS[char])
        elif char in _FORMAT_LETTERS:
            return None
        else:
            pattern.append(html.escape(char).replace("{", "{{").replace("}", "}}"))
    return "".join(pattern)


@cache
def _zone_label(zone) -> str:
    return html.escape(str(zone))


def _abbreviation(local: datetime) -> str:
    # dateformat's "T" is empty for a wall time the zone has twice (the hour repeated
    # when summer time ends) or never: the abbreviation alone would be ambiguous.
    zone = local.tzinfo
    if zone.utcoffset(local.replace(fold=not local.fold)) != zone.utcoffset(local):
        return ""
    return _escaped_name(zone.tzname(local))


@lru_cache(maxsize=1024)
def _escaped_name(name) -> str:
    return html.escape(str(name))


def _format(local: datetime, format: str, abbreviation: str) -> str:
    """``local`` in ``format``, HTML-escaped."""
    pattern = _pattern(format)
    if pattern is None:
        return html.escape(dateformat.format(local, format))
    return pattern.format(local, abbreviation)


def timestamp_html(value, format: str = "Y-m-d H:i T", zone=None) -> SafeString:
    """The ``<time>`` element ``{% timestamp value format %}`` prints, in ``zone`` (the
    current time zone when not given)."""
    if zone is None:
        zone = timezone.get_current_timezone()
    if not isinstance(value, datetime) or timezone.is_naive(value):
        return _timestamp_slow(value, format, zone)
    local = value.astimezone(zone)
    abbreviation = _abbreviation(local)
    # isoformat() is one C call; its first 19 characters are "Y-m-d H:i:s" (zero-padded
    # as dateformat pads them).
    machine = value.astimezone(UTC).isoformat(timespec="seconds")[:19] + "Z"
    wall = local.isoformat(" ", "seconds")
    title = f"{wall[:19]} {abbreviation}"
    if format == TITLE_FORMAT:
        shown = title
    elif format == "Y-m-d H:i T":
        shown = f"{wall[:16]} {abbreviation}"
    elif format == "Y-m-d":
        shown = wall[:10]
    else:
        shown = _format(local, format, abbreviation)
    return mark_safe(  # noqa: S308 - _format's output is escaped
        f'<time datetime="{machine}" title="{title} ({_zone_label(zone)})">{shown}</time>'
    )


def _timestamp_slow(value, format, zone) -> SafeString:
    """Nothing, or a naive datetime (dateformat reads it in the default zone)."""
    if not value:
        machine = title = shown = ""
    else:
        local = timezone.localtime(value, zone) if timezone.is_aware(value) else value
        instant = value.astimezone(UTC) if timezone.is_aware(value) else value
        machine = instant.strftime("%Y-%m-%dT%H:%M:%SZ")
        title = dateformat.format(local, TITLE_FORMAT)
        shown = title if format == TITLE_FORMAT else dateformat.format(local, format)
    return format_html('<time datetime="{}" title="{} ({})">{}</time>', machine, title, zone, shown)


@register.simple_tag
def timestamp(value, format="Y-m-d H:i T"):
    return timestamp_html(value, format)
