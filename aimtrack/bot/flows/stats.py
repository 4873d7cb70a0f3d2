"""/statistieken (/stats): how the shooter is doing, in a short text and three charts.

The text (made in the turn: it is arithmetic over the user's own sessions) covers a period —
totals, the week streak, licence progress (18 days in the rolling 12 months, the year's
matches against 3 KNSA or 5 club) and one weapon at one distance in figures. The charts are
drawn by a background job (:mod:`aimtrack.jobs.charts`) and arrive as photos just after:
score per session with a moving average, rounds per month, and licence progress.

One step, ``view``; ``data`` holds the selection: ``p`` (a :class:`StatsPeriod`), ``w`` (a
weapon id) and ``d`` (a distance in metres), each resolved to a sensible default when absent
or no longer valid. Buttons: ``p:<period>``, ``w:<id>``, ``d:<metres>``; a press redraws the
text and the score chart (rounds and licence do not depend on the selection).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Final

from aimtrack.bot.flow import Context, State, StoredUpload, Turn, button_id, chunked, reply
from aimtrack.bot.io import Button
from aimtrack.core import fallback_texts, formatting, insight, stats
from aimtrack.core.i18n import Catalogue, Translator
from aimtrack.core.licence import add_months, licence_progress, licence_window
from aimtrack.core.model import ShootingSession, Weapon
from aimtrack.jobs.charts import CHARTS, CHARTS_ATTEMPTS, Chart, ChartRequest

NAME: Final = "stats"
SHOWN_WEAPONS: Final = 12
SHOWN_DISTANCES: Final = 6
RECENT: Final = 10  # the figures of one weapon cover its last ten scored results
LONG_AGO: Final = date(1900, 1, 1)

TEXTS: Final[Catalogue] = {
    "cmd.stats": ("statistieken en grafieken", "statistics and charts"),
    "stats.head": (
        "📊 Je statistieken · {period} ({range})",
        "📊 Your statistics · {period} ({range})",
    ),
    "stats.period.3m": ("laatste 3 maanden", "last 3 months"),
    "stats.period.12m": ("laatste 12 maanden", "last 12 months"),
    "stats.period.year": ("{year}", "{year}"),
    "stats.period.all": ("alles", "all time"),
    "stats.totals": (
        "{sessions:# sessie|# sessies} op {days:# dag|# dagen} · {rounds:# schot|# schoten}",
        "{sessions:# session|# sessions} on {days:# day|# days} · {rounds:# round|# rounds}",
    ),
    "stats.none": (
        "Nog geen sessies in deze periode. Log er een met /sessie of typ hem in één regel.",
        "No sessions in this period yet. Log one with /session or type it on one line.",
    ),
    "stats.streak": (
        "🔥 {weeks:# week|# weken} op rij geschoten",
        "🔥 {weeks:# week|# weeks} in a row",
    ),
    "stats.licence.met": (
        "✅ Verlof: {days} van de {required} schietdagen in de afgelopen 12 maanden.",
        "✅ Licence: {days} of the {required} shooting days in the last 12 months.",
    ),
    "stats.licence.short": (
        "⚠️ Verlof: {days} van de {required} schietdagen in de afgelopen 12 maanden; "
        "nog {short} nodig.",
        "⚠️ Licence: {days} of the {required} shooting days in the last 12 months; "
        "{short} more needed.",
    ),
    "stats.licence.drops": (
        "De oudste dag ({day}) telt niet meer mee vanaf {leaves}.",
        "The oldest day ({day}) stops counting on {leaves}.",
    ),
    "stats.licence.expiry": ("Je verlof verloopt op {date}.", "Your licence expires on {date}."),
    "stats.matches.met": (
        "✅ Wedstrijden {year}: KNSA {knsa} van {required_knsa} · club {club} van {required_club}.",
        "✅ Matches {year}: KNSA {knsa} of {required_knsa} · club {club} of {required_club}.",
    ),
    "stats.matches.short": (
        "⏳ Wedstrijden {year}: KNSA {knsa} van {required_knsa} · club {club} van "
        "{required_club} (3 KNSA- of 5 clubwedstrijden per jaar).",
        "⏳ Matches {year}: KNSA {knsa} of {required_knsa} · club {club} of {required_club} "
        "(3 KNSA or 5 club matches a year).",
    ),
    "stats.weapon": (
        "• {weapon}: {sessions:# sessie|# sessies}, {rounds:# schot|# schoten}",
        "• {weapon}: {sessions:# session|# sessions}, {rounds:# round|# rounds}",
    ),
    "stats.more_weapons": (
        "• … en nog {count:# wapen|# wapens}",
        "• … and {count:# more weapon|# more weapons}",
    ),
    "stats.focus": (
        "🎯 {weapon} · {distance} m: {count:# resultaat|# resultaten}; gemiddeld {mean} per schot "
        "(laatste {recent}), beste {best}, laatste {last}; {trend}.",
        "🎯 {weapon} · {distance} m: {count:# result|# results}; mean {mean} per shot (last "
        "{recent}), "
        "best {best}, last {last}; {trend}.",
    ),
    "stats.focus.unscored": (
        "🎯 {weapon}: geen scores in deze periode, dus geen scoregrafiek.",
        "🎯 {weapon}: no scores in this period, so no score chart.",
    ),
    "stats.charts": ("📈 De grafieken komen zo.", "📈 The charts follow shortly."),
    "stats.chart": ("📈 De grafiek komt zo.", "📈 The chart follows shortly."),
    "stats.btn.3m": ("3 mnd", "3 mo"),
    "stats.btn.12m": ("12 mnd", "12 mo"),
    "stats.btn.year": ("{year}", "{year}"),
    "stats.btn.all": ("Alles", "All"),
    "stats.btn.distance": ("{distance} m", "{distance} m"),
    "stats.use_buttons": (
        "Kies een periode of wapen met de knoppen, of stop met /annuleer.",
        "Choose a period or weapon with the buttons, or stop with /cancel.",
    ),
    "stats.upload": (
        "Dit bestand heb ik niet bewaard: je bekijkt je statistieken. Stop eerst met /annuleer "
        "en stuur het dan opnieuw.",
        "I did not keep this file: you are looking at your statistics. Stop with /cancel "
        "first, then send it again.",
    ),
}


class StatsPeriod(StrEnum):
    THREE_MONTHS = "3m"
    TWELVE_MONTHS = "12m"  # the rolling window the licence counts
    THIS_YEAR = "year"
    ALL = "all"

    def since(self, today: date) -> date | None:
        """The period's first day (inclusive) seen from ``today``; None: since ever."""
        if self is StatsPeriod.THREE_MONTHS:
            return add_months(today, -3) + timedelta(days=1)
        if self is StatsPeriod.TWELVE_MONTHS:
            return licence_window(today)[0]
        if self is StatsPeriod.THIS_YEAR:
            return date(today.year, 1, 1)
        return None


@dataclass(frozen=True, slots=True)
class Selection:
    """What the text and the score chart show, resolved against the user's records."""

    period: StatsPeriod
    weapon: Weapon | None  # None: no weapon with an entry in the period
    distance_m: int | None  # None: that weapon has no entry in the period
    distances: tuple[int, ...]  # the weapon's distances in the period, most used first


class StatsFlow:
    name = NAME

    async def start(self, ctx: Context, args: str) -> Turn:
        return await self._view(ctx, State(NAME, "view", {"p": StatsPeriod.TWELVE_MONTHS}))

    async def prompt(self, ctx: Context, state: State) -> Turn:
        return await self._view(ctx, state)

    async def on_cancel(self, ctx: Context, state: State) -> Turn:
        return Turn([reply(ctx.t("cancelled"))], None)

    async def on_upload(self, ctx: Context, state: State, upload: StoredUpload) -> Turn:
        return Turn([reply(ctx.t("stats.upload"))], state)

    async def on_text(self, ctx: Context, state: State, text: str) -> Turn:
        turn = await self._view(ctx, state, charts=())
        turn.replies.insert(0, reply(ctx.t("stats.use_buttons")))
        return turn

    async def on_press(self, ctx: Context, state: State, action: str) -> Turn:
        verb, _, arg = action.partition(":")
        before = _selected(state)
        if verb == "p" and arg in set(StatsPeriod):
            state.data["p"] = arg
        elif verb == "w" and button_id(arg) != state.data.get("w"):
            state.data.update({"w": button_id(arg), "d": None})  # checked against the records
        elif verb == "d":
            state.data["d"] = button_id(arg)
        # A press that changes nothing (the chosen button again, forged data) redraws no chart
        return await self._view(ctx, state, charts=(Chart.SCORE,), unless=before)

    async def _view(
        self,
        ctx: Context,
        state: State,
        *,
        charts: Sequence[Chart] = tuple(Chart),
        unless: tuple[object, ...] | None = None,
    ) -> Turn:
        """Show the selection in ``state``, and queue ``charts`` — unless the selection
        resolves to ``unless``, the one already shown."""
        today = ctx.today()
        period = _period(state)
        since = period.since(today)
        licence_from = licence_window(today)[0]
        history = await ctx.sessions.between(min(since or LONG_AGO, licence_from), today)
        weapons = await ctx.weapon_index()
        shown = stats.in_period(history, since=since, until=today)
        chosen = _select(state, period, shown, weapons)
        state.data.update(
            {
                "p": period.value,
                "w": None if chosen.weapon is None else chosen.weapon.id,
                "d": chosen.distance_m,
            }
        )
        streak_days = await ctx.sessions.shooting_days(until=today)
        text = summary(
            ctx,
            chosen,
            streak_days=streak_days,
            history=history,
            shown=shown,
            weapons=weapons,
            today=today,
        )
        if unless is not None and _selected(state) == unless:
            charts = ()
        wanted = [c for c in charts if c is not Chart.SCORE or _scored(chosen, shown)]
        if wanted and history:
            request = ChartRequest(
                charts=tuple(wanted),
                since=since,
                weapon_id=None if chosen.weapon is None else chosen.weapon.id,
                distance_m=chosen.distance_m,
                period_label=_period_label(ctx.t, period, today),
            )
            await ctx.enqueue(CHARTS, request.to_payload(), max_attempts=CHARTS_ATTEMPTS)
            key = "stats.charts" if len(wanted) > 1 else "stats.chart"
            text = f"{text}\n\n{ctx.t(key)}"
        buttons = _buttons(ctx, chosen, today, _used_weapons(shown, weapons))
        return Turn([reply(text, *buttons)], state.at("view"))


def summary(
    ctx: Context,
    chosen: Selection,
    *,
    streak_days: Sequence[date],
    history: Sequence[ShootingSession],
    shown: Sequence[ShootingSession],
    weapons: dict[int, Weapon],
    today: date,
) -> str:
    """The text of the view: ``history`` reaches back far enough for the licence counts,
    ``shown`` is the period's part of it."""
    t = ctx.t
    since = chosen.period.since(today)
    start = since if since is not None else (shown[0].occurred_on if shown else today)
    lines = [
        t(
            "stats.head",
            period=_period_label(t, chosen.period, today),
            range=formatting.period(start, today),
        )
    ]
    totals = stats.totals(shown)
    if totals.sessions:
        lines.append(
            t("stats.totals", sessions=totals.sessions, days=totals.days, rounds=totals.rounds)
        )
    else:
        lines.append(t("stats.none"))
    weeks = insight.weeks_in_a_row(streak_days, today=today)
    if weeks >= 2:
        lines.append(t("stats.streak", weeks=weeks))
    lines += ["", *_licence_lines(ctx, history, today)]
    if totals.weapons:
        lines.append("")
        for used in totals.weapons[:5]:
            name = weapons[used.weapon_id].name if used.weapon_id in weapons else "?"
            lines.append(t("stats.weapon", weapon=name, sessions=used.sessions, rounds=used.rounds))
        if len(totals.weapons) > 5:
            lines.append(t("stats.more_weapons", count=len(totals.weapons) - 5))
    focus = _focus_line(ctx, chosen, shown, today)
    if focus:
        lines += ["", focus]
    return "\n".join(lines)


def _licence_lines(ctx: Context, history: Sequence[ShootingSession], today: date) -> list[str]:
    t = ctx.t
    progress = licence_progress(history, today=today)
    figures = {"days": progress.days, "required": progress.required_days}
    if progress.days_met:
        lines = [t("stats.licence.met", **figures)]
    else:
        lines = [t("stats.licence.short", **figures, short=progress.days_short)]
    if progress.oldest_day is not None and progress.oldest_leaves_on is not None:
        lines.append(
            t(
                "stats.licence.drops",
                day=formatting.day(progress.oldest_day),
                leaves=formatting.day(progress.oldest_leaves_on),
            )
        )
    if ctx.profile.licence_expiry is not None:
        lines.append(t("stats.licence.expiry", date=formatting.day(ctx.profile.licence_expiry)))
    key = "stats.matches.met" if progress.matches_met else "stats.matches.short"
    lines.append(
        t(
            key,
            year=progress.year,
            knsa=progress.knsa_matches,
            club=progress.club_matches,
            required_knsa=progress.required_knsa,
            required_club=progress.required_club,
        )
    )
    return lines


def _focus_line(
    ctx: Context, chosen: Selection, shown: Sequence[ShootingSession], today: date
) -> str | None:
    if chosen.weapon is None or chosen.distance_m is None:
        return None
    language = ctx.profile.language
    figures = stats.weapon_stats(chosen.weapon.id, shown, today=today, window=RECENT)
    at = next((d for d in figures.distances if d.distance_m == chosen.distance_m), None)
    if at is None or at.mean_per_shot is None or at.best_per_shot is None:
        return ctx.t("stats.focus.unscored", weapon=chosen.weapon.name)
    return ctx.t(
        "stats.focus",
        weapon=chosen.weapon.name,
        distance=chosen.distance_m,
        count=at.scored,
        mean=formatting.per_shot(at.mean_per_shot, language),
        recent=min(RECENT, at.scored),
        best=formatting.per_shot(at.best_per_shot, language),
        last=formatting.per_shot(
            at.mean_per_shot if at.last_per_shot is None else at.last_per_shot, language
        ),
        trend=fallback_texts.trend(fallback_texts.translator(language), at.trend),
    )


def _select(
    state: State, period: StatsPeriod, shown: Sequence[ShootingSession], weapons: dict[int, Weapon]
) -> Selection:
    """The chosen weapon and distance when the period has entries of them; else the weapon
    with the most rounds in the period and its most used distance (scored ones first)."""
    use: dict[int, dict[int, list[int]]] = {}  # weapon -> distance -> [sessions, rounds, scored]
    for session in shown:
        for entry in session.entries:
            counts = use.setdefault(entry.weapon_id, {}).setdefault(entry.distance_m, [0, 0, 0])
            counts[0] += 1
            counts[1] += entry.shots
            counts[2] += int(entry.score is not None)
    asked = state.data.get("w")
    if isinstance(asked, int) and asked in use and asked in weapons:
        weapon_id: int | None = asked
    else:
        ranked = sorted(
            (w for w in use if w in weapons),
            key=lambda w: (-sum(c[1] for c in use[w].values()), weapons[w].name.casefold()),
        )
        weapon_id = ranked[0] if ranked else None
    if weapon_id is None:
        return Selection(period, None, None, ())
    per_distance = use[weapon_id]
    distances = tuple(
        sorted(per_distance, key=lambda d: (-(per_distance[d][2] > 0), -per_distance[d][0], d))
    )
    asked_distance = state.data.get("d")
    distance = asked_distance if asked_distance in per_distance else distances[0]
    return Selection(period, weapons[weapon_id], distance, distances)


def _scored(chosen: Selection, shown: Sequence[ShootingSession]) -> bool:
    if chosen.weapon is None or chosen.distance_m is None:
        return False
    return bool(insight.score_points(shown, chosen.weapon.id, chosen.distance_m))


def _used_weapons(shown: Sequence[ShootingSession], weapons: dict[int, Weapon]) -> list[Weapon]:
    """Weapons with entries in the period, most rounds first: the ones a button can choose."""
    rounds: dict[int, int] = {}
    for session in shown:
        for entry in session.entries:
            rounds[entry.weapon_id] = rounds.get(entry.weapon_id, 0) + entry.shots
    used = [weapons[w] for w in rounds if w in weapons]
    return sorted(used, key=lambda w: (-rounds[w.id], w.name.casefold()))[:SHOWN_WEAPONS]


def _buttons(
    ctx: Context, chosen: Selection, today: date, used: list[Weapon]
) -> list[list[Button]]:
    t = ctx.t

    def mark(label: str, *, on: bool) -> str:  # a tick for the chosen one
        return f"✓ {label}" if on else label

    periods = [
        ctx.button(
            mark(t(f"stats.btn.{p.value}", year=today.year), on=p is chosen.period), f"p:{p}"
        )
        for p in StatsPeriod
    ]
    weapons = [
        ctx.button(
            mark(w.name, on=chosen.weapon is not None and w.id == chosen.weapon.id), f"w:{w.id}"
        )
        for w in used
    ]
    if chosen.weapon is not None and chosen.weapon not in used:
        weapons.insert(0, ctx.button(mark(chosen.weapon.name, on=True), f"w:{chosen.weapon.id}"))
    distances = [
        ctx.button(mark(t("stats.btn.distance", distance=d), on=d == chosen.distance_m), f"d:{d}")
        for d in chosen.distances[:SHOWN_DISTANCES]
    ]
    rows = [periods, *(chunked(weapons, 2) if len(weapons) > 1 else [])]
    if len(distances) > 1:
        rows.append(distances)
    return rows


def _selected(state: State) -> tuple[object, ...]:
    return (state.data.get("p"), state.data.get("w"), state.data.get("d"))


def _period(state: State) -> StatsPeriod:
    value = state.data.get("p")
    return StatsPeriod(value) if value in set(StatsPeriod) else StatsPeriod.TWELVE_MONTHS


def _period_label(t: Translator, period: StatsPeriod, today: date) -> str:
    return t(f"stats.period.{period.value}", year=today.year)
