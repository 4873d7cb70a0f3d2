"""Quick entry: one free-text message typed after a range session becomes session entries.

Pure code: no I/O, no clock (the caller passes ``today``). Case-insensitive, Dutch or English.

Grammar::

    message   = entry { separator entry }
    separator = ";" | new line | "," unless between two digits ("280,5" is a decimal comma)
    entry     = [weapon] { value | date | other }
    value     = N unit              distance; unit: m, meter(s), metre(s), mtr
              | N shots-word        shots; word: schoten, schots, schot, sch, shots, shot, x
              | N "/" M             shots N and score M
              | score-word M        score; word: score, punten, pnt, pt
              | M points-word       score; word: pnt, punten, points, pts
    date      = vandaag | today | gisteren | yesterday | eergisteren | day before yesterday
              | D-M | D/M | D-M-YY | D-M-YYYY | YYYY-M-D          (day first)

Rules:

* Dates may stand anywhere and apply to the whole session. Without a year a date is the most
  recent such day not after today; if that day does not exist (29-02 outside a leap year) it
  is BAD_DATE, as are two different dates in one message. D/M and D-M count as a date only
  with 1 <= D <= 31 and 1 <= M <= 12, so "10/95" stays shots/score.
* The weapon is read from the start of an entry, up to the first certain value (a number
  followed by a unit, shots or points word, a slash pair, a decimal, a score word). Names are
  split into tokens at spaces, punctuation and letter/digit boundaries ("cz75" is "cz 75").
  The longest prefix whose tokens all match, in order, tokens of an active weapon's name or
  nickname wins. Numbers must be equal; words equal, a prefix of 3+ letters, or close
  (difflib). A prefix of numbers only must be a whole name. Among weapons matching that
  prefix: most exact tokens, then a whole-name match, then a match from the first token; a
  tie is AMBIGUOUS_WEAPON. A number glued to letters ("p226") is always part of a name.
* Unlabelled numbers (not in the weapon, no unit or keyword): when the shots are known and
  the score is not, exactly one such number is the score; a lone decimal number is the score
  (shots are whole). Anything else, e.g. "25m 50 431", is AMBIGUOUS_NUMBERS: the shooter
  writes "50 sch 431" or "50/431". A field given twice is AMBIGUOUS_NUMBERS as well.
* An out-of-range value is not returned: the field stays None, the range problem is set and
  its text becomes a leftover. Distance and shots are whole numbers.
* Words, symbols and numbers not understood are kept as leftovers, in order. Punctuation on
  its own carries nothing and is skipped.
* Text beyond 2000 characters or 20 entries is not parsed: it is a leftover of the last line.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from difflib import SequenceMatcher
from enum import StrEnum
from functools import partial
from typing import NamedTuple, TypeVar
from unicodedata import category as _category

from aimtrack.core import limits
from aimtrack.core.model import Weapon

_MAX_CHARS = 2000
_MAX_LINES = 20
_MAX_WEAPON_TOKENS = 6
_TENTH = Decimal("0.1")
_SCORE_PER_SHOT = Decimal(str(limits.MAX_SCORE_PER_SHOT))

_UNITS = frozenset({"m", "meter", "meters", "metre", "metres", "mtr"})
_SHOTS = frozenset({"schoten", "schots", "schot", "sch", "shots", "shot", "x"})
_SCORE_BEFORE = frozenset({"score", "punten", "pnt", "pt"})
_SCORE_AFTER = frozenset({"pnt", "punten", "points", "pts"})
_DAYS_BACK = {"vandaag": 0, "today": 0, "gisteren": 1, "yesterday": 1, "eergisteren": 2, "day": 2}

# An entry is a run without ";", new lines or commas, except a comma between two digits.
_ENTRY = re.compile(r"(?:[^;,\n\r]|(?<=[0-9]),(?=[0-9]))+")
_TOKEN = re.compile(
    r"(?P<num>[0-9]+(?:[.,][0-9]+)?)|(?P<word>[^\W\d_]+)|(?P<slash>/)|(?P<other>\S)"
)
_NAME_TOKEN = re.compile(r"[0-9]+|[^\W\d_]+")
_DATE_WORD = re.compile(
    r"\b(eergisteren|day\s+before\s+yesterday|gisteren|yesterday|vandaag|today)\b", re.IGNORECASE
)
_DATE_NUMBER = re.compile(
    r"(?<![\w/.,-])(?:([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"|([0-9]{1,2})[-/]([0-9]{1,2})(?:[-/]([0-9]{4}|[0-9]{2}))?)(?![\w/-]|[.,][0-9])"
)

_T = TypeVar("_T")
_Dated = tuple[date, "Problem | None"]
_Labels = Sequence[tuple[int, list[tuple[str, ...]]]]  # weapon id, token lists of its names
_Quality = tuple[int, bool, bool]
_Leftovers = list[tuple[int, str]]  # (position in the line, text)


class Problem(StrEnum):
    NO_WEAPON = "no_weapon"  # line has no weapon text
    UNKNOWN_WEAPON = "unknown_weapon"  # weapon text matches none of the user's active weapons
    AMBIGUOUS_WEAPON = "ambiguous_weapon"  # several equally good matches (candidates filled)
    NO_DISTANCE = "no_distance"
    NO_SHOTS = "no_shots"
    AMBIGUOUS_NUMBERS = "ambiguous_numbers"  # numbers we cannot assign with confidence
    DISTANCE_RANGE = "distance_range"  # outside limits.MIN_DISTANCE_M..MAX_DISTANCE_M
    SHOTS_RANGE = "shots_range"  # outside 1..limits.MAX_SHOTS
    SCORE_RANGE = "score_range"  # negative, over MAX_SCORE_PER_SHOT * shots, or 2+ decimals
    FUTURE_DATE = "future_date"
    BAD_DATE = "bad_date"  # e.g. 31-02, or two different dates


@dataclass(frozen=True, slots=True)
class QuickLine:
    text: str  # the original line, stripped
    weapon_text: str | None
    weapon_id: int | None  # set only when exactly one weapon matched
    candidates: tuple[int, ...]  # ids of equally good matches when ambiguous, else ()
    distance_m: int | None
    shots: int | None
    score: Decimal | None  # one decimal at most (Decimal("280.5"))
    leftovers: tuple[str, ...]  # words/parts not understood, in order
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class QuickEntry:
    occurred_on: date
    date_problem: Problem | None
    lines: tuple[QuickLine, ...]

    @property
    def ok(self) -> bool:
        """No date problem, at least one line, and no line with a problem."""
        problems = any(line.problems for line in self.lines)
        return self.date_problem is None and bool(self.lines) and not problems


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # "num", "word", "slash" or "other"
    text: str  # casefolded
    start: int
    end: int


class _Num(NamedTuple):
    start: int
    text: str  # as written, with its unit or keyword
    value: Decimal


class _Match(NamedTuple):
    text: str | None
    ids: tuple[int, ...]
    used: int  # weapon tokens consumed
    problem: Problem | None


# --- public -------------------------------------------------------------------------------


def looks_like_quick_entry(text: str) -> bool:
    """True when a free text message looks like an attempt at a quick entry (has a distance
    with a unit or a shots keyword, or a number after a word) — used to decide between parsing
    and a 'did you mean /sessie?' help reply. Plain chit-chat like 'hallo' is False."""
    toks = _tokenize(text[:_MAX_CHARS])
    return any(
        tok.kind == "num" and (_label_after(toks, i) is not None or _kind(toks, i - 1) == "word")
        for i, tok in enumerate(toks)
    )


def parse_quick(text: str, weapons: Sequence[Weapon], *, today: date) -> QuickEntry:
    """Parse a quick-entry message against the user's weapons (see the module docstring)."""
    pieces, overflow = _split(text)
    labels = [(w.id, _labels(w)) for w in weapons if w.active]
    dates: list[_Dated] = []
    lines: list[QuickLine] = []
    for piece in pieces:
        toks = _tokenize(_strip_dates(piece, today, dates))
        if toks:
            lines.append(_parse_line(piece, toks, labels))
    if overflow:
        last = lines.pop() if lines else _parse_line("", [], labels)
        lines.append(dataclasses.replace(last, leftovers=(*last.leftovers, overflow)))
    distinct = set(dates)
    if len(distinct) > 1:
        distinct = {(today, Problem.BAD_DATE)}
    occurred_on, problem = distinct.pop() if distinct else (today, None)
    return QuickEntry(occurred_on=occurred_on, date_problem=problem, lines=tuple(lines))


def parse_day(text: str, today: date) -> _Dated | None:
    """A message that is only a date, read as quick entry reads dates (``.`` and ``/`` work
    as ``-``): the day and its problem (future, impossible), or None when it is no date."""
    dates: list[_Dated] = []
    rest = _strip_dates(re.sub(r"[./]", "-", text.strip()), today, dates)
    return dates[0] if len(dates) == 1 and not rest.strip() else None


# --- entries and tokens -------------------------------------------------------------------


def _split(text: str) -> tuple[list[str], str]:
    """The stripped, non-empty entries (at most _MAX_LINES) and the unparsed rest."""
    body = text[:_MAX_CHARS]
    if len(text) > _MAX_CHARS:  # cut at a boundary so no number is split in two
        cut = max(body.rfind(c) for c in " \t\n;")
        body = body[:cut] if cut > 0 else body
    entries = [m for m in _ENTRY.finditer(body) if m.group().strip()]
    rest = entries[_MAX_LINES].start() if len(entries) > _MAX_LINES else len(body)
    return [m.group().strip() for m in entries[:_MAX_LINES]], text[rest:].strip()


def _tokenize(text: str) -> list[_Tok]:
    """Numbers, words, slashes and runs of other characters; punctuation-only runs dropped."""
    toks: list[_Tok] = []
    for m in _TOKEN.finditer(text):
        kind, prev = m.lastgroup or "other", toks[-1] if toks else None
        if kind == "other" and prev and prev.kind == "other" and prev.end == m.start():
            toks[-1] = _Tok("other", prev.text + m.group(), prev.start, m.end())
        else:
            toks.append(_Tok(kind, m.group().casefold(), m.start(), m.end()))
    return [t for t in toks if t.kind != "other" or any(_category(c)[0] != "P" for c in t.text)]


def _kind(toks: Sequence[_Tok], i: int) -> str:
    return toks[i].kind if 0 <= i < len(toks) else ""


def _label_after(toks: Sequence[_Tok], i: int) -> str | None:
    """The field number token i is labelled as by the word after it, if any."""
    if _kind(toks, i) != "num":
        return None
    if _kind(toks, i - 1) == "word" and toks[i - 1].end == toks[i].start:
        return None  # glued to letters, like "p226": part of a name
    word = toks[i + 1].text if _kind(toks, i + 1) == "word" else ""
    if word in _UNITS:
        return "distance"
    if word in _SHOTS:
        return "shots"
    return "score" if word in _SCORE_AFTER else None


def _slash_pair(toks: Sequence[_Tok], i: int) -> bool:
    return [tok.kind for tok in toks[i : i + 3]] == ["num", "slash", "num"]


def _certain(toks: Sequence[_Tok], i: int) -> bool:
    """Whether token i ends the weapon text: a sure value, a score word or a symbol."""
    tok = toks[i]
    if tok.kind != "num":
        return tok.kind != "word" or tok.text in _SCORE_BEFORE
    decimal = not tok.text.isdigit()
    return decimal or _label_after(toks, i) is not None or _slash_pair(toks, i)


# --- dates --------------------------------------------------------------------------------


def _strip_dates(piece: str, today: date, dates: list[_Dated]) -> str:
    """Record the dates in ``piece`` and blank them out (same length, so spans still fit)."""

    def word(m: re.Match[str]) -> str:
        back = _DAYS_BACK[m.group(1).split()[0].casefold()]
        dates.append((date.fromordinal(max(1, today.toordinal() - back)), None))
        return " " * len(m.group())

    def number(m: re.Match[str]) -> str:
        found = _numeric_date(m, today)
        if found is None:
            return m.group()
        dates.append(found)
        return " " * len(m.group())

    return _DATE_NUMBER.sub(number, _DATE_WORD.sub(word, piece))


def _numeric_date(m: re.Match[str], today: date) -> _Dated | None:
    if m.group(1):
        return _calendar(int(m.group(1)), int(m.group(2)), int(m.group(3)), today)
    day, month, year = int(m.group(4)), int(m.group(5)), m.group(6)
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return None  # not a date: numbers such as shots/score "10/95"
    full_year = None if year is None else int(year) + (2000 if len(year) == 2 else 0)
    return _calendar(full_year, month, day, today)


def _calendar(year: int | None, month: int, day: int, today: date) -> _Dated:
    if year is None:  # the most recent such day not after today
        year = today.year if (month, day) <= (today.month, today.day) else today.year - 1
    try:
        found = date(year, month, day)
    except ValueError:
        return today, Problem.BAD_DATE
    return found, Problem.FUTURE_DATE if found > today else None


# --- weapons ------------------------------------------------------------------------------


def _labels(weapon: Weapon) -> list[tuple[str, ...]]:
    names = [weapon.name, weapon.nickname or ""]
    tokens = (tuple(t.casefold() for t in _NAME_TOKEN.findall(name)) for name in names)
    return [name for name in tokens if name]


def _grade(user: str, label: str) -> int:
    """2 for an equal token, 1 for a close word, 0 for no match."""
    if user == label:
        return 2
    if user.isdigit() or label.isdigit():
        return 0
    prefix = len(user) >= 3 and label.startswith(user)
    close = min(len(user), len(label)) >= 4 and SequenceMatcher(None, user, label).ratio() >= 0.8
    return int(prefix or close)


def _quality(user: Sequence[str], label: Sequence[str]) -> _Quality | None:
    """(exact tokens, whole name, from its first token) when every user token matches."""
    hits: list[int] = []
    exact = 0
    for word in user:
        start = hits[-1] + 1 if hits else 0
        grades = ((j, _grade(word, label[j])) for j in range(start, len(label)))
        hit = next(((j, grade) for j, grade in grades if grade), None)
        if hit is None:
            return None
        hits.append(hit[0])
        exact += hit[1] == 2
    whole = len(hits) == len(label)
    if all(word.isdigit() for word in user) and not whole:
        return None
    return exact, whole, hits[0] == 0


def _best(user: Sequence[str], labels: _Labels) -> tuple[int, ...]:
    """The ids of the weapons that match ``user`` best (all of them on a tie)."""
    scored: dict[int, _Quality] = {}
    for weapon_id, names in labels:
        qualities = [q for name in names if (q := _quality(user, name)) is not None]
        if qualities:
            scored[weapon_id] = max(qualities)
    top = max(scored.values(), default=None)
    return tuple(weapon_id for weapon_id, quality in scored.items() if quality == top)


def _match_weapon(line: str, region: Sequence[_Tok], labels: _Labels) -> _Match:
    """The longest prefix of ``region`` that names a weapon; else unknown or no weapon."""
    words = [tok.text for tok in region]
    for k in range(min(len(region), _MAX_WEAPON_TOKENS), 0, -1):
        ids = _best(words[:k], labels)
        if ids:
            problem = Problem.AMBIGUOUS_WEAPON if len(ids) > 1 else None
            return _Match(line[region[0].start : region[k - 1].end], ids, k, problem)
    if not region or region[0].kind != "word":
        return _Match(None, (), 0, Problem.NO_WEAPON)
    k = min(len(region), _MAX_WEAPON_TOKENS)
    return _Match(line[region[0].start : region[k - 1].end], (), k, Problem.UNKNOWN_WEAPON)


# --- values -------------------------------------------------------------------------------


def _parse_line(line: str, toks: list[_Tok], labels: _Labels) -> QuickLine:
    lead = next((i for i, tok in enumerate(toks) if tok.kind in ("word", "num")), len(toks))
    stop = next((i for i in range(lead, len(toks)) if _certain(toks, i)), len(toks))
    match = _match_weapon(line, toks[lead:stop], labels)
    found: dict[str, list[_Num]] = {"distance": [], "shots": [], "score": [], "bare": []}
    leftovers: _Leftovers = []
    rest = toks[:lead] + toks[lead + match.used :]
    i = 0
    while i < len(rest):
        i = _step(line, rest, i, found, leftovers)
    problems = {match.problem} if match.problem else set()
    distance, shots, score = _settle(found, leftovers, problems)
    return QuickLine(
        text=line,
        weapon_text=match.text,
        weapon_id=match.ids[0] if len(match.ids) == 1 else None,
        candidates=match.ids if len(match.ids) > 1 else (),
        distance_m=distance,
        shots=shots,
        score=score,
        leftovers=tuple(text for _, text in sorted(leftovers)),
        problems=tuple(p for p in Problem if p in problems),
    )


def _number(line: str, span: Sequence[_Tok], value: _Tok) -> _Num:
    start = span[0].start
    return _Num(start, line[start : span[-1].end], Decimal(value.text.replace(",", ".")))


def _step(
    line: str, toks: Sequence[_Tok], i: int, found: dict[str, list[_Num]], leftovers: _Leftovers
) -> int:
    """Read what starts at token i into ``found`` or ``leftovers``; return the next index."""
    tok, label = toks[i], _label_after(toks, i + 1)
    if tok.kind == "num" and _slash_pair(toks, i):
        found["shots"].append(_number(line, [tok], tok))
        found["score"].append(_number(line, [toks[i + 2]], toks[i + 2]))
        return i + 3
    if tok.kind == "num":
        label = _label_after(toks, i)
        found[label or "bare"].append(_number(line, toks[i : i + 1 + bool(label)], tok))
        return i + 1 + bool(label)
    scored = tok.text in _SCORE_BEFORE and label in (None, "score")
    if scored and _kind(toks, i + 1) == "num" and not _slash_pair(toks, i + 1):
        end = i + 2 + (label == "score")  # "score 431 pnt" takes the trailing word as well
        found["score"].append(_number(line, toks[i:end], toks[i + 1]))
        return end
    if tok.kind != "slash":
        leftovers.append((tok.start, line[tok.start : tok.end]))
    return i + 1


def _settle(
    found: dict[str, list[_Num]], leftovers: _Leftovers, problems: set[Problem]
) -> tuple[int | None, int | None, Decimal | None]:
    """Assign bare numbers, then check each field for absence, conflicts and range."""
    bare = found["bare"]
    if len(bare) == 1 and not found["score"] and (found["shots"] or not bare[0].text.isdigit()):
        found["score"] = bare
    elif bare:
        problems.add(Problem.AMBIGUOUS_NUMBERS)
        leftovers.extend((num.start, num.text) for num in bare)
    for name, missing in (("distance", Problem.NO_DISTANCE), ("shots", Problem.NO_SHOTS)):
        if not found[name]:
            problems.add(missing)
    distance = _keep(found["distance"], _distance, Problem.DISTANCE_RANGE, leftovers, problems)
    shots = _keep(found["shots"], _shots, Problem.SHOTS_RANGE, leftovers, problems)
    score = _keep(
        found["score"], lambda v: _score(v, shots), Problem.SCORE_RANGE, leftovers, problems
    )
    return distance, shots, score


def _keep(
    given: Sequence[_Num],
    check: Callable[[Decimal], _T | None],
    out_of_range: Problem,
    leftovers: _Leftovers,
    problems: set[Problem],
) -> _T | None:
    """The one value given if it is in range; else None, a problem, and the text kept."""
    value = check(given[0].value) if len(given) == 1 else None
    if len(given) > 1:
        problems.add(Problem.AMBIGUOUS_NUMBERS)
    elif given and value is None:
        problems.add(out_of_range)
    if value is None:
        leftovers.extend((num.start, num.text) for num in given)
    return value


def _whole(value: Decimal, low: int, high: int) -> int | None:
    return int(value) if low <= value <= high and value == value.to_integral_value() else None


_distance = partial(_whole, low=limits.MIN_DISTANCE_M, high=limits.MAX_DISTANCE_M)
_shots = partial(_whole, low=1, high=limits.MAX_SHOTS)


def _score(value: Decimal, shots: int | None) -> Decimal | None:
    """At most MAX_SCORE_PER_SHOT a shot, one decimal, quantized like model.parse_score."""
    cap = _SCORE_PER_SHOT * (limits.MAX_SHOTS if shots is None else shots)
    fits = 0 <= value <= cap and value == value.quantize(_TENTH)
    return value.quantize(_TENTH) if fits else None
