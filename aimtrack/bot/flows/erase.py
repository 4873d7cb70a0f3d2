"""/verwijder (/delete): erase everything AimTrack keeps of the user, after a typed word.

Steps (``State.step``; ``data["asked"]``: when the question was shown, ISO 8601 UTC):

- the command shows what will go (counts of sessions, weapons, files, …) and asks the user to
  type the word (``VERWIJDER``, or ``DELETE``; either, in any case); a button only says no.
- ``confirm``: the word, typed within :data:`CONFIRM_WITHIN`, erases every row of the user in
  the turn's transaction (:meth:`~aimtrack.storage.repos.userdata.UserDataRepo.erase`) and
  queues the removal of their files in it (:mod:`aimtrack.jobs.erase`), which runs once
  the turn has committed. Any other text, a late word, the button or /annuleer end the flow
  and nothing is deleted. No button can erase: a press, forged or not, at most shows the
  question again.

What the user is told afterwards, and what stays elsewhere, is in ``docs/data-rights.md``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Final

from aimtrack.bot.flow import Context, State, StoredUpload, Turn, reply
from aimtrack.core.i18n import Catalogue
from aimtrack.core.model import Language
from aimtrack.jobs.erase import ERASE_ATTEMPTS, ERASE_FILES, erase_payload
from aimtrack.jobs.mydata import mydata_key
from aimtrack.storage.repos import JobQueue, UserDataRepo

log = logging.getLogger(__name__)

NAME: Final = "erase"
CONFIRM_WITHIN: Final = timedelta(minutes=10)
_QUOTES: Final = " \t\r\n.!'\"‘’“”"

TEXTS: Final[Catalogue] = {
    "cmd.erase": ("verwijder al je gegevens", "delete all your data"),
    "erase.word": ("VERWIJDER", "DELETE"),
    "erase.ask": (
        "⚠️ Hiermee verwijder je alles wat AimTrack van je bewaart, voorgoed:\n"
        "• sessies: {sessions} (wapenregels: {entries})\n"
        "• wapens: {weapons}, met serienummers en bewaarplaatsen\n"
        "• foto's en pdf's: {files}\n"
        "• AI-reflecties en wapeninzichten: {ai}\n"
        "• coachgesprekken: {threads} (berichten: {messages})\n"
        "• je profiel, je herinneringen en je openstaande taken\n\n"
        "Dit kan niet ongedaan worden gemaakt. Wil je eerst een kopie? Stuur dan /mijndata en "
        "wacht op het bestand.\n\n"
        "Typ {word} om alles te wissen. Al het andere stopt zonder iets te verwijderen.",
        "⚠️ This deletes everything AimTrack keeps of you, for good:\n"
        "• sessions: {sessions} (lines: {entries})\n"
        "• weapons: {weapons}, with serial numbers and storage places\n"
        "• photos and PDFs: {files}\n"
        "• AI reflections and weapon insights: {ai}\n"
        "• coach conversations: {threads} (messages: {messages})\n"
        "• your profile, your reminders and your pending tasks\n\n"
        "This cannot be undone. Want a copy first? Send /mydata and wait for the file.\n\n"
        "Type {word} to erase everything. Anything else stops without deleting anything.",
    ),
    "erase.copy_pending": (
        "⏳ Je kopie (/mijndata) is nog niet verstuurd. Wacht daar eerst op: na het "
        "verwijderen komt hij niet meer.",
        "⏳ Your copy (/mydata) has not been sent yet. Wait for it first: after deleting, it "
        "will not come any more.",
    ),
    "erase.btn.keep": ("Nee, niets verwijderen", "No, delete nothing"),
    "erase.kept": ("Goed, er is niets verwijderd.", "All right, nothing was deleted."),
    "erase.not_confirmed": (
        "Er is niets verwijderd: je typte niet {word}. Stuur /verwijder als je het opnieuw "
        "wilt proberen.",
        "Nothing was deleted: you did not type {word}. Send /delete if you want to try again.",
    ),
    "erase.too_late": (
        "Er is niets verwijderd: je antwoord kwam meer dan {minutes} minuten na de vraag. "
        "Stuur /verwijder om het opnieuw te vragen.",
        "Nothing was deleted: your answer came more than {minutes} minutes after the "
        "question. Send /delete to be asked again.",
    ),
    "erase.upload": (
        "Dit bestand heb ik niet bewaard. Typ {word} om alles te wissen, of /annuleer.",
        "I did not keep this file. Type {word} to erase everything, or /cancel.",
    ),
    "erase.done": (
        "🗑 Alles is verwijderd: je profiel, sessies: {sessions}, wapens: {weapons}, foto's en "
        "pdf's: {files}, en al het andere. Bedankt voor het gebruiken van AimTrack.\n\n"
        "Schrijf je me later weer, dan begin je met een leeg account (als de beheerder je dan "
        "nog toegang geeft). De berichten in deze chat wis je zelf in je chat-app. Back-ups "
        "die de beheerder eerder maakte, vallen hierbuiten.",
        "🗑 Everything is deleted: your profile, sessions: {sessions}, weapons: {weapons}, "
        "photos and PDFs: {files}, and everything else. Thank you for using AimTrack.\n\n"
        "If you write to me again later, you start with an empty account (if the owner still "
        "gives you access then). The messages in this chat you delete yourself in your chat "
        "app. Backups the owner made earlier are not affected.",
    ),
}


class EraseFlow:
    name = NAME

    async def start(self, ctx: Context, args: str) -> Turn:
        # Arguments are ignored: "/verwijder VERWIJDER" still shows what would go first.
        return await self._ask(ctx)

    async def prompt(self, ctx: Context, state: State) -> Turn:
        return await self._ask(ctx)

    async def on_cancel(self, ctx: Context, state: State) -> Turn:
        return Turn([reply(ctx.t("erase.kept"))], None)

    async def on_upload(self, ctx: Context, state: State, upload: StoredUpload) -> Turn:
        return Turn([reply(ctx.t("erase.upload", word=ctx.t("erase.word")))], state)

    async def on_press(self, ctx: Context, state: State, action: str) -> Turn:
        if action == "keep":
            return await self.on_cancel(ctx, state)
        return await self._ask(ctx)  # no button erases, whatever its data says

    async def on_text(self, ctx: Context, state: State, text: str) -> Turn:
        if state.step != "confirm" or not _is_the_word(ctx, text):
            return Turn([reply(ctx.t("erase.not_confirmed", word=ctx.t("erase.word")))], None)
        if not _in_time(ctx, state):
            minutes = int(CONFIRM_WITHIN.total_seconds() // 60)
            return Turn([reply(ctx.t("erase.too_late", minutes=minutes))], None)
        erased = await UserDataRepo(ctx.db, ctx.user_id).erase()
        await ctx.enqueue(
            ERASE_FILES, erase_payload(ctx.user_id), max_attempts=ERASE_ATTEMPTS, owned=False
        )
        log.info("user %s erased all their data", ctx.user_id)
        done = ctx.t(
            "erase.done",
            sessions=erased.get("sessions", 0),
            weapons=erased.get("weapons", 0),
            files=erased.get("attachments", 0),
        )
        return Turn([reply(done)], None)

    async def _ask(self, ctx: Context) -> Turn:
        t = ctx.t
        counts = await UserDataRepo(ctx.db, ctx.user_id).counts()
        text = t(
            "erase.ask",
            sessions=counts["sessions"],
            entries=counts["session_weapon_entries"],
            weapons=counts["weapons"],
            files=counts["attachments"],
            ai=counts["ai_reflections"] + counts["ai_weapon_insights"],
            threads=counts["coach_threads"],
            messages=counts["coach_messages"],
            word=t("erase.word"),
        )
        if await JobQueue(ctx.db).unfinished([mydata_key(ctx.user_id)]):
            text += "\n\n" + t("erase.copy_pending")
        keep = ctx.button(t("erase.btn.keep"), "keep")
        asked = State(NAME, "confirm", {"asked": ctx.clock.now().isoformat()})
        return Turn([reply(text, [keep])], asked)


def _is_the_word(ctx: Context, text: str) -> bool:
    """The confirmation word of either language, in any case, quotes and stops around it."""
    words = {ctx.t.with_language(language)("erase.word").casefold() for language in Language}
    return text.strip(_QUOTES).casefold() in words


def _in_time(ctx: Context, state: State) -> bool:
    try:
        asked = datetime.fromisoformat(str(state.data.get("asked")))
    except ValueError:
        return False
    if asked.tzinfo is None:
        return False
    return timedelta(0) <= ctx.clock.now() - asked <= CONFIRM_WITHIN
