"""Transports translate chat-app updates into core inputs and core replies into API calls.

Only modules here may import ``telegram`` (enforced by ruff's banned-api rule).
"""
