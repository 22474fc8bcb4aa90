"""The panel's flow: which screen answers an initialize request, and which one each
button's submit request leads to (one small handler per button, dispatched by its
component id).

Request shapes (Intercom's Canvas Kit reference; the official Node SDK's
``InitializeRequest`` and ``SubmitRequest`` types): ``workspace_id``, ``admin``,
``context``, ``conversation``, ``contact``; a submit adds ``component_id``,
``input_values`` and ``current_canvas`` (whose ``stored_data`` is what our previous
screen stored).

On a contact's page (rather than beside a conversation) the request carries the
contact and no conversation. Intercom documents ``context.location`` only as
conversation, home, message or operator, so the panel never goes by that value: no
conversation id means no conversation window to show, and the contact is the
recipient offered, as it is beside a conversation."""

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from channels.automations import TemplateVariablesError, template_render
from channels.template_services import whatsapp_template_definition
from integrations.registry import channel_adapter
from integrations.whatsapp.templates import TemplateValuesInvalid, render, values_problems
from relay.outbound import agent_text, plain_html
from workspaces.models import Workspace

from . import canvas
from .canvas import SEARCH_MAX, TEXT_MAX, VALUE_MAX, Recipient
from .selectors import (
    channel_option,
    channel_options,
    contact_attributes,
    conversation_window,
    open_conversation_id,
    recent_sends,
    recipient_from_contact,
    recipients_search,
    saved_text_on,
    saved_texts_offered,
    saved_view,
    send_view,
    template_fields,
    template_on,
    template_view,
    templates_offered,
    workspace_send,
    workspace_send_by_key,
)
from .services import (
    SendRefused,
    answer_assign,
    conversation_open,
    proactive_send,
    template_send,
)

logger = logging.getLogger(__name__)

KEY_MAX = 64


@dataclass(frozen=True)
class CanvasRequest:
    workspace: Workspace
    payload: dict
    # A teammate's input held a NUL character (made safe on parsing, refused here).
    nul_in_input: bool = False

    def _dict(self, key: str) -> dict:
        value = self.payload.get(key)
        return value if isinstance(value, dict) else {}

    @property
    def admin_id(self) -> str:
        return str(self._dict("admin").get("id") or "")[:64]

    @property
    def admin_name(self) -> str:
        return str(self._dict("admin").get("name") or "")[:200]

    @property
    def component_id(self) -> str:
        value = self.payload.get("component_id")
        return value[:100] if isinstance(value, str) else ""

    @property
    def inputs(self) -> dict:
        return self._dict("input_values")

    @property
    def stored(self) -> dict:
        current = self._dict("current_canvas")
        # The SDK types it as a CurrentCanvas wrapping the canvas; requests carry the
        # canvas itself. Either way the stored data is the canvas's.
        if "current_canvas" in current and isinstance(current["current_canvas"], dict):
            current = current["current_canvas"]
        stored = current.get("stored_data")
        return stored if isinstance(stored, dict) else {}

    @property
    def contact(self) -> Recipient | None:
        return recipient_from_contact(self.payload.get("contact"))

    @property
    def conversation_id(self) -> str:
        conversation_id = self._dict("conversation").get("id") or self._dict("context").get(
            "conversation_id"
        )
        return str(conversation_id or "")[:64]

    @property
    def recipient(self) -> Recipient:
        return Recipient.from_data(self.stored.get("recipient"))


def initialize(request: CanvasRequest) -> dict:
    """The first screen, from the database alone (no provider call)."""
    return _start_screen(request)


def _start_screen(request: CanvasRequest, **extra) -> dict:
    return canvas.start(
        recipient=request.contact,
        conversation=conversation_window(
            workspace=request.workspace, conversation_id=request.conversation_id
        ),
        **extra,
    )


def _start(request: CanvasRequest) -> dict:
    return _start_screen(request)


def _search(request: CanvasRequest) -> dict:
    query = request.inputs.get("query")
    if not isinstance(query, str) or not query.strip():
        return _start_screen(request, error="Type an e-mail, phone number or user id.")
    if request.nul_in_input:
        return _start_screen(request, error="The search holds a NUL character; type it again.")
    if len(query) > SEARCH_MAX:
        return _start_screen(
            request, error=f"Search for at most {SEARCH_MAX} characters.", query=query
        )
    results, error = recipients_search(workspace=request.workspace, query=query)
    return _start_screen(request, query=query, results=results, error=error, searched=True)


def _pick(request: CanvasRequest) -> dict:
    results = request.stored.get("results")
    try:
        number = int(request.component_id.removeprefix("pick-"))
        recipient = Recipient.from_data(results[number])
    except (ValueError, TypeError, IndexError, KeyError):
        return canvas.problem("That search result is no longer there. Search again.")
    return _channels_screen(request, recipient)


def _this_contact(request: CanvasRequest) -> dict:
    recipient = request.contact
    if recipient is None:
        return _start_screen(request, error="Intercom named no contact here: search for one.")
    return _channels_screen(request, recipient)


def _channels(request: CanvasRequest) -> dict:
    return _channels_screen(request, request.recipient)


def _channels_screen(request: CanvasRequest, recipient: Recipient) -> dict:
    options = channel_options(workspace=request.workspace, recipient=recipient)
    return canvas.channels(recipient=recipient, options=[option for option, _ in options])


def _resolved(request: CanvasRequest, channel_id):
    return channel_option(
        workspace=request.workspace, recipient=request.recipient, channel_id=channel_id
    )


NOT_REACHABLE = (
    "That channel is not one of this workspace's, or it can no longer reach this customer."
)


def _channel(request: CanvasRequest) -> dict:
    try:
        channel_id = int(request.component_id.removeprefix("channel-"))
    except ValueError:
        channel_id = None
    return _compose(request, channel_id)


def _compose(
    request: CanvasRequest, channel_id, *, text: str = "", error: str = "", query: str = ""
) -> dict:
    resolved = _resolved(request, channel_id)
    if resolved is None:
        return canvas.problem(NOT_REACHABLE)
    channel, option, contact = resolved
    return canvas.compose(
        recipient=request.recipient,
        option=option,
        # WhatsApp offers its approved templates always; once the window is closed
        # they are all that can be sent.
        templates=templates_offered(channel, contact, query=query)
        if channel_adapter(channel.kind).approved_templates
        else None,
        # The channel's own saved texts go out as free text, so only where it can.
        saved=saved_texts_offered(channel) if option.free_text else None,
        text=text,
        error=error,
    )


def _edit(request: CanvasRequest) -> dict:
    stored = request.stored
    if "saved" in stored:
        values = stored.get("values")
        values = [v for v in values if isinstance(v, str)] if isinstance(values, list) else []
        return _saved_fill(request, stored.get("saved"), values=values)
    text = stored.get("text")
    return _compose(request, stored.get("channel"), text=text if isinstance(text, str) else "")


def _text_problem(request: CanvasRequest, text) -> str:
    if not isinstance(text, str) or not text.strip():
        return "Write a message first."
    if request.nul_in_input:
        return "The message holds a NUL character, which no channel can carry. Remove it."
    if len(text) > TEXT_MAX:
        return f"The message is {len(text)} characters long; at most {TEXT_MAX} can be sent."
    return ""


def _preview(request: CanvasRequest) -> dict:
    channel_id = request.stored.get("channel")
    text = request.inputs.get("text")
    if problem := _text_problem(request, text):
        shown = text if isinstance(text, str) and not request.nul_in_input else ""
        return _compose(request, channel_id, text=shown[:TEXT_MAX], error=problem)
    resolved = _resolved(request, channel_id)
    if resolved is None:
        return canvas.problem(NOT_REACHABLE)
    _channel, option, _contact = resolved
    if not option.free_text:
        return _compose(request, channel_id)
    return _preview_screen(request, resolved, text.strip())


def _preview_screen(request: CanvasRequest, resolved, text: str, *, saved=None) -> dict:
    """The preview of free text: exactly what ``proactive_send`` sends (the relay's
    agent text, signature included), with a fresh idempotency key."""
    channel, option, contact = resolved
    customer_text = agent_text(
        channel_adapter(channel.kind),
        channel,
        body_html=plain_html(text),
        admin_name=request.admin_name,
    )
    return canvas.preview(
        recipient=request.recipient,
        option=option,
        text=text,
        customer_text=customer_text,
        key=secrets.token_urlsafe(16),
        can_open=bool(request.recipient.intercom_id or (contact and contact.inbox_contact_id)),
        saved=saved,
    )


# --- the channel's saved texts (channels.MessageTemplate) -------------------------------

SAVED_GONE = (
    "That saved text is not one of this channel's (it may have been removed). Choose another."
)


def _saved_resolved(request: CanvasRequest, saved_id):
    """The channel (resolved inside the workspace), its option, the customer's contact
    there and one of its saved texts; None when any of them is not there."""
    resolved = _resolved(request, request.stored.get("channel"))
    if resolved is None:
        return None
    saved = saved_text_on(channel=resolved[0], saved_id=saved_id)
    if saved is None:
        return None
    return resolved, saved


def _saved_pick(request: CanvasRequest) -> dict:
    try:
        saved_id = int(request.component_id.removeprefix("saved-"))
    except ValueError:
        saved_id = None
    return _saved_fill(request, saved_id)


def _saved_fill(request: CanvasRequest, saved_id, *, values=(), error: str = "") -> dict:
    found = _saved_resolved(request, saved_id)
    if found is None:
        return canvas.problem(SAVED_GONE)
    (_channel, option, _contact), saved = found
    if not option.free_text:
        # WhatsApp's window closed since: only its approved templates can go now.
        return _compose(request, option.channel_id)
    return canvas.saved_fill(
        recipient=request.recipient,
        option=option,
        saved=saved_view(saved),
        values=list(values),
        error=error,
    )


def _numbers(numbers: list[int]) -> str:
    listed = [f"{{{{{number}}}}}" for number in numbers[:5]]
    more = f" and {len(numbers) - 5} more" if len(numbers) > 5 else ""
    return ", ".join(listed) + more


def _saved_preview(request: CanvasRequest) -> dict:
    saved_id = request.stored.get("saved")
    found = _saved_resolved(request, saved_id)
    if found is None:
        return canvas.problem(SAVED_GONE)
    resolved, saved = found
    if not resolved[1].free_text:
        return _compose(request, resolved[1].channel_id)
    count = saved_view(saved).variables
    values = []
    for number in range(1, count + 1):
        value = request.inputs.get(f"value-{number}")
        values.append(value if isinstance(value, str) else "")
    if request.nul_in_input:
        return _saved_fill(
            request,
            saved_id,
            error="A value holds a NUL character, which no channel can carry. Type it again.",
        )
    shown = [value[:TEXT_MAX] for value in values]
    if empty := [n for n, value in enumerate(values, start=1) if not value.strip()]:
        what = "is empty" if len(empty) == 1 else "are empty"
        return _saved_fill(
            request,
            saved_id,
            values=shown,
            error=f"{_numbers(empty)} {what}: fill in every value. Nothing was sent.",
        )
    if long := [n for n, value in enumerate(values, start=1) if len(value) > TEXT_MAX]:
        return _saved_fill(
            request,
            saved_id,
            values=shown,
            error=f"{_numbers(long)}: a value can be at most {TEXT_MAX} characters.",
        )
    values = [value.strip() for value in values]
    try:
        text = template_render(template=saved, variables=values).strip()
    except TemplateVariablesError as wrong:
        # The saved text was edited since this screen was shown.
        return _saved_fill(request, saved_id, values=values, error=str(wrong))
    if len(text) > TEXT_MAX:
        return _saved_fill(
            request,
            saved_id,
            values=values,
            error=f"With these values the message is {len(text)} characters long; at most "
            f"{TEXT_MAX} can be sent. Shorten them.",
        )
    if not text:
        return _saved_fill(request, saved_id, values=values, error="This saved text is empty.")
    return _preview_screen(request, resolved, text, saved=(saved.pk, values))


def _send(request: CanvasRequest, *, open_conversation: bool) -> dict:
    stored = request.stored
    text, key = stored.get("text"), stored.get("key")
    if _text_problem(request, text) or not _key_ok(key):
        return canvas.problem("This preview is incomplete. Start again.")
    resolved = _resolved(request, stored.get("channel"))
    if resolved is None:
        return canvas.problem(NOT_REACHABLE)
    channel, option, contact = resolved
    if not request.admin_id:
        return canvas.problem("Intercom did not say which teammate is sending. Start again.")
    try:
        send, created = proactive_send(
            workspace=request.workspace,
            channel=channel,
            option=option,
            contact=contact,
            recipient=request.recipient,
            text=text,
            key=key,
            admin_id=request.admin_id,
            admin_name=request.admin_name,
        )
    except SendRefused as refusal:
        return canvas.problem(str(refusal))
    if created:
        customer_text = agent_text(
            channel_adapter(channel.kind),
            channel,
            body_html=plain_html(text),
            admin_name=request.admin_name,
        )
        _after_send(request, send, open_conversation=open_conversation, customer_text=customer_text)
    return _status_screen(request, send)


def _key_ok(key) -> bool:
    return isinstance(key, str) and 0 < len(key) <= KEY_MAX


def _after_send(request: CanvasRequest, send, *, open_conversation: bool, customer_text: str):
    if open_conversation:
        conversation_open(
            workspace=request.workspace,
            send=send,
            recipient=request.recipient,
            customer_text=customer_text,
        )
    else:
        # The answer lands in the customer's open conversation, if they have one.
        answer_assign(
            workspace=request.workspace,
            send=send,
            conversation_id=open_conversation_id(workspace=request.workspace, contact=send.contact),
        )


# --- WhatsApp templates ---------------------------------------------------------------


def _template_search(request: CanvasRequest) -> dict:
    query = request.inputs.get("template_query")
    query = query[:SEARCH_MAX] if isinstance(query, str) and not request.nul_in_input else ""
    return _compose(request, request.stored.get("channel"), query=query)


def _template_resolved(request: CanvasRequest, template_id):
    """The channel, its option, the customer's contact there and one of its approved
    templates; None when any of them is not (or no longer) there."""
    resolved = _resolved(request, request.stored.get("channel"))
    if resolved is None:
        return None
    channel, option, contact = resolved
    template = template_on(channel=channel, template_id=template_id)
    if template is None:
        return None
    return channel, option, contact, template


TEMPLATE_GONE = (
    "That template is no longer an approved template of this number (Meta may have "
    "paused or removed it). Choose another."
)


def _template_pick(request: CanvasRequest) -> dict:
    try:
        template_id = int(request.component_id.removeprefix("template-"))
    except ValueError:
        template_id = None
    return _configure(request, template_id)


def _configure(request: CanvasRequest, template_id, *, values=None, error: str = "") -> dict:
    resolved = _template_resolved(request, template_id)
    if resolved is None:
        return canvas.problem(TEMPLATE_GONE)
    _channel_row, option, _contact, template = resolved
    return canvas.configure(
        recipient=request.recipient,
        option=option,
        template=template_view(template),
        fields=template_fields(
            template,
            attributes=contact_attributes(request.payload.get("contact"), request.recipient),
            values=values,
        ),
        error=error,
    )


def _values_given(request: CanvasRequest) -> dict[str, str]:
    """The teammate's values, keyed by the variables the configure screen listed."""
    keys = request.stored.get("variables")
    keys = [key for key in keys if isinstance(key, str)] if isinstance(keys, list) else []
    values = {}
    for number, key in enumerate(keys):
        value = request.inputs.get(f"var-{number}")
        values[key[:100]] = value[:VALUE_MAX] if isinstance(value, str) else ""
    return values


def _template_preview(request: CanvasRequest) -> dict:
    template_id = request.stored.get("template")
    resolved = _template_resolved(request, template_id)
    if resolved is None:
        return canvas.problem(TEMPLATE_GONE)
    _channel_row, option, contact, template = resolved
    values = _values_given(request)
    if request.nul_in_input:
        return _configure(
            request,
            template_id,
            values={key: "" for key in values},
            error="A value holds a NUL character, which WhatsApp cannot carry. Type it again.",
        )
    definition = whatsapp_template_definition(template)
    if problems := values_problems(definition, values):
        return _configure(request, template_id, values=values, error="; ".join(problems) + ".")
    values = {key: value.strip() for key, value in values.items()}
    return canvas.template_preview(
        recipient=request.recipient,
        option=option,
        template=template_view(template),
        rendered_text=render(definition, values).as_text(),
        values=values,
        key=secrets.token_urlsafe(16),
        can_open=bool(request.recipient.intercom_id or (contact and contact.inbox_contact_id)),
    )


def _template_edit(request: CanvasRequest) -> dict:
    values = request.stored.get("values")
    values = (
        {str(k): v for k, v in values.items() if isinstance(v, str)}
        if isinstance(values, dict)
        else {}
    )
    return _configure(request, request.stored.get("template"), values=values)


def _template_send(request: CanvasRequest, *, open_conversation: bool) -> dict:
    stored = request.stored
    key, values, template_id = stored.get("key"), stored.get("values"), stored.get("template")
    if not _key_ok(key) or not isinstance(values, dict):
        return canvas.problem("This preview is incomplete. Start again.")
    values = {str(k)[:100]: str(v)[:VALUE_MAX] for k, v in values.items()}
    if not request.admin_id:
        return canvas.problem("Intercom did not say which teammate is sending. Start again.")
    resolved = _resolved(request, stored.get("channel"))
    if resolved is None:
        return canvas.problem(NOT_REACHABLE)
    channel, _option, contact = resolved
    # A double click finds the first send even if the template changed since.
    template = template_on(channel=channel, template_id=template_id)
    if template is None:
        existing = workspace_send_by_key(workspace=request.workspace, key=key)
        if existing is not None:
            return _status_screen(request, existing)
        return canvas.problem(TEMPLATE_GONE)
    try:
        send, created = template_send(
            workspace=request.workspace,
            channel=channel,
            contact=contact,
            recipient=request.recipient,
            template=template,
            values=values,
            key=key,
            admin_id=request.admin_id,
            admin_name=request.admin_name,
        )
    except TemplateValuesInvalid as invalid:
        return _configure(request, template_id, values=values, error=str(invalid))
    except SendRefused as refusal:
        return canvas.problem(str(refusal))
    if created:
        _after_send(
            request, send, open_conversation=open_conversation, customer_text=send.message.text
        )
    return _status_screen(request, send)


def _status_screen(request: CanvasRequest, send) -> dict:
    return canvas.status(
        recipient=request.recipient,
        send=send_view(send),
        recent=recent_sends(workspace=request.workspace, contact_id=send.contact_id),
    )


def _refresh(request: CanvasRequest) -> dict:
    send = workspace_send(workspace=request.workspace, send_id=request.stored.get("send"))
    if send is None:
        return canvas.problem("That message is not one of this workspace's. Start again.")
    return _status_screen(request, send)


HANDLERS: dict[str, Callable[[CanvasRequest], dict]] = {
    "start": _start,
    "search": _search,
    "this_contact": _this_contact,
    "channels": _channels,
    "edit": _edit,
    "preview": _preview,
    "send": lambda request: _send(request, open_conversation=False),
    "send_open": lambda request: _send(request, open_conversation=True),
    "refresh": _refresh,
    "saved_preview": _saved_preview,
    "template_search": _template_search,
    "template_preview": _template_preview,
    "template_edit": _template_edit,
    "template_send": lambda request: _template_send(request, open_conversation=False),
    "template_send_open": lambda request: _template_send(request, open_conversation=True),
}
PREFIX_HANDLERS: dict[str, Callable[[CanvasRequest], dict]] = {
    "pick-": _pick,
    "channel-": _channel,
    "template-": _template_pick,
    "saved-": _saved_pick,
}


def submit(request: CanvasRequest) -> dict:
    component_id = request.component_id
    handler = HANDLERS.get(component_id) or next(
        (h for prefix, h in PREFIX_HANDLERS.items() if component_id.startswith(prefix)), None
    )
    if handler is None:
        logger.info("canvas submit from an unknown component %r", component_id)
        return canvas.problem("That button is not one Octopods knows. Start again.")
    return handler(request)
