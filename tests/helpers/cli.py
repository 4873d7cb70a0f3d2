"""The ``aimtrack`` command as the tests run it: in this process, or as a child process.

Both take the AIMTRACK_* settings a test gives and no others (the developer's, and the test
database's URL, are stripped), and both answer a :class:`subprocess.CompletedProcess`
(``returncode``, ``stdout``, ``stderr``), so a test reads the same either way.

* :func:`aimtrack` runs :func:`aimtrack.cli.main` in-process: the test checks what the
  command prints, its exit status and what it did to the database, and a child process would
  add only seconds of imports. Its stdout and stderr are captured, and so are its log lines
  (they go to stderr, as ``main``'s ``logging.basicConfig`` sends them in a real run). ``main``
  calls ``asyncio.run``; an async test uses :func:`aimtrack_async`, which runs it in a thread.
  Runs take turns: the environment, stdout, stderr and the root logger belong to the process.
* :func:`spawn` and :func:`spawn_async` start ``python -m aimtrack`` where the process itself
  is the subject: its whole output, its standard input, signals, or tools it starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

from aimtrack.cli import main
from aimtrack.storage.engine import Database

PREFIX = "AIMTRACK_"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"  # as aimtrack.cli.main's
_one_at_a_time = threading.Lock()


def settings_env(
    env: Mapping[str, str] | None = None, *, db: Database | None = None
) -> dict[str, str]:
    """This process's environment without any AIMTRACK_* variable, plus ``env`` (and, with
    ``db``, AIMTRACK_DATABASE_URL pointing at it)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    if db is not None:
        full["AIMTRACK_DATABASE_URL"] = db.engine.url.render_as_string(hide_password=False)
    full.update(env or {})
    return full


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _logging_to(stream: io.StringIO) -> Iterator[None]:
    root = logging.getLogger()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    level = root.level
    root.addHandler(handler)  # before main: its basicConfig then leaves the root logger be
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def aimtrack(
    *args: str, env: Mapping[str, str] | None = None, db: Database | None = None
) -> subprocess.CompletedProcess[str]:
    """``aimtrack ARGS`` in this process, with only these settings (see :func:`settings_env`)."""
    out, err = io.StringIO(), io.StringIO()
    with (
        _one_at_a_time,
        _environment(settings_env(env, db=db)),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        _logging_to(err),
    ):
        try:
            code = main(list(args), out=out)
        except SystemExit as exit_:  # argparse: --help, usage errors
            code = exit_.code if isinstance(exit_.code, int) else 0 if exit_.code is None else 1
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


async def aimtrack_async(
    *args: str, env: Mapping[str, str] | None = None, db: Database | None = None
) -> subprocess.CompletedProcess[str]:
    """:func:`aimtrack` from a running event loop (``main`` runs its own, in a thread)."""
    return await asyncio.to_thread(aimtrack, *args, env=env, db=db)


def spawn(
    *args: str,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """``python -m aimtrack ARGS`` in a child process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "aimtrack", *args],
        capture_output=True,
        input=stdin,
        text=True,
        env=settings_env(env),
        timeout=timeout,
        check=False,
    )


async def spawn_async(
    *args: str,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    cwd: Path | None = None,
    timeout: float = 120,  # noqa: ASYNC109 -- a deadline, as in asyncio.wait_for
) -> subprocess.CompletedProcess[str]:
    """:func:`spawn` from a running event loop, which goes on serving the fakes meanwhile."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aimtrack",
        *args,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=settings_env(env),
        cwd=cwd,
    )
    try:
        async with asyncio.timeout(timeout):
            out, err = await process.communicate(None if stdin is None else stdin.encode())
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return subprocess.CompletedProcess(list(args), process.returncode, out.decode(), err.decode())


def run_main(*args: str, env: Mapping[str, str] | None = None) -> tuple[int, str]:
    """:func:`aimtrack`, reduced to its exit status and what it printed to stdout."""
    done = aimtrack(*args, env=env)
    return done.returncode, done.stdout
