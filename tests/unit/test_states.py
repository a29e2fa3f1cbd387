import pytest

from paytrack.domain.errors import InvalidTransition
from paytrack.domain.states import (
    CAPTURABLE_STATES,
    OPEN_REFUND_STATES,
    PAYMENT_TRANSITIONS,
    REFUND_TRANSITIONS,
    RELEASING_REFUND_STATES,
    PaymentStatus,
    RefundStatus,
    move,
    needs_review,
    sources_of,
)

P = PaymentStatus


@pytest.mark.parametrize(("current", "target"), [
    (P.PENDING, P.PROCESSING), (P.PENDING, P.SUCCEEDED), (P.PROCESSING, P.SUCCEEDED),
    (P.PROCESSING, P.FAILED), (P.PENDING, P.CANCELED), (P.SUCCEEDED, P.PARTIALLY_REFUNDED),
    (P.PARTIALLY_REFUNDED, P.REFUNDED), (P.SUCCEEDED, P.DISPUTED), (P.DISPUTED, P.CHARGED_BACK),
    (P.DISPUTED, P.SUCCEEDED), (P.CANCELED, P.SUCCEEDED), (P.FAILED, P.SUCCEEDED),
])
def test_allowed_payment_moves(current, target):
    assert move(PAYMENT_TRANSITIONS, "payment", current, target) == target


@pytest.mark.parametrize(("current", "target"), [
    (P.SUCCEEDED, P.PENDING), (P.FAILED, P.PROCESSING), (P.REFUNDED, P.SUCCEEDED),
    (P.CANCELED, P.PROCESSING), (P.CANCELED, P.FAILED), (P.FAILED, P.CANCELED),
    (P.PENDING, P.REFUNDED), (P.PROCESSING, P.PENDING), (P.CHARGED_BACK, P.SUCCEEDED),
])
def test_a_payment_never_regresses(current, target):
    with pytest.raises(InvalidTransition, match=f"cannot become {target}"):
        move(PAYMENT_TRANSITIONS, "payment", current, target)


def test_terminal_states_allow_nothing():
    for state in (P.REFUNDED, P.CHARGED_BACK):
        assert PAYMENT_TRANSITIONS[state] == frozenset()
    for state in (RefundStatus.REJECTED, RefundStatus.SUCCEEDED, RefundStatus.FAILED):
        assert REFUND_TRANSITIONS[state] == frozenset()


def test_a_refund_is_decided_once():
    with pytest.raises(InvalidTransition):
        move(REFUND_TRANSITIONS, "refund", RefundStatus.REJECTED, RefundStatus.APPROVED)
    assert sources_of(REFUND_TRANSITIONS, RefundStatus.SUCCEEDED) == {"approved"}


def test_every_state_has_a_row_in_its_table():
    assert set(PAYMENT_TRANSITIONS) == set(PaymentStatus)
    assert set(REFUND_TRANSITIONS) == set(RefundStatus)


def test_a_canceled_or_failed_payment_can_only_be_confirmed_and_that_needs_review():
    for state in (P.CANCELED, P.FAILED):
        assert PAYMENT_TRANSITIONS[state] == {P.SUCCEEDED}
        assert state in CAPTURABLE_STATES
        assert needs_review(state, P.SUCCEEDED)
    assert not needs_review(P.PROCESSING, P.SUCCEEDED)
    assert not needs_review(P.DISPUTED, P.SUCCEEDED)
    assert P.DISPUTED not in CAPTURABLE_STATES


def test_only_an_undecided_refund_request_can_be_canceled():
    R = RefundStatus
    assert sources_of(REFUND_TRANSITIONS, R.CANCELED) == {"requested"}
    assert REFUND_TRANSITIONS[R.CANCELED] == frozenset()
    with pytest.raises(InvalidTransition):  # approved: the gateway may be paying it out
        move(REFUND_TRANSITIONS, "refund", R.APPROVED, R.CANCELED)


def test_every_refund_state_says_what_it_does_with_its_reservation():
    """Open refunds hold their amount; a release gives it back; a success spends it."""
    R = RefundStatus
    assert OPEN_REFUND_STATES | RELEASING_REFUND_STATES | {R.SUCCEEDED} == set(R)
    assert not OPEN_REFUND_STATES & RELEASING_REFUND_STATES
    for state in OPEN_REFUND_STATES:  # an open refund can still be settled
        assert REFUND_TRANSITIONS[state]
    for state in RELEASING_REFUND_STATES:  # each release is reached only from an open one
        assert sources_of(REFUND_TRANSITIONS, state) <= set(OPEN_REFUND_STATES)
