"""Random sequences of marketplace operations (payments with coupons, refunds,
disputes, releases, payouts) and, after every step, the sum-of-parts invariants an outside
tester recomputes from the records alone, plus ``ledger verify``."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from paytrack.adapters.secrets import PayoutKeyring
from paytrack.adapters.storage.tables import (
    coupon_redemptions,
    disputes,
    payments,
    payouts,
    refunds,
    seller_earnings,
)
from paytrack.adapters.storage.tables import (
    coupons as coupons_table,
)
from paytrack.adapters.storage.uow import Storage
from paytrack.domain.actors import Actor, Role
from paytrack.domain.errors import PaytrackError
from paytrack.domain.payouts import PayoutRules
from paytrack.domain.splits import Bearer, Policy
from paytrack.services import coupons, ledger, seller_funds
from paytrack.services import disputes as dsvc
from paytrack.services import payments as psvc
from paytrack.services import payouts as posvc
from paytrack.services import refunds as rsvc

ADMIN = Actor(Role.ADMIN, "key_admin")
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SELLERS = ["s_a", "s_b", "s_c"]
CAPTURED = {"succeeded", "partially_refunded", "refunded", "disputed", "charged_back"}
IBAN = "DE89370400440532013000"


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def run(storage, fn, *args, **kwargs):
    with storage.unit_of_work() as uow:
        result = fn(uow, *args, **kwargs)
        uow.commit()
    return result


def rows(storage, table):
    with storage.unit_of_work(readonly=True) as uow:
        return [dict(r._mapping) for r in uow.conn.execute(select(table))]


def account(storage, code, currency="USD") -> int:
    with storage.unit_of_work(readonly=True) as uow:
        found = uow.ledger.accounts(code=code, currency=currency)
    return int(found[0]["current_balance"]) if found else 0


def check_invariants(storage, *, strict_debt: bool) -> None:
    with storage.unit_of_work(readonly=True) as uow:
        report = ledger.verify_ledger(uow, ADMIN)
    assert report["ok"], report
    pays = {p["id"]: p for p in rows(storage, payments)}
    refs = rows(storage, refunds)
    disps = rows(storage, disputes)
    pos = rows(storage, payouts)
    earns = rows(storage, seller_earnings)
    for seller in SELLERS:
        with storage.unit_of_work(readonly=True) as uow:
            bal = next((b for b in ledger.seller_balance(uow, seller, ADMIN)["balances"]
                        if b["currency"] == "USD"), None) if uow.parties.get(
                "seller", seller) else None
        bal = bal or {"pending": 0, "available": 0, "in_transit": 0, "paid_out": 0, "debt": 0}
        mine = [p for p in pays.values() if p["seller_id"] == seller and p["status"] in CAPTURED]
        expected = 0
        for p in mine:
            fee = p["gateway_fee"] if p["gateway_fee_bearer"] == "seller" else 0
            expected += p["seller_amount"] - fee
        expected -= sum(r["seller_part"] for r in refs if r["status"] == "succeeded"
                        and pays[r["payment_id"]]["seller_id"] == seller)
        expected -= sum(d["seller_part"] for d in disps if d["seller_id"] == seller
                        and d["status"] in ("open", "under_review", "lost"))
        got = bal["pending"] + bal["available"] + bal["in_transit"] + bal["paid_out"] - bal["debt"]
        assert got == expected, (seller, bal, expected)
        assert bal["pending"] == sum(e["pending"] for e in earns if e["seller_id"] == seller
                                     and e["released_at"] is None), (seller, bal)
        assert bal["in_transit"] == sum(p["amount"] for p in pos if p["seller_id"] == seller
                                        and p["status"] in ("requested", "approved"))
        assert bal["paid_out"] == sum(p["amount"] for p in pos if p["seller_id"] == seller
                                      and p["status"] == "paid")
        assert bal["available"] >= 0 and bal["debt"] >= 0
        if strict_debt:
            assert not (bal["available"] > 0 and bal["debt"] > 0), (
                f"seller {seller} has money available while owing debt", bal)
    # platform:discounts: platform-funded discounts captured minus what came back
    discounts = sum(p["platform_discount"] for p in pays.values() if p["status"] in CAPTURED)
    discounts -= sum(r["discount_part"] for r in refs if r["status"] == "succeeded")
    discounts -= sum(d["discount_part"] for d in disps if d["status"] == "lost")
    assert account(storage, "platform:discounts") == discounts
    revenue = sum(p["platform_fee"] for p in pays.values() if p["status"] in CAPTURED)
    revenue -= sum(r["platform_part"] for r in refs if r["status"] == "succeeded")
    revenue -= sum(d["platform_part"] for d in disps if d["status"] == "lost")
    assert account(storage, "platform:revenue") == revenue
    held = sum(d["fee"] for d in disps)
    held += sum(d["amount"] - d["seller_part"] for d in disps if d["status"] in
                ("open", "under_review"))
    assert account(storage, "platform:disputes") == held
    clearing = sum(p["total"] - p["gateway_fee"] for p in pays.values()
                   if p["status"] in CAPTURED)
    clearing -= sum(r["amount"] for r in refs if r["status"] == "succeeded")
    clearing -= sum(d["amount"] + d["fee"] for d in disps if d["status"] != "won")
    clearing -= sum(d["fee"] for d in disps if d["status"] == "won")
    clearing -= sum(p["amount"] for p in pos if p["status"] == "paid")
    assert account(storage, "gateway:manual:clearing") == clearing
    for p in pays.values():
        if p["status"] == "refunded":
            mine = [r for r in refs if r["payment_id"] == p["id"] and r["status"] == "succeeded"]
            assert sum(r["seller_part"] for r in mine) == p["seller_amount"]
            assert sum(r["platform_part"] for r in mine) == p["platform_fee"]
            assert sum(r["discount_part"] for r in mine) == p["platform_discount"]
    # coupon places held == redemptions counted and not released
    reds = rows(storage, coupon_redemptions)
    for c in rows(storage, coupons_table):
        if c["max_redemptions"] is None:
            continue
        counted = sum(1 for r in reds if r["coupon_id"] == c["id"] and r["counted"]
                      and r["status"] in ("reserved", "redeemed"))
        assert c["redemptions_held"] == counted, c


def scenario(storage, clock, seed: int, steps: int, *, strict_debt: bool = False) -> None:
    rnd = random.Random(seed)
    run(storage, coupons.create_coupon, coupons.CreateCoupon(
        code="PLAT30", kind="percent", percent_off="0.3", funded_by="platform",
        max_redemptions=6), ADMIN)
    run(storage, coupons.create_coupon, coupons.CreateCoupon(
        code="SELL5", kind="fixed", amount_off=500, currency="USD", funded_by="seller",
        seller_ids=list(SELLERS)), ADMIN)
    log = []
    for step in range(steps):
        pays = rows(storage, payments)
        op = rnd.choice(["pay", "pay", "pay", "refund", "refund", "dispute", "decide",
                         "time", "payout", "payout_move", "cancel", "capture_late"])
        try:
            if op == "pay":
                seller = rnd.choice(SELLERS)
                code = rnd.choice([None, "PLAT30", "SELL5"])
                cmd = psvc.CreatePayment(
                    customer_id=f"c{rnd.randint(1, 3)}", seller_id=seller, item_type="course",
                    item_id=f"i_{seller}", currency="USD", subtotal=rnd.randint(100, 20000),
                    tax=rnd.choice([0, 0, rnd.randint(1, 999)]),
                    shipping=rnd.choice([0, rnd.randint(1, 500)]), coupon_code=code)
                p = run(storage, psvc.create_payment, cmd, ADMIN)
                if rnd.random() < 0.8:
                    run(storage, psvc.capture_payment, p["id"], ADMIN,
                        gateway_fee=rnd.choice([0, rnd.randint(0, min(300, p["total"]))]))
                log.append((op, p["id"], code))
                if rnd.random() < 0.3:
                    run(storage, posvc.set_payout_account, seller, ADMIN,
                        method="bank_transfer",
                        details={"account_holder": "Ada", "iban": IBAN})
            elif op == "refund":
                cands = [p for p in pays if p["status"] in ("succeeded", "partially_refunded")]
                if cands:
                    p = rnd.choice(cands)
                    left = p["total"] - p["refunded_amount"] - p["refund_reserved_amount"] \
                        - p["disputed_amount"]
                    amount = None if rnd.random() < 0.3 or left <= 1 else rnd.randint(1, left)
                    run(storage, rsvc.refund_payment, p["id"], ADMIN, reason="r",
                        amount=amount)
                    log.append((op, p["id"], amount))
            elif op == "dispute":
                cands = [p for p in pays if p["status"] in ("succeeded", "partially_refunded")]
                if cands:
                    p = rnd.choice(cands)
                    left = p["total"] - p["refunded_amount"] - p["disputed_amount"]
                    if left > 0:
                        amount = rnd.choice([left, rnd.randint(1, left)])
                        run(storage, dsvc.open_dispute, p["id"], ADMIN, amount=amount,
                            reason="chargeback", fee=rnd.choice([0, 1500]))
                        log.append((op, p["id"], amount))
            elif op == "decide":
                open_ = [d for d in rows(storage, disputes) if d["status"] in
                         ("open", "under_review")]
                if open_:
                    d = rnd.choice(open_)
                    fn = rnd.choice([dsvc.win_dispute, dsvc.lose_dispute])
                    run(storage, fn, d["id"], ADMIN)
                    log.append((fn.__name__, d["id"]))
            elif op == "time":
                clock.now += timedelta(days=rnd.choice([1, 3, 8]))
                run(storage, seller_funds.release_due)
                log.append((op,))
            elif op == "payout":
                seller = rnd.choice(SELLERS)
                with storage.unit_of_work(readonly=True) as uow:
                    avail = uow.ledger.accounts(code=f"seller:{seller}:available",
                                                currency="USD")
                avail = int(avail[0]["current_balance"]) if avail else 0
                if avail >= 1000:
                    amount = rnd.randint(1000, avail)
                    run(storage, posvc.request_payout, ADMIN, amount=amount, currency="USD",
                        method="bank_transfer", seller_id=seller)
                    log.append((op, seller, amount))
            elif op == "payout_move":
                open_ = [p for p in rows(storage, payouts) if p["status"] in
                         ("requested", "approved")]
                if open_:
                    po = rnd.choice(open_)
                    if po["status"] == "requested" and rnd.random() < 0.5:
                        run(storage, posvc.approve_payout, po["id"], ADMIN)
                    else:
                        move = rnd.choice(["pay", "fail", "cancel"])
                        if move == "pay":
                            run(storage, posvc.pay_payout, po["id"], ADMIN, reference="x")
                        elif move == "fail":
                            run(storage, posvc.fail_payout, po["id"], ADMIN, reason="bank")
                        elif po["status"] == "requested":
                            run(storage, posvc.cancel_payout, po["id"], ADMIN)
                        log.append((op, po["id"], move))
            elif op == "cancel":
                cands = [p for p in pays if p["status"] == "pending"]
                if cands:
                    p = rnd.choice(cands)
                    run(storage, psvc.cancel_payment, p["id"], ADMIN)
                    log.append((op, p["id"]))
            elif op == "capture_late":
                cands = [p for p in pays if p["status"] in ("canceled", "pending")]
                if cands:
                    p = rnd.choice(cands)
                    run(storage, psvc.capture_payment, p["id"], ADMIN)
                    log.append((op, p["id"]))
        except PaytrackError as exc:
            log.append((op, "refused", exc.code))
        try:
            check_invariants(storage, strict_debt=strict_debt)
        except AssertionError as exc:
            raise AssertionError(f"seed {seed} step {step}: {log[-5:]}: {exc}") from exc


@pytest.fixture
def clock():
    return Clock()


def make_storage(engine, clock, bearer=Bearer.PLATFORM):
    return Storage(engine, Policy(hold_days=3, gateway_fee_bearer=bearer,
                                  payouts=PayoutRules.parse("10.00")),
                   clock=clock, payout_keys=PayoutKeyring.of(Fernet.generate_key()))


@pytest.mark.parametrize("seed", range(3))
def test_random_marketplace_sequences_keep_every_sum(engine, clock, seed):
    scenario(make_storage(engine, clock), clock, seed, 120)


@pytest.mark.parametrize("seed", range(1))
def test_random_sequences_with_seller_borne_gateway_fees(engine, clock, seed):
    scenario(make_storage(engine, clock, Bearer.SELLER), clock, 100 + seed, 120)


@pytest.mark.parametrize("seed", range(1))
def test_no_seller_has_money_available_while_owing_debt(engine, clock, seed):
    scenario(make_storage(engine, clock), clock, 200 + seed, 150, strict_debt=True)


@pytest.mark.skipif(not __import__("tests.conftest", fromlist=["ON_POSTGRES"]).ON_POSTGRES,
                    reason="races are only real on PostgreSQL")
def test_concurrent_mixed_operations_never_fail_unexpectedly(engine, clock):
    """Refunds, disputes, decisions, releases, payout requests and returns racing on two
    sellers: every refusal is a domain error (no deadlock, no assertion), and every sum
    still holds afterwards."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    storage = make_storage(engine, clock)
    run(storage, coupons.create_coupon, coupons.CreateCoupon(
        code="PLAT30", kind="percent", percent_off="0.3", funded_by="platform"), ADMIN)
    pays = []
    for i in range(40):
        seller = SELLERS[i % 2]
        p = run(storage, psvc.create_payment, psvc.CreatePayment(
            customer_id="c1", seller_id=seller, item_type="course", item_id=f"i_{seller}",
            currency="USD", subtotal=5000 + i, tax=300,
            coupon_code="PLAT30" if i % 3 == 0 else None), ADMIN)
        pays.append(run(storage, psvc.capture_payment, p["id"], ADMIN))
    for seller in SELLERS[:2]:
        run(storage, posvc.set_payout_account, seller, ADMIN, method="bank_transfer",
            details={"account_holder": "Ada", "iban": IBAN})
    clock.now += timedelta(days=2)
    # Half of them are due (backdate half the earnings).
    with storage.unit_of_work() as uow:
        uow.conn.execute(seller_earnings.update().where(
            seller_earnings.c.payment_id.in_([p["id"] for p in pays[::2]]))
            .values(captured_s=int((START - timedelta(days=30)).timestamp())))
        uow.commit()
    errors: list[BaseException] = []
    barrier = threading.Barrier(12)

    def worker(n: int) -> None:
        rnd = random.Random(n)
        barrier.wait()
        for _ in range(25):
            p = rnd.choice(pays)
            op = rnd.choice(["refund", "dispute", "decide", "release", "payout", "return"])
            try:
                if op == "refund":
                    run(storage, rsvc.refund_payment, p["id"], ADMIN, reason="r",
                        amount=rnd.choice([None, 700]))
                elif op == "dispute":
                    run(storage, dsvc.open_dispute, p["id"], ADMIN, amount=900, reason="x")
                elif op == "decide":
                    open_ = [d for d in rows(storage, disputes) if d["status"] == "open"]
                    if open_:
                        fn = rnd.choice([dsvc.win_dispute, dsvc.lose_dispute])
                        run(storage, fn, rnd.choice(open_)["id"], ADMIN)
                elif op == "release":
                    run(storage, seller_funds.release_due, limit=3)
                elif op == "payout":
                    run(storage, posvc.request_payout, ADMIN, amount=1000, currency="USD",
                        method="bank_transfer", seller_id=rnd.choice(SELLERS[:2]))
                else:
                    open_ = [x for x in rows(storage, payouts) if x["status"] == "requested"]
                    if open_:
                        run(storage, rnd.choice([posvc.cancel_payout, posvc.approve_payout]),
                            rnd.choice(open_)["id"], ADMIN)
            except PaytrackError:
                pass
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(worker, range(12)))
    assert not errors, [repr(e)[:300] for e in errors[:5]]
    check_invariants(storage, strict_debt=True)
