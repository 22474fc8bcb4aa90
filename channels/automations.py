"""A channel's automations: the rules for its welcome message, out-of-office schedule,
signature and message templates, and the functions the relay calls with them.

The relay calls ``channel_is_open``, ``signature_render`` and ``template_render`` on the
message path; they read what is on the channel (and its prefetched rows) and never fail
on settings saved through the forms. The parse and check functions here are what those
forms validate with; their messages are shown to admins as they are.
"""

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from itertools import islice, pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.core.exceptions import ValidationError

logger = logging.getLogger(__name__)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
END_OF_DAY = 24 * 60
WELCOME_MAX_LENGTH = 1000
AWAY_MAX_LENGTH = 1000
SIGNATURE_MAX_LENGTH = 300
HOLIDAY_NAME_MAX_LENGTH = 100
# A year of holidays with room to spare, typed in a textarea of this many characters
# (a line is a date and a name); either bound keeps one save from writing without end.
HOLIDAYS_MAX = 370
HOLIDAYS_MAX_LENGTH = HOLIDAYS_MAX * (11 + HOLIDAY_NAME_MAX_LENGTH)
# Far more than a 1024-character body can use; Meta numbers variables from 1 with no gaps.
TEMPLATE_VARIABLES_MAX = 100
# Meta refuses template bodies longer than this.
TEMPLATE_BODY_MAX_LENGTH = 1024
SIGNATURE_PLACEHOLDERS = ("agent_name", "channel_name")
# What channel_is_open reads beyond the channel row: prefetch these with the channel
# (``.prefetch_related(*SCHEDULE_PREFETCH)``) and it makes no query at all.
SCHEDULE_PREFETCH = ("opening_hours", "holidays")


@dataclass(frozen=True)
class Block:
    """An opening-hours block: minutes since local midnight, start inclusive, end
    exclusive; ``closes`` may be END_OF_DAY (24:00)."""

    weekday: int  # 0 = Monday
    opens: int
    closes: int

    def __str__(self):
        return f"{minutes_format(self.opens)}-{minutes_format(self.closes)}"


@dataclass(frozen=True)
class HolidayEntry:
    date: date
    name: str = ""


# --- Time zones --------------------------------------------------------------------

# Names zoneinfo knows that are not places: the server's own zone and a placeholder.
_NOT_TIME_ZONES = {"localtime", "Factory"}


@cache
def time_zone_names() -> frozenset[str]:
    return frozenset(available_timezones() - _NOT_TIME_ZONES)


@cache
def time_zone_choices() -> list:
    """Every IANA time zone, grouped by region (for a <select> with <optgroup>s);
    UTC first, names without a region (legacy aliases) last, under "Other"."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for name in sorted(time_zone_names()):
        region = name.split("/", 1)[0] if "/" in name else "Other"
        groups.setdefault(region, []).append((name, name.replace("_", " ")))
    other = groups.pop("Other", [])
    return [("UTC", "UTC"), *groups.items(), ("Other", other)]


def time_zone_check(name: str) -> str:
    """``name`` if zoneinfo can load it as an IANA time zone; ValidationError if not."""
    if name in time_zone_names():
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
        else:
            return name
    raise ValidationError(
        f"“{name}” is not a time zone we know: choose one from the list, "
        "e.g. Europe/Paris or America/New_York."
    )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        # Only reachable if the time-zone database on the server lost a name since it
        # was saved; answering in UTC beats failing every inbound message.
        logger.warning("unknown time zone %r; evaluating the schedule in UTC", name)
        return ZoneInfo("UTC")


# --- Opening hours -----------------------------------------------------------------

_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_BLOCK = re.compile(r"(\S+?)\s*[-–—]\s*(\S+)")  # noqa: RUF001 - en and em dashes on purpose
_BLOCK_SEPARATOR = re.compile(r"[,;]")


def minutes_format(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes_parse(text: str) -> int | None:
    """Minutes since midnight for "HH:MM" (00:00 to 24:00), or None."""
    match = _TIME.fullmatch(text)
    if match is None:
        return None
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        return None
    return hours * 60 + minutes


def hours_parse(text: str, *, weekday: int) -> list[Block]:
    """One weekday's blocks from "09:00-12:00, 13:00-17:30" (empty or "closed": none).

    Raises ValidationError with every problem, each naming the weekday.
    """
    day = WEEKDAYS[weekday]
    text = text.strip()
    if not text or text.lower() == "closed":
        return []
    errors, blocks = [], []
    for part in (part.strip() for part in _BLOCK_SEPARATOR.split(text)):
        if not part:
            continue
        match = _BLOCK.fullmatch(part)
        if match is None:
            errors.append(
                f"{day}: “{part}” is not a block of time. Write HH:MM-HH:MM, "
                "e.g. 09:00-12:00, and separate blocks with commas."
            )
            continue
        times = [_minutes_parse(match[1]), _minutes_parse(match[2])]
        bad = [raw for raw, minutes in zip(match.groups(), times, strict=True) if minutes is None]
        if bad:
            errors.extend(
                f"{day}: “{raw}” is not a time. Use HH:MM from 00:00 to 23:59 "
                "(24:00 to close at midnight)."
                for raw in bad
            )
            continue
        opens, closes = times
        if closes <= opens:
            errors.append(
                f"{day}: {part} must end after it starts. An overnight shift is two blocks: "
                "22:00-24:00 on one day and 00:00-06:00 on the next."
            )
            continue
        blocks.append(Block(weekday, opens, closes))
    blocks.sort(key=lambda block: block.opens)
    for earlier, later in pairwise(blocks):
        if later.opens < earlier.closes:
            errors.append(f"{day}: {earlier} and {later} overlap.")
    if errors:
        raise ValidationError(errors)
    return blocks


def hours_format(blocks: list[Block]) -> str:
    """One weekday's blocks as an admin types them ("" when closed)."""
    return ", ".join(str(block) for block in sorted(blocks, key=lambda block: block.opens))


def weekly_hours(rows) -> list[tuple[str, list[Block]]]:
    """(weekday name, its blocks) for Monday to Sunday, from OpeningHours rows."""
    week: list[list[Block]] = [[] for _ in WEEKDAYS]
    for row in rows:
        week[row.weekday].append(Block(row.weekday, row.opens, row.closes))
    return [
        (WEEKDAYS[day], sorted(blocks, key=lambda block: block.opens))
        for day, blocks in enumerate(week)
    ]


# --- Holidays ----------------------------------------------------------------------

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def holidays_parse(text: str) -> list[HolidayEntry]:
    """Holidays from lines of "YYYY-MM-DD name" (the name is optional; blank lines are
    skipped). Raises ValidationError with every problem, each naming its line."""
    errors, entries, seen = [], [], {}
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split(None, 1)
        if not fields:
            continue
        raw, name = fields[0], fields[1].strip() if len(fields) > 1 else ""
        match = _DATE.fullmatch(raw)
        if match is None:
            errors.append(
                f"Line {number}: “{raw}” is not a date. Start the line with YYYY-MM-DD, "
                "e.g. 2025-12-25 Christmas Day."
            )
            continue
        try:
            day = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            errors.append(f"Line {number}: {raw} is not a real date.")
            continue
        if day in seen:
            errors.append(f"Line {number}: {raw} is already listed on line {seen[day]}.")
            continue
        if len(name) > HOLIDAY_NAME_MAX_LENGTH:
            errors.append(
                f"Line {number}: the name is longer than {HOLIDAY_NAME_MAX_LENGTH} characters."
            )
            continue
        seen[day] = number
        entries.append(HolidayEntry(day, name))
    if len(entries) > HOLIDAYS_MAX:
        errors.append(
            f"{len(entries)} holidays: a channel can have at most {HOLIDAYS_MAX} holidays."
        )
    if errors:
        raise ValidationError(errors)
    return sorted(entries, key=lambda entry: entry.date)


def holidays_format(rows) -> str:
    return "\n".join(f"{row.date.isoformat()} {row.name}".strip() for row in rows)


# --- The schedule ------------------------------------------------------------------


def channel_is_open(*, channel, at: datetime) -> bool:
    """Whether ``channel`` is within its opening hours at the instant ``at`` (aware).

    Out-of-office off: always open. Otherwise ``at`` is read as wall-clock time in the
    channel's time zone (so 09:00 stays 09:00 across a DST change); a holiday closes
    its whole local date; a block is open from its start (inclusive) to its end
    (exclusive); a weekday without blocks is closed.

    Reads ``channel.away_enabled`` and ``channel.time_zone``, then, only when
    out-of-office is on, ``channel.holidays.all()`` and ``channel.opening_hours.all()``:
    no query when the channel was fetched with ``prefetch_related(*SCHEDULE_PREFETCH)``,
    two small ones otherwise.
    """
    if not channel.away_enabled:
        return True
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("channel_is_open needs an aware datetime.")
    local = at.astimezone(_zone(channel.time_zone))
    today = local.date()
    if any(holiday.date == today for holiday in channel.holidays.all()):
        return False
    minute = local.hour * 60 + local.minute
    weekday = local.weekday()
    return any(
        row.weekday == weekday and row.opens <= minute < row.closes
        for row in channel.opening_hours.all()
    )


# --- Signature ---------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def signature_check(text: str) -> None:
    """ValidationError naming each unknown placeholder and any unbalanced brace."""
    errors = []
    unknown = []
    for raw in _PLACEHOLDER.findall(text):
        if raw.strip() not in SIGNATURE_PLACEHOLDERS and f"{{{raw}}}" not in unknown:
            unknown.append(f"{{{raw}}}")
    if unknown:
        known = " and ".join(f"{{{name}}}" for name in SIGNATURE_PLACEHOLDERS)
        noun = "placeholder" if len(unknown) == 1 else "placeholders"
        errors.append(f"Unknown {noun} {', '.join(unknown)}: the signature can use {known}.")
    rest = _PLACEHOLDER.sub("", text)
    if "{" in rest:
        errors.append(
            "A “{” is never closed: placeholders look like {agent_name}, "
            "and braces cannot be used otherwise."
        )
    if "}" in rest:
        errors.append(
            "A “}” has no opening “{”: placeholders look like {agent_name}, "
            "and braces cannot be used otherwise."
        )
    if errors:
        raise ValidationError(errors)


def signature_render(*, channel, agent_name: str) -> str:
    """The channel's signature for a reply by ``agent_name``; "" when it has none.

    Values are inserted as they are (an agent named "{x}" stays "{x}"); a placeholder
    the form would have refused is left as written rather than failing a reply.
    """
    if not channel.signature.strip():
        return ""
    values = {"agent_name": agent_name, "channel_name": channel.name}

    def fill(match):
        return values.get(match[1].strip(), match[0])

    return _PLACEHOLDER.sub(fill, channel.signature).strip()


# --- Templates ---------------------------------------------------------------------

_DOUBLE_BRACES = re.compile(r"\{\{(.*?)\}\}")
# ASCII digits only: superscripts and other scripts' digits pass str.isdigit() and \d.
_VARIABLE = re.compile(r"\{\{\s*([0-9]+)\s*\}\}")
_SINGLE_BRACE_NUMBER = re.compile(r"(?<!\{)\{\s*[0-9]+\s*\}(?!\})")
_VARIABLES_LISTED = 5
_LANGUAGE = re.compile(r"([a-z]{2,3})(?:_([a-z]{2}))?")


class TemplateVariablesError(ValueError):
    """A template was given the wrong variables; the message says what it takes."""


def _variables_list(numbers) -> str:
    """The first few of ``numbers`` as {{n}}, and how many more: a message's size must not
    grow with a number someone typed."""
    numbers = list(islice(numbers, _VARIABLES_LISTED + 1))
    if len(numbers) <= _VARIABLES_LISTED:
        return ", ".join(f"{{{{{number}}}}}" for number in numbers)
    return ", ".join(f"{{{{{number}}}}}" for number in numbers[:_VARIABLES_LISTED])


def _variables_phrase(numbers, total: int) -> str:
    listed = _variables_list(numbers)
    more = total - min(total, _VARIABLES_LISTED)
    return f"{listed} and {more} more" if more else listed


def template_variable_count(body: str) -> int:
    """How many variables ``body`` takes ({{1}}…{{n}}); ValidationError when a variable
    is not a number, numbering does not start at 1, or a number is missing."""
    errors = []
    for raw in dict.fromkeys(_DOUBLE_BRACES.findall(body)):
        if not (raw.strip().isascii() and raw.strip().isdigit()):
            errors.append(
                f"{{{{{raw}}}}} is not a variable: variables are numbers in double braces, "
                "like {{1}}."
            )
    for raw in dict.fromkeys(_SINGLE_BRACE_NUMBER.findall(body)):
        number = raw.strip("{} ")
        errors.append(f"{raw} needs double braces: {{{{{number}}}}}.")
    numbers = {int(raw) for raw in _VARIABLE.findall(body)}
    if 0 in numbers:
        errors.append("Variables are numbered from {{1}}: {{0}} is not allowed.")
        numbers.discard(0)
    beyond = sorted(number for number in numbers if number > TEMPLATE_VARIABLES_MAX)
    if beyond:
        errors.append(
            f"{_variables_list(beyond)} {'is' if len(beyond) == 1 else 'are'} beyond the "
            f"{TEMPLATE_VARIABLES_MAX} variables a template can have."
        )
        numbers.difference_update(beyond)
    # Bounded by TEMPLATE_VARIABLES_MAX now, whatever number was typed.
    count = max(numbers, default=0)
    missing = [number for number in range(1, count + 1) if number not in numbers]
    if missing:
        listed = _variables_phrase(missing, len(missing))
        if len(missing) == 1:
            what = f"Variable {listed} is missing"
        else:
            what = f"Variables {listed} are missing"
        errors.append(
            f"{what}: number the variables from {{{{1}}}} with no gaps "
            f"(this text has {_variables_phrase(sorted(numbers), len(numbers))})."
        )
    if errors:
        raise ValidationError(errors)
    return count


def language_normalize(text: str) -> str:
    """Meta's form of a language code ("en", "en_US", "pt_BR"), accepting "en-us" too."""
    raw = text.strip()
    match = _LANGUAGE.fullmatch(raw.replace("-", "_").lower())
    if match is None:
        raise ValidationError(f"“{raw}” is not a language code: use one like en, en_US or pt_BR.")
    language, region = match.groups()
    return f"{language}_{region.upper()}" if region else language


def template_variables_taken(body: str) -> int:
    """How many values ``body`` is rendered with: its highest {{n}} (what
    ``template_render`` expects, whether or not the numbering has gaps)."""
    return max((int(raw) for raw in _VARIABLE.findall(body)), default=0)


def template_render(*, template, variables: list[str]) -> str:
    """``template``'s body with {{1}}…{{n}} replaced by ``variables`` in order.

    Raises TemplateVariablesError when the number of variables differs from what the
    body takes, or a value is blank (providers refuse empty parameters). Values are
    inserted as they are: a value containing "{{2}}" is not expanded again.
    """
    count = template_variables_taken(template.body)
    if len(variables) != count:
        takes = f"takes {count} variable{'s' if count != 1 else ''}" if count else "takes none"
        listed = f" ({_variables_phrase(range(1, count + 1), count)})" if count else ""
        raise TemplateVariablesError(
            f"Template “{template.name}” ({template.language}) {takes}{listed}; "
            f"{len(variables)} {'was' if len(variables) == 1 else 'were'} given."
        )
    blank = [number for number, value in enumerate(variables, start=1) if not value.strip()]
    if blank:
        raise TemplateVariablesError(
            f"Template “{template.name}” ({template.language}): "
            f"{_variables_phrase(blank, len(blank))} cannot be empty."
        )

    def fill(match):
        number = int(match[1])
        return variables[number - 1] if number else match[0]

    return _VARIABLE.sub(fill, template.body)
