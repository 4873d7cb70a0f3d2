"""/mijndata (/mydata): everything AimTrack keeps of the user, as a zip file.

One step: the command queues the job (see :mod:`aimtrack.bot.mydata_jobs`) and the flow is
over; the archive arrives as a document. The flow never holds a state, so its other hooks
only answer a state that cannot be there.
"""

from __future__ import annotations

from typing import Final

from aimtrack.bot.flow import Context, State, StoredUpload, Turn, reply
from aimtrack.bot.mydata_jobs import request_mydata

NAME: Final = "mydata"


class MyDataFlow:
    name = NAME

    async def start(self, ctx: Context, args: str) -> Turn:
        await request_mydata(ctx)
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
