"""/coach: ask the AI coach about your own shooting, then keep talking in that thread.

Steps (``State.step``; the keys of ``data``):

- ``question``: the next text is the question; ``t:<id>`` opens an earlier thread. With
  ``sid`` (from "ask the coach" under a reflection) the question is about that one session:
  it is asked at once, narrowed to the session's weapon and date.
- ``narrow`` (``q`` the question, ``w`` a weapon id or None, ``p`` a period code): ``w:<id>``
  toggles a weapon, ``p:<code>`` picks a period, ``ask`` asks; typed text replaces the question.
- ``thread`` (``tid``): every text is a follow-up in that thread; ``new`` asks a new question.

Asking stores the question and a pending answer and queues the answer job, all in the turn's
transaction: the worker fills the answer in later and pushes it as a message. A thread holds
one weapon, so the weapon buttons pick one (or, pressed again, none). Over the user's AI quota
(docs/abuse.md) asking rolls the turn back and says when to ask again; /coach says so at once.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from aimtrack.bot.ai_requests import quota_text, quota_used, request_answer
from aimtrack.bot.flow import Context, State, StoredUpload, Turn, button_id, chunked, reply
from aimtrack.bot.flows.session import SessionFlow
from aimtrack.core import formatting, limits
from aimtrack.core.errors import InvalidInput, NotFound
from aimtrack.core.i18n import Catalogue
from aimtrack.core.licence import add_months
from aimtrack.core.model import (
    AIStatus,
    CoachMessage,
    CoachThread,
    MessageRole,
    Weapon,
    clean_text,
)
from aimtrack.storage.repos import CoachRepo

NAME: Final = "coach"
MAX_QUESTION: Final = 2000  # a question, not an essay; the answer has to fit a chat message
MAX_WEAPON_BUTTONS: Final = 8
HISTORY: Final = 8  # threads offered by /coach
SHOWN_MESSAGES: Final = 6  # of an opened thread, the latest
MAX_SHOWN_MESSAGE: Final = 400
MAX_ECHO: Final = 500  # of the question, shown back while narrowing
MAX_LABEL: Final = 48
PLACEHOLDER: Final = "…"  # the pending answer's content until the worker fills it in
PERIODS: Final = ("30d", "3m", "12m", "all")
HISTORY_WORDS: Final = frozenset({"geschiedenis", "history"})
_UNFINISHED: Final = frozenset({AIStatus.PENDING, AIStatus.RUNNING})

TEXTS: Final[Catalogue] = {
    "cmd.coach": (
        "vraag de AI-coach iets over je schieten",
        "ask the AI coach about your shooting",
    ),
    "coach.ask": (
        "Typ je vraag voor de coach, bijvoorbeeld: waarom trek ik naar links met de CZ?",
        "Type your question for the coach, for example: why do I pull left with the CZ?",
    ),
    "coach.history": (
        "Je eerdere gesprekken met de coach; kies er een om verder te praten.",
        "Your earlier conversations with the coach; pick one to continue it.",
    ),
    "coach.no_history": (
        "Je hebt nog geen gesprekken met de coach.",
        "You have no conversations with the coach yet.",
    ),
    "coach.narrow": (
        "Je vraag: {question}\n\nWil je hem afbakenen? Kies eventueel een wapen en een "
        "periode, en druk dan op Vraag het.",
        "Your question: {question}\n\nDo you want to narrow it down? Pick a weapon and a period "
        "if you like, then press Ask.",
    ),
    "coach.period.30d": ("30 dagen", "30 days"),
    "coach.period.3m": ("3 maanden", "3 months"),
    "coach.period.12m": ("12 maanden", "12 months"),
    "coach.period.all": ("alles", "everything"),
    "coach.chosen": ("✓ {label}", "✓ {label}"),
    "coach.btn.ask": ("💬 Vraag het", "💬 Ask"),
    "coach.btn.new": ("🆕 Nieuwe vraag", "🆕 New question"),
    "coach.thinking": (
        "De coach denkt na; het antwoord komt zo als bericht.",
        "The coach is thinking; the answer will arrive as a message shortly.",
    ),
    "coach.queued": (
        "De coach is nog bezig met je vorige vraag; het antwoord op deze komt daarna als bericht.",
        "The coach is still working on your previous question; the answer to this one will "
        "follow as a message.",
    ),
    "coach.scope": ("Over: {weapon}, {period}", "About: {weapon}, {period}"),
    "coach.scope.all_weapons": ("alle wapens", "all weapons"),
    "coach.scope.all_time": ("de hele periode", "all time"),
    "coach.you": ("🙋 Jij: {text}", "🙋 You: {text}"),
    "coach.answer": ("💬 Coach: {text}", "💬 Coach: {text}"),
    "coach.pending": ("💬 Coach: ⏳ denkt nog na", "💬 Coach: ⏳ still thinking"),
    "coach.continue": (
        "Typ je vervolgvraag; /annuleer sluit dit gesprek.",
        "Type your follow-up question; /cancel closes this conversation.",
    ),
    "coach.closed": ("Coachgesprek gesloten.", "Coach conversation closed."),
    "coach.gone": (
        "Dat gesprek kon ik niet meer vinden. Begin een nieuw met /coach.",
        "I couldn't find that conversation any more. Start a new one with /coach.",
    ),
    "coach.empty": (
        "Typ je vraag als tekst; een lege vraag kan de coach niet beantwoorden.",
        "Type your question as text; the coach can't answer an empty question.",
    ),
    "coach.too_long": (
        "Je vraag is te lang (meer dan {limit} tekens). Maak hem korter; er is niets opgeslagen.",
        "Your question is too long (over {limit} characters). Please shorten it; nothing was "
        "saved.",
    ),
    "coach.bad_text": (
        "Je vraag bevat tekens die ik niet kan opslaan. Typ hem opnieuw; er is niets opgeslagen.",
        "Your question contains characters I can't store. Please type it again; nothing was saved.",
    ),
    "coach.about_session": (
        "Wat wil je de coach vragen over je sessie van {date}?",
        "What would you like to ask the coach about your session of {date}?",
    ),
    "coach.busy_session": (
        "Je bent nog een sessie aan het loggen. Maak die eerst af of stop met /annuleer, en "
        "druk dan nog eens op Vraag de coach.",
        "You are still logging a session. Finish it first or stop with /cancel, then press "
        "Ask the coach again.",
    ),
    "coach.upload": (
        "Foto's en pdf's bewaar ik hier niet; ze horen bij een sessie. Je gesprek met de coach "
        "loopt nog (/annuleer sluit het).",
        "I don't keep photos and PDFs here; they belong to a session. Your conversation with "
        "the coach is still open (/cancel closes it).",
    ),
}


class CoachFlow:
    name = NAME

    async def start(self, ctx: Context, args: str) -> Turn:
        words = args.strip()
        if not words or words.casefold() in HISTORY_WORDS:
            return await _history(ctx, explicit=bool(words))
        return await _asked(ctx, State(NAME, "question", {}), words)

    async def prompt(self, ctx: Context, state: State) -> Turn:
        if state.step == "narrow":
            return await _narrow(ctx, state)
        if state.step == "thread":
            return await _thread(ctx, _int(state.data.get("tid")))
        if state.step == "question" and "sid" in state.data:
            try:
                return await _about_session(ctx, _int(state.data.get("sid")))
            except NotFound:  # the session was deleted meanwhile
                pass
        return await _history(ctx, explicit=False)

    async def on_cancel(self, ctx: Context, state: State) -> Turn:
        return Turn([reply(ctx.t("coach.closed" if state.step == "thread" else "cancelled"))], None)

    async def on_upload(self, ctx: Context, state: State, upload: StoredUpload) -> Turn:
        return Turn([reply(ctx.t("coach.upload"))], state)

    async def on_text(self, ctx: Context, state: State, text: str) -> Turn:
        if state.step == "thread":
            return await _follow_up(ctx, state, text)
        if state.step == "narrow":
            why = _problem(text)
            if why is not None:
                return await _narrow(ctx, state, _refusal(ctx, why))
            state.data["q"] = text.strip()
            return await _narrow(ctx, state)
        return await _asked(ctx, state, text)

    async def on_press(self, ctx: Context, state: State, action: str) -> Turn:
        verb, _, arg = action.partition(":")
        if state.step == "question" and verb == "t":
            return await _thread(ctx, _int(arg))
        if state.step == "thread" and verb == "new":
            return Turn([reply(ctx.t("coach.ask"))], State(NAME, "question", {}))
        if state.step == "narrow":
            return await _narrowed(ctx, state, verb, arg)
        return await self.prompt(ctx, state)


async def ask_about_session(ctx: Context, state: State | None, arg: str) -> Turn:
    """The "ask the coach" button under a reflection (``!c:<session id>``)."""
    session = await ctx.sessions.get(_int(arg))  # NotFound for another user's session
    if state is not None and state.flow == SessionFlow.name and state.step:
        # The session being logged stays as it was; its step is shown again because this
        # turn's sequence number expires the buttons of the message before.
        turn = await SessionFlow().prompt(ctx, state)
        turn.replies.insert(0, reply(ctx.t("coach.busy_session")))
        return turn
    return await _about_session(ctx, session.id)


# --- steps --------------------------------------------------------------------------------


async def _history(ctx: Context, *, explicit: bool) -> Turn:
    """Earlier threads to continue, and the invitation to type a new question."""
    t = ctx.t
    threads = await CoachRepo(ctx.db, ctx.user_id).threads(limit=HISTORY)
    rows = [[ctx.button(_thread_label(ctx, thread), f"t:{thread.id}")] for thread in threads]
    parts = [await _invitation(ctx, "coach.ask")]
    if threads:
        parts.insert(0, t("coach.history"))
    elif explicit:  # asked for the history: say there is none rather than nothing
        parts.insert(0, t("coach.no_history"))
    text = "\n\n".join(parts)
    return Turn([reply(text, *rows)], State(NAME, "question", {}))


async def _about_session(ctx: Context, session_id: int) -> Turn:
    session = await ctx.sessions.get(session_id)
    day = formatting.weekday(session.occurred_on, ctx.profile.language)
    state = State(NAME, "question", {"sid": session.id})
    return Turn([reply(ctx.t("coach.about_session", date=day))], state)


async def _asked(ctx: Context, state: State, text: str) -> Turn:
    """The question was typed: narrow it down, or ask at once when it is about one session."""
    why = _problem(text)
    if why is not None:
        turn = await CoachFlow().prompt(ctx, state)
        turn.replies.insert(0, reply(_refusal(ctx, why)))
        return turn
    question = text.strip()
    if "sid" not in state.data:
        return await _narrow(ctx, State(NAME, "narrow", {"q": question, "w": None, "p": "all"}))
    try:
        session = await ctx.sessions.get(_int(state.data["sid"]))
    except NotFound:  # deleted meanwhile: nothing to ask about any more
        return Turn([reply(ctx.t("not_found"))], None)
    used = {entry.weapon_id for entry in session.entries}
    thread = await CoachRepo(ctx.db, ctx.user_id).start_thread(
        title=_title(question),
        weapon_id=used.pop() if len(used) == 1 else None,
        period_from=session.occurred_on,
        period_to=session.occurred_on,
    )
    return await _ask(ctx, thread.id, question)


async def _narrow(ctx: Context, state: State, *notes: str) -> Turn:
    t = ctx.t
    chosen, period = state.data.get("w"), state.data.get("p", "all")
    weapons = await _offered(ctx)
    picks = [
        ctx.button(_mark(ctx, w.name[:MAX_LABEL], chosen=w.id == chosen), f"w:{w.id}")
        for w in weapons
    ]
    periods = [
        ctx.button(_mark(ctx, t(f"coach.period.{code}"), chosen=code == period), f"p:{code}")
        for code in PERIODS
    ]
    text = t("coach.narrow", question=_cut(str(state.data.get("q", "")), MAX_ECHO))
    ask = [ctx.button(t("coach.btn.ask"), "ask")]
    state.step = "narrow"
    return Turn(
        [reply("\n\n".join([*notes, text]), *chunked(picks, 2), *chunked(periods, 2), ask)], state
    )


async def _narrowed(ctx: Context, state: State, verb: str, arg: str) -> Turn:
    """A press while narrowing: toggle a weapon, pick a period, or ask."""
    if verb == "w":
        wanted = _int(arg)
        if wanted in {w.id for w in await _offered(ctx)}:
            state.data["w"] = None if state.data.get("w") == wanted else wanted
    elif verb == "p" and arg in PERIODS:
        state.data["p"] = arg
    elif verb == "ask":
        question = str(state.data.get("q", ""))
        since, until = _period(str(state.data.get("p", "all")), ctx.today())
        chosen = state.data.get("w")
        thread = await CoachRepo(ctx.db, ctx.user_id).start_thread(
            title=_title(question),
            weapon_id=chosen if isinstance(chosen, int) else None,
            period_from=since,
            period_to=until,
        )
        return await _ask(ctx, thread.id, question)
    return await _narrow(ctx, state)


async def _follow_up(ctx: Context, state: State, text: str) -> Turn:
    why = _problem(text)
    if why is not None:
        return Turn([reply(_refusal(ctx, why))], state)
    try:
        return await _ask(ctx, _int(state.data.get("tid")), text.strip())
    except NotFound:
        return Turn([reply(ctx.t("coach.gone"))], None)


async def _ask(ctx: Context, thread_id: int, question: str) -> Turn:
    """Store the question and a pending answer, and queue the job that will write it."""
    coach = CoachRepo(ctx.db, ctx.user_id)
    busy = any(_unfinished(message) for message in await coach.messages(thread_id))
    await coach.add_message(thread_id, role=MessageRole.USER, content=question)
    answer = await coach.add_message(
        thread_id, role=MessageRole.ASSISTANT, content=PLACEHOLDER, status=AIStatus.PENDING
    )
    await request_answer(ctx, thread_id, answer.id)
    text = ctx.t("coach.queued" if busy else "coach.thinking")
    return Turn([reply(text)], State(NAME, "thread", {"tid": thread_id}))


async def _thread(ctx: Context, thread_id: int) -> Turn:
    """An earlier thread's latest messages; what is typed next continues it."""
    t = ctx.t
    coach = CoachRepo(ctx.db, ctx.user_id)
    try:
        thread = await coach.get_thread(thread_id)
        messages = await coach.messages(thread.id)
    except NotFound:
        return Turn([reply(t("coach.gone"))], None)
    lines = [
        f"💬 {thread.title}",
        await _scope(ctx, thread),
        *(_message_line(ctx, message) for message in messages[-SHOWN_MESSAGES:]),
        await _invitation(ctx, "coach.continue"),
    ]
    shown = reply("\n\n".join(lines), [ctx.button(t("coach.btn.new"), "new")])
    return Turn([shown], State(NAME, "thread", {"tid": thread.id}))


# --- helpers ------------------------------------------------------------------------------


async def _invitation(ctx: Context, key: str) -> str:
    """The invitation to type a question, or — over the AI quota — when one fits again
    (earlier threads can still be read; a question would be refused)."""
    used = await quota_used(ctx)
    if used is None:
        return ctx.t(key)
    now, tz = ctx.clock.now(), ctx.profile.timezone
    return quota_text(ctx.t, used, timezone=tz, now=now, key="ai_quota.coach")


async def _offered(ctx: Context) -> list[Weapon]:
    """The weapons offered for narrowing: the active ones, the first few by name."""
    return (await ctx.weapons.list_weapons())[:MAX_WEAPON_BUTTONS]


async def _scope(ctx: Context, thread: CoachThread) -> str:
    t = ctx.t
    weapons = await ctx.weapon_index()
    if thread.weapon_id in weapons:
        weapon = weapons[thread.weapon_id].name
    else:
        weapon = t("coach.scope.all_weapons")
    if thread.period_from is None and thread.period_to is None:
        period = t("coach.scope.all_time")
    elif thread.period_from == thread.period_to and thread.period_from is not None:
        period = formatting.day(thread.period_from)
    else:
        ends = (thread.period_from, thread.period_to)
        period = " – ".join(formatting.day(day) if day else "…" for day in ends)
    return t("coach.scope", weapon=weapon, period=period)


def _message_line(ctx: Context, message: CoachMessage) -> str:
    if message.role is MessageRole.USER:
        return ctx.t("coach.you", text=_cut(message.content, MAX_SHOWN_MESSAGE))
    if _unfinished(message):
        return ctx.t("coach.pending")
    return ctx.t("coach.answer", text=_cut(message.content, MAX_SHOWN_MESSAGE))


def _unfinished(message: CoachMessage) -> bool:
    return message.role is MessageRole.ASSISTANT and message.status in _UNFINISHED


def _thread_label(ctx: Context, thread: CoachThread) -> str:
    day = thread.created_at.astimezone(ZoneInfo(ctx.profile.timezone))
    return _cut(f"{day:%d-%m} · {thread.title}", MAX_LABEL)


def _problem(text: str) -> str | None:
    """Why ``text`` cannot be a question (a text key), or None when it can."""
    question = text.strip()
    if not question:
        return "coach.empty"
    if len(question) > MAX_QUESTION:
        return "coach.too_long"
    try:
        clean_text("question", question, max_len=MAX_QUESTION, required=True)
    except InvalidInput:
        return "coach.bad_text"
    return None


def _refusal(ctx: Context, key: str) -> str:
    return ctx.t(key, limit=f"{MAX_QUESTION:,}".replace(",", "."))


def _title(question: str) -> str:
    """The question on one line, cut to fit a thread's title."""
    return _cut(" ".join(question.split()), limits.MAX_SHORT_TEXT)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _mark(ctx: Context, label: str, *, chosen: bool) -> str:
    return ctx.t("coach.chosen", label=label) if chosen else label


def _period(code: str, today: date) -> tuple[date | None, date | None]:
    """The period a button stands for, ending today (the shooter's own calendar)."""
    if code == "30d":
        return today - timedelta(days=30), today
    if code == "3m":
        return add_months(today, -3), today
    if code == "12m":
        return add_months(today, -12), today
    return None, None


def _int(value: object) -> int:
    """An id from a button or the state; anything else is an id that is not there."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return button_id(str(value))
