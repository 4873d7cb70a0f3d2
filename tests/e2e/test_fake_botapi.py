"""The fake Bot API server and the spec validator, driven by PTB's real ``telegram.Bot``.

Every request here goes over real HTTP (PTB's HTTPXRequest) to :class:`FakeBotAPI` on
127.0.0.1, so these tests pin what PTB 22 actually sends and what the fake answers. The spec
is the copy in ``tests/helpers/refs``. The fake here is ``fake_api``, not the tier's ``fake_api``
fixture: these tests make calls the spec refuses on purpose, which ``fake_api`` would report at
teardown.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
from collections.abc import AsyncIterator
from typing import Any

import pytest
import telegram
from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, EndPointNotFound, InvalidToken, RetryAfter

from tests.helpers.botapi_spec import Spec, load_spec, validate_call, validate_calls
from tests.helpers.fakebotapi import FakeBotAPI, callback, document, message, photo

TOKEN = "123:ABC"
CHAT = 4242
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")  # a tiny JPEG header


pytestmark = pytest.mark.usefixtures("ptb_timedelta")  # RetryAfter warns without it


@pytest.fixture(scope="session")
def spec() -> Spec:
    """The Bot API spec, parsed once per run."""
    return load_spec()


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def bot(fake_api: FakeBotAPI) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(
        TOKEN, base_url=fake_api.base_url, base_file_url=fake_api.base_file_url
    ) as real_bot:
        yield real_bot


def keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Nieuwe sessie", callback_data="session:new"),
                InlineKeyboardButton("Wapens", callback_data="weapons"),
            ],
            [InlineKeyboardButton("Help", url="https://example.org/help")],
        ]
    )


# --- the fake -------------------------------------------------------------------------------


async def test_get_me(fake_api: FakeBotAPI, bot: telegram.Bot) -> None:
    me = await bot.get_me()

    assert me.id == 123
    assert me.is_bot
    assert me.username == "aimtrack_test_bot"
    assert me.can_join_groups is True
    assert fake_api.calls_to("getMe")  # Bot.initialize() already called it once


async def test_wrong_token_is_unauthorized(fake_api: FakeBotAPI) -> None:
    stranger = telegram.Bot(
        "999:WRONG", base_url=fake_api.base_url, base_file_url=fake_api.base_file_url
    )
    with pytest.raises(InvalidToken):
        await stranger.initialize()
    await stranger.shutdown()
    assert fake_api.calls == []


async def test_unknown_method_is_not_found(fake_api: FakeBotAPI, bot: telegram.Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": CHAT})
    assert fake_api.calls_to("sendTelepathy")[0].status == 404


async def test_send_message_records_decoded_params(fake_api: FakeBotAPI, bot: telegram.Bot) -> None:
    sent = await bot.send_message(
        CHAT, "<b>Sessie</b> opgeslagen", parse_mode=ParseMode.HTML, reply_markup=keyboard()
    )

    (call,) = fake_api.calls_to("sendMessage")
    assert call.content_type == "application/x-www-form-urlencoded"
    assert call.params["chat_id"] == CHAT
    assert call.params["text"] == "<b>Sessie</b> opgeslagen"
    assert call.params["reply_markup"] == keyboard().to_dict()
    assert call.files == {}
    assert sent.text == "Sessie opgeslagen"  # what Telegram shows: the markup is parsed away
    assert sent.reply_markup == keyboard()
    assert sent.chat.id == CHAT
    assert fake_api.sent_texts(CHAT) == ["<b>Sessie</b> opgeslagen"]
    assert fake_api.sent_texts(CHAT, plain=True) == ["Sessie opgeslagen"]
    assert fake_api.sent_texts(CHAT + 1) == []
    assert fake_api.last_keyboard(CHAT) == [
        [("Nieuwe sessie", "session:new"), ("Wapens", "weapons")],
        [("Help", None)],
    ]


async def test_numeric_looking_text_stays_a_string(fake_api: FakeBotAPI, bot: telegram.Bot) -> None:
    await bot.send_message(CHAT, "123")
    await bot.send_message(CHAT, "true")

    assert fake_api.sent_texts() == ["123", "true"]


async def test_form_values_of_a_method_the_spec_does_not_know_decode_by_its_string_list(
    fake_api: FakeBotAPI, bot: telegram.Bot
) -> None:
    """Where the spec has no word on a parameter the fake falls back to its list of string
    parameters: "42" as text stays a string, everything else is decoded from JSON."""
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request(
            "sendTelepathy",
            api_kwargs={
                "chat_id": CHAT,
                "text": "42",
                "disable_notification": True,
                "reply_markup": keyboard(),
            },
        )

    (call,) = fake_api.calls_to("sendTelepathy")
    assert call.params == {
        "chat_id": CHAT,
        "text": "42",
        "disable_notification": True,
        "reply_markup": keyboard().to_dict(),
    }


async def test_edit_message_and_not_modified(fake_api: FakeBotAPI, bot: telegram.Bot) -> None:
    sent = await bot.send_message(CHAT, "Kies", reply_markup=keyboard())

    edited = await bot.edit_message_text("Gekozen", chat_id=CHAT, message_id=sent.message_id)
    assert isinstance(edited, telegram.Message)
    assert edited.text == "Gekozen"
    assert edited.reply_markup is None  # an edit without reply_markup removes the keyboard
    assert edited.edit_date is not None
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Gekozen", chat_id=CHAT, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(chat_id=CHAT, message_id=sent.message_id)

    await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=keyboard())
    assert fake_api.last_keyboard(CHAT)[0] == [
        ("Nieuwe sessie", "session:new"),
        ("Wapens", "weapons"),
    ]
    await bot.edit_message_reply_markup(chat_id=CHAT, message_id=sent.message_id)
    assert fake_api.last_keyboard(CHAT) == []
    assert fake_api.sent_texts(CHAT) == ["Kies", "Gekozen"]  # failed edits are not counted


async def test_get_updates_offset_semantics(fake_api: FakeBotAPI, bot: telegram.Bot) -> None:
    ids = [fake_api.push_update(message(CHAT, f"bericht {n}")) for n in range(3)]
    assert ids == [1, 2, 3]

    everything = await bot.get_updates()
    assert [u.update_id for u in everything] == [1, 2, 3]
    assert [u.message.text for u in everything if u.message] == [
        "bericht 0",
        "bericht 1",
        "bericht 2",
    ]
    assert len(fake_api.pending_updates()) == 3  # fetching alone confirms nothing

    after_first = await bot.get_updates(offset=2)
    assert [u.update_id for u in after_first] == [2, 3]
    assert fake_api.is_confirmed(1)
    again = await bot.get_updates()  # no offset: from the earliest unconfirmed, #1 is gone
    assert [u.update_id for u in again] == [2, 3]
    assert [u.update_id for u in await bot.get_updates(offset=2, limit=1)] == [2]

    assert await bot.get_updates(offset=10) == ()
    assert fake_api.pending_updates() == []
    await fake_api.wait_until_confirmed(3, timeout=1)


async def test_negative_offset_keeps_the_last_updates(
    fake_api: FakeBotAPI, bot: telegram.Bot
) -> None:
    for n in range(4):
        fake_api.push_update(message(CHAT, str(n)))

    assert [u.update_id for u in await bot.get_updates(offset=-1)] == [4]
    assert [u["update_id"] for u in fake_api.pending_updates()] == [4]


async def test_long_poll_returns_when_an_update_arrives(
    fake_api: FakeBotAPI, bot: telegram.Bot
) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await bot.get_updates(timeout=1) == ()  # waits, capped at 1 s
    assert loop.time() - started >= 0.9

    poll = asyncio.create_task(bot.get_updates(offset=1, timeout=30))
    await asyncio.sleep(0.2)
    assert not poll.done()
    update_id = fake_api.push_update(message(CHAT, "/start"))
    updates = await asyncio.wait_for(poll, timeout=5)

    assert [u.update_id for u in updates] == [update_id]
    assert updates[0].message is not None
    assert updates[0].message.text == "/start"
    waiter = asyncio.create_task(fake_api.wait_until_confirmed(update_id, timeout=5))
    await bot.get_updates(offset=update_id + 1)
    await waiter


async def test_allowed_updates_filters_like_telegram(
    fake_api: FakeBotAPI, bot: telegram.Bot
) -> None:
    fake_api.push_update(message(CHAT, "hallo"))
    fake_api.push_update(callback(CHAT, "weapons", message_id=7))

    updates = await bot.get_updates(allowed_updates=["callback_query"])

    assert [u.update_id for u in updates] == [2]
    assert fake_api.is_confirmed(1)


async def test_get_updates_conflicts_with_a_webhook(
    fake_api: FakeBotAPI, bot: telegram.Bot
) -> None:
    await bot.set_webhook("https://example.org/hook")
    assert (await bot.get_webhook_info()).url == "https://example.org/hook"
    with pytest.raises(telegram.error.Conflict):
        await bot.get_updates()

    await bot.delete_webhook()
    assert await bot.get_updates() == ()


async def test_factories_parse_as_ptb_updates(bot: telegram.Bot) -> None:
    command = Update.de_json({"update_id": 1, **message(CHAT, "/sessie 25m")}, bot)
    assert command.effective_user is not None
    assert command.effective_user.language_code == "nl"
    assert command.message is not None
    assert command.message.chat.type == "private"
    assert command.message.parse_entities(["bot_command"]) == {
        command.message.entities[0]: "/sessie"
    }

    press = Update.de_json({"update_id": 2, **callback(CHAT, "weapons", message_id=7)}, bot)
    assert press.callback_query is not None
    assert press.callback_query.data == "weapons"
    assert isinstance(press.callback_query.message, telegram.Message)
    assert press.callback_query.message.message_id == 7

    picture = Update.de_json(
        {
            "update_id": 3,
            **photo(CHAT, [("small", "s", 90, 67, 1200), ("big", "b", 1280, 960, 98_000)], "25m"),
        },
        bot,
    )
    assert picture.message is not None
    assert picture.message.photo[-1].file_id == "big"
    assert picture.message.caption == "25m"

    pdf = Update.de_json(
        {"update_id": 4, **document(CHAT, "doc", "d", "kaart.pdf", "application/pdf", 5000)}, bot
    )
    assert pdf.message is not None
    assert pdf.message.document is not None
    assert pdf.message.document.file_name == "kaart.pdf"


async def test_get_file_and_download(fake_api: FakeBotAPI, bot: telegram.Bot) -> None:
    content = JPEG + b"target photo"
    file_id, unique_id = fake_api.add_file(content)
    fake_api.push_update(photo(CHAT, [(file_id, unique_id, 1280, 960, len(content))]))

    (update,) = await bot.get_updates()
    assert update.message is not None
    tg_file = await update.message.photo[-1].get_file()

    assert tg_file.file_unique_id == unique_id
    assert tg_file.file_size == len(content)
    assert tg_file.file_path is not None
    assert tg_file.file_path.startswith(fake_api.base_file_url)
    assert await tg_file.download_as_bytearray() == bytearray(content)


async def test_get_file_too_big(fake_api: FakeBotAPI, bot: telegram.Bot) -> None:
    file_id, _ = fake_api.add_file(b"pretend this is 21 MB", file_size=21 * 1024 * 1024)
    with pytest.raises(BadRequest, match=r"(?i)file is too big"):
        await bot.get_file(file_id)


async def test_send_photo_and_document_upload_files(
    fake_api: FakeBotAPI, bot: telegram.Bot
) -> None:
    sent_photo = await bot.send_photo(CHAT, JPEG, caption="Kaart <1>")
    sent_doc = await bot.send_document(
        CHAT, b"datum;score\n2024-05-01;93\n", filename="export.csv", caption="Export"
    )

    (photo_call,) = fake_api.calls_to("sendPhoto")
    assert photo_call.content_type == "multipart/form-data"
    assert photo_call.params == {"chat_id": CHAT, "caption": "Kaart <1>"}
    assert photo_call.files["photo"].content == JPEG
    (doc_call,) = fake_api.calls_to("sendDocument")
    assert doc_call.files["document"].content == b"datum;score\n2024-05-01;93\n"
    assert doc_call.files["document"].filename == "export.csv"
    assert sent_photo.photo[-1].file_size == len(JPEG)
    assert fake_api.file_content(sent_photo.photo[-1].file_id) == JPEG
    assert sent_doc.document is not None
    assert sent_doc.document.file_name == "export.csv"
    assert sent_doc.caption == "Export"
    assert fake_api.sent_texts(CHAT) == ["Kaart <1>", "Export"]


async def test_set_and_get_my_commands(fake_api: FakeBotAPI, bot: telegram.Bot) -> None:
    commands = [BotCommand("sessie", "Nieuwe sessie"), BotCommand("wapens", "Je wapens")]
    assert await bot.set_my_commands(commands, language_code="nl")

    assert await bot.get_my_commands(language_code="nl") == tuple(commands)
    assert await bot.get_my_commands() == ()
    (call,) = fake_api.calls_to("setMyCommands")
    assert call.params == {
        "commands": [
            {"command": "sessie", "description": "Nieuwe sessie"},
            {"command": "wapens", "description": "Je wapens"},
        ],
        "language_code": "nl",
    }
    assert await bot.delete_my_commands(language_code="nl")
    assert await bot.get_my_commands(language_code="nl") == ()


async def test_answer_callback_query_and_chat_action(
    fake_api: FakeBotAPI, bot: telegram.Bot
) -> None:
    fake_api.push_update(callback(CHAT, "weapons", message_id=1))
    (update,) = await bot.get_updates()
    assert update.callback_query is not None

    assert await update.callback_query.answer("Opgeslagen")
    assert await bot.send_chat_action(CHAT, ChatAction.UPLOAD_DOCUMENT)
    (answer,) = fake_api.calls_to("answerCallbackQuery")
    assert answer.params == {"callback_query_id": update.callback_query.id, "text": "Opgeslagen"}
    assert fake_api.calls_to("sendChatAction")[0].params == {
        "chat_id": CHAT,
        "action": "upload_document",
    }


async def test_fail_next_surfaces_retry_after(fake_api: FakeBotAPI, bot: telegram.Bot) -> None:
    fake_api.fail_next(
        "sendMessage", status=429, description="Too Many Requests: retry after 7", retry_after=7
    )

    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CHAT, "te snel")
    assert caught.value.retry_after == dt.timedelta(seconds=7)  # PTB_TIMEDELTA=true

    await bot.send_message(CHAT, "weer goed")  # only the next call failed
    assert [c.status for c in fake_api.calls_to("sendMessage")] == [429, 200]
    assert fake_api.sent_texts(CHAT) == ["weer goed"]


async def test_fail_next_times_and_bad_request(fake_api: FakeBotAPI, bot: telegram.Bot) -> None:
    fake_api.fail_next("getFile", status=400, description="Bad Request: invalid file_id", times=2)
    for _ in range(2):
        with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
            await bot.get_file("nope")
    file_id, _ = fake_api.add_file(b"x")
    assert (await bot.get_file(file_id)).file_size == 1


# --- the spec validator ---------------------------------------------------------------------


def problems(spec: Spec, method: str, params: dict[str, Any], **files: Any) -> list[str]:
    return validate_call(spec, method, params, files)


async def test_calls_ptb_makes_validate_clean(
    spec: Spec, fake_api: FakeBotAPI, bot: telegram.Bot
) -> None:
    user_text = "<script>alert('x') & co</script>"
    fake_api.push_update(callback(CHAT, "weapons", message_id=1))
    file_id, _ = fake_api.add_file(JPEG)
    (update,) = await bot.get_updates(timeout=0, allowed_updates=["message", "callback_query"])
    assert update.callback_query is not None
    await update.callback_query.answer("Opgeslagen")
    await bot.get_updates(offset=update.update_id + 1)
    sent = await bot.send_message(
        CHAT,
        f"<b>Notitie:</b> {html.escape(user_text)}",
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard(),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        reply_parameters=ReplyParameters(message_id=1),
    )
    await bot.edit_message_text(
        "Bijgewerkt", chat_id=CHAT, message_id=sent.message_id, reply_markup=keyboard()
    )
    await bot.edit_message_reply_markup(chat_id=CHAT, message_id=sent.message_id)
    await bot.set_my_commands(
        [BotCommand("sessie", "Nieuwe sessie"), BotCommand("export_csv", "Exporteer")],
        scope=BotCommandScopeAllPrivateChats(),
        language_code="nl",
    )
    await bot.get_my_commands(language_code="nl")
    await bot.delete_my_commands()
    await bot.send_photo(CHAT, JPEG, caption="<i>Kaart</i>", parse_mode=ParseMode.HTML)
    await bot.send_photo(CHAT, file_id)
    await bot.send_document(CHAT, b"a;b\n", filename="export.csv")
    await bot.send_chat_action(CHAT, ChatAction.TYPING)
    await (await bot.get_file(file_id)).download_as_bytearray()
    await bot.delete_webhook(drop_pending_updates=False)
    await bot.get_webhook_info()

    assert len(fake_api.calls) >= 15
    assert validate_calls(spec, fake_api.calls) == []


async def test_validator_catches_what_ptb_lets_through(
    spec: Spec, fake_api: FakeBotAPI, bot: telegram.Bot
) -> None:
    too_long = "x" * 65
    await bot.send_message(
        CHAT,
        "Notitie: <script>",  # user text that was not escaped
        parse_mode=ParseMode.HTML,
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("Te lang", callback_data=too_long)]]
        ),
    )

    found = validate_calls(spec, fake_api.calls_to("sendMessage"))
    assert any("unescaped '<'" in p or "unsupported HTML tag <script>" in p for p in found)
    assert any("callback_data: 65 bytes" in p for p in found)


@pytest.mark.parametrize(
    ("method", "params", "expected"),
    [
        pytest.param(
            "sendMessage", {"text": "hoi"}, "chat_id: missing required field", id="missing-chat_id"
        ),
        pytest.param(
            "sendMessage",
            {"chat_id": CHAT, "text": "hoi", "colour": "red"},
            "colour: unknown field",
            id="unknown-field",
        ),
        pytest.param(
            "sendMessage",
            {
                "chat_id": CHAT,
                "text": "hoi",
                "reply_markup": {
                    "inline_keyboard": [[{"text": "x", "callback_data": "é" * 32 + "a"}]]
                },
            },
            "callback_data: 65 bytes",
            id="callback-data-65-bytes",
        ),
        pytest.param(
            "sendMessage",
            {"chat_id": CHAT, "text": "x" * 4097},
            "4097 characters",
            id="text-4097",
        ),
        pytest.param(
            "sendMessage",
            {"chat_id": CHAT, "text": "Notitie: <script>alert(1)</script>", "parse_mode": "HTML"},
            "unsupported HTML tag <script>",
            id="unescaped-script",
        ),
        pytest.param(
            "sendMessage",
            {"chat_id": CHAT, "text": "a < b", "parse_mode": "HTML"},
            "unescaped '<'",
            id="raw-less-than",
        ),
        pytest.param(
            "sendMessage",
            {"chat_id": CHAT, "text": "Tom & Jerry", "parse_mode": "HTML"},
            "unescaped '&'",
            id="raw-ampersand",
        ),
        pytest.param(
            "sendMessage",
            {"chat_id": CHAT, "text": "<b>vet", "parse_mode": "HTML"},
            "tag <b> is never closed",
            id="unclosed-tag",
        ),
        pytest.param(
            "setMyCommands",
            {"commands": [{"command": "Sessie", "description": "Nieuwe sessie"}]},
            "commands[0].command: 'Sessie'",
            id="command-capital",
        ),
        pytest.param(
            "setMyCommands",
            {"commands": [{"command": "sessie", "description": ""}]},
            "must be 1-256",
            id="command-empty-description",
        ),
        pytest.param(
            "setMyCommands",
            {"commands": [{"command": f"c{n}", "description": "d"} for n in range(101)]},
            "at most 100",
            id="too-many-commands",
        ),
        pytest.param(
            "setMyCommands",
            {"commands": [], "language_code": "nld"},
            "not a two-letter",
            id="language-code",
        ),
        pytest.param(
            "setMyCommands",
            {"commands": [], "scope": {"type": "chat"}},
            "scope.chat_id: missing required field",
            id="scope-subtype-required-field",
        ),
        pytest.param(
            "setMyCommands",
            {"commands": [], "scope": {"type": "everyone"}},
            "BotCommandScope needs type one of",
            id="scope-unknown-subtype",
        ),
        pytest.param(
            "getUpdates", {"offset": "abc"}, "offset: expected Integer, got 'abc'", id="int-abc"
        ),
        pytest.param(
            "sendMessage",
            {"chat_id": CHAT, "text": "hoi", "disable_notification": "yes"},
            "expected Boolean",
            id="bool-string",
        ),
        pytest.param(
            "sendMessage",
            {
                "chat_id": CHAT,
                "text": "hoi",
                "reply_markup": {
                    "inline_keyboard": [[{"text": "x", "callback_data": "a", "url": "https://x"}]]
                },
            },
            "exactly one action field",
            id="button-two-actions",
        ),
        pytest.param(
            "sendMessage",
            {
                "chat_id": CHAT,
                "text": "hoi",
                "reply_markup": {"inline_keyboard": [[{"text": "x"}]]},
            },
            "exactly one action field",
            id="button-no-action",
        ),
        pytest.param(
            "sendMessage",
            {"chat_id": CHAT, "text": "hoi", "reply_parameters": {"message_id": 1, "x": 1}},
            "reply_parameters.x: unknown field",
            id="nested-unknown-field",
        ),
        pytest.param("sendMessage", {"chat_id": CHAT, "text": "   "}, "is empty", id="blank-text"),
        pytest.param(
            "sendPhoto",
            {"chat_id": CHAT, "photo": "id", "caption": "x" * 1025},
            "1025 characters after entity parsing, the limit is 1024",
            id="caption-1025",
        ),
        pytest.param(
            "answerCallbackQuery",
            {"callback_query_id": "1", "text": "x" * 201},
            "the limit is 200",
            id="answer-201",
        ),
        pytest.param(
            "editMessageText", {"text": "hoi"}, "chat_id: required unless", id="edit-target"
        ),
        pytest.param("sendTelepathy", {}, "unknown Bot API method", id="unknown-method"),
    ],
)
def test_validator_reports(spec: Spec, method: str, params: dict[str, Any], expected: str) -> None:
    found = problems(spec, method, params)
    assert any(expected in p for p in found), found


@pytest.mark.parametrize(
    ("method", "params"),
    [
        pytest.param(
            "sendMessage",
            {
                "chat_id": CHAT,
                "text": html.escape("<script>alert('x') & co</script>"),
                "parse_mode": "HTML",
            },
            id="escaped-user-text",
        ),
        pytest.param(
            "sendMessage",
            {"chat_id": CHAT, "text": "&lt;" * 4096, "parse_mode": "HTML"},
            id="4096-after-entity-parsing",
        ),
        pytest.param(
            "sendMessage",
            {
                "chat_id": "@kanaal",
                "text": '<b>b</b><i>i</i><a href="https://x?a=1&amp;b=2">a</a>'
                '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>'
                '<pre><code class="language-python">x = 1</code></pre>'
                "<blockquote expandable>q</blockquote>&#128512;&quot;",
                "parse_mode": "HTML",
            },
            id="all-supported-tags",
        ),
        pytest.param(
            "sendMessage",
            {"chat_id": CHAT, "text": "a < b & c > d"},
            id="plain-text-needs-no-escaping",
        ),
        pytest.param(
            "sendMessage",
            {
                "chat_id": CHAT,
                "text": "x",
                "reply_markup": {"inline_keyboard": [[{"text": "x", "callback_data": "é" * 32}]]},
            },
            id="callback-data-64-bytes",
        ),
        pytest.param(
            "setMyCommands",
            {
                "commands": [{"command": "a" * 32, "description": "d" * 256}],
                "scope": {"type": "chat", "chat_id": CHAT},
            },
            id="command-limits",
        ),
        pytest.param(
            "editMessageText",
            {"inline_message_id": "abc", "text": "hoi"},
            id="edit-inline-message",
        ),
    ],
)
def test_validator_accepts(spec: Spec, method: str, params: dict[str, Any]) -> None:
    assert problems(spec, method, params) == []


def test_validator_checks_uploaded_files(spec: Spec) -> None:
    assert problems(spec, "sendPhoto", {"chat_id": CHAT}, photo=b"jpeg") == []
    assert problems(spec, "sendPhoto", {"chat_id": CHAT, "photo": "AgACAgQ"}) == []
    assert any(
        "photo: missing required field" in p for p in problems(spec, "sendPhoto", {"chat_id": 1})
    )
    assert any(
        "text: sent as an uploaded file" in p
        for p in problems(spec, "sendMessage", {"chat_id": CHAT}, text=b"hoi")
    )
    assert any(
        "neither a parameter nor referenced" in p
        for p in problems(spec, "sendPhoto", {"chat_id": CHAT, "photo": "id"}, stray=b"x")
    )
    media = [{"type": "photo", "media": "attach://p1"}, {"type": "photo", "media": "attach://p2"}]
    assert (
        problems(spec, "sendMediaGroup", {"chat_id": CHAT, "media": media}, p1=b"1", p2=b"2") == []
    )
