from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from paytrack.adapters.storage.uow import Storage
from paytrack.domain.actors import Actor, Role
from paytrack.domain.errors import PaytrackError
from paytrack.services.payments import CreatePayment, capture_payment, create_payment

ADMIN = Actor(Role.ADMIN, "key_admin")


def new_payment(storage: Storage, *, subtotal: int = 10000, seller_id: str = "seller_1",
                customer_id: str = "cust_1", currency: str = "USD", capture: bool = True,
                **extra) -> dict:
    cmd = CreatePayment(customer_id=customer_id, seller_id=seller_id, item_type="course",
                        item_id=extra.pop("item_id", f"course_{seller_id}"), currency=currency,
                        subtotal=subtotal, **extra)
    with storage.unit_of_work() as uow:
        payment = create_payment(uow, cmd, ADMIN)
        uow.commit()
    if capture:
        with storage.unit_of_work() as uow:
            payment = capture_payment(uow, payment["id"], ADMIN)
            uow.commit()
    return payment


def committed(storage: Storage, action, *args, **kwargs):
    """Run a service function in its own unit of work and commit it."""
    with storage.unit_of_work() as uow:
        result = action(uow, *args, **kwargs)
        uow.commit()
    return result


@pytest.fixture
def pay(storage):
    return lambda **kw: new_payment(storage, **kw)


def race(storage: Storage, n: int, action) -> Counter:
    """Run ``action(uow, i)`` in ``n`` threads, each in its own unit of work, all starting
    together at a barrier; count how each ended: "ok" or the refusal's problem code."""
    barrier = threading.Barrier(n)

    def one(i: int) -> str:
        with storage.unit_of_work() as uow:
            barrier.wait()
            try:
                action(uow, i)
                uow.commit()
                return "ok"
            except PaytrackError as exc:
                return exc.code

    with ThreadPoolExecutor(max_workers=n) as pool:
        return Counter(pool.map(one, range(n)))
