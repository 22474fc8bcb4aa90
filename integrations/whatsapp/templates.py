"""WhatsApp message templates as Meta defines them, read once and used three ways: the
variables an agent fills in, what the customer will see (a preview), and the
``components`` of a template send.

Meta's shapes (``GET /{waba-id}/message_templates``; the send's ``template.components``):
a template has ``name``, ``language``, ``status``, ``category``, ``parameter_format``
(POSITIONAL: ``{{1}}``, ``{{2}}``…; NAMED: ``{{first_name}}``) and ``components``:
HEADER (``format`` TEXT with ``text``, or IMAGE, VIDEO, DOCUMENT, LOCATION), BODY
(``text``), FOOTER (``text``) and BUTTONS (``buttons``: QUICK_REPLY, URL with a ``url``
that may end in ``{{1}}``, PHONE_NUMBER, COPY_CODE, …). Sources: Meta's Graph reference
"WhatsApp Business Account Message Templates" and "Send message templates"; pywa
``pywa/types/templates.py``.

Nothing here calls Meta or touches the database.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..payload import text_safe

POSITIONAL = "POSITIONAL"
NAMED = "NAMED"
MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")

# Bounds on what a provider may hand us, so one odd template cannot fill a row or a
# page: Meta's own limits are lower (names 512, 10 buttons, body 1024 characters).
MAX_NAME = 512
MAX_LANGUAGE = 16
MAX_ID = 64
MAX_COMPONENTS = 10
MAX_BUTTONS = 10
MAX_VARIABLES = 100
MAX_DEFINITION_CHARS = 64 * 1024
# What a value an agent types may hold (Meta's body parameters take up to 32768
# characters, but a template body is at most 1024 of them in all).
MAX_VALUE = 2000

_VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_]{1,64})\s*\}\}")
_STATUS = re.compile(r"[A-Z_]{1,32}")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,8}){0,2}")


class TemplateUnreadable(ValueError):
    """A template Meta listed that we cannot keep (too big, or not Meta's shape)."""


class TemplateValuesInvalid(ValueError):
    """The values given for a template's variables cannot make a send; ``str`` says
    why in words for the agent."""


@dataclass(frozen=True)
class ProviderTemplate:
    """One template as Meta lists it, checked and bounded; ``components`` are Meta's
    JSON with every string made storable."""

    id: str
    name: str
    language: str
    status: str
    category: str
    parameter_format: str
    components: list = field(default_factory=list)
    rejected_reason: str = ""


def template_from_meta(raw: object) -> ProviderTemplate:
    """One element of the listing's ``data``; TemplateUnreadable when it cannot be kept."""
    if not isinstance(raw, dict):
        raise TemplateUnreadable("not a JSON object")
    name = _required_str(raw, "name", MAX_NAME)
    language = _required_str(raw, "language", MAX_LANGUAGE)
    if not _LANGUAGE.fullmatch(language):
        raise TemplateUnreadable(f"language {language[:20]!r} is not a language code")
    template_id = raw.get("id")
    template_id = str(template_id) if isinstance(template_id, str | int) else ""
    if not template_id or len(template_id) > MAX_ID:
        raise TemplateUnreadable("no usable id")
    status = str(raw.get("status") or "").upper()
    if not _STATUS.fullmatch(status):
        raise TemplateUnreadable("no usable status")
    category = str(raw.get("category") or "").upper()[:32]
    parameter_format = str(raw.get("parameter_format") or POSITIONAL).upper()
    if parameter_format not in (POSITIONAL, NAMED):
        raise TemplateUnreadable(f"unknown parameter_format {parameter_format[:20]!r}")
    components = raw.get("components") or []
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise TemplateUnreadable("components is not a list of objects")
    if len(components) > MAX_COMPONENTS:
        raise TemplateUnreadable(f"more than {MAX_COMPONENTS} components")
    components = _made_safe(components)
    if len(json.dumps(components)) > MAX_DEFINITION_CHARS:
        raise TemplateUnreadable(f"components longer than {MAX_DEFINITION_CHARS} characters")
    definition = TemplateDefinition(parameter_format=parameter_format, components=components)
    if len(definition.buttons) > MAX_BUTTONS:
        raise TemplateUnreadable(f"more than {MAX_BUTTONS} buttons")
    if len(template_variables(definition)) > MAX_VARIABLES:
        raise TemplateUnreadable(f"more than {MAX_VARIABLES} variables")
    reason = raw.get("rejected_reason")
    return ProviderTemplate(
        id=text_safe(template_id),
        name=text_safe(name),
        language=language,
        status=status,
        category=text_safe(category),
        parameter_format=parameter_format,
        components=components,
        rejected_reason=text_safe(str(reason))[:200] if reason and reason != "NONE" else "",
    )


def _required_str(raw: dict, key: str, size: int) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise TemplateUnreadable(f"no {key}")
    if len(value) > size:
        raise TemplateUnreadable(f"{key} longer than {size} characters")
    return value


def _made_safe(value):
    if isinstance(value, str):
        return text_safe(value)
    if isinstance(value, list):
        return [_made_safe(item) for item in value]
    if isinstance(value, dict):
        return {text_safe(str(k)): _made_safe(v) for k, v in value.items()}
    return value


# --- the definition, read ------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    index: int
    type: str  # QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE, …
    text: str
    url: str = ""
    phone_number: str = ""


class TemplateDefinition:
    """A template's components, read (whatever Meta adds that we do not model is
    ignored here and kept in the stored JSON)."""

    def __init__(self, *, parameter_format: str, components: list):
        self.parameter_format = parameter_format
        self.header_format = ""
        self.header_text = ""
        self.body = ""
        self.footer = ""
        buttons: list[Button] = []
        for component in components:
            kind = str(component.get("type") or "").upper()
            if kind == "HEADER":
                self.header_format = str(component.get("format") or "TEXT").upper()
                self.header_text = _str(component.get("text"))
            elif kind == "BODY":
                self.body = _str(component.get("text"))
            elif kind == "FOOTER":
                self.footer = _str(component.get("text"))
            elif kind == "BUTTONS":
                listed = component.get("buttons")
                for raw in listed if isinstance(listed, list) else []:
                    if not isinstance(raw, dict):
                        continue
                    buttons.append(
                        Button(
                            index=len(buttons),
                            type=str(raw.get("type") or "").upper(),
                            text=_str(raw.get("text")),
                            url=_str(raw.get("url")),
                            phone_number=_str(raw.get("phone_number")),
                        )
                    )
        self.buttons = tuple(buttons)


def _str(value) -> str:
    return value if isinstance(value, str) else ""


def _names(text: str) -> list[str]:
    """The variable names in ``text``, each once, in order of appearance."""
    return list(dict.fromkeys(_VARIABLE.findall(text)))


@dataclass(frozen=True)
class TemplateVariable:
    """One value an agent gives when sending. ``key`` names it in the values mapping:
    ``header.<name>``, ``header.media`` (a link), ``header.latitude``/``longitude``/
    ``name``/``address`` (a LOCATION header), ``body.<name>``, ``button.<index>`` (a URL
    button's suffix, a COPY_CODE button's code, a quick reply's payload)."""

    key: str
    component: str  # "header", "body" or "button"
    name: str  # "1", "first_name", "image", "latitude", a button's text
    # "text", "image", "video", "document", "location", "url_suffix", "coupon_code" or
    # "payload"
    kind: str
    required: bool = True
    button_index: int | None = None


def template_variables(definition: TemplateDefinition) -> list[TemplateVariable]:
    """Every value the template takes, in the order the customer reads them."""
    found: list[TemplateVariable] = []
    if definition.header_format == "TEXT":
        found += [
            TemplateVariable(f"header.{name}", "header", name, "text")
            for name in _names(definition.header_text)
        ]
    elif definition.header_format in MEDIA_FORMATS:
        kind = definition.header_format.lower()
        found.append(TemplateVariable("header.media", "header", kind, kind))
    elif definition.header_format == "LOCATION":
        for name, required in (
            ("latitude", True),
            ("longitude", True),
            ("name", False),
            ("address", False),
        ):
            found.append(TemplateVariable(f"header.{name}", "header", name, "location", required))
    found += [
        TemplateVariable(f"body.{name}", "body", name, "text") for name in _names(definition.body)
    ]
    for button in definition.buttons:
        key = f"button.{button.index}"
        if button.type == "URL" and _names(button.url):
            found.append(
                TemplateVariable(key, "button", button.text, "url_suffix", True, button.index)
            )
        elif button.type == "COPY_CODE":
            found.append(
                TemplateVariable(key, "button", button.text, "coupon_code", True, button.index)
            )
        elif button.type == "QUICK_REPLY":
            # Optional: without one, the customer's tap comes back with the button's text.
            found.append(
                TemplateVariable(key, "button", button.text, "payload", False, button.index)
            )
    return found


def _value(values: Mapping[str, str], key: str) -> str:
    value = values.get(key)
    return value.strip() if isinstance(value, str) else ""


def values_problems(definition: TemplateDefinition, values: Mapping[str, str]) -> list[str]:
    """What is wrong with ``values`` for a send, in words for the agent; empty when
    they make a send. Meta refuses a text parameter holding a new line, a tab or more
    than four spaces in a row (131009), so those are caught before the call."""
    problems = []
    for variable in template_variables(definition):
        value = _value(values, variable.key)
        label = _label(variable)
        if not value:
            if variable.required:
                problems.append(f"{label} needs a value")
            continue
        if len(value) > MAX_VALUE:
            problems.append(f"{label} is longer than {MAX_VALUE} characters")
        elif variable.kind in ("image", "video", "document") and not value.startswith("https://"):
            problems.append(f"{label} must be a link starting with https://")
        elif variable.kind == "location" and variable.name in ("latitude", "longitude"):
            if _coordinate(value, 90 if variable.name == "latitude" else 180) is None:
                problems.append(f"{label} must be a number of degrees")
        elif variable.kind in ("text", "url_suffix", "coupon_code") and (
            "\n" in value or "\t" in value or "     " in value
        ):
            problems.append(f"{label} cannot hold a new line, a tab or more than 4 spaces in a row")
    return problems


def _label(variable: TemplateVariable) -> str:
    if variable.component == "button":
        what = {"url_suffix": "link ending", "coupon_code": "code", "payload": "payload"}
        return f"The {what[variable.kind]} of button “{variable.name}”"
    if variable.kind in ("image", "video", "document"):
        return f"The header {variable.kind}"
    return f"The {variable.component} variable {{{{{variable.name}}}}}"


def _coordinate(value: str, limit: int) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if -limit <= number <= limit else None


# --- the send ----------------------------------------------------------------------------


def send_components(definition: TemplateDefinition, values: Mapping[str, str]) -> list[dict]:
    """The send's ``template.components`` for these values (Meta's "Send message
    templates": header and body parameters, then one entry per button that takes one).
    TemplateValuesInvalid when a value is missing or unusable."""
    problems = values_problems(definition, values)
    if problems:
        raise TemplateValuesInvalid("; ".join(problems) + ".")
    named = definition.parameter_format == NAMED
    components: list[dict] = []

    def text(name: str, value: str) -> dict:
        parameter = {"type": "text", "text": value}
        return {**parameter, "parameter_name": name} if named else parameter

    header: list[dict] = []
    if definition.header_format == "TEXT":
        header = [
            text(n, _value(values, f"header.{n}"))
            for n in _ordered(_names(definition.header_text), named)
        ]
    elif definition.header_format in MEDIA_FORMATS:
        kind = definition.header_format.lower()
        header = [{"type": kind, kind: {"link": _value(values, "header.media")}}]
    elif definition.header_format == "LOCATION":
        location = {
            "latitude": _value(values, "header.latitude"),
            "longitude": _value(values, "header.longitude"),
        }
        for optional in ("name", "address"):
            if value := _value(values, f"header.{optional}"):
                location[optional] = value
        header = [{"type": "location", "location": location}]
    if header:
        components.append({"type": "header", "parameters": header})
    body = [text(n, _value(values, f"body.{n}")) for n in _ordered(_names(definition.body), named)]
    if body:
        components.append({"type": "body", "parameters": body})
    for variable in template_variables(definition):
        if variable.component != "button":
            continue
        value = _value(values, variable.key)
        if not value:
            continue
        sub_type, parameter = {
            "url_suffix": ("url", {"type": "text", "text": value}),
            "coupon_code": ("copy_code", {"type": "coupon_code", "coupon_code": value}),
            "payload": ("quick_reply", {"type": "payload", "payload": value}),
        }[variable.kind]
        components.append(
            {
                "type": "button",
                "sub_type": sub_type,
                "index": str(variable.button_index),
                "parameters": [parameter],
            }
        )
    return components


def _ordered(names: list[str], named: bool) -> list[str]:
    # Positional parameters go in the order of their numbers ({{2}} may come first in
    # the text); named ones are matched by parameter_name.
    if named:
        return names
    return sorted(
        names, key=lambda name: (not name.isdigit(), int(name) if name.isdigit() else 0, name)
    )


# --- the preview -------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedButton:
    type: str
    text: str
    url: str = ""
    phone_number: str = ""


@dataclass(frozen=True)
class RenderedTemplate:
    """What the customer sees. ``header_media`` is IMAGE/VIDEO/DOCUMENT/LOCATION with
    ``header_link`` its link (or "lat, long" for a location); a variable without a
    value is left as it is written (``{{1}}``), so a preview shows what is missing."""

    header_text: str = ""
    header_media: str = ""
    header_link: str = ""
    body: str = ""
    footer: str = ""
    buttons: tuple[RenderedButton, ...] = ()

    def as_text(self) -> str:
        """The whole message as plain lines (for places that show text only)."""
        lines = []
        if self.header_media:
            lines.append(f"[{self.header_media.lower()}: {self.header_link}]")
        if self.header_text:
            lines.append(self.header_text)
        if self.body:
            lines.append(self.body)
        if self.footer:
            lines.append(self.footer)
        for button in self.buttons:
            target = button.url or button.phone_number
            lines.append(f"[{button.text}]" + (f" → {target}" if target else ""))
        return "\n".join(lines)


def render(definition: TemplateDefinition, values: Mapping[str, str]) -> RenderedTemplate:
    """The template with ``values`` filled in, exactly as WhatsApp shows it."""

    def fill(text: str, component: str) -> str:
        def one(match: re.Match) -> str:
            return _value(values, f"{component}.{match.group(1)}") or match.group(0)

        return _VARIABLE.sub(one, text)

    header_media = header_link = ""
    if definition.header_format in MEDIA_FORMATS:
        header_media, header_link = definition.header_format, _value(values, "header.media")
    elif definition.header_format == "LOCATION":
        header_media = "LOCATION"
        point = (_value(values, "header.latitude"), _value(values, "header.longitude"))
        header_link = ", ".join(point) if all(point) else ""
    buttons = []
    for button in definition.buttons:
        url = button.url
        if button.type == "URL" and (suffix := _value(values, f"button.{button.index}")):
            url = _VARIABLE.sub(lambda _match, s=suffix: s, url)
        buttons.append(RenderedButton(button.type, button.text, url, button.phone_number))
    return RenderedTemplate(
        header_text=fill(definition.header_text, "header")
        if definition.header_format == "TEXT"
        else "",
        header_media=header_media,
        header_link=header_link,
        body=fill(definition.body, "body"),
        footer=definition.footer,
        buttons=tuple(buttons),
    )
