# mypy: disable-error-code="valid-type"
"""Reconciliation's request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from paytrack.entrypoints.api import examples
from paytrack.entrypoints.api.schemas import OBJECT_ID_PATTERN, FullView, Input, Page, Reason, Text
from paytrack.services.reconciliation import MARK_MAX

GatewayName = Literal["stripe", "razorpay", "paypal"]
ExceptionKind = Literal["amount_mismatch", "fee_mismatch", "missing_in_paytrack", "duplicate",
                        "missing_in_report"]
PaymentIds = Annotated[
    list[Annotated[str, StringConstraints(pattern=OBJECT_ID_PATTERN)]],
    Field(min_length=1, max_length=MARK_MAX,
          description=f"1 to {MARK_MAX} paytrack payment ids")]


class CurrencyTotalsOut(FullView):
    currency: str
    report_amount: int = Field(description="What the report's charge and refund lines say, "
                                           "in minor units")
    paytrack_amount: int = Field(description="What paytrack holds for the same lines (and "
                                             "for the payments missing from the report)")
    fee_posted: int = Field(description="The fee differences this import posted to "
                                        "`platform:fees` (signed)")


class ImportOut(FullView):
    id: str
    gateway: str
    sha256: str = Field(description="The file's SHA-256: the same file is imported once "
                                    "per gateway")
    filename: str | None
    line_count: int
    period_start: datetime | None = Field(description="The earliest time a line carries")
    period_end: datetime | None = Field(description="The latest time a line carries")
    imported_by: str
    created_at: datetime
    counts: dict[str, int] = Field(description="Lines per class (matched, amount_mismatch, "
                                               "fee_mismatch, missing_in_paytrack, duplicate, "
                                               "missing_in_report, ignored)")
    exceptions: int = Field(description="Lines neither matched nor ignored")
    totals: list[CurrencyTotalsOut]


class ExceptionOut(FullView):
    """A report line that did not match (or a payment the report is missing)."""

    id: str
    import_id: str
    gateway: str
    line_number: int | None = Field(description="In the file (the header is line 1); null "
                                                "for a payment missing from the report")
    kind: str = Field(description="charge or refund")
    match_class: str
    gateway_ref: str | None
    currency: str
    report_amount: int | None
    report_fee: int | None
    paytrack_amount: int | None
    paytrack_fee: int | None = Field(description="The payment's fee when the report was "
                                                 "imported")
    fee_posted: int
    payment_id: str | None
    refund_id: str | None
    occurred_at: datetime | None
    description: str | None
    exception_status: str | None = Field(description="open or resolved")
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str | None
    created_at: datetime


class ImportPage(Page[ImportOut]):
    pass


class ExceptionPage(Page[ExceptionOut]):
    pass


class ResolveIn(Input, json_schema_extra=examples.RESOLVE_EXCEPTION):
    note: Reason = Field(description="what was found and done, in 1 to 500 characters")


class MarkIn(Input, json_schema_extra=examples.MARK_RECONCILED):
    payment_ids: PaymentIds
    note: Text | None = None


class MarkOut(FullView):
    marked: list[str] = Field(description="Marked reconciled by this request")
    already_reconciled: list[str] = Field(description="Marked before: left as they were")
    not_found: list[str] = Field(description="No such payment")
