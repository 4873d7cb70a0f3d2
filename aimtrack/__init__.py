"""AimTrack: a self-hosted, privacy-first shooting log you talk to."""

__version__ = "0.1.0"
