"""Buttons that work outside any flow (``"!<name>:<arg>"``), under messages a job pushed long
after their turn: they carry no sequence number, so they never expire. Each looks its id up
through the user's own repositories, so a forged id finds nothing.

The flow the user is in stays as it was, its buttons on screen too (the conversation keeps
their sequence number).
"""

from __future__ import annotations

from typing import Final

from aimtrack.bot.ai_requests import request_insight, request_reflection
from aimtrack.bot.flow import Context, State, Turn, button_id, reply
from aimtrack.core.i18n import Catalogue
from aimtrack.core.model import SessionStatus
from aimtrack.jobs.reminders import STOP_ARG

TEXTS: Final[Catalogue] = {
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
    "reminders.stopped": (
        "Herinneringen staan uit; zet ze weer aan in /profiel.",
        "Reminders are off; switch them back on in /profile.",
    ),
}


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


async def stop_reminders(ctx: Context, state: State | None, arg: str) -> Turn:
    """The button under every reminder: reminders off."""
    if arg != STOP_ARG:
        return Turn([], state, notice=ctx.t("expired"))
    await ctx.profiles.set_reminders(on=False)
    return Turn([reply(ctx.t("reminders.stopped"))], state)
