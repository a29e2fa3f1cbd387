"""The one table of who may do what, and what each role sees (STYLE 12, DESIGN principle 7)."""

import pytest

from paytrack.domain.actors import SYSTEM, Actor, Role
from paytrack.domain.errors import Forbidden, NotFound
from paytrack.services import permissions
from paytrack.services.permissions import Action, Reach

A = Action
ADMIN = Actor(Role.ADMIN, "key_01")
SELLER = Actor(Role.SELLER, "s1")
CUSTOMER = Actor(Role.CUSTOMER, "c1")
ALL, OWN, REQUESTER, NO = Reach.ALL, Reach.OWN, Reach.REQUESTER, None
TARGETED = Reach.TARGETED

# action: (admin, seller, customer)
EXPECTED = {
    A.CREATE_PAYMENT: (ALL, NO, NO),
    A.READ_PAYMENT: (ALL, OWN, OWN),
    A.MARK_PROCESSING: (ALL, NO, NO),
    A.CAPTURE_PAYMENT: (ALL, NO, NO),
    A.FAIL_PAYMENT: (ALL, NO, NO),
    A.CANCEL_PAYMENT: (ALL, OWN, OWN),
    A.REQUEST_REFUND: (ALL, OWN, OWN),
    A.REFUND_PAYMENT: (ALL, NO, NO),
    A.DECIDE_REFUND: (ALL, NO, NO),
    A.CANCEL_REFUND: (ALL, REQUESTER, REQUESTER),
    A.READ_REFUND: (ALL, OWN, OWN),
    A.OPEN_DISPUTE: (ALL, NO, NO),
    A.DISPUTE_EVIDENCE: (ALL, OWN, NO),
    A.DECIDE_DISPUTE: (ALL, NO, NO),
    A.READ_DISPUTE: (ALL, OWN, NO),
    A.READ_SELLER: (ALL, OWN, NO),
    A.READ_CUSTOMER: (ALL, NO, OWN),
    A.EDIT_PARTIES: (ALL, NO, NO),
    A.READ_LEDGER: (ALL, NO, NO),
    A.REBUILD_LEDGER: (ALL, NO, NO),
    A.MANAGE_KEYS: (ALL, NO, NO),
    A.MANAGE_USERS: (ALL, NO, NO),
    A.READ_AUDIT: (ALL, NO, NO),
    A.MANAGE_REFUND_POLICY: (ALL, NO, NO),
    A.REQUEST_PAYOUT: (ALL, OWN, NO),
    A.DECIDE_PAYOUT: (ALL, NO, NO),
    A.CANCEL_PAYOUT: (ALL, OWN, NO),
    A.READ_PAYOUT: (ALL, OWN, NO),
    A.MANAGE_PAYOUT_ACCOUNT: (ALL, OWN, NO),
    A.ROTATE_PAYOUT_KEYS: (ALL, NO, NO),
    A.MANAGE_COUPONS: (ALL, NO, NO),
    A.READ_COUPON: (ALL, TARGETED, NO),
    A.READ_COUPON_USAGE: (ALL, OWN, NO),
    A.VALIDATE_COUPON: (ALL, OWN, OWN),
    A.MANAGE_GATEWAYS: (ALL, NO, NO),
    A.READ_WEBHOOKS: (ALL, NO, NO),
    A.REPLAY_WEBHOOK: (ALL, NO, NO),
    A.MANAGE_EVENT_ENDPOINTS: (ALL, NO, NO),
    A.READ_EVENTS: (ALL, NO, NO),
    A.REDELIVER_EVENTS: (ALL, NO, NO),
    A.CREATE_SUBSCRIPTION: (ALL, NO, NO),
    A.READ_SUBSCRIPTION: (ALL, OWN, OWN),
    A.RENEW_SUBSCRIPTION: (ALL, NO, OWN),
    A.UPGRADE_SUBSCRIPTION: (ALL, NO, NO),
    A.CANCEL_SUBSCRIPTION: (ALL, NO, OWN),
    A.CREATE_ORDER: (ALL, NO, NO),
    A.READ_ORDER: (ALL, TARGETED, OWN),
    A.CANCEL_ORDER: (ALL, NO, OWN),
    A.OVERRIDE_ORDER_STATUS: (ALL, NO, NO),
    A.READ_ORDER_STATS: (ALL, OWN, NO),
    A.IMPORT_SETTLEMENT_REPORT: (ALL, NO, NO),
    A.READ_RECONCILIATION: (ALL, NO, NO),
    A.RESOLVE_RECONCILIATION: (ALL, NO, NO),
    A.MARK_RECONCILED: (ALL, NO, NO),
    A.READ_ANALYTICS: (ALL, NO, NO),
    A.REBUILD_ANALYTICS: (ALL, NO, NO),
    A.READ_SELLER_ANALYTICS: (ALL, OWN, NO),
}


def test_every_action_has_a_rule():
    assert set(EXPECTED) == set(Action) == set(permissions.RULES)


@pytest.mark.parametrize("action", list(Action))
def test_who_may_do_what(action):
    for actor, expected in zip((ADMIN, SELLER, CUSTOMER), EXPECTED[action], strict=True):
        if expected is None:
            with pytest.raises(Forbidden, match=f"a {actor.role} key may not {action}"):
                permissions.check(actor, action)
        else:
            assert permissions.check(actor, action).reach is expected
    assert permissions.check(SYSTEM, action) == permissions.check(ADMIN, action)


def test_cancel_grants_name_the_states_each_role_may_cancel_in():
    assert permissions.check(ADMIN, A.CANCEL_PAYMENT).states == {"pending", "processing"}
    assert permissions.check(SELLER, A.CANCEL_PAYMENT).states == {"pending"}
    assert permissions.check(CUSTOMER, A.CANCEL_PAYMENT).states == {"pending"}


def test_a_seller_reads_only_the_coupons_limited_to_it():
    mine = {"id": "cpn_1", "seller_ids": ["s0", "s1"]}
    assert permissions.check_object(SELLER, A.READ_COUPON, mine, "coupon cpn_1")
    for other in ({"id": "cpn_2", "seller_ids": ["s2"]}, {"id": "cpn_3", "seller_ids": []}):
        with pytest.raises(NotFound, match="coupon cpn_x not found"):
            permissions.check_object(SELLER, A.READ_COUPON, other, "coupon cpn_x")
    assert permissions.list_scope(SELLER, A.READ_COUPON) == {"seller_id": "s1"}
    assert "seller_ids" not in permissions.visible_fields(Role.SELLER, "coupon")


def test_an_object_outside_the_actors_reach_does_not_exist_for_it():
    payment = {"id": "pay_1", "seller_id": "s1", "customer_id": "c2"}
    assert permissions.check_object(SELLER, A.READ_PAYMENT, payment, "payment pay_1")
    assert permissions.check_object(ADMIN, A.READ_PAYMENT, payment, "payment pay_1")
    with pytest.raises(NotFound, match="payment pay_1 not found"):
        permissions.check_object(CUSTOMER, A.READ_PAYMENT, payment, "payment pay_1")
    with pytest.raises(NotFound, match="seller s2 not found"):
        permissions.check_object(SELLER, A.READ_SELLER, {"seller_id": "s2"}, "seller s2")
    with pytest.raises(Forbidden):  # a role that may never: 403 before any object
        permissions.check_object(CUSTOMER, A.READ_SELLER, {"seller_id": "s1"}, "seller s1")


def test_only_its_requester_or_an_admin_may_cancel_a_refund_request():
    asked = {"seller_id": "s1", "customer_id": "c1", "requested_by": "customer:c1"}
    assert permissions.check_object(CUSTOMER, A.CANCEL_REFUND, asked, "refund re_1")
    assert permissions.check_object(ADMIN, A.CANCEL_REFUND, asked, "refund re_1")
    with pytest.raises(Forbidden, match="a seller key may cancel a refund request only when"):
        permissions.check_object(SELLER, A.CANCEL_REFUND, asked, "refund re_1")
    with pytest.raises(NotFound, match="refund re_1 not found"):  # not its payment at all
        permissions.check_object(Actor(Role.CUSTOMER, "c2"), A.CANCEL_REFUND,
                                 {**asked, "requested_by": "customer:c2"}, "refund re_1")


def test_lists_are_scoped_to_the_actors_own_objects():
    assert permissions.list_scope(ADMIN, A.READ_PAYMENT) == {}
    assert permissions.list_scope(SELLER, A.READ_PAYMENT) == {"seller_id": "s1"}
    assert permissions.list_scope(CUSTOMER, A.READ_REFUND) == {"customer_id": "c1"}


def test_field_groups_do_not_overlap():
    for kind, groups in permissions.FIELDS.items():
        seen: set[str] = set()
        for name, fields in groups.items():
            assert not seen & fields, f"{kind}: {seen & fields} in two groups (at {name})"
            seen |= fields


PAYMENT = {name: f"<{name}>" for name in permissions.visible_fields(Role.ADMIN, "payment")}


def test_a_customer_never_sees_the_commission_nor_a_seller_the_customers_personal_data():
    customer = permissions.view(CUSTOMER, "payment", PAYMENT)
    seller = permissions.view(SELLER, "payment", PAYMENT)
    assert not {"commission_rate", "platform_fee", "seller_amount", "gateway_fee",
                "tax_collected", "shipping_collected", "metadata"} & set(customer)
    assert {"total", "refunded_amount", "billing_details", "ip_address"} <= set(customer)
    assert not {"ip_address", "billing_details"} & set(seller)
    assert {"platform_fee", "seller_amount", "commission_rate", "gateway_fee"} <= set(seller)
    assert permissions.view(SYSTEM, "payment", PAYMENT) == PAYMENT
    assert permissions.view(ADMIN, "payment", {**PAYMENT, "previous_status": "x"}) == PAYMENT


def test_only_an_admin_sees_who_acted_beyond_their_role():
    refund = {name: None for name in permissions.visible_fields(Role.ADMIN, "refund")}
    refund |= {"requested_by": "customer:c1", "decided_by": "admin:key_01M8"}
    assert permissions.view(ADMIN, "refund", refund)["decided_by"] == "admin:key_01M8"
    for actor in (SELLER, CUSTOMER):
        shown = permissions.view(actor, "refund", refund)
        assert (shown["requested_by"], shown["decided_by"]) == ("customer", "admin")
    event = {"from_status": None, "to_status": "pending", "actor": "system", "reason": None,
             "created_at": None, "needs_review": False}
    assert permissions.view(CUSTOMER, "status_event", event)["actor"] == "system"
