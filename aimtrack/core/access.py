"""Who may talk to AimTrack besides the users the owner allowed in the database: the ids in
the configuration (``AIMTRACK_ALLOWED_USERS``) and whoever runs the console chat."""

from __future__ import annotations

from dataclasses import dataclass

from aimtrack.core.model import Transport


@dataclass(frozen=True, slots=True)
class Access:
    telegram_ids: frozenset[int] = frozenset()
    console: bool = True  # whoever runs `aimtrack chat` on the machine owns the data

    def grants(self, transport: Transport, external_id: str) -> bool:
        """Whether this identity may talk to AimTrack whatever the database says."""
        if transport == Transport.CONSOLE:
            return self.console
        if transport == Transport.TELEGRAM and external_id.isascii() and external_id.isdecimal():
            return int(external_id) in self.telegram_ids
        return False
