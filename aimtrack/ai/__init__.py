"""AI: the OpenAI-compatible client (the only ``import openai``), prompts, the statistics
fallback and the durable job worker."""
