"""The unit of work: one database transaction, rolled back unless ``commit()`` is called."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import TypeVar

from sqlalchemy import Engine, text

from paytrack.adapters.gateways.registry import GatewayWiring
from paytrack.adapters.secrets import PayoutKeyring
from paytrack.adapters.storage.analytics import AnalyticsRepository
from paytrack.adapters.storage.analytics_history import RevenueHistory
from paytrack.adapters.storage.appender import Appender
from paytrack.adapters.storage.coupons import CouponRepository
from paytrack.adapters.storage.dashboard import DashboardRepository
from paytrack.adapters.storage.db import is_paytrack_engine
from paytrack.adapters.storage.earnings import EarningsRepository
from paytrack.adapters.storage.errors import StaleRead
from paytrack.adapters.storage.events import (
    EventDeliveryRepository,
    EventEndpointRepository,
    EventRepository,
)
from paytrack.adapters.storage.gateways import GatewayConfigRepository, WebhookDeliveryRepository
from paytrack.adapters.storage.history import RecordRepository
from paytrack.adapters.storage.keys import ApiKeyRepository, IdempotencyRepository
from paytrack.adapters.storage.ledger import AccountKey, LedgerRepository
from paytrack.adapters.storage.orders import OrderRepository
from paytrack.adapters.storage.parties import PartyCache, PartyRepository
from paytrack.adapters.storage.payments import (
    DisputeRepository,
    PaymentRepository,
    RefundRepository,
)
from paytrack.adapters.storage.payouts import PayoutAccountRepository, PayoutRepository
from paytrack.adapters.storage.reconciliation import ReconciliationRepository
from paytrack.adapters.storage.refund_rules import RefundRuleRepository
from paytrack.adapters.storage.statements import StatementRepository
from paytrack.adapters.storage.subscriptions import SubscriptionRepository
from paytrack.domain.periods import zone
from paytrack.domain.refund_rules import RefundPolicy
from paytrack.domain.splits import Policy

T = TypeVar("T")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Storage:
    """What lives as long as the process: the engine, the policy and the account-id cache."""

    def __init__(self, engine: Engine, policy: Policy | None = None,
                 clock: Callable[[], datetime] | None = None, *,
                 refund_policy: RefundPolicy | None = None,
                 payout_keys: PayoutKeyring | None = None,
                 gateways: GatewayWiring | None = None) -> None:
        assert is_paytrack_engine(engine), "make the engine with db.make_engine"
        self.engine = engine
        self.policy = policy or Policy()
        # The configured refund rules, until an admin sets others (stored in the database).
        self.refund_policy = refund_policy or RefundPolicy()
        # Payout account encryption; by default from PAYTRACK_PAYOUT_KEYS or the key file,
        # read only when first needed.
        self.payout_keys = payout_keys or PayoutKeyring.from_environment(
            engine.url.render_as_string(hide_password=False))
        self.clock = clock or _utc_now  # the demo loader back-dates its data through this
        self.gateways = gateways or GatewayWiring()
        # PostgreSQL: begin a transaction only when a unit of work writes (lazy_transaction.py).
        self.lazy_transactions = engine.dialect.name == "postgresql"
        self.account_ids: dict[AccountKey, int] = {}
        self.parties = PartyCache()

    def unit_of_work(self, *, readonly: bool = False, use_caches: bool = False) -> UnitOfWork:
        return UnitOfWork(self, readonly=readonly, use_caches=use_caches)

    def run(self, work: Callable[[UnitOfWork], T]) -> T:
        """Run ``work`` in a unit of work and commit it. On PostgreSQL it may answer reads
        from in-process caches, guarded at write time; if one went stale, nothing was
        written and ``work`` runs once more, reading everything from the database."""
        if self.lazy_transactions:  # cached reads are guarded by the PostgreSQL flush only
            try:
                return self._run_once(work, use_caches=True)
            except StaleRead:
                self.parties.clear()
        return self._run_once(work, use_caches=False)

    def _run_once(self, work: Callable[[UnitOfWork], T], *, use_caches: bool) -> T:
        with self.unit_of_work(use_caches=use_caches) as uow:
            result = work(uow)
            uow.commit()
            return result

    def prime_caches(self, limit: int = 100_000) -> None:
        """Warm the in-process caches (account ids, parties) as a long-running process
        would be, so hot paths skip their lookups."""
        with self.unit_of_work(readonly=True) as uow:
            self.account_ids.update(uow.ledger.all_account_ids(limit))
            uow.parties.prime(limit)

    def forget_cached_ids(self) -> None:
        """After tables were emptied behind our back (tests)."""
        self.account_ids.clear()


class UnitOfWork:
    def __init__(self, storage: Storage, *, readonly: bool = False,
                 use_caches: bool = False) -> None:
        self.storage = storage
        self.policy = storage.policy
        self.readonly = readonly
        self.use_caches = use_caches
        self._new_account_ids: dict[AccountKey, int] = {}

    def __enter__(self) -> UnitOfWork:
        self.conn = self.storage.engine.connect()
        if self.readonly:
            self.conn.execution_options(readonly=True)
        self._tx = self.conn.begin()
        self.appender = Appender(self.conn, lazy_transaction=self.storage.lazy_transactions)
        self.parties = PartyRepository(
            self.conn, self.storage.parties,
            guard=self.appender.guard if self.use_caches else None)
        self.payments = PaymentRepository(self.conn, self.appender)
        self.refunds = RefundRepository(self.conn, self.appender)
        self.disputes = DisputeRepository(self.conn, self.appender)
        self.coupons = CouponRepository(self.conn)
        self.orders = OrderRepository(self.conn, self.appender)
        self.earnings = EarningsRepository(self.conn, self.appender)
        self.payouts = PayoutRepository(self.conn, self.appender)
        self.payout_accounts = PayoutAccountRepository(self.conn)
        self.subscriptions = SubscriptionRepository(self.conn, self.appender)
        self.payout_keys = self.storage.payout_keys
        self.records = RecordRepository(self.conn, self.appender)
        self.events = EventRepository(self.conn, self.appender)
        self.event_endpoints = EventEndpointRepository(self.conn)
        self.event_deliveries = EventDeliveryRepository(self.conn)
        self.api_keys = ApiKeyRepository(self.conn)
        self.dashboard = DashboardRepository(self.conn)
        self.idempotency = IdempotencyRepository(self.conn)
        self.refund_rules = RefundRuleRepository(self.conn)
        self.gateway_configs = GatewayConfigRepository(self.conn)
        self.webhooks = WebhookDeliveryRepository(self.conn)
        self.reconciliation = ReconciliationRepository(self.conn, self.appender)
        self.analytics = AnalyticsRepository(self.conn, self.appender,
                                             zone(self.policy.analytics_tz))
        self.revenue_history = RevenueHistory(self.conn)
        self.ledger = LedgerRepository(self.conn, self.appender, self.storage.account_ids,
                                       self._new_account_ids, self.analytics)
        self.statements = StatementRepository(self.conn)
        return self

    def now(self) -> datetime:
        return self.storage.clock()

    def one_snapshot(self) -> None:
        """Read every later statement from one snapshot, so a check that compares several
        reads sees no write that commits between them. PostgreSQL: begin the transaction
        (reads otherwise run one by one in autocommit, ``lazy_transaction.py``) at
        REPEATABLE READ; a SQLite read transaction already reads one snapshot. Called
        before the unit of work's first statement."""
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))

    def commit(self) -> None:
        self.appender.commit(self._tx.commit)
        self.storage.account_ids.update(self._new_account_ids)

    def rollback(self) -> None:
        self._tx.rollback()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if self._tx.is_active:
                self._tx.rollback()
        finally:
            try:
                self.appender.close()
            finally:
                self.conn.close()
