"""When a unit of work's transaction begins on PostgreSQL, and how it ends.

A unit of work starts in autocommit: its reads need no BEGIN (at READ COMMITTED every
statement takes its own snapshot either way). Its first write, or the first flush of
buffered rows before another statement, begins the transaction (``begin``). A unit of
work whose only write is its final flush sends that statement alone: one statement is
atomic and durable by itself, so it needs neither BEGIN nor COMMIT. Otherwise the final
flush and the COMMIT can travel together in one pipelined round trip (``pipelined``).

On SQLite every write transaction begins at once with ``BEGIN IMMEDIATE`` (see ``db.py``),
so none of this applies: ``deferred`` is never true and ``pipelined`` runs its steps in turn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE


class LazyTransaction:
    def __init__(self, driver_connection: Any, *, enabled: bool) -> None:
        self._driver = driver_connection
        self.enabled = enabled and hasattr(driver_connection, "autocommit")
        if self.enabled:
            self._driver.autocommit = True

    @property
    def deferred(self) -> bool:
        """Not begun yet: statements run in autocommit."""
        return self.enabled and self._driver.autocommit

    def begin(self) -> None:
        """The next statement begins the transaction."""
        self._driver.autocommit = False

    def pipelined(self, *steps: Callable[[], None]) -> None:
        """Run ``steps`` (a flush, then the COMMIT) in one round trip where the driver
        pipelines; after a failure the transaction is rolled back."""
        pipeline = getattr(self._driver, "pipeline", None)
        if pipeline is None:
            for step in steps:
                step()
            return
        try:
            with pipeline():
                for step in steps:
                    step()
        except Exception:
            self._driver.rollback()  # leave the aborted pipeline's transaction cleanly
            raise

    def close(self) -> None:
        """Hand the connection back as the pool expects it: idle, not in autocommit."""
        if self.enabled:
            if self._driver.info.transaction_status != _IDLE:
                self._driver.rollback()
            self._driver.autocommit = False


def writes(clause: Any) -> bool:
    """Whether a statement must run inside the transaction (anything but a plain SELECT)."""
    if getattr(clause, "is_select", False):
        return getattr(clause, "_for_update_arg", None) is not None
    return True
