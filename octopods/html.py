"""Helpers for the few tables that render their rows in Python (a hundred rows through
the template engine cost more than all the rest of a request): the same markup the
template tags print, built once per table instead of once per row.

Every value that comes from data goes through ``escape``; only literal markup and the
output of these helpers is trusted.
"""

from collections.abc import Callable
from functools import lru_cache, wraps

from django.urls import get_script_prefix, reverse
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


# Where a row's form takes the request's CSRF input: rows are kept without it, since the
# token is masked afresh for every request. Only literal markup holds "<"; escaped values
# never do, so nothing from data can look like it.
CSRF_SLOT = "<!--csrf-->"
# Rendered tables a process keeps (each some tens of kB).
TABLES_KEPT = 64


def kept_rows(render: Callable[..., str]) -> Callable[..., str]:
    """``render(*values)`` remembered by its values and the script prefix its links are
    reversed under: a table whose rows did not change is not built again. Every value
    must be hashable and be all the rows depend on — plain rows (NamedTuples of
    str/int/datetime), the time zone, the viewer's role; the CSRF input is filled into
    CSRF_SLOT per request with ``csrf``."""
    kept = lru_cache(maxsize=TABLES_KEPT)(lambda prefix, *values: render(*values))

    @wraps(render)
    def rows(*values, csrf: str = "") -> str:
        return kept(get_script_prefix(), *values).replace(CSRF_SLOT, csrf)

    rows.cache_clear = kept.cache_clear
    rows.cache_info = kept.cache_info
    return rows
