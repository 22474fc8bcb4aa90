"""Reading a provider's JSON payload: one way for every provider.

``load_json`` is how every provider's body becomes Python: a body that could never be
stored (nested past any real payload, numbers no column or datetime holds) is refused
here with a reason, and text is made safe for PostgreSQL, which refuses NUL and unpaired
surrogates in text and jsonb alike.

``parse_as`` then reads the document as a typed model (a ``Payload`` subclass written
from the provider's documentation, in each provider's ``schema.py``): a field we read
that is missing or of the wrong type raises MalformedPayload naming where it is (the
webhook answers 400 with that reason and stores nothing); fields we do not read are
ignored, since providers add fields without notice.
"""

import json
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from .channel import MalformedPayload

# Real payloads nest a handful of levels (Meta's envelope is the deepest, at about 8).
MAX_DEPTH = 32

# NUL and UTF-16 surrogates: a surrogate in a Python str is always unpaired (JSON's
# "\ud83d\ude00" decodes to one code point), and neither can be stored.
_UNSAFE = re.compile("[\x00\ud800-\udfff]")


def text_safe(value: str) -> str:
    """``value`` with each NUL and unpaired surrogate replaced by U+FFFD."""
    return _UNSAFE.sub("\ufffd", value)


def load_json(body: bytes) -> object:
    """The JSON document in ``body`` with every string (keys too) made safe.

    MalformedPayload, with a reason, for a body that is not UTF-8 JSON, nests more than
    MAX_DEPTH levels, or holds NaN, an infinity or an integer too long to read.
    """
    try:
        data = json.loads(body)
    except RecursionError:
        raise MalformedPayload(f"body is nested more than {MAX_DEPTH} levels deep") from None
    except UnicodeDecodeError as error:
        raise MalformedPayload("body is not UTF-8") from error
    except json.JSONDecodeError as error:
        raise MalformedPayload(f"body is not JSON ({error.msg} at {error.pos})") from error
    except ValueError as error:
        # int() refuses numbers of more than 4300 digits (a denial-of-service guard).
        raise MalformedPayload("a number in the body is too long to be an integer") from error
    return _made_safe(data)


def _made_safe(data: object) -> object:
    """Walk the document without recursion (its depth is what is being checked)."""
    if isinstance(data, str):
        return text_safe(data)
    _check_number(data)
    if not isinstance(data, dict | list):
        return data
    stack = [(data, 1)]
    while stack:
        container, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise MalformedPayload(f"body is nested more than {MAX_DEPTH} levels deep")
        if isinstance(container, dict):
            if any(_UNSAFE.search(key) for key in container):
                items = [(text_safe(key), value) for key, value in container.items()]
                container.clear()
                container.update(items)
            keys = container.keys()
        else:
            keys = range(len(container))
        for key in keys:
            value = container[key]
            if isinstance(value, str):
                if _UNSAFE.search(value):
                    container[key] = text_safe(value)
            elif isinstance(value, dict | list):
                stack.append((value, depth + 1))
            else:
                _check_number(value)
    return data


def _check_number(value: object) -> None:
    # json reads NaN, Infinity and 1e999 as floats that no JSON column accepts back.
    if isinstance(value, float) and not math.isfinite(value):
        raise MalformedPayload("a number in the body is NaN or infinite")


class Payload(BaseModel):
    """A JSON object as a provider documents it. Strict: "5" is not an integer, 1 is not
    a string, true is not a number — a provider that changes a type is refused loudly
    rather than read wrongly. Read-only once parsed."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


def parse_as[M: Payload](model: type[M], data: object) -> M:
    """``data`` (from ``load_json``) read as ``model``, or MalformedPayload with the path
    to the first field that is not as documented ("entry.0.messaging.0.sender.id: ...")."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise MalformedPayload(_reason(error)) from None


# pydantic's error types in the words the rest of the webhook refusals use.
_SAYS = {
    "missing": "is missing",
    "model_type": "is not an object",
    "dict_type": "is not an object",
    "list_type": "is not a list",
    "string_type": "is not a string",
    "int_type": "is not an integer",
    "float_type": "is not a number",
    "bool_type": "is not true or false",
    "literal_error": "is not one of the documented values",
}


def _reason(error: ValidationError) -> str:
    first = error.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    says = _SAYS.get(first["type"]) or first["msg"].removeprefix("Value error, ")
    return f"{where} {says}"


def _null_as(default: object) -> BeforeValidator:
    return BeforeValidator(lambda value: default if value is None else value)


# Optional fields: absent or null read as empty, anything else must be of the type.
OptStr = Annotated[str, _null_as("")]


def _check_unix(scale: int) -> Callable[[Any], datetime]:
    def read(value: Any) -> datetime:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError("is not a Unix time")
        try:
            return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=int(value) / scale)
        except (ValueError, OverflowError) as error:
            raise ValueError("is not a Unix time") from error

    return read


# Unix times as providers send them: an integer, or its digits as a string (Meta).
UnixSeconds = Annotated[datetime, BeforeValidator(_check_unix(1))]
UnixMillis = Annotated[datetime, BeforeValidator(_check_unix(1000))]


def _check_id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise ValueError("is not an id")
    return str(value)


# An id that some payloads send as a string and others as a number (Intercom, HubSpot):
# read as its string either way. Never empty, never true/false.
Id = Annotated[str, BeforeValidator(_check_id)]
# The same, optional: absent or null reads as "" (an empty string is still no id).
OptId = Annotated[str, BeforeValidator(lambda value: "" if value is None else _check_id(value))]
