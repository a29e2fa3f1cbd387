"""An item belongs to one seller, and every payment for it is that seller's: the database
holds it with a foreign key from payments (item, seller) to items (item, seller)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from paytrack.adapters.storage.parties import PartyRepository
from paytrack.adapters.storage.tables import items, payments
from paytrack.domain.errors import ItemHasPayments, ItemSellerMismatch, PaytrackError
from paytrack.domain.ids import new_id
from paytrack.services.parties import upsert_item
from paytrack.services.payments import CreatePayment, create_payment
from tests.conftest import postgres_only
from tests.integration.conftest import ADMIN, new_payment


def _command(seller_id: str, item_id: str = "new") -> CreatePayment:
    return CreatePayment(customer_id="cust", seller_id=seller_id, item_type="course",
                         item_id=item_id, currency="USD", subtotal=10000)


def _owners(storage, item_id: str) -> tuple[str, set[str]]:
    """The item's seller and the sellers of its payments."""
    with storage.engine.connect() as conn:
        owner = conn.execute(select(items.c.seller_id).where(items.c.id == item_id)).scalar_one()
        paid = set(conn.execute(select(payments.c.seller_id)
                                .where(payments.c.item_id == item_id)).scalars())
    return owner, paid


def _put_item(storage, item_id: str, seller_id: str) -> dict:
    with storage.unit_of_work() as uow:
        item = upsert_item(uow, "course", item_id, seller_id, ADMIN)
        uow.commit()
    return item


# -- the database refuses it ------------------------------------------------------------


def test_the_database_refuses_a_payment_for_another_sellers_item(storage):
    paid = new_payment(storage, seller_id="s1", item_id="shared", capture=False)
    new_payment(storage, seller_id="s2", item_id="other", capture=False)
    row = {c.name: paid[c.name] for c in payments.c}
    # PostgreSQL names the foreign key, so its refusal reads as the domain error it means.
    refused = (IntegrityError, ItemSellerMismatch)
    with pytest.raises(refused), storage.engine.begin() as conn:
        conn.execute(insert(payments).values({**row, "id": new_id("pay"), "seller_id": "s2"}))
    with pytest.raises(refused), storage.engine.begin() as conn:
        conn.execute(update(payments).where(payments.c.id == paid["id"]).values(seller_id="s2"))
    assert _owners(storage, "shared") == ("s1", {"s1"})


def test_the_database_refuses_to_move_an_item_that_has_payments(storage):
    new_payment(storage, seller_id="s1", item_id="shared", capture=False)
    new_payment(storage, seller_id="s2", item_id="other", capture=False)
    with pytest.raises((IntegrityError, ItemHasPayments)), storage.engine.begin() as conn:
        conn.execute(update(items).where(items.c.id == "shared").values(seller_id="s2"))
    assert _owners(storage, "shared") == ("s1", {"s1"})


# -- what the services make of it -------------------------------------------------------


def test_a_payment_for_another_sellers_item_names_the_owner(storage):
    new_payment(storage, seller_id="s1", item_id="shared", capture=False)
    with pytest.raises(ItemSellerMismatch, match="^course shared belongs to seller s1, not s2$"):
        new_payment(storage, seller_id="s2", item_id="shared", capture=False)


def test_an_item_with_payments_keeps_its_seller(storage):
    """Payments keep the seller they were made for, so a paid item cannot change hands."""
    new_payment(storage, seller_id="s1", item_id="shared", capture=False)
    with pytest.raises(ItemHasPayments, match="^course shared has payments for seller s1; "
                                              "it cannot move to seller s2$"):
        _put_item(storage, "shared", "s2")
    assert _owners(storage, "shared") == ("s1", {"s1"})
    assert _put_item(storage, "shared", "s1")["seller_id"] == "s1"  # same seller: fine


def test_an_item_without_payments_may_move_to_another_seller(storage):
    _put_item(storage, "unpaid", "s1")
    assert _put_item(storage, "unpaid", "s2")["seller_id"] == "s2"
    new_payment(storage, seller_id="s2", item_id="unpaid", capture=False)
    assert _owners(storage, "unpaid") == ("s2", {"s2"})


# -- races (PostgreSQL, where they are real) --------------------------------------------


@postgres_only
def test_two_first_payments_for_one_item_with_different_sellers_credit_one(storage, monkeypatch):
    """Both read "no such item" before either writes it; one wins, the other is told who
    owns the item."""
    barrier = threading.Barrier(2, timeout=10)
    lookup = PartyRepository.lookup

    def lookup_then_wait(self, *args):
        found = lookup(self, *args)
        barrier.wait()
        return found

    monkeypatch.setattr(PartyRepository, "lookup", lookup_then_wait)

    def pay(seller_id: str) -> str:
        with storage.unit_of_work() as uow:
            try:
                create_payment(uow, _command(seller_id), ADMIN)
                uow.commit()
                return "ok"
            except PaytrackError as exc:
                return exc.code

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcome = Counter(pool.map(pay, ["s1", "s2"]))
    assert outcome == Counter({"ok": 1, ItemSellerMismatch.code: 1})
    owner, paid = _owners(storage, "new")
    assert paid == {owner}


@postgres_only
def test_a_payment_whose_item_moved_before_it_committed_is_refused(storage):
    _put_item(storage, "unpaid", "s1")
    with storage.unit_of_work() as uow:
        create_payment(uow, _command("s1", "unpaid"), ADMIN)  # written at commit
        _put_item(storage, "unpaid", "s2")  # meanwhile, elsewhere
        with pytest.raises(ItemSellerMismatch,
                           match="^course unpaid does not belong to seller s1"):
            uow.commit()
    assert _owners(storage, "unpaid") == ("s2", set())


@postgres_only
def test_an_item_paid_for_while_it_was_being_moved_keeps_its_seller(storage, monkeypatch):
    _put_item(storage, "unpaid", "s1")
    update_item = PartyRepository.update_item

    def paid_then_moved(self, *args, **fields):
        new_payment(storage, seller_id="s1", item_id="unpaid", capture=False)  # elsewhere
        return update_item(self, *args, **fields)

    monkeypatch.setattr(PartyRepository, "update_item", paid_then_moved)
    with pytest.raises(ItemHasPayments,
                       match="^course unpaid has payments for seller s1; it cannot move"):
        _put_item(storage, "unpaid", "s2")
    assert _owners(storage, "unpaid") == ("s1", {"s1"})
