"""The one place that talks to a model: any OpenAI-compatible server through the ``openai`` SDK.

Ollama, vLLM, LM Studio and OpenAI all serve ``/v1/chat/completions``; they differ in what
structured output they accept. The client asks for a JSON schema first (``json_schema``,
strict, in the subset strict mode accepts: :func:`strict_schema`), falls back to
``json_object`` and then to plain instructions when the server answers 400 to the
``response_format``, and remembers what worked. Whatever comes back is validated with pydantic
(lengths included); invalid output gets one repair request (the errors are shown to the model)
before the attempt counts as failed.

The SDK's own retries are off (``max_retries=0``): the durable queue retries, with backoff and a
record of every error. Timeouts come from configuration. The SDK costs about a second and tens of
MB to import, so it is imported when a client is made: an AimTrack without an AI server never
loads it.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError

if TYPE_CHECKING:
    import openai

log = logging.getLogger(__name__)

AnswerT = TypeVar("AnswerT", bound=BaseModel)
Message = dict[str, Any]

MAX_ERROR = 300  # characters of a server's error message kept in a job's record
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.IGNORECASE)


class AIError(Exception):
    """One attempt failed. ``retryable`` says whether trying again later can help (a timeout or a
    5xx can; a wrong key or an unknown model cannot until the owner changes the configuration);
    ``retry_after`` is the server's own hint (seconds), honoured by the queue's backoff."""

    def __init__(
        self, message: str, *, retryable: bool = True, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class ChatModel(Protocol):
    """What the coach needs from a model; tests may substitute their own."""

    provider: str
    model: str
    vision: bool

    async def complete(self, messages: list[Message], schema: type[AnswerT]) -> AnswerT: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ModelConfig:
    base_url: str
    model: str
    api_key: str | None = None
    timeout_s: float = 60.0
    vision: bool = False
    provider: str = ""  # shown on every AI row; defaults to the server's host


class OutputMode(StrEnum):
    JSON_SCHEMA = "json_schema"
    JSON_OBJECT = "json_object"
    PLAIN = "plain"


class OpenAICompatible:
    """A :class:`ChatModel` on any OpenAI-compatible server."""

    def __init__(self, config: ModelConfig) -> None:
        self.model = config.model
        self.vision = config.vision
        self.provider = config.provider or provider_name(config.base_url)
        self.mode = OutputMode.JSON_SCHEMA
        import openai  # noqa: PLC0415 -- imported only when an AI server is configured

        self._client = openai.AsyncOpenAI(
            base_url=config.base_url,
            # Local servers need no key, but the SDK insists on one.
            api_key=config.api_key or "no-key",
            timeout=config.timeout_s,
            max_retries=0,
        )

    async def complete(self, messages: list[Message], schema: type[AnswerT]) -> AnswerT:
        content = await self._ask(messages, schema)
        try:
            return parse_answer(content, schema)
        except ValidationError as invalid:
            log.info("model output did not match %s; asking once to repair it", schema.__name__)
            repair = [
                *messages,
                {"role": "assistant", "content": content[:4000]},
                {"role": "user", "content": repair_request(invalid)},
            ]
        content = await self._ask(repair, schema)
        try:
            return parse_answer(content, schema)
        except ValidationError as still_invalid:
            count = still_invalid.error_count()
            msg = f"the model's answer did not match the form after a repair ({count} problems)"
            raise AIError(msg) from None

    async def close(self) -> None:
        await self._client.close()

    async def _ask(self, messages: list[Message], schema: type[BaseModel]) -> str:
        import openai  # noqa: PLC0415 -- loaded by __init__ already

        while True:
            try:
                response = await self._client.chat.completions.create(
                    model=self.model,
                    messages=messages,  # type: ignore[arg-type]
                    temperature=0.3,
                    **_output_options(self.mode, schema),
                )
            except openai.BadRequestError as error:
                if self.mode is OutputMode.PLAIN or not _about_response_format(error):
                    raise _describe(error) from None
                self.mode = (
                    OutputMode.JSON_OBJECT
                    if self.mode is OutputMode.JSON_SCHEMA
                    else OutputMode.PLAIN
                )
                log.info("%s refused the response format; using %s", self.provider, self.mode)
                continue
            except openai.OpenAIError as error:
                raise _describe(error) from None
            except ValueError:  # a 200 that claims JSON but is not (a proxy's page)
                msg = "the AI server sent a response that is not JSON"
                raise AIError(msg) from None
            choices = getattr(response, "choices", None)
            if not choices or not isinstance(choices[0].message.content, str):
                msg = "the server answered without any text"
                raise AIError(msg)
            return choices[0].message.content


def _output_options(mode: OutputMode, schema: type[BaseModel]) -> dict[str, Any]:
    if mode is OutputMode.JSON_SCHEMA:
        return {
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": schema.__name__,
                    "schema": strict_schema(schema),
                    "strict": True,
                },
            }
        }
    if mode is OutputMode.JSON_OBJECT:
        return {"response_format": {"type": "json_object"}}
    return {}


# Keywords OpenAI's strict structured outputs refuse (400 "Invalid schema"). Lengths stay
# enforced where they always were: pydantic validates every answer after it arrives.
_NOT_STRICT = frozenset({"minLength", "maxLength", "default"})


def strict_schema(schema: type[BaseModel]) -> dict[str, Any]:
    """``schema``'s JSON schema in the subset strict structured outputs accept: every object
    says ``additionalProperties: false`` and requires all its properties, and keywords strict
    mode does not support are left out. Servers without strict mode read it as an ordinary
    schema."""
    strict: dict[str, Any] = _strict(schema.model_json_schema())
    return strict


def _strict(node: Any) -> Any:
    """One (sub)schema in strict form; ``properties`` and ``$defs`` map names to subschemas."""
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _NOT_STRICT:
            continue
        if key in {"properties", "$defs"} and isinstance(value, dict):
            out[key] = {name: _strict(sub) for name, sub in value.items()}
        else:
            out[key] = _strict(value)
    if out.get("type") == "object":
        out.setdefault("properties", {})
        out["required"] = list(out["properties"])
        out["additionalProperties"] = False
    return out


def _about_response_format(error: openai.BadRequestError) -> bool:
    text = str(error).lower()
    return any(word in text for word in ("response_format", "json_schema", "json schema"))


def parse_answer(content: str, schema: type[AnswerT]) -> AnswerT:
    """Validate ``content`` against ``schema``, forgiving code fences and chatter around the
    JSON object that servers without structured output like to add."""
    text = _FENCE.sub("", content.strip())
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        text = text[start : end + 1]
    return schema.model_validate_json(text)


def repair_request(invalid: ValidationError) -> str:
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'answer'}: {error['msg']}"
        for error in invalid.errors(include_url=False, include_input=False)[:10]
    )
    return (
        "Your previous answer did not match the required JSON form "
        f"({problems}). Answer again with only one JSON object of that form."
    )


def _describe(error: openai.OpenAIError) -> AIError:  # noqa: PLR0911 -- one line per kind
    """A short, secret-free description and whether retrying can help."""
    import openai  # noqa: PLC0415 -- loaded by the client already

    if isinstance(error, openai.APITimeoutError):
        return AIError("the AI server did not answer in time")
    if isinstance(error, openai.APIConnectionError):
        return AIError("the AI server cannot be reached")
    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        detail = _server_message(error)
        if status == 429:
            return AIError(
                f"the AI server is busy (429): {detail}", retry_after=_retry_after(error)
            )
        if status >= 500:
            return AIError(f"the AI server failed ({status}): {detail}")
        if status in {408, 409}:
            return AIError(f"the AI server asked to try again ({status}): {detail}")
        return AIError(f"the AI server refused the request ({status}): {detail}", retryable=False)
    return AIError(f"the AI request failed: {type(error).__name__}")


def _server_message(error: openai.APIStatusError) -> str:
    body = error.body
    message: object = None
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
    text = str(message or error.message or "").strip().replace("\n", " ")
    return text[:MAX_ERROR] or "no details"


def _retry_after(error: openai.APIStatusError) -> float | None:
    value = error.response.headers.get("retry-after")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 <= seconds <= 3600 else None


def provider_name(base_url: str) -> str:
    """``ollama@localhost:11434``-like names are too clever; the host (and port) says enough."""
    parts = urlsplit(base_url)
    return parts.netloc.rpartition("@")[2] or base_url


def dumps(data: object) -> str:
    """Compact JSON for prompts: non-ASCII kept (Dutch text), no spaces to spend tokens on."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
