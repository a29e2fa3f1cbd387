"""``Storage.run`` may answer the party lookup from an in-process cache; the write checks
in the same statement that the cache still holds, and runs again from the database if not.
"""

import pytest
from sqlalchemy import event, func, select, update

from paytrack.adapters.storage.tables import items, payments, sellers
from paytrack.domain.errors import ItemSellerMismatch
from paytrack.services.parties import upsert_item
from paytrack.services.payments import CreatePayment, create_payment
from tests.conftest import ON_POSTGRES
from tests.integration.conftest import ADMIN

pytestmark = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="the party cache exists only on PostgreSQL: Storage.run uses it there alone (its "
           "guard is checked by the PostgreSQL flush); on SQLite every lookup reads the "
           "database inside the write transaction",
)


def _create(storage, seller_id="s1", item_id="c1", **extra):
    cmd = CreatePayment(customer_id="cust", seller_id=seller_id, item_type="course",
                        item_id=item_id, currency="USD", subtotal=10000, **extra)
    return storage.run(lambda uow: create_payment(uow, cmd, ADMIN))


def _count(storage):
    with storage.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(payments)).scalar_one()


def _lookups(storage) -> list[str]:
    """Statements that read the sellers table from now on (the cache spares them)."""
    seen: list[str] = []

    @event.listens_for(storage.engine, "before_cursor_execute")
    def _seen(conn, cursor, statement, *args):
        if "FROM sellers" in statement:
            seen.append(statement)

    return seen


def test_run_creates_payments_and_learns_the_parties(storage):
    assert _create(storage)["platform_fee"] == 2000  # creates the parties
    assert _create(storage)["platform_fee"] == 2000  # finds them, and remembers
    assert storage.parties.sellers == {"s1": None}
    lookups = _lookups(storage)
    assert _create(storage)["platform_fee"] == 2000
    assert lookups == []  # answered from the cache
    assert _count(storage) == 3


def test_a_rate_changed_elsewhere_is_caught_and_the_new_rate_used(storage):
    _create(storage)
    _create(storage)  # now the seller, its rate and the item are cached
    with storage.engine.begin() as conn:  # another process changes the rate
        conn.execute(update(sellers).where(sellers.c.id == "s1").values(commission_rate="0.05"))
    assert _create(storage)["platform_fee"] == 500
    assert _count(storage) == 3  # the stale attempt wrote nothing
    assert storage.parties.sellers == {"s1": "0.05"}


def _cache_an_unpaid_item(storage):
    """s1 and s2 known, and item "unpaid" cached as s1's (only an unpaid item can move)."""
    _create(storage, seller_id="s1", item_id="c1")
    _create(storage, seller_id="s2", item_id="c2")
    with storage.unit_of_work() as uow:
        upsert_item(uow, "course", "unpaid", "s1", ADMIN)
        uow.commit()
    storage.prime_caches()
    assert storage.parties.items[("course", "unpaid")] == "s1"
    with storage.engine.begin() as conn:  # another process moves it
        conn.execute(update(items).where(items.c.id == "unpaid").values(seller_id="s2"))


def test_an_item_moved_to_another_seller_elsewhere_is_caught(storage):
    _cache_an_unpaid_item(storage)
    with pytest.raises(ItemSellerMismatch, match="^course unpaid belongs to seller s2, not s1$"):
        _create(storage, seller_id="s1", item_id="unpaid")
    assert _count(storage) == 2


def test_a_cached_owner_never_refuses_a_payment_on_its_own(storage):
    _cache_an_unpaid_item(storage)
    assert _create(storage, seller_id="s2", item_id="unpaid")["seller_id"] == "s2"


def test_plain_units_of_work_never_use_the_cache(storage):
    _create(storage)
    _create(storage)
    with storage.engine.begin() as conn:
        conn.execute(update(sellers).where(sellers.c.id == "s1").values(commission_rate="0.10"))
    cmd = CreatePayment(customer_id="cust", seller_id="s1", item_type="course", item_id="c1",
                        currency="USD", subtotal=10000)
    with storage.unit_of_work() as uow:
        assert create_payment(uow, cmd, ADMIN)["platform_fee"] == 1000
        uow.commit()
