"""Who may do what, and what each role sees: the one place these rules live.

Every service function that acts or reads asks this module first; the API asks it too, early,
so that a role that may never do something is refused before its request body is read, and
it shapes every response with ``view``. Nothing else decides.

    check(actor, action)                  a role that may never do ``action``: Forbidden (403)
    check_object(actor, action, obj, ..)  an object outside the actor's reach: NotFound (404)
    list_scope(actor, action)             the filters that keep a list within the actor's reach
    view(actor, kind, row)                what the actor may see of a payment, refund or event

The system (gateway webhooks, workers, the CLI, the demo loader) has an admin's rights.
Maintenance that acts for no one (folding balance deltas, purging idempotency keys) and
authentication itself ask nothing. Sellers, customers, balances and the ledger are only ever
shown to an admin or to the party they describe, so they have no restricted view.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal, overload

from paytrack.domain.actors import Actor, Role
from paytrack.domain.coupons import Coupon
from paytrack.domain.disputes import Dispute
from paytrack.domain.errors import Forbidden, NotFound
from paytrack.domain.events import Event, EventDelivery, EventEndpoint
from paytrack.domain.payments import Payment
from paytrack.domain.payouts import Payout
from paytrack.domain.refunds import Refund
from paytrack.domain.states import OPEN_STATES, PaymentEvent, PaymentStatus, PayoutStatus


class Action(StrEnum):
    """What an actor may ask for; the value completes "a seller key may not …"."""

    CREATE_PAYMENT = "create a payment"
    READ_PAYMENT = "read a payment"
    MARK_PROCESSING = "mark a payment processing"
    CAPTURE_PAYMENT = "capture a payment"
    FAIL_PAYMENT = "fail a payment"
    CANCEL_PAYMENT = "cancel a payment"
    REQUEST_REFUND = "request a refund"
    REFUND_PAYMENT = "refund a payment in one step"
    DECIDE_REFUND = "approve or reject a refund"
    CANCEL_REFUND = "cancel a refund request"
    READ_REFUND = "read a refund"
    OPEN_DISPUTE = "open a dispute"
    DISPUTE_EVIDENCE = "submit evidence on a dispute"
    DECIDE_DISPUTE = "win or lose a dispute"
    READ_DISPUTE = "read a dispute"
    READ_SELLER = "read a seller or its balance"
    READ_CUSTOMER = "read a customer"
    EDIT_PARTIES = "create or edit sellers, customers and items"
    READ_LEDGER = "read the ledger"
    REBUILD_LEDGER = "rebuild the ledger's balances"
    MANAGE_KEYS = "create, list or revoke API keys"
    MANAGE_USERS = "create, list or disable dashboard users"
    READ_AUDIT = "read the audit trail"
    MANAGE_REFUND_POLICY = "read or change the refund policy"
    REQUEST_PAYOUT = "request a payout"
    DECIDE_PAYOUT = "approve, pay or fail a payout"
    CANCEL_PAYOUT = "cancel a payout"
    READ_PAYOUT = "read a payout"
    MANAGE_PAYOUT_ACCOUNT = "set or read a seller's payout accounts"
    ROTATE_PAYOUT_KEYS = "re-encrypt payout accounts with the newest key"
    MANAGE_COUPONS = "create or deactivate coupons"
    READ_COUPON = "read a coupon"
    READ_COUPON_USAGE = "read a coupon's usage"
    VALIDATE_COUPON = "check whether a coupon applies"
    MANAGE_GATEWAYS = "configure gateways"
    READ_WEBHOOKS = "read gateway webhook deliveries"
    REPLAY_WEBHOOK = "replay a gateway webhook delivery"
    MANAGE_EVENT_ENDPOINTS = "register, read or change event endpoints"
    READ_EVENTS = "read events and their deliveries"
    REDELIVER_EVENTS = "redeliver an event"
    CREATE_SUBSCRIPTION = "create a subscription"
    READ_SUBSCRIPTION = "read a subscription"
    RENEW_SUBSCRIPTION = "renew a subscription"
    UPGRADE_SUBSCRIPTION = "upgrade a subscription"
    CANCEL_SUBSCRIPTION = "cancel a subscription"
    CREATE_ORDER = "create an order"
    READ_ORDER = "read an order"
    CANCEL_ORDER = "cancel an order"
    OVERRIDE_ORDER_STATUS = "set an order's status by hand"
    READ_ORDER_STATS = "read booking statistics"
    IMPORT_SETTLEMENT_REPORT = "import a gateway's settlement report"
    READ_RECONCILIATION = "read settlement report imports and their exceptions"
    RESOLVE_RECONCILIATION = "resolve a reconciliation exception"
    MARK_RECONCILED = "mark payments reconciled"
    READ_ANALYTICS = "read the platform's revenue analytics"
    REBUILD_ANALYTICS = "rebuild the analytics rollups"
    READ_SELLER_ANALYTICS = "read a seller's own revenue analytics"


class Reach(StrEnum):
    ALL = "all"  # any object
    OWN = "own"  # only objects bound to the actor's own seller or customer id
    # Only requests the actor made itself, on its own objects (``requested_by`` is it).
    REQUESTER = "requester"
    # Only objects that name the actor's own seller among theirs (a coupon's ``seller_ids``).
    TARGETED = "targeted"


@dataclass(frozen=True, slots=True)
class Grant:
    reach: Reach
    # The object states in which this role may act; None: whatever the state machine allows.
    states: frozenset[str] | None = None


ANY = Grant(Reach.ALL)
OWN = Grant(Reach.OWN)
ADMIN_ONLY = {Role.ADMIN: ANY}
PENDING = frozenset({str(PaymentStatus.PENDING)})
PAYOUT_REQUESTED = frozenset({str(PayoutStatus.REQUESTED)})

RULES: dict[Action, dict[Role, Grant]] = {
    Action.CREATE_PAYMENT: ADMIN_ONLY,
    Action.READ_PAYMENT: {Role.ADMIN: ANY, Role.SELLER: OWN, Role.CUSTOMER: OWN},
    Action.MARK_PROCESSING: ADMIN_ONLY,
    Action.CAPTURE_PAYMENT: ADMIN_ONLY,
    Action.FAIL_PAYMENT: ADMIN_ONLY,
    # Once a payment is processing the gateway may be taking the money: only an admin may
    # still cancel it (and a confirmation after that is recorded all the same).
    Action.CANCEL_PAYMENT: {Role.ADMIN: Grant(Reach.ALL, frozenset(map(str, OPEN_STATES))),
                            Role.SELLER: Grant(Reach.OWN, PENDING),
                            Role.CUSTOMER: Grant(Reach.OWN, PENDING)},
    Action.REQUEST_REFUND: {Role.ADMIN: ANY, Role.SELLER: OWN, Role.CUSTOMER: OWN},
    Action.REFUND_PAYMENT: ADMIN_ONLY,
    Action.DECIDE_REFUND: ADMIN_ONLY,
    # Withdrawing a request is its requester's to do (or an admin's); the state machine
    # allows it only before anyone decided it.
    Action.CANCEL_REFUND: {Role.ADMIN: ANY, Role.SELLER: Grant(Reach.REQUESTER),
                           Role.CUSTOMER: Grant(Reach.REQUESTER)},
    Action.READ_REFUND: {Role.ADMIN: ANY, Role.SELLER: OWN, Role.CUSTOMER: OWN},
    # Disputes come from the gateway (or an admin recording one); the seller defends its own
    # sales with evidence; only an admin (later, the gateway's webhook) records the outcome.
    # A customer disputes with its bank, not here: it sees no disputes.
    Action.OPEN_DISPUTE: ADMIN_ONLY,
    Action.DISPUTE_EVIDENCE: {Role.ADMIN: ANY, Role.SELLER: OWN},
    Action.DECIDE_DISPUTE: ADMIN_ONLY,
    Action.READ_DISPUTE: {Role.ADMIN: ANY, Role.SELLER: OWN},
    Action.READ_SELLER: {Role.ADMIN: ANY, Role.SELLER: OWN},
    Action.READ_CUSTOMER: {Role.ADMIN: ANY, Role.CUSTOMER: OWN},
    Action.EDIT_PARTIES: ADMIN_ONLY,
    Action.READ_LEDGER: ADMIN_ONLY,
    Action.REBUILD_LEDGER: ADMIN_ONLY,
    Action.MANAGE_KEYS: ADMIN_ONLY,
    Action.MANAGE_USERS: ADMIN_ONLY,
    Action.READ_AUDIT: ADMIN_ONLY,
    Action.MANAGE_REFUND_POLICY: ADMIN_ONLY,
    Action.REQUEST_PAYOUT: {Role.ADMIN: ANY, Role.SELLER: OWN},
    Action.DECIDE_PAYOUT: ADMIN_ONLY,
    # Only before an admin approved it, for its seller and for an admin alike.
    Action.CANCEL_PAYOUT: {Role.ADMIN: Grant(Reach.ALL, PAYOUT_REQUESTED),
                           Role.SELLER: Grant(Reach.OWN, PAYOUT_REQUESTED)},
    Action.READ_PAYOUT: {Role.ADMIN: ANY, Role.SELLER: OWN},
    Action.MANAGE_PAYOUT_ACCOUNT: {Role.ADMIN: ANY, Role.SELLER: OWN},
    Action.ROTATE_PAYOUT_KEYS: ADMIN_ONLY,
    Action.MANAGE_COUPONS: ADMIN_ONLY,
    # A seller sees the coupons limited to it (not the platform-wide ones), and of their
    # usage only what its own payments did.
    Action.READ_COUPON: {Role.ADMIN: ANY, Role.SELLER: Grant(Reach.TARGETED)},
    Action.READ_COUPON_USAGE: {Role.ADMIN: ANY, Role.SELLER: OWN},
    # Checkout asks for its own buyer or its own sales.
    Action.VALIDATE_COUPON: {Role.ADMIN: ANY, Role.SELLER: OWN, Role.CUSTOMER: OWN},
    Action.MANAGE_GATEWAYS: ADMIN_ONLY,
    Action.READ_WEBHOOKS: ADMIN_ONLY,
    Action.REPLAY_WEBHOOK: ADMIN_ONLY,
    # Events go to the platform itself, about every seller and customer.
    Action.MANAGE_EVENT_ENDPOINTS: ADMIN_ONLY,
    Action.READ_EVENTS: ADMIN_ONLY,
    Action.REDELIVER_EVENTS: ADMIN_ONLY,
    # Subscriptions: the platform sets them up and prices upgrades; the customer renews or
    # cancels its own; the seller of the service reads those to its items.
    Action.CREATE_SUBSCRIPTION: ADMIN_ONLY,
    Action.READ_SUBSCRIPTION: {Role.ADMIN: ANY, Role.SELLER: OWN, Role.CUSTOMER: OWN},
    Action.RENEW_SUBSCRIPTION: {Role.ADMIN: ANY, Role.CUSTOMER: OWN},
    Action.UPGRADE_SUBSCRIPTION: ADMIN_ONLY,
    Action.CANCEL_SUBSCRIPTION: {Role.ADMIN: ANY, Role.CUSTOMER: OWN},
    # Orders: a seller reads the orders with a line of its own (``seller_ids``), and of
    # them only its lines and its payment; a customer its own orders, and cancels them
    # while pending.
    Action.CREATE_ORDER: ADMIN_ONLY,
    Action.READ_ORDER: {Role.ADMIN: ANY, Role.SELLER: Grant(Reach.TARGETED),
                        Role.CUSTOMER: OWN},
    Action.CANCEL_ORDER: {Role.ADMIN: ANY, Role.CUSTOMER: OWN},
    Action.OVERRIDE_ORDER_STATUS: ADMIN_ONLY,
    Action.READ_ORDER_STATS: {Role.ADMIN: ANY, Role.SELLER: OWN},
    # Reconciliation is the platform's finance work, against the gateways' reports.
    Action.IMPORT_SETTLEMENT_REPORT: ADMIN_ONLY,
    Action.READ_RECONCILIATION: ADMIN_ONLY,
    Action.RESOLVE_RECONCILIATION: ADMIN_ONLY,
    Action.MARK_RECONCILED: ADMIN_ONLY,
    # The platform's figures, across every seller (seller-scoped views come separately).
    Action.READ_ANALYTICS: ADMIN_ONLY,
    Action.REBUILD_ANALYTICS: ADMIN_ONLY,
    Action.READ_SELLER_ANALYTICS: {Role.ADMIN: ANY, Role.SELLER: OWN},
}

# The field of an object that names its seller or customer: what "own" means for each role.
OWNER_FIELD = {Role.SELLER: "seller_id", Role.CUSTOMER: "customer_id"}
# The field of an object that lists the sellers it is for: what "targeted" means.
TARGET_FIELD = {Role.SELLER: "seller_ids"}


def _rights(role: Role) -> Role:
    return Role.ADMIN if role is Role.SYSTEM else role


def check(actor: Actor, action: Action) -> Grant:
    """The actor's grant for ``action``; Forbidden if its role may never do it."""
    grant = RULES[action].get(_rights(actor.role))
    if grant is None:
        raise Forbidden(f"a {actor.role} key may not {action}")
    return grant


def check_object(actor: Actor, action: Action, obj: Mapping[str, Any], what: str) -> Grant:
    """The actor's grant for ``action`` on ``obj`` (a payment, or ``{"seller_id": …}`` for a
    seller); an object outside its reach does not exist for it: NotFound naming ``what``.
    With ``Reach.REQUESTER``, one it may see but did not ask for itself (``obj`` carries
    ``requested_by``) is Forbidden."""
    grant = check(actor, action)
    if grant.reach is Reach.ALL:
        return grant
    if grant.reach is Reach.TARGETED:
        if actor.id not in obj.get(TARGET_FIELD[actor.role], ()):
            raise NotFound(f"{what} not found")
        return grant
    if obj.get(OWNER_FIELD[actor.role]) != actor.id:
        raise NotFound(f"{what} not found")
    if grant.reach is Reach.REQUESTER and obj.get("requested_by") != str(actor):
        raise Forbidden(f"a {actor.role} key may {action} only when it made the request")
    return grant


def list_scope(actor: Actor, action: Action) -> dict[str, str]:
    """Filters every list for ``action`` must apply: ``{}`` for everything, else the one
    owner field bound to the actor (``{"seller_id": "s1"}``; with ``Reach.TARGETED``:
    objects that name that seller among theirs)."""
    grant = check(actor, action)
    if grant.reach is Reach.ALL:
        return {}
    return {OWNER_FIELD[actor.role]: actor.id or ""}


# What each role sees. Fields are grouped by what they say; a role sees the groups listed
# for it, and nothing else (a new field is hidden until it is placed in a group here).
PAYMENT_FIELDS = {
    "order": frozenset({
        "id", "status", "customer_id", "seller_id", "item_type", "item_id", "order_id",
        "currency", "subtotal", "discount", "tax", "shipping", "total", "method", "gateway",
        "kind", "subscription_id", "coupon_code", "coupon_id", "refunded_amount",
        "refund_reserved_amount",
        "disputed_amount",
        "refundable_amount", "gateway_payment_id", "gateway_order_id", "payment_url",
        "payment_url_expires_at", "description",
        "failure_reason", "created_at", "updated_at", "processing_at", "succeeded_at",
        "failed_at", "canceled_at", "refunded_at"}),
    # The platform's commission and the seller's share of the money.
    "split": frozenset({"commission_rate", "commission_base", "platform_fee", "seller_amount",
                        "tax_collected", "shipping_collected", "gateway_fee",
                        "platform_discount", "discount_funded_by"}),
    # The platform's own notes on the payment.
    "platform": frozenset({"metadata", "reconciled", "reconciled_at"}),
    # Who marked it reconciled: only an admin sees which key acted.
    "reconciler": frozenset({"reconciled_by"}),
    # The customer's personal data.
    "personal": frozenset({"billing_details", "ip_address"}),
}
REFUND_FIELDS = {
    "request": frozenset({
        "id", "payment_id", "currency", "amount", "status", "reason", "requested_by",
        "decided_by", "rejection_reason", "failure_reason", "cancellation_reason",
        "created_at", "updated_at", "approved_at", "rejected_at", "succeeded_at",
        "failed_at", "canceled_at"}),
    "split": frozenset({"seller_part", "platform_part", "tax_part", "shipping_part",
                        "discount_part"}),
    # The refund rule that decided it (``REQUESTER_FIELDS``: only its requester and admins).
    "decision": frozenset({"decision_rule"}),
    # Why the rule decided so: the policy's limits and the customer's refund history.
    "review": frozenset({"decision_detail"}),
    # How it is being carried out at the gateway.
    "gateway": frozenset({"gateway_refund_id", "next_submit_at", "submitted_at",
                          "submit_attempts", "last_error"}),
}
PAYOUT_FIELDS = {
    "payout": frozenset({
        "id", "seller_id", "currency", "amount", "method", "destination", "status",
        "requested_by", "decided_by", "reference", "failure_reason", "cancellation_reason",
        "created_at", "updated_at", "approved_at", "paid_at", "failed_at", "canceled_at",
        "gateway", "gateway_payout_id"}),
    # How it is being carried out at the gateway.
    "submission": frozenset({"next_submit_at", "submitted_at", "submit_attempts",
                             "last_error"}),
}
# A payout account is only ever shown masked: its details never leave the database in
# clear, to anyone (``details_encrypted`` is in no group).
PAYOUT_ACCOUNT_FIELDS = {
    "masked": frozenset({"seller_id", "method", "last4", "masked", "created_at",
                         "updated_at"}),
}
DISPUTE_FIELDS = {
    "case": frozenset({
        "id", "payment_id", "seller_id", "customer_id", "currency", "gateway",
        "gateway_dispute_id", "amount", "fee", "reason", "reason_code", "status", "due_by",
        "evidence", "payment_status_before", "decision_reason", "created_at", "updated_at",
        "opened_at", "under_review_at", "won_at", "lost_at"}),
    "split": frozenset({"seller_part", "platform_part", "tax_part", "shipping_part",
                        "discount_part"}),
}
STATUS_EVENT_FIELDS = {
    "event": frozenset({"from_status", "to_status", "actor", "reason", "created_at",
                        "needs_review"}),
}
COUPON_FIELDS = {
    "terms": frozenset({
        "id", "code", "kind", "percent_off", "amount_off", "currency", "max_discount",
        "min_order_amount", "max_redemptions", "max_redemptions_per_customer", "item_ids",
        "starts_at", "expires_at", "funded_by", "active", "description", "created_at",
        "updated_at", "deactivated_at"}),
    # Which sellers it is for (a seller would learn of other sellers), the places held
    # across every seller's payments, and the platform's notes.
    "platform": frozenset({"seller_ids", "redemptions_held", "deactivation_reason"}),
}
# An endpoint's secret is shown once, by the request that made it, never in a view
# (``secret_encrypted`` is in no group).
EVENT_ENDPOINT_FIELDS = {
    "endpoint": frozenset({"id", "url", "description", "event_types", "active",
                           "disabled_reason", "created_at", "updated_at"}),
}
EVENT_FIELDS = {
    "event": frozenset({"id", "type", "object_type", "object_id", "data", "created_at",
                        "dispatched_at"}),
}
EVENT_DELIVERY_FIELDS = {
    "delivery": frozenset({"id", "event_id", "endpoint_id", "status", "attempts",
                           "next_attempt_at", "last_attempt_at", "response_status",
                           "last_error", "created_at", "delivered_at"}),
}
SUBSCRIPTION_FIELDS = {
    "subscription": frozenset({
        "id", "customer_id", "seller_id", "item_type", "item_id", "currency", "fee",
        "period_months", "gateway", "method", "status", "previous_status",
        "current_period_start", "current_period_end", "cancel_at_period_end",
        "open_payment_id", "upgrade_item_id", "upgrade_fee", "renewals", "description",
        "created_at", "updated_at", "activated_at", "canceled_at", "cancel_reason",
        "ended_at",
        # Derived (``views.present``): the seed's names.
        "active", "subscription_duration", "subscription_expires_at", "subscription_fee"}),
    # The platform's own notes on it.
    "platform": frozenset({"metadata"}),
}
ORDER_FIELDS = {
    # A seller's order shows its own lines and payment, and totals that are their sums.
    "order": frozenset({
        "id", "status", "confirmed_code", "customer_id", "currency", "stream",
        "referral_code", "coupon_code", "discount_percent", "subtotal", "discount", "tax",
        "shipping", "total", "refunded_amount", "description", "created_at", "updated_at",
        "confirmed_at", "cancelled_at", "refunded_at", "lines", "payments"}),
    "platform": frozenset({"metadata"}),
}
# An order's payments, as its view lists them.
ORDER_PAYMENT_FIELDS = {
    "payment": frozenset({"id", "seller_id", "status", "total", "refunded_amount",
                          "payment_url", "payment_url_expires_at"}),
    "split": frozenset({"platform_fee", "seller_amount"}),
}
FIELDS = {"order": ORDER_FIELDS, "order_payment": ORDER_PAYMENT_FIELDS,
          "subscription": SUBSCRIPTION_FIELDS,
          "payment": PAYMENT_FIELDS, "refund": REFUND_FIELDS, "dispute": DISPUTE_FIELDS,
          "status_event": STATUS_EVENT_FIELDS, "payout": PAYOUT_FIELDS,
          "payout_account": PAYOUT_ACCOUNT_FIELDS, "coupon": COUPON_FIELDS,
          "event_endpoint": EVENT_ENDPOINT_FIELDS, "event": EVENT_FIELDS,
          "event_delivery": EVENT_DELIVERY_FIELDS}

SEES: dict[str, dict[Role, tuple[str, ...]]] = {
    "order": {Role.ADMIN: ("order", "platform"), Role.SELLER: ("order", "platform"),
              Role.CUSTOMER: ("order",)},
    "order_payment": {Role.ADMIN: ("payment", "split"), Role.SELLER: ("payment", "split"),
                      Role.CUSTOMER: ("payment",)},
    "payment": {Role.ADMIN: ("order", "split", "platform", "reconciler", "personal"),
                Role.SELLER: ("order", "split", "platform"),
                Role.CUSTOMER: ("order", "personal")},
    "refund": {Role.ADMIN: ("request", "split", "decision", "review", "gateway"),
               Role.SELLER: ("request", "split", "decision"),
               Role.CUSTOMER: ("request", "decision")},
    # Only admins and the payment's seller read disputes; the seller sees the split it is
    # charged, as on its refunds. (Evidence names who submitted it by role alone.)
    "dispute": {Role.ADMIN: ("case", "split"), Role.SELLER: ("case", "split")},
    "status_event": {Role.ADMIN: ("event",), Role.SELLER: ("event",),
                     Role.CUSTOMER: ("event",)},
    "payout": {Role.ADMIN: ("payout", "submission"), Role.SELLER: ("payout",)},
    "payout_account": {Role.ADMIN: ("masked",), Role.SELLER: ("masked",)},
    "coupon": {Role.ADMIN: ("terms", "platform"), Role.SELLER: ("terms",)},
    "event_endpoint": {Role.ADMIN: ("endpoint",)},
    "event": {Role.ADMIN: ("event",)},
    "event_delivery": {Role.ADMIN: ("delivery",)},
    "subscription": {Role.ADMIN: ("subscription", "platform"),
                     Role.SELLER: ("subscription", "platform"),
                     Role.CUSTOMER: ("subscription",)},
}

# Fields that name who acted ("admin:key_01…"): only an admin sees more than the role.
ACTOR_FIELDS = {"refund": ("requested_by", "decided_by"), "status_event": ("actor",),
                "payout": ("requested_by", "decided_by")}
# Fields a seller or customer sees only on requests it made itself (null on the others).
REQUESTER_FIELDS = {"refund": ("decision_rule",)}


def visible_fields(role: Role, kind: str) -> frozenset[str]:
    groups = FIELDS[kind]
    return frozenset().union(*(groups[g] for g in SEES[kind][_rights(role)]))


# Each kind of view takes its own record: a status event is shown with ``needs_review``.
@overload
def view(actor: Actor, kind: Literal["order"], row: Mapping[str, Any]) -> dict[str, Any]: ...
@overload
def view(actor: Actor, kind: Literal["payment"], row: Payment) -> dict[str, Any]: ...
@overload
def view(actor: Actor, kind: Literal["refund"], row: Refund) -> dict[str, Any]: ...
@overload
def view(actor: Actor, kind: Literal["dispute"], row: Dispute) -> dict[str, Any]: ...
@overload
def view(actor: Actor, kind: Literal["status_event"], row: PaymentEvent) -> dict[str, Any]: ...
@overload
def view(actor: Actor, kind: Literal["payout"], row: Payout) -> dict[str, Any]: ...
@overload
def view(actor: Actor, kind: Literal["payout_account"], row: Mapping[str, Any]
         ) -> dict[str, Any]: ...
@overload
def view(actor: Actor, kind: Literal["coupon"], row: Coupon) -> dict[str, Any]: ...
@overload
def view(actor: Actor, kind: Literal["event_endpoint"], row: EventEndpoint) -> dict[str, Any]: ...
@overload
def view(actor: Actor, kind: Literal["event"], row: Event) -> dict[str, Any]: ...
@overload
def view(actor: Actor, kind: Literal["event_delivery"], row: EventDelivery) -> dict[str, Any]: ...
@overload
def view(actor: Actor, kind: Literal["subscription"], row: Mapping[str, Any]
         ) -> dict[str, Any]: ...


def view(actor: Actor, kind: str,
         row: Payment | Refund | Dispute | PaymentEvent | Payout | Coupon | EventEndpoint
         | Event | EventDelivery | Mapping[str, Any]) -> dict[str, Any]:
    """What ``actor`` may see of ``row`` (a ``kind``: payment, refund, dispute,
    status_event, payout, payout_account, coupon, event_endpoint, event or
    event_delivery)."""
    fields: Mapping[str, Any] = row
    shown = {name: fields[name] for name in visible_fields(actor.role, kind)}
    if kind == "order" and shown["payments"] is not None:  # its payments, cut the same way
        paid = visible_fields(actor.role, "order_payment")
        shown["payments"] = [{name: p[name] for name in paid} for p in shown["payments"]]
    if _rights(actor.role) is not Role.ADMIN:
        if fields.get("requested_by") != str(actor):
            for name in REQUESTER_FIELDS.get(kind, ()):
                shown[name] = None
        for name in ACTOR_FIELDS.get(kind, ()):
            if shown[name] is not None:
                shown[name] = actor_role(shown[name])
    return shown


def actor_role(recorded: str) -> str:
    """The role of a recorded actor: ``"admin:key_01…"`` -> ``"admin"``."""
    return str(Role(recorded.partition(":")[0]))
