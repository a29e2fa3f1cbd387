"""Streamed CSV exports of payments, refunds, payouts, disputes and ledger postings.

Each export reads in keyset batches (``BATCH_ROWS`` rows, newest first, each batch in its
own read-only unit of work) through the list functions, so the filters, the scoping and
the refusals are the list endpoints' own, and memory does not grow with the row count.
A row shows only the fields its caller's role may see (``permissions.view``).

    start_export(storage, kind, actor, **filters)  checks, reads the first batch, and
                                                   returns the CSV text in chunks

Cells: amounts as integer minor units, each followed by ``<name>_decimal`` in the
currency's exponent; timestamps ISO-8601 in UTC; JSON values as compact JSON. A text cell
that a spreadsheet would read as a formula is prefixed with ``'``: one starting with
``= + - @``, a tab or a CR, also after leading white space or in full-width form (``＝``);
the numbers written here are never text from a client.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from paytrack.adapters.storage.uow import Storage, UnitOfWork
from paytrack.domain.actors import Actor
from paytrack.domain.disputes import Dispute
from paytrack.domain.money import currency_exponent
from paytrack.domain.payments import Payment, refundable_amount
from paytrack.domain.payouts import Payout
from paytrack.domain.refunds import Refund
from paytrack.services import disputes, ledger, payments, payouts, permissions, refunds
from paytrack.services.permissions import Action

ExportKind = Literal["payments", "refunds", "payouts", "disputes", "ledger"]
KINDS: tuple[ExportKind, ...] = ("payments", "refunds", "payouts", "disputes", "ledger")
BATCH_ROWS = 1000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST = frozenset("=+-@")

Row = Mapping[str, Any]
Lister = Callable[[UnitOfWork, Actor, int, str | None], Sequence[Row]]

MONEY: dict[ExportKind, frozenset[str]] = {
    "payments": frozenset({
        "subtotal", "discount", "tax", "shipping", "total", "platform_fee", "seller_amount",
        "tax_collected", "shipping_collected", "gateway_fee", "refunded_amount",
        "refund_reserved_amount", "disputed_amount", "platform_discount",
        "refundable_amount"}),
    "refunds": frozenset({"amount", "seller_part", "platform_part", "tax_part",
                          "shipping_part", "discount_part"}),
    "payouts": frozenset({"amount"}),
    "disputes": frozenset({"amount", "fee", "seller_part", "platform_part", "tax_part",
                           "shipping_part", "discount_part"}),
    "ledger": frozenset({"debit", "credit"}),
}
# Each object export: its view kind, its record (the column order) and the action to read it.
_OBJECTS: dict[ExportKind, tuple[str, Any, Action]] = {
    "payments": ("payment", Payment, Action.READ_PAYMENT),
    "refunds": ("refund", Refund, Action.READ_REFUND),
    "payouts": ("payout", Payout, Action.READ_PAYOUT),
    "disputes": ("dispute", Dispute, Action.READ_DISPUTE),
}
LEDGER_FIELDS = ("entry_id", "kind", "payment_id", "refund_id", "account", "currency",
                 "debit", "credit", "created_at")


def fields(kind: ExportKind, actor: Actor) -> list[str]:
    """The record fields ``actor`` sees in a ``kind`` export, in the record's order
    (without the ``_decimal`` columns); refuses a role that may not read ``kind``."""
    if kind == "ledger":
        permissions.check(actor, Action.READ_LEDGER)
        return list(LEDGER_FIELDS)
    view_kind, record, action = _OBJECTS[kind]
    permissions.check(actor, action)
    visible = permissions.visible_fields(actor.role, view_kind)
    order = [*record.__annotations__, *(["refundable_amount"] if kind == "payments" else [])]
    return [name for name in order if name in visible]


def columns(kind: ExportKind, actor: Actor) -> list[str]:
    """The CSV header: each amount followed by its decimal column."""
    money = MONEY[kind]
    out: list[str] = []
    for name in fields(kind, actor):
        out.append(name)
        if name in money:
            out.append(f"{name}_decimal")
    return out


def cell(value: Any) -> str:
    """One CSV cell; text that could run as a spreadsheet formula is quoted with ``'``."""
    kind = type(value)
    if kind is str:
        text: str = value
        return "'" + text if _runs_as_formula(text) else text
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, str):
        return cell(str(value))
    return cell(json.dumps(value, sort_keys=True, separators=(",", ":"), default=str))


def _runs_as_formula(text: str) -> bool:
    """Starts with a formula character, also after white space, or as its full-width
    (or small) form, which some spreadsheets read as the ASCII one."""
    if text.startswith(FORMULA_STARTS):
        return True
    head = text.lstrip()[:1]
    return (head in _FORMULA_FIRST
            or (head > "\x7f" and unicodedata.normalize("NFKC", head) in _FORMULA_FIRST))


def decimal_cell(amount_minor: int, exponent: int) -> str:
    """``format_amount`` for a known exponent, without a lookup per cell."""
    if exponent == 0:
        return str(amount_minor)
    whole, fraction = divmod(abs(amount_minor), 10**exponent)
    return f"{'-' if amount_minor < 0 else ''}{whole}.{fraction:0{exponent}d}"


def _lister(kind: ExportKind, filters: dict[str, Any]) -> Lister:
    if kind == "payments":
        return lambda uow, actor, limit, cursor: payments.list_payments(
            uow, actor, limit=limit, cursor=cursor, **filters)
    if kind == "refunds":
        return lambda uow, actor, limit, cursor: refunds.list_refunds(
            uow, actor, limit=limit, cursor=cursor, **filters)
    if kind == "payouts":
        return lambda uow, actor, limit, cursor: payouts.list_payouts(
            uow, actor, limit=limit, cursor=cursor, **filters)
    if kind == "disputes":
        return lambda uow, actor, limit, cursor: disputes.list_disputes(
            uow, actor, limit=limit, cursor=cursor, **filters)
    return lambda uow, actor, limit, cursor: ledger.list_entries(
        uow, actor, limit=limit, cursor=cursor, **filters)


def _cells(kind: ExportKind, actor: Actor, names: list[str],
           rows: Sequence[Row]) -> Iterator[list[str | int | None]]:
    money = MONEY[kind]
    if kind == "ledger":
        shown: Iterator[Row] = (
            {"entry_id": entry["id"], "kind": entry["kind"], "payment_id": entry["payment_id"],
             "refund_id": entry["refund_id"], "account": p["account"],
             "currency": p["currency"], "debit": max(p["amount"], 0),
             "credit": max(-p["amount"], 0), "created_at": entry["created_at"]}
            for entry in rows for p in entry["postings"])
    else:
        view_kind = _OBJECTS[kind][0]
        if kind == "payments":
            rows = [{**row, "refundable_amount": refundable_amount(row)}  # type: ignore[arg-type]
                    for row in rows]
        shown = (permissions.view(actor, view_kind, row) for row in rows)  # type: ignore[call-overload]
    exponents: dict[str, int] = {}
    plan = [(name, name in money) for name in names]
    for row in shown:
        currency = row["currency"]
        exponent = exponents.get(currency)
        if exponent is None:
            exponent = exponents[currency] = currency_exponent(currency)
        out: list[str | int | None] = []
        for name, is_money in plan:
            value = row[name]
            kind_of = type(value)
            # The csv module writes ints and None (as "") itself, in C.
            out.append(value if kind_of is int or value is None else cell(value))
            if is_money:
                out.append(None if value is None else decimal_cell(value, exponent))
        yield out


class Export:
    """A started export: its header and its rows as CSV text, batch by batch."""

    def __init__(self, storage: Storage, kind: ExportKind, actor: Actor, names: list[str],
                 lister: Lister, first: Sequence[Row], batch_rows: int) -> None:
        self.kind = kind
        self.columns = columns(kind, actor)
        self._storage, self._actor, self._names = storage, actor, names
        self._lister, self._first, self._batch_rows = lister, first, batch_rows

    def batches(self) -> Iterator[Sequence[Row]]:
        """The records, newest first, a batch at a time (each read in its own unit of work;
        a ledger batch is of entries, each with its postings)."""
        batch = self._first
        while True:
            if batch:
                yield batch
            if len(batch) < self._batch_rows:
                return
            with self._storage.unit_of_work(readonly=True) as uow:
                batch = self._lister(uow, self._actor, self._batch_rows, batch[-1]["id"])

    def csv_chunks(self, on_rows: Callable[[int], None] | None = None) -> Iterator[str]:
        """The CSV text: the header, then one chunk per batch; ``on_rows(n)`` after each."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(self.columns)
        yield buffer.getvalue()
        for batch in self.batches():
            buffer.seek(0)
            buffer.truncate()
            count = 0
            for out in _cells(self.kind, self._actor, self._names, batch):
                writer.writerow(out)
                count += 1
            yield buffer.getvalue()
            if on_rows is not None:
                on_rows(count)


def start_export(storage: Storage, kind: ExportKind, actor: Actor, /, *,
                 batch_rows: int = BATCH_ROWS, **filters: Any) -> Export:
    """Check that ``actor`` may export ``kind`` with ``filters`` (the list function's own)
    and read the first batch, so that any refusal comes before the first byte is sent."""
    assert kind in KINDS, kind
    names = fields(kind, actor)
    lister = _lister(kind, {k: v for k, v in filters.items() if v is not None})
    with storage.unit_of_work(readonly=True) as uow:
        first = lister(uow, actor, batch_rows, None)
    return Export(storage, kind, actor, names, lister, first, batch_rows)
