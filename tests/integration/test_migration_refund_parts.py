"""Upgrading a database whose refunds the old split moved a leg backwards (0003)."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, insert, text

from paytrack.adapters.storage.migrate import migrate
from paytrack.adapters.storage.tables import customers, items, payments, refunds, sellers
from paytrack.domain.money import allocate


@pytest.fixture
def engine_at_0002(empty_engine: Engine) -> Engine:
    """A database of its own, migrated to revision 0002 only."""
    migrate(empty_engine, "0002")
    return empty_engine


def _seed_the_alabama_refunds(engine: Engine) -> None:
    """Net base, subtotal 49.99, tax 4.13: 0.18 refunded, then 0.01 split (+1, +1, -1, 0)
    by cumulative largest remainder, as revision 0002 stored it."""
    legs = [3999, 1000, 413, 0]
    first = allocate(18, legs)
    second = [a - b for a, b in zip(allocate(19, legs), first, strict=True)]
    assert second == [1, 1, -1, 0]
    now = datetime(2026, 11, 1, tzinfo=UTC)
    stamps = {"created_at": now, "updated_at": now, "metadata": {}}
    with engine.begin() as conn:
        conn.execute(insert(customers).values(id="cust", **stamps))
        conn.execute(insert(sellers).values(id="s1", **stamps))
        conn.execute(insert(items).values(item_type="course", id="c1", seller_id="s1",
                                          **stamps))
        conn.execute(insert(payments).values(
            id="pay_1", customer_id="cust", seller_id="s1", item_type="course", item_id="c1",
            currency="USD", subtotal=4999, discount=0, tax=413, shipping=0, total=5412,
            method="card", gateway="manual", kind="one_time", status="partially_refunded",
            commission_rate="0.20", commission_base="net", platform_fee=1000,
            seller_amount=3999, tax_collected=413, shipping_collected=0, gateway_fee=0,
            gateway_fee_bearer="platform", refunded_amount=19, reconciled=False, **stamps))
        conn.execute(insert(refunds).values([
            {"id": f"re_{n}", "payment_id": "pay_1", "currency": "USD", "amount": sum(parts),
             "status": "succeeded", "reason": "r", "requested_by": "admin",
             "seller_part": parts[0], "platform_part": parts[1], "tax_part": parts[2],
             "shipping_part": parts[3], **stamps}
            for n, parts in ((1, first), (2, second))]))


def test_an_upgrade_stops_at_refunds_that_moved_a_leg_backwards(engine_at_0002):
    _seed_the_alabama_refunds(engine_at_0002)
    with pytest.raises(RuntimeError, match=r"re_2 of pay_1 \(seller 1, platform 1, tax -1, "
                                           r"shipping 0\)"):
        migrate(engine_at_0002)
    with engine_at_0002.connect() as conn:  # nothing changed
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0002"

