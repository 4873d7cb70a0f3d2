"""``bench.throughput --profile DIR``: py-spy samples the bot's process during the load.

py-spy is not a dependency of the project; install it into the venv for the benchmark only
(``.venv/bin/python -m pip install py-spy``). It attaches to the running bot (``--pid``, root
or ``CAP_SYS_PTRACE``), samples every thread that is not idle (``--threads``, without
``--idle``) while they hold the GIL (``--gil``: Python running, not waiting on a socket or a
disk) and writes collapsed stacks (``--format raw``); :func:`summarize` prints where the
samples fall: per thread, per package of the innermost frame (self), the functions that are on
the stack most often (inclusive), and among them AimTrack's own.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

RATE = 250  # samples a second
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*)\)$")
_PACKAGES = (
    "aimtrack",
    "sqlalchemy",
    "telegram",
    "httpx",
    "httpcore",
    "h11",
    "anyio",
    "aiosqlite",
    "sqlite3",
    "pydantic",
    "pydantic_core",
    "apscheduler",
    "aiolimiter",
    "uvicorn",
    "starlette",
    "json",
    "asyncio",
    "selectors",
    "logging",
    "tzlocal",
    "zoneinfo",
    "threading",
)


def find_py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def start(py_spy: str, pid: int, output: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(pid),
            "--rate",
            str(RATE),
            "--format",
            "raw",
            "--threads",
            "--gil",
            "--nolineno",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    """py-spy writes its file when interrupted."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _package(file: str) -> str:
    path = file.replace("\\", "/")
    for name in _PACKAGES:
        if path.startswith((f"{name}/", f"{name}.py")) or f"/{name}/" in path:
            return name
    return path.split("/", 1)[0] if "/" in path else path


def _parse(path: Path) -> list[tuple[str, list[tuple[str, str]], int]]:
    stacks = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        thread, *frames = stack.split(";")
        parsed = []
        for frame in frames:
            match = _FRAME.match(frame)
            parsed.append((match["func"], match["file"]) if match else (frame, ""))
        stacks.append((thread, parsed, int(count)))
    return stacks


def summarize(path: Path, *, top: int = 30) -> None:
    stacks = _parse(path)
    total = sum(count for _thread, _frames, count in stacks)
    if not total:
        print(f"no samples in {path}")
        return
    threads: Counter[str] = Counter()
    own: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for thread, frames, count in stacks:
        threads[thread.split(" ")[0] + (" (main)" if "MainThread" in thread else "")] += count
        if frames:
            func, file = frames[-1]
            own[_package(file)] += count
            leaves[f"{func} ({file})"] += count
        for name in {f"{func} ({file})" for func, file in frames}:
            inclusive[name] += count
    print(f"{total} samples at {RATE}/s of threads holding the GIL ({total / RATE:.1f} s)")

    def show(title: str, counter: Counter[str], limit: int) -> None:
        print(f"\n{title}")
        for name, count in counter.most_common(limit):
            print(f"  {count / total:6.1%}  {name}")

    show("per thread", threads, 10)
    show("self, by package of the innermost frame", own, 20)
    show("self, innermost functions", leaves, top)
    show("inclusive (on the stack)", inclusive, top * 2)
    own_code = Counter({k: v for k, v in inclusive.items() if "(aimtrack/" in k})
    show("inclusive, AimTrack's functions", own_code, top * 2)
