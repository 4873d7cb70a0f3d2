"""/web: a one-time link to the web page (sessions and the register export), valid 15 minutes.

The link is bound to the user and opens the page once; the page is in the profile's language.
Without ``AIMTRACK_SECRET_KEY`` there is no web page, and the reply says which setting to set.
A one-step flow: it never keeps a state.
"""

from __future__ import annotations

from typing import Final

from aimtrack.bot.flow import Context, State, StoredUpload, Turn, reply
from aimtrack.core.i18n import Catalogue

NAME: Final = "web"
VALID_MINUTES: Final = 15  # aimtrack.web.links.LINK_TTL

TEXTS: Final[Catalogue] = {
    "cmd.web": (
        "link naar je webpagina (sessies, export)",
        "link to your web page (sessions, export)",
    ),
    "web.link": (
        "🌐 Je webpagina, met je sessies en de export van je register:\n{url}\n\n"
        "De link werkt één keer en {minutes} minuten lang; deel hem met niemand.",
        "🌐 Your web page, with your sessions and the export of your register:\n{url}\n\n"
        "The link works once and for {minutes} minutes; share it with no one.",
    ),
    "web.not_set_up": (
        "De webpagina is niet ingesteld. De beheerder zet hem aan met AIMTRACK_SECRET_KEY "
        "(en AIMTRACK_PUBLIC_URL voor het adres).",
        "The web page is not set up. The owner turns it on with AIMTRACK_SECRET_KEY "
        "(and AIMTRACK_PUBLIC_URL for its address).",
    ),
}


class WebFlow:
    name = NAME

    async def start(self, ctx: Context, args: str) -> Turn:
        if ctx.web_links is None:
            return Turn([reply(ctx.t("web.not_set_up"))], None)
        url = ctx.web_links.link_for(ctx.user_id, now=ctx.clock.now())
        return Turn([reply(ctx.t("web.link", url=url, minutes=VALID_MINUTES))], None)

    # The flow keeps no state, so the core never calls these; they end it should it happen.
    async def prompt(self, ctx: Context, state: State) -> Turn:
        return await self.start(ctx, "")

    async def on_text(self, ctx: Context, state: State, text: str) -> Turn:
        return await self.start(ctx, "")

    async def on_press(self, ctx: Context, state: State, action: str) -> Turn:
        return Turn([], None, notice=ctx.t("expired"))

    async def on_upload(self, ctx: Context, state: State, upload: StoredUpload) -> Turn:
        return Turn([], None)

    async def on_cancel(self, ctx: Context, state: State) -> Turn:
        return Turn([reply(ctx.t("cancelled"))], None)
