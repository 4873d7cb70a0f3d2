"""Any value of any type, in any field: a spec either comes out valid or refuses with
InvalidInput naming the field. Nothing else may escape (that would be a crash in the chat)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from aimtrack.core import limits
from aimtrack.core.errors import InvalidInput
from aimtrack.core.model import (
    AIAudit,
    AttachmentSpec,
    EntrySpec,
    ProfileSpec,
    SessionSpec,
    WeaponSpec,
    parse_score,
)

ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-5, max_value=3000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(max_size=300),
    st.text(alphabet="0123456789,.-e ", max_size=12),
    st.binary(max_size=20),
    st.dates(),
    st.datetimes(),
    st.datetimes(timezones=st.timezones()),
    st.lists(st.integers(), max_size=2),
)


AWARE = st.datetimes(timezones=st.just(UTC))
# A valid value per field name, so that most draws get past the other fields and the bad
# value under test is the one the spec must catch.
VALID: dict[str, st.SearchStrategy[Any]] = {
    "weapon_id": st.integers(1, 1000),
    "owner_id": st.integers(1, 1000),
    "distance_m": st.integers(1, 300),
    "shots": st.integers(1, 100),
    "score": st.integers(0, 100),
    "size_bytes": st.integers(1, 1000),
    "name": st.text("abcXYZ 75", min_size=1, max_size=20).filter(str.strip),
    "display_name": st.text("abc", min_size=1, max_size=20),
    "occurred_on": st.dates(),
    "purchase_date": st.dates(),
    "licence_expiry": st.dates(),
    "started_at": AWARE,
    "ended_at": AWARE,
    "generated_at": AWARE,
    "licensed": st.booleans(),
    "path": st.just("attachments/1/a.jpg"),
    "mime": st.just("image/png"),
    "sha256": st.just("a" * 64),
    "owner": st.sampled_from(["session", "entry", "weapon"]),
    "status": st.sampled_from(["pending", "failed"]),
    "timezone": st.just("Europe/Amsterdam"),
    "language": st.sampled_from(["nl", "en"]),
    "weapon_type": st.just("pistol"),
    "competition": st.just("club"),
}


def _fields(cls: type) -> dict[str, st.SearchStrategy[Any]]:
    return {
        field.name: st.one_of(VALID.get(field.name, st.text(max_size=30)), ANYTHING)
        for field in dataclasses.fields(cls)
    }


def _required(cls: type) -> list[str]:
    return [
        field.name
        for field in dataclasses.fields(cls)
        if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
    ]


def _values(cls: type) -> st.SearchStrategy[dict[str, Any]]:
    fields = _fields(cls)
    required = {name: fields[name] for name in _required(cls)}
    optional = {name: s for name, s in fields.items() if name not in required}
    return st.fixed_dictionaries(required, optional=optional)


def _build(cls: type, values: dict[str, Any]) -> Any:
    try:
        return cls(**values)
    except InvalidInput as exc:
        refused = exc
    assert refused.field in values  # the refusal names a field the user gave
    return None


def _is_date(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _text_or_none(value: object, max_len: int) -> bool:
    return value is None or (isinstance(value, str) and 0 < len(value) <= max_len)


@settings(max_examples=400, deadline=None)
@given(_values(EntrySpec))
def test_entry_spec(values: dict[str, Any]) -> None:
    spec = _build(EntrySpec, values)
    if spec is None:
        return
    assert 1 <= spec.weapon_id <= limits.MAX_ROW_ID
    assert limits.MIN_DISTANCE_M <= spec.distance_m <= limits.MAX_DISTANCE_M
    assert 1 <= spec.shots <= limits.MAX_SHOTS
    assert spec.score is None or (
        isinstance(spec.score, Decimal) and 0 <= spec.score <= spec.shots * Decimal("10.9")
    )
    assert _text_or_none(spec.notes, limits.MAX_NOTE)


@settings(max_examples=400, deadline=None)
@given(_values(WeaponSpec))
def test_weapon_spec(values: dict[str, Any]) -> None:
    spec = _build(WeaponSpec, values)
    if spec is None:
        return
    assert isinstance(spec.name, str)
    assert 0 < len(spec.name) <= limits.MAX_NAME
    assert spec.purchase_date is None or _is_date(spec.purchase_date)
    assert isinstance(spec.licensed, bool)
    assert _text_or_none(spec.serial_number, limits.MAX_SERIAL)


@settings(max_examples=400, deadline=None)
@given(_values(SessionSpec))
def test_session_spec(values: dict[str, Any]) -> None:
    spec = _build(SessionSpec, values)
    if spec is None:
        return
    assert _is_date(spec.occurred_on)
    for moment in (spec.started_at, spec.ended_at):
        assert moment is None or (isinstance(moment, datetime) and moment.tzinfo is not None)


@settings(max_examples=400, deadline=None)
@given(_values(ProfileSpec))
def test_profile_spec(values: dict[str, Any]) -> None:
    spec = _build(ProfileSpec, values)
    if spec is None:
        return
    assert spec.licence_expiry is None or _is_date(spec.licence_expiry)
    assert isinstance(spec.timezone, str)


@settings(max_examples=400, deadline=None)
@given(_values(AttachmentSpec))
def test_attachment_spec(values: dict[str, Any]) -> None:
    spec = _build(AttachmentSpec, values)
    if spec is None:
        return
    assert isinstance(spec.path, str)
    assert ".." not in spec.path.split("/")


@settings(max_examples=400, deadline=None)
@given(_values(AIAudit))
def test_ai_audit(values: dict[str, Any]) -> None:
    audit = _build(AIAudit, values)
    if audit is None:
        return
    assert audit.generated_at is None or isinstance(audit.generated_at, datetime)
    assert audit.provider is None or len(audit.provider) <= limits.MAX_AI_PROVIDER


@settings(max_examples=400, deadline=None)
@given(ANYTHING)
def test_parse_score(value: Any) -> None:
    try:
        score = parse_score(value)
    except InvalidInput as exc:
        assert exc.field == "score"  # noqa: PT017 - refusing is one of the two allowed outcomes
        return
    assert score is None or (isinstance(score, Decimal) and score >= 0)
