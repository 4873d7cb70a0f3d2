"""User-facing texts in Dutch and English.

Each feature module keeps its own catalogue, ``TEXTS = {key: (dutch, english)}``, with
``str.format`` placeholders. :func:`build_catalogue` merges them (a key may be defined once) and
a unit test checks that both languages use the same placeholders.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from aimtrack.core.model import Language

Catalogue = Mapping[str, tuple[str, str]]

DEFAULT_LANGUAGE: Final = Language.NL


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


class Translator:
    def __init__(self, catalogue: Mapping[str, tuple[str, str]], language: Language) -> None:
        self._catalogue = catalogue
        self.language = language

    def with_language(self, language: Language) -> Translator:
        return Translator(self._catalogue, language)

    def __call__(self, key: str, /, **values: object) -> str:
        dutch, english = self._catalogue[key]
        text = dutch if self.language is Language.NL else english
        return text.format(**values) if values else text
