"""The /stats charts as PNG bytes (matplotlib, Agg). Pure: numbers in, bytes out.

Three charts: a shooter's scores per shot with their moving average (:func:`score_chart`),
rounds fired per month (:func:`rounds_chart`) and the licence (verlof) requirements: shooting
days in the rolling 12 months against the minimum, and this year's matches (:func:`licence_chart`).

Made for a phone: 1200 x 900 px (6 x 4.5 in at 200 dpi), which Telegram shows about 400 CSS px
wide, so text is 12-17 pt, lines are thick and ticks few. Colours are Okabe-Ito (colourblind
safe) and nothing is told by colour alone. Text is matplotlib's bundled DejaVu Sans; a character
it cannot draw becomes ``?``. Labels are Dutch or English (:mod:`aimtrack.core.i18n`), month
names from :mod:`aimtrack.core.formatting` (never the locale), dates day-month as the shooter
reads them. No input, however empty, raises: no
data gives the axes with "nog geen gegevens"; a negative number or two sequences of different
lengths is a ``ValueError``.

Thread-safe and deterministic: every call builds its own ``Figure`` on a ``FigureCanvasAgg``
and passes its styles to the artists, so pyplot's global figure manager is never used and
``rcParams`` are only read, never changed (matplotlib keeps its font objects per thread); no
text is parsed as mathtext; the PNG carries no version or date. Importing this module imports
matplotlib (see ``bench/README.md`` for what that costs), so the bot imports it only when a
chart is asked for.
"""

from __future__ import annotations

import functools
import io
import math
import textwrap
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Final, TypeVar

from matplotlib import dates, font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.ticker import FixedLocator, Formatter, FuncFormatter, MaxNLocator, NullLocator

from aimtrack.core import formatting
from aimtrack.core.i18n import Catalogue, Translator
from aimtrack.core.model import Language

N = TypeVar("N", int, Decimal)

__all__ = [
    "TEXTS",
    "DayLabels",
    "licence_chart",
    "month_labels",
    "rounds_chart",
    "score_chart",
]

TEXTS: Final[Catalogue] = {
    "no_data": ("nog geen gegevens", "no data yet"),
    "points_per_shot": ("punten per schot", "points per shot"),
    "per_session": ("per sessie", "per session"),
    "average": ("gemiddelde van {window}", "average of {window}"),
    "rounds_title": ("Schoten per maand", "Rounds per month"),
    "rounds_total": ("totaal {total} in {months} maanden", "total {total} in {months} months"),
    "rounds_total_one": ("totaal {total} in 1 maand", "total {total} in 1 month"),
    "no_rounds": ("geen schoten in deze periode", "no rounds in this period"),
    "days_title": ("Schietdagen per 12 maanden", "Shooting days per 12 months"),
    "minimum": ("verlofgrens {required}", "licence minimum {required}"),
    "now": ("nu {count}", "now {count}"),
    "matches_title": (
        "{knsa} KNSA- of {club} clubwedstrijden in {year}",
        "{knsa} KNSA or {club} club matches in {year}",
    ),
    "knsa": ("KNSA", "KNSA"),
    "club": ("Club", "Club"),
    "of": ("{count} van {required}", "{count} of {required}"),
}

SIZE: Final = (6.0, 4.5)  # inches
DPI: Final = 200  # -> 1200 x 900 px
FONT: Final = "DejaVu Sans"
TITLE_PT: Final = 17.0
SUBTITLE_PT: Final = 14.0
LABEL_PT: Final = 14.0
TICK_PT: Final = 13.0
VALUE_PT: Final = 12.0
MESSAGE_PT: Final = 16.0
# Okabe-Ito
BLUE: Final = "#0072B2"
VERMILLION: Final = "#D55E00"
GREEN: Final = "#009E73"
ORANGE: Final = "#E69F00"
INK: Final = "#222222"
GREY: Final = "#666666"
PALE: Final = "#DDDDDD"
GRID: Final = "#E4E4E4"
CHECK: Final = "\N{CHECK MARK}"
TITLE_WIDTH: Final = 36  # characters of a title line at TITLE_PT
MIN_DAYS_SHOWN: Final = 10  # a date axis spans at least this many days
MIN_POINTS_SHOWN: Final = 1.0  # the score axis spans at least one point per shot
MIN_BARS_WIDE: Final = 6  # the rounds chart is at least this many bars wide
PLOT_WIDTH_PT: Final = 400.0  # the rounds chart's bar area, about 5.5 of the 6 inches
PLOT_HEIGHT_PT: Final = 200.0  # ... and its height, for the room above the bars
DIGIT_EM: Final = 0.64  # DejaVu Sans digits are 0.636 em wide


def score_chart(
    points: Sequence[tuple[date, Decimal]],
    average: Sequence[Decimal | None],
    *,
    title: str,
    window: int,
    language: Language,
) -> bytes:
    """Points per shot per session (markers) and their moving average (a bold line)."""
    t = translator(language)
    if len(points) != len(average):
        msg = f"points and average differ in length: {len(points)} and {len(average)}"
        raise ValueError(msg)
    values = [float(_non_negative(score, "points per shot")) for _, score in points]
    means = [None if mean is None else float(_non_negative(mean, "average")) for mean in average]
    figure, ax = _figure()
    figure.suptitle(_title(title), fontsize=TITLE_PT, fontweight="bold", parse_math=False)
    _style(ax)
    ax.set_ylabel(t("points_per_shot"), fontsize=LABEL_PT)
    if not points:
        _no_data(ax, language)
        return _png(figure)
    xs = [_day_number(day) for day, _ in points]
    many = len(points) > 200
    ax.plot(
        xs,
        values,
        color=BLUE,
        linestyle="none" if many else "-",
        linewidth=1.0,
        alpha=0.55 if many else 0.9,
        marker="o",
        markersize=3.5 if many else 6.5 if len(points) <= 40 else 5.0,
        markeredgewidth=0,
        clip_on=False,  # a score of 0 sits on the axis, whole
        label=t("per_session"),
    )
    if any(mean is not None for mean in means):
        ax.plot(
            xs,
            [math.nan if mean is None else mean for mean in means],
            color=VERMILLION,
            linewidth=2.6 if many else 3.5,
            solid_capstyle="round",
            label=t("average", window=window),
        )
    _date_axis(ax, xs[0], xs[-1], language)
    shown = [*values, *(mean for mean in means if mean is not None)]
    low, high = min(shown), max(shown)
    margin = max((high - low) * 0.12, (MIN_POINTS_SHOWN - (high - low)) / 2)
    ax.set_ylim(max(0.0, low - margin), high + margin)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
    ax.yaxis.set_major_formatter(_number_formatter(language))
    ax.legend(
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncols=2,
        frameon=False,
        fontsize=VALUE_PT,
        borderaxespad=0.2,
        handlelength=1.6,
        columnspacing=1.2,
        markerscale=1.2 if many else 1.0,
    )
    return _png(figure)


def rounds_chart(months: Sequence[tuple[date, int]], *, language: Language) -> bytes:
    """A bar per month with its rounds on top; the total in the subtitle."""
    t = translator(language)
    counts = [_non_negative(rounds, "rounds") for _, rounds in months]
    figure, ax = _figure()
    figure.suptitle(t("rounds_title"), fontsize=TITLE_PT, fontweight="bold")
    _style(ax)
    if not months:
        _no_data(ax, language)
        return _png(figure)
    total = formatting.count(sum(counts), language)
    subtitle = (
        t("rounds_total_one", total=total)
        if len(months) == 1
        else t("rounds_total", total=total, months=len(months))
    )
    ax.set_title(subtitle, fontsize=SUBTITLE_PT, color=GREY, pad=10)
    places = list(range(len(months)))
    bars = ax.bar(places, counts, width=0.78 if len(months) <= 24 else 0.9, color=BLUE)
    slot = PLOT_WIDTH_PT / max(len(months), MIN_BARS_WIDE)
    if slot >= VALUE_PT * 1.5:  # room for a number on every bar, upright if not level
        labels = [formatting.count(count, language) for count in counts]
        widest = max(len(label) for label in labels) * DIGIT_EM * VALUE_PT
        upright = widest > slot * 0.95
        ax.bar_label(
            bars,
            labels=labels,
            padding=4,
            fontsize=VALUE_PT,
            color=INK,
            rotation=90 if upright else 0,
        )
        room = ((widest if upright else VALUE_PT * 1.4) + 8) / PLOT_HEIGHT_PT
        ax.set_ylim(0, max(*counts, 10) / (1 - room))
        ax.yaxis.set_major_locator(NullLocator())  # the bars carry their numbers
        ax.spines["left"].set_visible(False)
        ax.grid(visible=False)
    else:  # years of months: a y axis instead
        ax.set_ylim(0, max(*counts, 10) * 1.08)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        ax.yaxis.set_major_formatter(
            FuncFormatter(lambda x, _: formatting.count(round(x), language))
        )
    shown, labels = _month_ticks([day for day, _ in months], language)
    ax.set_xticks(shown, labels)
    air = max(0.0, (MIN_BARS_WIDE - len(months)) / 2)  # one month is not a slab
    ax.set_xlim(-0.6 - air, len(months) - 0.4 + air)
    ax.tick_params(axis="x", length=0, pad=6)
    if not any(counts):
        _message(ax, t("no_rounds"))
    return _png(figure)


def licence_chart(
    days: Sequence[tuple[date, int]],
    *,
    required_days: int,
    year: int,
    knsa: int,
    club: int,
    required_knsa: int,
    required_club: int,
    language: Language,
) -> bytes:
    """Top: the rolling count of shooting days against the minimum. Bottom: this year's KNSA
    and club matches against what each requires (either is enough)."""
    t = translator(language)
    counts = [_non_negative(count, "shooting days") for _, count in days]
    for value, name in (
        (required_days, "required_days"),
        (knsa, "knsa"),
        (club, "club"),
        (required_knsa, "required_knsa"),
        (required_club, "required_club"),
    ):
        _non_negative(value, name)
    figure = Figure(figsize=SIZE, dpi=DPI, facecolor="white", layout=_layout())
    top, bottom = figure.subplots(2, 1, height_ratios=(2.4, 1))
    _days_panel(top, days, counts, required_days, language)
    _matches_panel(
        bottom,
        t("matches_title", knsa=required_knsa, club=required_club, year=year),
        (
            (t("knsa"), knsa, required_knsa),
            (t("club"), club, required_club),
        ),
        language,
    )
    return _png(figure)


def _days_panel(
    ax: Axes,
    days: Sequence[tuple[date, int]],
    counts: Sequence[int],
    required: int,
    language: Language,
) -> None:
    t = translator(language)
    ax.set_title(t("days_title"), fontsize=TITLE_PT - 1, fontweight="bold", pad=8)
    _style(ax)
    if not days:
        _no_data(ax, language)
        return
    xs = [_day_number(day) for day, _ in days]
    ax.fill_between(xs, counts, step="post", color=BLUE, alpha=0.15, linewidth=0)
    ax.plot(xs, counts, drawstyle="steps-post", color=BLUE, linewidth=3.0)
    ax.axhline(required, color=VERMILLION, linewidth=2.2, linestyle=(0, (5, 3)))
    ax.annotate(
        t("minimum", required=required),
        (0.02, required),
        xycoords=ax.get_yaxis_transform(),
        xytext=(0, 5),
        textcoords="offset points",
        fontsize=VALUE_PT,
        color=VERMILLION,
        fontweight="bold",
        va="bottom",
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0, "alpha": 0.85},
    )
    current = counts[-1]
    ax.plot([xs[-1]], [current], marker="o", markersize=9, color=BLUE, clip_on=False)
    ax.annotate(
        t("now", count=current),
        (xs[-1], current),
        xytext=(-8, 8),
        textcoords="offset points",
        ha="right",
        va="bottom",
        fontsize=LABEL_PT,
        fontweight="bold",
        color=INK,
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.5, "alpha": 0.85},
    )
    _date_axis(ax, xs[0], xs[-1], language)
    ax.set_ylim(0, max(required * 1.3, max(counts) * 1.18, 5))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _: formatting.count(round(x), language)))


def _matches_panel(
    ax: Axes,
    title: str,
    rows: Sequence[tuple[str, int, int]],  # (label, count, required), top row first
    language: Language,
) -> None:
    t = translator(language)
    ax.set_title(title, fontsize=SUBTITLE_PT, fontweight="bold", pad=6)
    places = list(range(len(rows)))[::-1]
    scale = max(max(count, required) for _, count, required in rows) or 1
    for place, (_, count, required) in zip(places, rows, strict=True):
        met = count >= required
        ax.barh(place, required, height=0.62, color=PALE)
        ax.barh(place, count, height=0.62, color=GREEN if met else ORANGE)
        ax.plot([required, required], [place - 0.39, place + 0.39], color=INK, linewidth=2.2)
        shown = t("of", count=count, required=required)
        ax.text(
            max(count, required) + scale * 0.04,
            place,
            f"{shown}  {CHECK}" if met else shown,
            va="center",
            fontsize=LABEL_PT,
            fontweight="bold" if met else "normal",
            color=INK,
        )
    ax.set_xlim(0, scale * 1.55)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_yticks(places, [label for label, _, _ in rows], fontsize=LABEL_PT)
    ax.xaxis.set_major_locator(NullLocator())
    ax.tick_params(axis="y", length=0, pad=6)
    for spine in ax.spines.values():
        spine.set_visible(False)


# --- shared ---------------------------------------------------------------------------------


def translator(language: Language) -> Translator:
    return Translator(TEXTS, language)


def _non_negative(value: N, name: str) -> N:
    if isinstance(value, Decimal) and not value.is_finite():
        msg = f"{name} must be a finite number, got {value}"
        raise ValueError(msg)
    if value < 0:
        msg = f"{name} must not be negative, got {value}"
        raise ValueError(msg)
    return value


def _layout() -> ConstrainedLayoutEngine:
    return ConstrainedLayoutEngine(h_pad=0.1, w_pad=0.12, hspace=0.06)


def _figure() -> tuple[Figure, Axes]:
    figure = Figure(figsize=SIZE, dpi=DPI, facecolor="white", layout=_layout())
    return figure, figure.add_subplot()


def _style(ax: Axes) -> None:
    ax.set_facecolor("white")
    ax.tick_params(labelsize=TICK_PT, colors=INK, width=1.2, length=5)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_linewidth(1.2)
        ax.spines[side].set_color(GREY)
    ax.grid(visible=True, axis="y", color=GRID, linewidth=1.0)
    ax.set_axisbelow(True)


def _message(ax: Axes, message: str) -> None:
    ax.text(
        0.5,
        0.5,
        message,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=MESSAGE_PT,
        color=GREY,
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 4, "alpha": 0.9},
    )


def _no_data(ax: Axes, language: Language) -> None:
    t = translator(language)
    ax.xaxis.set_major_locator(NullLocator())
    ax.yaxis.set_major_locator(NullLocator())
    ax.grid(visible=False)
    _message(ax, t("no_data"))


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    return buffer.getvalue()


@functools.cache
def _drawable_code_points() -> frozenset[int]:
    """What DejaVu Sans can draw (read once per process)."""
    font = font_manager.get_font(font_manager.findfont(FONT, fallback_to_default=True))
    return frozenset(font.get_charmap())


def _title(value: str) -> str:
    """A caller's title (a weapon's name, say) drawable and wrapped to the figure's width:
    white space becomes a space, invisible format characters go, emoji and other characters
    the font lacks become ``?`` (matplotlib would draw an empty box and warn)."""
    shown = formatting.drawable(value, _drawable_code_points())
    return textwrap.fill(" ".join(shown.split()), TITLE_WIDTH, max_lines=2) or " "


def _number_formatter(language: Language) -> Formatter:
    return FuncFormatter(lambda x, _pos: formatting.axis_number(x, language))


# --- dates ----------------------------------------------------------------------------------


def _day_number(day: date) -> float:
    """matplotlib's number for a day (days since its epoch, 1970-01-01 unless configured)."""
    return float(dates.date2num(day))  # type: ignore[no-untyped-call]


def _number_day(number: float) -> date:
    moment: datetime = dates.num2date(number, tz=UTC)  # type: ignore[no-untyped-call]
    return moment.date()


def _date_axis(ax: Axes, first: float, last: float, language: Language) -> None:
    """Dates from ``first`` to ``last`` (day numbers) with a little air either side; one day
    gets one tick with its date, more get AutoDateLocator's, three to six of them."""
    if first == last:
        ax.set_xlim(first - MIN_DAYS_SHOWN / 2, last + MIN_DAYS_SHOWN / 2)
        ax.xaxis.set_major_locator(FixedLocator([first]))
    else:
        pad = max((MIN_DAYS_SHOWN - (last - first)) / 2, (last - first) * 0.03, 1.0)
        ax.set_xlim(first - pad, last + pad)
        ax.xaxis.set_major_locator(dates.AutoDateLocator(minticks=3, maxticks=6))  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(DayLabels(language))
    ax.xaxis.set_minor_locator(NullLocator())


def _month_ticks(days: Sequence[date], language: Language) -> tuple[list[int], list[str]]:
    """Where the rounds chart labels its months and with what: every month up to 12 of them,
    else at most 8 labels (every 2nd, 3rd, 4th or 6th month counting from January), and for
    more than four years only Januaries, as years, at most 6 of them."""
    if len(days) <= 12:
        return list(range(len(days))), month_labels(days, language)
    step = next((s for s in (2, 3, 4, 6) if len(days) <= 8 * s), 0)
    if not step:
        step = 12 * -(-len(days) // (12 * 6))
    shown = [n for n, day in enumerate(days) if (day.year * 12 + day.month - 1) % step == 0]
    if step >= 12:
        return shown, [str(days[n].year) for n in shown]
    return shown, month_labels([days[n] for n in shown], language)


def month_labels(days: Sequence[date], language: Language) -> list[str]:
    """``mrt`` per month, with the year under the first and wherever it changes; not under
    the first when the second has it too (``dec``, ``jan 2026``: the years would touch)."""
    names = formatting.MONTHS[language]
    years = [n == 0 or day.year != days[n - 1].year for n, day in enumerate(days)]
    if len(years) > 1 and years[1]:
        years[0] = False
    return [
        f"{names[day.month - 1]}\n{day.year}" if year else names[day.month - 1]
        for day, year in zip(days, years, strict=True)
    ]


class DayLabels(Formatter):
    """Tick labels for AutoDateLocator's ticks in the shooter's words: ``2024`` for yearly
    ticks, ``mrt`` for monthly and ``3 mrt`` for daily ones, with the year under the first
    label and wherever it changes."""

    def __init__(self, language: Language) -> None:
        self.language = language

    def __call__(self, x: float, pos: int | None = None) -> str:
        day = _number_day(x)
        return f"{day.day} {formatting.MONTHS[self.language][day.month - 1]} {day.year}"

    def format_ticks(self, values: list[float]) -> list[str]:
        days = [_number_day(value) for value in values]
        if len(days) > 1 and all(day.month == 1 and day.day == 1 for day in days):
            return [str(day.year) for day in days]
        monthly = len(days) > 1 and all(day.day == 1 for day in days)
        low = self.axis.get_view_interval()[0] if self.axis is not None else float("-inf")
        names = formatting.MONTHS[self.language]
        labels: list[str] = []
        last_year = None
        for value, day in zip(values, days, strict=True):
            label = names[day.month - 1] if monthly else f"{day.day} {names[day.month - 1]}"
            if value >= low - 1e-9 and day.year != last_year:  # first shown, or a new year
                label = f"{label}\n{day.year}"
                last_year = day.year
            labels.append(label)
        return labels
