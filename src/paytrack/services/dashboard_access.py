"""Who may use the dashboard, and the browsers signed in to it.

A user signs in with a username and password (``paytrack users create``; the password is
kept as an argon2id hash) or with an API key. Either opens a session: a random token the
browser keeps in a signed cookie, of which only the SHA-256 is stored, with the CSRF token
its forms post back. A session ends at sign-out, after ``SESSION_TTL``, or as soon as its
user is disabled or its key revoked; it acts as the same ``Actor`` the API would see.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import (
    Actor,
    DashboardSession,
    DashboardUser,
    Role,
    StoredDashboardUser,
)
from paytrack.domain.errors import Conflict, NotFound, Unauthenticated, ValidationFailed
from paytrack.domain.ids import new_id
from paytrack.services import permissions
from paytrack.services._common import require_text
from paytrack.services.keys import authenticate
from paytrack.services.permissions import Action

SESSION_TTL = timedelta(hours=12)
MIN_PASSWORD = 10
MAX_PASSWORD = 200  # argon2 takes any length; a bound keeps a hostile form cheap
HASHER = PasswordHasher()  # argon2id, the library's current recommended parameters
# Checked when the username is unknown, so that answering takes as long either way.
_NOBODY = HASHER.hash(secrets.token_urlsafe(16))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def username_key(username: str) -> str:
    return username.strip().casefold()


def create_user(uow: UnitOfWork, actor: Actor, username: str, password: str, role: str, *,
                seller_id: str | None = None) -> DashboardUser:
    permissions.check(actor, Action.MANAGE_USERS)
    username = require_text(username.strip(), "username", max_length=100)
    if not username.isprintable() or any(c.isspace() for c in username):
        raise ValidationFailed("a username is printable characters without spaces",
                               field="username")
    if role not in (Role.ADMIN, Role.SELLER):
        raise ValidationFailed("a dashboard user is an admin or a seller", field="role")
    if (role == Role.SELLER) != (seller_id is not None):
        raise ValidationFailed("a seller user needs --seller-id, and only a seller user has "
                               "one", field="seller_id")
    if seller_id is not None:
        require_text(seller_id, "seller_id", max_length=100)
    _check_password(password)
    now = uow.now()
    row: StoredDashboardUser = {
        "id": new_id("usr"), "username": username, "username_key": username_key(username),
        "password_hash": HASHER.hash(password), "role": role, "seller_id": seller_id,
        "created_at": now, "disabled_at": None}
    if not uow.dashboard.insert_user(row):
        raise Conflict(f"the username {username!r} is taken")
    uow.records.audit(str(actor), "dashboard_user.created", "dashboard_user", row["id"], None,
                      {"username": username, "role": role, "seller_id": seller_id}, now)
    return _public(row)


def _check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValidationFailed(f"a password is {MIN_PASSWORD} to {MAX_PASSWORD} characters",
                               field="password")


def list_users(uow: UnitOfWork, actor: Actor) -> list[DashboardUser]:
    permissions.check(actor, Action.MANAGE_USERS)
    return [_public(row) for row in uow.dashboard.users()]


def set_password(uow: UnitOfWork, actor: Actor, username: str, password: str) -> DashboardUser:
    permissions.check(actor, Action.MANAGE_USERS)
    row = _user(uow, username)
    _check_password(password)
    uow.dashboard.set_password_hash(row["id"], HASHER.hash(password))
    uow.records.audit(str(actor), "dashboard_user.password_set", "dashboard_user", row["id"],
                      None, None, uow.now())
    return _public(row)


def disable_user(uow: UnitOfWork, actor: Actor, username: str) -> DashboardUser:
    """The user can no longer sign in, and its open sessions end now."""
    permissions.check(actor, Action.MANAGE_USERS)
    row = _user(uow, username)
    if row["disabled_at"] is not None:
        raise Conflict(f"{row['username']} is disabled already")
    now = uow.now()
    uow.dashboard.disable_user(row["id"], now)
    uow.records.audit(str(actor), "dashboard_user.disabled", "dashboard_user", row["id"],
                      None, None, now)
    return _public({**row, "disabled_at": now})


def _user(uow: UnitOfWork, username: str) -> StoredDashboardUser:
    row = uow.dashboard.user_by_username(username_key(username))
    if row is None:
        raise NotFound(f"no dashboard user {username!r}")
    return row


# -- signing in ------------------------------------------------------------------------


def sign_in_with_password(uow: UnitOfWork, username: str, password: str
                          ) -> tuple[DashboardSession, str]:
    """A new session for the user (and its token, to give the browser only); the same
    ``Unauthenticated`` whether the username or the password was wrong."""
    row = uow.dashboard.user_by_username(username_key(username)) \
        if 0 < len(username) <= 100 and username.isprintable() else None  # as create_user
    if not _password_matches(row["password_hash"] if row else _NOBODY, password) \
            or row is None or row["disabled_at"] is not None:
        raise Unauthenticated("wrong username or password")
    if HASHER.check_needs_rehash(row["password_hash"]):
        uow.dashboard.set_password_hash(row["id"], HASHER.hash(password))
    return _open(uow, user_id=row["id"], api_key_id=None, role=row["role"],
                 seller_id=row["seller_id"])


def _password_matches(password_hash: str, password: str) -> bool:
    if len(password) > MAX_PASSWORD:
        return False
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def sign_in_with_key(uow: UnitOfWork, token: str) -> tuple[DashboardSession, str]:
    """A new session acting as the API key (an admin or a seller key)."""
    actor, key = authenticate(uow, token.strip())
    if actor.role not in (Role.ADMIN, Role.SELLER):
        raise Unauthenticated("the dashboard is for admin and seller keys")
    return _open(uow, user_id=None, api_key_id=key["id"], role=str(actor.role),
                 seller_id=key["seller_id"])


def _open(uow: UnitOfWork, *, user_id: str | None, api_key_id: str | None, role: str,
          seller_id: str | None) -> tuple[DashboardSession, str]:
    token = secrets.token_urlsafe(32)
    now = uow.now()
    session: DashboardSession = {
        "token_hash": _token_hash(token), "user_id": user_id, "api_key_id": api_key_id,
        "role": role, "seller_id": seller_id, "csrf_token": secrets.token_urlsafe(32),
        "created_at": now, "expires_at": now + SESSION_TTL}
    uow.dashboard.insert_session(session)
    holder = user_id or api_key_id
    uow.records.audit(f"{role}:{seller_id or holder}", "dashboard.signed_in",
                      "dashboard_user" if user_id else "api_key", str(holder), None, None, now)
    return session, token


def session_of(uow: UnitOfWork, token: str) -> tuple[DashboardSession, Actor] | None:
    """The live session a browser's token opens, and who acts in it; None if it has ended,
    or its user was disabled, or its key revoked."""
    session = uow.dashboard.session(_token_hash(token))
    if session is None or session["expires_at"] <= uow.now():
        return None
    if session["user_id"] is not None:
        user = uow.dashboard.user(session["user_id"])
        if user is None or user["disabled_at"] is not None:
            return None
        holder = user["id"]
    else:
        assert session["api_key_id"] is not None
        key = uow.api_keys.get(session["api_key_id"])
        if key is None or key["revoked_at"] is not None:
            return None
        holder = key["id"]
    role = Role(session["role"])
    return session, Actor(role, session["seller_id"] if role is Role.SELLER else holder)


def sign_out(uow: UnitOfWork, token: str) -> None:
    uow.dashboard.end_session(_token_hash(token))


def _public(row: StoredDashboardUser) -> DashboardUser:
    return cast(DashboardUser, {k: v for k, v in row.items()
                                if k not in ("password_hash", "username_key")})
