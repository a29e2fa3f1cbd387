"""The browser's side of a dashboard session: the signed cookie, who is looking, the
CSRF check on every form, and one-time notices carried over a redirect."""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, Signer

from paytrack.adapters.storage.uow import Storage
from paytrack.domain.actors import Actor, DashboardSession, Role
from paytrack.entrypoints.web.i18n import Formats, choose
from paytrack.services import dashboard_access

COOKIE = "paytrack_session"
FLASH = "paytrack_notice"
LANGUAGE = "paytrack_language"
PURPOSE = "paytrack dashboard session"


class SignInRequired(Exception):  # noqa: N818 - answered with a redirect to sign in
    pass


class CsrfRefused(Exception):  # noqa: N818 - answered 403
    pass


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking (the same ``Actor`` the API would see), in which language."""

    actor: Actor
    session: DashboardSession
    token: str
    language: str
    formats: Formats

    @property
    def is_admin(self) -> bool:
        return self.actor.role is Role.ADMIN

    @property
    def seller_id(self) -> str | None:
        return self.actor.id if self.actor.role is Role.SELLER else None

    @property
    def csrf(self) -> str:
        return self.session["csrf_token"]


def storage_of(request: Request) -> Storage:
    return request.app.state.parent.state.storage


def _signers(request: Request) -> list[Signer]:
    return [Signer(secret, salt=PURPOSE)
            for secret in storage_of(request).payout_keys.derive(PURPOSE)]


def language_of(request: Request) -> str:
    return choose(request.cookies.get(LANGUAGE), request.headers.get("accept-language"))


def token_of(request: Request) -> str | None:
    """The session token in the cookie, if a configured key signed it."""
    cookie = request.cookies.get(COOKIE)
    if not cookie or len(cookie) > 200:
        return None
    for signer in _signers(request):
        try:
            return signer.unsign(cookie).decode()
        except BadSignature:
            continue
    return None


def viewer_or_none(request: Request) -> Viewer | None:
    token = token_of(request)
    if token is None:
        return None
    with storage_of(request).unit_of_work(readonly=True) as uow:
        found = dashboard_access.session_of(uow, token)
    if found is None:
        return None
    session, actor = found
    language = language_of(request)
    return Viewer(actor, session, token, language, Formats(language))


def current_viewer(request: Request) -> Viewer:
    """The signed-in viewer, or a redirect to sign in."""
    viewer = getattr(request.state, "viewer", None) or viewer_or_none(request)
    if viewer is None:
        raise SignInRequired
    request.state.viewer = viewer
    return viewer


def check_csrf(viewer: Viewer, sent: str | None) -> None:
    if not sent or not hmac.compare_digest(sent.encode(), viewer.csrf.encode()):
        raise CsrfRefused


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(COOKIE, _signers(request)[0].sign(token).decode(),
                        max_age=int(dashboard_access.SESSION_TTL.total_seconds()),
                        path="/dashboard", httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/dashboard", httponly=True, samesite="lax")


def flash(request: Request, response: Response, kind: str, text: str) -> None:
    """A notice shown once, on the next page (signed: nobody else can put words in it)."""
    value = _signers(request)[0].sign(json.dumps({"kind": kind, "text": text[:500]})).decode()
    response.set_cookie(FLASH, value, max_age=60, path="/dashboard", httponly=True,
                        samesite="lax", secure=request.url.scheme == "https")


def take_flash(request: Request) -> dict[str, Any] | None:
    cookie = request.cookies.get(FLASH)
    if not cookie or len(cookie) > 2000:
        return None
    for signer in _signers(request):
        try:
            notice = json.loads(signer.unsign(cookie))
        except (BadSignature, ValueError):
            continue
        if isinstance(notice, dict) and notice.get("kind") in ("ok", "error"):
            return {"kind": notice["kind"], "text": str(notice.get("text", ""))}
    return None
