"""Persistence: ORM tables, the engine, user-scoped repositories and migrations.

ORM rows never leave this package; callers get the dataclasses of :mod:`aimtrack.core.model`.
"""
