"""The tests' own layout (tests/README.md): test modules import the package and
``tests.helpers``, never another test module or a conftest; a conftest imports helpers too,
never a test module; the helpers import no test module. Every import counts, at the top,
inside a function or for type checking only, absolute or relative.

A planted import of another test module is shown to fail (so the test can). The README's table
names every test file, and the Bot API spec that the e2e tier validates every call against is
the copy inside the tests.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import botapi_spec

TESTS = Path(__file__).resolve().parents[1]
TIERS = ("unit", "integration", "e2e")


def module_name(path: Path) -> str:
    """``tests/e2e/test_cli.py`` -> ``tests.e2e.test_cli``."""
    parts = path.relative_to(TESTS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


PACKAGES = {"tests", *(f"tests.{tier}" for tier in TIERS)}


def imported(tree: ast.AST, module: str, *, package: bool) -> Iterator[str]:
    """Every module an import in ``tree`` names (importing ``b`` from the package of a tier
    names the module ``b`` of that package too); relative imports resolved against
    ``module``."""
    here = module.split(".") if package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            yield target
            if target in PACKAGES:
                yield from (f"{target}.{alias.name}" for alias in node.names)


def forbidden(name: str) -> bool:
    """A test module or a conftest: what no file of the tests may import."""
    parts = name.split(".")
    if parts[0] != "tests" or len(parts) < 2:
        return False
    if parts[-1] == "conftest":
        return True
    return parts[1] in TIERS and len(parts) > 2


def offending_imports(source: str, module: str, *, package: bool = False) -> list[str]:
    tree = ast.parse(source)
    return sorted({name for name in imported(tree, module, package=package) if forbidden(name)})


def sources() -> list[Path]:
    return sorted(path for path in TESTS.rglob("*.py") if "__pycache__" not in path.parts)


def test_no_file_of_the_tests_imports_a_test_module_or_a_conftest() -> None:
    found = {
        str(path.relative_to(TESTS.parent)): offending
        for path in sources()
        if (
            offending := offending_imports(
                path.read_text(encoding="utf-8"),
                module_name(path),
                package=path.name == "__init__.py",
            )
        )
    }
    assert found == {}, "import it from tests.helpers instead (tests/README.md)"


def test_the_sources_were_found() -> None:
    names = {module_name(path) for path in sources()}
    assert {"tests.conftest", "tests.e2e.conftest", "tests.helpers.cli"} <= names
    assert len([name for name in names if name.rsplit(".", 1)[-1].startswith("test_")]) > 60


# The planted imports spell the package "{t}", so that a grep of the tests for such imports
# finds none here either.
@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("from {t}.e2e.test_cli import run_main", "{t}.e2e.test_web", ["{t}.e2e.test_cli"]),
        ("from {t}.e2e import test_telegram", "{t}.e2e.test_x", ["{t}.e2e.test_telegram"]),
        ("import {t}.integration.test_web", "{t}.e2e.test_x", ["{t}.integration.test_web"]),
        ("from {t}.conftest import BlankDatabase", "{t}.unit.test_x", ["{t}.conftest"]),
        ("from {t} import conftest", "{t}.unit.test_x", ["{t}.conftest"]),
        ("from .test_cli import aimtrack", "{t}.e2e.test_x", ["{t}.e2e.test_cli"]),
        ("from . import test_cli", "{t}.e2e.test_x", ["{t}.e2e.test_cli"]),
        ("from ..unit.test_charts import ROOT", "{t}.e2e.test_x", ["{t}.unit.test_charts"]),
        (
            "def f():\n    from {t}.e2e.conftest import api",
            "{t}.e2e.test_x",
            ["{t}.e2e.conftest"],
        ),
    ],
)
def test_a_planted_import_of_a_test_module_is_found(
    source: str, module: str, expected: list[str]
) -> None:
    def planted(text: str) -> str:
        return text.format(t="tests")

    found = offending_imports(planted(source), planted(module))
    assert found == [planted(name) for name in expected]


@pytest.mark.parametrize(
    "source",
    [
        "from tests.helpers.telegram import running_bot",
        "from tests.helpers import botapi_spec",
        "import tests.helpers.cli",
        "from aimtrack.cli import main",
        "import pytest",
    ],
)
def test_imports_of_helpers_and_the_package_are_fine(source: str) -> None:
    assert offending_imports(source, "tests.e2e.test_x") == []


def test_the_readme_maps_every_test_file_to_a_feature() -> None:
    readme = (TESTS / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"tests/(?:unit|integration|e2e)/test_\w+\.py", readme))
    files = {str(path.relative_to(TESTS.parent)) for path in TESTS.glob("*/test_*.py")}
    assert sorted(files - named) == [], "add it to the table in tests/README.md"
    assert sorted(named - files) == [], "tests/README.md names a file that is gone"


def test_the_bot_api_spec_is_the_copy_inside_the_tests() -> None:
    path = botapi_spec.SPEC_PATH
    assert path.is_file()
    assert path.is_relative_to(TESTS)
    assert (path.parent / "README.md").is_file()  # its source and licence
    assert botapi_spec.load_spec().version == "Bot API 10.1"
