"""The statistics fallback (aimtrack.core.fallback): texts from the shooter's own numbers, in
Dutch and English, that never leak a weapon's secrets and always fit the answer schemas."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import date, timedelta

import pytest

from aimtrack.ai.schemas import CoachAnswerOut, InsightOut, ReflectionOut
from aimtrack.core import fallback_texts
from aimtrack.core.fallback import coach_answer, reflection, weapon_insight
from aimtrack.core.model import (
    AnswerText,
    CompetitionType,
    InsightText,
    Language,
    ReflectionText,
    ShootingSession,
    Weapon,
)
from tests.helpers import factories
from tests.helpers.factories import CZ, WALTHER, entry, session, weekly

NL, EN = Language.NL, Language.EN
TODAY = date(2026, 11, 23)
GONE = 3
SECRETS = ("SERIAL-7731-XK", "Kluis zolder", "NOTE-do-not-share")


def weapon(
    weapon_id: int, name: str, *, licensed: bool = True, retired_on: date | None = None
) -> Weapon:
    """A pistol carrying every secret a weapon can hold, so that a leak would show."""
    serial, storage, notes = SECRETS
    return factories.weapon(
        weapon_id,
        name,
        licensed=licensed,
        retired_on=retired_on,
        serial_number=serial,
        storage_location=storage,
        notes=notes,
    )


WEAPONS = {CZ: weapon(CZ, "CZ 75"), WALTHER: weapon(WALTHER, "Walther LG")}


Made = ReflectionText | InsightText | AnswerText
SCHEMAS = {ReflectionText: ReflectionOut, InsightText: InsightOut, AnswerText: CoachAnswerOut}


def texts(answer: Made) -> str:
    return "\n".join(str(value) for value in asdict(answer).values())


def fields_fit(answer: Made) -> None:
    """Every field is non-empty and the answer passes the schema a model's answer must pass
    (which holds the length limits)."""
    for name, value in asdict(answer).items():
        assert value.strip(), name
    SCHEMAS[type(answer)].model_validate(asdict(answer))


# --- reflection --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            NL,
            [
                "Sessie van 20-11-2026 bij SV Doel: 2 wapenregels, 90 schoten.",
                "• CZ 75 op 25 m: 50 schoten, score 431 (8,62 per schot), KNSA-wedstrijd",
                "• Walther LG op 10 m: 40 schoten, score 380,5 (9,51 per schot)",
            ],
        ),
        (
            EN,
            [
                "Session of 20 Nov 2026 at SV Doel: 2 weapon lines, 90 shots.",
                "• CZ 75 at 25 m: 50 shots, score 431 (8.62 per shot), KNSA match",
                "• Walther LG at 10 m: 40 shots, score 380.5 (9.51 per shot)",
            ],
        ),
    ],
)
def test_summary(language: Language, expected: list[str]) -> None:
    current = session(
        9,
        date(2026, 11, 20),
        entry(CZ, 25, 50, "431", competition=CompetitionType.KNSA),
        entry(WALTHER, 10, 40, "380.5", position=1),
        club="SV Doel",
    )
    out = reflection(current, [], WEAPONS, today=TODAY, language=language)
    assert out.summary.splitlines() == expected


@pytest.mark.parametrize(
    ("language", "best", "above"),
    [
        (
            NL,
            "CZ 75 op 25 m: nieuw persoonlijk record, 8,62 per schot (vorige beste 8,60).",
            "Walther LG op 10 m: 9,50 per schot, 0,25 boven je gemiddelde (9,25 over 2 eerdere "
            "resultaten).",
        ),
        (
            EN,
            "CZ 75 at 25 m: new personal best, 8.62 per shot (previous best 8.60).",
            "Walther LG at 10 m: 9.50 per shot, 0.25 above your mean (9.25 over 2 earlier "
            "results).",
        ),
    ],
)
def test_went_well_names_records_and_results_above_the_mean(
    language: Language, best: str, above: str
) -> None:
    history = [
        *weekly("420", "425", "430"),  # 8.40 8.50 8.60
        session(10, date(2026, 2, 1), entry(WALTHER, 10, 40, "360")),  # 9.00
        session(11, date(2026, 2, 2), entry(WALTHER, 10, 40, "380")),  # 9.50, the best
    ]
    current = session(
        20, date(2026, 6, 1), entry(CZ, score="431"), entry(WALTHER, 10, 40, "380", position=1)
    )
    out = reflection(current, history, WEAPONS, today=TODAY, language=language)
    assert out.went_well.splitlines() == [best, above]


@pytest.mark.parametrize(
    ("language", "below", "no_score", "focus"),
    [
        (
            NL,
            "CZ 75 op 25 m: 8,30 per schot, 0,20 onder je gemiddelde (8,50 over 3 eerdere "
            "resultaten).",
            "Walther LG op 10 m: geen score vastgelegd. Voeg scores toe om sessies te kunnen "
            "vergelijken.",
            "Focus volgende keer op CZ 75 op 25 m: daar lag je het verst onder je gemiddelde.",
        ),
        (
            EN,
            "CZ 75 at 25 m: 8.30 per shot, 0.20 below your mean (8.50 over 3 earlier results).",
            "Walther LG at 10 m: no score logged. Add scores to compare sessions.",
            "Next time, focus on CZ 75 at 25 m: that is where you were furthest below your mean.",
        ),
    ],
)
def test_needs_improvement_and_focus_name_what_fell_below(
    language: Language, below: str, no_score: str, focus: str
) -> None:
    history = weekly("420", "425", "430")
    current = session(
        20, date(2026, 6, 1), entry(CZ, score="415"), entry(WALTHER, 10, 40, position=1)
    )
    out = reflection(current, history, WEAPONS, today=TODAY, language=language)
    assert out.needs_improvement.splitlines() == [below, no_score]
    assert out.next_focus.splitlines()[0] == focus
    assert "CZ 75" not in out.went_well  # nothing above the mean


def test_a_falling_and_varying_series_is_named() -> None:
    history = weekly("480", "450", "420", "390")  # 9.60 9.00 8.40 7.80
    current = session(20, date(2026, 6, 1), entry(CZ, score="360"))  # 7.20
    out = reflection(current, history, WEAPONS, today=TODAY, language=EN)
    lines = out.needs_improvement.splitlines()
    assert "CZ 75 at 25 m: the trend is down over the last 5 results." in lines
    assert "CZ 75 at 25 m: results vary a lot (spread 0.85 per shot over 5)." in lines


def test_first_session_is_a_baseline() -> None:
    current = session(1, TODAY, entry(CZ, score="431"))
    out = reflection(current, [], WEAPONS, today=TODAY, language=NL)
    assert out.went_well == "CZ 75 op 25 m: eerste score, 8,62 per schot. Dit is je vertrekpunt."
    assert out.needs_improvement.startswith("Nog te weinig eerdere scores")
    assert out.next_focus.startswith("Probeer volgende keer CZ 75 op 25 m te herhalen: 8,62")


def test_a_result_equal_to_the_mean_is_steady() -> None:
    history = weekly("431", "431", "431")
    current = session(20, date(2026, 6, 1), entry(CZ, score="431"))
    out = reflection(current, history, WEAPONS, today=TODAY, language=EN)
    assert out.went_well.startswith("No result above your earlier mean")
    assert out.needs_improvement.startswith("Nothing stands out")


def test_without_any_score() -> None:
    current = session(1, TODAY, entry(CZ, shots=50), entry(WALTHER, 10, 40, position=1))
    out = reflection(current, [], WEAPONS, today=TODAY, language=EN)
    assert out.summary.splitlines()[1] == "• CZ 75 at 25 m: 50 shots, no score"
    assert out.went_well == "You fired 90 shots. Every shooting day counts toward your licence."
    assert "Add scores to compare sessions." in out.needs_improvement
    assert out.next_focus.startswith("Next time, log the score for CZ 75 at 25 m")
    fields_fit(out)


def test_a_session_without_entries() -> None:
    out = reflection(session(1, TODAY), [], WEAPONS, today=TODAY, language=NL)
    assert out.summary == "Sessie van 23-11-2026: geen wapenregels vastgelegd."
    fields_fit(out)


def test_unknown_weapon_is_a_question_mark() -> None:
    out = reflection(session(1, TODAY, entry(99, score="400")), [], {}, today=TODAY, language=EN)
    assert out.summary.splitlines()[1].startswith("• ? at 25 m: 50 shots")


@pytest.mark.parametrize(
    ("language", "days", "expected"),
    [
        (
            NL,
            12,
            "Verlof: 13 van 18 schietdagen in de laatste 12 maanden (sinds 24-11-2025); nog 5 "
            "nodig. Je oudste getelde dag (01-02-2026) valt op 01-02-2027 uit de telling.",
        ),
        (
            EN,
            12,
            "Licence: 13 of 18 shooting days in the last 12 months (since 24 Nov 2025); 5 more "
            "needed. Your oldest counted day (1 Feb 2026) drops out of the count on 1 Feb 2027.",
        ),
        (
            EN,
            17,
            "Licence: 18 shooting days in the last 12 months (since 24 Nov 2025); the 18 "
            "required are met. Your oldest counted day (1 Feb 2026) drops out of the count on "
            "1 Feb 2027.",
        ),
        (
            NL,
            30,
            "Verlof: 31 schietdagen in de laatste 12 maanden (sinds 24-11-2025); de 18 zijn "
            "gehaald.",
        ),
    ],
)
def test_next_focus_reports_licence_days(language: Language, days: int, expected: str) -> None:
    history = [session(i + 1, date(2026, 2, 1) + timedelta(days=i), entry()) for i in range(days)]
    history.append(session(999, date(2025, 11, 23), entry()))  # exactly a year ago: not counted
    current = session(1000, TODAY, entry(score="400"))
    out = reflection(current, history, WEAPONS, today=TODAY, language=language)
    assert expected in out.next_focus.splitlines()


@pytest.mark.parametrize(
    ("language", "knsa", "club", "expected"),
    [
        (
            NL,
            1,
            2,
            "Wedstrijden 2026: 1 KNSA en 2 club; nodig zijn 3 KNSA of 5 club, dus nog 2 KNSA of "
            "3 club.",
        ),
        (
            EN,
            3,
            0,
            "Matches 2026: 3 KNSA and 0 club; the requirement (3 KNSA or 5 club) is met.",
        ),
    ],
)
def test_next_focus_reports_matches(
    language: Language, knsa: int, club: int, expected: str
) -> None:
    history = [
        session(i + 1, date(2026, 3, 1 + i), entry(competition=CompetitionType.KNSA))
        for i in range(knsa)
    ] + [
        session(50 + i, date(2026, 4, 1 + i), entry(competition=CompetitionType.CLUB))
        for i in range(club)
    ]
    current = session(100, TODAY, entry(score="400"))
    out = reflection(current, history, WEAPONS, today=TODAY, language=language)
    assert out.next_focus.splitlines()[-1] == expected


# --- weapon insight ----------------------------------------------------------------------


def test_insight_trends_per_distance() -> None:
    history = [
        *weekly("420", "425", "430"),
        session(10, date(2026, 3, 1), entry(CZ, 50, 30)),
        session(11, date(2026, 11, 1), entry(WALTHER, 10, 40, "380")),  # another weapon
    ]
    out = weapon_insight(WEAPONS[CZ], history, today=date(2026, 3, 10), language=NL)
    assert out.trends.splitlines() == [
        "CZ 75: 4 sessies, 180 schoten, van 05-01-2026 tot en met 01-03-2026.",
        "• 25 m: 3 sessies, 150 schoten; gemiddeld 8,50 per schot (laatste 3); beste 8,60, "
        "laatste 8,60; stijgend; spreiding 0,08.",
        "• 50 m: 1 sessie, 30 schoten; geen scores.",
    ]
    assert out.typical_issues == "50 m: 30 schoten zonder enige score."
    assert out.recommendations.splitlines() == [
        "Noteer scores op 50 m, dan zijn trends te berekenen.",
        "Met een ingestelde AI-server kan AimTrack ook je notities meewegen en meer vertellen.",
    ]


def test_insight_names_what_the_numbers_show() -> None:
    history = weekly("480", "440", "470", "400", "380")  # 9.60 8.80 9.40 8.00 7.60
    out = weapon_insight(WEAPONS[CZ], history, today=date(2026, 2, 10), language=EN)
    issues = out.typical_issues.splitlines()
    assert issues == [
        "25 m: falling trend over the last 5 results.",
        "25 m: the last result (7.60) is 1.08 below your recent mean (8.68).",
        "25 m: large spread between sessions (0.78 per shot).",
    ]
    advice = out.recommendations.splitlines()
    assert advice[0] == "Check your notes for what was different in your last sessions at 25 m."
    assert len(advice) == len(set(advice)) == 3  # the same advice is not given twice
    assert advice[-1].startswith("With an AI server configured")


@pytest.mark.parametrize(
    ("licensed", "retired_on", "advice"),
    [
        (True, None, "Plan a session with CZ 75 soon: the police may ask whether every weapon"),
        (False, None, "Plan another session with CZ 75 soon if you want to keep using it."),
        (True, date(2026, 6, 1), None),
    ],
)
def test_insight_flags_a_long_break_unless_retired(
    licensed: bool, retired_on: date | None, advice: str | None
) -> None:
    history = weekly("430", "431", "430")  # last on 19 Jan 2026
    gun = weapon(CZ, "CZ 75", licensed=licensed, retired_on=retired_on)
    out = weapon_insight(gun, history, today=TODAY, language=EN)
    gap = "Not used for 308 days (last on 19 Jan 2026)."
    if advice is None:
        assert gap not in out.typical_issues
        assert out.typical_issues.startswith("The numbers show no problems")
        assert out.recommendations.startswith("Keep going")
    else:
        assert gap in out.typical_issues.splitlines()
        assert out.recommendations.startswith(advice)


def test_insight_with_few_scores_and_without_history() -> None:
    few = weapon_insight(WEAPONS[CZ], weekly("430"), today=date(2026, 1, 10), language=NL)
    assert few.trends.splitlines()[1] == "• 25 m: 1 sessie, 50 schoten; 1 score: 8,60 per schot."
    assert few.typical_issues == "25 m: pas 1 score, te weinig voor een trend."
    assert few.recommendations.startswith("Nog 2 scores op 25 m")
    empty = weapon_insight(WEAPONS[CZ], [], today=TODAY, language=EN)
    assert empty.trends == "No sessions with CZ 75 yet."
    assert empty.typical_issues == "Without sessions there are no patterns to see yet."
    assert "AI server" in empty.recommendations


# --- coach -------------------------------------------------------------------------------


def test_coach_says_it_cannot_answer_and_gives_the_numbers() -> None:
    history = [
        session(1, date(2026, 1, 10), entry(CZ, shots=50), entry(WALTHER, 10, 40)),
        session(2, date(2026, 2, 10), entry(CZ, shots=30)),
        session(3, date(2026, 12, 1), entry(CZ, shots=999)),  # after today: never counted
    ]
    question = "Waarom trek ik\nnaar links met de CZ?"
    out = coach_answer(question, history, WEAPONS, today=TODAY, language=NL)
    assert out.answer.splitlines() == [
        'Zonder AI-server kan ik een vrije vraag als "Waarom trek ik naar links met de CZ?" niet '
        "beantwoorden. Dit zijn je cijfers:",
        "2 sessies op 2 dagen, 120 schoten.",
        "• CZ 75: 80 schoten op 2 dagen",
        "• Walther LG: 40 schoten op 1 dag",
        "Verlof: 2 van 18 schietdagen in de laatste 12 maanden (sinds 24-11-2025); nog 16 nodig. "
        "Je oudste getelde dag (10-01-2026) valt op 10-01-2027 uit de telling.",
        "Wedstrijden 2026: 0 KNSA en 0 club; nodig zijn 3 KNSA of 5 club, dus nog 3 KNSA of 5 "
        "club.",
        "Stel een AI-server in om zulke vragen echt beantwoord te krijgen.",
    ]


def test_coach_for_one_weapon_in_a_period() -> None:
    history = [
        *weekly("400", "420", "440"),  # 5, 12 and 19 Jan
        session(9, date(2026, 1, 12), entry(WALTHER, 10, 40, "380")),
    ]
    out = coach_answer(
        "why left?",
        history,
        WEAPONS,
        today=TODAY,
        language=EN,
        weapon_id=CZ,
        since=date(2026, 1, 6),
        until=date(2027, 1, 1),
    )
    assert out.answer.splitlines() == [
        'Without an AI server I cannot answer a free question such as "why left?". These are '
        "your numbers for CZ 75 from 6 Jan 2026 to 1 Jan 2027:",
        "CZ 75: 2 sessions, 100 shots, from 12 Jan 2026 to 19 Jan 2026.",
        "• 25 m: 2 sessions, 100 shots; mean 8.60 per shot (last 2); best 8.80, last 8.80; "
        "too few scores for a trend; spread 0.20.",
        "Configure an AI server to get questions like this answered.",
    ]


def test_coach_quotes_a_long_question_briefly_and_handles_no_sessions() -> None:
    question = "waarom " * 100
    out = coach_answer(question, [], WEAPONS, today=TODAY, language=NL, since=date(2026, 1, 1))
    first, second, *_ = out.answer.splitlines()
    quoted = first.split('"')[1]
    assert len(quoted) == 80
    assert quoted.endswith("…")
    assert first.endswith("Dit zijn je cijfers sinds 01-01-2026:")
    assert second == "Geen sessies in deze periode."
    assert "Verlof" not in out.answer  # a scoped question may come with a scoped history


def test_coach_for_an_unknown_weapon() -> None:
    out = coach_answer("?", weekly("400"), {}, today=TODAY, language=EN, weapon_id=CZ)
    assert "your numbers for ?" in out.answer
    assert "CZ 75" not in out.answer


# --- privacy and size --------------------------------------------------------------------


def _everything(
    history: list[ShootingSession], weapons: Mapping[int, Weapon], language: Language
) -> list[Made]:
    current = history[-1]
    answers: list[Made] = [reflection(current, history, weapons, today=TODAY, language=language)]
    answers += [
        weapon_insight(w, history, today=TODAY, language=language) for w in weapons.values()
    ]
    answers.append(coach_answer("q", history, weapons, today=TODAY, language=language))
    answers += [
        coach_answer("q", history, weapons, today=TODAY, language=language, weapon_id=w)
        for w in weapons
    ]
    return answers


@pytest.mark.parametrize("language", [NL, EN])
def test_no_serial_storage_or_notes_in_any_text(language: Language) -> None:
    weapons = {
        CZ: weapon(CZ, "CZ 75"),
        WALTHER: weapon(WALTHER, "Walther LG", licensed=False),
        GONE: weapon(GONE, "Old rifle", retired_on=date(2026, 1, 1)),
    }
    history = [
        *weekly("420", "380", "450", None, "300"),
        session(20, date(2026, 3, 1), entry(WALTHER, 10, 40, "380"), entry(GONE, 100, 20)),
    ]
    answers = _everything(history, weapons, language)
    assert len(answers) == 8
    for answer in answers:
        text = texts(answer)
        for secret in SECRETS:
            assert secret not in text


@pytest.mark.parametrize("language", [NL, EN])
def test_a_huge_log_still_fits_every_field(language: Language) -> None:
    """300 weapons with names of the maximum length, 300 sessions, one with 300 entries."""
    weapons = {i: weapon(i, f"{i:03d} " + "W" * 96) for i in range(1, 301)}
    history = [
        session(
            i,
            TODAY - timedelta(days=i),
            entry(i, 25, 10_000, "109000.0" if i % 2 else None, competition=CompetitionType.KNSA),
        )
        for i in range(1, 301)
    ]
    big = session(
        1000,
        TODAY,
        *(
            entry(
                w,
                1 + w,
                10_000,
                str(50_000 + w * 100),
                position=w,
                competition=CompetitionType.CLUB,
            )
            for w in weapons
        ),
        club="C" * 200,
    )
    history.append(big)
    answers = _everything(history, weapons, language)
    for answer in answers:
        fields_fit(answer)
    first = answers[0]
    assert isinstance(first, ReflectionText)
    lines = first.summary.splitlines()
    shown = len(lines) - 2  # the head line and the "... and N more" line
    assert shown > 0
    assert lines[-1] == fallback_texts.translator(language)("more", count=300 - shown)
    assert isinstance(answers[1], InsightText)


def test_huge_numbers_read_well() -> None:
    current = session(2, TODAY, entry(CZ, 25, 10_000, "109000.0"))
    history = [session(1, date(2026, 1, 1), entry(CZ, 25, 10_000, "100000.0"))]
    out = reflection(current, history, WEAPONS, today=TODAY, language=NL)
    assert "• CZ 75 op 25 m: 10000 schoten, score 109000 (10,90 per schot)" in out.summary
    assert "nieuw persoonlijk record, 10,90 per schot (vorige beste 10,00)" in out.went_well
