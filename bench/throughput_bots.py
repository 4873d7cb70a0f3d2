"""The two bots ``bench.throughput`` runs, each in its own process (so its RSS is its own).

``aimtrack``: ``aimtrack run`` itself (:func:`aimtrack.cli.main`), configured by the
``AIMTRACK_*`` variables the benchmark sets: the real Application, conversation, job worker,
reminders and web page, SQLite in a temporary data folder, no AI (reflections come from the
statistics fallback). ``--no-flood-limit`` is a diagnostic only: it switches off the overall
30 messages/s of PTB's ``AIORateLimiter`` (Telegram's flood limit), nothing else.

``echo``: the baseline, a plain python-telegram-bot ``Application`` (defaults, no rate limiter;
``--flood-limit`` adds PTB's ``AIORateLimiter()`` as AimTrack has) with a ``MessageHandler`` and
a ``CallbackQueryHandler``: each update inserts one row into
SQLite (aiosqlite, WAL, ``synchronous=FULL`` as AimTrack's default) and is answered: a message
with "Klopt dit?" and an "Opslaan" button, a button press with ``answerCallbackQuery`` and
"Opgeslagen".

Both answer SIGUSR1 by writing ``{"modules": n, "matplotlib": bool, ...}`` as JSON to the file
named by ``BENCH_MODULES_FILE``: whether heavy libraries are imported, checked without a
debugger. For AimTrack it also holds how many SQL statements and commits SQLAlchemy ran so far
(listeners on the ``Engine`` class, about a microsecond a statement).

Run by the benchmark: .venv/bin/python -m bench.throughput_bots aimtrack [--no-flood-limit]
                      .venv/bin/python -m bench.throughput_bots echo [--flood-limit]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

HEAVY = ("matplotlib", "numpy", "PIL", "fpdf", "fontTools", "openai", "alembic")
SQL: dict[str, int] = {}  # filled for AimTrack only


def _report_modules(_signum: int, _frame: FrameType | None) -> None:
    target = os.environ.get("BENCH_MODULES_FILE")
    if not target:
        return
    found = {name: name in sys.modules for name in HEAVY}
    report = {"modules": len(sys.modules), **found, **SQL}
    Path(target).write_text(json.dumps(report), encoding="utf-8")


def _count_sql() -> None:
    from sqlalchemy import event  # noqa: PLC0415
    from sqlalchemy.engine import Engine  # noqa: PLC0415

    def statement(*_args: Any) -> None:
        SQL["statements"] += 1

    def commit(*_args: Any) -> None:
        SQL["commits"] += 1

    SQL.update(statements=0, commits=0)
    event.listen(Engine, "before_cursor_execute", statement)
    event.listen(Engine, "commit", commit)


def run_aimtrack(*, flood_limit: bool) -> int:
    if not flood_limit:
        from telegram.ext import AIORateLimiter  # noqa: PLC0415, TID251 -- a diagnostic

        from aimtrack.bot.transports.telegram import application as transport  # noqa: PLC0415

        original: Callable[..., None] = transport.RetryingRateLimiter.__init__

        def unlimited(self: Any, *, max_retries: int, **kwargs: Any) -> None:
            original(self, max_retries=max_retries, **kwargs)
            AIORateLimiter.__init__(self, overall_max_rate=0, max_retries=max_retries)

        transport.RetryingRateLimiter.__init__ = unlimited  # type: ignore[method-assign]
    _count_sql()
    from aimtrack.cli import main  # noqa: PLC0415

    return main(["run"])


def run_echo(*, flood_limit: bool) -> int:
    import aiosqlite  # noqa: PLC0415

    # The baseline is a plain PTB bot, so it imports telegram itself.
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update  # noqa: PLC0415, TID251
    from telegram.ext import (  # noqa: PLC0415, TID251
        AIORateLimiter,
        Application,
        ApplicationBuilder,
        CallbackQueryHandler,
        ContextTypes,
        MessageHandler,
        filters,
    )

    database = Path(os.environ["BENCH_ECHO_DB"])
    connection: list[aiosqlite.Connection] = []

    async def insert(update: Update, kind: str, text: str) -> None:
        db = connection[0]
        chat = update.effective_chat
        await db.execute(
            "INSERT INTO updates (update_id, chat_id, kind, text, at) VALUES (?, ?, ?, ?, ?)",
            (update.update_id, chat.id if chat else 0, kind, text, time.time()),
        )
        await db.commit()

    async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        text = update.message.text or ""
        await insert(update, "message", text)
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton("Opslaan", callback_data=f"save:{update.update_id}")]]
        )
        await context.bot.send_message(
            update.message.chat_id, f"{text}\n\nKlopt dit?", reply_markup=markup
        )

    async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await insert(update, "press", query.data or "")
        chat = update.effective_chat
        assert chat is not None
        await context.bot.send_message(chat.id, "Opgeslagen")

    async def post_init(_application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        db = await aiosqlite.connect(database)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=FULL")
        await db.execute(
            "CREATE TABLE IF NOT EXISTS updates (id INTEGER PRIMARY KEY, update_id INTEGER,"
            " chat_id INTEGER, kind TEXT, text TEXT, at REAL)"
        )
        await db.commit()
        connection.append(db)

    async def post_shutdown(_application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        if connection:
            await connection.pop().close()

    builder = (
        ApplicationBuilder()
        .token(os.environ["BENCH_TOKEN"])
        .base_url(os.environ["BENCH_BASE_URL"] + "/bot")
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if flood_limit:
        builder = builder.rate_limiter(AIORateLimiter())  # type: ignore[arg-type]
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT, on_message))
    application.add_handler(CallbackQueryHandler(on_press))
    application.run_polling(allowed_updates=["message", "callback_query"])
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("bot", choices=["aimtrack", "echo"])
    parser.add_argument("--no-flood-limit", action="store_true")
    parser.add_argument("--flood-limit", action="store_true")
    args = parser.parse_args()
    signal.signal(signal.SIGUSR1, _report_modules)
    if args.bot == "echo":
        return run_echo(flood_limit=args.flood_limit)
    return run_aimtrack(flood_limit=not args.no_flood_limit)


if __name__ == "__main__":
    sys.exit(main())
