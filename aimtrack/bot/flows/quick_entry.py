"""Quick entry: one message becomes a draft session, asked about where unclear, then confirmed.

Every line's open question is asked in turn (which weapon, distance, shots), a date we could
not read is asked for, and what the parser did not understand is kept as notes and shown on the
confirm step — never dropped. Save, edit (→ the guided menu) or cancel.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aimtrack.bot import quick
from aimtrack.bot.flow import Context, State, Turn, button_id, chunked, reply
from aimtrack.bot.flows import draft
from aimtrack.bot.flows.draft import DraftEntry
from aimtrack.core import limits
from aimtrack.core.model import WeaponSpec

if TYPE_CHECKING:
    from aimtrack.bot.io import Reply

_WEAPON_PROBLEMS = {
    quick.Problem.NO_WEAPON,
    quick.Problem.UNKNOWN_WEAPON,
    quick.Problem.AMBIGUOUS_WEAPON,
}


class QuickEntryMixin:
    """The quick-entry half of :class:`~aimtrack.bot.flows.session.SessionFlow`."""

    name: str

    async def _show(self, ctx: Context, state: State) -> Turn:
        raise NotImplementedError

    async def _save(self, ctx: Context, state: State) -> Turn:
        raise NotImplementedError

    async def summary(self, ctx: Context, data: dict[str, Any]) -> str:
        raise NotImplementedError

    async def quick(self, ctx: Context, state: State, text: str) -> Turn:
        """A message with no flow open: a quick entry, or a hint."""
        if not quick.looks_like_quick_entry(text):
            return Turn([reply(ctx.t("chat_hint"))], None)
        today = ctx.today()
        parsed = quick.parse_quick(text, await ctx.weapons.list_weapons(), today=today)
        clubs = await ctx.sessions.recent_clubs(limit=1)
        data: dict[str, Any] = {
            "on": parsed.occurred_on.isoformat(),
            "club": clubs[0] if clubs else None,
            "lines": [_line_json(line) for line in parsed.lines],
        }
        if parsed.date_problem is not None:
            data["on"] = today.isoformat()
            data["ask_date"] = True
        leftovers = [part for line in parsed.lines for part in line.leftovers]
        if leftovers:
            data["notes"] = " ".join(leftovers)[: limits.MAX_NOTE]
        return await self._next_question(ctx, State(self.name, "confirm", data))

    async def _next_question(self, ctx: Context, state: State) -> Turn:
        data = state.data
        if data.get("ask_date"):
            return await self._show(ctx, state.at("q_date"))
        for index, line in enumerate(data.get("lines", [])):
            data["i"] = index
            if line["w"] is None:
                return await self._show(ctx, state.at("q_weapon"))
            if line["d"] is None:
                return await self._show(ctx, state.at("q_distance"))
            if line["n"] is None:
                return await self._show(ctx, state.at("q_shots"))
        items = draft.entries(data) + [
            DraftEntry(line["w"], line["d"], line["n"], _score(line["s"]))
            for line in data.pop("lines", [])
        ]
        draft.set_entries(data, items[: draft.MAX_ENTRIES])
        data.pop("i", None)
        return await self._show(ctx, state.at("confirm"))

    async def quick_text(self, ctx: Context, state: State, text: str) -> Turn:
        line = _current(state)
        if state.step == "q_date":
            found = quick.parse_day(text, ctx.today())
            if found is None or found[1] is not None:
                return await self._again_quick(ctx, state, "session.bad_date")
            state.data["on"] = found[0].isoformat()
            state.data.pop("ask_date", None)
        elif state.step == "q_distance" and line is not None:
            parsed = draft.parse_distance(text)
            if isinstance(parsed, str):
                return await self._again_quick(ctx, state, parsed)
            line["d"] = parsed
        elif state.step == "q_shots" and line is not None:
            shots = draft.parse_shots_and_score(text)
            if isinstance(shots, str):
                return await self._again_quick(ctx, state, shots)
            line["n"], score = shots
            line["s"] = None if score is None else str(score)
        else:
            return await self._again_quick(ctx, state, "session.use_buttons")
        return await self._next_question(ctx, state)

    async def quick_press(self, ctx: Context, state: State, verb: str, arg: str) -> Turn:
        line = _current(state)
        if verb == "ok":
            return await self._save(ctx, state)
        if verb == "edit":
            return await self._show(ctx, state.at("menu"))
        if verb == "qday" and state.step == "q_date":
            state.data["on"] = (ctx.today() - timedelta(days=int(arg == "1"))).isoformat()
            state.data.pop("ask_date", None)
        elif verb == "qw" and line is not None:
            line["w"] = (await ctx.weapons.get(button_id(arg))).id  # NotFound for a forged id
        elif verb == "qnew" and line is not None and line.get("wt"):
            line["w"] = (await ctx.weapons.add(WeaponSpec(name=line["wt"]))).id
        elif verb == "qd" and line is not None:
            parsed = draft.parse_distance(arg)
            if isinstance(parsed, str):
                return await self._again_quick(ctx, state, parsed)
            line["d"] = parsed
        else:
            return await self._show(ctx, state)
        return await self._next_question(ctx, state)

    async def _again_quick(self, ctx: Context, state: State, key: str) -> Turn:
        turn = await self._show(ctx, state)
        turn.replies.insert(0, reply(ctx.t(key)))
        return turn

    async def show_quick(self, ctx: Context, state: State) -> Turn:
        line = _current(state)
        t = ctx.t
        if state.step == "q_date":
            today = ctx.today()
            shown = reply(
                t("session.ask_quick_date"),
                [
                    ctx.button(t("session.today") + f" {today:%d-%m}", "qday:0"),
                    ctx.button(
                        t("session.yesterday") + f" {today - timedelta(days=1):%d-%m}", "qday:1"
                    ),
                ],
            )
        elif state.step == "q_weapon" and line is not None:
            shown = await self._ask_weapon(ctx, line)
        elif state.step == "q_distance" and line is not None:
            weapon = await ctx.weapons.get(line["w"])
            recent = await ctx.sessions.recent_distances(weapon.id)
            shown = reply(
                t("session.ask_distance", weapon=weapon.name),
                [ctx.button(f"{d} m", f"qd:{d}") for d in recent],
            )
        elif state.step == "q_shots" and line is not None:
            weapon = await ctx.weapons.get(line["w"])
            shown = reply(t("session.ask_shots", weapon=weapon.name, distance=line["d"]))
        else:
            shown = await self._show_confirm(ctx, state)
            state.step = "confirm"
        return Turn([shown], state)

    async def _ask_weapon(self, ctx: Context, line: dict[str, Any]) -> Reply:
        t = ctx.t
        weapons = await ctx.weapons.list_weapons()
        candidates = [w for w in weapons if w.id in line.get("c", [])] or weapons
        buttons = [ctx.button(w.name[:40], f"qw:{w.id}") for w in candidates]
        text = line.get("wt")
        rows = chunked(buttons, 2)
        if text and not line.get("c"):
            rows.append([ctx.button(t("session.add_weapon", name=text[:30]), "qnew")])
        key = "session.which_weapon" if line.get("c") else "session.unknown_quick_weapon"
        if not text:
            key = "session.no_quick_weapon"
        return reply(t(key, name=text or "", line=line["t"][:200]), *rows)

    async def _show_confirm(self, ctx: Context, state: State) -> Reply:
        t = ctx.t
        return reply(
            t("session.confirm", summary=await self.summary(ctx, state.data)),
            [ctx.button(t("session.save"), "ok"), ctx.button(t("session.edit"), "edit")],
            [ctx.button(t("session.cancel"), "cancel")],
        )


def _line_json(line: quick.QuickLine) -> dict[str, Any]:
    problems = set(line.problems)
    return {
        "t": line.text,
        "wt": line.weapon_text,
        "w": None if problems & _WEAPON_PROBLEMS else line.weapon_id,
        "c": list(line.candidates),
        "d": None
        if problems & {quick.Problem.DISTANCE_RANGE, quick.Problem.AMBIGUOUS_NUMBERS}
        else line.distance_m,
        "n": None
        if problems
        & {quick.Problem.SHOTS_RANGE, quick.Problem.SCORE_RANGE, quick.Problem.AMBIGUOUS_NUMBERS}
        else line.shots,
        "s": None
        if line.score is None or quick.Problem.SCORE_RANGE in problems
        else str(line.score),
    }


def _current(state: State) -> dict[str, Any] | None:
    lines = state.data.get("lines") or []
    index = state.data.get("i", 0)
    return lines[index] if isinstance(index, int) and 0 <= index < len(lines) else None


def _score(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)
