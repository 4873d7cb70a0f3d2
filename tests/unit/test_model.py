"""Validation of the ``*Spec`` input objects, ``parse_score`` and ``clean_text``."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from aimtrack.core import limits
from aimtrack.core.errors import InvalidInput
from aimtrack.core.model import (
    AttachmentOwner,
    AttachmentSpec,
    CompetitionType,
    EntrySpec,
    Language,
    ProfileSpec,
    SessionSpec,
    SessionStatus,
    WeaponSpec,
    WeaponType,
    clean_text,
    parse_score,
)

SHA = "0123456789abcdef" * 4
CONTROL_CHARACTERS = [
    "\x00",
    "\x07",
    "\x08",
    "\x0b",
    "\x0c",
    "\x1b",
    "\x7f",
    "\x9b",
    "\u202e",
    "\u2067",
]
FOREIGN_TEXT = ["Ëén schot 🎯", "café crème", "€ 12,50 munitie", "Zoë 👍🏻 één"]


def make_entry(**changes: Any) -> EntrySpec:
    values: dict[str, Any] = {"weapon_id": 1, "distance_m": 25, "shots": 10}
    values.update(changes)
    return EntrySpec(**values)


def make_session(**changes: Any) -> SessionSpec:
    values: dict[str, Any] = {"occurred_on": date(2026, 3, 14)}
    values.update(changes)
    return SessionSpec(**values)


def make_attachment(**changes: Any) -> AttachmentSpec:
    values: dict[str, Any] = {
        "owner": AttachmentOwner.SESSION,
        "owner_id": 1,
        "path": "attachments/2026/x.jpg",
        "mime": "image/jpeg",
        "size_bytes": 1024,
        "sha256": SHA,
    }
    values.update(changes)
    return AttachmentSpec(**values)


def refused(field: str) -> Any:
    """Expect InvalidInput naming ``field``."""
    return pytest.raises(InvalidInput, match=rf"^{field}: ")


# --- parse_score -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("431,5", "431.5"),
        ("431.5", "431.5"),
        (Decimal("431.5"), "431.5"),
        (431, "431.0"),
        ("0", "0.0"),
        (0, "0.0"),
        ("  98,7 ", "98.7"),
        (10.5, "10.5"),
        (Decimal("431.50"), "431.5"),
    ],
)
def test_parse_score_normalises_to_one_decimal(value: object, expected: str) -> None:
    score = parse_score(value)

    assert isinstance(score, Decimal)
    assert str(score) == expected


@pytest.mark.parametrize("value", [None, ""])
def test_parse_score_absent_is_none(value: object) -> None:
    assert parse_score(value) is None


@pytest.mark.parametrize(
    "value",
    [
        -1,
        "-0.1",
        "abc",
        "10.55",
        "10,55",
        10.55,
        Decimal("0.05"),
        "NaN",
        "Infinity",
        "-Infinity",
        "sNaN",
        True,
        False,
        "1.2.3",
    ],
)
def test_parse_score_refuses_malformed_values(value: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_score(value)

    assert caught.value.field == "score"


# --- clean_text --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  hello  ", "hello"),
        ("\tline one\nline two\r\n", "line one\nline two"),
        ("", None),
        ("   \t\n ", None),
        (None, None),
        *[(text, text) for text in FOREIGN_TEXT],
    ],
)
def test_clean_text_strips_and_empty_means_absent(value: str | None, expected: str | None) -> None:
    assert clean_text("notes", value, max_len=100) == expected


@pytest.mark.parametrize("character", CONTROL_CHARACTERS)
def test_clean_text_refuses_control_characters(character: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_text("notes", f"before{character}after", max_len=100)

    assert caught.value.field == "notes"
    assert "control" in caught.value.reason


def test_clean_text_length_limit_is_inclusive() -> None:
    assert clean_text("club", "x" * 10, max_len=10) == "x" * 10
    with refused("club"):
        clean_text("club", "x" * 11, max_len=10)


def test_clean_text_counts_characters_after_stripping() -> None:
    assert clean_text("club", "  abc  ", max_len=3) == "abc"


@pytest.mark.parametrize("value", [None, "", "   "])
def test_clean_text_required_refuses_absent(value: str | None) -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_text("name", value, max_len=10, required=True)

    assert caught.value.field == "name"
    assert caught.value.reason == "is required"


@pytest.mark.parametrize("value", [42, b"bytes", ["list"]])
def test_clean_text_refuses_non_text(value: Any) -> None:
    with refused("notes"):
        clean_text("notes", value, max_len=10)


# --- EntrySpec ---------------------------------------------------------------------------


def test_valid_entry_keeps_its_values() -> None:
    entry = make_entry(
        weapon_id=7,
        distance_m=50,
        shots=60,
        score="587,3",
        caliber=" .22 LR ",
        discipline="KKG 50m",
        competition="club",
    )

    assert entry.weapon_id == 7
    assert entry.distance_m == 50
    assert entry.shots == 60
    assert entry.score == Decimal("587.3")
    assert entry.caliber == ".22 LR"
    assert entry.discipline == "KKG 50m"
    assert entry.competition is CompetitionType.CLUB
    assert entry.notes is None


def test_entry_defaults() -> None:
    entry = make_entry()

    assert entry.score is None
    assert entry.competition is CompetitionType.NONE


@pytest.mark.parametrize(
    ("value", "expected"),
    [("431,5", "431.5"), ("431.5", "431.5"), (Decimal("431.5"), "431.5"), (431, "431.0")],
)
def test_entry_score_is_normalised(value: object, expected: str) -> None:
    entry = make_entry(shots=60, score=value)

    assert isinstance(entry.score, Decimal)
    assert str(entry.score) == expected


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("shots", 0),
        ("shots", -5),
        ("shots", 10_001),
        ("shots", True),
        ("shots", "50"),
        ("shots", 5.0),
        ("shots", None),
        ("distance_m", 0),
        ("distance_m", -25),
        ("distance_m", 2001),
        ("distance_m", 2.5),
        ("distance_m", "25"),
        ("weapon_id", 0),
        ("weapon_id", -1),
        ("weapon_id", True),
        ("weapon_id", "1"),
        ("score", -1),
        ("score", "abc"),
        ("score", "10.55"),
        ("score", "NaN"),
        ("score", "Infinity"),
        ("score", "-Infinity"),
        ("competition", "regional"),
        ("competition", "KNSA"),
    ],
)
def test_entry_refuses_out_of_range_values(field: str, value: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        make_entry(**{field: value})

    assert caught.value.field == field


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("shots", 1),
        ("shots", limits.MAX_SHOTS),
        ("distance_m", limits.MIN_DISTANCE_M),
        ("distance_m", limits.MAX_DISTANCE_M),
        ("weapon_id", limits.MAX_ROW_ID),
    ],
)
def test_entry_accepts_range_boundaries(field: str, value: int) -> None:
    assert getattr(make_entry(**{field: value}), field) == value


@pytest.mark.parametrize(
    ("shots", "score"), [(10, 110), (10, "109.1"), (1, "11"), (1, "11,0"), (60, 655)]
)
def test_entry_refuses_more_than_10_9_per_shot(shots: int, score: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        make_entry(shots=shots, score=score)

    assert caught.value.field == "score"
    assert "10.9" in caught.value.reason


@pytest.mark.parametrize(
    ("shots", "score"), [(10, 109), (10, "109,0"), (1, "10.9"), (60, "654.0"), (10, 0)]
)
def test_entry_accepts_up_to_10_9_per_shot(shots: int, score: object) -> None:
    assert make_entry(shots=shots, score=score).score == Decimal(str(score).replace(",", "."))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("knsa", CompetitionType.KNSA),
        ("club", CompetitionType.CLUB),
        ("none", CompetitionType.NONE),
        (CompetitionType.KNSA, CompetitionType.KNSA),
    ],
)
def test_entry_competition_is_a_known_type(value: object, expected: CompetitionType) -> None:
    assert make_entry(competition=value).competition is expected


@pytest.mark.parametrize(
    ("field", "max_len"),
    [
        ("notes", limits.MAX_NOTE),
        ("caliber", limits.MAX_CALIBER),
        ("ammunition", limits.MAX_SHORT_TEXT),
        ("discipline", limits.MAX_SHORT_TEXT),
        ("grouping_note", limits.MAX_SHORT_TEXT),
    ],
)
def test_entry_text_length_limits(field: str, max_len: int) -> None:
    assert getattr(make_entry(**{field: "x" * max_len}), field) == "x" * max_len
    with pytest.raises(InvalidInput) as caught:
        make_entry(**{field: "x" * (max_len + 1)})
    assert caught.value.field == field


def test_entry_refuses_ten_thousand_character_notes() -> None:
    with pytest.raises(InvalidInput) as caught:
        make_entry(notes="a" * 10_000)

    assert caught.value.field == "notes"


@pytest.mark.parametrize("character", CONTROL_CHARACTERS)
@pytest.mark.parametrize("field", ["notes", "caliber", "discipline"])
def test_entry_refuses_control_characters(field: str, character: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        make_entry(**{field: f"abc{character}def"})

    assert caught.value.field == field


@pytest.mark.parametrize("field", ["notes", "ammunition", "grouping_note"])
def test_entry_text_is_stripped_and_blank_becomes_none(field: str) -> None:
    assert getattr(make_entry(**{field: "  tight group  "}), field) == "tight group"
    assert getattr(make_entry(**{field: " \t\n "}), field) is None
    assert getattr(make_entry(**{field: ""}), field) is None


def test_entry_notes_may_span_lines() -> None:
    assert make_entry(notes="first series\nsecond series").notes == "first series\nsecond series"


@pytest.mark.parametrize("text", FOREIGN_TEXT)
def test_entry_keeps_accents_and_emoji_unchanged(text: str) -> None:
    entry = make_entry(notes=text, discipline=text)

    assert entry.notes == text
    assert entry.discipline == text


def test_entry_is_immutable() -> None:
    entry = make_entry()

    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.shots = 20  # type: ignore[misc]


# --- WeaponSpec --------------------------------------------------------------------------


def test_weapon_defaults() -> None:
    weapon = WeaponSpec(name="Glock 17")

    assert weapon.name == "Glock 17"
    assert weapon.licensed is True
    assert weapon.weapon_type is WeaponType.OTHER
    assert weapon.caliber is None
    assert weapon.notes is None


def test_weapon_fields_are_cleaned() -> None:
    weapon = WeaponSpec(
        name="  CZ Shadow 2  ",
        weapon_type="pistol",  # type: ignore[arg-type]
        caliber=" 9x19 ",
        nickname="   ",
        serial_number="B123456",
        licensed=False,
    )

    assert weapon.name == "CZ Shadow 2"
    assert weapon.weapon_type is WeaponType.PISTOL
    assert weapon.caliber == "9x19"
    assert weapon.nickname is None
    assert weapon.serial_number == "B123456"
    assert weapon.licensed is False


@pytest.mark.parametrize("name", ["", "   ", "\t\n", None])
def test_weapon_name_is_required(name: str | None) -> None:
    with pytest.raises(InvalidInput) as caught:
        WeaponSpec(name=name)  # type: ignore[arg-type]

    assert caught.value.field == "name"


def test_weapon_name_length_limit() -> None:
    assert WeaponSpec(name="x" * limits.MAX_NAME).name == "x" * limits.MAX_NAME
    with pytest.raises(InvalidInput) as caught:
        WeaponSpec(name="x" * (limits.MAX_NAME + 1))
    assert caught.value.field == "name"


@pytest.mark.parametrize("character", CONTROL_CHARACTERS)
def test_weapon_name_refuses_control_characters(character: str) -> None:
    with refused("name"):
        WeaponSpec(name=f"Glock{character}17")


@pytest.mark.parametrize("weapon_type", ["bazooka", "PISTOL", "", "air pistol"])
def test_weapon_type_must_be_known(weapon_type: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        WeaponSpec(name="Glock 17", weapon_type=weapon_type)  # type: ignore[arg-type]

    assert caught.value.field == "weapon_type"


@pytest.mark.parametrize("weapon_type", list(WeaponType))
def test_every_weapon_type_is_accepted(weapon_type: WeaponType) -> None:
    assert WeaponSpec(name="x", weapon_type=weapon_type.value).weapon_type is weapon_type  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "max_len"),
    [
        ("caliber", limits.MAX_CALIBER),
        ("nickname", limits.MAX_NAME),
        ("serial_number", limits.MAX_SERIAL),
        ("storage_location", limits.MAX_SHORT_TEXT),
        ("notes", limits.MAX_NOTE),
    ],
)
def test_weapon_text_length_limits(field: str, max_len: int) -> None:
    too_long: dict[str, Any] = {field: "x" * (max_len + 1)}
    with pytest.raises(InvalidInput) as caught:
        WeaponSpec(name="Glock 17", **too_long)

    assert caught.value.field == field


def test_weapon_keeps_accents_and_emoji() -> None:
    weapon = WeaponSpec(name="Zoë's geweer 🎯", notes="Gekocht voor € 650, één magazijn")

    assert weapon.name == "Zoë's geweer 🎯"
    assert weapon.notes == "Gekocht voor € 650, één magazijn"


# --- SessionSpec -------------------------------------------------------------------------


def test_session_defaults_and_cleaning() -> None:
    session = make_session(club="  SV De Roos  ", weather="   ", notes="Goed geschoten 👍")

    assert session.occurred_on == date(2026, 3, 14)
    assert session.status is SessionStatus.SAVED
    assert session.club == "SV De Roos"
    assert session.weather is None
    assert session.notes == "Goed geschoten 👍"


@pytest.mark.parametrize(
    "occurred_on",
    [datetime(2026, 3, 14, 10, 0, tzinfo=UTC), "2026-03-14", None, 20260314],
)
def test_session_date_must_be_a_date(occurred_on: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        make_session(occurred_on=occurred_on)

    assert caught.value.field == "occurred_on"


@pytest.mark.parametrize("field", ["started_at", "ended_at"])
def test_session_times_must_carry_a_time_zone(field: str) -> None:
    naive = datetime(2026, 3, 14, 10, 0)  # noqa: DTZ001 - the point of the test

    with pytest.raises(InvalidInput) as caught:
        make_session(**{field: naive})

    assert caught.value.field == field


def test_session_end_before_start_is_refused() -> None:
    start = datetime(2026, 3, 14, 10, 0, tzinfo=UTC)

    with pytest.raises(InvalidInput) as caught:
        make_session(started_at=start, ended_at=start - timedelta(minutes=1))

    assert caught.value.field == "ended_at"


@pytest.mark.parametrize("duration", [timedelta(0), timedelta(hours=2)])
def test_session_end_at_or_after_start_is_accepted(duration: timedelta) -> None:
    start = datetime(2026, 3, 14, 10, 0, tzinfo=UTC)

    session = make_session(started_at=start, ended_at=start + duration)

    assert session.started_at == start
    assert session.ended_at == start + duration


def test_session_times_in_different_zones_are_compared_as_instants() -> None:
    amsterdam_summer = timezone(timedelta(hours=2))
    start = datetime(2026, 6, 1, 10, 0, tzinfo=amsterdam_summer)  # 08:00 UTC
    end = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)  # 11:30 in Amsterdam

    assert make_session(started_at=start, ended_at=end).ended_at == end
    with refused("ended_at"):
        make_session(started_at=end, ended_at=start)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("draft", SessionStatus.DRAFT),
        ("saved", SessionStatus.SAVED),
        (SessionStatus.DRAFT, SessionStatus.DRAFT),
    ],
)
def test_session_status_is_accepted(status: object, expected: SessionStatus) -> None:
    assert make_session(status=status).status is expected


@pytest.mark.parametrize("status", ["bogus", "DRAFT", ""])
def test_session_unknown_status_is_refused(status: str) -> None:
    with refused("status"):
        make_session(status=status)


@pytest.mark.parametrize(
    ("field", "max_len"),
    [
        ("club", limits.MAX_SHORT_TEXT),
        ("location", limits.MAX_SHORT_TEXT),
        ("weather", limits.MAX_SHORT_TEXT),
        ("ammunition_brand", limits.MAX_SHORT_TEXT),
        ("notes", limits.MAX_NOTE),
        ("reflection", limits.MAX_NOTE),
    ],
)
def test_session_text_length_limits(field: str, max_len: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        make_session(**{field: "x" * (max_len + 1)})

    assert caught.value.field == field


@pytest.mark.parametrize("field", ["location", "reflection"])
def test_session_text_refuses_control_characters(field: str) -> None:
    with refused(field):
        make_session(**{field: "baan\x003"})


# --- ProfileSpec -------------------------------------------------------------------------


def test_valid_profile_is_accepted() -> None:
    profile = ProfileSpec(
        display_name="  Joël de Vries  ",
        language="en",  # type: ignore[arg-type]
        timezone="Europe/Brussels",
        knsa_number=" 12345 ",
        club="   ",
        licence_expiry=date(2027, 1, 31),
    )

    assert profile.display_name == "Joël de Vries"
    assert profile.language is Language.EN
    assert profile.timezone == "Europe/Brussels"
    assert profile.knsa_number == "12345"
    assert profile.club is None
    assert profile.licence_expiry == date(2027, 1, 31)


def test_profile_defaults() -> None:
    profile = ProfileSpec(display_name="Anna")

    assert profile.language is Language.NL
    assert profile.timezone == "Europe/Amsterdam"


@pytest.mark.parametrize("language", ["fr", "NL", "", "nederlands"])
def test_profile_unknown_language_is_refused(language: str) -> None:
    with refused("language"):
        ProfileSpec(display_name="Anna", language=language)  # type: ignore[arg-type]


@pytest.mark.parametrize("zone", ["Mars/Base", "", "Europe/Amsterdamm", "../../etc/passwd"])
def test_profile_unknown_timezone_is_refused(zone: str) -> None:
    with refused("timezone"):
        ProfileSpec(display_name="Anna", timezone=zone)


@pytest.mark.parametrize("name", ["", "   ", None])
def test_profile_display_name_is_required(name: str | None) -> None:
    with refused("display_name"):
        ProfileSpec(display_name=name)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "max_len"),
    [
        ("knsa_number", limits.MAX_SERIAL),
        ("club", limits.MAX_SHORT_TEXT),
        ("licence_number", limits.MAX_SERIAL),
    ],
)
def test_profile_text_length_limits(field: str, max_len: int) -> None:
    too_long: dict[str, Any] = {field: "x" * (max_len + 1)}
    with refused(field):
        ProfileSpec(display_name="Anna", **too_long)


# --- AttachmentSpec ----------------------------------------------------------------------


def test_valid_attachment_is_accepted() -> None:
    attachment = make_attachment(owner="weapon", original_name="  foto 🎯.jpg  ")

    assert attachment.owner is AttachmentOwner.WEAPON
    assert attachment.path == "attachments/2026/x.jpg"
    assert attachment.original_name == "foto 🎯.jpg"


@pytest.mark.parametrize("mime", ["image/jpeg", "image/png", "image/webp", "application/pdf"])
def test_attachment_allowed_mime_types(mime: str) -> None:
    assert make_attachment(mime=mime).mime == mime


@pytest.mark.parametrize(
    "mime", ["text/plain", "image/gif", "image/svg+xml", "IMAGE/JPEG", "", "application/zip"]
)
def test_attachment_other_mime_types_are_refused(mime: str) -> None:
    with refused("mime"):
        make_attachment(mime=mime)


@pytest.mark.parametrize("size", [1, limits.MAX_ATTACHMENT_BYTES])
def test_attachment_size_boundaries_are_accepted(size: int) -> None:
    assert make_attachment(size_bytes=size).size_bytes == size


@pytest.mark.parametrize("size", [0, -1, 20 * 1024 * 1024 + 1, True, 1.5])
def test_attachment_size_out_of_range_is_refused(size: object) -> None:
    with refused("size_bytes"):
        make_attachment(size_bytes=size)


@pytest.mark.parametrize(
    "digest", ["a" * 63, "a" * 65, "A" * 64, SHA.upper(), "g" * 64, "", f" {'a' * 63}", None]
)
def test_attachment_sha256_must_be_64_lowercase_hex(digest: object) -> None:
    with refused("sha256"):
        make_attachment(sha256=digest)


@pytest.mark.parametrize(
    "path",
    [
        "../etc/passwd",
        "/abs/path",
        "a/../../b",
        "attachments/..",
        "..",
        "\\windows\\path",
        "attachments\\..\\..\\secret",
        "",
        "attachments/x\x00.jpg",
        None,
    ],
)
def test_attachment_path_outside_the_data_directory_is_refused(path: object) -> None:
    with refused("path"):
        make_attachment(path=path)


@pytest.mark.parametrize(
    "path", ["attachments/2026/x.jpg", "x.jpg", "attachments/2026/foto..jpg", "a/b/c/d.pdf"]
)
def test_attachment_plain_relative_path_is_accepted(path: str) -> None:
    assert make_attachment(path=path).path == path


@pytest.mark.parametrize("owner", ["user", "SESSION", ""])
def test_attachment_unknown_owner_is_refused(owner: str) -> None:
    with refused("owner"):
        make_attachment(owner=owner)


@pytest.mark.parametrize(
    ("owner", "expected"),
    [
        ("session", AttachmentOwner.SESSION),
        ("entry", AttachmentOwner.ENTRY),
        ("weapon", AttachmentOwner.WEAPON),
    ],
)
def test_attachment_known_owners(owner: str, expected: AttachmentOwner) -> None:
    assert make_attachment(owner=owner).owner is expected


@pytest.mark.parametrize("owner_id", [0, -3, True, "1"])
def test_attachment_owner_id_must_be_positive(owner_id: object) -> None:
    with refused("owner_id"):
        make_attachment(owner_id=owner_id)


def test_attachment_original_name_length_limit() -> None:
    with refused("original_name"):
        make_attachment(original_name="x" * (limits.MAX_ORIGINAL_NAME + 1))


# --- regressions found in review ---------------------------------------------------------


@pytest.mark.parametrize("value", ["1e30", "9" * 30, "109000.1", Decimal("1E+400")])
def test_parse_score_refuses_absurdly_large_scores_cleanly(value: object) -> None:
    with refused("score"):
        parse_score(value)


@pytest.mark.parametrize("value", ["-0", "-0,0", Decimal("-0")])
def test_parse_score_negative_zero_is_zero(value: object) -> None:
    score = parse_score(value)
    assert str(score) == "0.0"


@pytest.mark.parametrize("value", ["NaN", "Infinity"])
def test_parse_score_says_not_a_number(value: str) -> None:
    with pytest.raises(InvalidInput, match="must be a number"):
        parse_score(value)


@pytest.mark.parametrize("value", ["2026-01-01T10:00", date(2026, 1, 1), 1767261600])
@pytest.mark.parametrize("field", ["started_at", "ended_at"])
def test_session_times_must_be_datetimes(field: str, value: object) -> None:
    with refused(field):
        make_session(**{field: value})


@pytest.mark.parametrize("timezone_name", [None, 42, ""])
def test_profile_time_zone_must_be_a_name(timezone_name: object) -> None:
    with refused("timezone"):
        ProfileSpec(display_name="Anna", timezone=timezone_name)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", ["a" * (limits.MAX_PATH + 1), ".", "a/./b", "a//b", "dir/"])
def test_attachment_path_must_be_a_plain_file_path(path: str) -> None:
    with refused("path"):
        make_attachment(path=path)


def test_attachment_path_may_use_the_whole_column() -> None:
    assert len(make_attachment(path="a" * limits.MAX_PATH).path) == limits.MAX_PATH


@pytest.mark.parametrize("mime", [[], None, 42, b"image/png"])
def test_attachment_mime_of_the_wrong_type_is_refused(mime: object) -> None:
    with refused("mime"):
        make_attachment(mime=mime)


@pytest.mark.parametrize("zone", ["Europe", "America", "", "../etc/passwd"])
def test_profile_time_zone_that_is_a_folder_or_path_is_refused(zone: str) -> None:
    with refused("timezone"):
        ProfileSpec(display_name="Anna", timezone=zone)
