"""/wapens and /profiel driven through the real conversation engine and database."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from aimtrack.bot.actions import TEXTS as ACTION_TEXTS
from aimtrack.bot.conversation import Conversation, catalogue
from aimtrack.bot.flows.fields import TEXTS as FIELD_TEXTS
from aimtrack.bot.flows.profile import TEXTS as PROFILE_TEXTS
from aimtrack.bot.flows.profile import ProfileFlow
from aimtrack.bot.flows.session import TEXTS as SESSION_TEXTS
from aimtrack.bot.flows.sessions import TEXTS as SESSIONS_TEXTS
from aimtrack.bot.flows.sessions import SessionsFlow
from aimtrack.bot.flows.weapons import TEXTS as WEAPON_TEXTS
from aimtrack.bot.flows.weapons import WeaponsFlow
from aimtrack.bot.io import Button, Command, Outcome, Press, Sender, Upload, UploadKind
from aimtrack.core.access import Access
from aimtrack.core.clock import FixedClock
from aimtrack.core.model import (
    AIAudit,
    AIStatus,
    AttachmentOwner,
    EntrySpec,
    Job,
    JobStatus,
    Language,
    Profile,
    ProfileSpec,
    SessionSpec,
    Weapon,
    WeaponInsight,
    WeaponSpec,
    WeaponType,
)
from aimtrack.jobs.ai_results import TEXTS as AI_TEXTS
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import (
    AIRepo,
    AttachmentRepo,
    JobQueue,
    ProfileRepo,
    SessionRepo,
    UserDirectory,
    WeaponRepo,
)
from aimtrack.storage.repos.attachments import user_folder
from tests.helpers.chat import Chat as ChatDriver
from tests.helpers.factories import attachment_spec

ANNA = Sender(transport="console", external_id="anna", chat_id="anna", display_name="Anna")
NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
EXPIRED = "Deze knop is verlopen; gebruik de knoppen van het laatste bericht."


class Chat(ChatDriver):
    """Anna talking to a conversation of /wapens, /profiel and /sessies only, where free text
    goes to the weapons flow; ``last`` is the latest outcome."""

    @classmethod
    def weapons_and_profile(cls, db: Database, data_dir: Path) -> Chat:
        conversation = Conversation(
            db,
            clock=FixedClock(NOW),
            data_dir=data_dir,
            flows={"weapons": WeaponsFlow(), "profile": ProfileFlow(), "sessions": SessionsFlow()},
            catalogue=catalogue(
                FIELD_TEXTS,
                WEAPON_TEXTS,
                PROFILE_TEXTS,
                SESSION_TEXTS,
                SESSIONS_TEXTS,
                AI_TEXTS,
                ACTION_TEXTS,
            ),
            access=Access(),
            text_flow="weapons",
        )
        return cls(conversation, ANNA)

    @property
    def db(self) -> Database:
        return self.conversation.db

    async def command(self, name: str, args: str = "") -> Outcome:
        return await self.do(Command(name, args))

    async def press(self, label: str, out: Outcome | None = None) -> Outcome:
        """Press the first button whose label contains ``label`` (in ``out``, else the latest)."""
        return await self.do(Press(button(out or self.last, label).data))

    async def press_data(self, data: str) -> Outcome:
        return await self.do(Press(data))

    @property
    def seq(self) -> str:
        """The sequence number the latest buttons carry."""
        return all_buttons(self.last)[0].data.split(":", 1)[0]

    async def user_id(self) -> int:
        async with self.db.transaction(read_only=True) as session:
            account = await UserDirectory(session).find("console", "anna")
        assert account is not None
        return account.user_id

    async def weapons(self) -> list[Weapon]:
        uid = await self.user_id()
        async with self.db.transaction(read_only=True) as session:
            return await WeaponRepo(session, uid).list_weapons(include_retired=True)

    async def weapon(self, name: str) -> Weapon:
        (found,) = [w for w in await self.weapons() if w.name == name]
        return found

    async def set_language(self, language: Language) -> None:
        uid = await self.user_id()
        async with self.db.transaction() as session:
            profiles = ProfileRepo(session, uid)
            profile = await profiles.get()
            await profiles.update(ProfileSpec(display_name=profile.display_name, language=language))

    async def profile(self) -> Profile:
        uid = await self.user_id()
        async with self.db.transaction(read_only=True) as session:
            return await ProfileRepo(session, uid).get()

    async def add_weapon(self, spec: WeaponSpec) -> int:
        uid = await self.user_id()
        async with self.db.transaction() as session:
            return (await WeaponRepo(session, uid).add(spec)).id

    async def log_entry(self, weapon_id: int, on: date, shots: int) -> None:
        uid = await self.user_id()
        async with self.db.transaction() as session:
            await SessionRepo(session, uid).create(
                SessionSpec(occurred_on=on),
                [EntrySpec(weapon_id=weapon_id, distance_m=25, shots=shots)],
            )


def all_buttons(out: Outcome) -> list[Button]:
    return [b for r in out.replies for row in r.buttons for b in row]


def labels(out: Outcome) -> list[str]:
    return [b.label for b in all_buttons(out)]


def button(out: Outcome, label: str) -> Button:
    found = [b for b in all_buttons(out) if label in b.label]
    assert found, f"no button {label!r} in {labels(out)}"
    return found[0]


@pytest.fixture
async def chat(db: Database, tmp_path: Path) -> Chat:
    chat = Chat.weapons_and_profile(db, tmp_path)
    await chat.command("start")  # registers Anna
    return chat


async def open_weapon(chat: Chat, name: str) -> Outcome:
    await chat.command("wapens")
    return await chat.press(name)


# --- weapons --------------------------------------------------------------------------------


async def test_add_a_weapon_end_to_end(chat: Chat) -> None:
    await chat.command("wapens")
    assert "nog geen wapens" in chat.text
    assert "➕ Wapen toevoegen" in labels(chat.last)
    await chat.press("Wapen toevoegen")
    assert "Hoe heet het wapen?" in chat.text
    await chat.say("  CZ 75 SP-01 ")
    assert "Wat voor wapen is CZ 75 SP-01?" in chat.text
    assert {"Pistool", "Luchtgeweer", "Anders"} <= set(labels(chat.last))
    await chat.press("Pistool")
    assert "Welk kaliber" in chat.text
    await chat.say("9mm")
    assert "CZ 75 SP-01 is toegevoegd" in chat.text
    assert "Kaliber: 9mm" in chat.text
    assert "Soort: Pistool" in chat.text
    weapon = await chat.weapon("CZ 75 SP-01")
    assert (weapon.weapon_type, weapon.caliber, weapon.licensed) == (WeaponType.PISTOL, "9mm", True)
    assert weapon.active


async def test_the_caliber_can_be_skipped(chat: Chat) -> None:
    await chat.command("weapons")
    await chat.press("Wapen toevoegen")
    await chat.say("Walther LG400")
    await chat.press("Luchtgeweer")
    await chat.press("Overslaan")
    weapon = await chat.weapon("Walther LG400")
    assert (weapon.weapon_type, weapon.caliber) == (WeaponType.AIR_RIFLE, None)


@pytest.mark.parametrize("name", ["", "   ", "x" * 5000, "bad\x00name"])
async def test_a_bad_name_is_asked_again_and_nothing_is_stored(chat: Chat, name: str) -> None:
    await chat.command("wapens")
    await chat.press("Wapen toevoegen")
    await chat.say(name)
    assert "Hoe heet het wapen?" in chat.text
    assert any(
        why in chat.text
        for why in ("mag niet leeg zijn", "hoogstens 100 tekens", "tekens die ik niet kan")
    )
    assert await chat.weapons() == []
    await chat.say("Glock 17")  # still at the same step
    assert "Wat voor wapen is Glock 17?" in chat.text


async def test_a_too_long_caliber_is_asked_again(chat: Chat) -> None:
    await chat.command("wapens")
    await chat.press("Wapen toevoegen")
    await chat.say("Glock 17")
    await chat.press("Pistool")
    await chat.say("9" * 41)
    assert "Kaliber mag hoogstens 40 tekens" in chat.text
    assert "Welk kaliber" in chat.text
    assert await chat.weapons() == []


async def test_edit_the_caliber_and_clear_it(chat: Chat) -> None:
    await chat.add_weapon(WeaponSpec(name="CZ 75", caliber="9mm"))
    await open_weapon(chat, "CZ 75")
    await chat.press("Kaliber")
    assert "nu: 9mm" in chat.text
    await chat.say("9x19 Parabellum")
    assert "Opgeslagen" in chat.text
    assert "Kaliber: 9x19 Parabellum" in chat.text
    assert (await chat.weapon("CZ 75")).caliber == "9x19 Parabellum"
    await chat.press("Kaliber")
    await chat.say(" - ")
    assert (await chat.weapon("CZ 75")).caliber is None
    assert "Kaliber: —" in chat.text


async def test_the_name_cannot_be_cleared(chat: Chat) -> None:
    await chat.add_weapon(WeaponSpec(name="CZ 75"))
    await open_weapon(chat, "CZ 75")
    await chat.press("Naam")
    await chat.say("-")
    assert "Naam mag niet leeg zijn" in chat.text
    await chat.say("CZ 75 Shadow 2")
    assert [w.name for w in await chat.weapons()] == ["CZ 75 Shadow 2"]


async def test_optional_fields_are_set_from_the_weapon_view(chat: Chat) -> None:
    await chat.add_weapon(WeaponSpec(name="CZ 75"))
    await open_weapon(chat, "CZ 75")
    for field, value in (
        ("Bijnaam", "Tsjech"),
        ("Serienummer", "AB-123456"),
        ("Opslag", "Kluis thuis"),
        ("Notities", "Nieuwe veren in 2025"),
    ):
        await chat.press(field)
        await chat.say(value)
        assert f"{field}: {value}" in chat.text  # serial and storage are shown: own chat
    await chat.press("Soort")
    await chat.press("Revolver")
    await chat.press("Verlof (WM-4): ja → nee")
    assert "Op mijn verlof (WM-4): nee" in chat.text
    weapon = await chat.weapon("CZ 75")
    assert (weapon.nickname, weapon.serial_number, weapon.storage_location) == (
        "Tsjech",
        "AB-123456",
        "Kluis thuis",
    )
    assert (weapon.notes, weapon.weapon_type, weapon.licensed) == (
        "Nieuwe veren in 2025",
        WeaponType.REVOLVER,
        False,
    )
    await chat.press("Verlof (WM-4): nee → ja")
    assert (await chat.weapon("CZ 75")).licensed


async def test_the_purchase_date_is_checked(chat: Chat) -> None:
    await chat.add_weapon(WeaponSpec(name="CZ 75"))
    await open_weapon(chat, "CZ 75")
    await chat.press("Aankoopdatum")
    for bad in ("gisteren", "31-02-2020", "2020/13/01"):
        await chat.say(bad)
        assert "geen datum die ik herken" in chat.text
        assert "Aankoopdatum van CZ 75" in chat.text
    await chat.say("01-12-2026")  # after today (23-11-2026)
    assert "niet in de toekomst" in chat.text
    assert (await chat.weapon("CZ 75")).purchase_date is None
    await chat.say("15-03-2019")
    assert "Aankoopdatum: 15-03-2019" in chat.text
    await chat.press("Aankoopdatum")
    await chat.say("2019-03-16")
    assert (await chat.weapon("CZ 75")).purchase_date == date(2019, 3, 16)
    await chat.press("Aankoopdatum")
    await chat.say("-")
    assert (await chat.weapon("CZ 75")).purchase_date is None


async def test_retire_and_reactivate(chat: Chat) -> None:
    await chat.add_weapon(WeaponSpec(name="Glock 17"))
    await chat.add_weapon(WeaponSpec(name="CZ 75"))
    await open_weapon(chat, "CZ 75")
    await chat.press("Uit gebruik nemen")
    assert "CZ 75 staat nu uit gebruik" in chat.text
    assert "Uit gebruik sinds: 23-11-2026" in chat.text
    assert (await chat.weapon("CZ 75")).retired_on == date(2026, 11, 23)
    await chat.press("Alle wapens")
    lines = chat.text.splitlines()
    assert lines.index("• Glock 17 — Anders — nog niet gebruikt") < lines.index(
        "• CZ 75 (uit gebruik) — Anders — nog niet gebruikt"
    )
    await chat.press("CZ 75 (uit gebruik)")
    await chat.press("Weer in gebruik")
    assert "CZ 75 is weer in gebruik" in chat.text
    assert (await chat.weapon("CZ 75")).active


async def test_delete_an_unused_weapon_after_confirmation(chat: Chat, tmp_path: Path) -> None:
    wid = await chat.add_weapon(WeaponSpec(name="Walther LG"))
    uid = await chat.user_id()
    path = f"{user_folder(uid)}walther.jpg"
    (tmp_path / path).parent.mkdir(parents=True)
    (tmp_path / path).write_bytes(b"photo")
    async with chat.db.transaction() as session:
        await AttachmentRepo(session, uid).add(attachment_spec(AttachmentOwner.WEAPON, wid, path))
    await open_weapon(chat, "Walther LG")
    await chat.press("Verwijderen")
    assert "Walther LG echt verwijderen?" in chat.text
    await chat.press("Nee")
    assert "🔫 Walther LG" in chat.text
    assert len(await chat.weapons()) == 1
    await chat.press("Verwijderen")
    await chat.press("Ja, verwijderen")
    assert "Walther LG is verwijderd" in chat.text
    assert "nog geen wapens" in chat.text
    assert await chat.weapons() == []
    assert not (tmp_path / path).exists()  # the photo left with it, after the commit


async def test_a_used_weapon_cannot_be_deleted(chat: Chat) -> None:
    wid = await chat.add_weapon(WeaponSpec(name="CZ 75"))
    await chat.log_entry(wid, date(2026, 11, 1), 5)
    await open_weapon(chat, "CZ 75")
    assert not any("Verwijderen" in label for label in labels(chat.last))
    await chat.press_data(f"{chat.seq}:del")  # forged: the button is not offered
    assert "staat 1× in je logboek" in chat.text
    assert "uit gebruik" in chat.text
    assert len(await chat.weapons()) == 1


async def test_a_weapon_used_while_confirming_is_not_deleted(chat: Chat) -> None:
    wid = await chat.add_weapon(WeaponSpec(name="CZ 75"))
    await open_weapon(chat, "CZ 75")
    await chat.press("Verwijderen")
    await chat.log_entry(wid, date(2026, 11, 1), 5)  # e.g. from another chat meanwhile
    await chat.press("Ja, verwijderen")
    assert "kan daarom niet worden verwijderd" in chat.text
    assert len(await chat.weapons()) == 1


async def test_usage_is_shown_in_the_list_and_the_view(chat: Chat) -> None:
    cz = await chat.add_weapon(WeaponSpec(name="CZ 75", weapon_type=WeaponType.PISTOL))
    await chat.add_weapon(WeaponSpec(name="Glock 17", caliber="9mm"))
    await chat.log_entry(cz, date(2026, 11, 21), 50)
    await chat.log_entry(cz, date(2026, 10, 2), 20)
    await chat.command("wapens")
    assert "• CZ 75 — Pistool — 2× gebruikt, 70 schoten, laatst 21-11-2026" in chat.text
    assert "• Glock 17 — Anders, 9mm — nog niet gebruikt" in chat.text
    await chat.press("CZ 75")
    assert "Gebruik: 2× gebruikt, 70 schoten, laatst 21-11-2026" in chat.text


async def test_another_users_weapon_cannot_be_opened(chat: Chat) -> None:
    async with chat.db.transaction() as session:
        other = await UserDirectory(session).register(
            "telegram", "777", display_name="Bob", allowed=True
        )
        secret = await WeaponRepo(session, other.user_id).add(
            WeaponSpec(name="Bobs geheim", serial_number="SECRET-1")
        )
    await chat.add_weapon(WeaponSpec(name="CZ 75"))
    await chat.command("wapens")
    for forged in (str(secret.id), "abc", "99999999999", "-1"):
        await chat.press_data(f"{chat.seq}:v:{forged}")
        assert "Dat wapen kon ik niet vinden" in chat.text
        assert "geheim" not in chat.text
        assert "SECRET" not in chat.text
        assert "• CZ 75" in chat.text  # the own list is shown again
    await chat.press("CZ 75")
    await chat.press_data(f"{chat.seq}:e:bogus")  # an unknown field: the view again
    assert "🔫 CZ 75" in chat.text


async def test_a_press_that_does_not_fit_the_step_changes_nothing(chat: Chat) -> None:
    await chat.add_weapon(WeaponSpec(name="CZ 75"))
    await chat.command("wapens")
    await chat.press_data(f"{chat.seq}:ret")  # the list has no weapon to retire
    assert "• CZ 75" in chat.text
    assert (await chat.weapon("CZ 75")).active
    await chat.press("CZ 75")
    await chat.press("Uit gebruik nemen")
    assert isinstance(chat.conversation.clock, FixedClock)
    chat.conversation.clock.advance(timedelta(days=3))
    await chat.press_data(f"{chat.seq}:ret")  # forged: already retired
    assert (await chat.weapon("CZ 75")).retired_on == date(2026, 11, 23)
    await chat.press_data(f"{chat.seq}:v:{(await chat.weapon('CZ 75')).id}")  # not offered here
    assert "🔫 CZ 75" in chat.text


async def test_an_old_button_is_expired_and_changes_nothing(chat: Chat) -> None:
    await chat.add_weapon(WeaponSpec(name="CZ 75"))
    first = await open_weapon(chat, "CZ 75")
    await chat.press("Kaliber")
    out = await chat.press("Uit gebruik nemen", out=first)  # two turns ago
    assert out.notice == EXPIRED
    assert out.replies == ()
    assert (await chat.weapon("CZ 75")).active
    await chat.say("22 LR")  # still editing the caliber
    assert (await chat.weapon("CZ 75")).caliber == "22 LR"


async def test_the_command_shows_the_current_step_again(chat: Chat) -> None:
    await chat.command("wapens")
    await chat.press("Wapen toevoegen")
    await chat.command("wapens")
    assert "Hoe heet het wapen?" in chat.text


async def test_typing_in_a_button_step_points_at_the_buttons(chat: Chat) -> None:
    await chat.add_weapon(WeaponSpec(name="CZ 75"))
    await open_weapon(chat, "CZ 75")
    await chat.say("hallo")
    assert "Kies een van de knoppen" in chat.text
    assert "🔫 CZ 75" in chat.text


async def test_cancel_and_done_end_the_flow(chat: Chat) -> None:
    await chat.command("wapens")
    await chat.press("Wapen toevoegen")
    await chat.say("Glock 17")
    types = chat.last
    await chat.command("annuleer")
    assert chat.text == "Geannuleerd."
    assert (await chat.press("Pistool", out=types)).notice == EXPIRED
    assert await chat.weapons() == []
    await chat.command("wapens")
    await chat.press("Klaar")
    assert chat.text == "Klaar met je wapens."
    assert (await chat.command("annuleer")).replies[0].text == "Er is niets om te annuleren."


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    return buffer.getvalue()


async def test_a_photo_during_the_weapons_flow_is_not_kept(chat: Chat, tmp_path: Path) -> None:
    await chat.command("wapens")
    await chat.press("Wapen toevoegen")
    data = png()

    async def fetch() -> bytes:
        return data

    out = await chat.conversation.handle(
        ANNA, Upload(UploadKind.PHOTO, fetch, declared_size=len(data))
    )
    assert "horen bij een sessie" in out.replies[0].text
    attachments = tmp_path / "attachments"
    assert not attachments.exists() or not any(p.is_file() for p in attachments.rglob("*"))
    await chat.say("Glock 17")  # the flow is still at its step
    assert "Wat voor wapen is Glock 17?" in chat.text


async def test_the_weapons_flow_speaks_english(chat: Chat) -> None:
    await chat.set_language(Language.EN)
    await chat.add_weapon(WeaponSpec(name="CZ 75", weapon_type=WeaponType.AIR_PISTOL))
    await chat.command("weapons")
    assert "Your weapons:" in chat.text
    assert "• CZ 75 — Air pistol — not used yet" in chat.text
    assert "➕ Add a weapon" in labels(chat.last)


# --- AI: weapon trends and the reflection in /sessies -----------------------------------------


async def jobs_and_insight(chat: Chat, weapon_id: int) -> tuple[list[Job], WeaponInsight | None]:
    uid = await chat.user_id()
    async with chat.db.transaction(read_only=True) as session:
        queued = await JobQueue(session).list_jobs()
        return queued, await AIRepo(session, uid).weapon_insight(weapon_id)


async def test_ai_trends_are_queued_and_the_view_stays(chat: Chat) -> None:
    cz = await chat.add_weapon(WeaponSpec(name="CZ 75"))
    await chat.log_entry(cz, date(2026, 11, 21), 50)
    await open_weapon(chat, "CZ 75")
    await chat.press("📈 AI-trends")
    assert "Ik zet de trends van je CZ 75 op een rij" in chat.text
    assert "🔫 CZ 75" in chat.text
    (job,), insight = await jobs_and_insight(chat, cz)
    assert (job.kind, job.user_id, job.status) == (
        "weapon_insight",
        await chat.user_id(),
        JobStatus.PENDING,
    )
    assert job.payload == {"weapon_id": cz, "transport": "console", "chat_id": "anna"}
    assert insight is not None
    assert insight.audit.status is AIStatus.PENDING
    await chat.press("AI-trends")  # again while it waits: still one job
    assert len((await jobs_and_insight(chat, cz))[0]) == 1


async def test_an_unused_weapon_offers_no_ai_trends(chat: Chat) -> None:
    glock = await chat.add_weapon(WeaponSpec(name="Glock 17"))
    await open_weapon(chat, "Glock 17")
    assert not any("AI-trends" in label for label in labels(chat.last))
    await chat.press_data(f"{chat.seq}:ai")  # forged
    assert "🔫 Glock 17" in chat.text
    assert await jobs_and_insight(chat, glock) == ([], None)


async def test_the_english_weapon_view_has_ai_trends(chat: Chat) -> None:
    await chat.set_language(Language.EN)
    cz = await chat.add_weapon(WeaponSpec(name="CZ 75"))
    await chat.log_entry(cz, date(2026, 11, 21), 50)
    await chat.command("weapons")
    await chat.press("CZ 75")
    await chat.press("📈 AI trends")
    assert "I'm putting the trends of your CZ 75 together" in chat.text


async def save_reflection(chat: Chat, session_id: int, audit: AIAudit, **texts: str) -> None:
    uid = await chat.user_id()
    async with chat.db.transaction() as session:
        await AIRepo(session, uid).save_reflection(session_id, audit=audit, **texts)


async def open_session(chat: Chat) -> int:
    """Log one session with the CZ on 21-11-2026 and open it in /sessies."""
    cz = await chat.add_weapon(WeaponSpec(name="CZ 75"))
    await chat.log_entry(cz, date(2026, 11, 21), 50)
    uid = await chat.user_id()
    async with chat.db.transaction(read_only=True) as session:
        (logged,) = await SessionRepo(session, uid).list_sessions()
    return logged.id


async def test_sessions_show_the_reflection_text(chat: Chat) -> None:
    sid = await open_session(chat)
    await save_reflection(
        chat,
        sid,
        AIAudit(status=AIStatus.SUCCEEDED, provider="ollama", model="llama3"),
        summary="Rustige sessie met een strakke groep.",
        next_focus="Trekkercontrole.",
    )
    await chat.command("sessies")
    await chat.press("21-11-2026")
    assert "AI-reflectie: klaar" in chat.text
    await chat.press("Reflectie tonen")
    shown = chat.last.replies[0]
    assert shown.text.startswith("🎯 Reflectie op je sessie van za 21-11-2026 (CZ 75)")
    assert "Rustige sessie met een strakke groep." in shown.text
    assert "➡️ Volgende keer: Trekkercontrole." in shown.text
    assert "🤖 llama3 via ollama" in shown.text
    assert [b.data for row in shown.buttons for b in row] == [f"!r:{sid}", f"!c:{sid}"]
    assert "AI-reflectie: klaar" in chat.text  # the session again, its buttons current
    await chat.press("Terug")
    assert "Je sessies (1–1 van 1)" in chat.text


@pytest.mark.parametrize(
    ("audit", "texts", "status", "offered"),
    [
        (AIAudit(status=AIStatus.PENDING), {}, "wordt gemaakt", False),
        (AIAudit(status=AIStatus.RUNNING), {}, "wordt nu gemaakt", False),
        (AIAudit(status=AIStatus.FAILED, error="timeout"), {}, "mislukt", False),
        (
            AIAudit(status=AIStatus.FAILED, provider="statistics", error="timeout"),
            {"summary": "50 schoten met de CZ 75."},
            "mislukt",
            True,
        ),
    ],
    ids=["pending", "running", "failed", "failed-with-fallback"],
)
async def test_sessions_show_the_reflection_status(
    chat: Chat, audit: AIAudit, texts: dict[str, str], status: str, offered: bool
) -> None:
    sid = await open_session(chat)
    await chat.command("sessies")
    await chat.press("21-11-2026")
    assert "AI-reflectie: nog niet gemaakt" in chat.text
    await save_reflection(chat, sid, audit, **texts)
    await chat.press("Terug")
    await chat.press("21-11-2026")
    assert f"AI-reflectie: {status}" in chat.text
    assert any("Reflectie tonen" in label for label in labels(chat.last)) is offered
    if offered:
        await chat.press("Reflectie tonen")
        assert "50 schoten met de CZ 75." in chat.text
        assert "de AI lukte niet (timeout)" in chat.text


# --- profile --------------------------------------------------------------------------------


async def test_the_profile_shows_every_field(chat: Chat) -> None:
    await chat.command("profiel")
    for line in (
        "Naam: Anna",
        "KNSA-nummer: —",
        "Vereniging: —",
        "Verlofnummer: —",
        "Verlof geldig tot: —",
        "Taal: Nederlands",
        "Tijdzone: Europe/Amsterdam",
        "Herinneringen: uit",
    ):
        assert line in chat.text
    assert len(labels(chat.last)) == 9  # seven fields, reminders and "Klaar"


async def test_set_the_knsa_number_and_club(chat: Chat) -> None:
    await chat.command("profiel")
    await chat.press("KNSA-nummer")
    await chat.say("KNSA-123456")
    assert "Opgeslagen" in chat.text
    assert "KNSA-nummer: KNSA-123456" in chat.text
    await chat.press("Vereniging")
    await chat.say("SV De Roos")
    await chat.press("KNSA-nummer")
    await chat.say("-")
    profile = await chat.profile()
    assert (profile.knsa_number, profile.club) == (None, "SV De Roos")


async def test_the_name_is_required(chat: Chat) -> None:
    await chat.command("profiel")
    await chat.press("Naam")
    await chat.say("-")
    assert "Naam mag niet leeg zijn" in chat.text
    await chat.say("x" * 5000)
    assert "hoogstens 100 tekens" in chat.text
    assert (await chat.profile()).display_name == "Anna"
    await chat.say("Anna de Vries")
    assert (await chat.profile()).display_name == "Anna de Vries"


async def test_the_licence_expiry_is_a_date(chat: Chat) -> None:
    await chat.command("profiel")
    await chat.press("Verlof geldig tot")
    await chat.say("volgend jaar")
    assert "geen datum die ik herken" in chat.text
    assert "Tot wanneer is je verlof geldig?" in chat.text
    assert (await chat.profile()).licence_expiry is None
    await chat.say("31-12-2027")
    assert "Verlof geldig tot: 31-12-2027" in chat.text
    assert (await chat.profile()).licence_expiry == date(2027, 12, 31)
    await chat.press("Verlof geldig tot")
    await chat.say("2026-01-31")
    assert "Verlof geldig tot: 31-01-2026 (verlopen!)" in chat.text


async def test_the_time_zone_is_checked(chat: Chat) -> None:
    await chat.command("profiel")
    await chat.press("Tijdzone")
    for bad in ("Mars/Olympus", "Europe", "-", "../../etc/passwd"):
        await chat.say(bad)
        assert "Die tijdzone ken ik niet" in chat.text
        assert (await chat.profile()).timezone == "Europe/Amsterdam"
    await chat.say("europe/brussels")
    assert "Tijdzone: Europe/Brussels" in chat.text
    assert (await chat.profile()).timezone == "Europe/Brussels"


async def test_switching_to_english_answers_in_english(chat: Chat) -> None:
    await chat.command("profiel")
    await chat.press("Taal")
    assert set(labels(chat.last)) >= {"Nederlands", "English"}
    await chat.press("English")
    assert "I'll write in English now" in chat.text
    assert "Your profile" in chat.text
    assert "Language: English" in chat.text
    assert "✏️ Time zone" in labels(chat.last)
    assert (await chat.profile()).language is Language.EN
    await chat.command("cancel")
    assert chat.text == "Cancelled."
    await chat.command("profile")
    await chat.press("Language")
    await chat.press("Nederlands")
    assert "Ik schrijf nu in het Nederlands" in chat.text


async def test_a_forged_language_changes_nothing(chat: Chat) -> None:
    await chat.command("profiel")
    await chat.press("Taal")
    await chat.press_data(f"{chat.seq}:l:de")
    assert "In welke taal" in chat.text
    assert (await chat.profile()).language is Language.NL


async def test_reminders_are_off_until_switched_on_after_the_explanation(chat: Chat) -> None:
    await chat.command("profiel")
    assert (await chat.profile()).reminders is False
    await chat.press("Herinneringen")
    for said in (
        "Herinneringen (nu: uit)",
        "hooguit één keer per week",
        "binnen 4 maanden verloopt en je nog geen 18 schietdagen hebt",
        "achterloopt met wedstrijden (3 KNSA of 5 club)",
        "een concept (foto nu, details later) een dag open staat",
        "Alleen tussen 10:00 en 20:00 in je eigen tijdzone (Europe/Amsterdam)",
    ):
        assert said in chat.text
    assert labels(chat.last) == ["🔔 Aan", "🔕 Uit", "↩️ Terug"]
    await chat.press("Aan")
    assert "✅ Herinneringen staan aan." in chat.text
    assert "Herinneringen: aan" in chat.text
    assert (await chat.profile()).reminders is True

    await chat.press("Naam")  # saving a field keeps them as they are
    await chat.say("Anna de Vries")
    assert (await chat.profile()).reminders is True
    await chat.press("Herinneringen")
    assert "Herinneringen (nu: aan)" in chat.text
    await chat.press("Uit")
    assert "✅ Herinneringen staan uit." in chat.text
    assert (await chat.profile()).reminders is False


async def test_reminders_explained_in_english(chat: Chat) -> None:
    await chat.set_language(Language.EN)
    await chat.command("profile")
    assert "Reminders: off" in chat.text
    await chat.press("Reminders")
    assert "at most once a week" in chat.text
    assert "Only between 10:00 and 20:00 in your own time zone" in chat.text
    await chat.press("On")
    assert "✅ Reminders are on." in chat.text


async def test_a_forged_reminder_switch_changes_nothing(chat: Chat) -> None:
    await chat.command("profiel")
    await chat.press_data(f"{chat.seq}:r:on")  # not from the reminders step
    assert (await chat.profile()).reminders is False
    await chat.press("Herinneringen")
    await chat.press_data(f"{chat.seq}:r:maybe")
    assert "Herinneringen (nu: uit)" in chat.text
    assert (await chat.profile()).reminders is False


async def test_an_old_profile_button_is_expired(chat: Chat) -> None:
    first = await chat.command("profiel")
    await chat.press("Vereniging")
    await chat.press("Terug")
    out = await chat.press("Taal", out=first)
    assert out.notice == EXPIRED


# --- texts ----------------------------------------------------------------------------------


def test_text_keys_carry_the_flow_prefix() -> None:
    assert all(key.startswith("weapons.") for key in WEAPON_TEXTS)
    assert all(key.startswith("profile.") for key in PROFILE_TEXTS)
    catalogue(FIELD_TEXTS, WEAPON_TEXTS, PROFILE_TEXTS)  # no key clashes with the engine's own
