"""AI: the OpenAI-compatible client (the only ``import openai``), the coach that turns facts
into prompts and validated answers, the prompts, the answer schemas and the photos sent to a
model that can see. Where the facts come from and what happens to the answers is the jobs'
business (:mod:`aimtrack.jobs`)."""
