"""Realistic request bodies for the OpenAPI schema: /docs shows the first of each, and "Try
it out" starts from it. One story runs through them: a student (``stu_42``) buys an
instructor's (``inst_ada``) Python course for 49.99 USD, less a 5.00 discount, plus 3.60
tax. ``tests/api/test_openapi_examples.py`` checks that each fits its schema and that the
story can be sent as written."""

from __future__ import annotations

from typing import Any

Examples = dict[str, list[dict[str, Any]]]


def _examples(*bodies: dict[str, Any]) -> Examples:
    return {"examples": list(bodies)}


CREATE_PAYMENT = _examples(
    {"customer_id": "stu_42", "seller_id": "inst_ada", "item_type": "course",
     "item_id": "course_python", "currency": "USD", "subtotal": 4999, "discount": 500,
     "tax": 360, "method": "card", "gateway": "stripe",
     "description": "Python for Data Science, spring cohort"},
    {"customer_id": "guest_7", "seller_id": "host_kyoto", "item_type": "booking",
     "item_id": "room_12", "order_id": "bk_2026_0403", "currency": "JPY", "subtotal": 18000,
     "method": "card", "gateway": "stripe", "captured": True,
     "gateway_payment_id": "pi_3QxKyoto0403", "gateway_fee": 648,
     "description": "Machiya stay, 3-5 April"},
)
CAPTURE = _examples(
    {"gateway_payment_id": "pi_3PqA2bL5x0Yz9KQ1", "gateway_fee": 171},
)
REASON = _examples(
    {"reason": "the student changed their mind"},
)
CREATE_REFUND = _examples(
    {"payment_id": "pay_01JD7Q8Z3N4M5K6P7R8S9T0V1W", "amount": 1000,
     "reason": "module 3 videos would not play"},
    {"payment_id": "pay_01JD7Q8Z3N4M5K6P7R8S9T0V1W", "reason": "charged twice",
     "approve": True},
)
REJECT_REFUND = _examples(
    {"reason": "outside the 30-day refund window"},
)
OPEN_DISPUTE = _examples(
    {"payment_id": "pay_01JD7Q8Z3N4M5K6P7R8S9T0V1W", "amount": 4859,
     "reason": "the cardholder says the course was never delivered",
     "reason_code": "product_not_received", "due_by": "2026-02-14T23:59:59Z",
     "gateway_dispute_id": "du_1QxKp2eZvKYlo2C", "fee": 1500},
)
EVIDENCE = _examples(
    {"text": "Course accessed 14 times from the customer's account; logs attached.",
     "references": ["file_1QxAccessLog", "https://example.com/receipts/1001"]},
)
DISPUTE_DECISION = _examples(
    {"reason": "the issuer accepted the delivery logs"},
)
SELLER = _examples(
    {"name": "Ada Lovelace", "email": "ada@example.com", "commission_rate": "0.15"},
)
CUSTOMER = _examples(
    {"name": "Sam Student", "email": "stu42@example.com"},
)
REFUND_POLICY = _examples(
    {"auto_approve_max_amount": {"USD": 2000, "EUR": 2000, "JPY": 3000},
     "auto_approve_within_days": 14, "auto_approve_max_refund_rate": "0.10",
     "customer_refund_window_days": 30, "seller_requests_auto_approve": True},
)
CREATE_PAYOUT = _examples(
    {"amount": 2500, "currency": "USD", "method": "bank_transfer"},
    {"seller_id": "inst_ada", "amount": 2500, "currency": "USD", "method": "paypal"},
)
PAY_PAYOUT = _examples(
    {"reference": "tr_1PqA2bL5x0Yz9KQ1"},
)
FAIL_PAYOUT = _examples(
    {"reason": "the bank returned the transfer: account closed"},
)
PAYOUT_ACCOUNT = _examples(
    {"method": "bank_transfer", "account_holder": "Ada Lovelace",
     "iban": "DE89 3704 0044 0532 0130 00", "bank_name": "Deutsche Bank"},
    {"method": "paypal", "email": "ada@example.com"},
    {"method": "stripe_connect", "account_id": "acct_1Nv0FGQ9RKHgCVdK"},
)
CREATE_COUPON = _examples(
    {"code": "SPRING25", "kind": "percent", "percent_off": "0.25", "currency": "USD",
     "max_discount": 2000, "min_order_amount": 2000, "max_redemptions": 500,
     "max_redemptions_per_customer": 1, "expires_at": "2027-06-01T00:00:00Z",
     "funded_by": "platform", "description": "Spring sale: 25% off, at most 20.00 USD"},
    {"code": "ADA-5OFF", "kind": "fixed", "amount_off": 500, "currency": "USD",
     "seller_ids": ["inst_ada"], "item_ids": ["course_python"], "funded_by": "seller"},
)
VALIDATE_COUPON = _examples(
    {"code": "SPRING25", "customer_id": "stu_42", "seller_id": "inst_ada",
     "item_id": "course_python", "currency": "USD", "subtotal": 4999},
)
DEACTIVATE_COUPON = _examples(
    {"reason": "the spring sale is over"},
)
CREATE_EVENT_ENDPOINT = _examples(
    {"url": "https://courses.example.com/hooks/paytrack",
     "event_types": ["payment.succeeded", "refund.succeeded"],
     "description": "enroll the student; take the course back on a refund"},
    {"url": "https://shop.example.com/paytrack/events"},
)
UPDATE_EVENT_ENDPOINT = _examples(
    {"event_types": ["payment.succeeded", "payment.failed", "refund.succeeded"]},
    {"active": True},
)
REDELIVER_EVENT = _examples(
    {"endpoint_id": "we_01JD8X5R2C4E6G8J0K2M4N6P8Q"},
    {},
)
CREATE_SUBSCRIPTION = _examples(
    {"customer_id": "stu_42", "seller_id": "inst_ada", "item_type": "service",
     "item_id": "premium_membership", "period_months": 6, "fee": 54999, "currency": "USD",
     "method": "card", "gateway": "simulator", "description": "Premium Membership - 6 months"},
)
UPGRADE_SUBSCRIPTION = _examples(
    {"item_id": "vip_membership", "fee": 89999},
)
CANCEL_SUBSCRIPTION = _examples(
    {"at_period_end": True, "reason": "moving to another school"},
    {"reason": "duplicate subscription"},
)
CONFIRM_SUBSCRIPTION = _examples(
    {"gateway_payment_id": "pi_3PqA2bL5x0Yz9KQ1", "gateway_fee": 171},
    {},
)
# -- orders (bookings): two instructors' courses in one order, 10% off each payment --------
CREATE_ORDER = _examples(
    {"customer_id": "stu_42", "currency": "USD", "stream": "2026-spring",
     "lines": [{"item_type": "course", "item_id": "course_python", "seller_id": "inst_ada",
                "unit_price": 4999, "tax": 360},
               {"item_type": "course", "item_id": "course_sql", "seller_id": "inst_grace",
                "unit_price": 2999, "tax": 216}],
     "discount_percent": "10", "referral_code": "FRIEND-ADA", "method": "card",
     "gateway": "manual", "total": 7774},
    {"customer_id": "stu_7", "currency": "USD", "stream": "2026-autumn",
     "lines": [{"item_type": "course", "item_id": "course_python", "seller_id": "inst_ada",
                "unit_price": 4999}],
     "coupon_code": "SPRING25"},
)
CANCEL_ORDER = _examples(
    {"reason": "the student moved to the autumn stream"},
)
ORDER_STATUS = _examples(
    {"confirmed_code": 2, "reason": "paid in cash at the front desk"},
    {"status": "cancelled", "reason": "booked twice by mistake"},
)
RESOLVE_EXCEPTION = _examples(
    {"note": "Stripe refunded the fee on 2 Nov; their support ticket 48213"},
)
MARK_RECONCILED = _examples(
    {"payment_ids": ["pay_01JD7Q8Z3N4M5K6P7R8S9T0V1W"],
     "note": "matched by hand against the November bank statement"},
)
