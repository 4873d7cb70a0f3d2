"""The conversation core: one input in, one outcome out, state saved after every step.

``Conversation.handle`` does, for every input:

0. admit it under the sender's rate limit (the transport's :class:`Limits`, in memory): over
   it, the input is dropped before any database work, and the sender is told once;
1. find the user behind the sender (registering them on first contact when the owner allowed
   them); an unknown user is told their id to give to the owner and nothing is stored;
2. for a file: check the declared size, download it, validate it and store it on disk
   (outside any database transaction, in a thread);
3. in one transaction: claim the update id (a replayed update is handled once), load the
   flow state, let the flow take the step, save the new state;
4. after the commit: delete files that the step let go of (or the upload when nothing kept it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from aimtrack.bot import ai_requests, files
from aimtrack.bot.commands import COMMANDS, canonical
from aimtrack.bot.flow import Context, Flow, State, StoredUpload, Turn, WebLinks, reply
from aimtrack.bot.io import Command, Input, Outcome, Press, Reply, Sender, Text, Upload
from aimtrack.core.access import Access
from aimtrack.core.clock import Clock
from aimtrack.core.errors import AimTrackError, InvalidInput, NotFound
from aimtrack.core.i18n import Catalogue, Translator, build_catalogue, language_from_hint
from aimtrack.core.model import ConversationState, Language, Profile, Transport
from aimtrack.core.quota import AIQuota
from aimtrack.core.ratelimit import Admission, RateLimiter
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import ConversationRepo, ProfileRepo, UpdateLog, UserDirectory
from aimtrack.storage.repos.users import NewUserDefaults

log = logging.getLogger(__name__)

MAX_SEQ: Final = 1_000_000  # button sequence numbers wrap; only the current one is valid
MAX_TEXT_IN: Final = 10_000  # longer messages are refused before any parsing
MAX_LANGUAGES: Final = 10_000  # senders whose language the rate-limit notice remembers
# Flows whose unfinished work a command asks about (finish it, or discard it and go on)
# instead of dropping it: a session being logged.
PRECIOUS: Final = frozenset({"session"})

TEXTS: Final[Catalogue] = {
    "refused": (
        "Deze AimTrack is privé. Geef je Telegram-id {user_id} aan de beheerder; die kan je "
        "toevoegen met: aimtrack users allow {user_id}",
        "This AimTrack is private. Give your Telegram id {user_id} to its owner, who can add "
        "you with: aimtrack users allow {user_id}",
    ),
    "welcome": (
        "Welkom bij AimTrack, {name}! Log een sessie met /sessie of typ hem in één regel, "
        "bijvoorbeeld: CZ 75 25m 50 schoten 431. Voeg eerst je wapens toe met /wapens en vul "
        "je /profiel in (naam, KNSA-nummer, vereniging, verlof).",
        "Welcome to AimTrack, {name}! Log a session with /session or type it on one line, "
        "for example: CZ 75 25m 50 shots 431. Add your weapons first with /weapons and fill in "
        "your /profile (name, KNSA number, club, licence).",
    ),
    "help": (
        "Wat ik kan:\n{commands}\n\nSnel loggen: stuur één bericht zoals "
        "'CZ 75 25m 50 schoten 431' of 'gisteren walther lg 10m 40 sch 372; glock 25m 20 sch'. "
        "Stuur een foto van je kaart, ook zonder sessie: ik bewaar hem en je vult later aan.",
        "What I can do:\n{commands}\n\nQuick entry: send one message such as "
        "'CZ 75 25m 50 shots 431' or 'yesterday walther lg 10m 40 sh 372; glock 25m 20 sh'. "
        "Send a photo of your target, even without a session: I keep it and you add details "
        "later.",
    ),
    "cmd.start": ("begin en registreer", "start and register"),
    "cmd.session": ("sessie loggen (stap voor stap)", "log a session (step by step)"),
    "cmd.sessions": ("je sessies bekijken, wijzigen, verwijderen", "view, edit, delete sessions"),
    "cmd.weapons": ("je wapens beheren", "manage your weapons"),
    "cmd.profile": (
        "naam, KNSA, vereniging, verlof, taal, herinneringen",
        "name, KNSA, club, licence, language, reminders",
    ),
    "cmd.cancel": ("stoppen met wat je aan het doen bent", "stop what you are doing"),
    "cmd.help": ("deze uitleg", "this help"),
    "unknown_command": (
        "Dat commando ken ik niet. /help laat zien wat kan.",
        "I don't know that command. /help shows what I can do.",
    ),
    "cancelled": ("Geannuleerd.", "Cancelled."),
    "nothing_to_cancel": ("Er is niets om te annuleren.", "There is nothing to cancel."),
    "expired": (
        "Deze knop is verlopen; gebruik de knoppen van het laatste bericht.",
        "This button has expired; use the buttons of the latest message.",
    ),
    "chat_hint": (
        "Ik begreep dat niet als sessie. Typ bijvoorbeeld 'CZ 75 25m 50 schoten 431', of "
        "gebruik /sessie. /help laat alles zien.",
        "I didn't understand that as a session. Type for example 'CZ 75 25m 50 shots 431', or "
        "use /session. /help shows everything.",
    ),
    "slow_down": (
        "Rustig aan: je stuurt meer dan {limit} berichten per minuut; ik sla er even een paar "
        "over.",
        "Easy does it: you are sending more than {limit} messages a minute; I'm skipping a "
        "few for a moment.",
    ),
    "too_long": (
        "Dat bericht is te lang (meer dan {limit} tekens). Er is niets opgeslagen.",
        "That message is too long (over {limit} characters). Nothing was saved.",
    ),
    "guard": (
        "Je bent nog bezig met een sessie. Eerst afmaken, of weggooien en doorgaan?",
        "You are still logging a session. Finish it first, or discard it and go on?",
    ),
    "guard.keep": ("Sessie afmaken", "Finish the session"),
    "guard.drop": ("Weggooien", "Discard"),
    "not_found": (
        "Dat kon ik niet vinden (misschien al verwijderd).",
        "I couldn't find that (perhaps it was deleted).",
    ),
    "invalid": (
        "Dat kan ik zo niet opslaan ({field}: {reason}). Er is niets veranderd.",
        "I can't save that ({field}: {reason}). Nothing was changed.",
    ),
    "failed": (
        "Er ging iets mis aan mijn kant; er is niets veranderd. Probeer het zo nog eens.",
        "Something went wrong on my side; nothing was changed. Please try again shortly.",
    ),
    "upload.too_large": (
        "Dat bestand is te groot (foto's tot {photo_mb} MB, pdf's tot {pdf_mb} MB).",
        "That file is too large (photos up to {photo_mb} MB, PDFs up to {pdf_mb} MB).",
    ),
    "upload.empty": ("Dat bestand is leeg.", "That file is empty."),
    "upload.not_an_image": (
        "Dat is geen foto die ik kan lezen. Stuur een JPEG-, PNG- of WEBP-foto, of een pdf.",
        "That is not a picture I can read. Send a JPEG, PNG or WEBP photo, or a PDF.",
    ),
    "upload.unsupported": (
        "Dat soort bestand bewaar ik niet. Stuur een JPEG-, PNG- of WEBP-foto, of een pdf.",
        "I don't keep that kind of file. Send a JPEG, PNG or WEBP photo, or a PDF.",
    ),
    "upload.too_many_pixels": (
        "Die afbeelding is te groot (te veel pixels). Stuur een kleinere foto.",
        "That image is too large (too many pixels). Send a smaller photo.",
    ),
    "upload.broken": (
        "Dat bestand is beschadigd of onvolledig.",
        "That file is damaged or incomplete.",
    ),
    "upload.failed": (
        "Ik kon het bestand niet ophalen of opslaan; probeer het nog eens.",
        "I couldn't download or store the file; please try again.",
    ),
    "upload.disk_full": (
        "De schijf is vol: ik kon het bestand niet bewaren. Er is niets opgeslagen of "
        "veranderd; vraag de beheerder om ruimte te maken en stuur het dan nog eens.",
        "The disk is full: I couldn't store the file. Nothing was saved or changed; ask the "
        "owner to make room, then send it again.",
    ),
}


Action = Callable[[Context, State | None, str], Awaitable[Turn]]
"""A button that works outside any flow (``"!<name>:<arg>"``), such as "regenerate" under a
reflection pushed long after its turn: it carries no sequence number, so it never expires."""


@dataclass(frozen=True, slots=True)
class Limits:
    """What each user of one transport may do (docs/abuse.md); None: no limit.

    ``messages``: inputs a minute, checked before any database work, in memory (a restart
    resets it). ``ai``: AI requests an hour and a day, counted from the ``jobs`` table."""

    messages: RateLimiter | None = None
    ai: AIQuota | None = None


class Conversation:
    def __init__(
        self,
        db: Database,
        *,
        clock: Clock,
        data_dir: Path,
        flows: Mapping[str, Flow],
        catalogue: Mapping[str, tuple[str, str]],
        access: Access | None = None,
        defaults: NewUserDefaults | None = None,
        text_flow: str = "session",
        actions: Mapping[str, Action] | None = None,
        job_attempts: int = 5,
        on_jobs: Callable[[], None] | None = None,
        web_links: WebLinks | None = None,
        limits: Mapping[Transport, Limits] | None = None,
    ) -> None:
        """``on_jobs`` is called after a turn that queued a job has committed (the worker's
        wake-up); ``limits`` hold what each user of a transport may do (none: no limits, as
        for the console chat, whose user owns the data)."""
        self.db = db
        self.clock = clock
        self.data_dir = data_dir
        self.flows = dict(flows)
        self.catalogue = catalogue
        self.access = access or Access()
        self.defaults = defaults or NewUserDefaults()
        self.text_flow = text_flow
        self.actions = dict(actions or {})
        self.job_attempts = job_attempts
        self.on_jobs = on_jobs
        self.web_links = web_links
        self.limits = dict(limits or {})
        self._languages: dict[tuple[str, str], Language] = {}  # for the rate-limit notice

    def translator(self, language: Language) -> Translator:
        return Translator(self.catalogue, language)

    async def handle(self, sender: Sender, item: Input, *, update_id: int | None = None) -> Outcome:
        refused = self._admit(sender)
        if refused is not None:
            return refused
        return await self._handle(sender, item, update_id)

    async def _handle(self, sender: Sender, item: Input, update_id: int | None) -> Outcome:
        profile = await self._known(sender)
        if isinstance(profile, Reply):
            return Outcome((profile,))
        self._remember_language(sender, profile.language)
        t = self.translator(profile.language)
        if isinstance(item, Text) and len(item.text) > MAX_TEXT_IN:
            return Outcome((Reply(t("too_long", limit=MAX_TEXT_IN)),))
        stored: StoredUpload | None = None
        if isinstance(item, Upload):
            received = await self._receive(profile.user_id, item, t)
            if isinstance(received, Reply):
                return Outcome((received,))
            stored = received
        try:
            turn = await self._step(sender, profile, item, stored, update_id)
        except Exception as error:  # noqa: BLE001 -- every failure gets a reply; bugs are logged
            if stored is not None:
                await asyncio.to_thread(files.remove_stored, self.data_dir, stored.path)
            return Outcome((Reply(self._error_text(t, profile, error)),))
        if turn is None:
            return Outcome(duplicate=True)
        for path in turn.remove_files:
            await asyncio.to_thread(files.remove_stored, self.data_dir, path)
        if turn.wake_jobs and self.on_jobs is not None:
            self.on_jobs()
        return Outcome(tuple(turn.replies), notice=turn.notice)

    def _admit(self, sender: Sender) -> Outcome | None:
        """None when the input may be handled; else what to answer instead: the notice the
        first time the sender goes over their rate limit, nothing after that. Either way no
        database is touched — the update id is not even claimed, since the update was not
        handled (a redelivery of it is handled if the limit allows by then)."""
        limiter = self.limits.get(sender.transport, Limits()).messages
        if limiter is None:
            return None
        key = (sender.transport, sender.external_id)
        admission = limiter.admit(key)
        if admission is Admission.ADMIT:
            return None
        if admission is Admission.DROP:
            return Outcome(dropped=True)
        language = self._languages.get(key) or language_from_hint(sender.language_hint)
        notice = self.translator(language)("slow_down", limit=limiter.limit.per_minute)
        log.info("rate limit: %s user %s is over it", sender.transport, sender.external_id)
        return Outcome((Reply(notice),))

    def _remember_language(self, sender: Sender, language: Language) -> None:
        if sender.transport not in self.limits:
            return
        if len(self._languages) >= MAX_LANGUAGES:
            self._languages.clear()  # a fallback to the chat app's language at worst
        self._languages[(sender.transport, sender.external_id)] = language

    def _error_text(self, t: Translator, profile: Profile, error: Exception) -> str:
        if isinstance(error, ai_requests.AIQuotaUsed):
            return ai_requests.quota_text(
                t,
                error.used,
                timezone=profile.timezone,
                now=self.clock.now(),
                key="ai_quota.used",
            )
        return _error_text(t, error)

    async def _known(self, sender: Sender) -> Profile | Reply:
        """The user behind the sender, or the reply for one who cannot be served: not allowed,
        or not found out at all (the database stayed locked past its busy timeout, or is
        down): then the user is asked to try again, and nothing was stored."""
        t = self.translator(language_from_hint(sender.language_hint))
        try:
            profile = await self._profile(sender)
        except Exception as error:  # noqa: BLE001 -- every failure gets a reply; bugs are logged
            return Reply(_error_text(t, error))
        return Reply(t("refused", user_id=sender.external_id)) if profile is None else profile

    async def _profile(self, sender: Sender) -> Profile | None:
        """The user behind the sender, registering an allowed user on first contact."""
        async with self.db.transaction() as db:
            users = UserDirectory(db, self.defaults)
            found = await users.find(sender.transport, sender.external_id)
            if found is None or not found.is_allowed:
                if not self._granted(sender):
                    return None
                found = await users.register(
                    sender.transport,
                    sender.external_id,
                    display_name=sender.display_name,
                    allowed=True,
                )
            return await ProfileRepo(db, found.user_id).get()

    def _granted(self, sender: Sender) -> bool:
        return self.access.grants(sender.transport, sender.external_id)

    async def _receive(self, user_id: int, upload: Upload, t: Translator) -> StoredUpload | Reply:
        limit = files.MAX_PHOTO_BYTES
        if upload.declared_size is not None and upload.declared_size > limit:
            return self._rejection(t, files.Rejection.TOO_LARGE)
        try:
            data = await upload.fetch()
            if upload.kind == "photo":
                checked = await asyncio.to_thread(files.check_image, data)
            else:
                checked = await asyncio.to_thread(
                    files.check_upload, data, declared_mime=upload.mime, file_name=upload.file_name
                )
            path = await asyncio.to_thread(
                files.store_upload, self.data_dir, user_id, checked, data
            )
        except files.UploadRejected as rejected:
            return self._rejection(t, rejected.reason)
        except Exception as error:
            log.exception("could not receive an upload")
            return Reply(t("upload.disk_full" if files.is_disk_full(error) else "upload.failed"))
        return StoredUpload(path, checked, upload.file_name, upload.caption)

    @staticmethod
    def _rejection(t: Translator, reason: files.Rejection) -> Reply:
        return Reply(
            t(
                f"upload.{reason.value}",
                photo_mb=files.MAX_PHOTO_BYTES // 2**20,
                pdf_mb=files.MAX_PDF_BYTES // 2**20,
            )
        )

    async def _step(
        self,
        sender: Sender,
        profile: Profile,
        item: Input,
        stored: StoredUpload | None,
        update_id: int | None,
    ) -> Turn | None:
        async with self.db.transaction() as db:
            if update_id is not None and not await UpdateLog(db).claim(sender.transport, update_id):
                return None
            conversations = ConversationRepo(db, profile.user_id)
            saved = await conversations.load(sender.transport, sender.chat_id)
            state = None if saved is None else State(saved.flow, saved.step, dict(saved.draft))
            if state is not None and state.flow not in self.flows:
                state = None  # a flow that no longer exists: start afresh
            seq = _seq(state) % MAX_SEQ + 1
            ctx = Context(
                db=db,
                user_id=profile.user_id,
                profile=profile,
                clock=self.clock,
                data_dir=self.data_dir,
                t=self.translator(profile.language),
                sender=sender,
                seq=seq,
                job_attempts=self.job_attempts,
                web_links=self.web_links,
                ai_quota=self.limits.get(sender.transport, Limits()).ai,
            )
            turn = await self._dispatch(ctx, state, item, stored)
            turn.wake_jobs = turn.wake_jobs or ctx.jobs_queued
            if stored is not None and not ctx.upload_used:
                turn.remove_files.append(stored.path)
            if turn.state is None:
                await conversations.clear(sender.transport, sender.chat_id)
            else:
                if _left_alone(item, state, turn, seq):
                    seq = _seq(state)  # the open flow's buttons stay as they were
                turn.state.data["seq"] = seq
                await conversations.save(
                    ConversationState(
                        transport=sender.transport,
                        chat_id=sender.chat_id,
                        flow=turn.state.flow,
                        step=turn.state.step,
                        draft=turn.state.data,
                    )
                )
            return turn

    async def _dispatch(
        self, ctx: Context, state: State | None, item: Input, stored: StoredUpload | None
    ) -> Turn:
        if isinstance(item, Command):
            return await self._command(ctx, state, item)
        if isinstance(item, Press):
            return await self._press(ctx, state, item.data)
        if stored is not None:
            flow = self.flows[state.flow if state else self.text_flow]
            if state is None:
                state = State(self.text_flow, "", {})
            return await flow.on_upload(ctx, state, stored)
        assert isinstance(item, Text)  # noqa: S101 -- Upload always arrives as `stored`
        if state is None:
            state = State(self.text_flow, "", {})
        return await self.flows[state.flow].on_text(ctx, state, item.text)

    async def _press(self, ctx: Context, state: State | None, data: str) -> Turn:
        if data.startswith("!"):  # a flow-independent action: never expires
            name, _, arg = data[1:].partition(":")
            handler = self.actions.get(name)
            if handler is None:
                return Turn([], state, notice=ctx.t("expired"))
            return await handler(ctx, state, arg)
        seq, _, action = data.partition(":")
        if state is None or seq != str(_seq(state)):
            return Turn([], state, notice=ctx.t("expired"))
        if action.startswith("guard:"):
            return await self._guard(ctx, state, action.removeprefix("guard:"))
        return await self.flows[state.flow].on_press(ctx, state, action)

    async def _command(  # noqa: PLR0911 -- one return per command
        self, ctx: Context, state: State | None, command: Command
    ) -> Turn:
        t = ctx.t
        key = canonical(command.name, admin=ctx.profile.is_admin)
        if key is None:
            return Turn([reply(t("unknown_command"))], state)
        if key == "help":
            return Turn([reply(self.help_text(t))], state)
        if key == "start":
            name = ctx.profile.display_name or ctx.sender.display_name or ""
            return Turn([reply(t("welcome", name=name))], state)
        if key == "cancel":
            if state is None:
                return Turn([reply(t("nothing_to_cancel"))], None)
            return await self.flows[state.flow].on_cancel(ctx, state)
        if state is not None and state.flow == key and not command.args:
            return await self.flows[key].prompt(ctx, state)
        if state is not None and state.flow in PRECIOUS and state.step:
            state.data["guard"] = [key, command.args]
            keep = ctx.button(t("guard.keep"), "guard:keep")
            drop = ctx.button(t("guard.drop"), "guard:drop")
            return Turn([reply(t("guard"), [keep, drop])], state)
        if state is not None:
            return await self._switch(ctx, state, key, command.args)
        return await self.flows[key].start(ctx, command.args)

    async def _guard(self, ctx: Context, state: State, choice: str) -> Turn:
        key, args = state.data.pop("guard", [None, ""])
        if choice == "drop" and isinstance(key, str) and key in self.flows:
            return await self._switch(ctx, state, key, str(args))
        return await self.flows[state.flow].prompt(ctx, state)

    async def _switch(self, ctx: Context, state: State, key: str, args: str) -> Turn:
        """End the open flow (keeping its goodbye and the files it lets go of), start ``key``."""
        dropped = await self.flows[state.flow].on_cancel(ctx, state)
        turn = await self.flows[key].start(ctx, args)
        turn.remove_files.extend(dropped.remove_files)
        turn.replies[:0] = dropped.replies
        return turn

    def help_text(self, t: Translator) -> str:
        lines = [f"/{c.name(t.language)} — {t('cmd.' + c.key)}" for c in COMMANDS]
        return t("help", commands="\n".join(lines))


def _left_alone(item: Input, state: State | None, turn: Turn, seq: int) -> bool:
    """Whether a flow-independent button (``!name:arg``, under a pushed message) left the open
    flow as it was: same state, and no button of this turn's sequence shown. Then the flow's
    buttons on screen must keep working rather than turn "expired"."""
    if not (isinstance(item, Press) and item.data.startswith("!")) or turn.state is not state:
        return False
    mine = f"{seq}:"
    return not any(b.data.startswith(mine) for r in turn.replies for row in r.buttons for b in row)


def _seq(state: State | None) -> int:
    value = None if state is None else state.data.get("seq")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _error_text(t: Translator, error: Exception) -> str:
    if isinstance(error, NotFound):
        return t("not_found")
    if isinstance(error, InvalidInput):
        return t("invalid", field=error.field, reason=error.reason)
    if not isinstance(error, AimTrackError):
        log.exception("a conversation step failed", exc_info=error)
    return t("failed")


def catalogue(*parts: Catalogue) -> dict[str, tuple[str, str]]:
    return build_catalogue(TEXTS, ai_requests.TEXTS, *parts)
