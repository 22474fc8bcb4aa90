"""Meta's message templates, as the sandbox's Graph API serves and enforces them.

Every sandbox WhatsApp Business Account holds the same few templates of real shapes
(Meta's Graph reference "WhatsApp Business Account Message Templates"): an approved
UTILITY template with an IMAGE header and two positional body variables, an approved
MARKETING template with named parameters and a URL button taking a suffix, a PAUSED one
and a REJECTED one. ``GET /{waba-id}/message_templates`` lists them in pages
(``limit``, ``after``), and a template send is checked the way Meta checks it: an
unknown name or language (or a template not approved) is 132001, a paused one 132015,
a disabled one 132016, the wrong number of parameters 132000, named parameters where
positional are expected (or the header's kind wrong) 132012, an empty value 131008.

A person (or a test) can change a template's status at "Meta" on the sandbox's index
page (``status_set``): pausing an approved template after Octopods has synced it is how
Meta's pausing for low quality looks from Octopods, which still offers it until the next
sync or status webhook, and whose send Meta then refuses with 132015.

Like the rest of the sandbox this imports nothing of the product: it is a stand-in for
Meta, written from Meta's documentation, so the product's code is tested against it.
"""

import base64
import re
from dataclasses import dataclass

from django.core.cache import cache

_VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_]{1,64})\s*\}\}")
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


STATUSES = ("APPROVED", "PAUSED", "DISABLED")


def _status_key(waba_id: str, name: str) -> str:
    return f"sandbox:whatsapp:template-status:{waba_id}:{name}"


def status_set(waba_id: str, name: str, status: str | None) -> None:
    """Meta changing a template's status (None: back to the one it was made with)."""
    if status is None:
        cache.delete(_status_key(waba_id, name))
    else:
        cache.set(_status_key(waba_id, name), status, None)


def catalog(waba_id: str) -> list[dict]:
    """The WABA's templates in Meta's listing shape, with any status a person set."""
    templates = _made(waba_id)
    changed = cache.get_many([_status_key(waba_id, t["name"]) for t in templates])
    for template in templates:
        template["status"] = changed.get(_status_key(waba_id, template["name"]), template["status"])
    return templates


def _made(waba_id: str) -> list[dict]:
    """The WABA's templates as they were made (ids are the WABA's own)."""
    suffix = waba_id[-6:]
    return [
        {
            "name": "order_shipped",
            "parameter_format": "POSITIONAL",
            "components": [
                {
                    "type": "HEADER",
                    "format": "IMAGE",
                    "example": {"header_handle": ["https://scontent.whatsapp.net/order.jpg"]},
                },
                {
                    "type": "BODY",
                    "text": "Hi {{1}}, your order {{2}} is on its way.",
                    "example": {"body_text": [["Jane", "#1042"]]},
                },
                {"type": "FOOTER", "text": "Acme Support"},
                {
                    "type": "BUTTONS",
                    "buttons": [{"type": "QUICK_REPLY", "text": "Where is it?"}],
                },
            ],
            "language": "en_US",
            "status": "APPROVED",
            "category": "UTILITY",
            "id": f"71{suffix}0001",
        },
        {
            "name": "spring_sale",
            "parameter_format": "NAMED",
            "components": [
                {"type": "HEADER", "format": "TEXT", "text": "Spring sale"},
                {
                    "type": "BODY",
                    "text": "Hello {{first_name}}, take {{discount}} off everything until Sunday.",
                    "example": {
                        "body_text_named_params": [
                            {"param_name": "first_name", "example": "Jane"},
                            {"param_name": "discount", "example": "20%"},
                        ]
                    },
                },
                {"type": "FOOTER", "text": "Reply STOP to opt out"},
                {
                    "type": "BUTTONS",
                    "buttons": [
                        {
                            "type": "URL",
                            "text": "Shop now",
                            "url": "https://shop.example.com/sale/{{1}}",
                            "example": ["https://shop.example.com/sale/spring"],
                        }
                    ],
                },
            ],
            "language": "en",
            "status": "APPROVED",
            "category": "MARKETING",
            "id": f"71{suffix}0002",
        },
        {
            "name": "winback_offer",
            "parameter_format": "POSITIONAL",
            "components": [
                {
                    "type": "BODY",
                    "text": "We miss you, {{1}}! Here is 10% off your next order.",
                    "example": {"body_text": [["Jane"]]},
                }
            ],
            "language": "en_US",
            "status": "PAUSED",
            "category": "MARKETING",
            "id": f"71{suffix}0003",
        },
        {
            "name": "miracle_cure",
            "parameter_format": "POSITIONAL",
            "components": [{"type": "BODY", "text": "Lose 10 kg in a week, guaranteed!"}],
            "language": "en_US",
            "status": "REJECTED",
            "category": "MARKETING",
            "rejected_reason": "PROMOTIONAL",
            "id": f"71{suffix}0004",
        },
        {
            # Named variables: the Octopods panel fills first_name from the contact.
            "name": "delivery_update",
            "parameter_format": "NAMED",
            "components": [
                {
                    "type": "HEADER",
                    "format": "IMAGE",
                    "example": {"header_handle": ["https://scontent.whatsapp.net/parcel.jpg"]},
                },
                {
                    "type": "BODY",
                    "text": "Hi {{first_name}}, parcel {{tracking_code}} arrives tomorrow.",
                    "example": {
                        "body_text_named_params": [
                            {"param_name": "first_name", "example": "Jane"},
                            {"param_name": "tracking_code", "example": "AC-1042"},
                        ]
                    },
                },
                {"type": "FOOTER", "text": "Acme Support"},
            ],
            "language": "en_US",
            "status": "APPROVED",
            "category": "UTILITY",
            "id": f"71{suffix}0005",
        },
    ]


# --- the listing ---------------------------------------------------------------------


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError:
        return None
    kind, _, number = text.partition(":")
    return int(number) if kind == "offset" and number.isdigit() else None


class BadListing(ValueError):
    pass


def listing(waba_id: str, *, limit, after, fields: list[str], next_url) -> dict:
    """One page of ``GET /{waba-id}/message_templates``; ``next_url(after)`` makes the
    ``paging.next`` link. BadListing for a limit or cursor Meta would refuse."""
    try:
        size = int(limit) if limit not in (None, "") else DEFAULT_PAGE_SIZE
    except (TypeError, ValueError):
        raise BadListing("(#100) Param limit must be an integer") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise BadListing(f"(#100) Param limit must be between 1 and {MAX_PAGE_SIZE}")
    start = 0
    if after:
        start = _offset(str(after))
        if start is None:
            raise BadListing("(#100) Invalid cursor")
    templates = catalog(waba_id)
    chosen = templates[start : start + size]
    data = [{k: v for k, v in t.items() if k == "id" or not fields or k in fields} for t in chosen]
    paging: dict = {"cursors": {"before": _cursor(start), "after": _cursor(start + len(chosen))}}
    if start + size < len(templates):
        paging["next"] = next_url(_cursor(start + size))
    return {"data": data, "paging": paging}


# --- a send ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    code: int
    message: str
    details: str


@dataclass(frozen=True)
class Rendered:
    """What the customer's phone shows."""

    header_format: str = ""
    header_text: str = ""
    header_link: str = ""
    body: str = ""
    footer: str = ""
    buttons: tuple[dict, ...] = ()

    def as_text(self) -> str:
        lines = [line for line in (self.header_text, self.body, self.footer) if line]
        lines += [f"[{button['text']}]" for button in self.buttons]
        return "\n".join(lines)

    def as_detail(self) -> dict:
        return {
            "header_format": self.header_format,
            "header_text": self.header_text,
            "header_link": self.header_link,
            "body": self.body,
            "footer": self.footer,
            "buttons": list(self.buttons),
        }


def _component(template: dict, kind: str) -> dict:
    return next((c for c in template["components"] if c["type"] == kind), {})


def _sent(components, kind: str, index: str | None = None) -> list:
    for component in components:
        if not isinstance(component, dict) or str(component.get("type", "")).lower() != kind:
            continue
        if index is not None and str(component.get("index")) != index:
            continue
        parameters = component.get("parameters")
        return parameters if isinstance(parameters, list) else []
    return []


def send_template(waba_id: str, content: dict) -> Rendered | Refusal:
    """Check a send's ``template`` object against the WABA's templates as Meta does, and
    render it when it passes."""
    name = content.get("name")
    language = content.get("language")
    code = language.get("code") if isinstance(language, dict) else None
    if not isinstance(name, str) or not name or not isinstance(code, str) or not code:
        return Refusal(
            131008,
            "(#131008) Required parameter is missing",
            "template name and language.code are required",
        )
    template = next(
        (t for t in catalog(waba_id) if t["name"] == name and t["language"] == code), None
    )
    if template is None or template["status"] in ("REJECTED", "PENDING"):
        return Refusal(
            132001,
            "(#132001) Template name does not exist in the translation",
            f"template name ({name}) does not exist in {code}",
        )
    if template["status"] == "PAUSED":
        return Refusal(
            132015, "(#132015) Template is Paused", f"Template {name} is paused due to low quality"
        )
    if template["status"] == "DISABLED":
        return Refusal(132016, "(#132016) Template is disabled", f"Template {name} is disabled")
    components = content.get("components") or []
    if not isinstance(components, list):
        return Refusal(
            131009, "(#131009) Parameter value is not valid", "components must be a list"
        )
    named = template["parameter_format"] == "NAMED"
    values: dict[str, dict[str, str]] = {"header": {}, "body": {}}
    header = _component(template, "HEADER")
    header_format = header.get("format", "")
    header_link = ""
    for kind, component in (("header", header), ("body", _component(template, "BODY"))):
        if kind == "header" and header_format in ("IMAGE", "VIDEO", "DOCUMENT"):
            given = _sent(components, "header")
            if len(given) != 1:
                return _count(kind, len(given), 1)
            media = given[0].get(header_format.lower()) if isinstance(given[0], dict) else None
            if given[0].get("type") != header_format.lower() or not isinstance(media, dict):
                return Refusal(
                    132012,
                    "(#132012) Parameter format does not match format in the created template",
                    f"header: expected {_a(header_format.lower())} parameter",
                )
            header_link = str(media.get("link") or media.get("id") or "")
            if not header_link:
                return Refusal(
                    131008,
                    "(#131008) Required parameter is missing",
                    "header: link or id is required",
                )
            continue
        expected = list(dict.fromkeys(_VARIABLE.findall(component.get("text", ""))))
        given = _sent(components, kind)
        if len(given) != len(expected):
            return _count(kind, len(given), len(expected))
        for position, parameter in enumerate(given):
            if not isinstance(parameter, dict) or parameter.get("type") != "text":
                return Refusal(
                    132012,
                    "(#132012) Parameter format does not match format in the created template",
                    f"{kind}: only text parameters are expected",
                )
            text = parameter.get("text")
            if not isinstance(text, str) or not text.strip():
                return Refusal(
                    131008,
                    "(#131008) Required parameter is missing",
                    f"{kind}: parameter text is required",
                )
            parameter_name = parameter.get("parameter_name")
            if named:
                if parameter_name not in expected:
                    return Refusal(
                        132012,
                        "(#132012) Parameter format does not match format in the created template",
                        f"{kind}: expected named parameters {', '.join(expected)}",
                    )
                values[kind][parameter_name] = text
            else:
                if parameter_name is not None:
                    return Refusal(
                        132012,
                        "(#132012) Parameter format does not match format in the created template",
                        f"{kind}: this template takes positional parameters",
                    )
                values[kind][str(position + 1)] = text
    buttons = []
    for index, button in enumerate(_component(template, "BUTTONS").get("buttons", [])):
        rendered = {"type": button["type"], "text": button["text"]}
        if button["type"] == "URL" and _VARIABLE.search(button["url"]):
            given = _sent(components, "button", str(index))
            if len(given) != 1:
                return _count(f"button {index}", len(given), 1)
            suffix = given[0].get("text") if isinstance(given[0], dict) else None
            if not isinstance(suffix, str) or not suffix:
                return Refusal(
                    131008,
                    "(#131008) Required parameter is missing",
                    f"button {index}: url suffix is required",
                )
            rendered["url"] = _VARIABLE.sub(suffix, button["url"])
        elif button.get("url"):
            rendered["url"] = button["url"]
        buttons.append(rendered)

    def fill(text: str, kind: str) -> str:
        return _VARIABLE.sub(lambda m: values[kind].get(m.group(1), m.group(0)), text)

    return Rendered(
        header_format=header_format,
        header_text=fill(header.get("text", ""), "header") if header_format == "TEXT" else "",
        header_link=header_link,
        body=fill(_component(template, "BODY").get("text", ""), "body"),
        footer=_component(template, "FOOTER").get("text", ""),
        buttons=tuple(buttons),
    )


def _count(kind: str, given: int, expected: int) -> Refusal:
    return Refusal(
        132000,
        "(#132000) Number of parameters does not match the expected number of params",
        f"{kind}: number of localizable_params ({given}) does not match the expected number "
        f"of params ({expected})",
    )


def _a(word: str) -> str:
    """``word`` with its article (Meta's header formats: "an image", "a video")."""
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"
