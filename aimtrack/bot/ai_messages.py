"""How AI results read in the chat: reflections, weapon trends and coach answers.

Every AI message says where it came from — the model and server, or "computed without AI" for
the statistics fallback (with the reason when the AI failed) — and ends with the safety
reminder. The buttons under a pushed message are flow-independent actions (``!name:arg``), so
they still work days later.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from aimtrack.bot.ai_requests import request_insight, request_reflection
from aimtrack.bot.flow import Context, State, Turn, button_id, reply
from aimtrack.bot.io import Button, Reply
from aimtrack.core import formatting
from aimtrack.core.i18n import Catalogue, Translator
from aimtrack.core.model import (
    AIAudit,
    AIStatus,
    CoachMessage,
    Reflection,
    SessionStatus,
    ShootingSession,
    Weapon,
    WeaponInsight,
)

STATISTICS: Final = "statistics"  # the provider recorded for the fallback when no AI is set up
MAX_REASON: Final = 160

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
    "ai.regenerating": (
        "Ik maak een nieuwe reflectie; je krijgt hem zo als bericht.",
        "I'm making a new reflection; it will arrive as a message shortly.",
    ),
    "ai.insight_queued": (
        "Ik zet de trends van je {weapon} op een rij; je krijgt ze zo als bericht.",
        "I'm putting the trends of your {weapon} together; they will arrive as a message shortly.",
    ),
    "ai.draft_session": (
        "Deze sessie is nog een concept; sla hem eerst op met /sessie.",
        "This session is still a draft; save it first with /session.",
    ),
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
        Button(t("ai.regenerate"), f"!r:{session.id}"),
        Button(t("ai.ask_coach"), f"!c:{session.id}"),
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
    return Reply(_join(parts), ((Button(t("ai.regenerate"), f"!t:{weapon.id}"),),))


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


async def regenerate_reflection(ctx: Context, state: State | None, arg: str) -> Turn:
    """The "again" button under a reflection."""
    session = await ctx.sessions.get(button_id(arg))  # NotFound for another user's session
    if session.status is not SessionStatus.SAVED:
        return Turn([reply(ctx.t("ai.draft_session"))], state)
    await request_reflection(ctx, session.id)
    return Turn([reply(ctx.t("ai.regenerating"))], state)


async def regenerate_insight(ctx: Context, state: State | None, arg: str) -> Turn:
    """The "again" button under a weapon's trends."""
    weapon = await ctx.weapons.get(button_id(arg))
    await request_insight(ctx, weapon.id)
    return Turn([reply(ctx.t("ai.insight_queued", weapon=weapon.name))], state)


def _section(title: str, text: str | None) -> str:
    return f"{title}: {text}" if text else ""


def _join(parts: list[str]) -> str:
    return "\n\n".join(part for part in parts if part)
