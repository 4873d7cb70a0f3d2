"""Every catalogue of user-facing texts in the package (``TEXTS = {key: (dutch, english)}``,
found by importing every module): both languages say something, with the same placeholders,
and a count's word (``{n:# dag|# dagen}``) is chosen in both; the bot's catalogue holds every
key once."""

from __future__ import annotations

import importlib
import pkgutil
import string
from collections.abc import Mapping

import pytest

import aimtrack
from aimtrack.bot.app import texts
from aimtrack.core.i18n import PLURAL, Translator, build_catalogue
from aimtrack.core.model import Language


def _catalogues() -> dict[str, Mapping[str, tuple[str, str]]]:
    found = {}
    for module in pkgutil.walk_packages(aimtrack.__path__, "aimtrack."):
        if ".migrations" in module.name or module.name.endswith("__main__"):
            continue
        texts = getattr(importlib.import_module(module.name), "TEXTS", None)
        if isinstance(texts, Mapping):
            found[module.name] = texts
    return found


CATALOGUES = _catalogues()


def _fields(text: str) -> list[tuple[str, str]]:
    """(name, plural-or-not) of each placeholder, in order of name."""
    return sorted(
        (name, "plural" if PLURAL in (spec or "") else "")
        for _, name, spec, _ in string.Formatter().parse(text)
        if name is not None
    )


def test_catalogues_are_found() -> None:
    assert {"aimtrack.bot.conversation", "aimtrack.exports.texts", "aimtrack.charts"} <= set(
        CATALOGUES
    )


@pytest.mark.parametrize("module", sorted(CATALOGUES))
def test_both_languages_use_the_same_placeholders(module: str) -> None:
    for key, pair in CATALOGUES[module].items():
        assert isinstance(pair, tuple), key
        assert len(pair) == 2, key
        dutch, english = pair
        assert dutch.strip(), key
        assert english.strip(), key
        assert _fields(dutch) == _fields(english), key


@pytest.mark.parametrize("module", sorted(CATALOGUES))
@pytest.mark.parametrize("language", list(Language))
def test_every_text_renders_with_numbers(module: str, language: Language) -> None:
    """Any whole number fills any placeholder, a plural one too, without an error."""
    t = Translator(CATALOGUES[module], language)
    for key, pair in CATALOGUES[module].items():
        names = {name for name, _ in _fields(pair[0])}
        for number in (0, 1, 2):
            assert t(key, **dict.fromkeys(names, number)).strip(), key


def test_a_count_chooses_its_word() -> None:
    t = Translator({"days": ("{n:# schietdag|# schietdagen}", "{n:# day|# days}")}, Language.NL)
    shown = [t("days", n=n) for n in (0, 1, 18)]
    assert shown == ["0 schietdagen", "1 schietdag", "18 schietdagen"]
    assert t.with_language(Language.EN)("days", n=1) == "1 day"


def test_the_bots_catalogue_holds_each_key_once() -> None:
    catalogue = texts()  # raises on a key defined twice
    assert "help" in catalogue
    assert "export.ready" in catalogue


def test_a_key_is_defined_once() -> None:
    with pytest.raises(ValueError, match="defined twice"):
        build_catalogue({"a": ("x", "y")}, {"a": ("z", "w")})
