"""Editing one field of a record (a weapon, the profile): what the flows share.

A typed value of ``-`` clears an optional field; dates are typed day first
(:func:`aimtrack.core.formatting.parse_day`); a value the spec
refuses is explained in the user's language (the spec's own reason is English, for logs).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final

from aimtrack.core import formatting
from aimtrack.core.errors import InvalidInput
from aimtrack.core.i18n import Catalogue, Translator

CLEAR: Final = "-"

_NUMBER = re.compile(r"[0-9]+")

TEXTS: Final[Catalogue] = {
    "field.none": ("—", "—"),
    "field.err.required": ("{field} mag niet leeg zijn.", "{field} cannot be empty."),
    "field.err.too_long": (
        "{field} mag hoogstens {limit} tekens lang zijn.",
        "{field} can be at most {limit} characters long.",
    ),
    "field.err.control": (
        "{field} bevat tekens die ik niet kan bewaren.",
        "{field} contains characters I can't store.",
    ),
    "field.err.invalid": ("Dat klopt niet voor {field}.", "That doesn't work for {field}."),
}


def shown(t: Translator, value: object) -> str:
    """A field's value as the user reads it: a dash for nothing, dates day first."""
    if value is None or value == "":
        return t("field.none")
    if isinstance(value, date):
        return formatting.day(value)
    return str(value)


def problem(t: Translator, error: InvalidInput, field: str) -> str:
    """A localized "why not" for a spec's :class:`InvalidInput`."""
    if error.reason == "is required":
        return t("field.err.required", field=field)
    if error.reason.startswith("is longer than"):
        found = _NUMBER.search(error.reason)
        return t("field.err.too_long", field=field, limit=found.group() if found else "?")
    if "control" in error.reason:
        return t("field.err.control", field=field)
    return t("field.err.invalid", field=field)
