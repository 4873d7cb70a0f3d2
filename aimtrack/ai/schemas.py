"""What the model must answer, as pydantic models: the JSON schema sent to the server and the
validator of whatever comes back (a schema-following server can still send nonsense)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from aimtrack.core.limits import MAX_AI_ANSWER, MAX_AI_FIELD

Field = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_AI_FIELD)
]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ReflectionOut(_Answer):
    """A reflection on one session."""

    summary: Field
    went_well: Field
    needs_improvement: Field
    next_focus: Field


class InsightOut(_Answer):
    """Trends of one weapon over the shooter's history."""

    trends: Field
    typical_issues: Field
    recommendations: Field


class CoachAnswerOut(_Answer):
    """The coach's answer to a free question."""

    answer: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_AI_ANSWER)
    ]
