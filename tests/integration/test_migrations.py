from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, insert, text
from sqlalchemy.exc import IntegrityError

from paytrack.adapters.storage.migrate import migrate
from paytrack.adapters.storage.tables import customers, items, metadata, payments, refunds, sellers
from paytrack.domain.errors import ItemSellerMismatch


def test_migrations_create_exactly_the_declared_schema(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def _seed_0002(engine: Engine, *, paid_to: str) -> None:
    """A customer, two sellers, an item of s1's and a refunded payment to ``paid_to``,
    as revision 0002 stores them."""
    now = datetime(2026, 11, 1, tzinfo=UTC)
    stamps = {"created_at": now, "updated_at": now, "metadata": {}}
    with engine.begin() as conn:
        conn.execute(insert(customers).values(id="cust", **stamps))
        conn.execute(insert(sellers).values([{"id": s, **stamps} for s in ("s1", "s2")]))
        conn.execute(insert(items).values(item_type="course", id="c1", seller_id="s1",
                                          **stamps))
        conn.execute(insert(payments).values(
            id="pay_1", customer_id="cust", seller_id=paid_to, item_type="course",
            item_id="c1", currency="USD", subtotal=1000, discount=0, tax=0, shipping=0,
            total=1000, method="card", gateway="manual", kind="one_time",
            status="partially_refunded", commission_rate="0.20", commission_base="net",
            platform_fee=200, seller_amount=800, tax_collected=0, shipping_collected=0,
            gateway_fee=0, gateway_fee_bearer="platform", refunded_amount=100,
            reconciled=False, **stamps))
        conn.execute(insert(refunds).values(
            id="re_1", payment_id="pay_1", currency="USD", amount=100, status="succeeded",
            reason="r", requested_by="admin", seller_part=80, platform_part=20, tax_part=0,
            shipping_part=0, **stamps))


def test_a_database_with_payments_and_refunds_upgrades(empty_engine):
    migrate(empty_engine, "0002")
    _seed_0002(empty_engine, paid_to="s1")
    migrate(empty_engine)
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT seller_id FROM payments")).scalars().all() == ["s1"]
        assert conn.execute(text("SELECT payment_id FROM refunds")).scalars().all() == ["pay_1"]
    with pytest.raises((IntegrityError, ItemSellerMismatch)), empty_engine.begin() as conn:
        conn.execute(text("UPDATE payments SET seller_id = 's2'"))


def test_an_upgrade_stops_at_payments_credited_to_a_seller_that_does_not_own_the_item(
        empty_engine):
    migrate(empty_engine, "0002")
    _seed_0002(empty_engine, paid_to="s2")
    with pytest.raises(RuntimeError, match=r"pay_1 \(course c1: paid to s2, owned by s1\)"):
        migrate(empty_engine)
    with empty_engine.connect() as conn:  # nothing changed
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0002"
