"""Intercom's search query language (PROVIDERS.md §1.4), evaluated in Python over the few
rows a sandbox workspace holds.

A query is a filter ``{"field", "operator", "value"}`` or a group
``{"operator": "AND"|"OR", "value": [query, …]}``; groups nest at most two deep and
hold at most 15 queries each, as Intercom documents.
"""

import base64
import binascii
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

MAX_DEPTH = 2
MAX_PER_GROUP = 15
DEFAULT_PER_PAGE = 50  # Intercom's default for contacts (conversations say 20; both accept it)
MAX_PER_PAGE = 150

STRING, DATE, LIST, BOOL = "string", "date", "list", "boolean"

COMPARISONS = {">", "<", ">=", "<="}
TEXT_ONLY = {"~", "!~", "^", "$"}
OPERATORS = {"=", "!=", "IN", "NIN"} | COMPARISONS | TEXT_ONLY


class SearchError(ValueError):
    """A query Intercom would refuse with a 400; ``code`` is Intercom's error code."""

    def __init__(self, message: str, code: str = "parameter_invalid"):
        super().__init__(message)
        self.code = code


Predicate = Callable[[dict], bool]


@dataclass(frozen=True)
class Page:
    rows: list
    total_count: int
    pages: dict


def compile_query(query: Any, fields: dict[str, str], *, timezone: str = "UTC") -> Predicate:
    """A predicate over a row (field name → value) for an Intercom query; SearchError
    for a query Intercom would refuse. ``fields`` names the searchable fields and their
    kinds."""
    return _compile(query, fields, ZoneInfo(timezone), depth=0)


def _compile(query: Any, fields: dict[str, str], tz: ZoneInfo, *, depth: int) -> Predicate:
    if not isinstance(query, dict):
        raise SearchError("query must be an object with field, operator and value.")
    operator = query.get("operator")
    if isinstance(operator, str) and operator.upper() in ("AND", "OR") and "field" not in query:
        if depth >= MAX_DEPTH:
            raise SearchError(f"Queries can nest at most {MAX_DEPTH} groups deep.")
        members = query.get("value")
        if not isinstance(members, list) or not members:
            raise SearchError(f"An {operator.upper()} group needs a list of queries as its value.")
        if len(members) > MAX_PER_GROUP:
            raise SearchError(f"A group can hold at most {MAX_PER_GROUP} queries.")
        parts = [_compile(member, fields, tz, depth=depth + 1) for member in members]
        if operator.upper() == "AND":
            return lambda row: all(part(row) for part in parts)
        return lambda row: any(part(row) for part in parts)
    return _filter(query, fields, tz)


def _filter(query: dict, fields: dict[str, str], tz: ZoneInfo) -> Predicate:
    field, operator = query.get("field"), query.get("operator")
    if not isinstance(field, str) or not field:
        raise SearchError("Each filter needs a field.")
    if field not in fields:
        searchable = ", ".join(sorted(fields))
        raise SearchError(f"“{field}” is not a searchable field. Searchable: {searchable}.")
    if operator not in OPERATORS:
        raise SearchError(
            f"“{operator}” is not a search operator. Use one of: {', '.join(sorted(OPERATORS))}."
        )
    if "value" not in query:
        raise SearchError(f"The filter on {field} has no value.")
    value, kind = query["value"], fields[field]

    if operator in ("IN", "NIN"):
        if not isinstance(value, list):
            raise SearchError(f"{operator} needs a list of values for {field}.")
        wanted = [_scalar(v, kind, field) for v in value]
        if operator == "IN":
            return lambda row: any(_equal(row.get(field), w, kind, tz) for w in wanted)
        return lambda row: not any(_equal(row.get(field), w, kind, tz) for w in wanted)

    if isinstance(value, list | dict):
        raise SearchError(f"{operator} takes a single value for {field}.")
    wanted = _scalar(value, kind, field)
    if operator == "=":
        return lambda row: _equal(row.get(field), wanted, kind, tz)
    if operator == "!=":
        return lambda row: not _equal(row.get(field), wanted, kind, tz)
    if operator in COMPARISONS:
        if kind != DATE:
            raise SearchError(f"{operator} only compares dates; {field} is not one.")
        if wanted is None:
            raise SearchError(f"{operator} needs a timestamp for {field}.")
        return lambda row: _compare(row.get(field), operator, wanted)
    if kind != STRING:
        raise SearchError(f"{operator} only applies to text fields; {field} is not one.")
    if not isinstance(wanted, str):
        raise SearchError(f"{operator} needs text for {field}.")
    return lambda row: _text_match(row.get(field), operator, wanted)


def _scalar(value: Any, kind: str, field: str) -> Any:
    """A filter value as the field's kind; None stays None (Intercom searches for nulls)."""
    if value is None:
        return None
    if kind == DATE:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise SearchError(f"{field} takes a Unix timestamp, not “{value}”.") from None
    if kind == BOOL:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise SearchError(f"{field} takes true or false, not “{value}”.")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise SearchError(f"{field} takes text, not {type(value).__name__}.")
    return str(value)


def _equal(actual: Any, wanted: Any, kind: str, tz: ZoneInfo) -> bool:
    if kind == LIST:
        members = actual or []
        return not members if wanted is None else wanted in members
    if wanted is None:
        return actual in (None, "")
    if actual is None:
        return False
    if kind == DATE:
        # Intercom matches "=" on a date by calendar day in the workspace's time zone.
        return _day(actual, tz) == _day(wanted, tz)
    if kind == STRING:
        return str(actual).casefold() == str(wanted).casefold()
    return actual == wanted


def _day(timestamp: int, tz: ZoneInfo):
    return datetime.fromtimestamp(timestamp, UTC).astimezone(tz).date()


def _compare(actual: Any, operator: str, wanted: int) -> bool:
    if actual is None:
        return False
    return {
        ">": actual > wanted,
        "<": actual < wanted,
        ">=": actual >= wanted,
        "<=": actual <= wanted,
    }[operator]


def _text_match(actual: Any, operator: str, wanted: str) -> bool:
    text, needle = str(actual or "").casefold(), wanted.casefold()
    if operator == "~":
        return needle in text
    if operator == "!~":
        return needle not in text
    if operator == "^":
        return text.startswith(needle)
    return text.endswith(needle)


# --- sort and pagination ----------------------------------------------------------------


def sort_rows(rows: list, sort: Any, fields: dict[str, str], key: Callable) -> list:
    """Rows ordered by Intercom's ``sort`` object (``{field, order}``); ``key(row, field)``
    reads a field. Without a sort, rows keep their order."""
    if sort in (None, {}):
        return rows
    if not isinstance(sort, dict):
        raise SearchError("sort must be an object with field and order.", "invalid_sort_order")
    field, order = sort.get("field"), sort.get("order", "descending")
    if field not in fields or fields[field] == LIST:
        raise SearchError(f"Cannot sort by “{field}”.", "invalid_sort_order")
    if order not in ("ascending", "descending"):
        raise SearchError(
            f"Sort order must be ascending or descending, not “{order}”.", "invalid_sort_order"
        )

    def sort_key(row):
        value = key(row, field)
        return (value is None, value if value is not None else 0)

    return sorted(rows, key=sort_key, reverse=order == "descending")


def pagination(params: Any) -> tuple[int, int]:
    """(per_page, offset) from Intercom's ``pagination`` object."""
    if params in (None, {}):
        return DEFAULT_PER_PAGE, 0
    if not isinstance(params, dict):
        raise SearchError("pagination must be an object with per_page and starting_after.")
    per_page = params.get("per_page", DEFAULT_PER_PAGE)
    try:
        per_page = int(per_page)
    except (TypeError, ValueError):
        raise SearchError(f"per_page must be a number, not “{per_page}”.") from None
    if per_page < 1:
        raise SearchError("per_page must be at least 1.")
    return min(per_page, MAX_PER_PAGE), _offset(params.get("starting_after"))


def cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(starting_after: Any) -> int:
    if starting_after in (None, ""):
        return 0
    try:
        text = base64.urlsafe_b64decode(str(starting_after).encode()).decode()
        label, _, number = text.partition(":")
        if label != "offset" or not number.isdigit():
            raise ValueError
        return int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise SearchError(
            "starting_after is not a cursor this search gave: pass pages.next.starting_after."
        ) from None


def paginate(rows: Iterable, per_page: int, offset: int) -> Page:
    rows = list(rows)
    total = len(rows)
    chunk = rows[offset : offset + per_page]
    pages = {
        "type": "pages",
        "page": offset // per_page + 1,
        "per_page": per_page,
        "total_pages": -(-total // per_page),
    }
    if offset + per_page < total:
        pages["next"] = {"page": pages["page"] + 1, "starting_after": cursor(offset + per_page)}
    return Page(chunk, total, pages)
