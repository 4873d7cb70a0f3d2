"""The ``aimtrack`` command: the composition root.

Settings -> engine -> repositories -> the transports, the job worker and the web page.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.exc import SQLAlchemyError

from aimtrack import __version__, assembly
from aimtrack.backup.service import create_backup, restore_backup
from aimtrack.bot.app import command_menu
from aimtrack.bot.push import Address
from aimtrack.bot.transports.console import Console
from aimtrack.config import ConfigError, Settings, is_telegram_id, load_settings
from aimtrack.core.clock import SystemClock
from aimtrack.core.errors import AimTrackError
from aimtrack.core.formatting import parse_day
from aimtrack.core.model import JobStatus, Transport, Weapon, is_row_id
from aimtrack.exports.service import ExportFormat, ExportRequest, export_register
from aimtrack.jobs.reminders import running_transports
from aimtrack.storage import migrate
from aimtrack.storage.engine import Database, redact_url
from aimtrack.storage.repos import JobQueue, UserDirectory, WeaponRepo

EXIT_OK = 0
EXIT_ERROR = 1
JOBS_LISTED = 50
PG_BIN_HELP = "PostgreSQL: the folder holding pg_dump, pg_restore and psql (default: PATH)"
LISTED_PATHS = 5

log = logging.getLogger("aimtrack")

Command = Callable[[Settings, argparse.Namespace, TextIO], Coroutine[Any, Any, int]]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aimtrack",
        description="AimTrack: a self-hosted, privacy-first shooting log you talk to.",
        epilog="Settings come from AIMTRACK_* environment variables or a .env file;"
        " see .env.example.",
    )
    parser.add_argument("--version", action="version", version=f"aimtrack {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser("run", help="upgrade the database and run the bot and the web page")
    run.set_defaults(handler=cmd_run)

    chat = commands.add_parser(
        "chat", help="talk to AimTrack in this terminal (no Telegram needed)"
    )
    chat.add_argument("--user", default="local", help="whose log to use (default: %(default)s)")
    chat.set_defaults(handler=cmd_chat)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_commands.add_parser("upgrade", help="upgrade the schema to the newest version")
    upgrade.set_defaults(handler=cmd_db_upgrade)
    current = db_commands.add_parser("current", help="show the schema version")
    current.set_defaults(handler=cmd_db_current)

    users = commands.add_parser("users", help="who may use the bot")
    user_commands = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    allow = user_commands.add_parser("allow", help="allow a Telegram user id")
    allow.add_argument("telegram_id", type=_telegram_id, help="the id the bot told them")
    allow.add_argument("--admin", action="store_true", help="also allow admin commands")
    allow.set_defaults(handler=cmd_users_allow)
    deny = user_commands.add_parser("deny", help="withdraw a Telegram user id (their data stays)")
    deny.add_argument("telegram_id", type=_telegram_id)
    deny.set_defaults(handler=cmd_users_deny)
    listing = user_commands.add_parser("list", help="list users and whether they are allowed")
    listing.set_defaults(handler=cmd_users_list)

    export = commands.add_parser(
        "export",
        help="export the licence register as CSV or PDF",
        description="Write one user's licence register for a period (both days included).",
    )
    export.add_argument(
        "--user",
        dest="user",
        type=_export_user,
        required=True,
        metavar="TELEGRAM_ID",
        help="the user's Telegram id (or console:NAME for a console chat user)",
    )
    export.add_argument("--from", dest="date_from", type=_date, required=True, metavar="DATE")
    export.add_argument("--to", dest="date_to", type=_date, required=True, metavar="DATE")
    export.add_argument(
        "--weapon",
        action="append",
        default=[],
        metavar="NAME",
        help="only this weapon (by name; repeat for more); default: all weapons",
    )
    export.add_argument("--format", choices=[f.value for f in ExportFormat], required=True)
    export.add_argument("--out", required=True, metavar="FILE", help="where to write the file")
    export.set_defaults(handler=cmd_export)

    jobs = commands.add_parser("jobs", help="the background job queue")
    job_commands = jobs.add_subparsers(dest="jobs_command", metavar="ACTION", required=True)
    jobs_list = job_commands.add_parser("list", help="list jobs")
    jobs_list.add_argument("--failed", action="store_true", help="only failed jobs")
    jobs_list.set_defaults(handler=cmd_jobs_list)
    jobs_retry = job_commands.add_parser("retry", help="retry a failed job")
    target = jobs_retry.add_mutually_exclusive_group(required=True)
    target.add_argument("job_id", nargs="?", type=_job_id)
    target.add_argument("--all-failed", action="store_true")
    jobs_retry.set_defaults(handler=cmd_jobs_retry)

    _add_backup_commands(commands)
    return parser


def _add_backup_commands(commands: Any) -> None:  # argparse's _SubParsersAction is private
    backup = commands.add_parser(
        "backup",
        help="write a consistent backup archive (also while the bot runs)",
        description="Write the database and the attachment files into one .tar.gz archive"
        " with a manifest of checksums (docs/backup.md).",
    )
    backup.add_argument(
        "file", type=Path, metavar="FILE", help="the archive to write, e.g. aimtrack.tar.gz"
    )
    backup.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    backup.add_argument("--pg-bin", type=Path, metavar="DIR", help=PG_BIN_HELP)
    backup.set_defaults(handler=cmd_backup)
    restore = commands.add_parser(
        "restore",
        help="restore a backup archive (stop the bot first)",
        description="Check every checksum in FILE, then replace the database and the"
        " attachment files with the archive's and upgrade the schema (docs/backup.md).",
    )
    restore.add_argument(
        "file", type=Path, metavar="FILE", help="an archive written by aimtrack backup"
    )
    restore.add_argument(
        "--force", action="store_true", help="replace a database or attachments that hold data"
    )
    restore.add_argument("--pg-bin", type=Path, metavar="DIR", help=PG_BIN_HELP)
    restore.set_defaults(handler=cmd_restore)


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines show the bot token
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # a line per font table per PDF
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"aimtrack: {exc}", file=sys.stderr)
        return EXIT_ERROR
    handler: Command = args.handler
    try:
        return asyncio.run(handler(settings, args, out))
    except AimTrackError as exc:
        print(f"aimtrack: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        print(f"aimtrack: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"aimtrack: database error: {reason}", file=sys.stderr)
        return EXIT_ERROR


def _telegram_id(text: str) -> int:
    if not is_telegram_id(text):
        msg = f"{text!r} is not a Telegram user id (a positive whole number)"
        raise argparse.ArgumentTypeError(msg)
    return int(text)


def _export_user(text: str) -> tuple[str, str]:
    """(transport, external id): a Telegram id, or ``console:NAME``."""
    transport, _, name = text.partition(":")
    if transport == Transport.CONSOLE and name:
        return Transport.CONSOLE, name
    return Transport.TELEGRAM, str(_telegram_id(text))


def _date(text: str) -> date:
    found = parse_day(text)
    if found is None:
        msg = f"{text!r} is not a date (use 2026-12-31 or 31-12-2026)"
        raise argparse.ArgumentTypeError(msg)
    return found


def _job_id(text: str) -> int:
    if not (text.isascii() and text.isdecimal() and is_row_id(int(text))):
        msg = f"{text!r} is not a job id (see: aimtrack jobs list)"
        raise argparse.ArgumentTypeError(msg)
    return int(text)


def _database(settings: Settings) -> Database:
    return Database.from_url(settings.resolved_database_url)


@asynccontextmanager
async def _user_directory(settings: Settings) -> AsyncIterator[UserDirectory]:
    """The user directory in one transaction, on an engine that is closed afterwards."""
    db = _database(settings)
    defaults = assembly.new_user_defaults(settings)
    try:
        await migrate.require_current_schema(db.engine)
        async with db.transaction() as session:
            yield UserDirectory(session, defaults)
    finally:
        await db.dispose()


async def cmd_db_upgrade(settings: Settings, _args: argparse.Namespace, out: TextIO) -> int:
    db = _database(settings)
    try:
        await migrate.upgrade(db.engine)
        revision = await migrate.current_revision(db.engine)
    finally:
        await db.dispose()
    print(
        f"database {redact_url(settings.resolved_database_url)} is at revision {revision}", file=out
    )
    return EXIT_OK


async def cmd_db_current(settings: Settings, _args: argparse.Namespace, out: TextIO) -> int:
    db = _database(settings)
    try:
        revision = await migrate.current_revision(db.engine)
    finally:
        await db.dispose()
    head = migrate.head_revision()
    state = (
        "up to date" if revision == head else f"behind (newest is {head}); run: aimtrack db upgrade"
    )
    print(f"revision {revision or 'none'}: {state}", file=out)
    return EXIT_OK


async def cmd_run(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    """The Telegram bot when a token is configured; otherwise the console chat."""
    await cmd_db_upgrade(settings, args, out)
    clock = SystemClock()
    if settings.telegram_token is None:
        print(
            "No AIMTRACK_TELEGRAM_TOKEN configured: starting the console chat instead"
            " (set the token in .env to run the Telegram bot).",
            file=out,
        )
        args.user = "local"
        from aimtrack.web.server import WebServerError  # noqa: PLC0415

        db = _database(settings)
        web = assembly.web_server(settings, db, clock=clock)
        try:
            try:
                await web.start()
            except WebServerError as error:  # trying AimTrack out needs no free port
                log.warning("%s; the console chat runs without it", error)
            return await cmd_chat(settings, args, out)
        finally:
            await web.stop()
            await db.dispose()
    from aimtrack.bot.transports.telegram.service import run_telegram  # noqa: PLC0415 -- heavy
    from aimtrack.web.app import Webhook  # noqa: PLC0415
    from aimtrack.web.health import TelegramStatus  # noqa: PLC0415

    db = _database(settings)
    coach = assembly.coach_from(settings)
    telegram, webhook = TelegramStatus(clock), Webhook()
    web = assembly.web_server(settings, db, clock=clock, telegram=telegram, webhook=webhook)
    try:
        bot = assembly.assemble_from(settings, db, clock=clock, coach=coach)
        await run_telegram(
            assembly.telegram_options(settings),
            bot.conversation,
            bot.worker,
            bot.messengers,
            menu=command_menu,
            status=telegram,
            webhook=webhook,
            on_ready=web.start,  # once the Bot API answered, before the webhook is set
            reminders=bot.reminders(running_transports(bot.messengers)),
        )
    finally:
        await web.stop()
        if coach is not None:
            await coach.close()
        await db.dispose()
    return EXIT_OK


async def cmd_chat(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    db = _database(settings)
    coach = assembly.coach_from(settings)
    try:
        await migrate.upgrade(db.engine)
        bot = assembly.assemble_from(settings, db, clock=SystemClock(), coach=coach)
        console = Console(
            bot.conversation, user=args.user, out=out, downloads=settings.data_dir / "exports"
        )
        bot.messengers.register(Transport.CONSOLE, console)
        stop = asyncio.Event()
        queue = asyncio.create_task(
            bot.worker.run(poll=timedelta(seconds=settings.job_poll_s), stop=stop)
        )
        # The console reaches only the user at this terminal.
        here = Address(Transport.CONSOLE, console.sender.chat_id)
        reminders = bot.reminders(lambda target: target == here)
        reminding = asyncio.create_task(
            reminders.run_every(
                timedelta(seconds=settings.reminder_scan_s), stop=stop, wake=bot.worker.wake
            )
        )
        try:
            status = await console.run(sys.stdin)
            await bot.worker.safe_tick()  # what the last input queued starts before we leave
        finally:
            stop.set()
            await reminding
            await queue
        return status
    finally:
        if coach is not None:
            await coach.close()
        await db.dispose()


@asynccontextmanager
async def _job_queue(settings: Settings) -> AsyncIterator[JobQueue]:
    """The job queue in one transaction, on an engine that is closed afterwards."""
    db = _database(settings)
    try:
        await migrate.require_current_schema(db.engine)
        async with db.transaction() as session:
            yield JobQueue(session)
    finally:
        await db.dispose()


async def cmd_jobs_list(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    async with _job_queue(settings) as queue:
        stats = await queue.stats()
        jobs = await queue.list_jobs(
            status=JobStatus.FAILED if args.failed else None, limit=JOBS_LISTED
        )
    oldest = (
        stats.oldest_pending_at.isoformat(timespec="seconds") if stats.oldest_pending_at else "-"
    )
    print(
        f"queue: {stats.pending} pending (oldest {oldest}), {stats.running} running,"
        f" {stats.failed} failed",
        file=out,
    )
    if not jobs:
        print("no failed jobs" if args.failed else "no jobs", file=out)
        return EXIT_OK
    print(
        f"{'id':>6}  {'kind':<15} {'user':>5}  {'status':<9} {'tries':>5}  {'when':<20} error",
        file=out,
    )
    for job in jobs:
        when = job.finished_at or job.run_after
        error = (job.last_error or "").splitlines()[0][:100] if job.last_error else ""
        print(
            f"{job.id:>6}  {job.kind:<15} {job.user_id if job.user_id is not None else '-':>5}"
            f"  {job.status.value:<9} {job.attempts:>2}/{job.max_attempts:<2}"
            f"  {when.isoformat(timespec='seconds'):<20} {error}",
            file=out,
        )
    return EXIT_OK


async def cmd_jobs_retry(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    now = SystemClock().now()
    async with _job_queue(settings) as queue:
        if args.all_failed:
            count = await queue.retry_all_failed(now=now)
            print(f"{count} failed job(s) queued again", file=out)
            return EXIT_OK
        job = await queue.retry(args.job_id, now=now)
    print(f"job {job.id} ({job.kind}) queued again; a running AimTrack picks it up", file=out)
    return EXIT_OK


async def cmd_export(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    transport, external_id = args.user
    target = Path(args.out)
    db = _database(settings)
    try:
        await migrate.require_current_schema(db.engine)
        async with db.transaction(read_only=True) as session:
            account = await UserDirectory(session).find(transport, external_id)
            if account is None:
                print(f"aimtrack: no user {external_id} ({transport}) is known", file=sys.stderr)
                return EXIT_ERROR
            weapons = await WeaponRepo(session, account.user_id).list_weapons(include_retired=True)
        chosen = _weapons_named(args.weapon, weapons)
        request = ExportRequest(
            period_from=args.date_from,
            period_to=args.date_to,
            format=ExportFormat(args.format),
            weapon_ids=chosen,
        )
        made = await export_register(db, account.user_id, request, now=SystemClock().now())
    finally:
        await db.dispose()
    await asyncio.to_thread(_write_atomically, target, made.content)
    print(
        f"wrote {target} ({made.rows} rows, {made.days} shooting days, {len(made.content)} bytes)",
        file=out,
    )
    return EXIT_OK


def _weapons_named(names: Sequence[str], weapons: Sequence[Weapon]) -> frozenset[int] | None:
    """The ids of the weapons named (by name or nickname, any case); None for no names."""
    if not names:
        return None
    chosen: set[int] = set()
    for name in names:
        wanted = name.strip().casefold()
        found = [w for w in weapons if wanted in {w.name.casefold(), (w.nickname or "").casefold()}]
        if not found:
            known = ", ".join(sorted((w.name for w in weapons), key=str.casefold)) or "none"
            msg = f"no weapon is called {name!r} (this user's weapons: {known})"
            raise AimTrackError(msg)
        chosen.update(w.id for w in found)
    return frozenset(chosen)


def _write_atomically(target: Path, content: bytes) -> None:
    """Write ``content`` to ``target`` through a temporary file beside it: a reader never sees
    half a file, and an existing file is replaced only by a whole one."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(content)
        temporary.replace(target)
    finally:
        temporary.unlink(missing_ok=True)


async def cmd_users_allow(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    async with _user_directory(settings) as users:
        account = await users.allow_telegram(args.telegram_id, admin=args.admin)
    role = "admin" if account.is_admin else "user"
    print(f"allowed Telegram user {args.telegram_id} ({role})", file=out)
    return EXIT_OK


async def cmd_users_deny(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    async with _user_directory(settings) as users:
        account = await users.deny_telegram(args.telegram_id)
    if account is None:
        print(f"Telegram user {args.telegram_id} is not known", file=out)
    else:
        print(f"denied Telegram user {args.telegram_id}; their data is kept", file=out)
    if args.telegram_id in settings.allowed_users:
        print(
            f"note: {args.telegram_id} is still allowed by AIMTRACK_ALLOWED_USERS;"
            " remove it there too",
            file=out,
        )
    return EXIT_OK


async def cmd_users_list(settings: Settings, _args: argparse.Namespace, out: TextIO) -> int:
    async with _user_directory(settings) as users:
        accounts = await users.list_users()
    print(f"{'telegram id':>14}  {'allowed':<8} {'admin':<6} name", file=out)
    listed: set[int] = set()
    for account in accounts:
        tid = account.telegram_id
        if tid is not None:
            listed.add(tid)
        allowed = account.is_allowed or (tid is not None and tid in settings.allowed_users)
        print(
            f"{tid if tid is not None else '-':>14}  {'yes' if allowed else 'no':<8}"
            f" {'yes' if account.is_admin else 'no':<6} {account.display_name or '-'}",
            file=out,
        )
    for tid in sorted(settings.allowed_users - listed):
        print(f"{tid:>14}  {'yes':<8} {'no':<6} - (AIMTRACK_ALLOWED_USERS, not yet seen)", file=out)
    return EXIT_OK


async def cmd_backup(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    report = await create_backup(
        args.file,
        database_url=settings.resolved_database_url,
        data_dir=settings.data_dir,
        now=SystemClock().now(),
        overwrite=args.overwrite,
        pg_bin=args.pg_bin,
    )
    manifest = report.manifest
    if manifest.missing_attachments:
        _warn(
            f"{len(manifest.missing_attachments)} attachment file(s) the database names are"
            " missing from the data folder, so not in the backup (its manifest lists them): "
            + _listed(manifest.missing_attachments)
        )
    if report.skipped:
        _warn(
            f"{len(report.skipped)} thing(s) under attachments/ are no attachment files and"
            " were left out: " + _listed(report.skipped)
        )
    print(
        f"wrote {report.path}: {manifest.backend} database at revision {manifest.revision},"
        f" {len(manifest.attachments)} attachment file(s), {_size(report.size_bytes)}",
        file=out,
    )
    return EXIT_OK


async def cmd_restore(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    report = await restore_backup(
        args.file,
        database_url=settings.resolved_database_url,
        data_dir=settings.data_dir,
        force=args.force,
        pg_bin=args.pg_bin,
    )
    manifest = report.manifest
    if manifest.missing_attachments:
        _warn(
            f"the backup lacks {len(manifest.missing_attachments)} attachment file(s) that were"
            " already missing when it was made: " + _listed(manifest.missing_attachments)
        )
    upgraded = f", upgraded to {report.revision}" if report.revision != manifest.revision else ""
    made = manifest.created_at.strftime("%Y-%m-%d %H:%M UTC")
    print(
        f"restored {args.file} (made {made} by AimTrack {manifest.aimtrack_version}):"
        f" {manifest.backend} database at revision {manifest.revision}{upgraded},"
        f" {len(manifest.attachments)} attachment file(s)",
        file=out,
    )
    return EXIT_OK


def _warn(message: str) -> None:
    print(f"aimtrack: warning: {message}", file=sys.stderr)


def _listed(paths: Sequence[str]) -> str:
    shown = ", ".join(paths[:LISTED_PATHS])
    return shown + (f" and {len(paths) - LISTED_PATHS} more" if len(paths) > LISTED_PATHS else "")


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    value, unit = size / 1024, "KiB"
    for bigger in ("MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit}"
