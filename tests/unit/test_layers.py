"""The package's layers, as docs/architecture.md draws them: every import of every module
(at the top, inside a function, or for type checking only) goes down or sideways within its
layer, never up.

    root         aimtrack.cli, aimtrack.assembly (the composition root): anything
    transports   aimtrack.bot.transports: the bot's io interfaces, core
    web          aimtrack.web: the io interfaces, exports, storage, core
    bot          aimtrack.bot (the conversation and its flows): jobs, exports, ai, io, ...
    jobs         aimtrack.jobs: ai, exports, charts, the io interfaces, storage, core
    io           aimtrack.bot.io, aimtrack.bot.push: what goes in and out of the bot; core
    ai, exports, charts, backup, config: on storage and core (ai and charts on core alone)
    storage      aimtrack.storage: core
    core         aimtrack.core: the standard library only

A planted wrong-way import is shown to fail (so the test can).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

import aimtrack

PACKAGE = Path(aimtrack.__file__).parent

# Layer of a module: the longest matching prefix wins.
LAYER_OF = {
    "aimtrack.core": "core",
    "aimtrack.storage": "storage",
    "aimtrack.config": "config",
    "aimtrack.ai": "ai",
    "aimtrack.exports": "exports",
    "aimtrack.charts": "charts",
    "aimtrack.backup": "backup",
    "aimtrack.bot.io": "io",
    "aimtrack.bot.push": "io",
    "aimtrack.jobs": "jobs",
    "aimtrack.bot": "bot",
    "aimtrack.web": "web",
    "aimtrack.bot.transports": "transports",
    "aimtrack.assembly": "root",
    "aimtrack.cli": "root",
    "aimtrack.__main__": "root",
    "aimtrack": "package",  # aimtrack/__init__.py: the version, nothing else
}
BELOW = {
    "package": set(),
    "core": set(),
    "storage": {"core"},
    "config": {"core"},
    "ai": {"core"},
    "exports": {"core", "storage"},
    "charts": {"core"},
    "backup": {"core", "storage", "config"},
    "io": {"core"},
    "jobs": {"core", "storage", "ai", "exports", "charts", "io"},
    "bot": {"core", "storage", "ai", "exports", "io", "jobs"},
    "web": {"core", "storage", "exports", "io"},
    "transports": {"core", "io"},
    "root": set(LAYER_OF.values()),
}
# Libraries that cost memory or tie a layer to one chat app, and where they may be imported.
LIBRARIES = {
    "openai": {"aimtrack.ai.client"},
    "telegram": {"aimtrack.bot.transports"},
    "matplotlib": {"aimtrack.charts"},
    "fpdf": {"aimtrack.exports.register_pdf"},
}
MIGRATIONS = "aimtrack.storage.migrations"


def layer(module: str) -> str:
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        found = LAYER_OF.get(".".join(parts[:end]))
        if found is not None:
            return found
    msg = f"{module} is in no layer: add it to LAYER_OF"
    raise AssertionError(msg)


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(source: str) -> Iterator[str]:
    """Every module ``source`` imports (the package imports absolutely)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                yield f"<a relative import of {node.module}>"
            elif node.module == "aimtrack":  # from aimtrack import x: a module or the version
                yield from (_submodule(alias.name) for alias in node.names)
            else:
                yield node.module or ""


def _submodule(name: str) -> str:
    exists = (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").is_file()
    return f"aimtrack.{name}" if exists else "aimtrack"


def violations(sources: Iterable[tuple[str, str]]) -> list[str]:
    """What breaks the layers in ``(module, source)`` pairs."""
    found = []
    for module, source in sources:
        if module.startswith(MIGRATIONS):
            continue  # Alembic's scripts: storage's own, run by Alembic
        own = layer(module)
        for target in imports(source):
            top = target.split(".")[0]
            if target.startswith("<"):
                found.append(f"{module}: {target}; import absolutely")
                continue
            if top == "aimtrack":
                theirs = layer(target)
                if theirs != own and theirs not in BELOW[own] and theirs != "package":
                    found.append(f"{module} ({own}) imports {target} ({theirs})")
            elif own == "core" and top not in sys.stdlib_module_names:
                found.append(f"{module} (core) imports {target}: core is the standard library")
            elif top in LIBRARIES and not module.startswith(tuple(LIBRARIES[top])):
                found.append(f"{module} imports {target}, which only {LIBRARIES[top]} may")
    return found


def package_sources() -> list[tuple[str, str]]:
    return [
        (module_name(path), path.read_text(encoding="utf-8"))
        for path in sorted(PACKAGE.rglob("*.py"))
    ]


def test_every_import_goes_down_the_layers() -> None:
    assert violations(package_sources()) == []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("aimtrack.core.stats", "from aimtrack.storage.repos import SessionRepo\n"),
        ("aimtrack.storage.repos.users", "from aimtrack.bot.io import Sender\n"),
        ("aimtrack.jobs.export", "from aimtrack.bot.flows import export\n"),
        ("aimtrack.jobs.charts", "def f():\n    from aimtrack.bot.flow import Context\n"),
        ("aimtrack.web.app", "from aimtrack.bot.conversation import Conversation\n"),
        ("aimtrack.bot.transports.console", "from aimtrack.jobs.worker import JobWorker\n"),
        ("aimtrack.bot.flows.stats", "from aimtrack.web import pages\n"),
        ("aimtrack.core.model", "import pydantic\n"),
        ("aimtrack.jobs.reflections", "import openai\n"),
        ("aimtrack.bot.flows.session", "import telegram\n"),
        ("aimtrack.bot.io", "from aimtrack.jobs import services\n"),
    ],
)
def test_a_planted_wrong_way_import_fails(module: str, source: str) -> None:
    assert violations([(module, source)]) != []


def test_every_module_has_a_layer() -> None:
    for module, _ in package_sources():
        layer(module)


def test_right_way_imports_pass() -> None:
    assert (
        violations(
            [
                ("aimtrack.bot.flows.stats", "from aimtrack.jobs.charts import Chart\n"),
                ("aimtrack.jobs.export", "from aimtrack.exports.service import ExportFormat\n"),
                ("aimtrack.web.app", "from aimtrack.bot.io import Deliver\n"),
                ("aimtrack.core.stats", "from aimtrack.core.licence import licence_progress\n"),
                ("aimtrack.cli", "from aimtrack.bot.transports.console import Console\n"),
            ]
        )
        == []
    )
