"""The dashboard's users and sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from paytrack.adapters.storage.sql import insert_ignore, record_or_none, records
from paytrack.adapters.storage.tables import dashboard_sessions, dashboard_users
from paytrack.domain.actors import DashboardSession, StoredDashboardUser

U = dashboard_users.c
S = dashboard_sessions.c


class DashboardRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- users ---------------------------------------------------------------------------

    def insert_user(self, row: StoredDashboardUser) -> bool:
        """Store a new user; False (and nothing stored) if the username is taken."""
        return self.conn.execute(insert_ignore(self.conn, dashboard_users).values(**row)
                                 .returning(U.id)).first() is not None

    def user_by_username(self, username_key: str) -> StoredDashboardUser | None:
        row = self.conn.execute(select(dashboard_users)
                                .where(U.username_key == username_key)).first()
        return record_or_none(row, StoredDashboardUser)

    def user(self, user_id: str) -> StoredDashboardUser | None:
        row = self.conn.execute(select(dashboard_users).where(U.id == user_id)).first()
        return record_or_none(row, StoredDashboardUser)

    def users(self) -> list[StoredDashboardUser]:
        return records(self.conn.execute(select(dashboard_users).order_by(U.created_at, U.id)),
                       StoredDashboardUser)

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        self.conn.execute(update(dashboard_users).where(U.id == user_id)
                          .values(password_hash=password_hash))

    def disable_user(self, user_id: str, now: datetime) -> None:
        self.conn.execute(update(dashboard_users)
                          .where(U.id == user_id, U.disabled_at.is_(None))
                          .values(disabled_at=now))
        self.conn.execute(delete(dashboard_sessions).where(S.user_id == user_id))

    # -- sessions ------------------------------------------------------------------------

    def insert_session(self, row: DashboardSession) -> None:
        self.conn.execute(dashboard_sessions.insert().values(**row))

    def session(self, token_hash: str) -> DashboardSession | None:
        row = self.conn.execute(select(dashboard_sessions)
                                .where(S.token_hash == token_hash)).first()
        return record_or_none(row, DashboardSession)

    def end_session(self, token_hash: str) -> None:
        self.conn.execute(delete(dashboard_sessions).where(S.token_hash == token_hash))

    def purge_sessions(self, now: datetime) -> int:
        """Forget sessions that have ended; how many."""
        return self.conn.execute(delete(dashboard_sessions)
                                 .where(S.expires_at <= now)).rowcount
