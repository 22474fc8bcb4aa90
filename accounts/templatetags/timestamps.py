"""``{% timestamp value %}``: a moment in the viewer's time zone (accounts/middleware.py),
named by its abbreviation, with the UTC instant in ``datetime=`` for machines.

    {% timestamp message.created_at %}                  2026-12-05 18:41 CET
    {% timestamp member.created_at "Y-m-d" %}           2026-12-05

One tag instead of an included template with three date filters: tables print a
timestamp a row, and the include cost more than the rest of the row.
"""

from datetime import UTC

from django import template
from django.utils import dateformat, timezone
from django.utils.html import format_html

register = template.Library()

TITLE_FORMAT = "Y-m-d H:i:s T"


@register.simple_tag
def timestamp(value, format="Y-m-d H:i T"):
    zone = timezone.get_current_timezone()
    if not value:
        machine = title = shown = ""
    else:
        local = timezone.localtime(value, zone) if timezone.is_aware(value) else value
        instant = value.astimezone(UTC) if timezone.is_aware(value) else value
        machine = instant.strftime("%Y-%m-%dT%H:%M:%SZ")
        title = dateformat.format(local, TITLE_FORMAT)
        shown = title if format == TITLE_FORMAT else dateformat.format(local, format)
    return format_html('<time datetime="{}" title="{} ({})">{}</time>', machine, title, zone, shown)
