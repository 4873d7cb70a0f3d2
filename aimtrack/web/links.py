"""Signed one-time links to the web page, the session cookie they turn into, and CSRF tokens.

Everything is HMAC-SHA256 with keys derived from ``AIMTRACK_SECRET_KEY``, one per purpose, so a
value signed for one purpose (a link) is worthless for another (a cookie). Standard library
only: the chat flow that hands out links imports this too.

A link is ``<payload>.<signature>``, both base64url: the payload names the user (internal id),
the moment it expires and a random nonce; the web page records the nonce when the link is
exchanged, so it works once. A session cookie has the same shape with its own key and no
record: it simply expires.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

LINK_TTL: Final = timedelta(minutes=15)
SESSION_TTL: Final = timedelta(minutes=30)
_NONCE_BYTES: Final = 16
_MAX_TOKEN: Final = 400  # a longer token is not one of ours; refuse before any work
_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class BadLink(Exception):
    """A link or cookie that is not ours, or was changed (HTTP 403)."""


class ExpiredLink(Exception):
    """A genuine link whose time is up (HTTP 410); ``user_id`` is whose it was."""

    def __init__(self, user_id: int) -> None:
        super().__init__("the link has expired")
        self.user_id = user_id


@dataclass(frozen=True, slots=True)
class Signed:
    """What a valid link or session cookie says."""

    user_id: int
    expires_at: datetime
    nonce: str


def derive_key(secret_key: str, purpose: str) -> bytes:
    """A key for one purpose, derived from the installation's secret key."""
    return hmac.new(secret_key.encode(), f"aimtrack/{purpose}".encode(), hashlib.sha256).digest()


class Signer:
    """Signs and checks ``user_id.expiry.nonce`` payloads with one purpose's key."""

    def __init__(self, secret_key: str, purpose: str, ttl: timedelta) -> None:
        self._key = derive_key(secret_key, purpose)
        self.ttl = ttl

    def issue(self, user_id: int, *, now: datetime) -> tuple[str, Signed]:
        expires = int((now + self.ttl).timestamp())
        nonce = secrets.token_urlsafe(_NONCE_BYTES)
        payload = f"{user_id}.{expires}.{nonce}".encode()
        token = f"{_b64(payload)}.{_b64(self._sign(payload))}"
        return token, Signed(user_id, datetime.fromtimestamp(expires, UTC), nonce)

    def read(self, token: str, *, now: datetime) -> Signed:
        """What ``token`` says; :class:`BadLink` when it is not genuine, :class:`ExpiredLink`
        when it is but its time is up."""
        if len(token) > _MAX_TOKEN or not _TOKEN.fullmatch(token):
            raise BadLink
        encoded, _, signature = token.partition(".")
        payload, given = _unb64(encoded), _unb64(signature)
        # Only the canonical spelling: base64's spare bits must not give one link two forms.
        if _b64(payload) != encoded or _b64(given) != signature:
            raise BadLink
        if not hmac.compare_digest(self._sign(payload), given):
            raise BadLink
        try:
            user, expires, nonce = payload.decode("ascii").split(".")
            signed = Signed(int(user), datetime.fromtimestamp(int(expires), UTC), nonce)
        except (UnicodeDecodeError, ValueError, OverflowError, OSError):
            raise BadLink from None  # signed by us, yet malformed: never expected
        if now >= signed.expires_at:
            raise ExpiredLink(signed.user_id)
        return signed

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()


class WebKeys:
    """The web page's signers: one-time links, session cookies and CSRF tokens."""

    def __init__(self, secret_key: str) -> None:
        self.links = Signer(secret_key, "web-link", LINK_TTL)
        self.sessions = Signer(secret_key, "web-session", SESSION_TTL)
        self._csrf = derive_key(secret_key, "web-csrf")

    def csrf_token(self, session_cookie: str) -> str:
        """The form token of one session: an HMAC of its cookie."""
        return hmac.new(self._csrf, session_cookie.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session_cookie: str, token: str) -> bool:
        return hmac.compare_digest(self.csrf_token(session_cookie).encode(), token.encode())


class LinkIssuer:
    """Hands out the one-time link the /web chat command shows."""

    def __init__(self, keys: WebKeys, base_url: str) -> None:
        self._keys = keys
        self.base_url = base_url.rstrip("/")

    def link_for(self, user_id: int, *, now: datetime) -> str:
        token, _ = self._keys.links.issue(user_id, now=now)
        return f"{self.base_url}/web/{token}"


def base_url(public_url: str | None, host: str, port: int) -> str:
    """Where users reach the web page: the public URL, or the address it listens on."""
    if public_url:
        return public_url.rstrip("/")
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise BadLink from None
