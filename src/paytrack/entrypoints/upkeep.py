"""Background upkeep: release sellers' earnings whose hold has ended, fold appended balance
deltas into account rows and purge expired idempotency keys. ``paytrack worker`` runs it
alone; ``paytrack serve`` runs it in a thread beside the API unless told not to.

Several processes may run it at once: a fold deletes the deltas it adds (``DELETE …
RETURNING``) in the transaction that adds them, so a delta is folded by exactly one of
them, and a purge deletes only keys past their lifetime.
"""

from __future__ import annotations

import logging
import threading
from typing import NamedTuple

from paytrack.adapters.storage.uow import Storage
from paytrack.services.idempotency import purge_expired
from paytrack.services.ledger import fold_balances
from paytrack.services.seller_funds import release_due

log = logging.getLogger("paytrack.upkeep")


class Round(NamedTuple):
    folded: int  # balance deltas
    purged: int  # idempotency keys
    released: int = 0  # seller earnings


MAX_RELEASE_BATCHES = 20  # per round: the next round goes on where this one stopped


def run_once(storage: Storage) -> Round:
    """Releases, one fold and one purge, each in its own short transaction."""
    released = 0
    for _ in range(MAX_RELEASE_BATCHES):
        with storage.unit_of_work() as uow:
            batch = release_due(uow)
            uow.commit()
        released += batch
        if not batch:
            break
    with storage.unit_of_work() as uow:
        folded = fold_balances(uow)
        uow.commit()
    with storage.unit_of_work() as uow:
        purged = purge_expired(uow)
        uow.commit()
    return Round(folded, purged, released)


class Upkeep:
    """``run_once`` every ``interval_s`` in a daemon thread, from ``start()`` to ``stop()``.
    A failed round (the database restarting, a lock timeout) is logged and the next one
    runs as usual."""

    def __init__(self, storage: Storage, interval_s: float) -> None:
        self.storage = storage
        self.interval_s = interval_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="paytrack-upkeep",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Ask the thread to stop and wait for the round in progress, if any."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                done = run_once(self.storage)
            except Exception:
                log.exception("upkeep round failed; retrying in %g s", self.interval_s)
            else:
                if any(done):
                    log.info("folded %d balance deltas, purged %d idempotency keys, "
                             "released %d seller earnings", *done)
            self._stopping.wait(self.interval_s)
