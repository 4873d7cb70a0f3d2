"""A fake Telegram Bot API server for end-to-end tests.

It mimics ``https://api.telegram.org`` closely enough for python-telegram-bot to talk to it over
real HTTP: a Starlette app served by uvicorn on 127.0.0.1 (a free port) inside the test's own
event loop. Point PTB at it with::

    async with FakeBotAPI() as api:
        bot = telegram.Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url)

What it mimics:

* ``POST|GET /bot<token>/<method>`` answering ``{"ok": true, "result": ...}``; a wrong token gets
  401 ``Unauthorized``, an unknown method 404 ``Not Found: method not found``. Method names are
  case-insensitive, as on Telegram.
* Request bodies the way Telegram accepts them: query string, JSON,
  ``application/x-www-form-urlencoded`` and ``multipart/form-data``. PTB 22 sends the latter two:
  every parameter is a form field whose value is the plain string for strings and JSON
  (``json.dumps``) for everything else; uploads are multipart file parts named after the
  parameter (or an ``attach://<name>`` reference for media groups). Each :class:`Call` holds the
  decoded values; which fields are strings comes from the Bot API spec
  (:mod:`tests.helpers.botapi_spec`), and for a method or field the spec does not know from a
  list of well-known string fields.
* ``getUpdates`` with Telegram's offset semantics (updates below ``offset`` are confirmed and
  forgotten, a negative offset keeps the last ``-offset``), ``limit``, ``allowed_updates`` and
  long polling (the wait is capped at :attr:`FakeBotAPI.long_poll_cap`, 1 s, to keep tests
  quick); ``409 Conflict`` while a webhook is set.
* Files: :meth:`FakeBotAPI.add_file` registers bytes, ``getFile`` answers a ``File`` (400 ``file is
  too big`` above 20 MB, like Telegram) and ``GET /file/bot<token>/<file_path>`` serves them.
* Sending: messages, photos and documents answer a ``Message`` from the bot; edits answer the edited
  message, and 400 ``message is not modified`` when a message the fake sent is edited to the same
  content, as Telegram does.
* Scripted faults: :meth:`FakeBotAPI.fail_next` (e.g. 429 with ``retry_after``, a 500, or a
  request that hangs before it fails, longer than the client waits) and
  :meth:`FakeBotAPI.slow_next` (answered normally, but late), per method and optionally only
  for the calls a predicate picks (``when=``). Every :class:`Call` records when it arrived and
  when it was answered (``time.monotonic()``), so a test can measure how long the bot waited.

The update factories (:func:`message`, :func:`callback`, :func:`photo`, :func:`document`) build
the JSON Telegram delivers for a private chat; push them with :meth:`FakeBotAPI.push_update`.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import json
import mimetypes
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message as MimeHeaders
from email.parser import HeaderParser
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.helpers.botapi_spec import html_to_text, load_spec, validate_call
from tests.helpers.localserver import LocalServer

DOWNLOAD_LIMIT = 20 * 1024 * 1024  # "bots can download files of up to 20MB in size"
DEFAULT_UPDATE_TYPES_EXCLUDED = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)

# Used to decode form values of methods and fields the spec does not know: these parameters
# are plain strings even when they look like JSON ("123", "true").
_STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
        "url",
        "file_id",
        "photo",
        "document",
        "thumbnail",
        "language_code",
        "description",
        "short_description",
        "name",
        "title",
        "emoji",
        "secret_token",
        "ip_address",
        "action",
        "certificate",
    }
)


@dataclass(frozen=True)
class UploadedFile:
    """One multipart file part of a request."""

    filename: str
    content: bytes
    content_type: str


@dataclass
class Call:
    """One request the bot made, in arrival order.

    ``params`` are decoded (numbers, booleans, dicts and lists, not their JSON text); ``files`` are
    the multipart file parts by part name. ``content_type`` is the request's body encoding and
    ``status`` the HTTP status the fake answered.
    """

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile] = field(default_factory=dict)
    content_type: str = ""
    status: int = 200
    at: float = field(default_factory=time.monotonic)  # arrival, time.monotonic()
    answered_at: float | None = None  # when the fake answered (None while it still works)


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    content: bytes
    file_path: str
    file_size: int


@dataclass
class _Fault:
    status: int | None  # None: answer normally (after the delay)
    description: str
    retry_after: int | None
    remaining: int
    delay: float = 0.0
    when: Callable[[Call], bool] | None = None


class BotAPIError(Exception):
    """Raised by a method handler to answer ``{"ok": false, ...}`` with this status."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


Handler = Callable[[dict[str, Any], dict[str, UploadedFile]], Awaitable[Any] | Any]


# --- update factories -----------------------------------------------------------------------

_message_ids = itertools.count(10_000)
_callback_ids = itertools.count(1)


def _now() -> int:
    return int(time.time())


def _user(user_id: int, first_name: str, language_code: str | None) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code is not None:
        user["language_code"] = language_code
    return user


def _private_chat(user_id: int, first_name: str) -> dict[str, Any]:
    return {"id": user_id, "type": "private", "first_name": first_name}


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _incoming(
    user_id: int, first_name: str, language_code: str | None, **content: Any
) -> dict[str, Any]:
    return {
        "message_id": next(_message_ids),
        "from": _user(user_id, first_name, language_code),
        "chat": _private_chat(user_id, first_name),
        "date": _now(),
        **content,
    }


def message(
    user_id: int, text: str, *, first_name: str = "Anna", language_code: str | None = "nl"
) -> dict[str, Any]:
    """A text message from a user in their private chat with the bot.

    A leading ``/command`` gets its ``bot_command`` entity, as Telegram adds it.
    """
    content: dict[str, Any] = {"text": text}
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]
    return {"message": _incoming(user_id, first_name, language_code, **content)}


def callback(
    user_id: int,
    data: str,
    *,
    message_id: int,
    first_name: str = "Anna",
    language_code: str | None = "nl",
    message_text: str = "…",
    bot_id: int = 123,
    bot_username: str = "aimtrack_test_bot",
) -> dict[str, Any]:
    """A press on an inline keyboard button under the bot's message ``message_id``."""
    return {
        "callback_query": {
            "id": str(4_000_000_000_000_000 + next(_callback_ids)),
            "from": _user(user_id, first_name, language_code),
            "message": {
                "message_id": message_id,
                "from": {
                    "id": bot_id,
                    "is_bot": True,
                    "first_name": "AimTrack",
                    "username": bot_username,
                },
                "chat": _private_chat(user_id, first_name),
                "date": _now(),
                "text": message_text,
            },
            "chat_instance": str(-(7_000_000_000_000_000_000 + user_id)),
            "data": data,
        }
    }


def photo(
    user_id: int,
    file_ids_sizes: list[tuple[str, str, int, int, int]],
    caption: str | None = None,
    *,
    first_name: str = "Anna",
    language_code: str | None = "nl",
) -> dict[str, Any]:
    """A photo message; ``file_ids_sizes`` are (file_id, file_unique_id, width, height, size),
    smallest first, as Telegram lists the sizes."""
    content: dict[str, Any] = {
        "photo": [
            {
                "file_id": file_id,
                "file_unique_id": unique_id,
                "width": width,
                "height": height,
                "file_size": size,
            }
            for file_id, unique_id, width, height, size in file_ids_sizes
        ]
    }
    if caption is not None:
        content["caption"] = caption
    return {"message": _incoming(user_id, first_name, language_code, **content)}


def document(  # noqa: PLR0917 (the positional signature mirrors the Document fields)
    user_id: int,
    file_id: str,
    file_unique_id: str,
    file_name: str,
    mime_type: str,
    file_size: int,
    *,
    caption: str | None = None,
    first_name: str = "Anna",
    language_code: str | None = "nl",
) -> dict[str, Any]:
    """A file sent as a document (uncompressed)."""
    content: dict[str, Any] = {
        "document": {
            "file_id": file_id,
            "file_unique_id": file_unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": file_size,
        }
    }
    if caption is not None:
        content["caption"] = caption
    return {"message": _incoming(user_id, first_name, language_code, **content)}


# --- request decoding -----------------------------------------------------------------------


def _string_only(method: str, name: str) -> bool:
    types = load_spec().field_types(method, name)
    if types is None:
        return name in _STRING_FIELDS
    return set(types) <= {"String", "InputFile"}


def _decode_form_value(method: str, name: str, raw: str) -> Any:
    """PTB sends strings as they are and everything else JSON-encoded."""
    if _string_only(method, name):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _decode_json_value(method: str, name: str, value: Any) -> Any:
    """JSON bodies are typed already; nested objects may still come as JSON text."""
    if isinstance(value, str) and value[:1] in "{[" and not _string_only(method, name):
        with contextlib.suppress(ValueError):
            return json.loads(value)
    return value


def _header(name: str, value: str) -> MimeHeaders:
    return HeaderParser().parsestr(f"{name}: {value}\r\n\r\n")


def _parse_multipart(
    body: bytes, content_type: str
) -> tuple[list[tuple[str, str]], dict[str, UploadedFile]]:
    boundary = _header("Content-Type", content_type).get_param("boundary")
    if not isinstance(boundary, str):
        raise BotAPIError(400, "Bad Request: multipart boundary is missing")
    fields: list[tuple[str, str]] = []
    files: dict[str, UploadedFile] = {}
    delimiter = b"\r\n--" + boundary.encode("latin-1")
    for chunk in (b"\r\n" + body).split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        headers = HeaderParser().parsestr(head.decode("utf-8", "replace") + "\r\n\r\n")
        name = headers.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        filename = headers.get_filename()
        if filename is None:
            fields.append((name, content.decode("utf-8")))
        else:
            files[name] = UploadedFile(
                filename=filename,
                content=content,
                content_type=headers.get_content_type()
                if "content-type" in headers
                else "application/octet-stream",
            )
    return fields, files


async def _read_request(
    request: Request, method: str
) -> tuple[dict[str, Any], dict[str, UploadedFile], str]:
    content_type = request.headers.get("content-type", "")
    mime = content_type.split(";", 1)[0].strip().lower()
    body = await request.body()
    fields: list[tuple[str, str]] = list(request.query_params.multi_items())
    files: dict[str, UploadedFile] = {}
    if mime == "application/json":
        try:
            payload = json.loads(body or b"{}")
        except ValueError as exc:
            raise BotAPIError(400, "Bad Request: can't parse JSON object") from exc
        if not isinstance(payload, dict):
            raise BotAPIError(400, "Bad Request: JSON body must be an object")
        params = {k: _decode_form_value(method, k, v) for k, v in fields}
        params.update({k: _decode_json_value(method, k, v) for k, v in payload.items()})
        return params, files, mime
    if mime == "multipart/form-data":
        form_fields, files = _parse_multipart(body, content_type)
        fields.extend(form_fields)
    elif body:
        fields.extend(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    params = {k: _decode_form_value(method, k, v) for k, v in fields}
    return params, files, mime


# --- the fake -------------------------------------------------------------------------------


def _ok(result: Any) -> JSONResponse:
    return JSONResponse({"ok": True, "result": result})


def _error(status: int, description: str, retry_after: int | None = None) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return JSONResponse(body, status_code=status)


def _chat_key(chat_id: object) -> int | str:
    if isinstance(chat_id, int):
        return chat_id
    text = str(chat_id)
    return int(text) if re.fullmatch(r"-?\d+", text) else text


def _update_type(update: Mapping[str, Any]) -> str:
    return next((key for key in update if key != "update_id"), "")


def _image_size(content: bytes) -> tuple[int, int]:
    try:
        from PIL import Image  # noqa: PLC0415 (optional: only to report realistic sizes)

        with Image.open(io.BytesIO(content)) as image:
            return image.size
    except (ImportError, OSError, ValueError):
        return (800, 600)


class FakeBotAPI:
    """The fake server; use as ``async with FakeBotAPI(token="123:ABC") as api``."""

    def __init__(
        self,
        token: str = "123:ABC",  # noqa: S107 (a fake token, only valid against this fake)
        *,
        bot_first_name: str = "AimTrack",
        bot_username: str = "aimtrack_test_bot",
        long_poll_cap: float = 1.0,
        strict: bool = False,
    ) -> None:
        """``strict=True`` answers 400 to any call :func:`validate_call` finds a problem with;
        by default calls are only recorded, for tests to validate."""
        self.token = token
        self.long_poll_cap = long_poll_cap
        self.strict = strict
        self.bot_user: dict[str, Any] = {
            "id": int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.calls: list[Call] = []
        self.webhook_url = ""
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._pending: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._allowed_updates: list[str] = []
        self._changed = asyncio.Event()
        self._closing = False
        self._closed = asyncio.Event()
        self._files: dict[str, _StoredFile] = {}
        self._file_paths: dict[str, str] = {}
        self._file_counter = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._messages: dict[tuple[int | str, int], dict[str, Any]] = {}
        self._chats: dict[int | str, dict[str, Any]] = {}
        self._faults: dict[str, deque[_Fault]] = {}
        self._handlers: dict[str, tuple[str, Handler]] = {}
        self._register_builtin_handlers()
        self._server: LocalServer | None = None
        self.port = 0

    # --- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> FakeBotAPI:
        app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._handle_method, methods=["GET", "POST"]),
                Route("/file/bot{token}/{file_path:path}", self._handle_download, methods=["GET"]),
            ]
        )
        self._server = LocalServer(app, name="FakeBotAPI")
        self.port = await self._server.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing = True
        self._closed.set()  # wakes scripted delays, so uvicorn finds nothing in flight
        self._notify()
        if self._server is not None:
            await self._server.stop()

    @property
    def base_url(self) -> str:
        """For ``Bot(base_url=...)``; PTB appends the token."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``Bot(base_file_url=...)``; PTB appends the token."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    # --- recording ------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        """The calls to one method (case-insensitive), in arrival order."""
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def sent_texts(self, chat_id: int | str | None = None, *, plain: bool = False) -> list[str]:
        """Texts of successful sendMessage/editMessageText calls and captions, in order.

        As sent (with HTML markup); ``plain=True`` gives the text users see instead.
        """
        texts: list[str] = []
        for call in self.calls:
            if call.status != 200:
                continue
            if chat_id is not None and _chat_key(call.params.get("chat_id")) != _chat_key(chat_id):
                continue
            key = "text" if call.method in {"sendMessage", "editMessageText"} else "caption"
            value = call.params.get(key)
            if isinstance(value, str):
                parse_mode = str(call.params.get("parse_mode", "")).lower()
                texts.append(html_to_text(value) if plain and parse_mode == "html" else value)
        return texts

    def last_keyboard(self, chat_id: int | str) -> list[list[tuple[str, str | None]]]:
        """Rows of (text, callback_data) of the last reply_markup sent to ``chat_id``.

        Empty when none was sent or the last edit removed it; callback_data is None for other
        kinds of buttons (url, reply keyboard buttons).
        """
        for call in reversed(self.calls):
            if call.status != 200 or _chat_key(call.params.get("chat_id")) != _chat_key(chat_id):
                continue
            markup = call.params.get("reply_markup")
            if markup is None and call.method == "editMessageReplyMarkup":
                return []
            if not isinstance(markup, dict):
                continue
            rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
            return [
                [
                    (b, None) if isinstance(b, str) else (b.get("text", ""), b.get("callback_data"))
                    for b in row
                ]
                for row in rows
            ]
        return []

    # --- updates --------------------------------------------------------------------------

    def push_update(self, update: Mapping[str, Any]) -> int:
        """Queue an update (without ``update_id``) for getUpdates; returns its update_id."""
        update_id = self._next_update_id
        self._next_update_id += 1
        stored = {"update_id": update_id, **{k: v for k, v in update.items() if k != "update_id"}}
        self._remember_chat(stored)
        self._pending.append(stored)
        self._notify()
        return update_id

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not confirmed yet (no getUpdates with a higher offset so far)."""
        return [dict(u) for u in self._pending]

    def is_confirmed(self, update_id: int) -> bool:
        """True once the update was pushed and confirmed (or dropped)."""
        return update_id < self._next_update_id and all(
            u["update_id"] != update_id for u in self._pending
        )

    async def wait_until_confirmed(
        self,
        update_id: int,
        timeout: float = 10,  # noqa: ASYNC109 (a deadline in seconds, as in asyncio.wait_for)
    ) -> None:
        """Wait until the bot confirmed ``update_id`` (i.e. finished fetching past it)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.is_confirmed(update_id):
            remaining = deadline - loop.time()
            if remaining <= 0:
                pending = [u["update_id"] for u in self._pending]
                msg = f"update {update_id} not confirmed within {timeout} s; pending: {pending}"
                raise TimeoutError(msg)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=remaining)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _remember_chat(self, update: Mapping[str, Any]) -> None:
        for value in update.values():
            if isinstance(value, dict):
                chat = value.get("chat") or (value.get("message") or {}).get("chat")
                if isinstance(chat, dict) and "id" in chat:
                    self._chats[chat["id"]] = dict(chat)

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]
        self._notify()

    def _deliverable(self) -> list[dict[str, Any]]:
        """Pending updates of the allowed types; others are dropped, as if never created."""
        excluded = DEFAULT_UPDATE_TYPES_EXCLUDED if not self._allowed_updates else frozenset()
        allowed = set(self._allowed_updates)
        kept = [
            u
            for u in self._pending
            if _update_type(u) not in excluded and (not allowed or _update_type(u) in allowed)
        ]
        if len(kept) != len(self._pending):
            self._pending = kept
            self._notify()
        return kept

    # --- files ----------------------------------------------------------------------------

    def add_file(
        self, content: bytes, *, file_path: str | None = None, file_size: int | None = None
    ) -> tuple[str, str]:
        """Register a downloadable file; returns (file_id, file_unique_id).

        ``file_size`` overrides the reported size, e.g. to exercise the 20 MB download limit
        without allocating it.
        """
        stored = self._store_file(content, file_path=file_path, file_size=file_size)
        return stored.file_id, stored.file_unique_id

    def file_content(self, file_id: str) -> bytes:
        """The bytes behind a file_id (registered or uploaded by the bot)."""
        return self._files[file_id].content

    def _store_file(
        self,
        content: bytes,
        *,
        file_path: str | None = None,
        file_size: int | None = None,
        kind: str | None = None,
    ) -> _StoredFile:
        number = next(self._file_counter)
        if file_path is None:
            if kind is None:
                kind = "photos" if content[:3] == b"\xff\xd8\xff" else "documents"
            extension = {"photos": ".jpg"}.get(kind, "")
            if content.startswith(b"%PDF"):
                extension = ".pdf"
            elif content.startswith(b"\x89PNG"):
                extension = ".png"
            file_path = f"{kind}/file_{number}{extension}"
        stored = _StoredFile(
            file_id=f"BQACAgQAAxkBAAI{number:06d}{self.bot_user['id']}fakefile",
            file_unique_id=f"AgAD{number:06d}",
            content=content,
            file_path=file_path,
            file_size=len(content) if file_size is None else file_size,
        )
        self._files[stored.file_id] = stored
        self._file_paths[file_path] = stored.file_id
        return stored

    # --- faults and extension -------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
        delay: float = 0.0,
        when: Callable[[Call], bool] | None = None,
    ) -> None:
        """Answer the next ``times`` calls to ``method`` with this error instead.

        ``delay`` holds each of them that many seconds first (a Bot API that hangs: a client
        with a shorter timeout has given up by then, and the call is not delivered); ``when``
        picks the calls the fault applies to (others are answered as usual and do not count).
        Faults of one method apply in the order they were scripted.
        """
        fault = _Fault(status, description, retry_after, times, delay, when)
        self._faults.setdefault(method.lower(), deque()).append(fault)

    def slow_next(
        self,
        method: str,
        *,
        delay: float,
        times: int = 1,
        when: Callable[[Call], bool] | None = None,
    ) -> None:
        """Answer the next ``times`` calls to ``method`` as usual, but only after ``delay``
        seconds (a slow Bot API; the call is delivered even when the client gave up)."""
        fault = _Fault(None, "", None, times, delay, when)
        self._faults.setdefault(method.lower(), deque()).append(fault)

    def clear_faults(self) -> None:
        """Forget every scripted fault not used up yet."""
        self._faults.clear()

    def _take_fault(self, call: Call) -> _Fault | None:
        faults = self._faults.get(call.method.lower())
        if not faults:
            return None
        fault = next((f for f in faults if f.when is None or f.when(call)), None)
        if fault is None:
            return None
        fault.remaining -= 1
        if fault.remaining <= 0:
            faults.remove(fault)
        return fault

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closed.wait(), timeout=seconds)

    def register(self, method: str, handler: Handler) -> None:
        """Answer ``method`` with ``handler(params, files)`` (sync or async); it returns the
        result or raises :class:`BotAPIError`. Replaces a built-in handler of that name."""
        self._handlers[method.lower()] = (method, handler)

    def _register_builtin_handlers(self) -> None:
        true: Handler = lambda _params, _files: True  # noqa: E731
        builtins: dict[str, Handler] = {
            "getMe": lambda _p, _f: dict(self.bot_user),
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getMyCommands": self._get_my_commands,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "getFile": self._get_file,
            "answerCallbackQuery": true,
            "sendChatAction": true,
            "deleteMessage": true,
            "close": true,
            "logOut": true,
        }
        for name, handler in builtins.items():
            self.register(name, handler)

    # --- HTTP -----------------------------------------------------------------------------

    async def _handle_method(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        requested = request.path_params["method"]
        name, handler = self._handlers.get(requested.lower(), (requested, None))
        try:
            params, files, content_type = await _read_request(request, name)
        except BotAPIError as exc:
            return _error(exc.status, exc.description)
        call = Call(method=name, params=params, files=files, content_type=content_type)
        self.calls.append(call)
        response = await self._answer(call, handler)
        call.status = response.status_code
        call.answered_at = time.monotonic()
        return response

    async def _answer(self, call: Call, handler: Handler | None) -> JSONResponse:
        fault = self._take_fault(call)
        if fault is not None:
            if fault.status is not None:
                call.status = fault.status  # never counted as delivered, not even while held
            if fault.delay > 0:
                await self._pause(fault.delay)
            if fault.status is not None:
                return _error(fault.status, fault.description, fault.retry_after)
        if handler is None:
            return _error(404, "Not Found: method not found")
        if self.strict:
            problems = validate_call(load_spec(), call.method, call.params, call.files)
            if problems:
                return _error(400, "Bad Request: " + "; ".join(problems))
        try:
            result = handler(call.params, call.files)
            if asyncio.iscoroutine(result):
                result = await result
        except BotAPIError as exc:
            return _error(exc.status, exc.description)
        return _ok(result)

    async def _handle_download(self, request: Request) -> Response:
        file_id = self._file_paths.get(request.path_params["file_path"])
        if request.path_params["token"] != self.token or file_id is None:
            return _error(404, "Not Found")
        return Response(self._files[file_id].content, media_type="application/octet-stream")

    # --- method handlers ------------------------------------------------------------------

    async def _get_updates(
        self, params: dict[str, Any], _files: dict[str, UploadedFile]
    ) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise BotAPIError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if isinstance(params.get("allowed_updates"), list):
            self._allowed_updates = list(params["allowed_updates"])
        self._confirm(int(params.get("offset") or 0))
        limit = max(1, min(int(params.get("limit") or 100), 100))
        wait = min(float(params.get("timeout") or 0), self.long_poll_cap)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            batch = self._deliverable()[:limit]
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._closing:
                return [dict(u) for u in batch]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=remaining)

    def _set_webhook(self, params: dict[str, Any], _files: dict[str, UploadedFile]) -> bool:
        self.webhook_url = str(params.get("url", ""))
        if params.get("drop_pending_updates"):
            self._pending.clear()
            self._notify()
        return True

    def _delete_webhook(self, params: dict[str, Any], _files: dict[str, UploadedFile]) -> bool:
        self.webhook_url = ""
        if params.get("drop_pending_updates"):
            self._pending.clear()
            self._notify()
        return True

    def _get_webhook_info(
        self, _params: dict[str, Any], _files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    @staticmethod
    def _commands_key(params: Mapping[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _set_my_commands(self, params: dict[str, Any], _files: dict[str, UploadedFile]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise BotAPIError(400, "Bad Request: commands must be an array")
        self.commands[self._commands_key(params)] = [dict(c) for c in commands]
        return True

    def _delete_my_commands(self, params: dict[str, Any], _files: dict[str, UploadedFile]) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    def _get_my_commands(
        self, params: dict[str, Any], _files: dict[str, UploadedFile]
    ) -> list[dict[str, Any]]:
        return list(self.commands.get(self._commands_key(params), []))

    def _chat(self, chat_id: object) -> dict[str, Any]:
        key = _chat_key(chat_id)
        if key in self._chats:
            return dict(self._chats[key])
        if isinstance(key, str):
            return {"id": -1_000_000_000_000, "type": "channel", "username": key.lstrip("@")}
        return {"id": key, "type": "private"}

    @staticmethod
    def _shown_text(text: str, parse_mode: object) -> str:
        is_html = isinstance(parse_mode, str) and parse_mode.lower() == "html"
        return html_to_text(text) if is_html else text

    def _new_message(self, params: Mapping[str, Any], **content: Any) -> dict[str, Any]:
        if "chat_id" not in params:
            raise BotAPIError(400, "Bad Request: chat_id is empty")
        chat = self._chat(params["chat_id"])
        sent: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")},
            "chat": chat,
            "date": _now(),
            **content,
        }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            sent["reply_markup"] = markup
        self._messages[(_chat_key(params["chat_id"]), sent["message_id"])] = {
            **sent,
            "_source": (params.get("text"), params.get("parse_mode")),
        }
        return sent

    @staticmethod
    def _public(stored: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in stored.items() if not k.startswith("_")}

    def _send_message(
        self, params: dict[str, Any], _files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        text = params.get("text")
        if not isinstance(text, str) or not self._shown_text(text, params.get("parse_mode")):
            raise BotAPIError(400, "Bad Request: message text is empty")
        content: dict[str, Any] = {"text": self._shown_text(text, params.get("parse_mode"))}
        if isinstance(params.get("entities"), list):
            content["entities"] = params["entities"]
        return self._new_message(params, **content)

    def _message_to_edit(self, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The stored message, or None for a message the fake did not send (tests may press
        buttons under messages they made up; the fake answers those edits leniently)."""
        if "inline_message_id" in params:
            return None
        if "chat_id" not in params or "message_id" not in params:
            raise BotAPIError(400, "Bad Request: message identifier is not specified")
        return self._messages.get((_chat_key(params["chat_id"]), int(params["message_id"])))

    def _edited(self, params: Mapping[str, Any], updated: dict[str, Any]) -> dict[str, Any] | bool:
        if "inline_message_id" in params:
            return True
        key = (_chat_key(params["chat_id"]), int(params["message_id"]))
        updated["edit_date"] = _now()
        self._messages[key] = updated
        return self._public(updated)

    def _edit_message_text(
        self, params: dict[str, Any], _files: dict[str, UploadedFile]
    ) -> dict[str, Any] | bool:
        text = params.get("text")
        if not isinstance(text, str) or not self._shown_text(text, params.get("parse_mode")):
            raise BotAPIError(400, "Bad Request: message text is empty")
        stored = self._message_to_edit(params)
        markup = params.get("reply_markup")
        if stored is not None:
            same_text = stored.get("_source") == (text, params.get("parse_mode"))
            if same_text and stored.get("reply_markup") == markup:
                raise BotAPIError(400, NOT_MODIFIED)
        updated = dict(stored) if stored else self._placeholder_message(params)
        updated["text"] = self._shown_text(text, params.get("parse_mode"))
        updated["_source"] = (text, params.get("parse_mode"))
        updated.pop("reply_markup", None)
        if isinstance(markup, dict):
            updated["reply_markup"] = markup
        return self._edited(params, updated)

    def _edit_message_reply_markup(
        self, params: dict[str, Any], _files: dict[str, UploadedFile]
    ) -> dict[str, Any] | bool:
        stored = self._message_to_edit(params)
        markup = params.get("reply_markup")
        if stored is not None and stored.get("reply_markup") == markup:
            raise BotAPIError(400, NOT_MODIFIED)
        updated = dict(stored) if stored else self._placeholder_message(params)
        updated.pop("reply_markup", None)
        if isinstance(markup, dict):
            updated["reply_markup"] = markup
        return self._edited(params, updated)

    def _placeholder_message(self, params: Mapping[str, Any]) -> dict[str, Any]:
        if "inline_message_id" in params:
            return {}
        return {
            "message_id": int(params["message_id"]),
            "from": {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")},
            "chat": self._chat(params["chat_id"]),
            "date": _now(),
        }

    def _media(
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile], name: str, kind: str
    ) -> tuple[_StoredFile, UploadedFile | None]:
        """The file a sendPhoto/sendDocument refers to: an upload, a known file_id, or a URL."""
        upload = files.get(name)
        value = params.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
        if upload is not None:
            return self._store_file(upload.content, kind=kind), upload
        if isinstance(value, str) and value in self._files:
            return self._files[value], None
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return self._store_file(b"", kind=kind, file_size=50_000), None
        raise BotAPIError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _caption(self, params: Mapping[str, Any]) -> dict[str, Any]:
        caption = params.get("caption")
        if not isinstance(caption, str) or not caption:
            return {}
        return {"caption": self._shown_text(caption, params.get("parse_mode"))}

    def _send_photo(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        stored, _upload = self._media(params, files, "photo", "photos")
        width, height = _image_size(stored.content) if stored.content else (800, 600)
        size = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "width": width,
            "height": height,
        }
        return self._new_message(params, photo=[size], **self._caption(params))

    def _send_document(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        stored, upload = self._media(params, files, "document", "documents")
        file_name = upload.filename if upload else stored.file_path.rsplit("/", 1)[-1]
        mime_type = (
            upload.content_type
            if upload and upload.content_type != "application/octet-stream"
            else mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        )
        doc = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": stored.file_size,
        }
        return self._new_message(params, document=doc, **self._caption(params))

    def _get_file(self, params: dict[str, Any], _files: dict[str, UploadedFile]) -> dict[str, Any]:
        stored = self._files.get(str(params.get("file_id", "")))
        if stored is None:
            raise BotAPIError(400, "Bad Request: invalid file_id")
        if stored.file_size > DOWNLOAD_LIMIT:
            raise BotAPIError(400, "Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }
