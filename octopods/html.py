"""Helpers for the few tables that render their rows in Python (a hundred rows through
the template engine cost more than all the rest of a request): the same markup the
template tags print, built once per table instead of once per row.

Every value that comes from data goes through ``escape``; only literal markup and the
output of these helpers is trusted.
"""

from collections.abc import Callable

from django.urls import reverse
from django.utils.html import escape

# An id no row has: reversed once, it marks where a row's own id goes in the path.
_MARKER = 9_876_543_210_123


def url_for_pk(viewname: str, *args) -> Callable[[int], str]:
    """``reverse(viewname, args=[*args, pk])`` as a function of ``pk``, reversing once
    (under the request's script prefix, as ``{% url %}`` does)."""
    before, marker, after = reverse(viewname, args=[*args, _MARKER]).rpartition(str(_MARKER))
    if not marker:
        raise ValueError(f"{viewname} does not end in an integer id")
    before, after = escape(before), escape(after)
    return lambda pk: f"{before}{int(pk)}{after}"


def csrf_input(context) -> str:
    """What ``{% csrf_token %}`` prints in this template context (the same token as the
    page's other forms)."""
    token = context.get("csrf_token")
    if not token or token == "NOTPROVIDED":  # noqa: S105 - Django's marker, no secret
        return ""
    return f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(token)}">'
