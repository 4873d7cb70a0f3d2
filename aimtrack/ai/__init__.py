"""AI: the OpenAI-compatible client (the only ``import openai``), prompts and the durable job
worker. Serial numbers and storage locations never enter a prompt. (Built by the AI work.)
"""
