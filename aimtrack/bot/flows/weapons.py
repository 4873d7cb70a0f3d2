"""/wapens: the user's weapon register.

Steps (``State.step``; ``data["id"]`` is the weapon in view, ``name``/``type`` the new one):

- ``list``: every weapon with type, caliber and usage; ``v:<id>`` views one, ``add`` adds.
- ``add_name`` (typed) → ``add_type`` (``t:<type>``) → ``add_caliber`` (typed, or ``skip``)
  → the new weapon's ``view``.
- ``view``: all fields and usage; ``e:<field>`` edits a text field or the purchase date,
  ``type`` the type, ``lic`` toggles "on my licence", ``ret``/``react`` retire or reactivate,
  ``del`` deletes an unused weapon (after ``confirm``: ``yes``/``no``), ``ai`` asks the AI
  for the trends of a weapon with history (they arrive later as a message), ``back`` lists.
- ``edit`` (typed; ``-`` clears), ``edit_type`` (``t:<type>``), ``confirm``.

A press that does not belong to the step (forged data) just shows the step again; an id that
is not the user's is answered as "not found" and the list is shown.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import fields
from typing import Final

from aimtrack.bot.ai_requests import request_insight
from aimtrack.bot.flow import Context, State, StoredUpload, Turn, chunked, reply
from aimtrack.bot.flows.fields import CLEAR, problem, shown
from aimtrack.bot.io import Button
from aimtrack.core import formatting
from aimtrack.core.errors import InvalidInput, NotFound, WeaponInUse
from aimtrack.core.i18n import Catalogue, Translator
from aimtrack.core.model import Weapon, WeaponSpec, WeaponType
from aimtrack.storage.repos.weapons import WeaponUsage

# Short codes on buttons (callback data is limited) → WeaponSpec fields.
FIELDS: Final = {
    "name": "name",
    "nick": "nickname",
    "cal": "caliber",
    "serial": "serial_number",
    "store": "storage_location",
    "notes": "notes",
    "bought": "purchase_date",
}
# Which presses each step offers; anything else is shown the step again.
_PRESSES: Final = {
    "list": {"v", "add", "done"},
    "add_type": {"t"},
    "add_caliber": {"skip"},
    "view": {"e", "type", "lic", "ret", "react", "del", "ai", "back"},
    "edit": {"view"},
    "edit_type": {"t", "view"},
    "confirm": {"yes", "no"},
}
_ID = re.compile(r"[0-9]{1,10}")

TEXTS: Final[Catalogue] = {
    "weapons.title": ("Je wapens:", "Your weapons:"),
    "weapons.empty": (
        "Je hebt nog geen wapens. Voeg je eerste wapen toe; daarna kun je sessies erop loggen.",
        "You have no weapons yet. Add your first one; then you can log sessions with it.",
    ),
    "weapons.line": (
        "• {name} — {kind}{caliber} — {usage}",
        "• {name} — {kind}{caliber} — {usage}",
    ),
    "weapons.retired_mark": ("{name} (uit gebruik)", "{name} (retired)"),
    "weapons.usage": (
        "{entries}× gebruikt, {shots:# schot|# schoten}, laatst {last}",
        "used {entries}×, {shots:# shot|# shots}, last {last}",
    ),
    "weapons.unused": ("nog niet gebruikt", "not used yet"),
    "weapons.btn.add": ("➕ Wapen toevoegen", "➕ Add a weapon"),
    "weapons.btn.done": ("✔️ Klaar", "✔️ Done"),
    "weapons.btn.back": ("↩️ Alle wapens", "↩️ All weapons"),
    "weapons.btn.to_view": ("↩️ Terug", "↩️ Back"),
    "weapons.btn.skip": ("Overslaan", "Skip"),
    "weapons.btn.edit": ("✏️ {field}", "✏️ {field}"),
    "weapons.btn.licensed_off": ("🔁 Verlof (WM-4): ja → nee", "🔁 Licence (WM-4): yes → no"),
    "weapons.btn.licensed_on": ("🔁 Verlof (WM-4): nee → ja", "🔁 Licence (WM-4): no → yes"),
    "weapons.btn.retire": ("🗄️ Uit gebruik nemen", "🗄️ Retire"),
    "weapons.btn.reactivate": ("♻️ Weer in gebruik", "♻️ Reactivate"),
    "weapons.btn.delete": ("🗑️ Verwijderen", "🗑️ Delete"),
    "weapons.btn.trends": ("📈 AI-trends", "📈 AI trends"),
    "weapons.btn.yes": ("Ja, verwijderen", "Yes, delete"),
    "weapons.btn.no": ("Nee", "No"),
    "weapons.ask.name": (
        "Hoe heet het wapen? Bijvoorbeeld: CZ 75 SP-01. (/annuleer om te stoppen)",
        "What is the weapon called? For example: CZ 75 SP-01. (/cancel to stop)",
    ),
    "weapons.ask.type": ("Wat voor wapen is {name}?", "What kind of weapon is {name}?"),
    "weapons.ask.caliber": (
        "Welk kaliber heeft {name}? Bijvoorbeeld 9mm of .22 LR.",
        "Which caliber is {name}? For example 9mm or .22 LR.",
    ),
    "weapons.ask.edit": (
        "{field} van {name} (nu: {current}). Typ de nieuwe waarde; met '-' maak je het leeg.",
        "{field} of {name} (now: {current}). Type the new value; '-' clears it.",
    ),
    "weapons.ask.rename": (
        "Typ de nieuwe naam voor {name}.",
        "Type the new name for {name}.",
    ),
    "weapons.ask.date": (
        "Aankoopdatum van {name} (nu: {current}). Typ een datum als 21-11-2026 of 2026-11-21; "
        "met '-' maak je het leeg.",
        "Purchase date of {name} (now: {current}). Type a date like 21-11-2026 or 2026-11-21; "
        "'-' clears it.",
    ),
    "weapons.confirm": (
        "{name} echt verwijderen? Dat kan niet ongedaan worden.",
        "Really delete {name}? This cannot be undone.",
    ),
    "weapons.f.name": ("Naam", "Name"),
    "weapons.f.nick": ("Bijnaam", "Nickname"),
    "weapons.f.type": ("Soort", "Type"),
    "weapons.f.cal": ("Kaliber", "Caliber"),
    "weapons.f.serial": ("Serienummer", "Serial number"),
    "weapons.f.store": ("Opslag", "Storage"),
    "weapons.f.notes": ("Notities", "Notes"),
    "weapons.f.bought": ("Aankoopdatum", "Purchase date"),
    "weapons.f.licensed": ("Op mijn verlof (WM-4)", "On my licence (WM-4)"),
    "weapons.f.usage": ("Gebruik", "Usage"),
    "weapons.f.retired": ("Uit gebruik sinds", "Retired since"),
    "weapons.yes": ("ja", "yes"),
    "weapons.no": ("nee", "no"),
    "weapons.type.pistol": ("Pistool", "Pistol"),
    "weapons.type.revolver": ("Revolver", "Revolver"),
    "weapons.type.rifle": ("Geweer", "Rifle"),
    "weapons.type.carbine": ("Karabijn", "Carbine"),
    "weapons.type.shotgun": ("Hagelgeweer", "Shotgun"),
    "weapons.type.air_pistol": ("Luchtpistool", "Air pistol"),
    "weapons.type.air_rifle": ("Luchtgeweer", "Air rifle"),
    "weapons.type.other": ("Anders", "Other"),
    "weapons.added": ("✅ {name} is toegevoegd.", "✅ {name} was added."),
    "weapons.saved": ("✅ Opgeslagen.", "✅ Saved."),
    "weapons.retired": ("🗄️ {name} staat nu uit gebruik.", "🗄️ {name} is now retired."),
    "weapons.reactivated": ("♻️ {name} is weer in gebruik.", "♻️ {name} is in use again."),
    "weapons.deleted": ("🗑️ {name} is verwijderd.", "🗑️ {name} was deleted."),
    "weapons.in_use": (
        "{name} staat {entries}× in je logboek en kan daarom niet worden verwijderd. "
        "Neem het uit gebruik: dan blijft de geschiedenis bewaard.",
        "{name} appears {entries}× in your log, so it cannot be deleted. Retire it instead: "
        "its history stays.",
    ),
    "weapons.not_found": (
        "Dat wapen kon ik niet vinden (misschien is het al verwijderd).",
        "I couldn't find that weapon (perhaps it was deleted).",
    ),
    "weapons.err.date": (
        "Dat is geen datum die ik herken. Typ bijvoorbeeld 21-11-2026 of 2026-11-21.",
        "That is not a date I recognise. Type for example 21-11-2026 or 2026-11-21.",
    ),
    "weapons.err.future": (
        "Een aankoopdatum kan niet in de toekomst liggen.",
        "A purchase date cannot be in the future.",
    ),
    "weapons.use_buttons": (
        "Kies een van de knoppen, of stop met /annuleer.",
        "Choose one of the buttons, or stop with /cancel.",
    ),
    "weapons.upload": (
        "Foto's en pdf's horen bij een sessie; deze heb ik niet bewaard. Sluit eerst het "
        "wapenmenu met /annuleer en stuur het bestand dan opnieuw.",
        "Photos and PDFs belong to a session; I did not keep this one. Close the weapons menu "
        "with /cancel first, then send the file again.",
    ),
    "weapons.closed": ("Klaar met je wapens.", "Done with your weapons."),
    "weapons.cancelled": ("Geannuleerd.", "Cancelled."),
}


def _spec(weapon: Weapon, **changes: object) -> WeaponSpec:
    """The weapon as a spec with some fields replaced (validated by WeaponSpec)."""
    values = {f.name: getattr(weapon, f.name) for f in fields(WeaponSpec)} | changes
    return WeaponSpec(**values)


def _weapon_id(state: State) -> int:
    value = state.data.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class WeaponsFlow:
    name = "weapons"

    async def start(self, ctx: Context, args: str) -> Turn:
        return await self._list(ctx)

    async def prompt(self, ctx: Context, state: State) -> Turn:
        return await self._show(ctx, state)

    async def on_cancel(self, ctx: Context, state: State) -> Turn:
        return Turn([reply(ctx.t("weapons.cancelled"))], None)

    async def on_upload(self, ctx: Context, state: State, upload: StoredUpload) -> Turn:
        return Turn([reply(ctx.t("weapons.upload"))], state if state.step else None)

    async def on_text(self, ctx: Context, state: State, text: str) -> Turn:
        try:
            if state.step == "add_name":
                return await self._add_name(ctx, state, text)
            if state.step == "add_caliber":
                return await self._add_caliber(ctx, state, text)
            if state.step == "edit":
                return await self._edit(ctx, state, text)
            if not state.step:
                return await self._list(ctx)
            return await self._show(ctx, state, ctx.t("weapons.use_buttons"))
        except NotFound:
            return await self._list(ctx, ctx.t("weapons.not_found"))

    async def on_press(self, ctx: Context, state: State, action: str) -> Turn:
        verb, _, arg = action.partition(":")
        if verb not in _PRESSES.get(state.step, set()):
            return await self._show(ctx, state)
        try:
            return await self._press(ctx, state, verb, arg)
        except NotFound:
            return await self._list(ctx, ctx.t("weapons.not_found"))

    # --- presses ----------------------------------------------------------------------------

    async def _press(self, ctx: Context, state: State, verb: str, arg: str) -> Turn:
        wid = _weapon_id(state)
        moves: dict[str, Callable[[], Awaitable[Turn]]] = {
            "v": lambda: self._view(ctx, int(arg) if _ID.fullmatch(arg) else 0),
            "add": lambda: self._show(ctx, State(self.name, "add_name")),
            "done": lambda: self._close(ctx),
            "t": lambda: self._chose_type(ctx, state, arg),
            "skip": lambda: self._add_caliber(ctx, state, CLEAR),
            "e": lambda: self._show(ctx, State(self.name, "edit", {"id": wid, "field": arg})),
            "type": lambda: self._show(ctx, State(self.name, "edit_type", {"id": wid})),
            "lic": lambda: self._change(ctx, wid, verb),
            "ret": lambda: self._change(ctx, wid, verb),
            "react": lambda: self._change(ctx, wid, verb),
            "del": lambda: self._ask_delete(ctx, wid),
            "ai": lambda: self._trends(ctx, wid),
            "yes": lambda: self._delete(ctx, wid),
            "no": lambda: self._view(ctx, wid),
            "view": lambda: self._view(ctx, wid),
            "back": lambda: self._list(ctx),
        }
        if verb == "e" and arg not in FIELDS:
            verb = "view"
        return await moves[verb]()

    async def _close(self, ctx: Context) -> Turn:
        return Turn([reply(ctx.t("weapons.closed"))], None)

    async def _change(self, ctx: Context, wid: int, verb: str) -> Turn:
        """``lic`` toggles "on my licence", ``ret`` retires as of today, ``react`` undoes it."""
        weapon = await ctx.weapons.get(wid)
        if verb == "lic":
            await ctx.weapons.update(wid, _spec(weapon, licensed=not weapon.licensed))
            return await self._view(ctx, wid, ctx.t("weapons.saved"))
        if verb == "ret" and weapon.active:  # retiring again would move the date
            await ctx.weapons.retire(wid, on=ctx.today())
            return await self._view(ctx, wid, ctx.t("weapons.retired", name=weapon.name))
        if verb == "react" and not weapon.active:
            await ctx.weapons.reactivate(wid)
            return await self._view(ctx, wid, ctx.t("weapons.reactivated", name=weapon.name))
        return await self._view(ctx, wid)

    async def _trends(self, ctx: Context, wid: int) -> Turn:
        """Queue the weapon's AI trends; they arrive as a message, the view stays."""
        weapon = await ctx.weapons.get(wid)
        used = (await ctx.weapons.usage()).get(wid)
        if used is None:  # no history, no trends (the button is not shown: a forged press)
            return await self._view(ctx, wid)
        await request_insight(ctx, weapon.id)
        return await self._view(ctx, wid, ctx.t("ai.insight_queued", weapon=weapon.name))

    async def _chose_type(self, ctx: Context, state: State, value: str) -> Turn:
        if value not in set(WeaponType):
            return await self._show(ctx, state)
        if state.step == "add_type":
            data = {"name": state.data.get("name"), "type": value}
            return await self._show(ctx, State(self.name, "add_caliber", data))
        wid = _weapon_id(state)
        weapon = await ctx.weapons.get(wid)
        await ctx.weapons.update(wid, _spec(weapon, weapon_type=WeaponType(value)))
        return await self._view(ctx, wid, ctx.t("weapons.saved"))

    async def _ask_delete(self, ctx: Context, wid: int) -> Turn:
        weapon = await ctx.weapons.get(wid)
        used = (await ctx.weapons.usage()).get(wid)
        if used is not None and used.entries:
            note = ctx.t("weapons.in_use", name=weapon.name, entries=used.entries)
            return await self._view(ctx, wid, note)
        return await self._show(ctx, State(self.name, "confirm", {"id": wid}))

    async def _delete(self, ctx: Context, wid: int) -> Turn:
        weapon = await ctx.weapons.get(wid)
        try:
            paths = await ctx.weapons.delete(wid)
        except WeaponInUse as used:
            note = ctx.t("weapons.in_use", name=weapon.name, entries=used.entries)
            return await self._view(ctx, wid, note)
        turn = await self._list(ctx, ctx.t("weapons.deleted", name=weapon.name))
        turn.remove_files.extend(paths)
        return turn

    # --- typed input ------------------------------------------------------------------------

    async def _add_name(self, ctx: Context, state: State, text: str) -> Turn:
        try:
            spec = WeaponSpec(name=text)
        except InvalidInput as error:
            return await self._show(ctx, state, self._problem(ctx.t, error, "name"))
        return await self._show(ctx, State(self.name, "add_type", {"name": spec.name}))

    async def _add_caliber(self, ctx: Context, state: State, text: str) -> Turn:
        caliber = None if text.strip() == CLEAR else text
        try:
            spec = WeaponSpec(
                name=str(state.data.get("name")),
                weapon_type=WeaponType(str(state.data.get("type"))),
                caliber=caliber,
            )
        except InvalidInput as error:
            return await self._show(ctx, state, self._problem(ctx.t, error, "cal"))
        weapon = await ctx.weapons.add(spec)
        return await self._view(ctx, weapon.id, ctx.t("weapons.added", name=weapon.name))

    async def _edit(self, ctx: Context, state: State, text: str) -> Turn:
        code = str(state.data.get("field"))
        wid = _weapon_id(state)
        weapon = await ctx.weapons.get(wid)
        value: object = None if text.strip() == CLEAR else text
        if code == "bought" and value is not None:
            value = formatting.parse_day(text)
            if value is None or value > ctx.today():
                why = "weapons.err.date" if value is None else "weapons.err.future"
                return await self._show(ctx, state, ctx.t(why))
        try:
            spec = _spec(weapon, **{FIELDS.get(code, "name"): value})
        except InvalidInput as error:
            return await self._show(ctx, state, self._problem(ctx.t, error, code))
        await ctx.weapons.update(wid, spec)
        return await self._view(ctx, wid, ctx.t("weapons.saved"))

    @staticmethod
    def _problem(t: Translator, error: InvalidInput, code: str) -> str:
        return problem(t, error, t(f"weapons.f.{code}"))

    # --- showing ----------------------------------------------------------------------------

    async def _show(self, ctx: Context, state: State, *notes: str) -> Turn:
        """Show ``state``'s step (again), with ``notes`` (e.g. why the input was refused) first."""
        t, step = ctx.t, state.step
        if step == "view":
            return await self._view(ctx, _weapon_id(state), *notes)
        if step in {"edit", "edit_type", "confirm"}:
            weapon = await ctx.weapons.get(_weapon_id(state))
            text, rows = self._ask_about(ctx, state, weapon)
        elif step == "add_name":
            text, rows = t("weapons.ask.name"), []
        elif step == "add_type":
            text, rows = t("weapons.ask.type", name=state.data.get("name")), self._types(ctx)
        elif step == "add_caliber":
            text = t("weapons.ask.caliber", name=state.data.get("name"))
            rows = [[ctx.button(t("weapons.btn.skip"), "skip")]]
        else:
            return await self._list(ctx, *notes)
        return Turn([reply("\n\n".join([*notes, text]), *rows)], state)

    def _ask_about(
        self, ctx: Context, state: State, weapon: Weapon
    ) -> tuple[str, list[list[Button]]]:
        t = ctx.t
        back = [ctx.button(t("weapons.btn.to_view"), "view")]
        if state.step == "edit_type":
            return t("weapons.ask.type", name=weapon.name), [*self._types(ctx), back]
        if state.step == "confirm":
            yes = ctx.button(t("weapons.btn.yes"), "yes")
            return t("weapons.confirm", name=weapon.name), [
                [yes, ctx.button(t("weapons.btn.no"), "no")]
            ]
        code = str(state.data.get("field"))
        if code == "name":
            return t("weapons.ask.rename", name=weapon.name), [back]
        current = getattr(weapon, FIELDS.get(code, "name"))
        key = "weapons.ask.date" if code == "bought" else "weapons.ask.edit"
        value = shown(t, current)
        return t(key, field=t(f"weapons.f.{code}"), name=weapon.name, current=value), [back]

    def _types(self, ctx: Context) -> list[list[Button]]:
        buttons = [
            ctx.button(ctx.t(f"weapons.type.{kind.value}"), f"t:{kind.value}")
            for kind in WeaponType
        ]
        return chunked(buttons, 2)

    async def _list(self, ctx: Context, *notes: str) -> Turn:
        t = ctx.t
        weapons = await ctx.weapons.list_weapons(include_retired=True)
        usage = await ctx.weapons.usage()
        lines = [t("weapons.title")] if weapons else [t("weapons.empty")]
        lines.extend(self._line(t, weapon, usage.get(weapon.id)) for weapon in weapons)
        text = "\n\n".join([*notes, "\n".join(lines)])
        buttons = [ctx.button(_label(t, weapon), f"v:{weapon.id}") for weapon in weapons]
        tail = [ctx.button(t("weapons.btn.add"), "add"), ctx.button(t("weapons.btn.done"), "done")]
        return Turn([reply(text, *chunked(buttons, 2), tail)], State(self.name, "list"))

    def _line(self, t: Translator, weapon: Weapon, usage: WeaponUsage | None) -> str:
        caliber = f", {weapon.caliber}" if weapon.caliber else ""
        kind = t(f"weapons.type.{weapon.weapon_type.value}")
        return t(
            "weapons.line",
            name=_label(t, weapon),
            kind=kind,
            caliber=caliber,
            usage=_usage(t, usage),
        )

    async def _view(self, ctx: Context, wid: int, *notes: str) -> Turn:
        weapon = await ctx.weapons.get(wid)
        usage = (await ctx.weapons.usage()).get(weapon.id)
        text = "\n\n".join([*notes, _details(ctx.t, weapon, usage)])
        rows = self._view_buttons(ctx, weapon, used=usage is not None)
        return Turn([reply(text, *rows)], State(self.name, "view", {"id": weapon.id}))

    @staticmethod
    def _view_buttons(ctx: Context, weapon: Weapon, *, used: bool) -> list[list[Button]]:
        t = ctx.t
        edits = [
            ctx.button(t("weapons.btn.edit", field=t(f"weapons.f.{code}")), f"e:{code}")
            for code in FIELDS
        ]
        edits.insert(2, ctx.button(t("weapons.btn.edit", field=t("weapons.f.type")), "type"))
        licensed = "weapons.btn.licensed_off" if weapon.licensed else "weapons.btn.licensed_on"
        if weapon.active:
            life = [ctx.button(t("weapons.btn.retire"), "ret")]
        else:
            life = [ctx.button(t("weapons.btn.reactivate"), "react")]
        if not used:  # a weapon with history can only be retired
            life.append(ctx.button(t("weapons.btn.delete"), "del"))
        trends = [ctx.button(t("weapons.btn.trends"), "ai")] if used else []
        return [
            *chunked(edits, 3),
            [ctx.button(t(licensed), "lic")],
            life,
            trends,
            [ctx.button(t("weapons.btn.back"), "back")],
        ]


def _details(t: Translator, weapon: Weapon, usage: WeaponUsage | None) -> str:
    """Every field of the weapon, serial number and storage included: it is the user's chat."""
    rows: list[tuple[str, object]] = [
        ("weapons.f.nick", weapon.nickname),
        ("weapons.f.type", t(f"weapons.type.{weapon.weapon_type.value}")),
        ("weapons.f.cal", weapon.caliber),
        ("weapons.f.serial", weapon.serial_number),
        ("weapons.f.store", weapon.storage_location),
        ("weapons.f.bought", weapon.purchase_date),
        ("weapons.f.licensed", t("weapons.yes" if weapon.licensed else "weapons.no")),
        ("weapons.f.notes", weapon.notes),
        ("weapons.f.usage", _usage(t, usage)),
    ]
    if weapon.retired_on is not None:
        rows.append(("weapons.f.retired", weapon.retired_on))
    return "\n".join(
        [f"🔫 {weapon.name}", *(f"{t(key)}: {shown(t, value)}" for key, value in rows)]
    )


def _label(t: Translator, weapon: Weapon) -> str:
    return weapon.name if weapon.active else t("weapons.retired_mark", name=weapon.name)


def _usage(t: Translator, usage: WeaponUsage | None) -> str:
    if usage is None or not usage.entries:
        return t("weapons.unused")
    last = formatting.day(usage.last_used) if usage.last_used else t("field.none")
    return t("weapons.usage", entries=usage.entries, shots=usage.shots, last=last)
