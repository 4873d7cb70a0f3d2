"""ShooterCoach: reflections, weapon insights and coach answers from a :class:`ChatModel`.

The coach only turns facts into prompts and validated answers; where the facts come from (the
shooter's own records) and what happens to the answers (saved, pushed as a message) is the job
handlers' business.
"""

from __future__ import annotations

from aimtrack.ai import prompts
from aimtrack.ai.client import ChatModel
from aimtrack.ai.schemas import CoachAnswerOut, InsightOut, ReflectionOut
from aimtrack.core.model import AnswerText, InsightText, ReflectionText


class ShooterCoach:
    def __init__(self, model: ChatModel) -> None:
        self.model = model

    @property
    def provider(self) -> str:
        return self.model.provider

    @property
    def model_name(self) -> str:
        return self.model.model

    @property
    def vision(self) -> bool:
        return self.model.vision

    async def reflect(self, facts: prompts.ReflectionFacts) -> ReflectionText:
        messages = prompts.reflection_messages(facts, ReflectionOut)
        return ReflectionText(**(await self.model.complete(messages, ReflectionOut)).model_dump())

    async def weapon_insight(self, facts: prompts.InsightFacts) -> InsightText:
        messages = prompts.insight_messages(facts, InsightOut)
        return InsightText(**(await self.model.complete(messages, InsightOut)).model_dump())

    async def answer(self, facts: prompts.QuestionFacts) -> AnswerText:
        messages = prompts.question_messages(facts, CoachAnswerOut)
        return AnswerText(**(await self.model.complete(messages, CoachAnswerOut)).model_dump())

    async def close(self) -> None:
        await self.model.close()
