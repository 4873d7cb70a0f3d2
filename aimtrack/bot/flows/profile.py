"""/profiel: name, KNSA number, club, licence, language and time zone.

Steps (``State.step``; ``data["field"]`` is the field being edited):

- ``show``: the profile; ``e:<field>`` edits a typed field, ``lang`` picks the language,
  ``done`` closes.
- ``edit`` (typed; ``-`` clears an optional field; ``view`` goes back): the value is checked by
  building a new :class:`ProfileSpec` from the profile with that one field replaced; a refused
  value asks again with the reason.
- ``lang`` (``l:nl`` / ``l:en``; ``view`` goes back): the reply to the choice is already in
  the new language.
- ``rem`` (``r:on`` / ``r:off``; ``view`` goes back): reminders, explained, switched on or off
  (off by default; see :mod:`aimtrack.core.reminders`).
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from typing import Final
from zoneinfo import available_timezones

from aimtrack.bot.flow import Context, State, StoredUpload, Turn, chunked, reply
from aimtrack.bot.flows.fields import CLEAR, problem, shown
from aimtrack.core import formatting, reminders
from aimtrack.core.errors import InvalidInput
from aimtrack.core.i18n import Catalogue, Translator
from aimtrack.core.licence import REQUIRED_CLUB, REQUIRED_DAYS, REQUIRED_KNSA
from aimtrack.core.model import Language, Profile, ProfileSpec

# Short codes on buttons → ProfileSpec fields, in the order they are shown.
FIELDS: Final = {
    "name": "display_name",
    "knsa": "knsa_number",
    "club": "club",
    "licnr": "licence_number",
    "expiry": "licence_expiry",
    "tz": "timezone",
}
_SHOWN: Final = ("name", "knsa", "club", "licnr", "expiry", "lang", "tz")

TEXTS: Final[Catalogue] = {
    "profile.title": ("👤 Je profiel", "👤 Your profile"),
    "profile.f.name": ("Naam", "Name"),
    "profile.f.knsa": ("KNSA-nummer", "KNSA number"),
    "profile.f.club": ("Vereniging", "Club"),
    "profile.f.licnr": ("Verlofnummer", "Licence number"),
    "profile.f.expiry": ("Verlof geldig tot", "Licence valid until"),
    "profile.f.tz": ("Tijdzone", "Time zone"),
    "profile.f.lang": ("Taal", "Language"),
    "profile.f.rem": ("Herinneringen", "Reminders"),
    "profile.rem.on": ("aan", "on"),
    "profile.rem.off": ("uit", "off"),
    "profile.expired": ("{date} (verlopen!)", "{date} (expired!)"),
    "profile.lang.nl": ("Nederlands", "Nederlands"),
    "profile.lang.en": ("English", "English"),
    "profile.btn.edit": ("✏️ {field}", "✏️ {field}"),
    "profile.btn.back": ("↩️ Terug", "↩️ Back"),
    "profile.btn.done": ("✔️ Klaar", "✔️ Done"),
    "profile.btn.rem": ("🔔 Herinneringen", "🔔 Reminders"),
    "profile.btn.rem_on": ("🔔 Aan", "🔔 On"),
    "profile.btn.rem_off": ("🔕 Uit", "🔕 Off"),
    "profile.ask.edit": (
        "{field} (nu: {current}). Typ de nieuwe waarde; met '-' maak je het leeg.",
        "{field} (now: {current}). Type the new value; '-' clears it.",
    ),
    "profile.ask.name": (
        "Hoe wil je genoemd worden? (nu: {current})",
        "What should I call you? (now: {current})",
    ),
    "profile.ask.expiry": (
        "Tot wanneer is je verlof geldig? (nu: {current}) Typ een datum als 31-12-2027 of "
        "2027-12-31; met '-' maak je het leeg.",
        "Until when is your licence valid? (now: {current}) Type a date like 31-12-2027 or "
        "2027-12-31; '-' clears it.",
    ),
    "profile.ask.tz": (
        "In welke tijdzone schiet je? (nu: {current}) Typ bijvoorbeeld Europe/Amsterdam.",
        "Which time zone do you shoot in? (now: {current}) Type for example Europe/Amsterdam.",
    ),
    "profile.ask.lang": ("In welke taal zal ik schrijven?", "Which language should I write in?"),
    "profile.ask.rem": (
        "Herinneringen (nu: {current}). Staan ze aan, dan krijg je hooguit één keer per week "
        "een bericht als je verlof binnen {months} maanden verloopt en je nog geen {days} "
        "schietdagen hebt, of (hooguit eens per vier weken) als je dit jaar achterloopt met "
        "wedstrijden ({knsa} KNSA of {club} club); en één keer als een concept (foto nu, "
        "details later) een dag open staat. Alleen tussen {start} en {end} in je eigen "
        "tijdzone ({zone}).",
        "Reminders (now: {current}). When they are on, you get a message at most once a week "
        "when your licence expires within {months} months and you have fewer than {days} "
        "shooting days, or (at most every four weeks) when you are behind with this year's "
        "matches ({knsa} KNSA or {club} club); and once when a draft (photo now, details "
        "later) has been open for a day. Only between {start} and {end} in your own time "
        "zone ({zone}).",
    ),
    "profile.saved": ("✅ Opgeslagen.", "✅ Saved."),
    "profile.lang_set": ("✅ Ik schrijf nu in het Nederlands.", "✅ I'll write in English now."),
    "profile.rem_set.on": ("✅ Herinneringen staan aan.", "✅ Reminders are on."),
    "profile.rem_set.off": ("✅ Herinneringen staan uit.", "✅ Reminders are off."),
    "profile.err.date": (
        "Dat is geen datum die ik herken. Typ bijvoorbeeld 31-12-2027 of 2027-12-31.",
        "That is not a date I recognise. Type for example 31-12-2027 or 2027-12-31.",
    ),
    "profile.err.tz": (
        "Die tijdzone ken ik niet. Gebruik de vorm Werelddeel/Stad, bijvoorbeeld "
        "Europe/Amsterdam of America/New_York.",
        "I don't know that time zone. Use the form Region/City, for example Europe/Amsterdam "
        "or America/New_York.",
    ),
    "profile.use_buttons": (
        "Kies een van de knoppen, of stop met /annuleer.",
        "Choose one of the buttons, or stop with /cancel.",
    ),
    "profile.upload": (
        "Foto's en pdf's horen bij een sessie; deze heb ik niet bewaard. Sluit eerst je "
        "profiel met /annuleer en stuur het bestand dan opnieuw.",
        "Photos and PDFs belong to a session; I did not keep this one. Close your profile "
        "with /cancel first, then send the file again.",
    ),
    "profile.closed": ("Je profiel is bijgewerkt.", "Your profile is up to date."),
    "profile.cancelled": ("Geannuleerd.", "Cancelled."),
}


def _spec(profile: Profile, **changes: object) -> ProfileSpec:
    """The profile as a spec with some fields replaced (validated by ProfileSpec)."""
    values = {f.name: getattr(profile, f.name) for f in fields(ProfileSpec)} | changes
    return ProfileSpec(**values)


def _time_zone(text: str) -> str:
    """The zone as typed, or its proper spelling when only the case differs."""
    typed = text.strip()
    if "/" in typed:
        wanted = typed.casefold()
        for zone in available_timezones():
            if zone.casefold() == wanted:
                return zone
    return typed


class ProfileFlow:
    name = "profile"

    async def start(self, ctx: Context, args: str) -> Turn:
        return await self._overview(ctx, ctx.t)

    async def prompt(self, ctx: Context, state: State) -> Turn:
        return await self._show(ctx, state)

    async def on_cancel(self, ctx: Context, state: State) -> Turn:
        return Turn([reply(ctx.t("profile.cancelled"))], None)

    async def on_upload(self, ctx: Context, state: State, upload: StoredUpload) -> Turn:
        return Turn([reply(ctx.t("profile.upload"))], state if state.step else None)

    async def on_text(self, ctx: Context, state: State, text: str) -> Turn:
        if state.step == "edit":
            return await self._edit(ctx, state, text)
        if not state.step:
            return await self._overview(ctx, ctx.t)
        return await self._show(ctx, state, ctx.t("profile.use_buttons"))

    async def on_press(self, ctx: Context, state: State, action: str) -> Turn:
        verb, _, arg = action.partition(":")
        if state.step == "show" and (verb in {"lang", "rem"} or (verb == "e" and arg in FIELDS)):
            data = {"field": arg} if verb == "e" else {}
            return await self._show(ctx, State(self.name, "edit" if verb == "e" else verb, data))
        if verb == "l" and state.step == "lang":
            return await self._set_language(ctx, arg)
        if verb == "r" and state.step == "rem" and arg in {"on", "off"}:
            await ctx.profiles.set_reminders(on=arg == "on")
            return await self._overview(ctx, ctx.t, ctx.t(f"profile.rem_set.{arg}"))
        if verb == "view":
            return await self._overview(ctx, ctx.t)
        if verb == "done" and state.step == "show":
            return Turn([reply(ctx.t("profile.closed"))], None)
        return await self._show(ctx, state)

    # --- changes ----------------------------------------------------------------------------

    async def _edit(self, ctx: Context, state: State, text: str) -> Turn:
        t, code = ctx.t, str(state.data.get("field"))
        if code not in FIELDS:
            return await self._overview(ctx, t)
        value: object = None if text.strip() == CLEAR else text  # the spec refuses "no name"
        if code == "expiry" and value is not None:
            value = formatting.parse_day(text)
            if value is None:
                return await self._show(ctx, state, t("profile.err.date"))
        if code == "tz" and value is not None:
            value = _time_zone(text)
        profile = await ctx.profiles.get()
        try:
            spec = _spec(profile, **{FIELDS[code]: value})
        except InvalidInput as error:
            if error.field == "timezone":
                return await self._show(ctx, state, t("profile.err.tz"))
            why = problem(t, error, t(f"profile.f.{code}"))
            return await self._show(ctx, state, why)
        await ctx.profiles.update(spec)
        return await self._overview(ctx, t, t("profile.saved"))

    async def _set_language(self, ctx: Context, value: str) -> Turn:
        if value not in set(Language):
            return await self._show(ctx, State(self.name, "lang"))
        language = Language(value)
        profile = await ctx.profiles.get()
        await ctx.profiles.update(_spec(profile, language=language))
        t = ctx.t.with_language(language)  # the reply is already in the new language
        return await self._overview(ctx, t, t("profile.lang_set"))

    # --- showing ----------------------------------------------------------------------------

    async def _show(self, ctx: Context, state: State, *notes: str) -> Turn:
        """Show ``state``'s step (again), with ``notes`` (e.g. why the input was refused) first."""
        t = ctx.t
        back = [ctx.button(t("profile.btn.back"), "view")]
        if state.step == "lang":
            choices = [
                ctx.button(t(f"profile.lang.{lang.value}"), f"l:{lang.value}") for lang in Language
            ]
            text, rows = t("profile.ask.lang"), [choices, back]
        elif state.step == "rem":
            profile = await ctx.profiles.get()
            switch = [
                ctx.button(t("profile.btn.rem_on"), "r:on"),
                ctx.button(t("profile.btn.rem_off"), "r:off"),
            ]
            text, rows = self._explain_reminders(t, profile), [switch, back]
        elif state.step == "edit" and str(state.data.get("field")) in FIELDS:
            profile = await ctx.profiles.get()
            text, rows = self._ask(t, profile, str(state.data["field"])), [back]
        else:
            return await self._overview(ctx, t, *notes)
        return Turn([reply("\n\n".join([*notes, text]), *rows)], state)

    @staticmethod
    def _ask(t: Translator, profile: Profile, code: str) -> str:
        current = shown(t, getattr(profile, FIELDS[code]))
        if code in {"name", "expiry", "tz"}:
            return t(f"profile.ask.{code}", current=current)
        return t("profile.ask.edit", field=t(f"profile.f.{code}"), current=current)

    @staticmethod
    def _explain_reminders(t: Translator, profile: Profile) -> str:
        return t(
            "profile.ask.rem",
            current=t(f"profile.rem.{'on' if profile.reminders else 'off'}"),
            months=reminders.AHEAD_MONTHS,
            days=REQUIRED_DAYS,
            knsa=REQUIRED_KNSA,
            club=REQUIRED_CLUB,
            start=f"{reminders.DAY_STARTS:%H:%M}",
            end=f"{reminders.DAY_ENDS:%H:%M}",
            zone=profile.timezone,
        )

    async def _overview(self, ctx: Context, t: Translator, *notes: str) -> Turn:
        profile = await ctx.profiles.get()
        lines = [t("profile.title")]
        lines.extend(self._line(t, profile, code, ctx.today()) for code in _SHOWN)
        switched = t(f"profile.rem.{'on' if profile.reminders else 'off'}")
        lines.append(f"{t('profile.f.rem')}: {switched}")
        buttons = [
            ctx.button(
                t("profile.btn.edit", field=t(f"profile.f.{code}")),
                "lang" if code == "lang" else f"e:{code}",
            )
            for code in _SHOWN
        ]
        buttons.append(ctx.button(t("profile.btn.rem"), "rem"))
        text = "\n\n".join([*notes, "\n".join(lines)])
        done = [ctx.button(t("profile.btn.done"), "done")]
        return Turn([reply(text, *chunked(buttons, 2), done)], State(self.name, "show"))

    @staticmethod
    def _line(t: Translator, profile: Profile, code: str, today: date) -> str:
        if code == "lang":
            value = t(f"profile.lang.{profile.language.value}")
        else:
            value = shown(t, getattr(profile, FIELDS[code]))
        expiry = profile.licence_expiry
        if code == "expiry" and expiry is not None and expiry < today:
            value = t("profile.expired", date=value)
        return f"{t(f'profile.f.{code}')}: {value}"
