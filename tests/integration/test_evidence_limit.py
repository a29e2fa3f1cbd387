"""A seller key cannot grow one dispute's evidence without bound (each submission up to
5000 characters and 20 references, appended to one JSON column that every submission
rewrites whole): past the cap a submission is refused with a 409."""

from __future__ import annotations

import pytest

from paytrack.domain.actors import Actor, Role
from paytrack.domain.errors import EvidenceLimitReached
from paytrack.services import disputes
from tests.integration.conftest import ADMIN, committed, new_payment

SELLER = Actor(Role.SELLER, "seller_1")


def test_evidence_submissions_are_bounded(storage):
    payment = new_payment(storage, subtotal=10000)
    dispute = committed(storage, disputes.open_dispute, payment["id"], ADMIN, amount=1000,
                        reason="fraud")
    text = "x" * 5000
    refs = [f"file_{i}_" + "r" * 480 for i in range(20)]
    for _ in range(disputes.SUBMISSIONS_MAX):
        committed(storage, disputes.submit_evidence, dispute["id"], SELLER, text=text,
                  references=refs)
    with pytest.raises(EvidenceLimitReached):
        committed(storage, disputes.submit_evidence, dispute["id"], SELLER, text=text,
                  references=refs)
