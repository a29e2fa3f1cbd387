"""Where a seller's money is: held in pending, available, or owed back as debt.

- **Capture**: the seller's share is credited to pending and an earning row records it,
  due ``hold_days`` later (the seller's own, or the platform's).
- **Release** (``release_due``, run by ``serve``'s upkeep and ``paytrack worker``): every
  due earning moves pending -> available in one entry per seller and currency, and any
  debt the seller has is recovered from it first.
- **Taking back** (refunds, disputes): from the payment's pending earning while it is
  held; after its release from available; what available cannot cover becomes the
  seller's debt. A refund is never refused for the seller's lack of funds: the "never
  below zero" guard is for payouts.
- **Giving back** (a won dispute): to the pending earning while it is held, else to
  available after paying down the seller's debt.

Every step locks what it reads (the earning row, then the seller's available and debt
balances, in id order), so concurrent refunds, releases and payouts never move the same
money twice; a crash rolls the whole step back.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from paytrack.adapters.storage.uow import UnitOfWork
from paytrack.domain.actors import Actor
from paytrack.domain.earnings import Earning, EarningView
from paytrack.domain.ledger import JournalEntry, seller_available, seller_debt, seller_pending
from paytrack.domain.money import validate_currency
from paytrack.domain.payments import Payment, SellerSide, seller_fee_share
from paytrack.domain.splits import Bearer
from paytrack.services.ledger import require_seller

RELEASE_BATCH = 500


def record_earning(uow: UnitOfWork, payment: Payment, now: datetime) -> None:
    """At capture: what the seller's pending balance got from this payment, and when it
    becomes available."""
    from_share, _ = seller_fee_share(payment["seller_amount"], payment["gateway_fee"],
                                     Bearer(payment["gateway_fee_bearer"]))
    net = payment["seller_amount"] - from_share
    captured = payment["succeeded_at"] or now
    # Nothing is read here: when the hold ends is decided by the release, from the
    # seller's hold days as they are then.
    uow.earnings.insert({
        "payment_id": payment["id"], "seller_id": payment["seller_id"],
        "currency": payment["currency"], "gross": payment["total"],
        "commission": payment["platform_fee"], "net": net, "pending": net, "released": 0,
        "refunded": 0,
        "captured_at": captured, "captured_s": int(captured.timestamp()),
        "released_at": None, "created_at": now,
    })


def take_back(uow: UnitOfWork, payment: Payment, amount: int, *,
              refunded: bool = True) -> SellerSide:
    """Take ``amount`` of the seller's money back for ``payment`` (a refund's or a
    dispute's seller part): the debits to post, pending first, then available, then debt.
    ``refunded``: count it in the earning's ``refunded`` (a dispute held open does not)."""
    if amount == 0:
        return []
    seller, currency, now = payment["seller_id"], payment["currency"], uow.now()
    side: SellerSide = []
    earning = uow.earnings.lock(payment["id"])
    rest = amount
    if earning is not None and earning["released_at"] is None:
        from_pending = min(earning["pending"], rest)
        uow.earnings.change(payment["id"], pending=-from_pending)
        side.append((seller_pending(seller), from_pending))
        rest -= from_pending
    if earning is not None and refunded:
        uow.earnings.change(payment["id"], refunded=amount)
    if rest:
        available, debt = seller_available(seller), seller_debt(seller)
        balances = uow.ledger.lock_balances([available, debt], currency, now)
        from_available = min(balances[available.code], rest)
        side += [(available, from_available), (debt, rest - from_available)]
    return [(account, part) for account, part in side if part]


def give_back(uow: UnitOfWork, payment: Payment, amount: int, *,
              refunded: bool = False) -> SellerSide:
    """Return ``amount`` to the seller for ``payment`` (a won dispute): the credits to
    post, to the held earning if it is still held, else to its debt, then available."""
    if amount == 0:
        return []
    seller, currency, now = payment["seller_id"], payment["currency"], uow.now()
    earning = uow.earnings.lock(payment["id"])
    if refunded and earning is not None:
        uow.earnings.change(payment["id"], refunded=-amount)
    if earning is not None and earning["released_at"] is None:
        uow.earnings.change(payment["id"], pending=amount)
        return [(seller_pending(seller), amount)]
    available, debt = seller_available(seller), seller_debt(seller)
    balances = uow.ledger.lock_balances([available, debt], currency, now)
    to_debt = min(balances[debt.code], amount)
    side = [(debt, to_debt), (available, amount - to_debt)]
    return [(account, part) for account, part in side if part]


def release_due(uow: UnitOfWork, *, limit: int = RELEASE_BATCH) -> int:
    """Release up to ``limit`` due earnings: one entry per seller and currency moves what
    they hold from pending to available, recovering the seller's debt first. Returns how
    many earnings were released. Idempotent: a released row is never claimed again, and
    the marking and the posting commit together."""
    now = uow.now()
    due = uow.earnings.claim_due(now, uow.policy.hold_days, limit)
    if not due:
        return 0
    uow.earnings.mark_released([e["payment_id"] for e in due], now)
    groups: dict[tuple[str, str], list[Earning]] = defaultdict(list)
    for earning in due:
        groups[(earning["seller_id"], earning["currency"])].append(earning)
    for (seller, currency), earnings in sorted(groups.items()):
        amount = sum(e["pending"] for e in earnings)
        if amount == 0:
            continue
        available, debt = seller_available(seller), seller_debt(seller)
        balances = uow.ledger.lock_balances([available, debt], currency, now)
        recovered = min(balances[debt.code], amount)
        entry = JournalEntry("seller.released",
                             f"release of {len(earnings)} earnings of seller {seller}")
        entry.debit(seller_pending(seller), currency, amount)
        entry.credit(debt, currency, recovered)
        entry.credit(available, currency, amount - recovered)
        uow.ledger.post(entry, now)
    return len(due)


def list_earnings(uow: UnitOfWork, seller_id: str, actor: Actor, *, limit: int = 20,
                  cursor: str | None = None, currency: str | None = None,
                  released: bool | None = None) -> list[EarningView]:
    """The earnings behind a seller's balance, newest payment first, each with the day
    its hold ends (by the seller's hold days as they are now): to an admin, or to that
    seller."""
    require_seller(uow, seller_id, actor)
    if currency is not None:
        validate_currency(currency)
    own = uow.earnings.hold_days(seller_id)
    hold = timedelta(days=uow.policy.hold_days if own is None else own)
    return [{**e, "available_on": e["captured_at"] + hold}
            for e in uow.earnings.list(seller_id, limit=limit, before_id=cursor,
                                       currency=currency, released=released)]
