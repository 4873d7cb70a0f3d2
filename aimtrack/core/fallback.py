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

from aimtrack.core import formatting
from aimtrack.core.fallback_texts import (
    distance_line,
    fit,
    licence_lines,
    period,
    quote,
    short,
    translator,
    weapon_head,
    weapon_name,
)
from aimtrack.core.i18n import Translator
from aimtrack.core.licence import licence_progress
from aimtrack.core.limits import MAX_AI_ANSWER, MAX_AI_FIELD
from aimtrack.core.model import (
    AnswerText,
    CompetitionType,
    InsightText,
    Language,
    ReflectionText,
    ShootingSession,
    Weapon,
)
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
) -> ReflectionText:
    """A reflection on ``session`` from its numbers against the shooter's earlier sessions."""
    t = translator(language)
    everything = [*history, session]
    comparisons = compare_session(session, everything)

    def what(c: EntryComparison) -> str:
        return t("what", weapon=weapon_name(weapons, c.weapon_id), distance=c.distance_m)

    return ReflectionText(
        summary=_summary(session, weapons, t),
        went_well=_went_well(comparisons, what, t),
        needs_improvement=_needs_improvement(comparisons, what, t),
        next_focus=fit(
            [_focus(comparisons, what, t)],
            licence_lines(licence_progress(everything, today=today), t),
            limit=MAX_AI_FIELD,
            t=t,
        ),
    )


def weapon_insight(
    weapon: Weapon, history: Sequence[ShootingSession], *, today: date, language: Language
) -> InsightText:
    """Trends, issues and recommendations of one weapon, per distance, from its numbers."""
    t = translator(language)
    name = short(weapon.name)
    stats = weapon_stats(weapon.id, history, today=today, window=INSIGHT_WINDOW)
    if stats.sessions == 0:
        return InsightText(
            trends=t("insight.none", weapon=name),
            typical_issues=t("issue.no_data"),
            recommendations="\n".join([t("rec.start", weapon=name), t("rec.ai")]),
        )
    issues: list[str] = []
    advice: list[str] = []
    for d in stats.distances:
        _distance_findings(d, issues, advice, t)
    gap = stats.days_since_last
    if weapon.retired_on is None and gap is not None and gap > LONG_GAP_DAYS:
        assert stats.last_day is not None  # noqa: S101 - a gap needs a last day
        issues.append(
            t("issue.gap", days=gap, last=formatting.long_day(stats.last_day, t.language))
        )
        advice.append(t("rec.gap_licensed" if weapon.licensed else "rec.gap", weapon=name))
    return InsightText(
        trends=fit(
            [weapon_head(name, stats, t)],
            [distance_line(d, t, window=INSIGHT_WINDOW) for d in stats.distances],
            limit=MAX_AI_FIELD,
            t=t,
        ),
        typical_issues=fit([], issues or [t("issue.none")], limit=MAX_AI_FIELD, t=t),
        recommendations=fit(
            [],
            list(dict.fromkeys(advice)) or [t("rec.keep")],
            [t("rec.ai")],
            limit=MAX_AI_FIELD,
            t=t,
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
) -> AnswerText:
    """Not an answer (that needs a model) but the numbers in scope, saying so plainly.
    Sessions after ``today`` never count, whatever ``until`` says."""
    t = translator(language)
    end = today if until is None else min(until, today)
    sessions = in_period(history, since=since, until=end)
    scope = period(since, until, t)
    items: list[str]
    if weapon_id is not None:
        name = weapon_name(weapons, weapon_id)
        scope = t("coach.for", weapon=name) + scope
        stats = weapon_stats(weapon_id, sessions, today=today, window=INSIGHT_WINDOW)
        found = [weapon_head(name, stats, t)]
        items = [distance_line(d, t, window=INSIGHT_WINDOW) for d in stats.distances]
    else:
        total = totals(sessions)
        found = [
            t(
                "coach.totals",
                sessions=total.sessions,
                days=total.days,
                rounds=total.rounds,
            )
        ]
        items = [
            t(
                "coach.weapon",
                weapon=weapon_name(weapons, w.weapon_id),
                rounds=w.rounds,
                days=w.days,
            )
            for w in total.weapons
        ]
    if not sessions or (weapon_id is not None and not items):
        found, items = [t("coach.none")], []
    intro = t("coach.intro", question=quote(question), scope=scope)
    outro = [t("coach.outro")]
    if weapon_id is None and since is None and until is None:
        # The licence counts the whole log; a scoped question may come with a scoped history.
        outro[:0] = licence_lines(licence_progress(history, today=today), t)
    answer = fit([intro, *found], items, outro, limit=MAX_AI_ANSWER, t=t)
    return AnswerText(answer=answer)


# --- reflection parts ---------------------------------------------------------------------


def _summary(session: ShootingSession, weapons: Mapping[int, Weapon], t: Translator) -> str:
    club = t("summary.club", club=session.club) if session.club else ""
    when = formatting.long_day(session.occurred_on, t.language)
    entries = sorted(session.entries, key=lambda e: e.position)
    if not entries:
        return t("summary.empty", date=when, club=club)
    head = t(
        "summary.head",
        date=when,
        club=club,
        lines=len(entries),
        shots=sum(e.shots for e in entries),
    )
    lines = []
    for e in entries:
        tag = _COMPETITION.get(e.competition)
        values = {
            "what": t("what", weapon=weapon_name(weapons, e.weapon_id), distance=e.distance_m),
            "shots": e.shots,
            "competition": t(tag) if tag else "",
        }
        value = per_shot(e)
        if e.score is None or value is None:
            lines.append(t("summary.unscored", **values))
        else:
            lines.append(
                t(
                    "summary.scored",
                    score=formatting.score_in(e.score, t.language),
                    per_shot=formatting.per_shot(value, t.language),
                    **values,
                )
            )
    return fit([head], lines, limit=MAX_AI_FIELD, t=t)


Namer = Callable[[EntryComparison], str]


def _went_well(comparisons: Sequence[EntryComparison], what: Namer, t: Translator) -> str:
    lines = []
    for c in comparisons:
        if c.per_shot is None:
            continue
        shown = {"what": what(c), "per_shot": formatting.per_shot(c.per_shot, t.language)}
        if c.personal_best:
            assert c.best_before is not None  # noqa: S101 - implied by personal_best
            lines.append(
                t("well.best", best=formatting.per_shot(c.best_before, t.language), **shown)
            )
        elif c.best_before is None:
            lines.append(t("well.first", **shown))
        elif c.delta is not None and c.delta > 0:
            lines.append(t("well.above", **shown, **_versus(c, t)))
    if lines:
        return fit([], lines, limit=MAX_AI_FIELD, t=t)
    if not comparisons:
        return t("well.nothing")
    if all(c.per_shot is None for c in comparisons):
        return t("well.unscored", shots=sum(c.shots for c in comparisons))
    return t("well.steady")


def _needs_improvement(comparisons: Sequence[EntryComparison], what: Namer, t: Translator) -> str:
    lines = []
    for c in comparisons:
        if c.per_shot is None:
            lines.append(t("improve.no_score", what=what(c)))
            continue
        count = c.previous_count + 1
        if c.delta is not None and c.delta < 0:
            lines.append(
                t(
                    "improve.below",
                    what=what(c),
                    per_shot=formatting.per_shot(c.per_shot, t.language),
                    **_versus(c, t),
                )
            )
        if c.trend is Trend.DOWN:
            lines.append(t("improve.down", what=what(c), count=count))
        if c.spread is not None and c.spread >= HIGH_SPREAD:
            spread = formatting.per_shot(c.spread, t.language)
            lines.append(t("improve.spread", what=what(c), spread=spread, count=count))
    if lines:
        return fit([], lines, limit=MAX_AI_FIELD, t=t)
    if any(c.previous_count for c in comparisons) or not comparisons:
        return t("improve.nothing")
    return t("improve.too_early")


def _focus(comparisons: Sequence[EntryComparison], what: Namer, t: Translator) -> str:
    below = [c for c in comparisons if c.delta is not None and c.delta < 0]
    if below:
        return t("focus.weakest", what=what(min(below, key=lambda c: c.delta or 0)))
    varying = [c for c in comparisons if c.spread is not None and c.spread >= HIGH_SPREAD]
    if varying:
        widest = max(varying, key=lambda c: c.spread or 0)
        assert widest.spread is not None  # noqa: S101 - filtered above
        return t(
            "focus.spread", what=what(widest), spread=formatting.per_shot(widest.spread, t.language)
        )
    unscored = [c for c in comparisons if c.per_shot is None]
    if unscored:
        return t("focus.score", what=what(unscored[0]))
    scored = [c for c in comparisons if c.per_shot is not None]
    if scored:
        best = max(scored, key=lambda c: c.delta or 0)
        assert best.per_shot is not None  # noqa: S101 - filtered above
        return t(
            "focus.repeat", what=what(best), per_shot=formatting.per_shot(best.per_shot, t.language)
        )
    return t("focus.log")


def _versus(c: EntryComparison, t: Translator) -> dict[str, str]:
    """Delta (unsigned: the sentence says above or below), mean and how many results."""
    assert c.delta is not None  # noqa: S101 - callers check
    assert c.previous_mean is not None  # noqa: S101 - implied by a delta
    results = t("results", count=c.previous_count)
    return {
        "delta": formatting.per_shot(abs(c.delta), t.language),
        "mean": formatting.per_shot(c.previous_mean, t.language),
        "results": results,
    }


# --- weapon parts -------------------------------------------------------------------------


def _distance_findings(
    d: DistanceStats, issues: list[str], advice: list[str], t: Translator
) -> None:
    """What the numbers of one distance show, and what to do about it."""
    at = {"distance": d.distance_m}
    if d.scored == 0 or d.mean_per_shot is None or d.last_per_shot is None:
        issues.append(t("issue.unscored", rounds=d.rounds, **at))
        advice.append(t("rec.unscored", **at))
        return
    if d.scored < MIN_TREND_POINTS:
        issues.append(t("issue.few", count=d.scored, **at))
        advice.append(t("rec.few", needed=MIN_TREND_POINTS - d.scored, **at))
    if d.trend is Trend.DOWN:
        issues.append(t("issue.down", count=min(d.scored, INSIGHT_WINDOW), **at))
        advice.append(t("rec.down", **at))
    gap = d.mean_per_shot - d.last_per_shot
    if d.scored >= 2 and gap >= MIN_DROP and gap > (d.spread or 0):
        issues.append(
            t(
                "issue.drop",
                last=formatting.per_shot(d.last_per_shot, t.language),
                gap=formatting.per_shot(gap, t.language),
                mean=formatting.per_shot(d.mean_per_shot, t.language),
                **at,
            )
        )
        advice.append(t("rec.down", **at))
    if d.spread is not None and d.spread >= HIGH_SPREAD:
        issues.append(t("issue.spread", spread=formatting.per_shot(d.spread, t.language), **at))
        advice.append(t("rec.spread", **at))
