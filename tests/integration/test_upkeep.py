"""The background upkeep (``paytrack serve`` and ``paytrack worker``): several processes
may fold balance deltas at once, and each delta is folded exactly once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from paytrack.adapters.storage.tables import balance_deltas
from paytrack.entrypoints.upkeep import run_once
from paytrack.services import ledger
from tests.conftest import postgres_only
from tests.integration.conftest import ADMIN, new_payment


def _deltas(storage) -> int:
    with storage.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(balance_deltas)).scalar_one()


def _verified(storage) -> bool:
    with storage.unit_of_work(readonly=True) as uow:
        return ledger.verify_ledger(uow, ADMIN)["ok"]


@postgres_only
def test_two_folds_at_once_fold_each_delta_once(storage):
    for _ in range(3):
        new_payment(storage)
    before = _deltas(storage)
    assert before > 0
    first_has_folded, release_first = threading.Event(), threading.Event()

    def first() -> int:
        with storage.unit_of_work() as uow:
            folded = ledger.fold_balances(uow)
            first_has_folded.set()
            release_first.wait(10)  # hold the deleted deltas' row locks
            uow.commit()
        return folded

    def second() -> int:
        first_has_folded.wait(10)
        return run_once(storage).folded  # as a second server process would

    with ThreadPoolExecutor(max_workers=2) as pool:
        held = pool.submit(first)
        first_has_folded.wait(10)
        new_payment(storage)  # deltas the first fold never saw
        added = _deltas(storage) - before
        waiting = pool.submit(second)
        time.sleep(0.5)
        assert not waiting.done()  # it waits on the first fold's row locks …
        release_first.set()
        assert held.result() == before
        assert waiting.result() == added  # … then folds only what the first did not
    assert _deltas(storage) == 0
    assert _verified(storage)
