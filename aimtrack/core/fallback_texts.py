"""How the statistics fallback (:mod:`aimtrack.ai.fallback`) words its numbers: the texts,
the number and date formats, and the lines that more than one answer shares.

Kept like the bot's catalogues, ``TEXTS = {key: (dutch, english)}`` with ``str.format``
placeholders, but local: the AI layer must not depend on the bot. Numbers follow the reader's
language: Dutch writes 9,35 and 23-11-2026, English 9.35 and 23 Nov 2026 (a month name, so a
reader used to month-first dates cannot misread it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Final

from aimtrack.core import formatting, limits
from aimtrack.core.i18n import Catalogue, Translator
from aimtrack.core.licence import LicenceProgress
from aimtrack.core.model import Language, Weapon
from aimtrack.core.stats import DistanceStats, Trend, WeaponStats

TEXTS: Final[Catalogue] = {
    "what": ("{weapon} op {distance} m", "{weapon} at {distance} m"),
    "more": ("… en nog {count}", "… and {count} more"),
    "results": (
        "{count:# eerder resultaat|# eerdere resultaten}",
        "{count:# earlier result|# earlier results}",
    ),
    "competition.club": (", clubwedstrijd", ", club match"),
    "competition.knsa": (", KNSA-wedstrijd", ", KNSA match"),
    "trend.up": ("stijgend", "rising"),
    "trend.down": ("dalend", "falling"),
    "trend.flat": ("stabiel", "flat"),
    "trend.unknown": ("te weinig scores voor een trend", "too few scores for a trend"),
    "summary.head": (
        "Sessie van {date}{club}: {lines:# wapenregel|# wapenregels}, {shots:# schot|# schoten}.",
        "Session of {date}{club}: {lines:# weapon line|# weapon lines}, {shots:# shot|# shots}.",
    ),
    "summary.empty": (
        "Sessie van {date}{club}: geen wapenregels vastgelegd.",
        "Session of {date}{club}: no weapon lines logged.",
    ),
    "summary.club": (" bij {club}", " at {club}"),
    "summary.scored": (
        "• {what}: {shots:# schot|# schoten}, score {score} ({per_shot} per schot){competition}",
        "• {what}: {shots:# shot|# shots}, score {score} ({per_shot} per shot){competition}",
    ),
    "summary.unscored": (
        "• {what}: {shots:# schot|# schoten}, geen score{competition}",
        "• {what}: {shots:# shot|# shots}, no score{competition}",
    ),
    "well.best": (
        "{what}: nieuw persoonlijk record, {per_shot} per schot (vorige beste {best}).",
        "{what}: new personal best, {per_shot} per shot (previous best {best}).",
    ),
    "well.above": (
        "{what}: {per_shot} per schot, {delta} boven je gemiddelde ({mean} over {results}).",
        "{what}: {per_shot} per shot, {delta} above your mean ({mean} over {results}).",
    ),
    "well.first": (
        "{what}: eerste score, {per_shot} per schot. Dit is je vertrekpunt.",
        "{what}: first score, {per_shot} per shot. This is your baseline.",
    ),
    "well.steady": (
        "Geen resultaat boven je eerdere gemiddelde deze keer; je schoot in lijn met eerder.",
        "No result above your earlier mean this time; you shot in line with before.",
    ),
    "well.unscored": (
        "Je schoot {shots:# schot|# schoten}. Elke schietdag telt mee voor je verlof.",
        "You fired {shots:# shot|# shots}. Every shooting day counts toward your licence.",
    ),
    "well.nothing": (
        "Deze sessie heeft geen wapenregels om te vergelijken.",
        "This session has no weapon lines to compare.",
    ),
    "improve.below": (
        "{what}: {per_shot} per schot, {delta} onder je gemiddelde ({mean} over {results}).",
        "{what}: {per_shot} per shot, {delta} below your mean ({mean} over {results}).",
    ),
    "improve.down": (
        "{what}: de lijn gaat omlaag over de laatste {count:# resultaat|# resultaten}.",
        "{what}: the trend is down over the last {count:# result|# results}.",
    ),
    "improve.spread": (
        "{what}: de resultaten wisselen sterk (spreiding {spread} per schot over {count}).",
        "{what}: results vary a lot (spread {spread} per shot over {count}).",
    ),
    "improve.no_score": (
        "{what}: geen score vastgelegd. Voeg scores toe om sessies te kunnen vergelijken.",
        "{what}: no score logged. Add scores to compare sessions.",
    ),
    "improve.nothing": (
        "Niets valt negatief op: geen resultaat onder je eerdere gemiddelde.",
        "Nothing stands out: no result below your earlier mean.",
    ),
    "improve.too_early": (
        "Nog te weinig eerdere scores om mee te vergelijken; na een paar sessies zie je hier "
        "de verschillen.",
        "Too few earlier scores to compare with yet; after a few sessions the differences "
        "show here.",
    ),
    "focus.weakest": (
        "Focus volgende keer op {what}: daar lag je het verst onder je gemiddelde.",
        "Next time, focus on {what}: that is where you were furthest below your mean.",
    ),
    "focus.spread": (
        "Werk aan constantheid met {what}: daar is de spreiding het grootst ({spread} per schot).",
        "Work on consistency with {what}: that is where the spread is largest ({spread} a shot).",
    ),
    "focus.score": (
        "Noteer volgende keer de score bij {what}, dan is het te vergelijken.",
        "Next time, log the score for {what} so it can be compared.",
    ),
    "focus.repeat": (
        "Probeer volgende keer {what} te herhalen: {per_shot} per schot.",
        "Next time, try to repeat {what}: {per_shot} per shot.",
    ),
    "focus.log": (
        "Leg volgende keer wapen, afstand, schoten en score vast.",
        "Next time, log weapon, distance, shots and score.",
    ),
    "licence.days_short": (
        "Verlof: {days} van {required} schietdagen in de laatste 12 maanden (sinds {start}); "
        "nog {short} nodig.",
        "Licence: {days} of {required} shooting days in the last 12 months (since {start}); "
        "{short} more needed.",
    ),
    "licence.days_met": (
        "Verlof: {days:# schietdag|# schietdagen} in de laatste 12 maanden (sinds {start}); de "
        "{required} "
        "zijn gehaald.",
        "Licence: {days:# shooting day|# shooting days} in the last 12 months (since {start}); "
        "the {required} "
        "required are met.",
    ),
    "licence.drop": (
        "Je oudste getelde dag ({oldest}) valt op {leaves} uit de telling.",
        "Your oldest counted day ({oldest}) drops out of the count on {leaves}.",
    ),
    "licence.matches_short": (
        "Wedstrijden {year}: {knsa} KNSA en {club} club; nodig zijn {required_knsa} KNSA of "
        "{required_club} club, dus nog {knsa_short} KNSA of {club_short} club.",
        "Matches {year}: {knsa} KNSA and {club} club; {required_knsa} KNSA or {required_club} "
        "club are required, so {knsa_short} more KNSA or {club_short} more club.",
    ),
    "licence.matches_met": (
        "Wedstrijden {year}: {knsa} KNSA en {club} club; de eis ({required_knsa} KNSA of "
        "{required_club} club) is gehaald.",
        "Matches {year}: {knsa} KNSA and {club} club; the requirement ({required_knsa} KNSA or "
        "{required_club} club) is met.",
    ),
    "insight.head": (
        "{weapon}: {sessions:# sessie|# sessies}, {rounds:# schot|# schoten}, van {first} tot en "
        "met {last}.",
        "{weapon}: {sessions:# session|# sessions}, {rounds:# shot|# shots}, from {first} to "
        "{last}.",
    ),
    "insight.none": ("Nog geen sessies met {weapon} vastgelegd.", "No sessions with {weapon} yet."),
    "insight.distance": (
        "• {distance} m: {sessions:# sessie|# sessies}, {rounds:# schot|# schoten}",
        "• {distance} m: {sessions:# session|# sessions}, {rounds:# shot|# shots}",
    ),
    "insight.unscored": ("geen scores", "no scores"),
    "insight.mean": (
        "gemiddeld {mean} per schot (laatste {count})",
        "mean {mean} per shot (last {count})",
    ),
    "insight.single": ("1 score: {value} per schot", "1 score: {value} per shot"),
    "insight.best_last": ("beste {best}, laatste {last}", "best {best}, last {last}"),
    "insight.spread": ("spreiding {spread}", "spread {spread}"),
    "issue.down": (
        "{distance} m: dalende lijn over de laatste {count:# resultaat|# resultaten}.",
        "{distance} m: falling trend over the last {count:# result|# results}.",
    ),
    "issue.drop": (
        "{distance} m: het laatste resultaat ({last}) ligt {gap} onder je recente gemiddelde "
        "({mean}).",
        "{distance} m: the last result ({last}) is {gap} below your recent mean ({mean}).",
    ),
    "issue.spread": (
        "{distance} m: grote spreiding tussen sessies ({spread} per schot).",
        "{distance} m: large spread between sessions ({spread} per shot).",
    ),
    "issue.unscored": (
        "{distance} m: {rounds:# schot|# schoten} zonder enige score.",
        "{distance} m: {rounds:# shot|# shots} without any score.",
    ),
    "issue.few": (
        "{distance} m: pas {count:# score|# scores}, te weinig voor een trend.",
        "{distance} m: only {count:# score|# scores}, too few for a trend.",
    ),
    "issue.gap": (
        "{days:# dag|# dagen} niet gebruikt (laatst op {last}).",
        "Not used for {days:# day|# days} (last on {last}).",
    ),
    "issue.none": (
        "De cijfers laten geen problemen zien: geen dalende lijn, geen grote spreiding en geen "
        "lange pauze.",
        "The numbers show no problems: no falling trend, no large spread and no long break.",
    ),
    "issue.no_data": (
        "Zonder sessies zijn er nog geen patronen te zien.",
        "Without sessions there are no patterns to see yet.",
    ),
    "rec.down": (
        "Kijk in je notities wat er anders was bij je laatste sessies op {distance} m.",
        "Check your notes for what was different in your last sessions at {distance} m.",
    ),
    "rec.spread": (
        "Schiet op {distance} m een paar sessies met dezelfde opzet (schoten, munitie), zodat "
        "de resultaten vergelijkbaar zijn.",
        "Shoot a few sessions at {distance} m with the same set-up (shots, ammunition), so the "
        "results are comparable.",
    ),
    "rec.unscored": (
        "Noteer scores op {distance} m, dan zijn trends te berekenen.",
        "Log scores at {distance} m so trends can be computed.",
    ),
    "rec.few": (
        "Nog {needed:# score|# scores} op {distance} m en er is een trend te zien.",
        "{needed:# more score|# more scores} at {distance} m and a trend shows.",
    ),
    "rec.gap_licensed": (
        "Plan binnenkort een sessie met {weapon}: de politie kan vragen of elk wapen op je "
        "verlof gebruikt wordt.",
        "Plan a session with {weapon} soon: the police may ask whether every weapon on your "
        "licence is used.",
    ),
    "rec.gap": (
        "Plan binnenkort weer een sessie met {weapon} als je het wilt blijven gebruiken.",
        "Plan another session with {weapon} soon if you want to keep using it.",
    ),
    "rec.start": (
        "Leg een eerste sessie met {weapon} vast, met score, als vertrekpunt.",
        "Log a first session with {weapon}, with a score, as a baseline.",
    ),
    "rec.keep": (
        "Ga zo door en houd dezelfde opzet aan, zodat je resultaten vergelijkbaar blijven.",
        "Keep going with the same set-up, so your results stay comparable.",
    ),
    "rec.ai": (
        "Met een ingestelde AI-server kan AimTrack ook je notities meewegen en meer vertellen.",
        "With an AI server configured, AimTrack can also weigh your notes and tell you more.",
    ),
    "coach.intro": (
        'Zonder AI-server kan ik een vrije vraag als "{question}" niet beantwoorden. Dit zijn '
        "je cijfers{scope}:",
        'Without an AI server I cannot answer a free question such as "{question}". These are '
        "your numbers{scope}:",
    ),
    "coach.for": (" voor {weapon}", " for {weapon}"),
    "coach.between": (" van {since} tot en met {until}", " from {since} to {until}"),
    "coach.since": (" sinds {since}", " since {since}"),
    "coach.until": (" tot en met {until}", " up to {until}"),
    "coach.totals": (
        "{sessions:# sessie|# sessies} op {days:# dag|# dagen}, {rounds:# schot|# schoten}.",
        "{sessions:# session|# sessions} on {days:# day|# days}, {rounds:# shot|# shots}.",
    ),
    "coach.none": ("Geen sessies in deze periode.", "No sessions in this period."),
    "coach.weapon": (
        "• {weapon}: {rounds:# schot|# schoten} op {days:# dag|# dagen}",
        "• {weapon}: {rounds:# shot|# shots} on {days:# day|# days}",
    ),
    "coach.outro": (
        "Stel een AI-server in om zulke vragen echt beantwoord te krijgen.",
        "Configure an AI server to get questions like this answered.",
    ),
}

MAX_QUOTE: Final = 80  # characters of a question quoted back
_TRENDS: Final = {
    Trend.UP: "trend.up",
    Trend.DOWN: "trend.down",
    Trend.FLAT: "trend.flat",
    Trend.UNKNOWN: "trend.unknown",
}


def translator(language: Language) -> Translator:
    return Translator(TEXTS, language)


def trend(t: Translator, value: Trend) -> str:
    return t(_TRENDS[value])


def fit(
    head: Sequence[str],
    items: Sequence[str],
    tail: Sequence[str] = (),
    *,
    limit: int,
    t: Translator,
) -> str:
    """Lines joined into at most ``limit`` characters: items are dropped from the end, with a
    line saying how many, so head and tail (the conclusions) always survive."""
    for shown in range(len(items), -1, -1):
        more = [t("more", count=len(items) - shown)] if shown < len(items) else []
        text = "\n".join([*head, *items[:shown], *more, *tail])
        if len(text) <= limit:
            return text
    return text[:limit]  # head and tail alone are too long: cannot happen with sane names


# --- shared lines ---------------------------------------------------------------------------


def licence_lines(progress: LicenceProgress, t: Translator) -> list[str]:
    """Days in the rolling 12 months and this year's matches against what the licence needs;
    at or below the minimum, also the day the oldest counted day drops out."""
    p = progress
    values = {
        "days": p.days,
        "required": p.required_days,
        "start": formatting.long_day(p.window_start, t.language),
    }
    if p.days_met:
        days = t("licence.days_met", **values)
    else:
        days = t("licence.days_short", short=p.days_short, **values)
    leaves = p.oldest_leaves_on
    if p.oldest_day is not None and leaves is not None and p.days <= p.required_days:
        oldest, leaves_on = (
            formatting.long_day(p.oldest_day, t.language),
            formatting.long_day(leaves, t.language),
        )
        days += " " + t("licence.drop", oldest=oldest, leaves=leaves_on)
    matches = t(
        "licence.matches_met" if p.matches_met else "licence.matches_short",
        year=p.year,
        knsa=p.knsa_matches,
        club=p.club_matches,
        required_knsa=p.required_knsa,
        required_club=p.required_club,
        knsa_short=p.knsa_short,
        club_short=p.club_short,
    )
    return [days, matches]


def weapon_head(name: str, stats: WeaponStats, t: Translator) -> str:
    if stats.first_day is None or stats.last_day is None:
        return t("insight.none", weapon=name)
    return t(
        "insight.head",
        weapon=name,
        sessions=stats.sessions,
        rounds=stats.rounds,
        first=formatting.long_day(stats.first_day, t.language),
        last=formatting.long_day(stats.last_day, t.language),
    )


def distance_line(d: DistanceStats, t: Translator, *, window: int) -> str:
    """One distance as a bullet: sessions, shots, then mean, best, last, trend and spread."""
    parts = [
        t(
            "insight.distance",
            distance=d.distance_m,
            sessions=d.sessions,
            rounds=d.rounds,
        )
    ]
    if d.mean_per_shot is None or d.best_per_shot is None or d.last_per_shot is None:
        parts.append(t("insight.unscored"))
        return "; ".join(parts) + "."
    if d.scored == 1:
        parts.append(t("insight.single", value=formatting.per_shot(d.last_per_shot, t.language)))
        return "; ".join(parts) + "."
    shown = min(d.scored, window)
    parts.append(
        t("insight.mean", mean=formatting.per_shot(d.mean_per_shot, t.language), count=shown)
    )
    best, last = (
        formatting.per_shot(d.best_per_shot, t.language),
        formatting.per_shot(d.last_per_shot, t.language),
    )
    parts.append(t("insight.best_last", best=best, last=last))
    parts.append(trend(t, d.trend))
    if d.spread is not None:
        parts.append(t("insight.spread", spread=formatting.per_shot(d.spread, t.language)))
    return "; ".join(parts) + "."


def weapon_name(weapons: Mapping[int, Weapon], weapon_id: int) -> str:
    """A weapon's name, and nothing else of it (never serial, storage or notes)."""
    weapon = weapons.get(weapon_id)
    return "?" if weapon is None else short(weapon.name)


def short(text: str, limit: int = limits.MAX_NAME) -> str:
    """One line of at most ``limit`` characters: a long name or question cannot crowd out
    the numbers, and a newline in it cannot fake a line of its own."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quote(question: str) -> str:
    return short(question, MAX_QUOTE)


def period(since: date | None, until: date | None, t: Translator) -> str:
    if since and until:
        return t(
            "coach.between",
            since=formatting.long_day(since, t.language),
            until=formatting.long_day(until, t.language),
        )
    if since:
        return t("coach.since", since=formatting.long_day(since, t.language))
    if until:
        return t("coach.until", until=formatting.long_day(until, t.language))
    return ""
