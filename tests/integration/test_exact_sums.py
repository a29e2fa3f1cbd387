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


def test_exact_sum_of_an_expression_sums_the_whole_expression(engine):
    # each row's value fits 64 bits; their sum does not
    rows = union_all(*[select(literal(a, BigInteger).label("a"), literal(b, BigInteger)
                              .label("b")) for a, b in [(BIG, 1), (BIG, 1), (3, 2**33)]])
    rows = rows.subquery()
    with engine.connect() as conn:
        parts = conn.execute(select(*exact_sum_parts(conn, rows.c.a - rows.c.b))).one()
    assert exact_sum(list(parts)) == 2 * (BIG - 1) + 3 - 2**33
