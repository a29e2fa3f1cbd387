"""Each provider's sample settlement report reconciled against payments made in the test:
every class of line, the fee difference posted once with the ledger still verifying, the
same file imported twice (and at once, on PostgreSQL), exceptions resolved, payments
marked reconciled in bulk."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from paytrack.adapters.storage.tables import (
    journal_entries,
    reconciliation_imports,
    reconciliation_lines,
)
from paytrack.adapters.storage.uow import Storage
from paytrack.domain.actors import Actor, Role
from paytrack.domain.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from paytrack.domain.splits import Policy
from paytrack.services import ledger, reconciliation
from tests.clock import Clock
from tests.conftest import postgres_only
from tests.integration.conftest import ADMIN, committed, race
from tests.integration.reconciliation_support import (
    EXPECTED_COUNTS,
    FEE_DIFFERENCE,
    GATEWAYS,
    IN_PERIOD,
    record_paytrack_side,
    report,
    scenario,
)


@pytest.fixture
def storage(engine) -> Storage:
    """Payments made within the sample reports' period."""
    return Storage(engine, Policy(), clock=Clock(IN_PERIOD))


def _import(storage: Storage, gateway: str, data: bytes | None = None,
            actor: Actor = ADMIN) -> reconciliation.Imported:
    return committed(storage, reconciliation.import_report, gateway,
                     report(gateway) if data is None else data, actor)


def _fees_balance(storage: Storage, currency: str) -> int:
    with storage.unit_of_work(readonly=True) as uow:
        accounts = ledger.list_accounts(uow, ADMIN, code="platform:fees", currency=currency)
    return sum(a["balance"] for a in accounts)


def _count(storage: Storage, table) -> int:
    with storage.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_each_line_of_the_sample_report_is_classified(storage, gateway):
    ids = record_paytrack_side(storage, gateway)
    data = scenario(gateway)
    imported = _import(storage, gateway)
    result = imported.report
    assert imported.created
    assert result["counts"] == EXPECTED_COUNTS
    assert result["exceptions"] == 6
    assert result["line_count"] == 26
    with storage.unit_of_work(readonly=True) as uow:
        found = reconciliation.list_exceptions(uow, ADMIN, import_id=result["id"], limit=100)
    by_class = {line["match_class"]: line for line in found}
    assert set(by_class) == set(EXPECTED_COUNTS) - {"matched", "ignored"}
    mismatch = by_class["amount_mismatch"]
    assert (mismatch["report_amount"], mismatch["paytrack_amount"]) == (5000, 4500)
    assert mismatch["payment_id"] == ids[data["payments"][16]["ref"]]
    missing = by_class["missing_in_report"]
    assert missing["payment_id"] == ids[data["missing_in_report"]["ref"]]
    assert missing["line_number"] is None
    assert by_class["duplicate"]["gateway_ref"] is not None
    assert all(line["exception_status"] == "open" for line in found)
    unknown = [line for line in found if line["match_class"] == "missing_in_paytrack"]
    assert sorted(line["kind"] for line in unknown) == ["charge", "refund"]
    assert all(line["payment_id"] is None for line in unknown)


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_the_reports_totals_are_set_against_paytracks(storage, gateway):
    record_paytrack_side(storage, gateway)
    data = scenario(gateway)
    totals, = _import(storage, gateway).report["totals"]
    charged = [p["total"] for p in data["payments"][:16]]
    # charges (the duplicate counted as the report has it) and refunds, as the report says
    in_report = (sum(charged) + 5000 + 3900 + 2500 + charged[2]
                 + sum(r["amount"] for r in data["refunds"]) + 700)
    in_paytrack = (sum(charged) + 4500 + 3900 + data["missing_in_report"]["total"]
                   + sum(r["amount"] for r in data["refunds"]))
    assert totals == {"currency": data["currency"], "report_amount": in_report,
                      "paytrack_amount": in_paytrack, "fee_posted": FEE_DIFFERENCE}


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_the_fee_difference_is_recorded_and_posted_once(storage, gateway):
    ids = record_paytrack_side(storage, gateway)
    data = scenario(gateway)
    fee_payment = ids[data["payments"][17]["ref"]]
    before = _fees_balance(storage, data["currency"])
    _import(storage, gateway)
    with storage.unit_of_work(readonly=True) as uow:
        assert uow.payments.get(fee_payment)["gateway_fee"] == 175
        entries = ledger.list_entries(uow, ADMIN, payment_id=fee_payment)
        check = ledger.verify_ledger(uow, ADMIN)
    adjusted = [e for e in entries if e["kind"] == "reconciliation.fee_adjusted"]
    assert len(adjusted) == 1
    assert sorted(p["amount"] for p in adjusted[0]["postings"]) == [-25, 25]
    assert _fees_balance(storage, data["currency"]) == before + FEE_DIFFERENCE
    assert check["ok"], check

    # Another file with the same numbers (one more blank line): nothing more is posted,
    # and the fee now agrees.
    again = _import(storage, gateway, report(gateway) + b"\r\n").report
    assert again["counts"]["fee_mismatch"] == 0
    assert again["counts"]["matched"] == EXPECTED_COUNTS["matched"] + 1
    assert again["totals"][0]["fee_posted"] == 0
    assert _fees_balance(storage, data["currency"]) == before + FEE_DIFFERENCE
    with storage.unit_of_work(readonly=True) as uow:
        assert ledger.verify_ledger(uow, ADMIN)["ok"]


def test_importing_the_same_file_twice_changes_nothing(storage):
    record_paytrack_side(storage, "stripe")
    first = _import(storage, "stripe")
    lines, entries = _count(storage, reconciliation_lines), _count(storage, journal_entries)
    second = _import(storage, "stripe")
    assert not second.created
    assert second.report == first.report
    assert _count(storage, reconciliation_imports) == 1
    assert (_count(storage, reconciliation_lines), _count(storage, journal_entries)) == (
        lines, entries)


def test_the_same_bytes_at_another_gateway_are_another_report(storage):
    _import(storage, "stripe")
    with pytest.raises(ValidationFailed):  # a Stripe report is not a Razorpay one
        _import(storage, "razorpay", report("stripe"))
    assert _count(storage, reconciliation_imports) == 1


def test_a_matched_line_marks_its_payment_reconciled(storage):
    ids = record_paytrack_side(storage, "paypal")
    data = scenario("paypal")
    _import(storage, "paypal")
    with storage.unit_of_work(readonly=True) as uow:
        matched = [uow.payments.get(ids[p["ref"]]) for p in data["payments"][:16]]
        others = [uow.payments.get(ids[p["ref"]]) for p in data["payments"][16:]]
    assert all(p["reconciled"] and p["reconciled_by"] == str(ADMIN)
               and p["reconciled_at"] == IN_PERIOD for p in matched)
    assert not any(p["reconciled"] for p in others)


def test_exceptions_are_resolved_with_a_note_once(storage):
    record_paytrack_side(storage, "razorpay")
    _import(storage, "razorpay")
    with storage.unit_of_work(readonly=True) as uow:
        open_ = reconciliation.list_exceptions(uow, ADMIN, status="open")
    target = next(line for line in open_ if line["match_class"] == "duplicate")
    resolved = committed(storage, reconciliation.resolve_exception, target["id"],
                         "the report repeated the line; one charge", ADMIN)
    assert (resolved["exception_status"], resolved["resolved_by"],
            resolved["resolution_note"]) == ("resolved", str(ADMIN),
                                             "the report repeated the line; one charge")
    assert resolved["resolved_at"] == IN_PERIOD
    with pytest.raises(InvalidTransition):
        committed(storage, reconciliation.resolve_exception, target["id"], "again", ADMIN)
    with pytest.raises(ValidationFailed):
        committed(storage, reconciliation.resolve_exception, open_[0]["id"], " ", ADMIN)
    with storage.unit_of_work(readonly=True) as uow:
        assert len(reconciliation.list_exceptions(uow, ADMIN, status="open")) == 5
        assert [line["id"] for line in reconciliation.list_exceptions(
            uow, ADMIN, status="resolved")] == [target["id"]]
        trail = uow.records.audit_trail("settlement_line", target["id"])
    assert [a["action"] for a in trail] == ["reconciliation.exception_resolved"]


def test_a_matched_line_is_not_an_exception(storage):
    record_paytrack_side(storage, "stripe")
    result = _import(storage, "stripe").report
    with storage.unit_of_work() as uow:
        matched = uow.conn.execute(select(reconciliation_lines.c.id).where(
            reconciliation_lines.c.import_id == result["id"],
            reconciliation_lines.c.match_class == "matched").limit(1)).scalar_one()
    with pytest.raises(NotFound):
        committed(storage, reconciliation.resolve_exception, matched, "n/a", ADMIN)


def test_payments_are_marked_reconciled_in_bulk_once(storage):
    ids = list(record_paytrack_side(storage, "stripe").values())[:3]
    result = committed(storage, reconciliation.mark_reconciled,
                       [*ids, "pay_unknown", ids[0]], ADMIN, note="bank statement")
    assert result == {"marked": sorted(ids), "already_reconciled": [],
                      "not_found": ["pay_unknown"]}
    later = Actor(Role.ADMIN, "key_other")
    again = committed(storage, reconciliation.mark_reconciled, ids, later)
    assert again == {"marked": [], "already_reconciled": sorted(ids), "not_found": []}
    with storage.unit_of_work(readonly=True) as uow:
        assert uow.payments.get(ids[0])["reconciled_by"] == str(ADMIN)
        assert [p["id"] for p in uow.payments.list(
            filters={"reconciled": True}, limit=10)] == sorted(ids, reverse=True)
        trail = uow.records.audit_trail("payment", ids[0])
    assert [a["action"] for a in trail].count("payment.reconciled") == 1


def test_marking_takes_at_most_a_thousand_ids(storage):
    with pytest.raises(ValidationFailed):
        committed(storage, reconciliation.mark_reconciled,
                  [f"pay_{n}" for n in range(1001)], ADMIN)
    with pytest.raises(ValidationFailed):
        committed(storage, reconciliation.mark_reconciled, [], ADMIN)


@pytest.mark.parametrize("role", [Role.SELLER, Role.CUSTOMER])
def test_only_an_admin_reconciles(storage, role):
    actor = Actor(role, "seller_1" if role is Role.SELLER else "cust_1")
    with pytest.raises(Forbidden):
        _import(storage, "stripe", actor=actor)
    with pytest.raises(Forbidden):
        committed(storage, reconciliation.mark_reconciled, ["pay_x"], actor)


@postgres_only
def test_two_concurrent_imports_of_the_same_file_make_one_import(storage):
    record_paytrack_side(storage, "stripe")
    data = report("stripe")
    before = _fees_balance(storage, "USD")
    outcomes = race(storage, 4, lambda uow, i: reconciliation.import_report(
        uow, "stripe", data, ADMIN))
    assert outcomes == {"ok": 4}
    assert _count(storage, reconciliation_imports) == 1
    assert _count(storage, reconciliation_lines) == 27
    assert _fees_balance(storage, "USD") == before + FEE_DIFFERENCE
    with storage.unit_of_work(readonly=True) as uow:
        assert ledger.verify_ledger(uow, ADMIN)["ok"]


RAZORPAY_HEADER = ("entity_id,type,debit,credit,amount,currency,fee,tax,settled,created_at,"
                   "settlement_id,order_id\n")


def _razorpay_payment(storage: Storage, ref: str, order: str | None = None) -> str:
    from sqlalchemy import update

    from paytrack.adapters.storage.tables import payments
    from paytrack.services.payments import CreatePayment, create_payment
    with storage.unit_of_work() as uow:
        payment = create_payment(uow, CreatePayment(
            customer_id="cust_1", seller_id="seller_1", item_type="course",
            item_id="course_1", currency="INR", subtotal=49990, gateway="razorpay",
            gateway_payment_id=ref, captured=True, gateway_fee=1179), ADMIN)
        uow.commit()
    if order is not None:
        with storage.engine.begin() as conn:
            conn.execute(update(payments).where(payments.c.id == payment["id"])
                         .values(gateway_order_id=order))
    return payment["id"]


def test_a_payment_settled_twice_in_one_report_is_an_exception(storage):
    # Razorpay: the customer paid the same order twice (two payment ids, one order id).
    # Both lines find paytrack's one payment; the second must not pass as matched.
    payment_id = _razorpay_payment(storage, "pay_A1", order="order_X1")
    data = (RAZORPAY_HEADER
            + "pay_A1,payment,0,48811,49990,INR,1179,179,1,1793612221,setl_1,order_X1\n"
            + "pay_B1,payment,0,48811,49990,INR,1179,179,1,1793612300,setl_1,order_X1\n")
    result = _import(storage, "razorpay", data.encode()).report
    assert result["counts"]["matched"] == 1 and result["counts"]["duplicate"] == 1
    with storage.unit_of_work(readonly=True) as uow:
        duplicate, = reconciliation.list_exceptions(uow, ADMIN, kind="duplicate")
    assert duplicate["gateway_ref"] == "pay_B1"
    assert payment_id


def test_a_payment_paid_after_the_reports_last_line_is_not_missing_from_it(storage):
    # Created (checkout opened) within the report's period, paid after its last line: it
    # belongs to the next report, not an exception of this one.
    from paytrack.services.payments import CreatePayment, capture_payment, create_payment
    clock = storage.clock
    with storage.unit_of_work() as uow:
        late = create_payment(uow, CreatePayment(
            customer_id="cust_1", seller_id="seller_1", item_type="course",
            item_id="course_1", currency="INR", subtotal=49990, gateway="razorpay"), ADMIN)
        uow.commit()
    clock.advance(86400 * 3)
    with storage.unit_of_work() as uow:
        capture_payment(uow, late["id"], ADMIN, gateway_fee=0)
        uow.commit()
    data = (RAZORPAY_HEADER
            + "pay_Z1,payment,0,48811,49990,INR,1179,179,1,1793570000,setl_1,\n"
            + "pay_Z2,payment,0,48811,49990,INR,1179,179,1,1793700000,setl_1,\n")
    result = _import(storage, "razorpay", data.encode()).report
    assert result["counts"]["missing_in_report"] == 0, result["counts"]


@postgres_only
def test_two_files_with_the_same_fee_imported_at_once_post_the_difference_once(storage):
    record_paytrack_side(storage, "stripe")
    files = [report("stripe"), report("stripe") + b"\r\n"]  # two files, the same numbers
    before = _fees_balance(storage, "USD")
    outcomes = race(storage, 2, lambda uow, i: reconciliation.import_report(
        uow, "stripe", files[i], ADMIN))
    assert outcomes == {"ok": 2}
    assert _count(storage, reconciliation_imports) == 2
    assert _fees_balance(storage, "USD") == before + FEE_DIFFERENCE
    with storage.unit_of_work(readonly=True) as uow:
        assert ledger.verify_ledger(uow, ADMIN)["ok"]
