"""An export streams in constant memory: a million payments, loaded in bulk, exported with
every row counted while the traced peak stays under a fixed bound.

Tracing every allocation makes Python about ten times slower here, so the whole million
is streamed and the allocations are traced over the last ``TRACED_ROWS`` of it: what an
export kept of the rows before (a list of them, a growing buffer) would keep growing
there, and the peak includes every batch's rows, CSV text and unit of work.

The expensive test of the suite (three minutes in CI): marked ``bulk``, deselect it locally
with ``-m "not bulk"``. The million runs on SQLite; on PostgreSQL, whose run is the longer
of CI's two, ``PG_ROWS`` show the same thing (the peak is traced over the same last rows,
and a batch is read the same way: keyset pages of ``BATCH_ROWS``, none held across)."""

from __future__ import annotations

import tracemalloc

import pytest
from sqlalchemy import text

from paytrack.adapters.storage.tables import payments
from paytrack.services.exports import start_export
from tests.conftest import ON_POSTGRES
from tests.integration.conftest import ADMIN, new_payment

ROWS = 1_000_000
PG_ROWS = 200_000
TRACED_ROWS = 30_000
PEAK_BYTES_MAX = 30 * 2**20


def bulk_copies(storage, template_id: str, count: int) -> None:
    """``count`` copies of one payment with ids ``pay_000…1`` up, in one INSERT … SELECT."""
    others = [c.name for c in payments.columns if c.name != "id"]
    names = ", ".join(f'"{n}"' for n in others)
    if ON_POSTGRES:
        numbers = "generate_series(1, :count) AS n(i)"
        new_id = "'pay_' || lpad(n.i::text, 26, '0')"
        source = f"FROM {numbers}, payments p WHERE p.id = :template"
        head = ""
    else:
        head = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                "WHERE i < :count) ")
        new_id = "printf('pay_%026d', n.i)"
        source = "FROM n, payments p WHERE p.id = :template"
    copied = ", ".join(f'p."{n}"' for n in others)
    with storage.engine.begin() as conn:
        conn.execute(text(f"{head}INSERT INTO payments (id, {names}) "
                          f"SELECT {new_id}, {copied} {source}"),
                     {"count": count, "template": template_id})


@pytest.mark.bulk
def test_a_million_payments_export_in_constant_memory(storage):
    template = new_payment(storage, subtotal=4999, capture=False,
                           description="=cmd|' /C calc'!A0", metadata={"cohort": "2026"})
    count = PG_ROWS if ON_POSTGRES else ROWS
    bulk_copies(storage, template["id"], count)
    export = start_export(storage, "payments", ADMIN)
    rows = 0
    size = 0
    try:
        for chunk in export.csv_chunks():
            rows += chunk.count("\r\n")
            size += len(chunk)
            if rows >= count - TRACED_ROWS and not tracemalloc.is_tracing():
                tracemalloc.start()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rows == count + 2  # the header, the template and its copies
    assert size > count * 300  # every row written in full
    assert peak < PEAK_BYTES_MAX, f"peak {peak / 2**20:.1f} MiB"
