"""The conversation core: flows as state machines that take inputs and return replies as data.

It decides what to say and what to store; it imports no ``telegram``. Transports live in
:mod:`aimtrack.bot.transports`. (Built by the chat bot work; empty in the foundation.)
"""
