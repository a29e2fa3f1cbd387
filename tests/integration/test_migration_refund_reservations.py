"""Upgrading a database whose refund requests reserved nothing (0004): open requests are
counted into their payment's reservation, and a database where they already ask for more
than a payment has left stops the upgrade, listing them, for an admin to decide."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, insert, text

from paytrack.adapters.storage.migrate import migrate
from paytrack.adapters.storage.tables import customers, items, payments, refunds, sellers
from paytrack.adapters.storage.uow import Storage
from paytrack.domain.errors import RefundExceedsCaptured
from paytrack.services.refunds import approve_refund, cancel_refund, request_refund
from tests.integration.conftest import ADMIN

NOW = datetime(2026, 11, 1, tzinfo=UTC)
STAMPS = {"created_at": NOW, "updated_at": NOW, "metadata": {}}


@pytest.fixture
def engine_at_0003(empty_engine: Engine) -> Engine:
    """A database of its own, migrated to revision 0003 only."""
    migrate(empty_engine, "0003")
    return empty_engine


def _seed(engine: Engine, payment_id: str, *, total: int, refunded: int, currency: str,
          asked: list[tuple[str, str, int]]) -> None:
    """A captured payment and its refunds ``(id, status, amount)`` as 0003 stores them."""
    with engine.begin() as conn:
        if not conn.execute(text("SELECT 1 FROM sellers")).first():
            conn.execute(insert(customers).values(id="cust", **STAMPS))
            conn.execute(insert(sellers).values(id="s1", **STAMPS))
            conn.execute(insert(items).values(item_type="course", id="c1", seller_id="s1",
                                              **STAMPS))
        fee = total // 5
        conn.execute(insert(payments).values(
            id=payment_id, customer_id="cust", seller_id="s1", item_type="course",
            item_id="c1", currency=currency, subtotal=total, discount=0, tax=0, shipping=0,
            total=total, method="card", gateway="manual", kind="one_time",
            status="partially_refunded" if refunded else "succeeded",
            commission_rate="0.20", commission_base="total", platform_fee=fee,
            seller_amount=total - fee, tax_collected=0, shipping_collected=0, gateway_fee=0,
            gateway_fee_bearer="platform", refunded_amount=refunded, reconciled=False,
            **STAMPS))
        for refund_id, status, amount in asked:
            conn.execute(insert(refunds).values(
                id=refund_id, payment_id=payment_id, currency=currency, amount=amount,
                status=status, reason="r", requested_by="customer:cust", **STAMPS))


def _reserved(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT id, refund_reserved_amount FROM payments")).all())


def test_an_upgrade_counts_open_requests_into_the_reservation(engine_at_0003):
    _seed(engine_at_0003, "pay_1", total=10000, refunded=0, currency="USD", asked=[
        ("re_1", "requested", 2000), ("re_2", "approved", 3000), ("re_3", "rejected", 5000),
        ("re_4", "failed", 4000)])
    _seed(engine_at_0003, "pay_2", total=500, refunded=0, currency="USD", asked=[])
    migrate(engine_at_0003)
    assert _reserved(engine_at_0003) == {"pay_1": 5000, "pay_2": 0}
    storage = Storage(engine_at_0003)
    with storage.unit_of_work() as uow:  # what is left is 5000: a full request takes it
        rest = request_refund(uow, "pay_1", ADMIN, reason="rest")
        assert rest["amount"] == 5000
        with pytest.raises(RefundExceedsCaptured):
            request_refund(uow, "pay_1", ADMIN, amount=1, reason="more")
        cancel_refund(uow, "re_1", ADMIN, reason="upgraded")  # 'canceled' is a known status
        assert approve_refund(uow, rest["id"], ADMIN)["status"] == "succeeded"
        uow.commit()
    with engine_at_0003.connect() as conn:  # re_2, approved, still holds its 3000
        assert conn.execute(text("SELECT refunded_amount, refund_reserved_amount FROM payments "
                                 "WHERE id = 'pay_1'")).one() == (5000, 3000)


def test_an_upgrade_stops_at_requests_that_ask_for_more_than_is_left(engine_at_0003):
    """The issue's case: three full requests on a 163.750 KWD payment. The oldest fits;
    the two after it are listed, and nothing changes until someone decides them."""
    _seed(engine_at_0003, "pay_1", total=163750, refunded=0, currency="KWD", asked=[
        ("re_1", "requested", 163750), ("re_2", "requested", 163750),
        ("re_3", "requested", 163750)])
    _seed(engine_at_0003, "pay_2", total=10000, refunded=9000, currency="USD", asked=[
        ("re_4", "requested", 800), ("re_5", "approved", 800)])
    with pytest.raises(RuntimeError) as refused:
        migrate(engine_at_0003)
    message = str(refused.value)
    assert message.startswith("3 open refund requests ask for more than their payment has")
    assert "re_2 asks 163750 of pay_1 (KWD total 163750, refunded 0)" in message
    assert "re_3 asks 163750 of pay_1" in message
    assert "re_4 asks 800 of pay_2 (USD total 10000, refunded 9000)" in message
    assert "re_1 " not in message and "re_5 " not in message  # the oldest, the approved
    assert "/v1/refunds/{id}/reject" in message
    with engine_at_0003.connect() as conn:  # nothing changed
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0003"
