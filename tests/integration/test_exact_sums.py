"""Sums of money in SQL are exact on both databases, also far past 2^63 (SQLite's own SUM
raises "integer overflow" there)."""

import pytest
from sqlalchemy import BigInteger, literal, select, union_all

from paytrack.adapters.storage.sql import exact_sum, exact_sum_parts

BIG = 2**63 - 1


@pytest.mark.parametrize("amounts", [
    [BIG, BIG, BIG, 1],
    [-BIG, -BIG, -BIG, -1],
    [BIG, -BIG, BIG, -5, 3, BIG],
    [2**32, -1, -(2**32 - 1), 7],
    [-(2**32) - 1, 2**32 + 1],
    [],
])
def test_exact_sum_adds_any_64_bit_values_without_overflow(engine, amounts):
    rows = union_all(*[select(literal(a, BigInteger).label("amount"))
                       for a in amounts or [0]]).subquery()
    with engine.connect() as conn:
        parts = conn.execute(select(*exact_sum_parts(conn, rows.c.amount))).one()
    assert exact_sum(list(parts)) == sum(amounts)
