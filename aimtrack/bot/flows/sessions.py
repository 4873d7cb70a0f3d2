"""/sessies: the user's sessions a page at a time → one session → edit or delete.

The page shows date, club, weapons and shots; one session shows its entries, photos (sent
along) and the AI reflection's status, with "show reflection" once it has text (the AI's, or
the statistics fallback after a failure). Edit loads it into the guided session flow's menu;
delete asks for confirmation and removes the session's files after the commit.
"""

from __future__ import annotations

from typing import Final

from aimtrack.bot.flow import Context, State, StoredUpload, Turn, reply
from aimtrack.bot.flows import draft
from aimtrack.bot.flows.session import SessionFlow
from aimtrack.bot.io import OutFile, Reply
from aimtrack.core import formatting
from aimtrack.core.i18n import Catalogue
from aimtrack.core.model import (
    AIStatus,
    AttachmentOwner,
    Reflection,
    SessionStatus,
    ShootingSession,
    Weapon,
)
from aimtrack.jobs.ai_results import reflection_reply
from aimtrack.storage.repos import AIRepo

PAGE: Final = 5

TEXTS: Final[Catalogue] = {
    "sessions.none": (
        "Je hebt nog geen sessies. Log er een met /sessie of typ hem in één regel.",
        "You have no sessions yet. Log one with /session or type it on one line.",
    ),
    "sessions.page": (
        "Je sessies ({first}–{last} van {total}). Kies er een:",
        "Your sessions ({first}–{last} of {total}). Pick one:",
    ),
    "sessions.draft": ("concept", "draft"),
    "sessions.older": ("◀ Ouder", "◀ Older"),
    "sessions.newer": ("Nieuwer ▶", "Newer ▶"),
    "sessions.shots": ("{shots} sch.", "{shots} sh."),
    "sessions.ai": ("AI-reflectie: {status}", "AI reflection: {status}"),
    "sessions.ai.none": ("nog niet gemaakt", "not made yet"),
    "sessions.ai.pending": ("wordt gemaakt", "being made"),
    "sessions.ai.running": ("wordt nu gemaakt", "being made now"),
    "sessions.ai.succeeded": ("klaar", "ready"),
    "sessions.ai.failed": ("mislukt", "failed"),
    "sessions.edit": ("✎ Wijzigen", "✎ Edit"),
    "sessions.delete": ("🗑 Verwijderen", "🗑 Delete"),
    "sessions.reflection": ("🎯 Reflectie tonen", "🎯 Show reflection"),
    "sessions.back": ("◀ Terug", "◀ Back"),
    "sessions.confirm_delete": (
        "Sessie van {date} met {entries:# wapenregel|# wapenregels} en {photos:# foto|# foto's} "
        "echt verwijderen? "
        "Dit kan niet ongedaan worden gemaakt.",
        "Really delete the session of {date} with {entries:# line|# lines} and "
        "{photos:# photo|# photos}? "
        "This cannot be undone.",
    ),
    "sessions.yes_delete": ("Ja, verwijderen", "Yes, delete"),
    "sessions.no": ("Nee", "No"),
    "sessions.deleted": ("Sessie verwijderd.", "Session deleted."),
    "sessions.upload_here": (
        "Foto's horen bij een sessie: kies ✎ Wijzigen en stuur hem dan.",
        "Photos belong to a session: pick ✎ Edit and send it then.",
    ),
}


class SessionsFlow:
    name = "sessions"

    async def start(self, ctx: Context, args: str) -> Turn:
        return await self._page(ctx, State(self.name, "list", {"off": 0}))

    async def prompt(self, ctx: Context, state: State) -> Turn:
        if state.step == "view":
            return await self._view(ctx, state, int(state.data["sid"]))
        return await self._page(ctx, state)

    async def on_cancel(self, ctx: Context, state: State) -> Turn:
        return Turn([reply(ctx.t("cancelled"))], None)

    async def on_text(self, ctx: Context, state: State, text: str) -> Turn:
        turn = await self.prompt(ctx, state)
        turn.replies.insert(0, reply(ctx.t("session.use_buttons")))
        return turn

    async def on_upload(self, ctx: Context, state: State, upload: StoredUpload) -> Turn:
        return Turn([reply(ctx.t("sessions.upload_here"))], state)

    async def on_press(  # noqa: PLR0911 -- one return per button
        self, ctx: Context, state: State, action: str
    ) -> Turn:
        verb, _, arg = action.partition(":")
        if verb == "p" and arg.isdecimal():
            state.data["off"] = int(arg)
            return await self._page(ctx, state)
        if verb == "v" and arg.isdecimal():
            return await self._view(ctx, state, int(arg))
        if verb == "del":
            return await self._ask_delete(ctx, state)
        if verb == "refl" and state.step == "view":
            return await self._reflection(ctx, state)
        if verb == "yes":
            paths = await ctx.sessions.delete(int(state.data["sid"]))
            turn = await self._page(ctx, State(self.name, "list", {"off": 0}))
            turn.replies.insert(0, reply(ctx.t("sessions.deleted")))
            turn.remove_files = paths
            return turn
        if verb == "edit":
            session = await ctx.sessions.get(int(state.data["sid"]))
            return await SessionFlow().prompt(
                ctx, State(SessionFlow.name, "menu", draft.from_session(session))
            )
        return await self._page(ctx, state)

    async def _page(self, ctx: Context, state: State) -> Turn:
        t = ctx.t
        total = await ctx.sessions.count()
        if total == 0:
            return Turn([reply(t("sessions.none"))], None)
        offset = min(max(0, int(state.data.get("off", 0))), (total - 1) // PAGE * PAGE)
        state.data = {"off": offset}
        state.step = "list"
        page = await ctx.sessions.list_sessions(limit=PAGE, offset=offset)
        weapons = await ctx.weapon_index()
        rows = [[ctx.button(_label(ctx, s, weapons)[:60], f"v:{s.id}")] for s in page]
        nav = []
        if offset + PAGE < total:
            nav.append(ctx.button(t("sessions.older"), f"p:{offset + PAGE}"))
        if offset > 0:
            nav.append(ctx.button(t("sessions.newer"), f"p:{max(0, offset - PAGE)}"))
        text = t("sessions.page", first=offset + 1, last=offset + len(page), total=total)
        return Turn([reply(text, *rows, nav)], state)

    async def _reflection(self, ctx: Context, state: State) -> Turn:
        """The session's reflection as it was pushed, then the session again (without its
        photos, already shown) so its buttons stay at hand."""
        session = await ctx.sessions.get(int(state.data["sid"]))
        reflection = await AIRepo(ctx.db, ctx.user_id).reflection(session.id)
        if reflection is None or not _readable(reflection):
            return await self._view(ctx, state, session.id)
        shown = reflection_reply(ctx.t, session, reflection, await ctx.weapon_index())
        turn = await self._view(ctx, state, session.id, photos=False)
        turn.replies.insert(0, shown)
        return turn

    async def _view(
        self, ctx: Context, state: State, session_id: int, *, photos: bool = True
    ) -> Turn:
        t = ctx.t
        session = await ctx.sessions.get(session_id)  # NotFound for another user's id
        attached = await ctx.attachments.list_for(AttachmentOwner.SESSION, session.id)
        reflection = await AIRepo(ctx.db, ctx.user_id).reflection(session.id)
        status = "none" if reflection is None else reflection.audit.status.value
        lines = await draft.entry_lines(ctx, draft.from_session(session))
        parts = [
            t(
                "session.header",
                date=formatting.weekday(session.occurred_on, ctx.profile.language),
                club=session.club or t("session.no_club"),
            ),
            *lines,
        ]
        if session.status is SessionStatus.DRAFT:
            parts[0] += f" ({t('sessions.draft')})"
        if session.notes:
            parts.append(t("session.notes_line", notes=session.notes))
        parts.append(t("session.photos", count=len(attached)))
        parts.append(t("sessions.ai", status=t(f"sessions.ai.{status}")))
        state.step = "view"
        state.data = {"off": state.data.get("off", 0), "sid": session.id}
        files = tuple(
            OutFile(ctx.data_dir / photo.path, photo.mime != "application/pdf", photo.original_name)
            for photo in (attached if photos else [])
        )
        rows = [
            (ctx.button(t("sessions.edit"), "edit"), ctx.button(t("sessions.delete"), "del")),
            (ctx.button(t("sessions.back"), f"p:{state.data['off']}"),),
        ]
        if reflection is not None and _readable(reflection):
            rows.insert(0, (ctx.button(t("sessions.reflection"), "refl"),))
        return Turn([Reply("\n".join(parts), tuple(rows), files)], state)

    async def _ask_delete(self, ctx: Context, state: State) -> Turn:
        t = ctx.t
        session = await ctx.sessions.get(int(state.data["sid"]))
        photos = await ctx.attachments.list_for(AttachmentOwner.SESSION, session.id)
        text = t(
            "sessions.confirm_delete",
            date=formatting.weekday(session.occurred_on, ctx.profile.language),
            entries=len(session.entries),
            photos=len(photos),
        )
        buttons = [
            ctx.button(t("sessions.yes_delete"), "yes"),
            ctx.button(t("sessions.no"), "v:" + str(session.id)),
        ]
        return Turn([reply(text, buttons)], state)


def _readable(reflection: Reflection) -> bool:
    """Whether there is a text to show: the AI's, or the fallback written when it failed."""
    texts = (
        reflection.summary,
        reflection.went_well,
        reflection.needs_improvement,
        reflection.next_focus,
    )
    finished = reflection.audit.status in {AIStatus.SUCCEEDED, AIStatus.FAILED}
    return finished and any(texts)


def _label(ctx: Context, session: ShootingSession, weapons: dict[int, Weapon]) -> str:
    named = (weapons[e.weapon_id].name if e.weapon_id in weapons else "?" for e in session.entries)
    names = ", ".join(dict.fromkeys(named))
    shots = sum(e.shots for e in session.entries)
    parts = [f"{session.occurred_on:%d-%m-%Y}", session.club or "", names]
    if shots:
        parts.append(ctx.t("sessions.shots", shots=shots))
    if session.status is SessionStatus.DRAFT:
        parts.append(ctx.t("sessions.draft"))
    return " · ".join(part for part in parts if part)
