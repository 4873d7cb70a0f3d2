"""What the AI jobs make and how it reads in the chat.

Three job kinds ask a model (or, without one, the statistics): a session's reflection, a
weapon's trends and a coach's answer. Each job carries a key per AI row or coach answer
(:func:`request_key`): asking again while a job for that row runs queues a new job and moves
the key to it, so the job holding the key is the latest request, and only that one saves and
sends its result.

Every AI message says where it came from — the model and server, or "computed without AI" for
the statistics fallback (with the reason when the AI failed) — and ends with the safety
reminder. The buttons under a pushed message are flow-independent actions (``!name:arg``, see
``aimtrack.bot.actions``), so they still work days later.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from aimtrack.ai.client import AIError
from aimtrack.ai.coach import ShooterCoach
from aimtrack.bot.io import Button, Reply
from aimtrack.core import formatting
from aimtrack.core.i18n import Catalogue, Translator
from aimtrack.core.model import (
    AIAudit,
    AIStatus,
    CoachMessage,
    Reflection,
    ShootingSession,
    Weapon,
    WeaponInsight,
)
from aimtrack.jobs.services import JobServices
from aimtrack.jobs.worker import Failure, JobHandler

REFLECTION: Final = "reflection"
INSIGHT: Final = "weapon_insight"
ANSWER: Final = "coach_answer"
KINDS: Final = (REFLECTION, INSIGHT, ANSWER)  # what the AI quota counts
STATISTICS: Final = "statistics"  # the provider recorded for the fallback when no AI is set up
MAX_REASON: Final = 160
REGENERATE_REFLECTION: Final = "r"  # the actions of the buttons under a pushed AI message
REGENERATE_INSIGHT: Final = "t"
ASK_COACH: Final = "c"

TEXTS: Final[Catalogue] = {
    "ai.safety": (
        "⚠️ AI-advies vervangt nooit de veiligheidsregels van de baan of de aanwijzingen van "
        "de baancommandant.",
        "⚠️ AI advice never replaces the range safety rules or the range officer's instructions.",
    ),
    "ai.by_model": ("🤖 {model} via {provider}", "🤖 {model} via {provider}"),
    "ai.no_ai": (
        "📊 Berekend zonder AI, uit je eigen cijfers (er is geen AI ingesteld).",
        "📊 Computed without AI, from your own numbers (no AI is configured).",
    ),
    "ai.ai_failed": (
        "📊 Berekend zonder AI, uit je eigen cijfers: de AI lukte niet ({reason}).",
        "📊 Computed without AI, from your own numbers: the AI failed ({reason}).",
    ),
    "ai.reflection.title": (
        "🎯 Reflectie op je sessie van {date}",
        "🎯 Reflection on your session of {date}",
    ),
    "ai.reflection.went_well": ("✅ Ging goed", "✅ Went well"),
    "ai.reflection.improve": ("🔧 Kan beter", "🔧 Needs improvement"),
    "ai.reflection.next": ("➡️ Volgende keer", "➡️ Next time"),
    "ai.insight.title": ("📈 Trends van je {weapon}", "📈 Trends of your {weapon}"),
    "ai.insight.trends": ("Trends", "Trends"),
    "ai.insight.issues": ("Terugkerende punten", "Typical issues"),
    "ai.insight.advice": ("Aanbevelingen", "Recommendations"),
    "ai.answer.title": ("💬 Coach", "💬 Coach"),
    "ai.answer.more": (
        "Stel gerust een vervolgvraag: typ hem gewoon. /annuleer sluit dit gesprek.",
        "Feel free to ask a follow-up: just type it. /cancel closes this conversation.",
    ),
    "ai.regenerate": ("🔄 Opnieuw", "🔄 Again"),
    "ai.ask_coach": ("💬 Vraag de coach", "💬 Ask the coach"),
}


def source_line(t: Translator, audit: AIAudit) -> str:
    """Where the text came from: a model, or the statistics (and why)."""
    if audit.status is AIStatus.FAILED:
        reason = (audit.error or "?").splitlines()[0][:MAX_REASON]
        return t("ai.ai_failed", reason=reason)
    if audit.provider == STATISTICS or not audit.model:
        return t("ai.no_ai")
    return t("ai.by_model", model=audit.model, provider=audit.provider or "?")


def reflection_reply(
    t: Translator, session: ShootingSession, reflection: Reflection, weapons: Mapping[int, Weapon]
) -> Reply:
    names = dict.fromkeys(
        weapons[e.weapon_id].name if e.weapon_id in weapons else "?" for e in session.entries
    )
    title = t("ai.reflection.title", date=formatting.weekday(session.occurred_on, t.language))
    if names:
        title += f" ({', '.join(names)})"
    parts = [
        title,
        reflection.summary or "",
        _section(t("ai.reflection.went_well"), reflection.went_well),
        _section(t("ai.reflection.improve"), reflection.needs_improvement),
        _section(t("ai.reflection.next"), reflection.next_focus),
        source_line(t, reflection.audit),
        t("ai.safety"),
    ]
    buttons = (
        Button(t("ai.regenerate"), f"!{REGENERATE_REFLECTION}:{session.id}"),
        Button(t("ai.ask_coach"), f"!{ASK_COACH}:{session.id}"),
    )
    return Reply(_join(parts), (buttons,))


def insight_reply(t: Translator, weapon: Weapon, insight: WeaponInsight) -> Reply:
    parts = [
        t("ai.insight.title", weapon=weapon.name),
        _section(t("ai.insight.trends"), insight.trends),
        _section(t("ai.insight.issues"), insight.typical_issues),
        _section(t("ai.insight.advice"), insight.recommendations),
        source_line(t, insight.audit),
        t("ai.safety"),
    ]
    again = Button(t("ai.regenerate"), f"!{REGENERATE_INSIGHT}:{weapon.id}")
    return Reply(_join(parts), ((again,),))


def answer_reply(t: Translator, message: CoachMessage) -> Reply:
    audit = AIAudit(
        status=message.status or AIStatus.SUCCEEDED,
        provider=message.provider,
        model=message.model,
        error=message.error,
    )
    parts = [
        t("ai.answer.title"),
        message.content,
        source_line(t, audit),
        t("ai.answer.more"),
        t("ai.safety"),
    ]
    return Reply(_join(parts))


def _section(title: str, text: str | None) -> str:
    return f"{title}: {text}" if text else ""


def _join(parts: list[str]) -> str:
    return "\n\n".join(part for part in parts if part)


def request_key(user_id: int, kind: str, ident: int) -> str:
    """The idempotency key of a job: per user, kind and session, weapon or coach message."""
    return f"{user_id}:{kind}:{ident}"


class AIJob(JobHandler):
    """What the three AI job kinds share: the services, the coach (None: no AI is configured,
    the statistics answer), the records of what they made, and how a model's error counts."""

    def __init__(self, jobs: JobServices, coach: ShooterCoach | None) -> None:
        self.jobs = jobs
        self.coach = coach

    def classify(self, error: Exception) -> Failure:
        if isinstance(error, AIError):  # the model or its server: expected now and then
            return Failure(
                str(error), retryable=error.retryable, retry_after=error.retry_after, expected=True
            )
        return super().classify(error)

    def audit(self) -> AIAudit:
        """The record of a result just made: by the model, or by the statistics."""
        now = self.jobs.clock.now()
        if self.coach is None:
            return AIAudit(status=AIStatus.SUCCEEDED, provider=STATISTICS, generated_at=now)
        return AIAudit(
            status=AIStatus.SUCCEEDED,
            provider=self.coach.provider,
            model=self.coach.model_name,
            generated_at=now,
        )

    def failed_audit(self, error: str) -> AIAudit:
        """The record of a request that failed for good (its text is the statistics')."""
        return AIAudit(
            status=AIStatus.FAILED,
            provider=self.coach.provider if self.coach else STATISTICS,
            model=self.coach.model_name if self.coach else None,
            error=error,
            generated_at=self.jobs.clock.now(),
        )
