"""The panel's screens as Intercom Canvas Kit canvases: one pure function per screen,
from plain values to the response Intercom renders. Nothing here reads the database or
calls a provider, so each screen is tested by what it is given.

Shapes (Intercom's Canvas Kit reference and the official Node SDK's types,
``intercom-client`` ``InitializeResponse``/``SubmitResponse``/``CanvasObject``): a
response is ``{"canvas": {"content": {"components": [...]}, "stored_data": {...}}}``;
``content`` and ``stored_data`` are at most 64 KB each. Components used: ``text``
(``style`` header/paragraph/muted/error), ``input``, ``textarea`` (``error``),
``button`` (``action: {"type": "submit"}``, ``style`` primary/secondary/link),
``divider`` and ``spacer``.
"""

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime

# Intercom's limit on a canvas's content and on its stored data, each.
CANVAS_MAX_BYTES = 64 * 1024
# What a teammate may type (the reference product's limit, and well inside every
# channel's: SMS splits it into a few segments, WhatsApp takes 4096).
TEXT_MAX = 500
SEARCH_MAX = 100
# Every value that comes from a contact or a teammate is cut to this on a screen.
NAME_MAX = 120
RESULTS_MAX = 5
RECENT_MAX = 5
# The templates a compose screen lists: the most recently used first; with more than
# this the teammate searches by name.
TEMPLATES_SHOWN = 10
# A channel's saved texts (channels.MessageTemplate) a compose screen lists, in
# alphabetical order; the rest stay on the channel's settings page.
SAVED_SHOWN = 10
# What a saved text's body may be (channels.automations.TEMPLATE_BODY_MAX_LENGTH).
SAVED_BODY_MAX = 1024
# What one template variable may hold on a screen (integrations.whatsapp.templates
# refuses longer values with words for the teammate).
VALUE_MAX = 2000


@dataclass(frozen=True)
class Recipient:
    """The customer as the panel knows them: from the request's ``contact`` or a search.
    ``contact_id`` is one of our Contact rows when the search found the customer there."""

    name: str = ""
    intercom_id: str = ""
    role: str = ""
    phone: str = ""  # E.164, or ""
    email: str = ""
    external_id: str = ""  # Intercom's external_id ("whatsapp:15551234567" for ours)
    contact_id: int | None = None

    @property
    def label(self) -> str:
        return _cut(self.name or self.email or self.phone or self.external_id or "this customer")

    def to_data(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value not in ("", None)}

    @classmethod
    def from_data(cls, data) -> "Recipient":
        if not isinstance(data, dict):
            return cls()
        text = {
            key: _cut(str(data.get(key) or ""), 200)
            for key in ("name", "intercom_id", "role", "phone", "email", "external_id")
        }
        contact_id = data.get("contact_id")
        if not isinstance(contact_id, int) or isinstance(contact_id, bool):
            contact_id = None
        return cls(**text, contact_id=contact_id)


@dataclass(frozen=True)
class Window:
    """WhatsApp's and Messenger's customer-service window: open for 24 hours after the
    customer's last message on the channel. ``until`` is None when they never wrote."""

    open: bool
    until: datetime | None


@dataclass(frozen=True)
class ChannelOption:
    channel_id: int
    kind: str
    kind_label: str
    name: str
    window: Window | None = None  # None: the channel has no such window (SMS, Telegram)

    @property
    def label(self) -> str:
        return f"{self.kind_label} · {_cut(self.name)}"

    @property
    def free_text(self) -> bool:
        """Whether a teammate may write their own text: a kind with approved templates
        takes only those outside the window (WhatsApp's error 131047)."""
        from integrations.registry import channel_adapter

        closed = self.window is not None and not self.window.open
        return not (closed and channel_adapter(self.kind).approved_templates)


@dataclass(frozen=True)
class Offered:
    """An approved WhatsApp template the panel offers: ``key`` is its row's id."""

    key: str
    label: str
    preview: str = ""


@dataclass(frozen=True)
class TemplateChoice:
    """The templates a compose screen lists (at most TEMPLATES_SHOWN), how many
    approved templates match in all, and the name searched for."""

    offered: list[Offered] = field(default_factory=list)
    total: int = 0
    query: str = ""


@dataclass(frozen=True)
class SavedText:
    """One of the channel's saved texts (channels.MessageTemplate) as the panel shows
    it: its body takes ``variables`` numbered values, {{1}}…{{n}}."""

    saved_id: int
    name: str
    language: str
    body: str
    variables: int


@dataclass(frozen=True)
class SavedChoice:
    """The saved texts a compose screen lists (at most SAVED_SHOWN) and how many the
    channel has in all."""

    offered: list[SavedText] = field(default_factory=list)
    total: int = 0


@dataclass(frozen=True)
class Field:
    """One variable of a template on the configure screen: ``key`` as
    ``integrations.whatsapp.templates`` names it (``body.1``, ``header.media``)."""

    key: str
    label: str
    value: str = ""
    required: bool = True


@dataclass(frozen=True)
class TemplateView:
    """A template as the configure and preview screens show it."""

    template_id: int
    name: str
    language: str
    category: str
    footer: str = ""
    buttons: tuple[str, ...] = ()  # each button as the customer sees it


@dataclass(frozen=True)
class SendView:
    """A proactive message as the status screen shows it."""

    send_id: int
    status: str  # the outbound Message's status
    text: str
    channel_label: str
    admin_name: str
    at: datetime
    error_text: str = ""
    conversation_opened: bool = False
    open_error: str = ""
    assign_outcome: str = ""


@dataclass
class Screen:
    components: list = field(default_factory=list)
    stored: dict = field(default_factory=dict)

    def text(self, text: str, style: str = "paragraph") -> "Screen":
        self.components.append({"type": "text", "text": text, "style": style})
        return self

    def button(self, id: str, label: str, style: str = "primary") -> "Screen":
        self.components.append(
            {
                "type": "button",
                "id": id,
                "label": _cut(label, 80),
                "style": style,
                "action": {"type": "submit"},
            }
        )
        return self

    def divider(self) -> "Screen":
        self.components.append({"type": "divider"})
        return self

    def response(self) -> dict:
        canvas = {"content": {"components": self.components}}
        if self.stored:
            canvas["stored_data"] = self.stored
        response = {"canvas": canvas}
        if _size(canvas["content"]) > CANVAS_MAX_BYTES or _size(self.stored) > CANVAS_MAX_BYTES:
            # Every value is cut on its way in, so this is our bug; the teammate still
            # gets a screen that says what happened instead of a broken panel.
            return problem("This screen came out too large for Intercom to show. Start again.")
        return response


# --- the screens ---------------------------------------------------------------------


def problem(reason: str) -> dict:
    """A screen that only says what is wrong (unknown or disconnected workspace)."""
    return (
        Screen()
        .text("Octopods", "header")
        .text(_md(reason), "error")
        .button("start", "Start again", "secondary")
        .response()
    )


def start(
    *,
    recipient: Recipient | None,
    conversation: tuple[ChannelOption, Window] | None = None,
    query: str = "",
    results: list[Recipient] = (),
    error: str = "",
    searched: bool = False,
) -> dict:
    """First screen: the window of this conversation's channel, then who to write to."""
    screen = Screen().text("Send a proactive message", "header")
    if conversation is not None:
        option, window = conversation
        screen.text(window_line(option.kind_label, window), "muted")
    if recipient is not None:
        screen.button("this_contact", f"Send to {recipient.label}")
        screen.stored["recipient"] = recipient.to_data()
    screen.divider()
    screen.components.append(
        {
            "type": "input",
            "id": "query",
            "label": "Or find a customer",
            "placeholder": "E-mail, phone number or user id",
            "value": _cut(query, SEARCH_MAX),
        }
    )
    if error:
        screen.text(_md(error), "error")
    screen.button("search", "Search", "secondary")
    results = list(results)[:RESULTS_MAX]
    if results:
        for number, found in enumerate(results):
            detail = " · ".join(v for v in (found.email, found.phone) if v)
            screen.button(f"pick-{number}", f"{found.label}{f' ({detail})' if detail else ''}")
        screen.stored["results"] = [found.to_data() for found in results]
    elif searched:
        screen.text("No customer matches that.", "muted")
    return screen.response()


def _unreachable() -> str:
    """Why no channel can reach a customer, kind by kind (the registry's)."""
    from integrations.registry import CHANNELS, channel_adapter, labels_phrase

    adapters = [channel_adapter(kind) for kind in CHANNELS]
    phone = labels_phrase([each.label for each in adapters if each.reaches_phone_numbers])
    chat = [each for each in adapters if not each.reaches_phone_numbers]
    said = "No channel of this workspace can reach this customer."
    if phone:
        said += f" {phone} need their phone number;"
    if chat:
        identities = labels_phrase([each.identity_label for each in chat], "or")
        said += (
            f" {labels_phrase([each.label for each in chat])} need the customer to have "
            f"written to that {identities} first."
        )
    return said.rstrip(";") + ("" if said.endswith(".") else ".")


def channels(*, recipient: Recipient, options: list[ChannelOption]) -> dict:
    screen = Screen().text(f"Message {_md(recipient.label)}", "header")
    screen.stored["recipient"] = recipient.to_data()
    if not options:
        screen.text(
            _unreachable(),
            "error",
        )
    else:
        screen.text("Choose channel", "muted")
        for option in options:
            screen.button(f"channel-{option.channel_id}", option.label, "secondary")
            if option.window is not None:
                screen.text(window_line(option.kind_label, option.window), "muted")
    screen.button("start", "Back", "link")
    return screen.response()


def compose(
    *,
    recipient: Recipient,
    option: ChannelOption,
    templates: TemplateChoice | None = None,
    saved: SavedChoice | None = None,
    text: str = "",
    error: str = "",
) -> dict:
    """Write a message or start from one of the channel's saved texts (wherever free
    text can be sent), or (WhatsApp) pick an approved template: the only choice once
    the customer's 24-hour window is closed."""
    screen = Screen().text(f"Message {_md(recipient.label)}", "header")
    screen.text(f"On {_md(option.label)}", "muted")
    screen.stored.update(recipient=recipient.to_data(), channel=option.channel_id)
    if option.window is not None:
        screen.text(window_line(option.kind_label, option.window), "muted")
    if option.free_text:
        screen.components.append(
            {
                "type": "textarea",
                "id": "text",
                "label": f"Write your message ({TEXT_MAX} characters at most)",
                "value": _cut(text, TEXT_MAX),
                "error": bool(error),
            }
        )
        if error:
            screen.text(_md(error), "error")
        screen.button("preview", "Preview")
        if saved is not None and saved.offered:
            _saved_list(screen, saved)
    else:
        screen.text(
            f"{option.kind_label} delivers free text only within 24 hours of the customer's last "
            "message, so only an approved template can be sent now.",
            "paragraph",
        )
    if templates is not None:
        _template_list(screen, templates, closed=not option.free_text, kind_label=option.kind_label)
    screen.button("channels", "Back", "link")
    return screen.response()


def _saved_list(screen: Screen, saved: SavedChoice) -> None:
    screen.divider().text("Or start from a saved text", "muted")
    for each in saved.offered[:SAVED_SHOWN]:
        screen.button(f"saved-{each.saved_id}", f"{each.name} ({each.language})", "secondary")
        screen.text(_md(_cut(each.body, 100)), "muted")
    shown = min(len(saved.offered), SAVED_SHOWN)
    if saved.total > shown:
        screen.text(
            f"{shown} of {saved.total} saved texts shown, in alphabetical order; the "
            "channel's settings page lists them all.",
            "muted",
        )


def saved_fill(
    *,
    recipient: Recipient,
    option: ChannelOption,
    saved: SavedText,
    values: list[str],
    error: str = "",
) -> dict:
    """One input per numbered variable of a saved text, empty until the teammate fills
    it: a number says nothing of what it holds, so nothing is guessed."""
    screen = Screen().text(f"Saved text {_md(_cut(saved.name))}", "header")
    screen.text(
        f"{_md(saved.language)} · to {_md(recipient.label)} on {_md(option.label)}", "muted"
    )
    screen.text(_md(_cut(saved.body, SAVED_BODY_MAX)))
    if not saved.variables:
        screen.text("This saved text takes no values: it is sent as it is.", "muted")
    for number in range(1, saved.variables + 1):
        value = values[number - 1] if number <= len(values) else ""
        screen.components.append(
            {
                "type": "input",
                "id": f"value-{number}",
                "label": f"{{{{{number}}}}}",
                "value": _cut(value, TEXT_MAX),
                **({"error": True} if error else {}),
            }
        )
    if error:
        screen.text(_md(error), "error")
    screen.stored.update(
        recipient=recipient.to_data(), channel=option.channel_id, saved=saved.saved_id
    )
    screen.button("saved_preview", "Preview")
    screen.button(f"channel-{option.channel_id}", "Back", "link")
    return screen.response()


def _template_list(
    screen: Screen, templates: TemplateChoice, *, closed: bool, kind_label: str
) -> None:
    if not closed:
        screen.divider()
    if templates.total == 0 and not templates.query:
        screen.text(
            "No approved templates are available for this number yet"
            + (
                f", so nothing can be sent on {kind_label} until the customer writes again."
                if closed
                else "."
            ),
            "error" if closed else "muted",
        )
        return
    screen.text("Or send an approved template" if not closed else "Approved templates", "muted")
    if templates.total > TEMPLATES_SHOWN or templates.query:
        screen.components.append(
            {
                "type": "input",
                "id": "template_query",
                "label": "Find a template by name",
                "placeholder": "Template name",
                "value": _cut(templates.query, SEARCH_MAX),
            }
        )
        screen.button("template_search", "Find template", "secondary")
    if templates.query and not templates.offered:
        screen.text("No approved template has that in its name.", "muted")
    for offered in templates.offered[:TEMPLATES_SHOWN]:
        screen.button(f"template-{offered.key}", offered.label, "secondary")
        if offered.preview:
            screen.text(_md(_cut(offered.preview, 100)), "muted")
    shown = min(len(templates.offered), TEMPLATES_SHOWN)
    if templates.total > shown:
        screen.text(f"{shown} of {templates.total} shown, the most recently used first.", "muted")


def configure(
    *,
    recipient: Recipient,
    option: ChannelOption,
    template: TemplateView,
    fields: list[Field],
    error: str = "",
) -> dict:
    """One input per variable of the template, filled as far as the contact tells;
    the footer and buttons as they are (the teammate cannot change those)."""
    screen = Screen().text(f"Template {_md(_cut(template.name))}", "header")
    screen.text(
        f"{_md(template.language)} · {_md(template.category.title())} · to "
        f"{_md(recipient.label)} on {_md(option.label)}",
        "muted",
    )
    if not fields:
        screen.text("This template takes no values: it is sent as it is.", "muted")
    for number, each in enumerate(fields):
        screen.components.append(
            {
                "type": "input",
                "id": f"var-{number}",
                "label": _cut(each.label + ("" if each.required else " (optional)"), 200),
                "value": _cut(each.value, VALUE_MAX),
                **({"error": True} if error else {}),
            }
        )
    if template.footer:
        screen.text(f"Footer: {_md(_cut(template.footer, 200))}", "muted")
    for button in template.buttons:
        screen.text(f"Button: {_md(_cut(button, 200))}", "muted")
    if error:
        screen.text(_md(error), "error")
    screen.stored.update(
        recipient=recipient.to_data(),
        channel=option.channel_id,
        template=template.template_id,
        variables=[each.key for each in fields],
    )
    screen.button("template_preview", "Preview")
    screen.button(f"channel-{option.channel_id}", "Back", "link")
    return screen.response()


def template_preview(
    *,
    recipient: Recipient,
    option: ChannelOption,
    template: TemplateView,
    rendered_text: str,
    values: dict[str, str],
    key: str,
    can_open: bool,
) -> dict:
    """The template exactly as WhatsApp shows it with these values
    (``integrations.whatsapp.templates.render``), and the two ways to send it."""
    screen = Screen().text("Preview", "header")
    screen.text(
        f"Template {_md(_cut(template.name))} to {_md(recipient.label)} on {_md(option.label)}",
        "muted",
    )
    screen.text(_md(rendered_text))
    screen.stored.update(
        recipient=recipient.to_data(),
        channel=option.channel_id,
        template=template.template_id,
        variables=list(values),
        values=values,
        key=key,
    )
    screen.button("template_send", "Send")
    if can_open:
        screen.button("template_send_open", "Send & open conversation", "secondary")
    else:
        screen.text(
            "This customer has no Intercom contact yet: their answer opens a conversation "
            "when it arrives.",
            "muted",
        )
    screen.button("template_edit", "Edit", "link")
    return screen.response()


def preview(
    *,
    recipient: Recipient,
    option: ChannelOption,
    text: str,
    customer_text: str,
    key: str,
    can_open: bool,
    saved: tuple[int, list[str]] | None = None,
) -> dict:
    """Exactly what the customer will get (the channel's signature and formatting
    included), and the two ways to send it. ``saved``: the saved text and values the
    text was made from, so Edit goes back to them."""
    screen = Screen().text("Preview", "header")
    screen.text(f"To {_md(recipient.label)} on {_md(option.label)}", "muted")
    screen.text(_md(customer_text))
    screen.stored.update(
        recipient=recipient.to_data(), channel=option.channel_id, text=text, key=key
    )
    if saved is not None:
        screen.stored.update(saved=saved[0], values=saved[1])
    screen.button("send", "Send")
    if can_open:
        screen.button("send_open", "Send & open conversation", "secondary")
    else:
        screen.text(
            "This customer has no Intercom contact yet: their answer opens a conversation "
            "when it arrives.",
            "muted",
        )
    screen.button("edit", "Edit", "link")
    return screen.response()


_STATUS_WORDS = {
    "pending": "Sending…",
    "sent": "Sent",
    "delivered": "Delivered",
    "read": "Read",
    "failed": "Failed",
}


def status(*, recipient: Recipient, send: SendView, recent: list[SendView]) -> dict:
    screen = Screen()
    if send.status == "failed":
        screen.text("Message not delivered", "header")
        screen.text(_md(send.error_text or "The channel refused it."), "error")
    else:
        screen.text("Message sent!" if send.status != "pending" else "Sending…", "header")
        screen.text(f"Status: **{_STATUS_WORDS.get(send.status, send.status)}**")
    screen.text(f"On {_md(send.channel_label)} to {_md(recipient.label)}", "muted")
    screen.text(_md(_cut(send.text, TEXT_MAX)), "muted")
    if send.conversation_opened:
        screen.text("An Intercom conversation was opened: the answer lands there.", "muted")
    elif send.open_error:
        screen.text(_md(send.open_error), "error")
    if send.assign_outcome:
        screen.text(_md(send.assign_outcome), "muted")
    screen.stored.update(recipient=recipient.to_data(), send=send.send_id)
    screen.button("refresh", "Refresh", "secondary")
    screen.button("start", "Send another", "link")
    others = [each for each in recent if each.send_id != send.send_id][:RECENT_MAX]
    if others:
        screen.divider().text("Recent proactive messages", "muted")
        for each in others:
            word = _STATUS_WORDS.get(each.status, each.status)
            screen.text(
                f"{_when(each.at)} · {_md(each.channel_label)} · {word} · "
                f"{_md(_cut(each.admin_name or 'a teammate', 60))}: {_md(_cut(each.text, 80))}",
                "muted",
            )
    return screen.response()


def window_line(kind_label: str, window: Window) -> str:
    if window.open and window.until is not None:
        return f"{kind_label} window open until {_when(window.until)}."
    if window.until is None:
        return f"{kind_label} window closed: the customer has not written on this channel yet."
    return f"{kind_label} window closed since {_when(window.until)}."


# --- helpers -----------------------------------------------------------------------------


def _when(moment: datetime) -> str:
    return moment.strftime("%a %-d %b, %H:%M UTC")


def _cut(value: str, size: int = NAME_MAX) -> str:
    return value if len(value) <= size else value[: size - 1] + "…"


# Canvas Kit renders a text component's text as Markdown: a name or message must never
# become a link or formatting of ours.
_MARKDOWN = re.compile(r"([\\`*_\[\]()#<>!|~])")


def _md(value: str) -> str:
    return _MARKDOWN.sub(r"\\\1", value)


def _size(value) -> int:
    return len(json.dumps(value, ensure_ascii=False).encode())
