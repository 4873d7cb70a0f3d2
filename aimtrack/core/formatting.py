"""How AimTrack writes dates, times, scores, numbers and counted words, and reads a typed date:
the one place for it.

Dutch writes 9,35 and 23-11-2026; English 9.35. Dates in the chat are day first in both
languages (the shooter's own habit); the statistics' longer texts write an English date with
the month's name (23 Nov 2026, which a reader used to month-first dates cannot misread); the
register writes an English date as ISO 8601 (sortable, for a spreadsheet).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container
from datetime import date, datetime, time
from decimal import Decimal
from typing import Final

from aimtrack.core.model import Language
from aimtrack.core.stats import cents

NUMBER_SIGN: Final = "#"  # in a plural form: where the number goes
MONTHS: Final = {  # short month names, January first
    Language.NL: (
        "jan",
        "feb",
        "mrt",
        "apr",
        "mei",
        "jun",
        "jul",
        "aug",
        "sep",
        "okt",
        "nov",
        "dec",
    ),
    Language.EN: (
        "Jan",
        "Feb",
        "Mar",
        "Apr",
        "May",
        "Jun",
        "Jul",
        "Aug",
        "Sep",
        "Oct",
        "Nov",
        "Dec",
    ),
}
_DMY: Final = re.compile(r"([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4})")
_YMD: Final = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
WEEKDAYS: Final = {
    Language.NL: ("ma", "di", "wo", "do", "vr", "za", "zo"),
    Language.EN: ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


# --- dates and times --------------------------------------------------------------------------


def parse_day(text: str) -> date | None:
    """``dd-mm-jjjj`` (also with / or .) or ``yyyy-mm-dd``; None when it is not a real date."""
    text = text.strip()
    if match := _DMY.fullmatch(text):
        day, month, year = match.groups()
    elif match := _YMD.fullmatch(text):
        year, month, day = match.groups()
    else:
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def day(value: date) -> str:
    """``23-11-2026``: a date in the chat, whatever the language."""
    return value.strftime("%d-%m-%Y")


def day_month(value: date) -> str:
    """``23-11``: a date on a small button, where the year is plain."""
    return value.strftime("%d-%m")


def weekday(value: date, language: Language) -> str:
    """``ma 23-11-2026`` / ``Mon 23-11-2026``: a session's day as the chat names it."""
    return f"{WEEKDAYS[language][value.weekday()]} {day(value)}"


def long_day(value: date, language: Language) -> str:
    """``23-11-2026`` / ``23 Nov 2026``: a date in a longer text (the statistics' wording)."""
    if language is Language.NL:
        return day(value)
    return f"{value.day} {MONTHS[Language.EN][value.month - 1]} {value.year}"


def period(start: date, end: date) -> str:
    """``01-01-2026 \N{EN DASH} 31-12-2026``: two dates with an en dash between them."""
    return f"{day(start)} \N{EN DASH} {day(end)}"


def moment(value: datetime) -> str:
    """``23-11-2026 18:30``: a moment already on the user's clock."""
    return value.strftime("%d-%m-%Y %H:%M")


def register_day(value: date, language: Language) -> str:
    """``23-11-2026`` in Dutch, ISO ``2026-11-23`` in English: a date in the register."""
    return day(value) if language is Language.NL else value.isoformat()


def clock(value: time) -> str:
    """``18:30``."""
    return value.strftime("%H:%M")


def register_moment(value: datetime, language: Language) -> str:
    return f"{register_day(value.date(), language)} {clock(value.time())}"


# --- numbers ----------------------------------------------------------------------------------


def decimal_comma(text: str, language: Language) -> str:
    """A number written with a point, as ``language`` writes it."""
    return text.replace(".", ",") if language is Language.NL else text


def score(value: Decimal, *, comma: bool) -> str:
    """A logged score as entered: ``431`` or ``431,5`` (``431.5`` without ``comma``)."""
    shown = f"{value:.0f}" if value == value.to_integral_value() else f"{value.normalize():f}"
    return shown.replace(".", ",") if comma else shown


def score_in(value: Decimal, language: Language) -> str:
    """A score as ``language`` writes it."""
    return score(value, comma=language is Language.NL)


def per_shot(value: Decimal, language: Language) -> str:
    """A figure per shot with two decimals: ``9,35`` or ``9.35``."""
    return decimal_comma(f"{cents(value):f}", language)


def count(number: int, language: Language) -> str:
    """Thousands grouped the way the language reads them: ``12.000`` or ``12,000``."""
    grouped = f"{number:,}"
    return grouped.replace(",", ".") if language is Language.NL else grouped


def axis_number(value: float, language: Language) -> str:
    """A chart axis's tick: at most two decimals, none when whole (``8,5``, ``9``)."""
    return decimal_comma(f"{round(value, 2) + 0.0:g}", language)  # + 0.0: no "-0"


def plural(number: int | str, one: str, many: str) -> str:
    """``one`` for exactly one, else ``many``; a ``#`` in the chosen form is the number:
    ``plural(1, "# dag", "# dagen")`` is "1 dag". A number already written out ("12.000")
    counts as one only when it is "1"."""
    shown = str(number)
    return (one if shown == "1" else many).replace(NUMBER_SIGN, shown)


# --- text for a font ----------------------------------------------------------------------


def drawable(text: str, font: Container[int]) -> str:
    """``text`` as a font with the code points ``font`` can draw it: white space becomes a
    space, invisible format characters (joiners, variation selectors) go, and anything else
    the font lacks (emoji, CJK, unpaired surrogates) becomes ``?``."""
    chars = []
    for char in text:
        if char.isspace():
            chars.append(" ")
        elif unicodedata.category(char) == "Cf" or "\ufe00" <= char <= "\ufe0f":
            continue
        elif ord(char) in font and char.isprintable():
            chars.append(char)
        else:
            chars.append("?")
    return "".join(chars)
