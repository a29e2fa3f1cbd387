"""Settlement report parsers, one module per provider; ``parse_report`` picks one."""

from __future__ import annotations

from collections.abc import Callable

from paytrack.adapters.reports import paypal, razorpay, stripe
from paytrack.adapters.reports.common import ReportLine
from paytrack.domain.reconciliation import ReportGateway

PARSERS: dict[ReportGateway, Callable[[bytes], list[ReportLine]]] = {
    ReportGateway.STRIPE: stripe.parse,
    ReportGateway.RAZORPAY: razorpay.parse,
    ReportGateway.PAYPAL: paypal.parse,
}


def parse_report(gateway: ReportGateway, data: bytes) -> list[ReportLine]:
    """Every line of ``gateway``'s report in ``data``, or ``InvalidReport`` saying why not."""
    return PARSERS[gateway](data)


__all__ = ["PARSERS", "ReportLine", "parse_report"]
