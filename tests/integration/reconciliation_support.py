"""The sample settlement reports (``tests/fixtures/settlements/<gateway>.csv``) and the
paytrack side each is reconciled against (``<gateway>.json``): every report has 16 charges
paytrack took exactly, one whose amount differs, one whose fee differs (recorded 150, the
report 175), one charge and one refund paytrack never saw, one line twice, two refunds
paytrack made, three lines that are not sales (a payout, an adjustment, a fee …), and
paytrack has one payment at that gateway within the report's period the report lacks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from paytrack.adapters.storage.uow import Storage
from paytrack.services.payments import CreatePayment, create_payment
from paytrack.services.refunds import record_gateway_refund
from tests.integration.conftest import ADMIN

FIXTURES = Path(__file__).parent.parent / "fixtures" / "settlements"
GATEWAYS = ("stripe", "razorpay", "paypal")
# Within every sample report's period (2 November 2026, 09:37 UTC, to the next morning).
IN_PERIOD = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
EXPECTED_COUNTS = {"matched": 18, "amount_mismatch": 1, "fee_mismatch": 1,
                   "missing_in_paytrack": 2, "duplicate": 1, "missing_in_report": 1,
                   "ignored": 3}
FEE_DIFFERENCE = 25  # the fee-mismatch payment: 175 in the report, 150 recorded


def report(gateway: str) -> bytes:
    return (FIXTURES / f"{gateway}.csv").read_bytes()


def scenario(gateway: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{gateway}.json").read_text())


def record_paytrack_side(storage: Storage, gateway: str) -> dict[str, str]:
    """Record, as captured at ``gateway``, the payments and refunds the sample report is
    set against; returns paytrack's payment id for each gateway id."""
    data = scenario(gateway)
    ids: dict[str, str] = {}
    with storage.unit_of_work() as uow:
        for n, p in enumerate([*data["payments"], data["missing_in_report"]]):
            payment = create_payment(uow, CreatePayment(
                customer_id=f"cust_{n}", seller_id="seller_1", item_type="course",
                item_id="course_1", currency=data["currency"], subtotal=p["total"],
                gateway=gateway, gateway_payment_id=p["ref"], captured=True,
                gateway_fee=p["fee"]), ADMIN)
            ids[p["ref"]] = payment["id"]
        for r in data["refunds"]:
            record_gateway_refund(uow, ids[r["payment_ref"]], ADMIN, amount=r["amount"],
                                  gateway_refund_id=r["ref"], reason="refunded at the gateway")
        uow.commit()
    return ids
