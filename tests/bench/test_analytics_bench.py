"""The analytics benchmark measures the right thing: a small year generated and loaded in
bulk into the test database (as ``bench/analytics.py`` does with a million payments) is a
valid ledger, and the naive queries, and DuckDB's over the same payments exported to
Parquet, give the figures computed in Python from the generated rows; the rollups, built
from the loaded history and read through the service functions as the bench reads them,
give the naive query's payments and gross. The rows are generated a second time for the
reference, so a generator that is not deterministic fails here too. No timing is
asserted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bench.analytics import comparable, naive_comparable, rebuild_rollups, rollup_calls
from bench.analytics_data import POLICY, YEAR_END, YEAR_START, Generator
from bench.analytics_load import load
from bench.analytics_queries import (
    QUERIES,
    Params,
    create_index,
    drop_index,
    duckdb_queries,
    export_parquet,
    naive_queries,
    reference,
)
from paytrack.adapters.storage.uow import Storage
from paytrack.services.ledger import verify_ledger
from tests.integration.conftest import ADMIN

PAYMENTS = 2_000
RANGES = [
    Params("USD", YEAR_START, YEAR_END),
    Params("EUR", datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC)),
]


@pytest.fixture
def loaded(engine):
    load(engine, Generator(PAYMENTS))
    create_index(engine)
    yield engine
    drop_index(engine)  # the PostgreSQL test database is shared by the next tests


@pytest.fixture(scope="module")
def generated() -> list[dict]:
    return [p for chunk in Generator(PAYMENTS).chunks() for p in chunk.payments]


def test_the_loaded_year_is_a_valid_ledger(loaded):
    with Storage(loaded).unit_of_work(readonly=True) as uow:
        check = verify_ledger(uow, ADMIN)
    assert check["ok"], check
    assert not check["revenue_checked"]  # loaded without deltas: awaits the rebuild
    assert [c["currency"] for c in check["trial_balance"]["currencies"]] == ["EUR", "INR", "USD"]


def test_naive_queries_give_the_figures_of_the_generated_rows(loaded, generated):
    for params in RANGES:  # one load for both: each costs a second or two
        expected = reference(generated, params)
        with loaded.connect() as conn:
            found = {name: call() for name, call in naive_queries(conn, params).items()}
        assert found == expected, params
        payments, gross, refunded = expected["summary"][0][:3]
        assert payments > 0 and gross > 0 and refunded > 0  # refunds are in the figures


def test_duckdb_over_parquet_gives_the_figures_of_the_generated_rows(loaded, generated,
                                                                     tmp_path):
    for module in ("duckdb", "pyarrow"):
        pytest.importorskip(module, reason=f"{module} is in the optional extra 'bench' only "
                            "(pip install -e '.[bench]')")
    path = tmp_path / "payments.parquet"
    assert export_parquet(loaded, path, batch_rows=500) == PAYMENTS
    for params in RANGES:
        conn, calls = duckdb_queries(path, params)
        try:
            found = {name: calls[name]() for name in QUERIES}
        finally:
            conn.close()
        assert found == reference(generated, params), params


def test_rollups_rebuilt_from_the_loaded_year_match_the_ledger_and_the_naive_figures(loaded):
    storage = Storage(loaded, POLICY)
    _, deltas = rebuild_rollups(storage)
    assert deltas >= PAYMENTS  # every capture and failure, then refunds and disputes
    with storage.unit_of_work(readonly=True) as uow:
        check = verify_ledger(uow, ADMIN)
    assert check["ok"] and check["revenue_checked"], check
    for params in RANGES:
        calls = rollup_calls(storage, params)
        with loaded.connect() as conn:
            naive = {name: call() for name, call in naive_queries(conn, params).items()}
        for name in QUERIES:
            expected = naive_comparable(name, naive[name])
            assert comparable(name, calls[name]()) == expected, (params, name)
            assert expected and all(row[-1] > 0 for row in expected)  # gross in each row
