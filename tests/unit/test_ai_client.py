"""The AI client's structured-output request, as the stub server receives it.

OpenAI's strict structured outputs refuse (400 "Invalid schema") a schema whose objects allow
extra properties or leave a property out of ``required``, and keywords such as ``minLength``
and ``maxLength``; a refused schema would drop every OpenAI request to ``json_object``. The
limits are still enforced: pydantic validates every answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from aimtrack.ai.client import ModelConfig, OpenAICompatible, OutputMode
from aimtrack.ai.schemas import CoachAnswerOut, InsightOut, ReflectionOut
from aimtrack.core.limits import MAX_AI_FIELD
from tests.helpers.fakeai import FakeAI, answer

NOT_IN_STRICT_MODE = {"minLength", "maxLength", "default"}


@pytest.fixture
async def model() -> AsyncIterator[tuple[FakeAI, OpenAICompatible]]:
    async with FakeAI() as ai:
        client = OpenAICompatible(ModelConfig(base_url=ai.base_url, model="fake-model"))
        try:
            yield ai, client
        finally:
            await client.close()


def _objects(schema: Any) -> Iterator[dict[str, Any]]:
    """Every object (sub)schema, nested ones included."""
    if isinstance(schema, list):
        for item in schema:
            yield from _objects(item)
    elif isinstance(schema, dict):
        if schema.get("type") == "object":
            yield schema
        for value in schema.values():
            yield from _objects(value)


def _keywords(schema: Any) -> Iterator[str]:
    if isinstance(schema, list):
        for item in schema:
            yield from _keywords(item)
    elif isinstance(schema, dict):
        for key, value in schema.items():
            yield key
            yield from _keywords(value.values() if key == "properties" else value)


@pytest.mark.parametrize("form", [ReflectionOut, InsightOut, CoachAnswerOut])
async def test_the_schema_sent_is_valid_for_strict_structured_outputs(
    model: tuple[FakeAI, OpenAICompatible], form: type[BaseModel]
) -> None:
    ai, client = model
    await client.complete([{"role": "user", "content": "?"}], form)

    [request] = ai.completions
    assert request.response_format is not None
    sent = request.response_format["json_schema"]
    assert (sent["name"], sent["strict"]) == (form.__name__, True)
    schema = sent["schema"]
    objects = list(_objects(schema))
    assert objects, schema
    for node in objects:
        assert node["additionalProperties"] is False
        assert sorted(node["required"]) == sorted(node["properties"])
    assert sorted(schema["properties"]) == sorted(form.model_fields)
    assert NOT_IN_STRICT_MODE.isdisjoint(_keywords(schema))
    assert client.mode is OutputMode.JSON_SCHEMA


async def test_the_length_limits_are_still_enforced_on_the_answer(
    model: tuple[FakeAI, OpenAICompatible],
) -> None:
    ai, client = model
    too_long = {
        "trends": "x" * (MAX_AI_FIELD + 1),
        "typical_issues": "  ",  # blank after stripping
        "recommendations": "r",
    }
    ai.script(answer(too_long), answer({**too_long, "trends": "t", "typical_issues": "i"}))

    out = await client.complete([{"role": "user", "content": "?"}], InsightOut)

    assert (out.trends, out.typical_issues) == ("t", "i")
    _first, repair = ai.completions
    assert "did not match the required JSON form" in repair.messages[-1]["content"]
