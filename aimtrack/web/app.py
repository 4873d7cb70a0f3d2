"""The Starlette app: ``/health``, the Telegram webhook and the signed export page.

It runs in the bot's own event loop and process (:mod:`aimtrack.web.server`). Routes:

- ``GET /health``: JSON; 503 when the database cannot be reached.
- ``POST /telegram``: webhook updates, when the Telegram transport opened :class:`Webhook`.
- ``GET /web/<token>``: exchanges a one-time link for a session cookie, then 303 to ``/web``.
- ``GET /web``: the user's sessions (``?page=N``) and the export form.
- ``POST /web/export``: the register as a CSV or PDF download.

Every response carries the security headers of :data:`SECURITY_HEADERS`. Links and cookies
never reach a log: nothing here logs a path, a token or a cookie.
"""

from __future__ import annotations

import hmac
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final
from urllib.parse import parse_qs

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aimtrack.bot.io import Deliver
from aimtrack.core.clock import Clock
from aimtrack.core.errors import NotFound
from aimtrack.core.i18n import Translator
from aimtrack.core.model import Language, Profile
from aimtrack.core.register import local_today
from aimtrack.exports.service import ExportRequest, export_register
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import ProfileRepo, SessionRepo, UserDirectory, WeaponRepo, WebLinkLog
from aimtrack.web import pages
from aimtrack.web.forms import FormError, read_export_form
from aimtrack.web.health import TelegramStatus, health_report
from aimtrack.web.links import BadLink, ExpiredLink, WebKeys

log = logging.getLogger(__name__)

COOKIE: Final = "aimtrack_web"
PAGE_SIZE: Final = 20
MAX_PAGE: Final = 100_000
MAX_FORM_BYTES: Final = 64 * 1024
MAX_UPDATE_BYTES: Final = 1024 * 1024
SECRET_HEADER: Final = "x-telegram-bot-api-secret-token"  # noqa: S105 -- a header name
SECURITY_HEADERS: Final = {
    "content-security-policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
        " frame-ancestors 'none'; base-uri 'none'"
    ),
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
}


@dataclass(slots=True)
class Webhook:
    """Where ``POST /telegram`` delivers updates: closed (404) until the transport opens it
    with the secret token Telegram sends along and a function that queues an update
    (which raises ``ValueError`` for one it cannot read)."""

    secret: str | None = None
    deliver: Deliver | None = field(default=None, repr=False)

    def open(self, secret: str, deliver: Deliver) -> None:
        self.secret, self.deliver = secret, deliver

    def close(self) -> None:
        self.secret, self.deliver = None, None


@dataclass(frozen=True, slots=True)
class WebConfig:
    secure_cookies: bool = False  # Secure on the cookie: the public URL is https
    language: Language = Language.NL  # pages for someone not known (yet)
    allowed_telegram_ids: frozenset[int] = frozenset()  # AIMTRACK_ALLOWED_USERS


class SecurityHeaders:
    """ASGI wrapper that sets the security headers on every response, errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass(frozen=True, slots=True)
class _Viewer:
    profile: Profile
    cookie: str
    t: Translator


class _TooLarge(Exception):
    pass


class WebPage:
    def __init__(
        self,
        db: Database,
        *,
        clock: Clock,
        keys: WebKeys | None,
        config: WebConfig,
        telegram: TelegramStatus | None = None,
        webhook: Webhook | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.keys = keys
        self.config = config
        self.telegram = telegram
        self.webhook = webhook

    def routes(self) -> list[Route]:
        return [
            Route("/health", self.health, methods=["GET"]),
            Route("/telegram", self.telegram_update, methods=["POST"]),
            Route("/web", self.page, methods=["GET"]),
            Route("/web/export", self.export, methods=["POST"]),
            Route("/web/static/style.css", self.stylesheet, methods=["GET"]),
            Route("/web/{token}", self.exchange, methods=["GET"]),
        ]

    # --- health and webhook -------------------------------------------------------------

    async def health(self, _request: Request) -> Response:
        status, body = await health_report(self.db, self.telegram, now=self.clock.now())
        return JSONResponse(body, status_code=status)

    async def telegram_update(self, request: Request) -> Response:
        hook = self.webhook
        if hook is None or hook.secret is None or hook.deliver is None:
            return Response(status_code=404)
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), hook.secret.encode()):
            return Response(status_code=403)
        try:
            data = json.loads(await _body(request, MAX_UPDATE_BYTES))
            if not isinstance(data, dict):
                raise ValueError("not an update")
            await hook.deliver(data)
        except _TooLarge:
            return Response(status_code=413)
        except (ValueError, ClientDisconnect):
            log.warning("refused a webhook update that cannot be read")
            return Response(status_code=400)
        if self.telegram is not None:
            self.telegram.record_ok()
        return Response(status_code=200)

    # --- the page ------------------------------------------------------------------------

    async def stylesheet(self, _request: Request) -> Response:
        return Response(pages.CSS, media_type="text/css; charset=utf-8")

    async def exchange(self, request: Request) -> Response:
        t = pages.translator(self.config.language)
        if self.keys is None:
            return _page(pages.message_page(t, "not_set_up"), 404)
        now = self.clock.now()
        try:
            link = self.keys.links.read(request.path_params["token"], now=now)
        except BadLink:
            log.info("web: refused a link with a bad signature")
            return _page(pages.message_page(t, "link.bad"), 403)
        except ExpiredLink as expired:
            log.info("web: refused an expired link of user %s", expired.user_id)
            t = await self._translator_of(expired.user_id)
            return _page(pages.message_page(t, "link.expired"), 410)
        async with self.db.transaction() as session:
            profile = await self._allowed_profile(session, link.user_id)
            if profile is None:
                log.info("web: refused a link of user %s, who is not allowed", link.user_id)
                return _page(pages.message_page(t, "link.refused"), 403)
            t = pages.translator(profile.language)
            links = WebLinkLog(session)
            await links.prune(now=now)
            fresh = await links.use(
                link.nonce, user_id=link.user_id, expires_at=link.expires_at, now=now
            )
        if not fresh:
            log.info("web: refused a used link of user %s", link.user_id)
            return _page(pages.message_page(t, "link.used"), 410)
        cookie, _ = self.keys.sessions.issue(link.user_id, now=now)
        response = RedirectResponse("/web", status_code=303)
        response.set_cookie(
            COOKIE,
            cookie,
            max_age=int(self.keys.sessions.ttl.total_seconds()),
            path="/web",
            secure=self.config.secure_cookies,
            httponly=True,
            samesite="strict",
        )
        log.info("web: user %s opened the web page", link.user_id)
        return response

    async def page(self, request: Request) -> Response:
        viewer = await self._viewer(request)
        if isinstance(viewer, Response):
            return viewer
        t = viewer.t
        raw_page = request.query_params.get("page", "1")
        digits = raw_page.isascii() and raw_page.isdecimal() and len(raw_page) <= len(str(MAX_PAGE))
        if not (digits and 1 <= int(raw_page) <= MAX_PAGE):
            return _page(pages.message_page(t, "form.page", back=True), 400)
        number = int(raw_page)
        user_id = viewer.profile.user_id
        async with self.db.transaction(read_only=True) as session:
            found = await SessionRepo(session, user_id).list_sessions(
                limit=PAGE_SIZE + 1, offset=(number - 1) * PAGE_SIZE
            )
            weapons = await WeaponRepo(session, user_id).list_weapons(include_retired=True)
        assert self.keys is not None  # noqa: S101 -- _viewer checked
        data = pages.PageData(
            sessions=found[:PAGE_SIZE],
            weapons=weapons,
            page=number,
            has_older=len(found) > PAGE_SIZE,
            csrf=self.keys.csrf_token(viewer.cookie),
            today=local_today(viewer.profile, self.clock.now()),
        )
        return _page(pages.main_page(t, data), 200)

    async def export(self, request: Request) -> Response:
        viewer = await self._viewer(request)
        if isinstance(viewer, Response):
            return viewer
        now = self.clock.now()
        wanted = await self._export_request(request, viewer, now=now)
        if isinstance(wanted, Response):
            return wanted
        try:
            file = await export_register(self.db, viewer.profile.user_id, wanted, now=now)
        except NotFound:
            log.info("web: user %s asked to export a weapon not theirs", viewer.profile.user_id)
            return _page(pages.message_page(viewer.t, "weapon.not_yours", back=True), 403)
        disposition = f'attachment; filename="{file.name}"'
        return Response(
            file.content, media_type=file.mime, headers={"content-disposition": disposition}
        )

    async def _export_request(
        self, request: Request, viewer: _Viewer, *, now: datetime
    ) -> ExportRequest | Response:
        """The form, checked: its CSRF token, then what it asks for."""
        t = viewer.t
        try:
            fields = _form(await _body(request, MAX_FORM_BYTES))
        except _TooLarge:
            return _page(pages.message_page(t, "too_large", back=True), 413)
        except (ValueError, ClientDisconnect):
            return _page(pages.message_page(t, "csrf", back=True), 400)
        assert self.keys is not None  # noqa: S101 -- _viewer checked
        csrf = fields.get("csrf", [""])
        if len(csrf) != 1 or not self.keys.csrf_ok(viewer.cookie, csrf[0]):
            return _page(pages.message_page(t, "csrf", back=True), 403)
        try:
            return read_export_form(fields, today=local_today(viewer.profile, now))
        except FormError as error:
            return _page(pages.message_page(t, error.key, back=True, **error.values), 400)

    # --- who is asking ---------------------------------------------------------------------

    async def _viewer(self, request: Request) -> _Viewer | Response:
        t = pages.translator(self.config.language)
        if self.keys is None:
            return _page(pages.message_page(t, "not_set_up"), 404)
        cookie = request.cookies.get(COOKIE, "")
        try:
            signed = self.keys.sessions.read(cookie, now=self.clock.now())
        except (BadLink, ExpiredLink):
            if request.method == "GET" and request.headers.get("sec-fetch-site") == "cross-site":
                # A link clicked on another site (Telegram Web): the browser withholds the
                # SameSite=Strict cookie for the whole navigation, the 303 included. Load the
                # page once more from our own origin, where it is sent.
                return _page(pages.reload_page(t, "/web"), 200)
            return _page(pages.message_page(t, "session.none"), 401)
        async with self.db.transaction(read_only=True) as session:
            profile = await self._allowed_profile(session, signed.user_id)
        if profile is None:
            return _page(pages.message_page(t, "link.refused"), 403)
        return _Viewer(profile, cookie, pages.translator(profile.language))

    async def _allowed_profile(self, session: AsyncSession, user_id: int) -> Profile | None:
        """The user's profile while the chat would still serve them: allowed by the owner
        (``aimtrack users allow``) or by ``AIMTRACK_ALLOWED_USERS``."""
        try:
            profile = await ProfileRepo(session, user_id).get()
        except NotFound:
            return None
        if profile.is_allowed:
            return profile
        if self.config.allowed_telegram_ids:
            for account in await UserDirectory(session).list_users():
                if account.user_id == user_id:
                    tid = account.telegram_id
                    return profile if tid in self.config.allowed_telegram_ids else None
        return None

    async def _translator_of(self, user_id: int) -> Translator:
        async with self.db.transaction(read_only=True) as session:
            try:
                profile = await ProfileRepo(session, user_id).get()
            except NotFound:
                return pages.translator(self.config.language)
        return pages.translator(profile.language)


def build_app(
    db: Database,
    *,
    clock: Clock,
    keys: WebKeys | None,
    config: WebConfig | None = None,
    telegram: TelegramStatus | None = None,
    webhook: Webhook | None = None,
) -> ASGIApp:
    web = WebPage(
        db, clock=clock, keys=keys, config=config or WebConfig(), telegram=telegram, webhook=webhook
    )
    t = pages.translator(web.config.language)

    async def not_found(_request: Request, _exc: Exception) -> Response:
        return _page(pages.message_page(t, "not_found"), 404)

    app = Starlette(routes=web.routes(), exception_handlers={404: not_found})
    return SecurityHeaders(app)


def _page(html: str, status: int) -> HTMLResponse:
    return HTMLResponse(html, status_code=status)


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdecimal() and int(declared) > limit:
        raise _TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise _TooLarge
    return bytes(body)


def _form(body: bytes) -> dict[str, list[str]]:
    """An ``application/x-www-form-urlencoded`` body (what the page's form sends)."""
    return parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=500)
