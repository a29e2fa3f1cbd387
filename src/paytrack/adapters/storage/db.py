"""Engines for the two supported databases.

SQLite (the embedded default) runs in WAL mode with foreign keys on, and every write
transaction starts with ``BEGIN IMMEDIATE`` so that writers queue for the lock up front
instead of failing half-way. PostgreSQL runs at READ COMMITTED; invariants are held by
conditional updates, row locks and constraints.

On either, a statement the database refuses for a known constraint raises the domain error
that constraint stands for (``errors.translate``), whatever statement it was.

Every engine made here shows each statement first to whatever a unit of work attached to
its connection (``watch_statements``): its appender flushes buffered rows, and opens a
deferred transaction, before anything else runs. Engines made elsewhere in the process
are left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError

from paytrack.adapters.storage.errors import translate

SQLITE_BUSY_TIMEOUT_MS = 30_000

_WATCHER = "paytrack_before_execute"  # key in Connection.info


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` too; paytrack speaks psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    url = normalize_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = _sqlite_engine(url)
    else:
        # No pre-ping: it costs a round trip per checkout. Stale connections are recycled
        # hourly, and one that dropped is invalidated on its first error.
        engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size * 2,
                               pool_recycle=3600)
    event.listen(engine, "handle_error", _domain_error, retval=True)
    event.listen(engine, "before_execute", _before_execute)
    return engine


def _domain_error(context: ExceptionContext) -> Exception | None:
    """The domain error for a constraint violation, in place of SQLAlchemy's own."""
    error = context.sqlalchemy_exception
    if isinstance(error, DBAPIError):
        translated = translate(error)
        if translated is not error:
            return translated
    return None


def watch_statements(conn: Connection, watcher: Callable[[Any], None]) -> None:
    """Call ``watcher(statement)`` before each statement on ``conn`` until ``unwatch_statements``.

    The engine's one listener, registered by ``make_engine``, finds the watcher in
    ``conn.info``: cheaper than adding and removing a listener for every unit of work."""
    conn.info[_WATCHER] = watcher


def unwatch_statements(conn: Connection) -> None:
    conn.info.pop(_WATCHER, None)


def is_paytrack_engine(engine: Engine) -> bool:
    """Whether ``make_engine`` made it (its statements can be watched)."""
    return event.contains(engine, "before_execute", _before_execute)


def _before_execute(conn: Connection, clause: Any, *_args: Any) -> None:
    watcher = conn.info.get(_WATCHER)
    if watcher is not None:
        watcher(clause)


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Take transaction control away from the driver so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        readonly = connection.get_execution_options().get("readonly", False)
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine
