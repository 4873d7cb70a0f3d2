"""User-facing texts in Dutch and English: the one text lookup of the whole package.

Each feature keeps its own catalogue next to its code, ``TEXTS = {key: (dutch, english)}``,
with ``str.format`` placeholders; :func:`build_catalogue` merges catalogues (a key may be
defined once) and a :class:`Translator` reads one language of them. The chat, the jobs, the
exports, the charts, the web page and the statistics fallback all use it.

A placeholder may choose a word by its number: ``{days:# schietdag|# schietdagen}`` reads
"1 schietdag" or "18 schietdagen" (``#`` is the number, formatted like any other). A unit test
checks that both languages of every catalogue use the same placeholders.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any, Final

from aimtrack.core.formatting import plural
from aimtrack.core.model import Language

Catalogue = Mapping[str, tuple[str, str]]

PLURAL: Final = "|"  # in a format spec: "one|many"


def build_catalogue(*parts: Catalogue) -> dict[str, tuple[str, str]]:
    merged: dict[str, tuple[str, str]] = {}
    for part in parts:
        for key, texts in part.items():
            if key in merged:
                msg = f"text key {key!r} is defined twice"
                raise ValueError(msg)
            merged[key] = texts
    return merged


def language_from_hint(hint: str | None) -> Language:
    """Dutch unless the chat app says the user reads another language."""
    if not hint or hint.lower().startswith("nl"):
        return Language.NL
    return Language.EN


class _Formatter(string.Formatter):
    """``str.format``, plus the ``one|many`` spec for a count (see the module's docstring)."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if PLURAL in format_spec and not isinstance(value, bool):
            one, _, many = format_spec.partition(PLURAL)
            return plural(value, one, many)
        shown: str = super().format_field(value, format_spec)
        return shown


_FORMATTER: Final = _Formatter()


def render(text: str, values: Mapping[str, object]) -> str:
    """``text`` with its placeholders filled (a text without values is returned as it is)."""
    return _FORMATTER.vformat(text, (), values) if values else text


class Translator:
    """One language of a catalogue: ``t("key", name=value)``."""

    def __init__(self, catalogue: Catalogue, language: Language) -> None:
        self._catalogue = catalogue
        self.language = language

    def with_language(self, language: Language) -> Translator:
        return Translator(self._catalogue, language)

    def __call__(self, key: str, /, **values: object) -> str:
        dutch, english = self._catalogue[key]
        return render(dutch if self.language is Language.NL else english, values)
