"""``{% message_log_rows channel page.object_list %}``: the rows of a channel's message
log.

Built here rather than by a ``{% for %}`` with a ``{% timestamp %}``, two display
lookups and a filter chain per row: fifty rows through the template engine were most
of the channel page's cost. The markup is the one the template printed
(tests/channels/test_pages.py compares the two).
"""

from html import escape

from django import template
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from accounts.templatetags.timestamps import timestamp_html
from channels.models import MessageStatus
from octopods.html import CSRF_SLOT, csrf_input, kept_rows, url_for_pk

register = template.Library()

TEXT_SHOWN = 140


def _shortened(text: str) -> str:
    """``text|truncatechars:140``."""
    if len(text) <= TEXT_SHOWN and text.isascii():
        return text  # what Truncator returns for it, without its Unicode pass
    return Truncator(text).chars(TEXT_SHOWN)


@register.simple_tag(takes_context=True)
def message_log_rows(context, channel, messages):
    """``messages``: MessageLogRow (channels/selectors.py)."""
    membership = context.get("current_membership")
    admin = membership is not None and membership.is_admin
    html = rendered_rows(
        channel.pk,
        timezone.get_current_timezone(),
        admin,
        tuple(messages),
        csrf=csrf_input(context) if admin else "",
    )
    return mark_safe(html)  # noqa: S308 - every value is escaped in rendered_rows


@kept_rows
def rendered_rows(channel_pk: int, zone, admin: bool, messages: tuple) -> str:
    retry_url = url_for_pk("channels:message_retry", channel_pk)
    rows = []
    for message in messages:
        kind = message.type
        badge = (
            ""
            if kind == "text"
            else f'<span class="badge">{escape(kind[:1].upper() + kind[1:])}</span> '
        )
        error = ""
        if message.error_code or message.error_text:
            error = escape(message.error_text)
            if message.error_code:
                error += f' <span class="muted">({escape(message.error_code)})</span>'
        status = message.status
        actions = ""
        if admin:
            retry = ""
            if status == MessageStatus.FAILED:
                retry = (
                    f'\n<form method="post" action="{retry_url(message.pk)}" class="inline">\n'
                    f"{CSRF_SLOT}\n"
                    f'<button type="submit" class="small">Retry<span class="visually-hidden">'
                    f" message {message.pk}</span></button>\n</form>\n"
                )
            actions = f"<td>{retry}</td>\n"
        rows.append(
            "<tr>\n"
            f"<td>{timestamp_html(message.created_at, 'Y-m-d H:i:s T', zone)}</td>\n"
            f"<td>{escape(message.get_direction_display())}</td>\n"
            f"<td>{escape(message.contact)}</td>\n"
            f'<td class="wide">{badge}{escape(_shortened(message.text))}</td>\n'
            f'<td><span class="badge message-{escape(status)}">'
            f"{escape(message.get_status_display())}</span></td>\n"
            f'<td class="wide">{error}</td>\n'
            f"{actions}"
            "</tr>\n"
        )
    return "".join(rows)
