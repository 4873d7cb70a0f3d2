"""Logging a session: the guided flow, and the confirm step shared with quick entry.

Guided, with defaults shown rather than asked (typical session in ≤ 10 actions)::

    /sessie → weapon (date today and the last club preselected; buttons change them)
            → distance (the weapon's last distances as buttons) → "50 431" (shots and score)
            → menu: another weapon · photo · notes · save

Photos are welcome at every step. A photo with no session open starts a "photo now, details
later" draft session in the database; /sessie offers to complete it. Quick entry (a plain
message) is parsed by :mod:`aimtrack.bot.quick`, asked about where unclear, and lands on the
confirm step: save · edit (→ the guided menu) · cancel.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Final

from aimtrack.bot import quick
from aimtrack.bot.ai_requests import quota_text, reflect_if_allowed
from aimtrack.bot.flow import Context, State, StoredUpload, Turn, button_id, chunked, reply
from aimtrack.bot.flows import draft
from aimtrack.bot.flows.draft import DraftEntry
from aimtrack.bot.flows.quick_entry import QuickEntryMixin
from aimtrack.bot.flows.session_texts import TEXTS
from aimtrack.bot.io import Button, Reply
from aimtrack.core import formatting, insight, limits
from aimtrack.core.errors import InvalidInput
from aimtrack.core.model import (
    AttachmentOwner,
    SessionSpec,
    SessionStatus,
    ShootingSession,
    Weapon,
    WeaponSpec,
    clean_text,
)

__all__ = ["TEXTS", "SessionFlow", "achievements"]

MAX_CLUBS: Final = 5
LONG_AGO: Final = date(1900, 1, 1)


class SessionFlow(QuickEntryMixin):
    name = "session"

    # --- entry points -------------------------------------------------------------------

    async def start(self, ctx: Context, args: str) -> Turn:
        drafts = await ctx.sessions.list_sessions(limit=1, status=SessionStatus.DRAFT)
        if drafts:
            found = drafts[0]
            photos = await ctx.attachments.list_for(AttachmentOwner.SESSION, found.id)
            state = State(self.name, "resume", {"resume": found.id})
            text = ctx.t(
                "session.resume",
                date=formatting.weekday(found.occurred_on, ctx.profile.language),
                photos=len(photos),
            )
            return Turn(
                [
                    reply(
                        text,
                        [
                            ctx.button(ctx.t("session.resume_yes"), "ry"),
                            ctx.button(ctx.t("session.resume_new"), "rn"),
                        ],
                    )
                ],
                state,
            )
        return await self._new(ctx, {})

    async def _new(self, ctx: Context, data: dict[str, Any]) -> Turn:
        clubs = await ctx.sessions.recent_clubs(limit=1)
        data.setdefault("on", ctx.today().isoformat())
        data.setdefault("club", clubs[0] if clubs else None)
        return await self._show(ctx, State(self.name, "weapon", data))

    async def prompt(self, ctx: Context, state: State) -> Turn:
        return await self._show(ctx, state)

    async def on_cancel(self, ctx: Context, state: State) -> Turn:
        text = ctx.t("session.cancelled_draft" if "sid" in state.data else "cancelled")
        return Turn([reply(text)], None, remove_files=draft.photo_paths(state.data))

    async def on_upload(self, ctx: Context, state: State, upload: StoredUpload) -> Turn:
        if not state.step:
            return await self._photo_now(ctx, upload)
        if state.step in {"offer", "resume"}:  # a "photo now" draft is open: add to it
            await ctx.attachments.add(draft.attachment_spec(int(state.data["resume"]), upload))
            ctx.upload_used = True
            return Turn([reply(ctx.t("session.photo_added_draft"))], state)
        if not draft.add_photo(state.data, upload):
            return Turn([reply(ctx.t("session.too_many_photos"))], state)
        ctx.upload_used = True
        count = len(state.data["photos"])
        turn = await self._show(ctx, state if state.step != "photo" else state.at("menu"))
        turn.replies.insert(0, reply(ctx.t("session.photo_added", count=count)))
        return turn

    async def _photo_now(self, ctx: Context, upload: StoredUpload) -> Turn:
        session = await ctx.sessions.create(
            SessionSpec(occurred_on=ctx.today(), status=SessionStatus.DRAFT)
        )
        await ctx.attachments.add(draft.attachment_spec(session.id, upload))
        ctx.upload_used = True
        state = State(self.name, "offer", {"resume": session.id})
        text = ctx.t(
            "session.photo_now", date=formatting.weekday(session.occurred_on, ctx.profile.language)
        )
        buttons = [
            ctx.button(ctx.t("session.fill_now"), "ry"),
            ctx.button(ctx.t("session.later"), "later"),
        ]
        return Turn([reply(text, buttons)], state)

    # --- input --------------------------------------------------------------------------

    async def on_text(self, ctx: Context, state: State, text: str) -> Turn:
        handler = {
            "": self.quick,
            "weapon": self._typed_weapon,
            "club": self._typed_club,
            "date": self._typed_date,
            "distance": self._typed_distance,
            "shots": self._typed_shots,
            "notes": self._typed_notes,
        }.get(state.step) or self.quick_text
        return await handler(ctx, state, text)

    async def on_press(  # noqa: PLR0911, PLR0912 -- one branch per button
        self, ctx: Context, state: State, action: str
    ) -> Turn:
        verb, _, arg = action.partition(":")
        data = state.data
        if verb == "ry":
            return await self._resume(ctx, state)
        if verb == "rn":
            return await self._new(ctx, {})
        if verb == "later":
            return Turn([reply(ctx.t("session.kept_for_later"))], None)
        if verb == "w":
            return await self._pick_weapon(ctx, state, button_id(arg))  # forged: not found
        if verb == "neww":
            return await self._new_weapon(ctx, state)
        if verb == "d":
            return await self._set_distance(ctx, state, button_id(arg))  # forged: out of range
        if verb == "c":
            clubs = await ctx.sessions.recent_clubs(limit=MAX_CLUBS)
            data["club"] = clubs[int(arg)] if arg.isdecimal() and int(arg) < len(clubs) else None
            return await self._show(ctx, state.at(_back(data)))
        if verb in {"today", "yday"}:
            day = ctx.today() - timedelta(days=1 if verb == "yday" else 0)
            data["on"] = day.isoformat()
            return await self._show(ctx, state.at(_back(data)))
        if verb == "del":
            items = draft.entries(data)
            if arg.isdecimal() and int(arg) < len(items):
                del items[int(arg)]
                draft.set_entries(data, items)
            return await self._show(ctx, state.at("menu"))
        if verb == "save":
            return await self._save(ctx, state)
        if verb in {"weapon", "club", "date", "photo", "notes", "menu", "remove"}:
            if verb in {"club", "date"}:
                data["back"] = state.step
            return await self._show(ctx, state.at(verb))
        if verb == "cancel":
            return await self.on_cancel(ctx, state)
        return await self.quick_press(ctx, state, verb, arg)

    async def _resume(self, ctx: Context, state: State) -> Turn:
        session = await ctx.sessions.get(int(state.data["resume"]))
        data = draft.from_session(session)
        if data.get("club") is None:
            clubs = await ctx.sessions.recent_clubs(limit=1)
            data["club"] = clubs[0] if clubs else None
        return await self._show(
            ctx, State(self.name, "weapon" if not session.entries else "menu", data)
        )

    async def _pick_weapon(self, ctx: Context, state: State, weapon_id: int) -> Turn:
        weapon = await ctx.weapons.get(weapon_id)  # NotFound for a forged id
        state.data["cur"] = {"w": weapon.id}
        return await self._show(ctx, state.at("distance"))

    async def _typed_weapon(self, ctx: Context, state: State, text: str) -> Turn:
        name = clean_text("name", text, max_len=limits.MAX_NAME * 10)
        if not name or len(name) > limits.MAX_NAME:
            return await self._again(ctx, state, "session.bad_weapon_name")
        wanted = _key(name)
        matches = [
            w
            for w in await ctx.weapons.list_weapons()
            if wanted in {_key(w.name), _key(w.nickname)}
        ]
        if len(matches) == 1:
            return await self._pick_weapon(ctx, state, matches[0].id)
        state.data["neww"] = name
        turn = await self._show(ctx, state)
        turn.replies[-1] = reply(
            ctx.t("session.unknown_weapon", name=name),
            [ctx.button(ctx.t("session.add_weapon", name=name[:30]), "neww")],
            *[list(row) for row in turn.replies[-1].buttons],
        )
        return turn

    async def _new_weapon(self, ctx: Context, state: State) -> Turn:
        name = state.data.pop("neww", None)
        if not isinstance(name, str):
            return await self._show(ctx, state)
        weapon = await ctx.weapons.add(WeaponSpec(name=name))
        turn = await self._pick_weapon(ctx, state, weapon.id)
        turn.replies.insert(0, reply(ctx.t("session.weapon_added", name=weapon.name)))
        return turn

    async def _typed_distance(self, ctx: Context, state: State, text: str) -> Turn:
        parsed = draft.parse_distance(text)
        if isinstance(parsed, str):
            return await self._again(ctx, state, parsed)
        return await self._set_distance(ctx, state, parsed)

    async def _set_distance(self, ctx: Context, state: State, distance: int) -> Turn:
        if not limits.MIN_DISTANCE_M <= distance <= limits.MAX_DISTANCE_M:
            return await self._again(ctx, state, "session.distance_range")
        current = state.data.get("cur")
        if not isinstance(current, dict):
            return await self._show(ctx, state.at("weapon"))
        current["d"] = distance
        return await self._show(ctx, state.at("shots"))

    async def _typed_shots(self, ctx: Context, state: State, text: str) -> Turn:
        parsed = draft.parse_shots_and_score(text)
        if isinstance(parsed, str):
            return await self._again(ctx, state, parsed)
        current = state.data.pop("cur", None)
        if not isinstance(current, dict) or "d" not in current:
            return await self._show(ctx, state.at("weapon"))
        items = draft.entries(state.data)
        if len(items) >= draft.MAX_ENTRIES:
            return await self._again(ctx, state.at("menu"), "session.too_many_entries")
        shots, score = parsed
        items.append(DraftEntry(current["w"], current["d"], shots, score))
        draft.set_entries(state.data, items)
        return await self._show(ctx, state.at("menu"))

    async def _typed_club(self, ctx: Context, state: State, text: str) -> Turn:
        try:
            club = clean_text("club", text, max_len=limits.MAX_SHORT_TEXT)
        except InvalidInput:
            return await self._again(ctx, state, "session.bad_club")
        state.data["club"] = club
        return await self._show(ctx, state.at(_back(state.data)))

    async def _typed_date(self, ctx: Context, state: State, text: str) -> Turn:
        found = quick.parse_day(text, ctx.today())
        if found is None or found[1] is quick.Problem.BAD_DATE:
            return await self._again(ctx, state, "session.bad_date")
        if found[1] is quick.Problem.FUTURE_DATE:
            return await self._again(ctx, state, "session.future_date")
        state.data["on"] = found[0].isoformat()
        return await self._show(ctx, state.at(_back(state.data)))

    async def _typed_notes(self, ctx: Context, state: State, text: str) -> Turn:
        try:
            notes = clean_text("notes", text, max_len=limits.MAX_NOTE)
        except InvalidInput:
            return await self._again(ctx, state, "session.notes_too_long", limit=limits.MAX_NOTE)
        old = state.data.get("notes")
        state.data["notes"] = f"{old}\n{notes}" if old and notes else notes
        if len(state.data["notes"] or "") > limits.MAX_NOTE:
            state.data["notes"] = old
            return await self._again(ctx, state, "session.notes_too_long", limit=limits.MAX_NOTE)
        return await self._show(ctx, state.at("menu"))

    async def _save(self, ctx: Context, state: State) -> Turn:
        if not draft.entries(state.data):
            return await self._again(ctx, state.at("weapon"), "session.no_entries")
        new = await _is_new(ctx, state.data)
        session, remove = await draft.save(ctx, state.data)
        # In this transaction: saved together. Over the AI quota the session is saved anyway.
        skipped = await reflect_if_allowed(ctx, session.id)
        weapons = await ctx.weapon_index()  # read once: the entry lines and the records name them
        lines = await draft.entry_lines(ctx, draft.from_session(session), weapons)
        photos = len(await ctx.attachments.list_for(AttachmentOwner.SESSION, session.id))
        text = ctx.t(
            "session.saved",
            date=formatting.weekday(session.occurred_on, ctx.profile.language),
            club=session.club or "—",
            entries="\n".join(lines),
            photos=photos,
        )
        achieved = await achievements(ctx, session, new=new, weapons=weapons)
        if achieved:
            text = "\n\n".join([text, *achieved])
        if skipped is None:
            return Turn([reply(text)], None, remove_files=remove)
        note = quota_text(
            ctx.t,
            skipped,
            timezone=ctx.profile.timezone,
            now=ctx.clock.now(),
            key="ai_quota.no_reflection",
        )
        later = Button(ctx.t("ai_quota.btn.reflect"), f"!r:{session.id}")  # never expires
        return Turn([reply(f"{text}\n\n{note}", [later])], None, remove_files=remove)

    # --- showing a step -----------------------------------------------------------------

    async def _again(self, ctx: Context, state: State, key: str, **values: object) -> Turn:
        turn = await self._show(ctx, state)
        turn.replies.insert(0, reply(ctx.t(key, **values)))
        return turn

    async def _show(self, ctx: Context, state: State) -> Turn:
        show = {
            "weapon": self._show_weapon,
            "distance": self._show_distance,
            "shots": self._show_shots,
            "menu": self._show_menu,
            "club": self._show_club,
            "date": self._show_date,
            "photo": self._show_photo,
            "notes": self._show_notes,
            "remove": self._show_remove,
        }.get(state.step)
        if show is None:
            return await self.show_quick(ctx, state)
        return Turn([await show(ctx, state)], state)

    def _header(self, ctx: Context, data: dict[str, Any]) -> str:
        day = draft.occurred_on(data, ctx)
        return ctx.t(
            "session.header",
            date=formatting.weekday(day, ctx.profile.language),
            club=data.get("club") or ctx.t("session.no_club"),
        )

    async def _show_weapon(self, ctx: Context, state: State) -> Reply:
        weapons = await ctx.weapons.list_weapons()
        day = draft.occurred_on(state.data, ctx)
        other_day = (
            ("yday", "session.yesterday") if day == ctx.today() else ("today", "session.today")
        )
        settings = [
            ctx.button(ctx.t("session.change_club"), "club"),
            ctx.button(ctx.t(other_day[1]), other_day[0]),
            ctx.button(ctx.t("session.other_date"), "date"),
        ]
        picks = [ctx.button(w.name[:40], f"w:{w.id}") for w in weapons]
        done = [ctx.button(ctx.t("session.to_menu"), "menu")] if draft.entries(state.data) else []
        key = "session.ask_weapon" if weapons else "session.ask_first_weapon"
        return reply(
            f"{self._header(ctx, state.data)}\n{ctx.t(key)}", *chunked(picks, 2), settings, done
        )

    async def _show_distance(self, ctx: Context, state: State) -> Reply:
        weapon = await ctx.weapons.get(int(state.data["cur"]["w"]))
        recent = await ctx.sessions.recent_distances(weapon.id)
        buttons = [ctx.button(f"{d} m", f"d:{d}") for d in recent]
        return reply(ctx.t("session.ask_distance", weapon=weapon.name), buttons)

    async def _show_shots(self, ctx: Context, state: State) -> Reply:
        weapon = await ctx.weapons.get(int(state.data["cur"]["w"]))
        return reply(
            ctx.t("session.ask_shots", weapon=weapon.name, distance=state.data["cur"]["d"])
        )

    async def _show_menu(self, ctx: Context, state: State) -> Reply:
        return reply(
            await self.summary(ctx, state.data),
            [
                ctx.button(ctx.t("session.more"), "weapon"),
                ctx.button(ctx.t("session.photo"), "photo"),
            ],
            [
                ctx.button(ctx.t("session.notes"), "notes"),
                ctx.button(ctx.t("session.remove"), "remove"),
            ],
            [ctx.button(ctx.t("session.save"), "save")],
        )

    async def _show_club(self, ctx: Context, state: State) -> Reply:
        clubs = await ctx.sessions.recent_clubs(limit=MAX_CLUBS)
        buttons = [ctx.button(club[:40], f"c:{i}") for i, club in enumerate(clubs)]
        buttons.append(ctx.button(ctx.t("session.no_club"), "c:none"))
        return reply(ctx.t("session.ask_club"), *chunked(buttons, 2))

    async def _show_date(self, ctx: Context, state: State) -> Reply:
        return reply(
            ctx.t("session.ask_date"),
            [
                ctx.button(ctx.t("session.today"), "today"),
                ctx.button(ctx.t("session.yesterday"), "yday"),
            ],
        )

    async def _show_photo(self, ctx: Context, state: State) -> Reply:
        return reply(ctx.t("session.ask_photo"), [ctx.button(ctx.t("session.done"), "menu")])

    async def _show_notes(self, ctx: Context, state: State) -> Reply:
        return reply(ctx.t("session.ask_notes"), [ctx.button(ctx.t("session.done"), "menu")])

    async def _show_remove(self, ctx: Context, state: State) -> Reply:
        weapons = await ctx.weapon_index()
        items = draft.entries(state.data)
        buttons = [
            [ctx.button("✗ " + draft.entry_line(ctx, item, weapons)[:50], f"del:{i}")]
            for i, item in enumerate(items)
        ]
        return reply(
            ctx.t("session.ask_remove"), *buttons, [ctx.button(ctx.t("session.done"), "menu")]
        )

    async def summary(self, ctx: Context, data: dict[str, Any]) -> str:
        parts = [self._header(ctx, data), *await draft.entry_lines(ctx, data)]
        if data.get("photos"):
            parts.append(ctx.t("session.photos", count=len(data["photos"])))
        if data.get("notes"):
            parts.append(ctx.t("session.notes_line", notes=data["notes"]))
        return "\n".join(parts)


def _back(data: dict[str, Any]) -> str:
    back = data.pop("back", None)
    return back if back in {"weapon", "menu", "confirm"} else "weapon"


def _key(text: str | None) -> str:
    return "".join(ch for ch in (text or "").casefold() if ch.isalnum())


async def _is_new(ctx: Context, data: dict[str, Any]) -> bool:
    """Whether saving ``data`` adds a session for the shooter: a new one, or a "photo now"
    draft completed; an edit of a saved session is not new."""
    session_id = data.get("sid")
    if not isinstance(session_id, int):
        return True
    return (await ctx.sessions.get(session_id)).status is SessionStatus.DRAFT


async def achievements(
    ctx: Context, session: ShootingSession, *, new: bool, weapons: dict[int, Weapon]
) -> list[str]:
    """What a just-saved new session (or a completed "photo now" draft) achieved, as lines
    for its confirmation: a personal best per weapon and distance it beats, and — for the
    first session of this week — the weeks in a row the shooter has shot, once that is a
    streak worth saying. An edit says neither: what it achieved was said when it was new."""
    if not new:
        return []
    history: list[ShootingSession] = [session]
    for weapon_id in sorted({e.weapon_id for e in session.entries}):
        # every session with the weapon, however many: a best of long ago still counts
        history += await ctx.sessions.between(LONG_AGO, date.max, weapon_id=weapon_id)
    lines = []
    language = ctx.profile.language
    for best in insight.personal_bests(session, history):
        weapon = weapons.get(best.weapon_id)
        lines.append(
            ctx.t(
                "session.record",
                weapon=weapon.name if weapon else "?",
                distance=best.distance_m,
                per_shot=formatting.per_shot(best.per_shot, language),
                score=formatting.score_in(best.score, language),
                shots=best.shots,
                before=formatting.per_shot(best.previous_best, language),
            )
        )
    today = ctx.today()
    monday = today - timedelta(days=today.weekday())
    if monday <= session.occurred_on <= today:
        this_week = await ctx.sessions.between(monday, today)
        weeks = insight.weeks_in_a_row(await ctx.sessions.shooting_days(until=today), today=today)
        if [s.id for s in this_week] == [session.id] and weeks >= insight.MIN_STREAK_WEEKS:
            lines.append(ctx.t("session.streak", weeks=weeks))
    return lines
