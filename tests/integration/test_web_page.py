"""The signed web page through a real uvicorn, on both backends: /web in the chat hands out a
link; the link opens the page once, for 15 minutes, for its own user only; the page lists that
user's sessions and exports their register; bad links and bad forms get clear refusals."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from aimtrack.bot.app import build_conversation
from aimtrack.bot.io import Sender
from aimtrack.core.access import Access
from aimtrack.core.clock import FixedClock
from aimtrack.core.model import Language, ProfileSpec, SessionSpec
from aimtrack.exports import service
from aimtrack.exports.service import ExportFormat
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import ProfileRepo, SessionRepo, UserDirectory, WeaponRepo
from aimtrack.web.app import COOKIE, PAGE_SIZE, WebConfig
from aimtrack.web.links import LINK_TTL, LinkIssuer, WebKeys
from tests.helpers.chat import NOW, Chat
from tests.helpers.web import ANNA_TG, BOB_TG, Site, serving

EXPORT = {"period": "last12", "weapons": "all", "format": "csv"}


def fake_render(register: object, format: ExportFormat) -> bytes:  # noqa: A002
    return f"rendered {format.value}".encode()


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> None:
    """For the tests that are not about the file: the renderer answers at once."""
    monkeypatch.setattr(service, "render", fake_render)


# --- the link ------------------------------------------------------------------------------


async def test_a_link_opens_the_page_once_and_leaves_a_session_cookie(site: Site) -> None:
    token = site.token(site.anna)
    opened = await site.get(f"/web/{token}")
    assert opened.status_code == 303
    assert opened.headers["location"] == "/web"  # the token leaves the address bar
    set_cookie = opened.headers["set-cookie"]
    assert set_cookie.startswith(f"{COOKIE}=")
    attributes = {part.strip().split("=")[0].lower() for part in set_cookie.split(";")[1:]}
    assert {"httponly", "path", "samesite", "max-age"} <= attributes
    assert "path=/web" in set_cookie.lower()
    assert "samesite=strict" in set_cookie.lower()
    assert "secure" not in attributes  # plain http here; see the https test
    cookie = opened.cookies[COOKIE]
    assert token not in cookie

    page = await site.get("/web", cookie)
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "Je sessies" in page.text
    assert "A club" in page.text
    assert "A CZ 75" in page.text
    assert "<td>20-11-2026</td>" in page.text
    assert "431,5" in page.text  # Dutch decimals
    assert "B club" not in page.text
    assert "B CZ 75" not in page.text

    again = await site.get(f"/web/{token}")
    assert again.status_code == 410
    assert "al gebruikt" in again.text
    assert "set-cookie" not in again.headers


async def test_a_link_works_for_15_minutes(site: Site) -> None:
    issued = site.clock.now()
    almost = site.token(site.anna, at=issued)
    late = site.token(site.anna, at=issued)
    site.clock.advance(LINK_TTL - timedelta(seconds=1))
    assert (await site.get(f"/web/{almost}")).status_code == 303
    site.clock.advance(timedelta(seconds=1))
    expired = await site.get(f"/web/{late}")
    assert expired.status_code == 410
    assert "verlopen" in expired.text
    assert "/web" in expired.text  # says how to get a new one


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), id="signature"),
        pytest.param(lambda t: ("M" if t[0] != "M" else "N") + t[1:], id="payload"),
        pytest.param(lambda t: t.split(".")[0], id="no-signature"),
        pytest.param(lambda t: t + "A", id="longer"),
        pytest.param(lambda t: t.replace(".", ".."), id="dots"),
        pytest.param(lambda _t: "x" * 500, id="junk"),
    ],
)
async def test_a_tampered_link_is_refused(site: Site, tamper: object) -> None:
    token = site.token(site.anna)
    response = await site.get(f"/web/{tamper(token)}")  # type: ignore[operator]
    assert response.status_code == 403
    assert "niet geldig" in response.text
    assert "set-cookie" not in response.headers
    assert (await site.get(f"/web/{token}")).status_code == 303  # the real one still works


async def test_a_link_signed_with_another_key_or_for_another_purpose_is_refused(
    site: Site,
) -> None:
    other = WebKeys("another-secret-key-0123456789-abcdefghijklmnopqrst")
    foreign = other.links.issue(site.anna.user_id, now=NOW)[0]
    cookie_as_link = site.keys.sessions.issue(site.anna.user_id, now=NOW)[0]
    assert (await site.get(f"/web/{foreign}")).status_code == 403
    assert (await site.get(f"/web/{cookie_as_link}")).status_code == 403
    link_as_cookie = site.token(site.anna)
    assert (await site.get("/web", link_as_cookie)).status_code == 401


async def test_a_link_of_a_user_who_is_no_longer_allowed_is_refused(site: Site) -> None:
    token = site.token(site.bob)
    cookie = await site.sign_in(site.bob)
    async with site.db.transaction() as session:
        await UserDirectory(session).deny_telegram(BOB_TG)
    refused = await site.get(f"/web/{token}")
    assert refused.status_code == 403
    assert "geen toegang" in refused.text
    assert (await site.get("/web", cookie)).status_code == 403  # the open session ends too
    assert (await site.get("/web", await site.sign_in(site.anna))).status_code == 200


async def test_allowed_users_from_the_configuration_keep_their_access(db: Database) -> None:
    config = WebConfig(allowed_telegram_ids=frozenset({BOB_TG}))
    async with serving(db, config=config) as site:
        async with site.db.transaction() as session:
            await UserDirectory(session).deny_telegram(BOB_TG)
            await UserDirectory(session).deny_telegram(ANNA_TG)
        assert (await site.get(f"/web/{site.token(site.bob)}")).status_code == 303
        assert (await site.get(f"/web/{site.token(site.anna)}")).status_code == 403


async def test_a_cookie_only_shows_its_own_user(site: Site) -> None:
    anna = await site.sign_in(site.anna)
    bob = await site.sign_in(site.bob)
    anna_page, bob_page = (await site.get("/web", anna)).text, (await site.get("/web", bob)).text
    assert "A CZ 75" in anna_page
    assert "B CZ 75" not in anna_page
    assert "B CZ 75" in bob_page
    assert "A CZ 75" not in bob_page


async def test_without_a_session_the_page_says_how_to_get_one(site: Site) -> None:
    for cookie in (None, "", "garbage", site.keys.sessions.issue(1, now=NOW)[0] + "x"):
        response = await site.get("/web", cookie)
        assert response.status_code == 401
        assert "/web" in response.text
    cookie = await site.sign_in(site.anna)
    site.clock.advance(site.keys.sessions.ttl)
    assert (await site.get("/web", cookie)).status_code == 401  # the session expired


async def test_a_cross_site_navigation_without_the_cookie_reloads_once_from_our_origin(
    site: Site,
) -> None:
    """Browsers withhold SameSite=Strict cookies on a navigation another site started (a link
    in Telegram Web), redirects included: the page reloads itself, then the cookie comes."""
    cross = await site.client.get("/web", headers={"sec-fetch-site": "cross-site"})
    assert cross.status_code == 200
    assert '<meta http-equiv="refresh" content="0; url=/web">' in cross.text
    assert 'href="/web"' in cross.text  # for a browser that does not refresh
    ours = await site.client.get("/web", headers={"sec-fetch-site": "same-origin"})
    assert ours.status_code == 401
    post = await site.client.post("/web/export", headers={"sec-fetch-site": "cross-site"})
    assert post.status_code == 401


async def test_the_cookie_is_secure_behind_an_https_public_url(db: Database) -> None:
    async with serving(db, config=WebConfig(secure_cookies=True)) as site:
        opened = await site.get(f"/web/{site.token(site.anna)}")
    assert opened.status_code == 303
    attributes = [part.strip().lower() for part in opened.headers["set-cookie"].split(";")]
    assert "secure" in attributes


async def test_the_page_is_in_the_users_language(site: Site) -> None:
    async with site.db.transaction() as session:
        profiles = ProfileRepo(session, site.bob.user_id)
        current = await profiles.get()
        await profiles.update(ProfileSpec(display_name=current.display_name, language=Language.EN))
    page = await site.get("/web", await site.sign_in(site.bob))
    assert "Your sessions" in page.text
    assert 'lang="en"' in page.text
    assert "Last 12 months" in page.text
    assert "<td>2026-11-20</td>" in page.text
    assert "431.5" in page.text


# --- the page ------------------------------------------------------------------------------


async def test_sessions_are_paged_newest_first(site: Site) -> None:
    async with site.db.transaction() as session:
        sessions = SessionRepo(session, site.anna.user_id)
        for day in range(PAGE_SIZE + 5):
            await sessions.create(
                SessionSpec(occurred_on=date(2025, 1, 1) + timedelta(days=day), club=f"day{day}")
            )
    cookie = await site.sign_in(site.anna)
    first = (await site.get("/web", cookie)).text
    second = (await site.get("/web?page=2", cookie)).text
    clubs = re.findall(r"<td>(day\d+|A club)</td>", first + second)
    # 26 sessions: the seeded one (2026-11-20) is newest, then day24 .. day0.
    assert clubs == ["A club", *[f"day{d}" for d in range(PAGE_SIZE + 4, -1, -1)]]
    assert len(re.findall(r"<tr><td>", first)) == PAGE_SIZE
    assert 'href="/web?page=2"' in first
    assert 'href="/web?page=1"' in second
    assert 'href="/web?page=3"' not in second
    assert (await site.get("/web?page=9", cookie)).status_code == 200
    for bad in ("0", "-1", "abc", "1e3", "99999999999", "9" * 5000, "%EF%BC%91"):
        response = await site.get(f"/web?page={bad}", cookie)
        assert response.status_code == 400, bad
        assert "paginanummer" in response.text


async def test_the_form_offers_the_users_own_weapons_retired_ones_too(site: Site) -> None:
    async with site.db.transaction() as session:
        await WeaponRepo(session, site.anna.user_id).retire(site.anna.weapon_unused, on=NOW.date())
    page = (await site.get("/web", await site.sign_in(site.anna))).text
    boxes = re.findall(r'name="weapon" value="(\d+)"> ([^<]+)<', page)
    assert sorted(boxes) == sorted(
        [
            (str(site.anna.weapon_used), "A CZ 75"),
            (str(site.anna.weapon_unused), "A Walther LG (uit gebruik)"),
        ]
    )
    for period in ("last12", "this_year", "last_year", "custom"):
        assert f'name="period" value="{period}"' in page
    assert 'type="date" name="from"' in page
    assert 'type="date" name="to"' in page
    assert 'name="format" value="csv"' in page
    assert 'name="format" value="pdf"' in page


# --- the export ----------------------------------------------------------------------------


async def test_the_export_downloads_the_users_register(site: Site) -> None:
    cookie = await site.sign_in(site.anna)
    form = {**EXPORT, "csrf": await site.csrf(cookie)}
    response = await site.post("/web/export", form, cookie)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="aimtrack-register-2025-11-24_2026-11-23.csv"'
    )
    content = response.content.decode("utf-8-sig")
    assert "A CZ 75" in content
    assert "B CZ 75" not in content
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.usefixtures("rendered")
@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"period": "this_year"}, "aimtrack-register-2026-01-01_2026-12-31.csv"),
        ({"period": "last_year"}, "aimtrack-register-2025-01-01_2025-12-31.csv"),
        (
            {"period": "custom", "from": "2026-02-01", "to": "2026-02-28"},
            "aimtrack-register-2026-02-01_2026-02-28.csv",
        ),
        (
            {"period": "custom", "from": "2000-01-01", "to": "2050-01-01"},
            "aimtrack-register-2000-01-01_2050-01-01.csv",
        ),
        ({"format": "pdf"}, "aimtrack-register-2025-11-24_2026-11-23.pdf"),
    ],
)
async def test_periods_and_formats(site: Site, fields: dict[str, str], name: str) -> None:
    cookie = await site.sign_in(site.anna)
    form = {**EXPORT, **fields, "csrf": await site.csrf(cookie)}
    response = await site.post("/web/export", form, cookie)
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == f'attachment; filename="{name}"'


@pytest.mark.usefixtures("rendered")
async def test_an_export_of_chosen_weapons(site: Site) -> None:
    cookie = await site.sign_in(site.anna)
    form = {
        **EXPORT,
        "weapons": "some",
        "weapon": [str(site.anna.weapon_used), str(site.anna.weapon_unused)],
        "csrf": await site.csrf(cookie),
    }
    response = await site.post("/web/export", form, cookie)
    assert response.status_code == 200, response.text
    assert response.content == b"rendered csv"


@pytest.mark.usefixtures("rendered")
async def test_an_export_naming_another_users_weapon_is_forbidden(site: Site) -> None:
    cookie = await site.sign_in(site.anna)
    csrf = await site.csrf(cookie)
    for weapons in (
        [str(site.bob.weapon_used)],
        [str(site.anna.weapon_used), str(site.bob.weapon_unused)],
        ["0"],
        ["2147483648"],
    ):
        form = {**EXPORT, "weapons": "some", "weapon": weapons, "csrf": csrf}
        response = await site.post("/web/export", form, cookie)
        assert response.status_code == 403, weapons
        assert "niet in jouw register" in response.text


@pytest.mark.usefixtures("rendered")
async def test_an_export_needs_the_pages_csrf_token(site: Site) -> None:
    anna = await site.sign_in(site.anna)
    bob = await site.sign_in(site.bob)
    bobs_token = await site.csrf(bob)
    for form in (
        EXPORT,
        {**EXPORT, "csrf": ""},
        {**EXPORT, "csrf": "0" * 64},
        {**EXPORT, "csrf": bobs_token},
    ):
        response = await site.post("/web/export", form, anna)
        assert response.status_code == 403
        assert "Laad de pagina opnieuw" in response.text
    assert (await site.post("/web/export", {**EXPORT, "csrf": bobs_token}, None)).status_code == 401


@pytest.mark.usefixtures("rendered")
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"period": "custom", "from": "2026-05-01", "to": "2026-04-30"}, "na de einddatum"),
        ({"period": "custom", "from": "1-5-2026", "to": "2026-06-01"}, "begindatum is geen datum"),
        ({"period": "custom", "from": "2026-05-01", "to": "2026-02-30"}, "einddatum is geen datum"),
        ({"period": "custom", "from": "", "to": "2026-06-01"}, "begindatum is geen datum"),
        ({"period": "custom", "from": "20260501", "to": "2026-06-01"}, "begindatum is geen datum"),
        ({"period": "custom", "from": "1970-01-01", "to": "2026-06-01"}, "hoogstens 50 jaar"),
        ({"period": "custom", "from": "1800-01-01", "to": "1800-06-01"}, "tussen 1900-01-01"),
        ({"period": "ever"}, "Kies een periode"),
        ({"period": ""}, "Kies een periode"),
        ({"format": "xlsx"}, "Kies CSV of PDF"),
        ({"format": ""}, "Kies CSV of PDF"),
        ({"weapons": "some"}, "minstens één wapen"),
        ({"weapons": "some", "weapon": "abc"}, "Dat wapen ken ik niet"),
        ({"weapons": "some", "weapon": "１"}, "Dat wapen ken ik niet"),
    ],
)
async def test_bad_form_input_is_a_clear_400(
    site: Site, fields: dict[str, str], message: str
) -> None:
    cookie = await site.sign_in(site.anna)
    form = {**EXPORT, **fields, "csrf": await site.csrf(cookie)}
    response = await site.post("/web/export", form, cookie)
    assert response.status_code == 400, response.text
    assert message in response.text
    assert 'href="/web"' in response.text  # the way back to the form


@pytest.mark.usefixtures("rendered")
async def test_bad_form_input_is_explained_in_english_to_an_english_user(site: Site) -> None:
    async with site.db.transaction() as session:
        profiles = ProfileRepo(session, site.anna.user_id)
        current = await profiles.get()
        await profiles.update(ProfileSpec(display_name=current.display_name, language=Language.EN))
    cookie = await site.sign_in(site.anna)
    form = {**EXPORT, "period": "custom", "from": "2026-05-01", "to": "2026-04-30"}
    response = await site.post("/web/export", {**form, "csrf": await site.csrf(cookie)}, cookie)
    assert response.status_code == 400
    assert "The start date is after the end date." in response.text


@pytest.mark.usefixtures("rendered")
async def test_an_oversized_or_undecodable_form_is_refused(site: Site) -> None:
    cookie = await site.sign_in(site.anna)
    headers = {"cookie": f"{COOKIE}={cookie}", "content-type": "application/x-www-form-urlencoded"}
    huge = await site.client.post("/web/export", content=b"a=" + b"x" * 100_000, headers=headers)
    assert huge.status_code == 413
    broken = await site.client.post("/web/export", content=b"csrf=\xff\xfe", headers=headers)
    assert broken.status_code == 400


# --- /web in the chat ----------------------------------------------------------------------


async def test_web_in_the_chat_hands_out_a_link_that_opens_the_page(
    site: Site, tmp_path: Path
) -> None:
    base = str(site.client.base_url).rstrip("/")
    conversation = build_conversation(
        site.db,
        clock=site.clock,
        data_dir=tmp_path,
        access=Access(telegram_ids=frozenset({ANNA_TG})),
        web_links=LinkIssuer(site.keys, base),
    )
    chat = Chat(conversation, Sender("telegram", str(ANNA_TG), str(ANNA_TG), display_name="A"))
    (shown,) = (await chat.say("/web")).replies
    assert "15 minuten" in shown.text
    found = re.search(rf"{re.escape(base)}/web/(\S+)", shown.text)
    assert found is not None, shown.text
    opened = await site.get(f"/web/{found.group(1)}")
    assert opened.status_code == 303
    page = await site.get("/web", opened.cookies[COOKIE])
    assert "A CZ 75" in page.text
    (again,) = (await chat.say("/web")).replies
    assert again.text != shown.text  # a fresh link every time


@pytest.mark.parametrize(
    ("language", "expected"),
    [(Language.NL, "niet ingesteld"), (Language.EN, "not set up")],
)
async def test_web_in_the_chat_without_a_secret_key_names_the_setting(
    db: Database, tmp_path: Path, language: Language, expected: str
) -> None:
    chat = Chat.open(db, tmp_path, clock=FixedClock(NOW))
    if language is Language.EN:
        await chat.say("/start")
        async with db.transaction() as session:
            (account,) = await UserDirectory(session).list_users()
            await ProfileRepo(session, account.user_id).update(
                ProfileSpec(display_name="Anna", language=Language.EN)
            )
    (shown,) = (await chat.say("/web")).replies
    assert expected in shown.text
    assert "AIMTRACK_SECRET_KEY" in shown.text
