"""Words the dashboard shows for the API's codes: statuses, methods, kinds. Marked with
``N_`` for the catalog; translated where shown."""

from __future__ import annotations


def N_(text: str) -> str:  # noqa: N802 - gettext's name for "mark only"
    return text


STATUSES = {
    # payments
    "pending": N_("Pending"), "processing": N_("Processing"), "succeeded": N_("Succeeded"),
    "failed": N_("Failed"), "canceled": N_("Canceled"), "refunded": N_("Refunded"),
    "partially_refunded": N_("Partially refunded"), "disputed": N_("Disputed"),
    # refunds, payouts, disputes, reconciliation
    "requested": N_("Requested"), "approved": N_("Approved"), "rejected": N_("Rejected"),
    "paid": N_("Paid"), "in_transit": N_("In transit"), "open": N_("Open"),
    "under_review": N_("Under review"), "won": N_("Won"), "lost": N_("Lost"),
    "needs_response": N_("Needs response"), "resolved": N_("Resolved"),
    "matched": N_("Matched"), "amount_mismatch": N_("Amount mismatch"),
    "fee_mismatch": N_("Fee mismatch"), "missing_in_paytrack": N_("Missing in paytrack"),
    "missing_in_report": N_("Missing in the report"), "duplicate": N_("Duplicate"),
    # bookings (the booking seed's words in Russian: Подтверждено, В ожидании, Отменено)
    "confirmed": N_("Confirmed"), "cancelled": N_("Cancelled"), "completed": N_("Completed"),
    "active": N_("Active"), "past_due": N_("Past due"), "expired": N_("Expired"),
    "received": N_("Received"), "processed": N_("Processed"), "ignored": N_("Ignored"),
    "charged_back": N_("Charged back"), "dead": N_("Dead"), "delivering": N_("Delivering"),
    "inactive": N_("Inactive"), "incomplete_expired": N_("Incomplete, expired"),
    "pending_payment": N_("Awaiting payment"), "redeemed": N_("Redeemed"),
    "released": N_("Released"), "reserved": N_("Reserved"), "unknown_code": N_("Unknown code"),
}
