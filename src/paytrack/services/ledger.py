"""Reading the ledger and proving it: balances, the trial balance and the rebuild check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, TypedDict

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import Actor
from paytrack.domain.analytics import RevenueDifference
from paytrack.domain.earnings import HeldDifference
from paytrack.domain.errors import NotFound
from paytrack.domain.ledger import (
    AccountSpec,
    BalanceDifference,
    CurrencyTotals,
    JournalEntryRow,
    UnbalancedEntry,
    seller_available,
    seller_debt,
    seller_in_transit,
    seller_pending,
)
from paytrack.services import analytics, permissions
from paytrack.services.permissions import Action

Bucket = Literal["pending", "available", "in_transit", "debt"]
SELLER_BUCKETS: dict[Bucket, Callable[[str], AccountSpec]] = {
    "pending": seller_pending, "available": seller_available,
    "in_transit": seller_in_transit, "debt": seller_debt}


class TrialBalance(TypedDict):
    balanced: bool
    currencies: list[CurrencyTotals]


class AccountBalance(TypedDict):
    """A ledger account as the API shows it: its balance in its normal direction."""

    id: int
    code: str
    currency: str
    balance: int


class CurrencyBalance(TypedDict):
    """What the platform owes a seller in one currency, in each stage."""

    currency: str
    pending: int
    available: int
    in_transit: int
    paid_out: int
    debt: int


class SellerBalance(TypedDict):
    seller_id: str
    balances: list[CurrencyBalance]


class LedgerCheck(TypedDict):
    """``verify_ledger``'s report: ``ok`` when it found nothing wrong."""

    ok: bool
    trial_balance: TrialBalance
    differences: list[BalanceDifference]
    unbalanced_entries: list[UnbalancedEntry]
    held_differences: list[HeldDifference]
    # The analytics rollups against the postings (False: they await their first build).
    revenue_checked: bool
    revenue_differences: list[RevenueDifference]


def trial_balance(uow: UnitOfWork, actor: Actor) -> TrialBalance:
    permissions.check(actor, Action.READ_LEDGER)
    currencies = uow.ledger.trial_balance()
    return {"balanced": all(c["debits"] == c["credits"] for c in currencies),
            "currencies": currencies}


def list_accounts(uow: UnitOfWork, actor: Actor, *, code: str | None = None,
                  code_prefix: str | None = None, currency: str | None = None,
                  limit: int | None = None, cursor: int | None = None) -> list[AccountBalance]:
    """Accounts with their balance in the normal direction; paged newest first by id."""
    permissions.check(actor, Action.READ_LEDGER)
    rows = uow.ledger.accounts(code=code, code_prefix=code_prefix, currency=currency,
                               limit=limit, before_id=cursor)
    return [{"id": a["id"], "code": a["code"], "currency": a["currency"],
             "balance": int(a["current_balance"])} for a in rows]


def seller_balance(uow: UnitOfWork, seller_id: str, actor: Actor) -> SellerBalance:
    """What the platform owes one seller, per currency, in each stage."""
    require_seller(uow, seller_id, actor)
    by_currency: dict[str, CurrencyBalance] = {}
    codes = {spec(seller_id).code: bucket for bucket, spec in SELLER_BUCKETS.items()}
    for account in uow.ledger.accounts(seller_id=seller_id):
        bucket = codes.get(account["code"])
        if bucket is None:
            continue
        row = by_currency.setdefault(account["currency"], _zero(account["currency"]))
        row[bucket] = int(account["current_balance"])
    for currency, paid in uow.ledger.paid_out(seller_in_transit(seller_id).code).items():
        by_currency.setdefault(currency, _zero(currency))["paid_out"] = paid
    return {"seller_id": seller_id, "balances": sorted(by_currency.values(),
                                                       key=lambda r: r["currency"])}


def _zero(currency: str) -> CurrencyBalance:
    return {"currency": currency, "pending": 0, "available": 0, "in_transit": 0,
            "paid_out": 0, "debt": 0}


def require_seller(uow: UnitOfWork, seller_id: str, actor: Actor) -> None:
    """A seller the actor may read (an admin, or that seller), and that exists: else 404."""
    permissions.check_object(actor, Action.READ_SELLER, {"seller_id": seller_id},
                             f"seller {seller_id}")
    if uow.parties.get("seller", seller_id) is None:
        raise NotFound(f"seller {seller_id} not found")


def list_entries(uow: UnitOfWork, actor: Actor, *, limit: int = 20, cursor: str | None = None,
                 payment_id: str | None = None) -> list[JournalEntryRow]:
    permissions.check(actor, Action.READ_LEDGER)
    return uow.ledger.entries(limit=limit, before_id=cursor, payment_id=payment_id)


def verify_ledger(uow: UnitOfWork, actor: Actor) -> LedgerCheck:
    """Recompute every balance from postings and report each difference (changes nothing);
    the same for the analytics rollups' figures. All from one snapshot: a payment
    captured meanwhile is in all of them or none."""
    uow.one_snapshot()
    balance = trial_balance(uow, actor)
    differences = uow.ledger.balance_differences()
    unbalanced = uow.ledger.unbalanced_entries()
    held = held_differences(uow)
    revenue = analytics.revenue_differences(uow)
    return {"ok": (balance["balanced"] and not differences and not unbalanced and not held
                   and not revenue),
            "trial_balance": balance, "differences": differences,
            "unbalanced_entries": unbalanced, "held_differences": held,
            "revenue_checked": revenue is not None, "revenue_differences": revenue or []}


def held_differences(uow: UnitOfWork) -> list[HeldDifference]:
    """Every seller whose pending balance is not the sum of what its earnings still hold
    (each capture credits both, each refund, dispute and release takes from both)."""
    held = uow.earnings.held_totals()
    pending = {(a["seller_id"], a["currency"]): int(a["current_balance"])
               for a in uow.ledger.accounts(code_suffix=":pending", code_prefix="seller:")
               if a["seller_id"] is not None}
    return [{"seller_id": seller, "currency": currency,
             "pending_balance": pending.get((seller, currency), 0),
             "held_by_earnings": held.get((seller, currency), 0)}
            for seller, currency in sorted(held.keys() | pending.keys())
            if pending.get((seller, currency), 0) != held.get((seller, currency), 0)]


def rebuild_balances(uow: UnitOfWork, actor: Actor) -> list[BalanceDifference]:
    """Rewrite running balances from postings (the postings are the truth)."""
    permissions.check(actor, Action.REBUILD_LEDGER)
    corrections = uow.ledger.rebuild()
    if corrections:
        uow.records.audit(str(actor), "ledger.rebuilt", "ledger", "balances",
                          {"differences": corrections}, None, uow.now())
    return corrections


def fold_balances(uow: UnitOfWork) -> int:
    """Fold appended balance deltas into account rows (a worker runs this periodically)."""
    return uow.ledger.fold()

