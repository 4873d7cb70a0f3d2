"""/mijndata (/mydata): everything AimTrack keeps of the user, as a zip file.

One step: the command queues the job (see :mod:`aimtrack.jobs.mydata`) and the flow is
over; the archive arrives as a document. The flow never holds a state, so its other hooks
only answer a state that cannot be there.
"""

from __future__ import annotations

from typing import Final

from aimtrack.bot.flow import Context, State, StoredUpload, Turn, reply
from aimtrack.core.i18n import Catalogue
from aimtrack.jobs.mydata import MYDATA, MYDATA_ATTEMPTS, mydata_key

NAME: Final = "mydata"

TEXTS: Final[Catalogue] = {
    "cmd.mydata": ("al je gegevens als zip-bestand", "all your data as a zip file"),
    "mydata.queued": (
        "⏳ Ik verzamel alles wat ik van je bewaar, met je foto's en pdf's; het komt zo als "
        "zip-bestand.",
        "⏳ I am gathering everything I keep of you, with your photos and PDFs; it will arrive "
        "as a zip file shortly.",
    ),
}


class MyDataFlow:
    name = NAME

    async def start(self, ctx: Context, args: str) -> Turn:
        # Asked again while it waits, the waiting job stays the only one.
        await ctx.enqueue(MYDATA, {}, max_attempts=MYDATA_ATTEMPTS, key=mydata_key(ctx.user_id))
        return Turn([reply(ctx.t("mydata.queued"))], None)

    async def prompt(self, ctx: Context, state: State) -> Turn:
        return await self.start(ctx, "")

    async def on_cancel(self, ctx: Context, state: State) -> Turn:
        return Turn([], None)

    async def on_text(self, ctx: Context, state: State, text: str) -> Turn:
        return Turn([], None)

    async def on_press(self, ctx: Context, state: State, action: str) -> Turn:
        return Turn([], None)

    async def on_upload(self, ctx: Context, state: State, upload: StoredUpload) -> Turn:
        return Turn([], None)
