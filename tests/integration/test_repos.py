"""What the repositories do for their own user, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from aimtrack.core import limits
from aimtrack.core.errors import InvalidInput, NotFound, WeaponInUse
from aimtrack.core.model import (
    AIAudit,
    AIStatus,
    AttachmentOwner,
    ConversationState,
    EntrySpec,
    MessageRole,
    ProfileSpec,
    Recipient,
    ReminderKind,
    SessionSpec,
    SessionStatus,
    ShootingSession,
    WeaponSpec,
)
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import (
    AIRepo,
    AttachmentRepo,
    CoachRepo,
    ConversationRepo,
    ProfileRepo,
    ReminderLog,
    SessionRepo,
    UpdateLog,
    UserDirectory,
    WeaponRepo,
)
from aimtrack.storage.repos.attachments import user_folder
from tests.helpers.databases import racing
from tests.helpers.factories import attachment_spec


async def _user(db: Database, telegram_id: int = 42) -> int:
    async with db.transaction() as session:
        account = await UserDirectory(session).register(
            "telegram", str(telegram_id), display_name="Anna", allowed=True
        )
    return account.user_id


async def _weapon(db: Database, uid: int, name: str = "CZ 75") -> int:
    async with db.transaction() as session:
        return (await WeaponRepo(session, uid).add(WeaponSpec(name=name, caliber="9mm"))).id


async def _log_session(
    db: Database,
    uid: int,
    *weapon_ids: int,
    on: date = date(2026, 11, 1),
    status: SessionStatus = SessionStatus.SAVED,
) -> ShootingSession:
    """A session with one 25 m, 5-shot entry per weapon, in the order given."""
    async with db.transaction() as session:
        return await SessionRepo(session, uid).create(
            SessionSpec(occurred_on=on, status=status),
            [EntrySpec(weapon_id=w, distance_m=25, shots=5) for w in weapon_ids],
        )


async def test_weapon_register_lists_active_weapons_and_keeps_retired_ones(db: Database) -> None:
    uid = await _user(db)
    cz = await _weapon(db, uid, "CZ 75")
    glock = await _weapon(db, uid, "Glock 17")
    async with db.transaction() as session:
        weapons = WeaponRepo(session, uid)
        await weapons.retire(glock, on=date(2026, 5, 1))
        active = [w.name for w in await weapons.list_weapons()]
        everything = [
            (w.name, w.retired_on) for w in await weapons.list_weapons(include_retired=True)
        ]
    assert active == ["CZ 75"]
    assert everything == [("CZ 75", None), ("Glock 17", date(2026, 5, 1))]
    async with db.transaction() as session:
        back = await WeaponRepo(session, uid).reactivate(glock)
    assert back.active
    assert cz != glock


async def test_a_weapon_with_history_can_only_be_retired(db: Database) -> None:
    uid = await _user(db)
    cz = await _weapon(db, uid)
    async with db.transaction() as session:
        await SessionRepo(session, uid).create(
            SessionSpec(occurred_on=date(2026, 11, 1)),
            [EntrySpec(weapon_id=cz, distance_m=25, shots=50)],
        )
    with pytest.raises(WeaponInUse) as caught:
        async with db.transaction() as session:
            await WeaponRepo(session, uid).delete(cz)
    assert caught.value.entries == 1
    async with db.transaction() as session:
        assert (await WeaponRepo(session, uid).get(cz)).name == "CZ 75"
        assert await SessionRepo(session, uid).count() == 1


async def test_deleting_an_unused_weapon_returns_its_files_and_unlinks_coach_threads(
    db: Database,
) -> None:
    uid = await _user(db)
    lg = await _weapon(db, uid, "Walther LG")
    async with db.transaction() as session:
        await AttachmentRepo(session, uid).add(
            attachment_spec(AttachmentOwner.WEAPON, lg, f"{user_folder(uid)}w/lg.jpg")
        )
        thread = await CoachRepo(session, uid).start_thread(title="LG grip?", weapon_id=lg)
    async with db.transaction() as session:
        paths = await WeaponRepo(session, uid).delete(lg)
    assert paths == [f"{user_folder(uid)}w/lg.jpg"]
    async with db.transaction() as session:
        with pytest.raises(NotFound):
            await WeaponRepo(session, uid).get(lg)
        assert (await CoachRepo(session, uid).get_thread(thread.id)).weapon_id is None
        assert await AttachmentRepo(session, uid).list_for(AttachmentOwner.WEAPON, lg) == []


async def test_weapon_usage_counts_entries_shots_and_last_day(db: Database) -> None:
    uid = await _user(db)
    cz = await _weapon(db, uid, "CZ 75")
    unused = await _weapon(db, uid, "Unused")
    async with db.transaction() as session:
        sessions = SessionRepo(session, uid)
        for day, shots in ((date(2026, 10, 1), 50), (date(2026, 11, 3), 20)):
            await sessions.create(
                SessionSpec(occurred_on=day), [EntrySpec(weapon_id=cz, distance_m=25, shots=shots)]
            )
        usage = await WeaponRepo(session, uid).usage()
    assert set(usage) == {cz}
    assert (usage[cz].entries, usage[cz].shots, usage[cz].last_used) == (2, 70, date(2026, 11, 3))
    assert unused not in usage


async def test_session_with_entries_round_trips_exactly(db: Database) -> None:
    uid = await _user(db)
    cz = await _weapon(db, uid, "CZ 75")
    lg = await _weapon(db, uid, "Walther LG")
    start = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
    async with db.transaction() as session:
        created = await SessionRepo(session, uid).create(
            SessionSpec(
                occurred_on=date(2026, 11, 21),
                club="SV De Roos",
                started_at=start,
                ended_at=start + timedelta(hours=2),
                notes="wind van links, ë é €",
            ),
            [
                EntrySpec(weapon_id=lg, distance_m=10, shots=40, score=Decimal("372")),
                EntrySpec(weapon_id=cz, distance_m=25, shots=50, score=Decimal("431.5")),
            ],
        )
    async with db.transaction() as session:
        loaded = await SessionRepo(session, uid).get(created.id)
    assert loaded == created
    assert [(e.weapon_id, e.score, e.position) for e in loaded.entries] == [
        (lg, Decimal("372.0"), 0),
        (cz, Decimal("431.5"), 1),
    ]
    assert loaded.started_at == start
    assert loaded.notes == "wind van links, ë é €"


async def test_sessions_list_newest_first_in_pages(db: Database) -> None:
    uid = await _user(db)
    cz = await _weapon(db, uid)
    async with db.transaction() as session:
        sessions = SessionRepo(session, uid)
        for day in range(1, 8):
            await sessions.create(
                SessionSpec(occurred_on=date(2026, 11, day), club=f"Club {day % 3}"),
                [EntrySpec(weapon_id=cz, distance_m=25, shots=5)],
            )
        await sessions.create(
            SessionSpec(occurred_on=date(2026, 11, 9), status=SessionStatus.DRAFT)
        )
        first = await sessions.list_sessions(limit=3)
        second = await sessions.list_sessions(limit=3, offset=3)
        drafts = await sessions.list_sessions(status=SessionStatus.DRAFT)
        total, saved = await sessions.count(), await sessions.count(status=SessionStatus.SAVED)
        clubs = await sessions.recent_clubs(limit=5)
    assert [s.occurred_on.day for s in first] == [9, 7, 6]
    assert [s.occurred_on.day for s in second] == [5, 4, 3]
    assert [s.status for s in drafts] == [SessionStatus.DRAFT]
    assert (total, saved) == (8, 7)
    assert clubs == ["Club 1", "Club 0", "Club 2"]


async def test_entries_can_be_added_changed_and_removed(db: Database) -> None:
    uid = await _user(db)
    cz = await _weapon(db, uid)
    async with db.transaction() as session:
        sessions = SessionRepo(session, uid)
        created = await sessions.create(SessionSpec(occurred_on=date(2026, 11, 1)))
        first = await sessions.add_entry(
            created.id, EntrySpec(weapon_id=cz, distance_m=25, shots=5)
        )
        second = await sessions.add_entry(
            created.id, EntrySpec(weapon_id=cz, distance_m=50, shots=10)
        )
        await sessions.update_entry(
            first.id, EntrySpec(weapon_id=cz, distance_m=25, shots=6, score=50)
        )
        await AttachmentRepo(session, uid).add(
            attachment_spec(
                AttachmentOwner.ENTRY, second.id, f"{user_folder(uid)}e/2.png", mime="image/png"
            )
        )
        removed = await sessions.delete_entry(second.id)
        loaded = await sessions.get(created.id)
    assert (first.position, second.position) == (0, 1)
    assert removed == [f"{user_folder(uid)}e/2.png"]
    assert [(e.shots, e.score) for e in loaded.entries] == [(6, Decimal("50.0"))]


async def test_deleting_a_session_removes_entries_reflection_and_returns_files(
    db: Database,
) -> None:
    uid = await _user(db)
    cz = await _weapon(db, uid)
    created = await _log_session(db, uid, cz)
    async with db.transaction() as session:
        files = AttachmentRepo(session, uid)
        for owner, owner_id, path in (
            (AttachmentOwner.SESSION, created.id, f"{user_folder(uid)}s/1.jpg"),
            (AttachmentOwner.ENTRY, created.entries[0].id, f"{user_folder(uid)}s/2.jpg"),
        ):
            await files.add(attachment_spec(owner, owner_id, path))
        await AIRepo(session, uid).save_reflection(
            created.id, audit=AIAudit(status=AIStatus.PENDING)
        )
    async with db.transaction() as session:
        paths = await SessionRepo(session, uid).delete(created.id)
    assert sorted(paths) == [f"{user_folder(uid)}s/1.jpg", f"{user_folder(uid)}s/2.jpg"]
    async with db.transaction() as session:
        assert await SessionRepo(session, uid).count() == 0
        assert await AIRepo(session, uid).reflection(created.id) is None
        assert (await WeaponRepo(session, uid).get(cz)).name == "CZ 75"


async def test_one_reflection_per_session_is_replaced_not_duplicated(db: Database) -> None:
    uid = await _user(db)
    cz = await _weapon(db, uid)
    created = await _log_session(db, uid, cz)
    async with db.transaction() as session:
        ai = AIRepo(session, uid)
        await ai.save_reflection(created.id, audit=AIAudit(status=AIStatus.RUNNING))
        done = datetime(2026, 11, 1, 20, tzinfo=UTC)
        await ai.save_reflection(
            created.id,
            audit=AIAudit(
                status=AIStatus.SUCCEEDED, provider="ollama", model="llama3", generated_at=done
            ),
            summary="Steady",
            went_well="Grip",
            needs_improvement="Trigger",
            next_focus="Breathing",
        )
        reflection = await ai.reflection(created.id)
        insight = await ai.save_weapon_insight(
            cz, audit=AIAudit(status=AIStatus.FAILED, error="timeout"), trends=None
        )
    assert reflection is not None
    assert (reflection.summary, reflection.audit.status, reflection.audit.generated_at) == (
        "Steady",
        AIStatus.SUCCEEDED,
        done,
    )
    assert (insight.audit.status, insight.audit.error) == (AIStatus.FAILED, "timeout")


async def test_coach_threads_keep_messages_in_order_and_latest_thread_first(db: Database) -> None:
    uid = await _user(db)
    async with db.transaction() as session:
        coach = CoachRepo(session, uid)
        old = await coach.start_thread(title="Old question")
        new = await coach.start_thread(
            title="New question", period_from=date(2026, 1, 1), period_to=date(2026, 6, 30)
        )
        await coach.add_message(old.id, role=MessageRole.USER, content="Why left?")
        await coach.add_message(
            old.id, role=MessageRole.ASSISTANT, content="Trigger slap.", model="m"
        )
        messages = await coach.messages(old.id)
        threads = await coach.threads()
        with pytest.raises(InvalidInput):
            await coach.start_thread(
                title="Backwards", period_from=date(2026, 2, 1), period_to=date(2026, 1, 1)
            )
    assert [(m.role, m.content) for m in messages] == [
        (MessageRole.USER, "Why left?"),
        (MessageRole.ASSISTANT, "Trigger slap."),
    ]
    assert [t.id for t in threads] == [old.id, new.id]


async def test_an_answer_is_written_pending_and_completed_with_its_record(db: Database) -> None:
    uid = await _user(db)
    async with db.transaction() as session:
        coach = CoachRepo(session, uid)
        thread = await coach.start_thread(title="Why left?")
        question = await coach.add_message(thread.id, role=MessageRole.USER, content="Why left?")
        pending = await coach.add_message(
            thread.id, role=MessageRole.ASSISTANT, content="…", status=AIStatus.PENDING
        )
    async with db.transaction() as session:
        coach = CoachRepo(session, uid)
        failed = await coach.update_message(
            pending.id,
            content="No answer now; try again later.",
            status=AIStatus.FAILED,
            provider="p" * 500,
            error="timeout " + "x" * 50_000,
        )
        with pytest.raises(InvalidInput, match="content"):
            await coach.update_message(pending.id, content="  ", status=AIStatus.FAILED)
    async with db.transaction() as session:
        answered = await CoachRepo(session, uid).update_message(
            pending.id,
            content="Trigger slap.",
            status=AIStatus.SUCCEEDED,
            provider="ollama",
            model="llama3",
        )
        messages = await CoachRepo(session, uid).messages(thread.id)
    assert (question.status, question.error) == (None, None)
    assert (pending.status, pending.content) == (AIStatus.PENDING, "…")
    assert (failed.status, len(failed.provider or ""), len(failed.error or "")) == (
        AIStatus.FAILED,
        limits.MAX_AI_PROVIDER,
        limits.MAX_AI_TEXT,
    )
    assert answered.id == pending.id
    assert [(m.role, m.content, m.status, m.provider, m.model, m.error) for m in messages] == [
        (MessageRole.USER, "Why left?", None, None, None, None),
        (MessageRole.ASSISTANT, "Trigger slap.", AIStatus.SUCCEEDED, "ollama", "llama3", None),
    ]


async def test_history_is_saved_sessions_in_a_period_newest_first(db: Database) -> None:
    uid = await _user(db)
    cz = await _weapon(db, uid, "CZ 75")
    lg = await _weapon(db, uid, "Walther LG")

    async def log(day: int, *weapons: int, status: SessionStatus = SessionStatus.SAVED) -> int:
        return (await _log_session(db, uid, *weapons, on=date(2026, 10, day), status=status)).id

    first = await log(1, cz)
    both = await log(5, lg, cz)
    air = await log(5, lg)
    await log(6, cz, status=SessionStatus.DRAFT)
    empty = await log(9)
    last = await log(20, cz)
    async with db.transaction() as session:
        sessions = SessionRepo(session, uid)
        everything = await sessions.history()
        in_period = await sessions.history(since=date(2026, 10, 5), until=date(2026, 10, 9))
        with_cz = await sessions.history(weapon_id=cz)
        with_lg_since = await sessions.history(weapon_id=lg, since=date(2026, 10, 2))
        newest = await sessions.history(limit=-3)
        nothing = await sessions.history(since=date(2026, 10, 21))
    assert [s.id for s in everything] == [last, empty, air, both, first]  # no draft
    assert [s.id for s in in_period] == [empty, air, both]
    assert [s.id for s in with_cz] == [last, both, first]
    assert [s.id for s in with_lg_since] == [air, both]
    both_entries = next(s for s in with_cz if s.id == both).entries
    assert [e.weapon_id for e in both_entries] == [lg, cz]  # the session keeps all its entries
    assert [s.id for s in newest] == [last]
    assert nothing == []


async def test_conversation_state_survives_a_restart(db: Database) -> None:
    uid = await _user(db)
    state = ConversationState(
        transport="telegram",
        chat_id="42",
        flow="session",
        step="shots",
        draft={"club": "SV De Roos", "entries": [{"weapon_id": 1, "distance_m": 25}]},
    )
    async with db.transaction() as session:
        await ConversationRepo(session, uid).save(state)
    url = db.engine.url.render_as_string(hide_password=False)
    await db.dispose()  # the process dies; a new one opens the same database
    reopened = Database.from_url(url)
    try:
        async with reopened.transaction() as session:
            repo = ConversationRepo(session, uid)
            loaded = await repo.load("telegram", "42")
            assert loaded is not None
            assert (loaded.flow, loaded.step, loaded.draft) == ("session", "shots", state.draft)
            assert await repo.clear("telegram", "42") is True
            assert await repo.load("telegram", "42") is None
    finally:
        await reopened.dispose()


@pytest.mark.parametrize(
    "draft",
    [{"note": "x" * 70_000}, {"when": datetime(2026, 1, 1, tzinfo=UTC)}, {"score": float("nan")}],
    ids=["huge", "not-json", "nan"],
)
async def test_conversation_drafts_must_be_small_plain_json(
    db: Database, draft: dict[str, object]
) -> None:
    uid = await _user(db)
    async with db.transaction() as session:
        with pytest.raises(InvalidInput):
            await ConversationRepo(session, uid).save(
                ConversationState(
                    transport="telegram", chat_id="1", flow="f", step="s", draft=draft
                )
            )


async def test_an_update_is_claimed_once(db: Database) -> None:
    async with db.transaction() as session:
        log = UpdateLog(session)
        first = await log.claim("telegram", 1001)
        again = await log.claim("telegram", 1001)
        other_transport = await log.claim("signal", 1001)
    async with db.transaction() as session:
        after_commit = await UpdateLog(session).claim("telegram", 1001)
        pruned = await UpdateLog(session).prune(before=datetime.now(UTC) + timedelta(minutes=1))
    assert (first, again, other_transport, after_commit) == (True, False, True, False)
    assert pruned == 2


async def test_user_directory_allow_deny_and_register(db: Database) -> None:
    async with db.transaction() as session:
        users = UserDirectory(session)
        invited = await users.allow_telegram(777, admin=True)
        stranger = await users.register("telegram", "888", display_name="Piet", allowed=False)
        registered = await users.register("telegram", "777", display_name="Anna", allowed=True)
        denied = await users.deny_telegram(777)
        unknown = await users.deny_telegram(999)
        listing = await users.list_users()
        console = await users.register("console", "local", display_name="me", allowed=True)
    assert (invited.is_allowed, invited.is_admin, invited.telegram_id) == (True, True, 777)
    assert not stranger.is_allowed
    assert (registered.user_id, registered.display_name) == (invited.user_id, "Anna")
    assert denied is not None
    assert (denied.is_allowed, denied.is_admin) == (False, False)
    assert unknown is None
    assert [(u.telegram_id, u.is_allowed) for u in listing] == [(777, False), (888, False)]
    assert console.telegram_id is None
    async with db.transaction() as session:
        profile = await ProfileRepo(session, invited.user_id).get()
    assert (profile.display_name, profile.language.value, profile.timezone) == (
        "Anna",
        "nl",
        "Europe/Amsterdam",
    )


BAD_IDS = [0, -1, 2**31, 2**63, True]
ID_CALLS = {
    "WeaponRepo.get": lambda s, u, i: WeaponRepo(s, u).get(i),
    "WeaponRepo.update": lambda s, u, i: WeaponRepo(s, u).update(i, WeaponSpec(name="x")),
    "WeaponRepo.retire": lambda s, u, i: WeaponRepo(s, u).retire(i, on=date(2026, 1, 1)),
    "WeaponRepo.reactivate": lambda s, u, i: WeaponRepo(s, u).reactivate(i),
    "WeaponRepo.delete": lambda s, u, i: WeaponRepo(s, u).delete(i),
    "SessionRepo.get": lambda s, u, i: SessionRepo(s, u).get(i),
    "SessionRepo.update": lambda s, u, i: SessionRepo(s, u).update(
        i, SessionSpec(occurred_on=date(2026, 1, 1))
    ),
    "SessionRepo.delete": lambda s, u, i: SessionRepo(s, u).delete(i),
    "SessionRepo.add_entry": lambda s, u, i: SessionRepo(s, u).add_entry(
        i, EntrySpec(weapon_id=1, distance_m=25, shots=5)
    ),
    "SessionRepo.update_entry": lambda s, u, i: SessionRepo(s, u).update_entry(
        i, EntrySpec(weapon_id=1, distance_m=25, shots=5)
    ),
    "SessionRepo.delete_entry": lambda s, u, i: SessionRepo(s, u).delete_entry(i),
    "AttachmentRepo.get": lambda s, u, i: AttachmentRepo(s, u).get(i),
    "AttachmentRepo.delete": lambda s, u, i: AttachmentRepo(s, u).delete(i),
    "AIRepo.save_reflection": lambda s, u, i: AIRepo(s, u).save_reflection(
        i, audit=AIAudit(status=AIStatus.PENDING)
    ),
    "AIRepo.save_weapon_insight": lambda s, u, i: AIRepo(s, u).save_weapon_insight(
        i, audit=AIAudit(status=AIStatus.PENDING)
    ),
    "CoachRepo.get_thread": lambda s, u, i: CoachRepo(s, u).get_thread(i),
    "CoachRepo.start_thread": lambda s, u, i: CoachRepo(s, u).start_thread(title="t", weapon_id=i),
    "CoachRepo.add_message": lambda s, u, i: CoachRepo(s, u).add_message(
        i, role=MessageRole.USER, content="x"
    ),
    "CoachRepo.messages": lambda s, u, i: CoachRepo(s, u).messages(i),
    "CoachRepo.update_message": lambda s, u, i: CoachRepo(s, u).update_message(
        i, content="x", status=AIStatus.SUCCEEDED
    ),
}
EMPTY_CALLS = {
    "AIRepo.reflection": lambda s, u, i: AIRepo(s, u).reflection(i),
    "AIRepo.weapon_insight": lambda s, u, i: AIRepo(s, u).weapon_insight(i),
    "AttachmentRepo.list_for": lambda s, u, i: AttachmentRepo(s, u).list_for(
        AttachmentOwner.SESSION, i
    ),
    "SessionRepo.history": lambda s, u, i: SessionRepo(s, u).history(weapon_id=i),
}


@pytest.mark.parametrize("bad_id", BAD_IDS, ids=repr)
async def test_ids_that_cannot_exist_are_simply_not_found(db: Database, bad_id: int) -> None:
    """Forged callback data can carry any number; none may reach the database as an error."""
    uid = await _user(db)
    for name, call in ID_CALLS.items():
        async with db.transaction() as session:
            try:
                result = await call(session, uid, bad_id)
            except NotFound:
                continue
        pytest.fail(f"{name}({bad_id!r}) returned {result!r} instead of raising NotFound")
    for name, call in EMPTY_CALLS.items():
        async with db.transaction() as session:
            assert await call(session, uid, bad_id) in (None, []), name


@pytest.mark.parametrize("bad_id", [0, 2**31, 2**40])
def test_specs_refuse_ids_that_cannot_exist(bad_id: int) -> None:
    with pytest.raises(InvalidInput, match="weapon_id"):
        EntrySpec(weapon_id=bad_id, distance_m=25, shots=5)
    with pytest.raises(InvalidInput, match="owner_id"):
        attachment_spec(AttachmentOwner.SESSION, bad_id, "attachments/x.jpg")


async def test_two_saves_of_one_conversation_at_once_both_succeed(db: Database) -> None:
    uid = await _user(db)
    state = ConversationState(transport="telegram", chat_id="9", flow="session", step="club")
    await racing(db, lambda session: ConversationRepo(session, uid).save(state))
    async with db.transaction() as session:
        loaded = await ConversationRepo(session, uid).load("telegram", "9")
    assert loaded is not None
    assert loaded.step == "club"


async def test_two_first_contacts_of_one_person_make_one_user(db: Database) -> None:
    first, second = await racing(
        db,
        lambda session: UserDirectory(session).register("telegram", "31337", allowed=False),
        lambda session: UserDirectory(session).register("telegram", "31337", allowed=True),
    )
    assert first.user_id == second.user_id  # type: ignore[attr-defined]
    assert second.is_allowed  # type: ignore[attr-defined]
    async with db.transaction() as session:
        assert len(await UserDirectory(session).list_users()) == 1


async def test_two_workers_saving_one_reflection_leave_one_row(db: Database) -> None:
    uid = await _user(db)
    cz = await _weapon(db, uid)
    created = await _log_session(db, uid, cz)
    await racing(
        db,
        lambda session: AIRepo(session, uid).save_reflection(
            created.id, audit=AIAudit(status=AIStatus.SUCCEEDED), summary="done"
        ),
    )
    async with db.transaction() as session:
        reflection = await AIRepo(session, uid).reflection(created.id)
    assert reflection is not None
    assert reflection.summary == "done"


async def test_reads_do_not_wait_for_a_writer(db: Database) -> None:
    """The ping and read-only transactions answer while another transaction holds SQLite's
    write lock (a write transaction would wait the 10 s busy timeout, then fail)."""
    uid = await _user(db)
    async with db.transaction() as writer:
        await WeaponRepo(writer, uid).add(WeaponSpec(name="not yet committed"))
        assert await db.ping() is True
        async with db.transaction(read_only=True) as reader:
            seen = [w.name for w in await WeaponRepo(reader, uid).list_weapons()]
        assert seen == []
    async with db.transaction(read_only=True) as reader:
        assert [w.name for w in await WeaponRepo(reader, uid).list_weapons()] == [
            "not yet committed"
        ]


@pytest.mark.parametrize("path", ["attachments/x.jpg", "attachments/999/x.jpg", "elsewhere/x.jpg"])
async def test_attachments_stay_in_their_users_folder(db: Database, path: str) -> None:
    uid = await _user(db)
    cz = await _weapon(db, uid)
    async with db.transaction() as session:
        with pytest.raises(InvalidInput, match="path"):
            await AttachmentRepo(session, uid).add(
                attachment_spec(AttachmentOwner.WEAPON, cz, path)
            )
        kept = await AttachmentRepo(session, uid).add(
            attachment_spec(AttachmentOwner.WEAPON, cz, f"{user_folder(uid)}x.jpg")
        )
    assert kept.path == f"attachments/{uid}/x.jpg"


def test_ai_audit_text_is_cut_to_fit_never_refused() -> None:
    audit = AIAudit(status=AIStatus.FAILED, provider="p" * 500, model="m" * 500, error="e" * 50_000)
    assert (len(audit.provider or ""), len(audit.model or ""), len(audit.error or "")) == (
        100,
        200,
        8000,
    )
    with pytest.raises(InvalidInput, match="status"):
        AIAudit(status="exploded")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [("chat_id", "x" * 65), ("transport", "t" * 21), ("chat_id", ""), ("chat_id", " 42 ")],
)
async def test_conversation_keys_must_fit_their_columns(
    db: Database, field: str, value: str
) -> None:
    """PostgreSQL would refuse with a database error, SQLite would store it: both refuse cleanly."""
    uid = await _user(db)
    values = {"transport": "telegram", "chat_id": "1", field: value}
    async with db.transaction() as session:
        with pytest.raises(InvalidInput, match=field):
            await ConversationRepo(session, uid).save(
                ConversationState(flow="f", step="s", **values)
            )


async def test_forged_page_numbers_and_update_ids_are_handled(db: Database) -> None:
    uid = await _user(db)
    async with db.transaction() as session:
        assert await SessionRepo(session, uid).list_sessions(offset=2**63) == []
        assert await SessionRepo(session, uid).list_sessions(offset=-1) == []
        for bad in (2**63, -1):
            with pytest.raises(InvalidInput, match="update_id"):
                await UpdateLog(session).claim("telegram", bad)


async def test_reminders_are_off_and_switched_apart_from_the_profile(db: Database) -> None:
    uid = await _user(db)
    async with db.transaction() as session:
        profiles = ProfileRepo(session, uid)
        assert (await profiles.get()).reminders is False
        assert (await profiles.set_reminders(on=True)).reminders is True
        saved = await profiles.update(ProfileSpec(display_name="Anna", club="SV De Roos"))
        assert saved.reminders is True  # saving the profile's fields leaves them on
    async with db.transaction(read_only=True) as session:
        assert (await ProfileRepo(session, uid).get()).reminders is True
    async with db.transaction() as session:
        assert (await ProfileRepo(session, uid).set_reminders(on=False)).reminders is False


async def test_the_users_with_reminders_and_their_identities(db: Database) -> None:
    anna, bob, carla = await _user(db, 1), await _user(db, 2), await _user(db, 3)
    async with db.transaction() as session:
        await ProfileRepo(session, anna).set_reminders(on=True)
        await ProfileRepo(session, carla).set_reminders(on=True)
        await UserDirectory(session).deny_telegram(3)
    async with db.transaction(read_only=True) as session:
        found = await UserDirectory(session).with_reminders()
    assert found == [
        Recipient(anna, is_allowed=True, identities=(("telegram", "1"),)),
        Recipient(carla, is_allowed=False, identities=(("telegram", "3"),)),
    ]
    assert bob not in {r.user_id for r in found}


async def test_a_reminder_is_on_record_once(db: Database) -> None:
    uid = await _user(db)
    at = datetime(2026, 12, 1, 12, tzinfo=UTC)
    async with db.transaction() as session:
        log = ReminderLog(session, uid)
        assert await log.record(ReminderKind.LICENCE, "2026-12-01", at=at) is True
        assert await log.record(ReminderKind.LICENCE, "2026-12-01", at=at) is False
        assert await log.record(ReminderKind.DRAFT, "2026-12-01", at=at) is True  # another kind
        assert await log.record(ReminderKind.DRAFT, "7@1", at=at - timedelta(days=8)) is True
        with pytest.raises(InvalidInput):
            await log.record(ReminderKind.DRAFT, "", at=at)
    async with db.transaction(read_only=True) as session:
        log = ReminderLog(session, uid)
        assert [(r.kind, r.key) for r in await log.since(at - timedelta(days=7))] == [
            (ReminderKind.LICENCE, "2026-12-01"),
            (ReminderKind.DRAFT, "2026-12-01"),
        ]
        assert [r.key for r in await log.among(ReminderKind.DRAFT, ["7@1", "8@1"])] == ["7@1"]
        assert await log.among(ReminderKind.DRAFT, []) == []
        (old,) = await log.among(ReminderKind.DRAFT, ["7@1"])
        assert old.sent_at == at - timedelta(days=8)


async def test_two_transactions_recording_one_reminder_make_one_record(db: Database) -> None:
    uid = await _user(db)
    at = datetime(2026, 12, 1, 12, tzinfo=UTC)

    async def record() -> bool:
        async with db.transaction() as session:
            return await ReminderLog(session, uid).record(ReminderKind.LICENCE, "2026-12-01", at=at)

    assert sorted(await asyncio.gather(record(), record())) == [False, True]
