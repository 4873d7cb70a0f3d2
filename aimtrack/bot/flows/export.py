"""/export: the licence register as a CSV or PDF document.

Steps (``State.step``; ``data`` holds ``from``/``to`` as ISO dates and ``w``, the chosen
weapon ids, or None for all weapons):

- ``period``: ``p:last12`` (the rolling 12 months the licence counts), ``p:this_year``,
  ``p:last_year`` (calendar years), ``p:custom`` (typed dates); two dates typed here
  (``01-01-2026 31-12-2026``) are a custom period at once.
- ``from`` → ``to`` (typed dates; ``back`` returns to ``period``).
- ``weapons``: ``w:all``, ``w:<id>`` toggles one weapon, ``next``; skipped without weapons.
- ``format``: ``f:csv`` / ``f:pdf`` queues the export job; the document arrives as a message
  (see :mod:`aimtrack.jobs.export`), so a long PDF never holds up the chat.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Final

from aimtrack.bot.flow import Context, State, StoredUpload, Turn, button_id, chunked, reply
from aimtrack.bot.io import Button
from aimtrack.core import formatting
from aimtrack.core.errors import InvalidInput
from aimtrack.core.i18n import Catalogue
from aimtrack.core.model import Weapon
from aimtrack.exports.service import MAX_WEAPONS, ExportFormat, ExportRequest, NamedPeriod
from aimtrack.jobs.export import EXPORT, EXPORT_ATTEMPTS, to_payload

NAME: Final = "export"
SHOWN_WEAPONS: Final = 30  # buttons; more weapons than that: "all" still covers them
_TWO_DATES: Final = re.compile(r"\s*(\S+)\s*(?:-|–|—|t/m|tot|to|until)?\s+(\S+)\s*")

TEXTS: Final[Catalogue] = {
    "cmd.export": ("register als CSV of PDF", "register as CSV or PDF"),
    "export.ask.period": (
        "📄 Welke periode moet het register beslaan? Je kunt ook twee datums typen, "
        "bijvoorbeeld 01-01-2026 31-12-2026.",
        "📄 Which period should the register cover? You can also type two dates, for "
        "example 01-01-2026 31-12-2026.",
    ),
    "export.btn.last12": ("Laatste 12 maanden", "Last 12 months"),
    "export.btn.this_year": ("Dit jaar ({year})", "This year ({year})"),
    "export.btn.last_year": ("Vorig jaar ({year})", "Last year ({year})"),
    "export.btn.custom": ("📅 Zelf kiezen", "📅 Choose dates"),
    "export.btn.back": ("↩️ Terug", "↩️ Back"),
    "export.ask.from": (
        "Vanaf welke datum? Typ bijvoorbeeld 01-01-2026.",
        "From which date? Type for example 01-01-2026.",
    ),
    "export.ask.to": (
        "Tot en met welke datum? (vanaf {start}) Typ bijvoorbeeld 31-12-2026.",
        "Up to and including which date? (from {start}) Type for example 31-12-2026.",
    ),
    "export.err.date": (
        "Dat is geen datum die ik herken. Typ bijvoorbeeld 31-12-2026 of 2026-12-31.",
        "That is not a date I recognise. Type for example 31-12-2026 or 2026-12-31.",
    ),
    "export.err.order": (
        "De einddatum ligt vóór de begindatum ({start}). Typ een latere datum.",
        "The end date is before the start date ({start}). Type a later date.",
    ),
    "export.err.range": (
        "Die datum valt buiten wat ik kan exporteren ({low} – {high}).",
        "That date is outside what I can export ({low} – {high}).",
    ),
    "export.ask.weapons": (
        "Periode: {period}. Welke wapens? Tik wapens aan om alleen die te nemen.",
        "Period: {period}. Which weapons? Tap weapons to take only those.",
    ),
    "export.btn.all": ("Alle wapens", "All weapons"),
    "export.btn.next": ("Verder ➡️", "Next ➡️"),
    "export.retired": ("{name} (buiten gebruik)", "{name} (retired)"),
    "export.ask.format": (
        "Periode: {period}; {weapons}. CSV (voor Excel) of PDF (om te printen)?",
        "Period: {period}; {weapons}. CSV (for Excel) or PDF (to print)?",
    ),
    "export.all_weapons": ("alle wapens", "all weapons"),
    "export.btn.csv": ("📊 CSV", "📊 CSV"),
    "export.btn.pdf": ("📄 PDF", "📄 PDF"),
    "export.queued": (
        "⏳ Je register ({period}, {weapons}) wordt gemaakt; het komt zo als bestand.",
        "⏳ Your register ({period}, {weapons}) is being made; it will arrive as a file shortly.",
    ),
    "export.use_buttons": (
        "Kies een van de knoppen, of stop met /annuleer.",
        "Choose one of the buttons, or stop with /cancel.",
    ),
    "export.upload": (
        "Dit bestand heb ik niet bewaard: je bent een export aan het kiezen. Stop eerst met "
        "/annuleer en stuur het dan opnieuw.",
        "I did not keep this file: you are choosing an export. Stop with /cancel first, then "
        "send it again.",
    ),
}


class ExportFlow:
    name = NAME

    async def start(self, ctx: Context, args: str) -> Turn:
        if args.strip():
            return await self.on_text(ctx, State(NAME, "period"), args)
        return self._period(ctx)

    async def prompt(self, ctx: Context, state: State) -> Turn:
        return await self._show(ctx, state)

    async def on_cancel(self, ctx: Context, state: State) -> Turn:
        return Turn([reply(ctx.t("cancelled"))], None)

    async def on_upload(self, ctx: Context, state: State, upload: StoredUpload) -> Turn:
        return Turn([reply(ctx.t("export.upload"))], state)

    async def on_text(self, ctx: Context, state: State, text: str) -> Turn:
        if state.step == "from":
            return self._typed_from(ctx, state, text)
        if state.step == "to":
            return await self._typed_to(ctx, state, text)
        if state.step == "period" and (match := _TWO_DATES.fullmatch(text)):
            start = formatting.parse_day(match.group(1))
            problem = ctx.t("export.err.date") if start is None else _date_problem(ctx, start)
            if start is None or problem is not None:
                return self._period(ctx, problem or "")
            asked = State(NAME, "to", {"from": start.isoformat()})
            return await self._typed_to(ctx, asked, match.group(2))
        turn = await self._show(ctx, state)
        turn.replies.insert(0, reply(ctx.t("export.use_buttons")))
        return turn

    async def on_press(self, ctx: Context, state: State, action: str) -> Turn:
        verb, _, arg = action.partition(":")
        if verb == "p" and state.step == "period":
            return await self._chosen_period(ctx, arg)
        if verb == "back":
            return self._period(ctx)
        if verb == "w" and state.step == "weapons":
            return await self._toggle(ctx, state, arg)
        if verb == "next" and state.step == "weapons":
            return await self._format(ctx, state.at("format"))
        if verb == "f" and state.step == "format" and arg in set(ExportFormat):
            return await self._queue(ctx, state, ExportFormat(arg))
        return await self._show(ctx, state)

    # --- steps ----------------------------------------------------------------------------

    async def _chosen_period(self, ctx: Context, choice: str) -> Turn:
        if choice == "custom":
            return await self._show(ctx, State(NAME, "from"))
        if choice not in set(NamedPeriod):  # forged data
            return self._period(ctx)
        chosen = NamedPeriod(choice).dates(ctx.today())
        return await self._weapons(ctx, _with_period(State(NAME, "weapons"), *chosen))

    async def _show(self, ctx: Context, state: State) -> Turn:
        if state.step == "from":
            return Turn([reply(ctx.t("export.ask.from"), _back(ctx))], state)
        if state.step == "to":
            start = _day(state, "from")
            return Turn(
                [reply(ctx.t("export.ask.to", start=formatting.day(start)), _back(ctx))], state
            )
        if state.step == "weapons":
            return await self._weapons(ctx, state)
        if state.step == "format":
            return await self._format(ctx, state)
        return self._period(ctx)

    def _period(self, ctx: Context, *notes: str) -> Turn:
        t, year = ctx.t, ctx.today().year
        rows = [
            [ctx.button(t("export.btn.last12"), f"p:{NamedPeriod.LAST_12_MONTHS}")],
            [
                ctx.button(t("export.btn.this_year", year=year), f"p:{NamedPeriod.THIS_YEAR}"),
                ctx.button(t("export.btn.last_year", year=year - 1), f"p:{NamedPeriod.LAST_YEAR}"),
            ],
            [ctx.button(t("export.btn.custom"), "p:custom")],
        ]
        text = "\n\n".join([*notes, t("export.ask.period")])
        return Turn([reply(text, *rows)], State(NAME, "period"))

    def _typed_from(self, ctx: Context, state: State, text: str) -> Turn:
        start = formatting.parse_day(text)
        problem = ctx.t("export.err.date") if start is None else _date_problem(ctx, start)
        if start is None or problem is not None:
            return Turn([reply(f"{problem}\n\n{ctx.t('export.ask.from')}", _back(ctx))], state)
        asked = State(NAME, "to", {"from": start.isoformat()})
        return Turn([reply(ctx.t("export.ask.to", start=formatting.day(start)), _back(ctx))], asked)

    async def _typed_to(self, ctx: Context, state: State, text: str) -> Turn:
        start = _day(state, "from")
        end = formatting.parse_day(text)
        problem = ctx.t("export.err.date") if end is None else _date_problem(ctx, end)
        if end is not None and problem is None and end < start:
            problem = ctx.t("export.err.order", start=formatting.day(start))
        if end is None or problem is not None:
            again = ctx.t("export.ask.to", start=formatting.day(start))
            return Turn([reply(f"{problem}\n\n{again}", _back(ctx))], state)
        return await self._weapons(ctx, _with_period(State(NAME, "weapons"), start, end))

    async def _weapons(
        self, ctx: Context, state: State, weapons: list[Weapon] | None = None
    ) -> Turn:
        """The weapons step; ``weapons``: the user's, when the turn has read them already."""
        if weapons is None:
            weapons = await _all_weapons(ctx)
        if not weapons:
            state.data["w"] = None
            return await self._format(ctx, state.at("format"))
        t = ctx.t
        chosen = _chosen(state)
        everything = chosen is None
        buttons = []
        for weapon in sorted(weapons, key=lambda w: (not w.active, w.name.casefold()))[
            :SHOWN_WEAPONS
        ]:
            label = weapon.name if weapon.active else t("export.retired", name=weapon.name)
            mark = "✓ " if chosen is not None and weapon.id in chosen else ""
            buttons.append(ctx.button(f"{mark}{label}", f"w:{weapon.id}"))
        rows = [
            [ctx.button(("✓ " if everything else "") + t("export.btn.all"), "w:all")],
            *chunked(buttons, 2),
            [ctx.button(t("export.btn.next"), "next")],
        ]
        text = t("export.ask.weapons", period=_period_text(state))
        return Turn([reply(text, *rows)], state.at("weapons"))

    async def _toggle(self, ctx: Context, state: State, arg: str) -> Turn:
        if arg == "all":
            state.data["w"] = None
            return await self._weapons(ctx, state)
        weapons = await _all_weapons(ctx)
        weapon_id = button_id(arg)
        if weapon_id in {w.id for w in weapons}:  # not forged, nor deleted since
            chosen = set(_chosen(state) or ()) ^ {weapon_id}
            state.data["w"] = sorted(chosen)[:MAX_WEAPONS] if chosen else None
        return await self._weapons(ctx, state, weapons)

    async def _format(self, ctx: Context, state: State) -> Turn:
        t = ctx.t
        text = t(
            "export.ask.format", period=_period_text(state), weapons=await _weapons_text(ctx, state)
        )
        buttons = [
            ctx.button(t("export.btn.csv"), "f:csv"),
            ctx.button(t("export.btn.pdf"), "f:pdf"),
        ]
        return Turn([reply(text, buttons)], state.at("format"))

    async def _queue(self, ctx: Context, state: State, format: ExportFormat) -> Turn:  # noqa: A002
        chosen = _chosen(state)
        weapons = await _all_weapons(ctx)
        kept = None if chosen is None else frozenset(chosen) & {w.id for w in weapons}
        try:
            request = ExportRequest(
                period_from=_day(state, "from"),
                period_to=_day(state, "to"),
                format=format,
                weapon_ids=kept or None,  # every chosen weapon deleted since: all of them
            )
        except InvalidInput:
            return self._period(ctx, ctx.t("export.err.date"))
        await ctx.enqueue(EXPORT, to_payload(request), max_attempts=EXPORT_ATTEMPTS)
        state.data["w"] = sorted(kept) if kept else None
        names = await _weapons_text(ctx, state, weapons)
        return Turn(
            [reply(ctx.t("export.queued", period=_period_text(state), weapons=names))], None
        )


def _with_period(state: State, start: date, end: date) -> State:
    state.data.update({"from": start.isoformat(), "to": end.isoformat(), "w": None})
    return state


def _day(state: State, key: str) -> date:
    return date.fromisoformat(str(state.data[key]))


def _chosen(state: State) -> list[int] | None:
    chosen = state.data.get("w")
    return [int(i) for i in chosen] if isinstance(chosen, list) and chosen else None


def _period_text(state: State) -> str:
    return formatting.period(_day(state, "from"), _day(state, "to"))


async def _all_weapons(ctx: Context) -> list[Weapon]:
    """Every weapon of the user, retired ones too: a register covers the years they were used."""
    return await ctx.weapons.list_weapons(include_retired=True)


async def _weapons_text(ctx: Context, state: State, weapons: list[Weapon] | None = None) -> str:
    """The chosen weapons by name (``weapons``: the user's, when already read)."""
    chosen = _chosen(state)
    if chosen is None:
        return ctx.t("export.all_weapons")
    if weapons is None:
        weapons = await _all_weapons(ctx)
    names = [w.name for w in weapons if w.id in chosen]
    return ", ".join(sorted(names, key=str.casefold))


def _date_problem(ctx: Context, day: date) -> str | None:
    """Why ``day`` cannot bound an export (a text), or None. A year either side of today is
    room enough for any register; beyond that a typo is likelier than a wish."""
    low, high = date(1900, 1, 1), ctx.today() + timedelta(days=366)
    if low <= day <= high:
        return None
    return ctx.t("export.err.range", low=formatting.day(low), high=formatting.day(high))


def _back(ctx: Context) -> list[Button]:
    return [ctx.button(ctx.t("export.btn.back"), "back")]
