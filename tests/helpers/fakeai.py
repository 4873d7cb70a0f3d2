"""A fake OpenAI-compatible server for end-to-end tests of the AI client and job worker.

The real ``openai`` SDK talks to it over real HTTP (the SDK uses ``httpx2`` internally, which
respx cannot intercept): a Starlette app served by uvicorn on 127.0.0.1 (a free port) inside the
test's own event loop. Other processes can talk to it too, it simply listens on the port::

    async with FakeAI() as ai:
        ai.script(answer({"summary": "..."}), fail(503), hang(30))
        client = openai.AsyncOpenAI(base_url=ai.base_url, api_key="test")

What it mimics:

* ``POST /v1/chat/completions`` answering a ``chat.completion`` object; ``GET /v1/models``
  listing the configured model names; anything else 404 ``Invalid URL`` in OpenAI's error shape
  ``{"error": {"message", "type", "param", "code"}}``, the shape of every error it sends.
* ``FakeAI(api_key="k")``: 401 ``invalid_api_key`` unless the request carries ``Bearer k``.
* ``FakeAI(json_schema_supported=False)``: a server (vLLM, llama.cpp, older proxies) that knows
  ``response_format`` ``json_object`` but answers 400 to ``json_schema``.

What it answers is a FIFO script of behaviours, one per chat-completions request (see
:meth:`FakeAI.script`), then :attr:`FakeAI.default`. Behaviours: :func:`answer`, :func:`fail`,
:func:`hang`, :func:`invalid_json`, :func:`reject_json_schema`, :func:`garbage_http`. The default,
:func:`schema_stub`, answers JSON that satisfies the schema the request sent, so code under test
that validates the answer gets through without a script.

Every request is recorded on arrival as an :class:`AIRequest` (failed and hung ones included);
:attr:`AIRequest.text` and :meth:`FakeAI.all_text` exist so privacy tests can assert that a
secret never left the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.helpers.localserver import LocalServer

CHAT_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"
NOT_JSON = "Sure! Here is your reflection: you shot well today, keep it up."
PROXY_ERROR_PAGE = (
    "<html><head><title>502 Bad Gateway</title></head>"
    "<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
)
_completion_ids = itertools.count(1)
_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
# The error "type" OpenAI sends with each status (its ``code`` is mostly null).
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "invalid_request_error",
    404: "invalid_request_error",
    429: "requests",
    500: "server_error",
    502: "server_error",
    503: "server_error",
}


# --- requests -------------------------------------------------------------------------------


def _strings(value: object) -> Iterator[str]:
    """Every string in a decoded JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@dataclass(frozen=True, slots=True)
class AIRequest:
    """One HTTP request the fake received, in arrival order.

    ``headers`` have lower-case names; ``body`` is the decoded JSON object (empty when the body
    is not a JSON object, ``raw`` still holds it).
    """

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    raw: bytes

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    @property
    def messages(self) -> list[dict[str, Any]]:
        messages = self.body.get("messages")
        return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []

    @property
    def response_format(self) -> dict[str, Any] | None:
        value = self.body.get("response_format")
        return value if isinstance(value, dict) else None

    @property
    def schema(self) -> dict[str, Any] | None:
        """The JSON schema of a ``json_schema`` response_format, else None."""
        response_format = self.response_format or {}
        if response_format.get("type") != "json_schema":
            return None
        schema = (response_format.get("json_schema") or {}).get("schema")
        return schema if isinstance(schema, dict) else None

    @property
    def text(self) -> str:
        """All message text, one piece per line: string contents and list contents' text
        parts, of every role (system prompts included)."""
        pieces: list[str] = []
        for message in self.messages:
            content = message.get("content")
            if isinstance(content, str):
                pieces.append(content)
            elif isinstance(content, list):
                pieces.extend(
                    part["text"]
                    for part in content
                    if isinstance(part, dict) and isinstance(part.get("text"), str)
                )
        return "\n".join(pieces)

    @property
    def images(self) -> list[str]:
        """The URLs (for AimTrack: ``data:`` URLs) of all ``image_url`` content parts."""
        urls: list[str] = []
        for message in self.messages:
            content = message.get("content")
            if not isinstance(content, list):
                continue
            for part in content:
                if not isinstance(part, dict) or part.get("type") != "image_url":
                    continue
                image = part.get("image_url")
                url = image.get("url") if isinstance(image, dict) else image
                if isinstance(url, str):
                    urls.append(url)
        return urls

    def all_text(self) -> str:
        """The raw body as text plus every decoded string in it (keys too), so a value is
        found whether or not JSON escaping changed it and whichever field carries it."""
        return "\n".join([self.raw.decode("utf-8", errors="replace"), *_strings(self.body)])


# --- behaviours -----------------------------------------------------------------------------


class _ModelLike(Protocol):
    def model_dump_json(self) -> str: ...


Content = str | Mapping[str, Any] | list[Any] | _ModelLike
Responder = Callable[[AIRequest], Content]
"""Computes the assistant's content for a request; the form :attr:`FakeAI.default` takes."""


class Behaviour:
    """One way to answer a chat-completions request; build them with the factories below."""

    def __init__(
        self, description: str, respond: Callable[[FakeAI, AIRequest], Awaitable[Response]]
    ) -> None:
        self.description = description
        self._respond = respond

    async def respond(self, fake: FakeAI, request: AIRequest) -> Response:
        return await self._respond(fake, request)

    def __repr__(self) -> str:
        return f"<Behaviour {self.description}>"


def _content_text(content: Content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping | list):
        return json.dumps(content, ensure_ascii=False)
    return content.model_dump_json()


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)  # roughly what a tokenizer makes of English


def completion(request: AIRequest, content: str, *, finish_reason: str = "stop") -> JSONResponse:
    """A ``chat.completion`` answering ``request`` with ``content``."""
    prompt_tokens, completion_tokens = _tokens(request.text), _tokens(content)
    return JSONResponse(
        {
            "id": f"chatcmpl-fake{next(_completion_ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.model,
            "system_fingerprint": "fp_fakeai",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )


def error_response(
    status: int,
    message: str,
    *,
    error_type: str | None = None,
    param: str | None = None,
    code: str | None = None,
    retry_after: float | None = None,
) -> JSONResponse:
    """An error in OpenAI's shape, with a ``retry-after`` header when ``retry_after`` is set."""
    body = {
        "error": {
            "message": message,
            "type": error_type or _ERROR_TYPES.get(status, "server_error"),
            "param": param,
            "code": code,
        }
    }
    headers = {}
    if retry_after is not None:
        headers["retry-after"] = f"{retry_after:g}"
    return JSONResponse(body, status_code=status, headers=headers)


def answer(content: Content | Responder, *, finish_reason: str = "stop") -> Behaviour:
    """A normal 200 completion. A dict or list is sent as its JSON text, a pydantic model as
    ``model_dump_json()``, a string as is; a callable computes the content from the request."""

    async def respond(_fake: FakeAI, request: AIRequest) -> Response:
        value = content(request) if callable(content) else content
        return completion(request, _content_text(value), finish_reason=finish_reason)

    return Behaviour(f"answer({content!r:.60})", respond)


def fail(
    status: int,
    message: str = "The fake server was told to fail this request.",
    *,
    retry_after: float | None = None,
    error_type: str | None = None,
    code: str | None = None,
) -> Behaviour:
    """An OpenAI-shaped error with this HTTP status (e.g. 500, 503, 429, 400, 401);
    ``retry_after`` (seconds) sets the ``retry-after`` header the SDK honours."""

    async def respond(_fake: FakeAI, _request: AIRequest) -> Response:
        return error_response(
            status, message, error_type=error_type, code=code, retry_after=retry_after
        )

    return Behaviour(f"fail({status})", respond)


def hang(seconds: float, then: Behaviour | None = None) -> Behaviour:
    """Wait ``seconds``, then answer like ``then`` (default: :attr:`FakeAI.default`).

    A client timeout shorter than the wait sees a timeout. Closing the fake cuts the wait short
    (the request then gets 503 and lands in :attr:`FakeAI.interrupted`), so a long hang never
    holds up teardown.
    """

    async def respond(fake: FakeAI, request: AIRequest) -> Response:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await fake.closing.wait()
        if fake.closing.is_set():
            fake.interrupted.append(request)
            return error_response(503, "FakeAI shut down while this request was hanging")
        return await (then or fake.default_behaviour()).respond(fake, request)

    return Behaviour(f"hang({seconds})", respond)


def invalid_json(text: str = NOT_JSON) -> Behaviour:
    """A 200 completion whose content is chatty prose instead of the requested JSON."""
    return answer(text)


def _uses_json_schema(request: AIRequest) -> bool:
    return (request.response_format or {}).get("type") == "json_schema"


def _json_schema_rejection() -> JSONResponse:
    # llama.cpp's wording; vLLM and older proxies answer much the same 400.
    return error_response(
        400,
        'response_format type must be one of "text" or "json_object", but got: json_schema',
        param="response_format",
    )


def reject_json_schema() -> Behaviour:
    """Behave like a server without ``json_schema`` support: 400 when the request asks for
    ``response_format`` ``json_schema``, otherwise answer like :attr:`FakeAI.default`."""

    async def respond(fake: FakeAI, request: AIRequest) -> Response:
        if _uses_json_schema(request):
            return _json_schema_rejection()
        return await fake.default_behaviour().respond(fake, request)

    return Behaviour("reject_json_schema()", respond)


def garbage_http(
    body: str = PROXY_ERROR_PAGE, *, status: int = 200, content_type: str = "text/html"
) -> Behaviour:
    """A response that is not JSON at all, like a proxy's error page."""

    async def respond(_fake: FakeAI, _request: AIRequest) -> Response:
        return Response(body, status_code=status, media_type=content_type)

    return Behaviour(f"garbage_http(status={status})", respond)


# --- the default: JSON that satisfies the requested schema ----------------------------------


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    target: Any = root
    for key in ref[2:].split("/"):
        target = target[key]
    return _resolve(target, root)


def _stub_string(name: str, schema: Mapping[str, Any]) -> str:
    text = {"date": "2024-01-01", "date-time": "2024-01-01T00:00:00Z"}.get(
        str(schema.get("format")), f"stub {name}"
    )
    min_length = int(schema.get("minLength", 0))
    if len(text) < min_length:
        text += "." * (min_length - len(text))
    if "maxLength" in schema:
        text = text[: int(schema["maxLength"])]
    return text


def _stub_value(schema: Mapping[str, Any], root: Mapping[str, Any], name: str) -> Any:  # noqa: PLR0911 (one return per JSON type)
    schema = _resolve(schema, root)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        options = [_resolve(o, root) for o in schema.get(key, [])]
        if options:
            chosen = next((o for o in options if o.get("type") != "null"), options[0])
            return _stub_value(chosen, root, name)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(_resolve(part, root))
        return _stub_value(merged, root, name)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        return {
            key: _stub_value(properties.get(key, {}), root, key)
            for key in schema.get("required", [])
        }
    if kind == "array":
        count = max(int(schema.get("minItems", 0)), 1)
        count = min(count, int(schema.get("maxItems", count)))
        return [_stub_value(schema.get("items", {}), root, name) for _ in range(count)]
    if kind in {"integer", "number"}:
        low = schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1)
        low = min(low, schema.get("maximum", low))
        return int(low) if kind == "integer" else float(low)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _stub_string(name, schema)


def schema_stub(request: AIRequest) -> dict[str, Any]:
    """The default responder: deterministic JSON satisfying the request's ``json_schema``
    (``"stub <property>"`` for each required string, within minLength/maxLength), or
    ``{"answer": "stub answer"}`` when the request sent no schema."""
    schema = request.schema
    if schema is None:
        return {"answer": "stub answer"}
    value = _stub_value(schema, schema, "answer")
    return value if isinstance(value, dict) else {"answer": value}


# --- the fake -------------------------------------------------------------------------------


class FakeAI:
    """The fake server; use as ``async with FakeAI() as ai`` and point the SDK at
    :attr:`base_url`.

    ``port`` serves on that port instead of a free one: a server that is down (nothing
    listens there yet) and comes back, as ``FakeAI(port=p)`` started later.

    ``default`` answers when the script is empty: a :data:`Responder` (``lambda request: {...}``,
    sent like :func:`answer` sends it) or a :class:`Behaviour` (e.g. ``fail(503)`` for an outage).

    Recording: :attr:`requests` in arrival order (every path, recorded before it is answered);
    :attr:`statuses` alongside, the HTTP status answered (None while the behaviour still runs,
    even when the client already gave up or died); :attr:`interrupted`, the hangs that closing
    the fake cut short (they end with 503).
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        json_schema_supported: bool = True,
        models: Sequence[str] = ("fake-model",),
        port: int = 0,
    ) -> None:
        self.api_key = api_key
        self.json_schema_supported = json_schema_supported
        self.models = list(models)
        self.default: Responder | Behaviour = schema_stub
        self.requests: list[AIRequest] = []
        self.statuses: list[int | None] = []
        self.interrupted: list[AIRequest] = []
        self.closing = asyncio.Event()
        self._script: deque[Behaviour] = deque()
        self._arrived = asyncio.Event()
        self._server: LocalServer | None = None
        self.port = port  # 0: a free one, known once started

    # --- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> FakeAI:
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=_ALL_METHODS)])
        self._server = LocalServer(app, name="FakeAI", port=self.port)
        self.port = await self._server.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.closing.set()  # wakes hanging requests first, so uvicorn finds nothing in flight
        if self._server is not None:
            await self._server.stop()

    @property
    def base_url(self) -> str:
        """For ``AsyncOpenAI(base_url=...)`` and ``AIMTRACK_AI_BASE_URL``."""
        return f"http://127.0.0.1:{self.port}/v1"

    # --- scripting ------------------------------------------------------------------------

    def script(self, *behaviours: Behaviour) -> None:
        """Queue behaviours; each chat-completions request takes the next one, in order.

        Requests answered before the script is consulted do not take one: a 401 for a wrong
        API key, a 400 for a body that is not JSON, and the 400 of
        ``json_schema_supported=False``.
        """
        for behaviour in behaviours:
            if not isinstance(behaviour, Behaviour):
                msg = f"FakeAI.script takes behaviours (answer(...), fail(...)), not {behaviour!r}"
                raise TypeError(msg)
        self._script.extend(behaviours)

    @property
    def scripted_left(self) -> int:
        """How many scripted behaviours no request has taken yet."""
        return len(self._script)

    def default_behaviour(self) -> Behaviour:
        """:attr:`default` as a behaviour."""
        default = self.default
        return default if isinstance(default, Behaviour) else answer(default)

    # --- recording ------------------------------------------------------------------------

    @property
    def completions(self) -> list[AIRequest]:
        """The chat-completions requests among :attr:`requests`."""
        return [r for r in self.requests if r.path == CHAT_PATH and r.method == "POST"]

    def all_text(self) -> str:
        """Everything every request carried (see :meth:`AIRequest.all_text`), for asserting
        that a value never reached the model."""
        return "\n".join(request.all_text() for request in self.requests)

    async def wait_for_requests(
        self,
        n: int,
        timeout: float = 10,  # noqa: ASYNC109 (a deadline in seconds, as in asyncio.wait_for)
    ) -> list[AIRequest]:
        """Wait until at least ``n`` requests arrived; returns :attr:`requests`."""
        try:
            async with asyncio.timeout(timeout):
                while len(self.requests) < n:
                    self._arrived.clear()
                    await self._arrived.wait()
        except TimeoutError:
            paths = [f"{r.method} {r.path}" for r in self.requests]
            msg = (
                f"FakeAI: {len(self.requests)} of {n} requests arrived within {timeout} s: {paths}"
            )
            raise TimeoutError(msg) from None
        return self.requests

    # --- serving --------------------------------------------------------------------------

    async def _handle(self, http: Request) -> Response:
        raw = await http.body()
        try:
            decoded = json.loads(raw) if raw else {}
        except (UnicodeDecodeError, ValueError):
            decoded = None
        request = AIRequest(
            method=http.method,
            path=http.url.path,
            headers={name.lower(): value for name, value in http.headers.items()},
            body=decoded if isinstance(decoded, dict) else {},
            raw=raw,
        )
        index = len(self.requests)
        self.requests.append(request)
        self.statuses.append(None)
        self._arrived.set()
        response = await self._dispatch(request, parsed=isinstance(decoded, dict))
        self.statuses[index] = response.status_code
        return response

    async def _dispatch(self, request: AIRequest, *, parsed: bool) -> Response:
        if self.api_key is not None and (
            request.headers.get("authorization") != f"Bearer {self.api_key}"
        ):
            return error_response(
                401,
                "Incorrect API key provided. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )
        if request.method == "GET" and request.path == MODELS_PATH:
            return JSONResponse(
                {
                    "object": "list",
                    "data": [
                        {"id": name, "object": "model", "created": 0, "owned_by": "fakeai"}
                        for name in self.models
                    ],
                }
            )
        if request.method != "POST" or request.path != CHAT_PATH:
            return error_response(404, f"Invalid URL ({request.method} {request.path})")
        refusal = self._refusal(request, parsed=parsed)
        if refusal is not None:
            return refusal
        behaviour = self._script.popleft() if self._script else self.default_behaviour()
        return await behaviour.respond(self, request)

    def _refusal(self, request: AIRequest, *, parsed: bool) -> Response | None:
        """The 400 a server sends before it gets to answering, if any."""
        if not parsed:
            return error_response(
                400,
                "We could not parse the JSON body of your request. (HINT: This likely means "
                "you aren't using your HTTP library correctly.)",
            )
        if request.body.get("stream"):
            return error_response(400, "FakeAI does not stream; send stream=false", param="stream")
        if not self.json_schema_supported and _uses_json_schema(request):
            return _json_schema_rejection()
        return None
