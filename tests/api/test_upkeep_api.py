"""``paytrack serve`` folds balance deltas and purges expired idempotency keys itself, in a
thread that starts and stops with the app and outlives a failing database."""

from __future__ import annotations

import importlib
import logging
import time

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from paytrack.adapters.storage.tables import balance_deltas
from paytrack.config import Settings
from paytrack.entrypoints import upkeep
from paytrack.entrypoints.api import create_app
from paytrack.services import ledger
from tests.api.conftest import Api
from tests.integration.conftest import ADMIN


def _deltas(storage) -> int:
    with storage.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(balance_deltas)).scalar_one()


def _eventually(condition, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_the_server_app_folds_balance_deltas_while_it_runs(storage, make_key, captured):
    captured()  # through the test's own app: deltas wait to be folded
    assert _deltas(storage) > 0
    app = create_app(storage, Settings(upkeep_interval_s=0.05), upkeep=True)
    with TestClient(app) as client:
        assert app.state.upkeep.running
        assert _eventually(lambda: _deltas(storage) == 0)
        admin = Api(client, make_key("admin"))
        payment = admin.post("/v1/payments", json={
            "customer_id": "c", "seller_id": "s", "item_type": "course", "item_id": "i",
            "currency": "USD", "subtotal": 100, "method": "card", "captured": True})
        assert payment.status_code == 201, payment.text
        assert _eventually(lambda: _deltas(storage) == 0)
        with storage.unit_of_work(readonly=True) as uow:
            assert ledger.verify_ledger(uow, ADMIN)["ok"]
    assert not app.state.upkeep.running  # stopped with the app


def test_a_failing_part_is_logged_and_the_next_round_runs_it(storage, captured, monkeypatch,
                                                             caplog):
    captured()
    failures = [OperationalError("SELECT 1", {}, Exception("the database is restarting"))] * 2
    real_fold = upkeep.fold_balances

    def flaky_fold(uow):
        if failures:
            raise failures.pop()
        return real_fold(uow)

    monkeypatch.setattr(upkeep, "fold_balances", flaky_fold)
    app = create_app(storage, Settings(upkeep_interval_s=0.05), upkeep=True)
    with caplog.at_level(logging.ERROR, "paytrack.upkeep"), TestClient(app):
        assert _eventually(lambda: _deltas(storage) == 0)
    assert [r.message for r in caplog.records].count(
        "folding balance deltas failed; the next round tries again") == 2


def test_only_the_server_runs_upkeep_and_it_can_be_turned_off(database_url, monkeypatch):
    assert create_app(None).state.upkeep is None  # tests and embedders: not unless asked
    monkeypatch.setenv("PAYTRACK_DATABASE_URL", database_url)
    from paytrack.entrypoints import asgi

    try:
        for setting, expected in (("true", True), ("false", False)):
            monkeypatch.setenv("PAYTRACK_UPKEEP", setting)
            served = importlib.reload(asgi).app
            assert (served.state.upkeep is not None) is expected
            served.state.storage.engine.dispose()
        monkeypatch.delenv("PAYTRACK_UPKEEP")
        assert importlib.reload(asgi).app.state.upkeep is not None  # the default
    finally:
        asgi.app.state.storage.engine.dispose()
