"""``{% workspace_rows workspaces %}``: the rows of Connected Workspaces.

The rows are built here rather than by a ``{% for %}`` with an ``{% include %}``, a
``{% url %}`` and a ``{% timestamp %}`` per row: for a hundred workspaces the template
engine's per-node work was most of the page's cost. The markup is the one the template
printed (tests/workspaces/test_pages.py compares the two).
"""

from functools import lru_cache
from html import escape

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from accounts.templatetags.timestamps import timestamp_html
from octopods.html import CSRF_SLOT, csrf_input, kept_rows, url_for_pk
from workspaces.models import Status

register = template.Library()

# Values with few distinct forms (a provider's or a status's label, a teammate's name)
# are escaped once, not once a row.
_escaped = lru_cache(maxsize=1024)(escape)


@register.simple_tag(takes_context=True)
def workspace_rows(context, workspaces):
    """``workspaces``: WorkspaceRow (workspaces/selectors.py)."""
    membership = context.get("current_membership")
    reconnect = membership is not None and membership.is_admin
    html = rendered_rows(
        timezone.get_current_timezone(),
        reconnect,
        tuple(workspaces),
        csrf=csrf_input(context) if reconnect else "",
    )
    return mark_safe(html)  # noqa: S308 - every value is escaped in rendered_rows


@kept_rows
def rendered_rows(zone, reconnect: bool, workspaces: tuple) -> str:
    detail_url = url_for_pk("workspaces:detail")
    connect_urls = {}
    rows = []
    for workspace in workspaces:
        name = escape(workspace.name)
        added_by = workspace.added_by
        status = workspace.status
        form = ""
        if reconnect and status != Status.ACTIVE:
            provider = workspace.provider
            if provider not in connect_urls:
                connect_urls[provider] = escape(reverse("integrations:connect", args=[provider]))
            form = (
                f'\n<form method="post" action="{connect_urls[provider]}" class="inline">\n'
                f"{CSRF_SLOT}\n"
                f'<button type="submit" class="small">Reconnect<span class="visually-hidden">'
                f" {name}</span></button>\n</form>\n"
            )
        rows.append(
            "<tr>\n"
            f'<td><a href="{detail_url(workspace.pk)}">{name}</a></td>\n'
            f"<td>{_escaped(workspace.get_provider_display())}</td>\n"
            f"<td>{_escaped(added_by) if added_by else '—'}</td>\n"
            f'<td><span class="badge status-{_escaped(status)}">'
            f"{_escaped(workspace.get_status_display())}</span>\n"
            f"{form}</td>\n"
            f"<td>{timestamp_html(workspace.updated_at, zone=zone)}</td>\n"
            "</tr>\n"
        )
    return "".join(rows)
