"""Domain errors: what a transport turns into a clear reply."""

from __future__ import annotations


class AimTrackError(Exception):
    """Base of every error the domain raises on purpose."""


class NotFound(AimTrackError):
    """The row does not exist, or it belongs to somebody else (indistinguishable on purpose)."""

    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"{kind} {ident} not found")
        self.kind = kind
        self.ident = ident


class InvalidInput(AimTrackError):
    """A value is out of range or malformed; ``field`` names it for the reply."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class WeaponInUse(AimTrackError):
    """A weapon with history cannot be deleted; it can be retired."""

    def __init__(self, weapon_id: int, entries: int) -> None:
        super().__init__(f"weapon {weapon_id} has {entries} logged entries; retire it instead")
        self.weapon_id = weapon_id
        self.entries = entries
