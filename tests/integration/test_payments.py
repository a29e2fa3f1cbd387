import pytest

from paytrack.domain.actors import Actor, Role
from paytrack.domain.errors import (
    DuplicateGatewayPayment,
    InvalidAmount,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from paytrack.domain.splits import CommissionBase, Policy
from paytrack.services import ledger, parties
from paytrack.services.payments import (
    cancel_payment,
    capture_payment,
    fail_payment,
    get_payment,
    list_payments,
    mark_processing,
    payment_history,
)
from tests.integration.conftest import ADMIN, new_payment


def _accounts(storage):
    with storage.unit_of_work(readonly=True) as uow:
        return {(a["code"], a["currency"]): a["balance"] for a in ledger.list_accounts(uow, ADMIN)}


def test_create_records_the_breakdown_and_fixes_the_split(storage):
    payment = new_payment(storage, subtotal=5000, discount=500, tax=100, shipping=50,
                          capture=False)
    assert payment["status"] == "pending"
    assert payment["total"] == 4650
    assert (payment["platform_fee"], payment["seller_amount"]) == (930, 3720)
    assert payment["id"].startswith("pay_")
    assert _accounts(storage) == {}  # nothing is posted before capture


def test_capture_posts_the_split_to_the_ledger(storage):
    payment = new_payment(storage, subtotal=10000)
    assert payment["status"] == "succeeded" and payment["succeeded_at"] is not None
    assert _accounts(storage) == {
        ("gateway:manual:clearing", "USD"): 10000,
        ("platform:revenue", "USD"): 2000,
        ("seller:seller_1:pending", "USD"): 8000,
    }
    with storage.unit_of_work(readonly=True) as uow:
        assert ledger.trial_balance(uow, ADMIN) == {
            "balanced": True, "currencies": [{"currency": "USD", "debits": 10000,
                                              "credits": 10000}]}
        entries = ledger.list_entries(uow, ADMIN, payment_id=payment["id"])
    assert [e["kind"] for e in entries] == ["payment.captured"]


def test_commission_rate_precedence_payment_then_seller_then_platform(storage):
    with storage.unit_of_work() as uow:
        parties.upsert_party(uow, "seller", "s_vip", ADMIN, commission_rate="0.05")
        uow.commit()
    default = new_payment(storage, seller_id="s_plain", capture=False)
    override = new_payment(storage, seller_id="s_vip", capture=False)
    explicit = new_payment(storage, seller_id="s_vip", commission_rate="0.10", capture=False)
    assert [p["platform_fee"] for p in (default, override, explicit)] == [2000, 500, 1000]
    assert [p["commission_rate"] for p in (default, override, explicit)] == ["0.20", "0.05",
                                                                              "0.10"]


def test_net_base_sends_tax_to_tax_payable(make_storage):
    storage = make_storage(Policy(commission_base=CommissionBase.NET))
    payment = new_payment(storage, subtotal=5000, discount=500, tax=400, shipping=100)
    assert (payment["platform_fee"], payment["seller_amount"], payment["tax_collected"]) == (
        900, 3700, 400)
    balances = _accounts(storage)
    assert balances[("platform:tax_payable", "USD")] == 400
    assert balances[("seller:seller_1:pending", "USD")] == 3700


def test_gateway_fee_is_borne_by_the_platform(storage):
    payment = new_payment(storage, capture=False)
    with storage.unit_of_work() as uow:
        capture_payment(uow, payment["id"], ADMIN, gateway_fee=320)
        uow.commit()
    balances = _accounts(storage)
    assert balances[("platform:fees", "USD")] == 320
    assert balances[("gateway:manual:clearing", "USD")] == 10000 - 320
    assert balances[("seller:seller_1:pending", "USD")] == 8000


def test_parties_are_created_on_first_reference_and_editable_later(storage):
    new_payment(storage, seller_id="inst_9", customer_id="stu_4", capture=False)
    with storage.unit_of_work() as uow:
        assert parties.get_party(uow, "customer", "stu_4", ADMIN)["name"] is None
        parties.upsert_party(uow, "customer", "stu_4", ADMIN, name="Ada", email="ada@x.org")
        parties.upsert_party(uow, "seller", "inst_9", ADMIN, commission_rate="0.15")
        uow.commit()
    with storage.unit_of_work() as uow:
        assert parties.get_party(uow, "customer", "stu_4", ADMIN)["email"] == "ada@x.org"
        assert parties.get_party(uow, "seller", "inst_9", ADMIN)["commission_rate"] == "0.15"
        assert uow.parties.get_item("course", "course_inst_9")["seller_id"] == "inst_9"


def test_an_item_belongs_to_one_seller(storage):
    new_payment(storage, seller_id="s1", item_id="shared", capture=False)
    with pytest.raises(ValidationFailed, match="belongs to seller s1"):
        new_payment(storage, seller_id="s2", item_id="shared", capture=False)


@pytest.mark.parametrize(("field", "value", "error"), [
    ("currency", "XYZ", ValidationFailed), ("subtotal", 0, InvalidAmount),
    ("subtotal", 12.5, InvalidAmount), ("discount", 20000, ValidationFailed),
    ("method", "cheque", ValidationFailed), ("commission_rate", "1.5", ValidationFailed),
])
def test_bad_input_is_refused_and_changes_nothing(storage, field, value, error):
    with pytest.raises(error):
        new_payment(storage, capture=False, **{field: value})
    with storage.unit_of_work(readonly=True) as uow:
        assert list_payments(uow, ADMIN) == []
        assert uow.parties.get("customer", "cust_1") is None


def test_the_state_machine_refuses_moves_it_does_not_allow(storage):
    payment = new_payment(storage)
    for action in (capture_payment, fail_payment, cancel_payment):
        with storage.unit_of_work() as uow, pytest.raises(InvalidTransition):
            action(uow, payment["id"], ADMIN)
    failed = new_payment(storage, capture=False)
    with storage.unit_of_work() as uow:
        fail_payment(uow, failed["id"], ADMIN, reason="card declined")
        uow.commit()
    for action in (fail_payment, cancel_payment, mark_processing):
        with storage.unit_of_work() as uow, pytest.raises(InvalidTransition, match="failed"):
            action(uow, failed["id"], ADMIN)


def test_capturing_twice_posts_once(storage):
    payment = new_payment(storage)
    with storage.unit_of_work() as uow, pytest.raises(InvalidTransition):
        capture_payment(uow, payment["id"], ADMIN)
    assert _accounts(storage)[("gateway:manual:clearing", "USD")] == 10000


def test_status_history_records_time_actor_and_reason(storage):
    payment = new_payment(storage, capture=False)
    with storage.unit_of_work() as uow:
        mark_processing(uow, payment["id"], ADMIN)
        fail_payment(uow, payment["id"], ADMIN, reason="insufficient funds")
        uow.commit()
    with storage.unit_of_work(readonly=True) as uow:
        history = payment_history(uow, payment["id"], ADMIN)
        stored = get_payment(uow, payment["id"], ADMIN)
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        (None, "pending"), ("pending", "processing"), ("processing", "failed")]
    assert history[-1]["reason"] == "insufficient funds"
    assert history[-1]["actor"] == "admin:key_admin"
    assert history[-1]["created_at"].tzinfo is not None
    assert stored["failure_reason"] == "insufficient funds" and stored["failed_at"]


def test_every_state_change_and_money_movement_is_audited(storage):
    payment = new_payment(storage)
    with storage.unit_of_work(readonly=True) as uow:
        trail = uow.records.audit_trail("payment", payment["id"])
    assert [a["action"] for a in trail] == ["payment.created", "payment.succeeded"]
    assert trail[1]["before"] == {"status": "pending"}
    assert trail[1]["after"]["status"] == "succeeded"
    assert trail[1]["actor"] == "admin:key_admin"


def test_a_gateway_payment_id_is_recorded_once(storage):
    new_payment(storage, capture=False, gateway="stripe", gateway_payment_id="pi_123")
    with pytest.raises(DuplicateGatewayPayment):
        new_payment(storage, capture=False, gateway="stripe", gateway_payment_id="pi_123")
    new_payment(storage, capture=False, gateway="paypal", gateway_payment_id="pi_123")


def test_sellers_and_customers_see_only_their_own_payments(storage):
    mine = new_payment(storage, seller_id="a", customer_id="c1", capture=False)
    new_payment(storage, seller_id="b", customer_id="c2", capture=False)
    with storage.unit_of_work(readonly=True) as uow:
        seller_a = Actor(Role.SELLER, "a")
        assert [p["id"] for p in list_payments(uow, seller_a)] == [mine["id"]]
        assert list_payments(uow, seller_a, seller_id="b") == []
        assert [p["id"] for p in list_payments(uow, Actor(Role.CUSTOMER, "c1"))] == [mine["id"]]
        with pytest.raises(NotFound):
            get_payment(uow, mine["id"], Actor(Role.SELLER, "b"))


def test_lists_are_newest_first_with_a_cursor(storage):
    made = [new_payment(storage, capture=False)["id"] for _ in range(5)]
    with storage.unit_of_work(readonly=True) as uow:
        first = list_payments(uow, ADMIN, limit=3)
        rest = list_payments(uow, ADMIN, limit=3, cursor=first[-1]["id"])
    assert [p["id"] for p in first + rest] == made[::-1]


def test_list_filters_by_status_and_seller(storage):
    new_payment(storage, seller_id="a")
    pending = new_payment(storage, seller_id="a", capture=False)
    new_payment(storage, seller_id="b", capture=False)
    with storage.unit_of_work(readonly=True) as uow:
        found = list_payments(uow, ADMIN, status="pending", seller_id="a")
    assert [p["id"] for p in found] == [pending["id"]]


def test_a_payment_the_gateway_already_confirmed_is_recorded_and_captured_at_once(storage):
    payment = new_payment(storage, capture=False, captured=True, gateway="razorpay",
                          gateway_payment_id="pay_rzp_1", gateway_fee=236)
    assert payment["status"] == "succeeded"
    with storage.unit_of_work(readonly=True) as uow:
        history = payment_history(uow, payment["id"], ADMIN)
        actions = [a["action"] for a in uow.records.audit_trail("payment", payment["id"])]
        assert ledger.verify_ledger(uow, ADMIN)["ok"]
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        (None, "pending"), ("pending", "succeeded")]
    assert actions == ["payment.created", "payment.succeeded"]
    balances = _accounts(storage)
    assert balances[("gateway:razorpay:clearing", "USD")] == 10000 - 236
    assert balances[("platform:fees", "USD")] == 236


def test_a_gateway_fee_above_the_total_is_refused(storage):
    with pytest.raises(InvalidAmount):
        new_payment(storage, capture=False, captured=True, gateway_fee=10001)
    payment = new_payment(storage, capture=False)
    with storage.unit_of_work() as uow, pytest.raises(InvalidAmount):
        capture_payment(uow, payment["id"], ADMIN, gateway_fee=10001)


def test_a_constraint_violated_by_any_statement_is_a_domain_error(storage):
    """Not only buffered INSERTs: an UPDATE the database refuses is translated too (the
    backstop behind the services' own checks, e.g. for two racing captures)."""
    new_payment(storage, gateway="stripe", gateway_payment_id="pi_9")
    other = new_payment(storage, gateway="stripe", capture=False)
    with storage.unit_of_work() as uow, pytest.raises(DuplicateGatewayPayment):
        uow.payments.transition(other["id"], ["pending"], "pending",
                                {"gateway_payment_id": "pi_9"})
