"""The fake OpenAI-compatible server, driven by the real ``openai`` SDK over real HTTP.

These tests pin both what the fake answers and what SDK 3.x makes of it (which exception, which
return value), since the AI client's error handling is written against exactly that.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import AsyncIterator
from typing import Any, Literal

import openai
import pytest
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, Field

from aimtrack.ai.schemas import CoachAnswerOut, InsightOut, ReflectionOut
from tests.helpers.fakeai import (
    NOT_JSON,
    PROXY_ERROR_PAGE,
    AIRequest,
    FakeAI,
    answer,
    fail,
    garbage_http,
    hang,
    invalid_json,
    reject_json_schema,
    schema_stub,
)

MODEL = "qwen2.5:7b-instruct"
JPEG_DATA_URL = "data:image/jpeg;base64,/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//2Q=="

# Posts one chat-completions request with nothing but the standard library and prints the reply.
CHILD = """
import json, sys, urllib.request
body = {"model": "child-model", "messages": [{"role": "user", "content": "from the child"}]}
request = urllib.request.Request(
    sys.argv[1] + "/chat/completions",
    data=json.dumps(body).encode(),
    headers={"Content-Type": "application/json", "Authorization": "Bearer test"},
)
with urllib.request.urlopen(request, timeout=30) as response:
    print(json.loads(response.read())["choices"][0]["message"]["content"])
"""


def schema_format(model: type[BaseModel]) -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {
            "name": model.__name__,
            "schema": model.model_json_schema(),
            "strict": True,
        },
    }


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


@pytest.fixture
async def client(ai: FakeAI) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        base_url=ai.base_url, api_key="test", max_retries=0, timeout=5
    ) as sdk:
        yield sdk


async def ask(client: openai.AsyncOpenAI, text: str = "Hoe ging het?", **options: Any) -> str:
    completion = await client.chat.completions.create(model=MODEL, messages=user(text), **options)
    assert isinstance(completion, ChatCompletion)
    assert isinstance(completion.choices[0].message.content, str)
    return completion.choices[0].message.content


# --- answers --------------------------------------------------------------------------------


async def test_answer_round_trips_and_records_the_request(
    ai: FakeAI, client: openai.AsyncOpenAI
) -> None:
    reflection = ReflectionOut(
        summary="Rustige serie",
        went_well="Ademhaling",
        needs_improvement="Trekkervinger",
        next_focus="Droogtraining",
    )
    ai.script(answer(reflection))
    messages = [
        {"role": "system", "content": "Je bent een schietcoach."},
        {"role": "user", "content": "Sessie: 10 schoten, 87 punten."},
    ]

    completion = await client.chat.completions.create(
        model=MODEL, messages=messages, response_format=schema_format(ReflectionOut)
    )

    assert completion.model == MODEL
    assert completion.choices[0].finish_reason == "stop"
    assert completion.choices[0].message.role == "assistant"
    assert completion.usage is not None
    assert completion.usage.total_tokens > 0
    content = completion.choices[0].message.content
    assert content is not None
    assert ReflectionOut.model_validate_json(content) == reflection
    [request] = ai.requests
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.headers["authorization"] == "Bearer test"
    assert request.model == MODEL
    assert request.messages == messages
    assert request.response_format == schema_format(ReflectionOut)
    assert request.schema == ReflectionOut.model_json_schema()
    assert json.loads(request.raw) == request.body
    assert ai.statuses == [200]


async def test_answer_sends_a_dict_as_json_and_computes_callables(
    ai: FakeAI, client: openai.AsyncOpenAI
) -> None:
    ai.script(answer({"answer": "ja", "score": 9}), answer(lambda r: {"echo": r.text}))

    assert json.loads(await ask(client)) == {"answer": "ja", "score": 9}
    assert json.loads(await ask(client, "ping")) == {"echo": "ping"}


async def test_default_satisfies_the_schema_sent(ai: FakeAI, client: openai.AsyncOpenAI) -> None:
    content = await ask(client, response_format=schema_format(ReflectionOut))

    reflection = ReflectionOut.model_validate_json(content)
    assert reflection.summary == "stub summary"
    assert reflection.next_focus == "stub next_focus"
    assert ai.scripted_left == 0


class Shot(BaseModel):
    ring: int = Field(ge=1, le=10)
    note: str | None


class Tricky(BaseModel):
    """Constraints the stub has to respect: lengths, enums, nesting, arrays, optionals."""

    long_text: str = Field(min_length=40)
    short_text: str = Field(max_length=3)
    stance: Literal["staand", "knielend", "liggend"]
    shots: list[Shot] = Field(min_length=2)
    score: float = Field(gt=0)
    done: bool
    comment: str | None = None


@pytest.mark.parametrize("model", [ReflectionOut, InsightOut, CoachAnswerOut, Tricky])
def test_schema_stub_validates_against_the_model(model: type[BaseModel]) -> None:
    body = {"model": MODEL, "messages": user("x"), "response_format": schema_format(model)}
    request = AIRequest("POST", "/v1/chat/completions", {}, body, json.dumps(body).encode())

    model.model_validate_json(json.dumps(schema_stub(request)))


async def test_default_without_schema_and_replaced_default(
    ai: FakeAI, client: openai.AsyncOpenAI
) -> None:
    assert json.loads(await ask(client)) == {"answer": "stub answer"}
    assert json.loads(await ask(client, response_format={"type": "json_object"})) == {
        "answer": "stub answer"
    }

    ai.default = lambda request: {"summary": f"over: {request.text}"}
    assert json.loads(await ask(client, "sessie 3")) == {"summary": "over: sessie 3"}

    ai.default = fail(503, "model is loading")
    with pytest.raises(openai.InternalServerError, match="model is loading"):
        await ask(client)
    with pytest.raises(openai.InternalServerError):
        await ask(client)


async def test_script_is_fifo_then_falls_back_to_default(
    ai: FakeAI, client: openai.AsyncOpenAI
) -> None:
    ai.script(answer("een"), fail(500))
    ai.script(answer("twee"))
    ai.default = lambda _request: "standaard"

    assert await ask(client) == "een"
    with pytest.raises(openai.InternalServerError):
        await ask(client)
    assert ai.scripted_left == 1
    assert await ask(client) == "twee"
    assert await ask(client) == "standaard"
    assert ai.statuses == [200, 500, 200, 200]
    with pytest.raises(TypeError, match="behaviours"):
        ai.script("een")  # type: ignore[arg-type]


# --- failures -------------------------------------------------------------------------------


async def test_500_raises_internal_server_error_with_openai_error_body(
    ai: FakeAI, client: openai.AsyncOpenAI
) -> None:
    ai.script(fail(500, "boom"))

    with pytest.raises(openai.InternalServerError) as raised:
        await ask(client)

    assert raised.value.status_code == 500
    assert raised.value.body == {
        "message": "boom",
        "type": "server_error",
        "param": None,
        "code": None,
    }


async def test_429_with_retry_after_raises_rate_limit_error_with_the_header(
    ai: FakeAI, client: openai.AsyncOpenAI
) -> None:
    ai.script(fail(429, "Rate limit reached", retry_after=1.5), fail(429))

    with pytest.raises(openai.RateLimitError) as raised:
        await ask(client)
    assert raised.value.response.headers["retry-after"] == "1.5"

    with pytest.raises(openai.RateLimitError) as without_hint:
        await ask(client)
    assert "retry-after" not in without_hint.value.response.headers


async def test_server_without_json_schema_refuses_it_but_serves_json_object() -> None:
    async with (
        FakeAI(json_schema_supported=False) as ai,
        openai.AsyncOpenAI(base_url=ai.base_url, api_key="t", max_retries=0) as client,
    ):
        ai.script(answer({"summary": "uit het script"}))

        with pytest.raises(openai.BadRequestError, match="json_schema") as raised:
            await ask(client, response_format=schema_format(ReflectionOut))
        assert raised.value.param == "response_format"
        assert ai.scripted_left == 1  # refused before the script was consulted

        content = await ask(client, response_format={"type": "json_object"})
        assert json.loads(content) == {"summary": "uit het script"}
        assert [r.response_format for r in ai.requests] == [
            schema_format(ReflectionOut),
            {"type": "json_object"},
        ]


async def test_reject_json_schema_behaviour(ai: FakeAI, client: openai.AsyncOpenAI) -> None:
    ai.script(reject_json_schema(), reject_json_schema())

    with pytest.raises(openai.BadRequestError, match="json_schema"):
        await ask(client, response_format=schema_format(ReflectionOut))
    assert json.loads(await ask(client, response_format={"type": "json_object"})) == {
        "answer": "stub answer"
    }
    ReflectionOut.model_validate_json(
        await ask(client, response_format=schema_format(ReflectionOut))
    )


async def test_wrong_api_key_raises_authentication_error() -> None:
    async with FakeAI(api_key="geheim") as ai:
        ai.script(answer("voor de juiste sleutel"))
        async with openai.AsyncOpenAI(base_url=ai.base_url, api_key="fout", max_retries=0) as bad:
            with pytest.raises(openai.AuthenticationError) as raised:
                await ask(bad)
        assert raised.value.code == "invalid_api_key"
        async with openai.AsyncOpenAI(
            base_url=ai.base_url, api_key="geheim", max_retries=0
        ) as good:
            assert await ask(good) == "voor de juiste sleutel"
        assert ai.statuses == [401, 200]


async def test_models_list_and_unknown_paths(client: openai.AsyncOpenAI, ai: FakeAI) -> None:
    models = [model.id async for model in client.models.list()]
    assert models == ["fake-model"]

    with pytest.raises(openai.NotFoundError) as raised:
        await client.embeddings.create(model=MODEL, input="x")
    assert raised.value.body == {
        "message": "Invalid URL (POST /v1/embeddings)",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    assert [(r.method, r.path) for r in ai.requests] == [
        ("GET", "/v1/models"),
        ("POST", "/v1/embeddings"),
    ]
    assert ai.completions == []


# --- hangs ----------------------------------------------------------------------------------


async def test_hang_beyond_the_client_timeout_and_a_prompt_teardown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="uvicorn")
    async with FakeAI() as ai:
        ai.script(hang(60), hang(0.05, then=answer("na het wachten")))
        async with openai.AsyncOpenAI(
            base_url=ai.base_url, api_key="t", max_retries=0, timeout=0.3
        ) as client:
            with pytest.raises(openai.APITimeoutError):
                await ask(client)
            assert await ask(client) == "na het wachten"
        assert ai.statuses == [None, 200]  # the first one is still hanging

    # Closing cut the hang short instead of uvicorn's graceful-shutdown timeout cancelling it.
    assert ai.interrupted == [ai.requests[0]]
    assert ai.statuses == [503, 200]
    assert not [r for r in caplog.records if "graceful shutdown" in r.getMessage()]


# --- broken output --------------------------------------------------------------------------


async def test_invalid_json_is_a_normal_completion_with_prose(
    ai: FakeAI, client: openai.AsyncOpenAI
) -> None:
    ai.script(invalid_json())

    content = await ask(client, response_format=schema_format(ReflectionOut))

    assert content == NOT_JSON
    with pytest.raises(json.JSONDecodeError):
        json.loads(content)


async def test_garbage_http_as_the_sdk_sees_it(ai: FakeAI, client: openai.AsyncOpenAI) -> None:
    """SDK 3.x does not raise on a 200 HTML page: ``create()`` returns the page as a ``str``
    (unless ``_strict_response_validation``); a 200 "JSON" body that is not JSON escapes as a
    bare ``json.JSONDecodeError``; an HTML error status is an ordinary status error."""
    ai.script(
        garbage_http(),
        garbage_http(),
        garbage_http("<html>oops", content_type="application/json"),
        garbage_http(status=502),
    )

    returned: object = await client.chat.completions.create(model=MODEL, messages=user("x"))
    assert returned == PROXY_ERROR_PAGE

    async with openai.AsyncOpenAI(
        base_url=ai.base_url, api_key="t", max_retries=0, _strict_response_validation=True
    ) as strict:
        with pytest.raises(openai.APIResponseValidationError, match="text/html"):
            await strict.chat.completions.create(model=MODEL, messages=user("x"))

    with pytest.raises(json.JSONDecodeError):
        await client.chat.completions.create(model=MODEL, messages=user("x"))

    with pytest.raises(openai.InternalServerError) as raised:
        await client.chat.completions.create(model=MODEL, messages=user("x"))
    assert raised.value.status_code == 502


# --- what the model was shown ---------------------------------------------------------------


async def test_images_are_exposed(ai: FakeAI, client: openai.AsyncOpenAI) -> None:
    await client.chat.completions.create(
        model=MODEL,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Wat zie je op deze kaart?"},
                    {"type": "image_url", "image_url": {"url": JPEG_DATA_URL}},
                    {"type": "image_url", "image_url": {"url": JPEG_DATA_URL + "AA"}},
                ],
            }
        ],
    )

    [request] = ai.requests
    assert request.images == [JPEG_DATA_URL, JPEG_DATA_URL + "AA"]
    assert request.text == "Wat zie je op deze kaart?"


async def test_text_and_all_text_hold_everything_sent(
    ai: FakeAI, client: openai.AsyncOpenAI
) -> None:
    await client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "SYSTEEM-PROMPT"},
            {"role": "user", "content": [{"type": "text", "text": "DEEL-TEKST"}]},
            {"role": "assistant", "content": "EERDER-ANTWOORD"},
        ],
        user="VERBORGEN-VELD",
    )
    await ask(client, 'naam "Ésther"\nregel twee')

    first, second = ai.requests
    for piece in ("SYSTEEM-PROMPT", "DEEL-TEKST", "EERDER-ANTWOORD"):
        assert piece in first.text
        assert piece in ai.all_text()
    # .text is message text only; all_text() also finds fields the helper knows nothing of ...
    assert "VERBORGEN-VELD" not in first.text
    assert "VERBORGEN-VELD" in ai.all_text()
    # ... and values JSON had to escape.
    assert second.text == 'naam "Ésther"\nregel twee'
    assert 'naam "Ésther"\nregel twee' in ai.all_text()
    assert "nooit verstuurd" not in ai.all_text()


# --- lifecycle ------------------------------------------------------------------------------


async def test_wait_for_requests(ai: FakeAI, client: openai.AsyncOpenAI) -> None:
    with pytest.raises(TimeoutError, match="0 of 1 requests"):
        await ai.wait_for_requests(1, timeout=0.05)

    pending = asyncio.create_task(ai.wait_for_requests(2))
    await ask(client)
    await ask(client)

    assert await pending == ai.requests
    assert len(ai.requests) == 2


async def test_another_process_can_talk_to_it_and_die_mid_request(
    ai: FakeAI, client: openai.AsyncOpenAI
) -> None:
    ai.script(answer("hallo kind"), hang(60))

    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, ai.base_url, stdout=asyncio.subprocess.PIPE
    )
    stdout, _ = await child.communicate()
    assert child.returncode == 0
    assert stdout.decode().strip() == "hallo kind"
    assert ai.requests[0].model == "child-model"

    # A worker killed with -9 while its request hangs: the fake keeps serving others.
    victim = await asyncio.create_subprocess_exec(sys.executable, "-c", CHILD, ai.base_url)
    await ai.wait_for_requests(2)
    victim.kill()
    await victim.wait()

    assert json.loads(await ask(client)) == {"answer": "stub answer"}
    assert ai.statuses == [200, None, 200]
