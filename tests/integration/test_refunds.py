import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from paytrack.adapters.storage.tables import refunds as refunds_table
from paytrack.domain.actors import Actor, Role
from paytrack.domain.errors import (
    Forbidden,
    InvalidAmount,
    InvalidTransition,
    NotFound,
    RefundExceedsCaptured,
    ValidationFailed,
)
from paytrack.domain.splits import CommissionBase, Policy
from paytrack.services import ledger
from paytrack.services.payments import get_payment, payment_history
from paytrack.services.refunds import (
    approve_refund,
    get_refund,
    list_refunds,
    refund_payment,
    reject_refund,
    request_refund,
)
from tests.integration.conftest import ADMIN, new_payment
from tests.integration.conftest import committed as _do

CUSTOMER = Actor(Role.CUSTOMER, "cust_1")


def _balances(storage):
    with storage.unit_of_work(readonly=True) as uow:
        return {a["code"]: a["balance"] for a in ledger.list_accounts(uow, ADMIN)}


def test_a_customer_requests_and_an_admin_approves(storage):
    payment = new_payment(storage)
    refund = _do(storage, request_refund, payment["id"], CUSTOMER, amount=2500,
                 reason="course not as described")
    assert refund["status"] == "requested" and refund["requested_by"] == "customer:cust_1"
    done = _do(storage, approve_refund, refund["id"], ADMIN)
    assert done["status"] == "succeeded"
    assert (done["seller_part"], done["platform_part"]) == (2000, 500)
    with storage.unit_of_work(readonly=True) as uow:
        stored = get_payment(uow, payment["id"], ADMIN)
        history = [h["to_status"] for h in payment_history(uow, payment["id"], ADMIN)]
        refund_history = uow.records.status_history("refund", refund["id"])
    assert (stored["status"], stored["refunded_amount"]) == ("partially_refunded", 2500)
    assert history == ["pending", "succeeded", "partially_refunded"]
    assert [h["to_status"] for h in refund_history] == ["requested", "approved", "succeeded"]
    assert _balances(storage)["seller:seller_1:pending"] == 6000


def test_a_rejected_refund_keeps_its_reason_and_moves_no_money(storage):
    payment = new_payment(storage)
    refund = _do(storage, request_refund, payment["id"], CUSTOMER, reason="changed my mind")
    rejected = _do(storage, reject_refund, refund["id"], ADMIN, reason="outside refund window")
    assert (rejected["status"], rejected["rejection_reason"]) == ("rejected",
                                                                  "outside refund window")
    with pytest.raises(InvalidTransition):
        _do(storage, approve_refund, refund["id"], ADMIN)
    assert _balances(storage)["seller:seller_1:pending"] == 8000


def test_only_admins_decide(storage):
    payment = new_payment(storage)
    refund = _do(storage, request_refund, payment["id"], CUSTOMER, reason="r")
    with pytest.raises(Forbidden):
        _do(storage, approve_refund, refund["id"], CUSTOMER)
    with pytest.raises(Forbidden):
        _do(storage, refund_payment, payment["id"], Actor(Role.SELLER, "seller_1"), reason="r")


def test_a_customer_can_request_refunds_only_on_its_own_payments(storage):
    payment = new_payment(storage, customer_id="someone_else")
    with pytest.raises(NotFound):
        _do(storage, request_refund, payment["id"], CUSTOMER, reason="r")
    refund = _do(storage, request_refund, payment["id"], ADMIN, reason="r")
    with storage.unit_of_work(readonly=True) as uow:
        with pytest.raises(NotFound):
            get_refund(uow, refund["id"], CUSTOMER)
        assert list_refunds(uow, CUSTOMER) == []
        assert [r["id"] for r in list_refunds(uow, ADMIN)] == [refund["id"]]


def test_partial_refunds_then_the_rest_return_the_split_exactly(storage):
    payment = new_payment(storage, subtotal=10001)  # fee 2000 (2000.2), seller 8001
    for amount in (3333, 3333, None):
        _do(storage, refund_payment, payment["id"], ADMIN, amount=amount, reason="r")
    with storage.unit_of_work(readonly=True) as uow:
        refunds = list_refunds(uow, ADMIN, payment_id=payment["id"])
        stored = get_payment(uow, payment["id"], ADMIN)
        assert ledger.verify_ledger(uow, ADMIN)["ok"]
    assert stored["status"] == "refunded" and stored["refunded_amount"] == 10001
    assert sum(r["seller_part"] for r in refunds) == payment["seller_amount"]
    assert sum(r["platform_part"] for r in refunds) == payment["platform_fee"]
    balances = _balances(storage)
    assert balances["seller:seller_1:pending"] == 0
    assert balances["platform:revenue"] == 0
    assert balances["gateway:manual:clearing"] == 0


def test_a_refund_takes_every_leg_back_and_never_credits_tax_payable(make_storage):
    """The issue's Alabama case: after refunding 0.18 of a net-base payment (subtotal 49.99,
    tax 4.13), largest remainder split a refund of 0.01 as seller +1, platform +1, tax -1."""
    storage = make_storage(Policy(commission_base=CommissionBase.NET))
    payment = new_payment(storage, subtotal=4999, tax=413, commission_rate="0.20")
    _do(storage, refund_payment, payment["id"], ADMIN, amount=18, reason="r")
    refund = _do(storage, refund_payment, payment["id"], ADMIN, amount=1, reason="r")
    parts = [refund[f"{leg}_part"] for leg in ("seller", "platform", "tax", "shipping")]
    assert sum(parts) == 1 and min(parts) == 0
    with storage.unit_of_work(readonly=True) as uow:
        entry = ledger.list_entries(uow, ADMIN, payment_id=payment["id"])[0]
        assert ledger.verify_ledger(uow, ADMIN)["ok"]
    legs = {p["account"]: p["amount"] for p in entry["postings"]}
    assert all(amount > 0 for code, amount in legs.items() if not code.startswith("gateway:"))
    assert legs["gateway:manual:clearing"] == -1


def test_the_database_refuses_a_refund_part_below_zero(storage):
    payment = new_payment(storage)
    refund = _do(storage, refund_payment, payment["id"], ADMIN, amount=100, reason="r")
    assert (refund["seller_part"], refund["platform_part"]) == (80, 20)
    with pytest.raises(IntegrityError), storage.engine.begin() as conn:
        conn.execute(update(refunds_table).where(refunds_table.c.id == refund["id"])
                     .values(seller_part=101, platform_part=-1))


def test_a_refund_can_never_exceed_what_was_captured(storage):
    payment = new_payment(storage)
    _do(storage, refund_payment, payment["id"], ADMIN, amount=9000, reason="r")
    exceeds = r"^refund of 10\.01 USD exceeds the refundable 10\.00 USD$"
    with pytest.raises(RefundExceedsCaptured, match=exceeds):
        _do(storage, refund_payment, payment["id"], ADMIN, amount=1001, reason="r")
    # two requests that each fit, but not together: the first reserves its amount, so the
    # second is refused when asked (not, as before, when approved, staying open forever)
    first = _do(storage, request_refund, payment["id"], ADMIN, amount=800, reason="a")
    with pytest.raises(RefundExceedsCaptured):
        _do(storage, request_refund, payment["id"], ADMIN, amount=800, reason="b")
    _do(storage, approve_refund, first["id"], ADMIN)
    with storage.unit_of_work(readonly=True) as uow:
        assert get_payment(uow, payment["id"], ADMIN)["refunded_amount"] == 9800


@pytest.mark.parametrize("amount", [0, -5, 12.5, True])
def test_refund_amounts_must_be_positive_integers(storage, amount):
    payment = new_payment(storage)
    with pytest.raises(InvalidAmount):
        _do(storage, request_refund, payment["id"], ADMIN, amount=amount, reason="r")


def test_a_reason_is_required(storage):
    payment = new_payment(storage)
    with pytest.raises(ValidationFailed):
        _do(storage, request_refund, payment["id"], ADMIN, reason="  ")


def test_an_uncaptured_payment_cannot_be_refunded(storage):
    payment = new_payment(storage, capture=False)
    with pytest.raises(InvalidTransition, match="pending"):
        _do(storage, refund_payment, payment["id"], ADMIN, reason="r")


def test_a_one_step_refund_records_every_step_and_audits_the_money(storage):
    payment = new_payment(storage)
    refund = _do(storage, refund_payment, payment["id"], ADMIN, reason="duplicate charge")
    with storage.unit_of_work(readonly=True) as uow:
        steps = [h["to_status"] for h in uow.records.status_history("refund", refund["id"])]
        actions = [a["action"] for a in uow.records.audit_trail("payment", payment["id"])]
        entries = ledger.list_entries(uow, ADMIN, payment_id=payment["id"])
    assert steps == ["requested", "approved", "succeeded"]
    assert actions[-1] == "payment.refunded"
    assert [e["kind"] for e in entries] == ["refund.succeeded", "payment.captured"]
    assert {p["account"]: p["amount"] for p in entries[0]["postings"]} == {
        "seller:seller_1:pending": 8000, "platform:revenue": 2000,
        "gateway:manual:clearing": -10000}
