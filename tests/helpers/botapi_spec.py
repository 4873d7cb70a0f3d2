"""Check recorded Bot API calls against the Telegram Bot API specification.

The spec is the machine-readable Bot API 10.1 description copied into the tests at
``tests/helpers/refs/telegram-bot-api.json`` (source and licence in ``refs/README.md``;
``{"version", "methods", "types"}``; every method and type lists ``fields`` with ``name``,
``types`` such as ``"Integer"`` or ``"Array of InlineKeyboardButton"``, ``required`` and
``description``; union types list ``subtypes``).

:func:`validate_call` answers what the real Bot API would reject or silently mangle:

* unknown methods, unknown fields, missing required fields;
* wrong types for ``Integer``, ``Float``, ``Boolean``, ``String``, ``InputFile``,
  ``Array of …`` and nested objects, recursively (an ``InlineKeyboardMarkup`` inside
  ``reply_markup`` is checked button by button); a union such as ``BotCommandScope`` is valid
  when one of its subtypes is, chosen by its ``type`` discriminator;
* the limits Telegram documents in prose, checked explicitly: message text 1-4096 characters
  after entity parsing, captions up to 1024, ``callback_data`` 1-64 bytes, callback query answers
  up to 200 characters, bot commands (``[a-z0-9_]{1,32}``, description 1-256, at most 100),
  two-letter ``language_code``, exactly one action per inline keyboard button;
* with ``parse_mode="HTML"``: only the tags Telegram supports, balanced, and every ``<``, ``>``
  and ``&`` outside a tag escaped. This is how tests prove that user text is HTML-escaped.

Lengths are counted in Python characters (code points), as the Bot API documentation words it.
"""

from __future__ import annotations

import functools
import html
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

SPEC_PATH = Path(__file__).resolve().parent / "refs" / "telegram-bot-api.json"

MESSAGE_TEXT_MAX = 4096
CAPTION_MAX = 1024
CALLBACK_DATA_MAX_BYTES = 64
CALLBACK_ANSWER_MAX = 200
COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
COMMAND_DESCRIPTION_MAX = 256
COMMANDS_MAX = 100
LANGUAGE_CODE_RE = re.compile(r"[a-z]{2}")

# InlineKeyboardButton: "Exactly one of the fields other than text, icon_custom_emoji_id, and
# style must be used to specify the type of the button."
BUTTON_NON_ACTION_FIELDS = frozenset({"text", "icon_custom_emoji_id", "style"})

# Methods that edit a message need either chat_id + message_id or inline_message_id.
EDIT_METHODS = frozenset(
    {"editMessageText", "editMessageCaption", "editMessageMedia", "editMessageReplyMarkup"}
)
# Methods whose ``text`` is a message text (1-4096 characters after entity parsing).
MESSAGE_TEXT_METHODS = frozenset({"sendMessage", "editMessageText"})

# HTML tags accepted with parse_mode="HTML", with the attributes each may carry
# (https://core.telegram.org/bots/api#html-style). tg-time carries the date_time entity.
HTML_TAGS: dict[str, frozenset[str]] = {
    "b": frozenset(),
    "strong": frozenset(),
    "i": frozenset(),
    "em": frozenset(),
    "u": frozenset(),
    "ins": frozenset(),
    "s": frozenset(),
    "strike": frozenset(),
    "del": frozenset(),
    "span": frozenset({"class"}),
    "tg-spoiler": frozenset(),
    "a": frozenset({"href"}),
    "tg-emoji": frozenset({"emoji-id"}),
    "tg-time": frozenset({"unix", "format"}),
    "code": frozenset({"class"}),
    "pre": frozenset(),
    "blockquote": frozenset({"expandable"}),
}
_REQUIRED_ATTRIBUTES = {"a": "href", "span": "class", "tg-emoji": "emoji-id", "tg-time": "unix"}
_TAG_RE = re.compile(
    r"<(?P<close>/)?(?P<name>[A-Za-z][A-Za-z0-9-]*)"
    r"(?P<attrs>(?:\s+[A-Za-z-]+(?:\s*=\s*(?:\"[^\"<>]*\"|'[^'<>]*'|[^\s\"'<>]+))?)*)\s*>"
)
_ATTR_RE = re.compile(
    r"\s+(?P<name>[A-Za-z-]+)(?:\s*=\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<bare>[^\s\"'<>]+)))?"
)
# "All numerical HTML entities are supported. The API currently supports only the following
# named HTML entities: &lt;, &gt;, &amp; and &quot;."
_ENTITY_RE = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]+|#[xX][0-9a-fA-F]+);")

# A subtype's discriminator is its first field, described like "Scope type, must be chat" or
# 'Type of the reaction, always "emoji"'.
_DISCRIMINATOR_RE = re.compile(r"(?:must be|always)\s+\"?([a-z_]+)\"?\s*$")

_FILE = object()  # stands for a value uploaded as a multipart file part


@dataclass(frozen=True)
class FieldSpec:
    """One parameter of a method, or one field of a type."""

    name: str
    types: tuple[str, ...]
    required: bool
    description: str


@dataclass(frozen=True)
class TypeSpec:
    """An object type; a union (``InputMedia``, ``BotCommandScope``) lists ``subtypes``."""

    name: str
    fields: dict[str, FieldSpec]
    subtypes: tuple[str, ...]


@dataclass(frozen=True)
class MethodSpec:
    """A Bot API method and its parameters."""

    name: str
    fields: dict[str, FieldSpec]


@dataclass(frozen=True)
class Spec:
    """The parsed Bot API description."""

    version: str
    methods: dict[str, MethodSpec]
    types: dict[str, TypeSpec]

    def method(self, name: str) -> MethodSpec | None:
        """Look a method up; like Telegram, method names are case-insensitive."""
        return self.methods.get(name) or self._methods_by_lower_name.get(name.lower())

    def field_types(self, method: str, field: str) -> tuple[str, ...] | None:
        """The declared types of one parameter, or None when method or field is unknown."""
        found = self.method(method)
        if found is None or field not in found.fields:
            return None
        return found.fields[field].types

    @functools.cached_property
    def _methods_by_lower_name(self) -> dict[str, MethodSpec]:
        return {name.lower(): method for name, method in self.methods.items()}


class CallLike(Protocol):
    """What :func:`validate_calls` needs of a recorded call (``tests.fakebotapi.Call``)."""

    method: str
    params: dict[str, Any]
    files: dict[str, Any]


def _fields(raw: Iterable[Mapping[str, Any]]) -> dict[str, FieldSpec]:
    return {
        f["name"]: FieldSpec(
            name=f["name"],
            types=tuple(f["types"]),
            required=bool(f.get("required", False)),
            description=f.get("description", ""),
        )
        for f in raw
    }


@functools.cache
def load_spec(path: Path = SPEC_PATH) -> Spec:
    """Parse the spec once per path (the copy in the tests, always there)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    methods = {
        name: MethodSpec(name=name, fields=_fields(m.get("fields", [])))
        for name, m in raw["methods"].items()
    }
    types = {
        name: TypeSpec(
            name=name, fields=_fields(t.get("fields", [])), subtypes=tuple(t.get("subtypes", []))
        )
        for name, t in raw["types"].items()
    }
    return Spec(version=raw.get("version", "?"), methods=methods, types=types)


# --- HTML (parse_mode="HTML") ---------------------------------------------------------------


def _snippet(text: str, at: int) -> str:
    return repr(text[max(0, at - 10) : at + 20])


def parse_html(text: str) -> tuple[str, list[str]]:
    """Parse Telegram HTML: return the plain text Telegram would show, and the problems found.

    Problems are unsupported tags or attributes, unbalanced tags, and any ``<``, ``>`` or ``&``
    outside a tag that is not escaped as ``&lt;``, ``&gt;``, ``&amp;`` (or ``&quot;``/numeric).
    """
    plain: list[str] = []
    problems: list[str] = []
    open_tags: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "<":
            tag = _TAG_RE.match(text, i)
            if tag is None:
                problems.append(f"unescaped '<' at offset {i} in {_snippet(text, i)}")
                plain.append(char)
                i += 1
                continue
            problems.extend(_check_tag(tag, open_tags, text))
            i = tag.end()
        elif char == ">":
            problems.append(f"unescaped '>' at offset {i} in {_snippet(text, i)}")
            plain.append(char)
            i += 1
        elif char == "&":
            entity = _ENTITY_RE.match(text, i)
            if entity is None:
                problems.append(f"unescaped '&' at offset {i} in {_snippet(text, i)}")
                plain.append(char)
                i += 1
            else:
                plain.append(html.unescape(entity.group()))
                i = entity.end()
        else:
            plain.append(char)
            i += 1
    problems.extend(f"tag <{name}> is never closed" for name in reversed(open_tags))
    return "".join(plain), problems


def _check_tag(tag: re.Match[str], open_tags: list[str], text: str) -> list[str]:
    name = tag["name"].lower()
    where = f"at offset {tag.start()} in {_snippet(text, tag.start())}"
    if name not in HTML_TAGS:
        return [f"unsupported HTML tag <{tag['name']}> {where}"]
    if tag["close"]:
        if not open_tags or open_tags[-1] != name:
            expected = f"</{open_tags[-1]}>" if open_tags else "no closing tag"
            return [f"closing tag </{name}> {where} does not match, expected {expected}"]
        open_tags.pop()
        return []
    problems: list[str] = []
    attrs: dict[str, str | None] = {}
    for attr in _ATTR_RE.finditer(tag["attrs"]):
        value = attr["dq"] if attr["dq"] is not None else attr["sq"]
        if value is None:
            value = attr["bare"]
        attrs[attr["name"].lower()] = value
    for attr_name in attrs.keys() - HTML_TAGS[name]:
        problems.append(f"attribute {attr_name!r} is not supported on <{name}> {where}")
    required = _REQUIRED_ATTRIBUTES.get(name)
    if required and not attrs.get(required):
        problems.append(f"<{name}> needs a {required} attribute {where}")
    if name == "span" and attrs.get("class") != "tg-spoiler":
        problems.append(f'<span> is only supported as <span class="tg-spoiler"> {where}')
    if name == "code" and attrs.get("class") and not str(attrs["class"]).startswith("language-"):
        problems.append(f'<code class=...> must be "language-…" {where}')
    open_tags.append(name)
    return problems


def html_to_text(text: str) -> str:
    """The plain text Telegram shows for an HTML-formatted text (tags removed, unescaped)."""
    return parse_html(text)[0]


# --- explicit limits ------------------------------------------------------------------------


def _is_html(parse_mode: object) -> bool:
    return isinstance(parse_mode, str) and parse_mode.lower() == "html"


def _check_formatted(
    value: object, parse_mode: object, path: str, *, minimum: int, maximum: int
) -> list[str]:
    """Length limits after entity parsing, plus HTML validity when parse_mode is HTML."""
    if not isinstance(value, str):
        return []
    problems: list[str] = []
    text = value
    if _is_html(parse_mode):
        text, html_problems = parse_html(value)
        problems.extend(f"{path}: {p}" for p in html_problems)
    if minimum > 0 and not text.strip():
        problems.append(f"{path}: is empty after entity parsing (Telegram: text is empty)")
    elif len(text) > maximum:
        problems.append(
            f"{path}: {len(text)} characters after entity parsing, the limit is {maximum}"
        )
    return problems


def _check_button(button: Mapping[str, Any], path: str) -> list[str]:
    problems: list[str] = []
    actions = sorted(set(button) - BUTTON_NON_ACTION_FIELDS)
    if len(actions) != 1:
        problems.append(
            f"{path}: an inline keyboard button needs exactly one action field, got {actions}"
        )
    data = button.get("callback_data")
    if isinstance(data, str):
        size = len(data.encode("utf-8"))
        if not 1 <= size <= CALLBACK_DATA_MAX_BYTES:
            problems.append(
                f"{path}.callback_data: {size} bytes in UTF-8, "
                f"must be 1-{CALLBACK_DATA_MAX_BYTES} ({data!r})"
            )
    return problems


def _check_bot_command(command: Mapping[str, Any], path: str) -> list[str]:
    problems: list[str] = []
    name = command.get("command")
    if isinstance(name, str) and not COMMAND_RE.fullmatch(name):
        problems.append(
            f"{path}.command: {name!r} must be 1-32 characters of lowercase a-z, 0-9 and _"
        )
    description = command.get("description")
    if isinstance(description, str) and not 1 <= len(description) <= COMMAND_DESCRIPTION_MAX:
        problems.append(
            f"{path}.description: {len(description)} characters, "
            f"must be 1-{COMMAND_DESCRIPTION_MAX}"
        )
    return problems


def _check_object_limits(type_name: str, obj: Mapping[str, Any], path: str) -> list[str]:
    problems: list[str] = []
    if type_name == "InlineKeyboardButton":
        problems.extend(_check_button(obj, path))
    elif type_name == "BotCommand":
        problems.extend(_check_bot_command(obj, path))
    elif type_name == "InputTextMessageContent":
        problems.extend(
            _check_formatted(
                obj.get("message_text"),
                obj.get("parse_mode"),
                f"{path}.message_text",
                minimum=1,
                maximum=MESSAGE_TEXT_MAX,
            )
        )
    if "caption" in obj:
        problems.extend(
            _check_formatted(
                obj["caption"],
                obj.get("parse_mode"),
                f"{path}.caption",
                minimum=0,
                maximum=CAPTION_MAX,
            )
        )
    return problems


def _check_method_limits(method: str, params: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    parse_mode = params.get("parse_mode")
    if method in MESSAGE_TEXT_METHODS and "text" in params:
        problems.extend(
            _check_formatted(
                params["text"], parse_mode, "text", minimum=1, maximum=MESSAGE_TEXT_MAX
            )
        )
    if "caption" in params:
        problems.extend(
            _check_formatted(
                params["caption"], parse_mode, "caption", minimum=0, maximum=CAPTION_MAX
            )
        )
    if method == "answerCallbackQuery":
        text = params.get("text")
        if isinstance(text, str) and len(text) > CALLBACK_ANSWER_MAX:
            problems.append(f"text: {len(text)} characters, the limit is {CALLBACK_ANSWER_MAX}")
    if method == "setMyCommands":
        commands = params.get("commands")
        if isinstance(commands, list) and len(commands) > COMMANDS_MAX:
            problems.append(f"commands: {len(commands)} commands, at most {COMMANDS_MAX}")
    language_code = params.get("language_code")
    if isinstance(language_code, str) and not LANGUAGE_CODE_RE.fullmatch(language_code):
        problems.append(f"language_code: {language_code!r} is not a two-letter ISO 639-1 code")
    if method in EDIT_METHODS and "inline_message_id" not in params:
        problems.extend(
            f"{name}: required unless inline_message_id is given"
            for name in ("chat_id", "message_id")
            if name not in params
        )
    return problems


# --- structural validation ------------------------------------------------------------------


@dataclass
class _Context:
    spec: Spec
    files: Mapping[str, Any]


def _check_fields(
    fields: Mapping[str, FieldSpec], values: Mapping[str, Any], prefix: str, ctx: _Context
) -> list[str]:
    problems: list[str] = []
    for name, value in values.items():
        path = f"{prefix}{name}"
        spec_field = fields.get(name)
        if spec_field is None:
            problems.append(f"{path}: unknown field")
            continue
        problems.extend(_check_union(value, spec_field.types, path, ctx))
    problems.extend(
        f"{prefix}{f.name}: missing required field"
        for f in fields.values()
        if f.required and f.name not in values
    )
    return problems


def _check_union(value: object, types: Sequence[str], path: str, ctx: _Context) -> list[str]:
    """Valid when any alternative is; otherwise report the closest alternative's problems."""
    best: list[str] | None = None
    for type_expr in types:
        problems = _check_type(value, type_expr, path, ctx)
        if not problems:
            return []
        if best is None or len(problems) < len(best):
            best = problems
    if best is None:
        return [f"{path}: the spec declares no type"]
    return best


def _describe(value: object) -> str:
    if value is _FILE:
        return "an uploaded file"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_SCALARS: dict[str, Callable[[object], bool]] = {
    "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "Boolean": lambda v: isinstance(v, bool),
    "String": lambda v: isinstance(v, str),
}


def _check_type(value: object, type_expr: str, path: str, ctx: _Context) -> list[str]:
    if type_expr.startswith("Array of "):
        return _check_array(value, type_expr, path, ctx)
    if type_expr == "InputFile":
        return _check_input_file(value, path, ctx)
    if type_expr in _SCALARS:
        ok = _SCALARS[type_expr](value)
        return [] if ok else [f"{path}: expected {type_expr}, got {_describe(value)}"]
    type_spec = ctx.spec.types.get(type_expr)
    if type_spec is None:
        return [f"{path}: the spec has no type {type_expr!r}"]
    if type_spec.subtypes:
        return _check_subtypes(value, type_spec, path, ctx)
    return _check_object(value, type_spec, path, ctx)


def _check_array(value: object, type_expr: str, path: str, ctx: _Context) -> list[str]:
    if not isinstance(value, list):
        return [f"{path}: expected {type_expr}, got {_describe(value)}"]
    item_type = type_expr.removeprefix("Array of ")
    problems: list[str] = []
    for index, item in enumerate(value):
        problems.extend(_check_type(item, item_type, f"{path}[{index}]", ctx))
    return problems


def _check_input_file(value: object, path: str, ctx: _Context) -> list[str]:
    if value is _FILE:
        return []
    if isinstance(value, str) and value.startswith("attach://"):
        if value.removeprefix("attach://") in ctx.files:
            return []
        return [f"{path}: {value!r} names no uploaded file part"]
    return [f"{path}: expected an uploaded file (InputFile), got {_describe(value)}"]


def _check_object(value: object, type_spec: TypeSpec, path: str, ctx: _Context) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: expected a {type_spec.name} object, got {_describe(value)}"]
    if not type_spec.fields:  # e.g. CallbackGame: "A placeholder, currently holds no information"
        return []
    problems = _check_fields(type_spec.fields, value, f"{path}.", ctx)
    problems.extend(_check_object_limits(type_spec.name, value, path))
    return problems


def _discriminator(type_spec: TypeSpec) -> tuple[str, str] | None:
    first = next(iter(type_spec.fields.values()), None)
    if first is None or first.types != ("String",):
        return None
    found = _DISCRIMINATOR_RE.search(first.description)
    return (first.name, found.group(1)) if found else None


def _check_subtypes(value: object, union: TypeSpec, path: str, ctx: _Context) -> list[str]:
    candidates = list(union.subtypes)
    if isinstance(value, dict):
        matching: list[str] = []
        expected: list[str] = []
        key = ""
        for name in union.subtypes:
            sub = ctx.spec.types.get(name)
            disc = _discriminator(sub) if sub else None
            if disc is None:
                matching.append(name)
                continue
            key, wanted = disc
            expected.append(wanted)
            if value.get(key) == wanted:
                matching.append(name)
        if not matching:
            return [f"{path}: {union.name} needs {key} one of {expected}, got {value.get(key)!r}"]
        candidates = matching
    return _check_union(value, candidates, path, ctx)


def validate_call(
    spec: Spec,
    method: str,
    params: Mapping[str, Any],
    files: Mapping[str, Any] | None = None,
) -> list[str]:
    """Problems the Bot API would have with this call; empty when the call is valid.

    ``params`` are decoded values (numbers, booleans, dicts, lists); ``files`` maps multipart
    part names to uploaded files. A file part named like a parameter is that parameter's
    InputFile; other parts must be referenced as ``attach://<part name>``.
    """
    files = files or {}
    method_spec = spec.method(method)
    if method_spec is None:
        return [f"{method}: unknown Bot API method (spec {spec.version})"]
    name = method_spec.name
    ctx = _Context(spec=spec, files=files)
    values: dict[str, Any] = dict(params)
    problems: list[str] = []
    for part in files:
        if part in method_spec.fields:
            if "InputFile" not in method_spec.fields[part].types:
                problems.append(f"{part}: sent as an uploaded file but is not an InputFile")
            values.setdefault(part, _FILE)
        elif f"attach://{part}" not in json.dumps(params, default=str):
            problems.append(f"file part {part!r}: neither a parameter nor referenced by attach://")
    problems.extend(_check_fields(method_spec.fields, values, "", ctx))
    problems.extend(_check_method_limits(name, params))
    return [f"{name}: {p}" for p in problems]


def validate_calls(spec: Spec, calls: Iterable[CallLike]) -> list[str]:
    """Problems of every call, each prefixed with its position in the recording."""
    return [
        f"call #{index}: {problem}"
        for index, call in enumerate(calls)
        for problem in validate_call(spec, call.method, call.params, call.files)
    ]
