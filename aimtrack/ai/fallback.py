"""Reflections, weapon insights and coach answers computed from the shooter's own numbers.

Used when no AI server is configured, or when the AI finally failed: the shooter still gets
something useful. These texts say only what the numbers show (above or below the recent mean,
a personal best, a falling trend, a large spread, a long break, missing scores) and never guess
a cause. Of a weapon they use the name only: serial number, storage location and notes never
appear. The "computed without AI" label and the safety reminder are added by the message
formatter, not here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Final

from aimtrack.ai.fallback_texts import (
    day,
    distance_line,
    fit,
    licence_lines,
    number,
    period,
    quote,
    say,
    score,
    short,
    weapon_head,
    weapon_name,
)
from aimtrack.ai.schemas import MAX_FIELD, CoachAnswerOut, InsightOut, ReflectionOut
from aimtrack.core.licence import licence_progress
from aimtrack.core.model import CompetitionType, Language, ShootingSession, Weapon
from aimtrack.core.stats import (
    MIN_TREND_POINTS,
    DistanceStats,
    EntryComparison,
    Trend,
    compare_session,
    in_period,
    per_shot,
    totals,
    weapon_stats,
)

# Heuristics, in points per shot. A spread of 0.30 between sessions is 15 points on a 50-shot
# series; a last result counts as a drop when it is further below the recent mean than the
# usual spread, and at least MIN_DROP.
HIGH_SPREAD: Final = Decimal("0.30")
MIN_DROP: Final = Decimal("0.10")
LONG_GAP_DAYS: Final = 60
INSIGHT_WINDOW: Final = 10
MAX_ANSWER: Final = 3 * MAX_FIELD

_COMPETITION: Final = {
    CompetitionType.CLUB: "competition.club",
    CompetitionType.KNSA: "competition.knsa",
}


def reflection(
    session: ShootingSession,
    history: Sequence[ShootingSession],
    weapons: Mapping[int, Weapon],
    *,
    today: date,
    language: Language,
) -> ReflectionOut:
    """A reflection on ``session`` from its numbers against the shooter's earlier sessions."""
    everything = [*history, session]
    comparisons = compare_session(session, everything)

    def what(c: EntryComparison) -> str:
        return say(
            "what", language, weapon=weapon_name(weapons, c.weapon_id), distance=c.distance_m
        )

    return ReflectionOut(
        summary=_summary(session, weapons, language),
        went_well=_went_well(comparisons, what, language),
        needs_improvement=_needs_improvement(comparisons, what, language),
        next_focus=fit(
            [_focus(comparisons, what, language)],
            licence_lines(licence_progress(everything, today=today), language),
            limit=MAX_FIELD,
            language=language,
        ),
    )


def weapon_insight(
    weapon: Weapon, history: Sequence[ShootingSession], *, today: date, language: Language
) -> InsightOut:
    """Trends, issues and recommendations of one weapon, per distance, from its numbers."""
    name = short(weapon.name)
    stats = weapon_stats(weapon.id, history, today=today, window=INSIGHT_WINDOW)
    if stats.sessions == 0:
        return InsightOut(
            trends=say("insight.none", language, weapon=name),
            typical_issues=say("issue.no_data", language),
            recommendations="\n".join(
                [say("rec.start", language, weapon=name), say("rec.ai", language)]
            ),
        )
    issues: list[str] = []
    advice: list[str] = []
    for d in stats.distances:
        _distance_findings(d, issues, advice, language)
    gap = stats.days_since_last
    if weapon.retired_on is None and gap is not None and gap > LONG_GAP_DAYS:
        assert stats.last_day is not None  # noqa: S101 - a gap needs a last day
        issues.append(say("issue.gap", language, days=gap, last=day(stats.last_day, language)))
        advice.append(
            say("rec.gap_licensed" if weapon.licensed else "rec.gap", language, weapon=name)
        )
    return InsightOut(
        trends=fit(
            [weapon_head(name, stats, language)],
            [distance_line(d, language, window=INSIGHT_WINDOW) for d in stats.distances],
            limit=MAX_FIELD,
            language=language,
        ),
        typical_issues=fit(
            [], issues or [say("issue.none", language)], limit=MAX_FIELD, language=language
        ),
        recommendations=fit(
            [],
            list(dict.fromkeys(advice)) or [say("rec.keep", language)],
            [say("rec.ai", language)],
            limit=MAX_FIELD,
            language=language,
        ),
    )


def coach_answer(
    question: str,
    history: Sequence[ShootingSession],
    weapons: Mapping[int, Weapon],
    *,
    today: date,
    language: Language,
    weapon_id: int | None = None,
    since: date | None = None,
    until: date | None = None,
) -> CoachAnswerOut:
    """Not an answer (that needs a model) but the numbers in scope, saying so plainly.
    Sessions after ``today`` never count, whatever ``until`` says."""
    end = today if until is None else min(until, today)
    sessions = in_period(history, since=since, until=end)
    scope = period(since, until, language)
    items: list[str]
    if weapon_id is not None:
        name = weapon_name(weapons, weapon_id)
        scope = say("coach.for", language, weapon=name) + scope
        stats = weapon_stats(weapon_id, sessions, today=today, window=INSIGHT_WINDOW)
        found = [weapon_head(name, stats, language)]
        items = [distance_line(d, language, window=INSIGHT_WINDOW) for d in stats.distances]
    else:
        total = totals(sessions)
        found = [
            say(
                "coach.totals",
                language,
                sessions=total.sessions,
                days=total.days,
                rounds=total.rounds,
            )
        ]
        items = [
            say(
                "coach.weapon",
                language,
                weapon=weapon_name(weapons, w.weapon_id),
                rounds=w.rounds,
                days=w.days,
            )
            for w in total.weapons
        ]
    if not sessions or (weapon_id is not None and not items):
        found, items = [say("coach.none", language)], []
    intro = say("coach.intro", language, question=quote(question), scope=scope)
    outro = [say("coach.outro", language)]
    if weapon_id is None and since is None and until is None:
        # The licence counts the whole log; a scoped question may come with a scoped history.
        outro[:0] = licence_lines(licence_progress(history, today=today), language)
    answer = fit([intro, *found], items, outro, limit=MAX_ANSWER, language=language)
    return CoachAnswerOut(answer=answer)


# --- reflection parts ---------------------------------------------------------------------


def _summary(session: ShootingSession, weapons: Mapping[int, Weapon], language: Language) -> str:
    club = say("summary.club", language, club=session.club) if session.club else ""
    when = day(session.occurred_on, language)
    entries = sorted(session.entries, key=lambda e: e.position)
    if not entries:
        return say("summary.empty", language, date=when, club=club)
    head = say(
        "summary.head",
        language,
        date=when,
        club=club,
        lines=len(entries),
        shots=sum(e.shots for e in entries),
    )
    lines = []
    for e in entries:
        tag = _COMPETITION.get(e.competition)
        values = {
            "what": say(
                "what", language, weapon=weapon_name(weapons, e.weapon_id), distance=e.distance_m
            ),
            "shots": e.shots,
            "competition": say(tag, language) if tag else "",
        }
        value = per_shot(e)
        if e.score is None or value is None:
            lines.append(say("summary.unscored", language, **values))
        else:
            lines.append(
                say(
                    "summary.scored",
                    language,
                    score=score(e.score, language),
                    per_shot=number(value, language),
                    **values,
                )
            )
    return fit([head], lines, limit=MAX_FIELD, language=language)


Namer = Callable[[EntryComparison], str]


def _went_well(comparisons: Sequence[EntryComparison], what: Namer, language: Language) -> str:
    lines = []
    for c in comparisons:
        if c.per_shot is None:
            continue
        shown = {"what": what(c), "per_shot": number(c.per_shot, language)}
        if c.personal_best:
            assert c.best_before is not None  # noqa: S101 - implied by personal_best
            lines.append(say("well.best", language, best=number(c.best_before, language), **shown))
        elif c.best_before is None:
            lines.append(say("well.first", language, **shown))
        elif c.delta is not None and c.delta > 0:
            lines.append(say("well.above", language, **shown, **_versus(c, language)))
    if lines:
        return fit([], lines, limit=MAX_FIELD, language=language)
    if not comparisons:
        return say("well.nothing", language)
    if all(c.per_shot is None for c in comparisons):
        return say("well.unscored", language, shots=sum(c.shots for c in comparisons))
    return say("well.steady", language)


def _needs_improvement(
    comparisons: Sequence[EntryComparison], what: Namer, language: Language
) -> str:
    lines = []
    for c in comparisons:
        if c.per_shot is None:
            lines.append(say("improve.no_score", language, what=what(c)))
            continue
        count = c.previous_count + 1
        if c.delta is not None and c.delta < 0:
            lines.append(
                say(
                    "improve.below",
                    language,
                    what=what(c),
                    per_shot=number(c.per_shot, language),
                    **_versus(c, language),
                )
            )
        if c.trend is Trend.DOWN:
            lines.append(say("improve.down", language, what=what(c), count=count))
        if c.spread is not None and c.spread >= HIGH_SPREAD:
            spread = number(c.spread, language)
            lines.append(say("improve.spread", language, what=what(c), spread=spread, count=count))
    if lines:
        return fit([], lines, limit=MAX_FIELD, language=language)
    if any(c.previous_count for c in comparisons) or not comparisons:
        return say("improve.nothing", language)
    return say("improve.too_early", language)


def _focus(comparisons: Sequence[EntryComparison], what: Namer, language: Language) -> str:
    below = [c for c in comparisons if c.delta is not None and c.delta < 0]
    if below:
        return say("focus.weakest", language, what=what(min(below, key=lambda c: c.delta or 0)))
    varying = [c for c in comparisons if c.spread is not None and c.spread >= HIGH_SPREAD]
    if varying:
        widest = max(varying, key=lambda c: c.spread or 0)
        assert widest.spread is not None  # noqa: S101 - filtered above
        return say(
            "focus.spread", language, what=what(widest), spread=number(widest.spread, language)
        )
    unscored = [c for c in comparisons if c.per_shot is None]
    if unscored:
        return say("focus.score", language, what=what(unscored[0]))
    scored = [c for c in comparisons if c.per_shot is not None]
    if scored:
        best = max(scored, key=lambda c: c.delta or 0)
        assert best.per_shot is not None  # noqa: S101 - filtered above
        return say(
            "focus.repeat", language, what=what(best), per_shot=number(best.per_shot, language)
        )
    return say("focus.log", language)


def _versus(c: EntryComparison, language: Language) -> dict[str, str]:
    """Delta (unsigned: the sentence says above or below), mean and how many results."""
    assert c.delta is not None  # noqa: S101 - callers check
    assert c.previous_mean is not None  # noqa: S101 - implied by a delta
    results = (
        say("results.one", language)
        if c.previous_count == 1
        else say("results.many", language, count=c.previous_count)
    )
    return {
        "delta": number(abs(c.delta), language),
        "mean": number(c.previous_mean, language),
        "results": results,
    }


# --- weapon parts -------------------------------------------------------------------------


def _distance_findings(
    d: DistanceStats, issues: list[str], advice: list[str], language: Language
) -> None:
    """What the numbers of one distance show, and what to do about it."""
    at = {"distance": d.distance_m}
    if d.scored == 0 or d.mean_per_shot is None or d.last_per_shot is None:
        issues.append(say("issue.unscored", language, rounds=d.rounds, **at))
        advice.append(say("rec.unscored", language, **at))
        return
    if d.scored < MIN_TREND_POINTS:
        issues.append(say("issue.few", language, count=d.scored, **at))
        advice.append(say("rec.few", language, needed=MIN_TREND_POINTS - d.scored, **at))
    if d.trend is Trend.DOWN:
        issues.append(say("issue.down", language, count=min(d.scored, INSIGHT_WINDOW), **at))
        advice.append(say("rec.down", language, **at))
    gap = d.mean_per_shot - d.last_per_shot
    if d.scored >= 2 and gap >= MIN_DROP and gap > (d.spread or 0):
        issues.append(
            say(
                "issue.drop",
                language,
                last=number(d.last_per_shot, language),
                gap=number(gap, language),
                mean=number(d.mean_per_shot, language),
                **at,
            )
        )
        advice.append(say("rec.down", language, **at))
    if d.spread is not None and d.spread >= HIGH_SPREAD:
        issues.append(say("issue.spread", language, spread=number(d.spread, language), **at))
        advice.append(say("rec.spread", language, **at))
