"""50 users logging sessions at once through the real bot, against a plain PTB echo bot.

Each bot runs in its own process (``bench.throughput_bots``) against the fake Bot API server
of the tests (``tests.helpers.fakebotapi``, here on 127.0.0.1 in this process). ``--users``
users log at once, each ``--rounds`` times: a quick entry ("CZ 75 25m 50 schoten 431"), wait for the
bot's "Klopt dit?", press its "Opslaan" button (a callback_query), wait for "Opgeslagen".

* AimTrack: ``aimtrack run`` (Application, conversation, job worker, reminders, web page),
  SQLite in a temporary data folder, every user allowed and holding the weapon "CZ 75"
  beforehand; no AI configured, so every save queues a reflection that the job worker computes
  from the statistics and sends as one more message. The per-user limits are raised for the
  run (600 messages a minute, 1,000 AI requests an hour): one user here presses far faster
  than a person.
* Baseline: a plain python-telegram-bot echo bot (a MessageHandler and a CallbackQueryHandler,
  one SQLite row per update through aiosqlite, WAL) with the same answers and buttons.

Measured per bot: updates/s (all updates over the time from the first one queued to the last
answer), latency p50/p95 from the getUpdates that handed an update out to the fake receiving
the bot's answer, and from the moment it was queued (what the user waits: AimTrack asks for
the next batch only once it handled the last, so its updates wait in the fake's queue, where
PTB's Updater fetches at once and they wait in the bot), VmRSS of the bot's process at idle
(started, polling, before any load) and its peak during the load (sampled from /proc every
20 ms; VmHWM is the high-water mark since start), the CPU the bot (its event loop's thread and
the others: aiosqlite's) and this process (fake and load) used during the load, SQL statements
and commits an update (AimTrack), how many of the reflections were sent during the load and in
the 30 s after it, and whether matplotlib is imported at idle.

Run: .venv/bin/python -m bench.throughput [--users 50] [--rounds 10] [--seed 1] [--history N]
     [--baseline-only | --aimtrack-only] [--no-flood-limit] [--baseline-flood-limit]
     [--profile DIR]
Goal: AimTrack at least 0.5x the baseline's updates/s; idle RSS under 120 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from aimtrack.core.model import EntrySpec, SessionSpec, WeaponSpec
from aimtrack.storage import migrate
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import SessionRepo, UserDirectory, WeaponRepo
from bench import throughput_profile
from bench.throughput_load import WEAPON, TimedBotAPI, Turn, log_sessions

ROOT = Path(__file__).resolve().parent.parent
FIRST_USER = 100_001
SETTLE_S = 2.0  # after the first getUpdates, before idle RSS is read
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
DRAIN_S = 30.0  # how long to watch the reflections still queued after the last "Opgeslagen"
SAMPLE_S = 0.02
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    name: str
    updates: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    queued_latencies: list[float] = field(default_factory=list)
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    idle_rss: float = 0.0  # MiB
    peak_rss: float = 0.0
    hwm_rss: float = 0.0
    bot_cpu: float = 0.0  # seconds during the load
    main_cpu: float = 0.0  # of these, the main thread's (the event loop)
    own_cpu: float = 0.0
    modules: dict[str, object] = field(default_factory=dict)
    modules_file: Path = Path("modules.json")
    sql: dict[str, int] = field(default_factory=dict)  # statements, commits during the load
    reflections_during: int = 0  # sent before the last "Opgeslagen"
    reflections_after: int = 0  # in the DRAIN_S after it
    drain_s: float = 0.0  # how long it was watched
    startup_s: float = 0.0

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _status(pid: int, key: str) -> float:
    """A ``kB`` line of /proc/<pid>/status, in MiB (0 when the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0.0


def _cpu_seconds(pid: int, tid: int | None = None) -> float:
    """utime + stime of the process, or of one of its threads."""
    where = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    fields = Path(where).read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _percentile(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


async def _seed(data_dir: Path, users: list[int], history: int) -> None:
    """The schema, and every user allowed with the weapon of the quick entries and
    ``history`` sessions with it, one every other day up to yesterday."""
    database = Database.from_url(f"sqlite+aiosqlite:///{data_dir / 'aimtrack.db'}")
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    try:
        await migrate.upgrade(database.engine)
        for telegram_id in users:
            async with database.transaction() as db:
                account = await UserDirectory(db).allow_telegram(telegram_id)
                weapon = await WeaponRepo(db, account.user_id).add(WeaponSpec(name=WEAPON))
                sessions = SessionRepo(db, account.user_id)
                for number in range(history):
                    entry = EntrySpec(
                        weapon_id=weapon.id,
                        distance_m=25,
                        shots=50,
                        score=Decimal(380 + number % 40),
                    )
                    day = yesterday - timedelta(days=2 * number)
                    await sessions.create(SessionSpec(occurred_on=day, club="SV"), [entry])
    finally:
        await database.dispose()


def _environment(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIMTRACK_", "BENCH_"))}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


@contextlib.asynccontextmanager
async def _bot_process(
    name: str, args: list[str], env: dict[str, str], folder: Path
) -> AsyncIterator[subprocess.Popen[bytes]]:
    log = (folder / f"{name}.log").open("wb")
    process = subprocess.Popen(  # noqa: ASYNC220 -- our own module, no shell
        [sys.executable, "-m", "bench.throughput_bots", *args],
        cwd=folder,  # no .env is read from the work tree
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(asyncio.to_thread(process.wait), STOP_TIMEOUT_S)
            except TimeoutError:
                process.kill()
                await asyncio.to_thread(process.wait)
        log.close()
        if process.returncode not in {0, -signal.SIGTERM}:
            tail = (folder / f"{name}.log").read_text(encoding="utf-8", errors="replace")
            print(f"--- {name} exited {process.returncode}; its log ends:\n{tail[-3000:]}")


def _read_report(target: Path) -> dict[str, object] | None:
    if not target.exists() or not target.stat().st_size:
        return None
    found: dict[str, object] = json.loads(target.read_text(encoding="utf-8"))
    return found


async def _modules(pid: int, target: Path) -> dict[str, object]:
    """What the bot reports on SIGUSR1 (bench.throughput_bots): modules, SQL counts."""
    target.unlink(missing_ok=True)  # noqa: ASYNC240 -- a small file in /tmp
    os.kill(pid, signal.SIGUSR1)
    for _ in range(100):
        found = _read_report(target)
        if found is not None:
            return found
        await asyncio.sleep(0.02)
    return {}


async def _sample_rss(pid: int, peak: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], _status(pid, "VmRSS"))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SAMPLE_S)


async def measure(name: str, args: argparse.Namespace, folder: Path) -> Result:
    """Start the bot ``name`` ("aimtrack" or "echo"), load it, and return what was measured."""
    result = Result(name)
    users = [FIRST_USER + n for n in range(args.users)]
    data_dir = folder / "data"
    data_dir.mkdir()
    api = TimedBotAPI()
    async with api:
        base_url = api.base_url.removesuffix("/bot")
        result.modules_file = folder / "modules.json"
        extra = {"BENCH_MODULES_FILE": str(result.modules_file)}
        if name.startswith("aimtrack"):
            await _seed(data_dir, users, args.history)
            extra |= {
                "AIMTRACK_TELEGRAM_TOKEN": api.token,
                "AIMTRACK_TELEGRAM_BASE_URL": base_url,
                "AIMTRACK_DATA_DIR": str(data_dir),
                "AIMTRACK_ALLOWED_USERS": ",".join(map(str, users)),
                "AIMTRACK_WEB_HOST": "127.0.0.1",
                "AIMTRACK_WEB_PORT": str(_free_port()),
                "AIMTRACK_USER_MESSAGES_PER_MINUTE": "600",
                "AIMTRACK_USER_MESSAGE_BURST": "1000",
                "AIMTRACK_AI_REQUESTS_PER_HOUR": "1000",
                "AIMTRACK_AI_REQUESTS_PER_DAY": "10000",
            }
            bot_args = ["aimtrack", *(["--no-flood-limit"] if args.no_flood_limit else [])]
        else:
            extra |= {
                "BENCH_TOKEN": api.token,
                "BENCH_BASE_URL": base_url,
                "BENCH_ECHO_DB": str(data_dir / "echo.db"),
            }
            bot_args = ["echo", *(["--flood-limit"] if args.baseline_flood_limit else [])]
        started = time.monotonic()
        async with _bot_process(name, bot_args, _environment(extra), folder) as process:
            async with asyncio.timeout(START_TIMEOUT_S):
                while not api.calls_to("getUpdates"):
                    if process.poll() is not None:
                        msg = f"{name} stopped before it polled"
                        raise RuntimeError(msg)
                    await asyncio.sleep(0.02)
            result.startup_s = time.monotonic() - started
            await asyncio.sleep(SETTLE_S)
            result.idle_rss = _status(process.pid, "VmRSS")
            result.modules = await _modules(process.pid, result.modules_file)
            spy = None
            if args.profile:
                py_spy = throughput_profile.find_py_spy()
                assert py_spy is not None
                spy = throughput_profile.start(py_spy, process.pid, _profile_path(args, name))
                await asyncio.sleep(0.5)  # py-spy attaches
            try:
                await _load(api, process.pid, users, args, result)
            finally:
                if spy is not None:
                    await asyncio.to_thread(throughput_profile.stop, spy)
            result.hwm_rss = _status(process.pid, "VmHWM")
    return result


async def _load(
    api: TimedBotAPI, pid: int, users: list[int], args: argparse.Namespace, result: Result
) -> None:
    peak, stop = [result.idle_rss], asyncio.Event()
    sampler = asyncio.create_task(_sample_rss(pid, peak, stop))
    cpu_before, own_before = _cpu_seconds(pid), _own_cpu()
    main_before = _cpu_seconds(pid, pid)
    sql_before = await _modules(pid, result.modules_file)
    started = time.monotonic()
    logs = await asyncio.gather(*(log_sessions(api, u, args.rounds, args.seed) for u in users))
    turns: list[Turn] = [turn for log in logs for turn in log.turns]
    finished = max(turn.answered_at for turn in turns)
    result.bot_cpu = _cpu_seconds(pid) - cpu_before
    result.main_cpu = _cpu_seconds(pid, pid) - main_before
    sql_after = await _modules(pid, result.modules_file)
    for key in ("statements", "commits"):
        if key in sql_after:
            result.sql[key] = int(str(sql_after[key])) - int(str(sql_before[key]))
    result.own_cpu = _own_cpu() - own_before
    result.updates = len(turns)
    result.seconds = finished - started
    result.latencies = [t.latency for t in turns]
    result.queued_latencies = [t.queued_latency for t in turns]
    for turn in turns:
        result.by_kind.setdefault(turn.kind, []).append(turn.latency)
    if result.name.startswith("aimtrack"):  # every save queued a reflection: watch them
        expected = len(users) * args.rounds
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(DRAIN_S):
                while len(api.reflections) < expected:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
        result.drain_s = time.monotonic() - finished
        result.reflections_during = sum(1 for at in api.reflections if at <= finished)
        result.reflections_after = len(api.reflections) - result.reflections_during
    stop.set()
    await sampler
    result.peak_rss = peak[0]


def report(results: list[Result], args: argparse.Namespace) -> None:
    print()
    print(
        f"{args.users} users x {args.rounds} rounds (2 updates a round), seed {args.seed},"
        f" {args.history} sessions of history a user (AimTrack)"
    )
    header = (
        f"{'bot':<22} {'updates':>7} {'s':>6} {'upd/s':>7} {'p50':>8} {'p95':>8}"
        f" {'q.p50':>8} {'q.p95':>8} {'idle':>7} {'peak':>7} {'hwm':>7}"
        f" {'bot cpu':>8} {'fake cpu':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.name:<22} {r.updates:>7} {r.seconds:>6.1f} {r.rate:>7.1f}"
            f" {_percentile(r.latencies, 50) * 1000:>6.0f}ms"
            f" {_percentile(r.latencies, 95) * 1000:>6.0f}ms"
            f" {_percentile(r.queued_latencies, 50) * 1000:>6.0f}ms"
            f" {_percentile(r.queued_latencies, 95) * 1000:>6.0f}ms"
            f" {r.idle_rss:>5.0f}MB {r.peak_rss:>5.0f}MB {r.hwm_rss:>5.0f}MB"
            f" {r.bot_cpu / r.seconds:>7.0%} {r.own_cpu / r.seconds:>8.0%}"
        )
    print("(latency p50/p95 from the getUpdates that handed the update out; q.: from queueing;")
    print(" RSS in MiB: idle, peak sampled during the load, VmHWM since start;")
    print(" cpu: of one core during the load, for the bot and for this process: fake + users)")
    for r in results:
        kinds = ", ".join(
            f"{kind} p50 {_percentile(v, 50) * 1000:.0f} ms p95 {_percentile(v, 95) * 1000:.0f} ms"
            for kind, v in sorted(r.by_kind.items())
        )
        heavy = [k for k, v in r.modules.items() if v is True]
        per_update = 1000 * r.bot_cpu / r.updates
        print(
            f"{r.name}: CPU {per_update:.1f} ms an update, of which the event loop's thread"
            f" {1000 * r.main_cpu / r.updates:.1f} ms and other threads (SQLite)"
            f" {1000 * (r.bot_cpu - r.main_cpu) / r.updates:.1f} ms"
            + (
                f"; {r.sql['statements'] / r.updates:.1f} SQL statements and"
                f" {r.sql['commits'] / r.updates:.1f} commits an update"
                if r.sql
                else ""
            )
        )
        print(
            f"{r.name}: started (first getUpdates) in {r.startup_s:.1f} s; {kinds};"
            f" at idle {r.modules.get('modules', '?')} modules, heavy: {heavy or 'none'};"
            f" matplotlib imported: {r.modules.get('matplotlib', '?')}"
        )
        if r.name.startswith("aimtrack"):
            saves = r.updates // 2
            print(
                f"{r.name}: of {saves} reflections queued, {r.reflections_during} were sent"
                f" during the load and {r.reflections_after} in the {r.drain_s:.1f} s after it"
            )
    names = {r.name.split(" ")[0]: r for r in results}
    if "aimtrack" in names and "echo" in names:
        ratio = names["aimtrack"].rate / names["echo"].rate
        print(f"AimTrack / baseline updates/s: {ratio:.2f} (goal >= 0.5)")
    for r in results:
        if r.name.startswith("aimtrack"):
            print(f"{r.name} idle RSS {r.idle_rss:.0f} MiB (goal < 120 MB)")


def _profile_path(args: argparse.Namespace, name: str) -> Path:
    suffix = "-no-flood-limit" if name == "aimtrack" and args.no_flood_limit else ""
    return Path(args.profile).resolve() / f"{name}{suffix}.txt"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--history",
        type=int,
        default=0,
        metavar="N",
        help="AimTrack: every user has N sessions with the weapon already (default 0)",
    )
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--baseline-only", action="store_true")
    only.add_argument("--aimtrack-only", action="store_true")
    parser.add_argument(
        "--no-flood-limit",
        action="store_true",
        help="diagnostic: AimTrack without PTB's overall 30 messages/s (Telegram's flood limit)",
    )
    parser.add_argument(
        "--baseline-flood-limit",
        action="store_true",
        help="the baseline with PTB's AIORateLimiter() (30 messages/s), as AimTrack has",
    )
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="sample each bot with py-spy during the load (pip install py-spy into the venv)",
    )
    args = parser.parse_args()
    if args.profile and throughput_profile.find_py_spy() is None:
        parser.error("--profile needs py-spy: .venv/bin/python -m pip install py-spy")
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    names = []
    if not args.aimtrack_only:
        names.append("echo (flood limit)" if args.baseline_flood_limit else "echo")
    if not args.baseline_only:
        names.append("aimtrack (no flood limit)" if args.no_flood_limit else "aimtrack")
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 -- before the load
    results = []
    for name in names:
        with tempfile.TemporaryDirectory(prefix="aimtrack-throughput-") as folder:
            print(f"running {name} ...", flush=True)
            results.append(await measure(name.split(" ")[0], args, Path(folder)))
            results[-1].name = name
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    report(results, args)
    if args.profile:
        for name in names:
            path = _profile_path(args, name.split(" ")[0])
            if path.exists():
                print(f"\n=== py-spy samples of {name} during the load ({path}) ===")
                throughput_profile.summarize(path)


if __name__ == "__main__":
    asyncio.run(main())
