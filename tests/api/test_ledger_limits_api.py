"""No accepted write can break a read: ledger sums past 2^63 are read exactly, and a write
that would take one account past MAX_BALANCE_MINOR is refused with a 409.

Reaching 2^63 with amounts at the real limit takes about 9 million payments; these tests
raise the per-amount limit instead (``huge_amounts``), so that a handful of real payments,
through the API and the command line, build the same sums."""

import pytest
from typer.testing import CliRunner

from paytrack.domain import limits
from paytrack.domain.limits import MAX_BALANCE_MINOR
from paytrack.entrypoints.cli import app
from tests.api.conftest import payment_body

HUGE = 3 * 10**18  # one payment; three of them, and a refund, pass 2^63 in the sums
runner = CliRunner()


@pytest.fixture
def huge_amounts(monkeypatch):
    monkeypatch.setattr(limits, "MAX_AMOUNT_MINOR", HUGE)


@pytest.fixture
def cli(database_url, monkeypatch):
    monkeypatch.setenv("PAYTRACK_DATABASE_URL", database_url)
    return lambda *args: runner.invoke(app, list(args), catch_exceptions=False)


def _record(admin, seller: str, gateway: str, subtotal: int):
    """A payment the gateway already confirmed: created and captured in one request."""
    return admin.post("/v1/payments", json=payment_body(
        seller_id=seller, item_id=f"item_{seller}", gateway=gateway, subtotal=subtotal,
        captured=True))


def _balances(admin) -> dict[str, int]:
    accounts = admin.get("/v1/ledger/accounts", params={"limit": 100})
    assert accounts.status_code == 200, accounts.text
    return {a["code"]: a["balance"] for a in accounts.json()["data"]}


def test_sums_past_2_63_are_read_exactly_everywhere(admin, huge_amounts, cli):
    first = _record(admin, "s1", "stripe", HUGE)
    assert first.status_code == 201, first.text
    assert _record(admin, "s2", "paypal", HUGE).status_code == 201
    assert _record(admin, "s3", "razorpay", HUGE).status_code == 201
    refund = admin.post("/v1/refunds", json={"payment_id": first.json()["id"], "reason": "r",
                                             "approve": True})
    assert refund.status_code == 201, refund.text

    total = 4 * HUGE  # three captures and one full refund: 1.2 × 10^19 > 2^63
    assert total > 2**63
    trial = admin.get("/v1/ledger/trial-balance")
    assert trial.status_code == 200, trial.text
    assert trial.json() == {"balanced": True, "currencies": [
        {"currency": "USD", "debits": total, "credits": total}]}
    expected = {"gateway:stripe:clearing": 0, "gateway:paypal:clearing": HUGE,
                "gateway:razorpay:clearing": HUGE, "platform:revenue": 2 * HUGE // 5,
                "seller:s1:pending": 0, "seller:s2:pending": 4 * HUGE // 5,
                "seller:s3:pending": 4 * HUGE // 5}
    assert _balances(admin) == expected
    assert admin.get("/v1/sellers/s2/balance").json()["balances"][0]["pending"] == 4 * HUGE // 5
    assert admin.get("/v1/ledger/verify").json()["ok"] is True

    verify = cli("ledger", "verify")
    assert verify.exit_code == 0 and "ledger verified" in verify.output, verify.output
    worker = cli("worker", "--once")
    assert worker.exit_code == 0 and "folded 12 balance deltas" in worker.output, worker.output
    rebuild = cli("ledger", "rebuild")
    assert rebuild.exit_code == 0 and "0 balance(s) corrected" in rebuild.output
    assert cli("ledger", "verify").exit_code == 0
    assert _balances(admin) == expected
    assert admin.get("/v1/ledger/trial-balance").json()["currencies"][0]["debits"] == total


def test_a_write_that_would_pass_the_balance_limit_is_refused_and_changes_nothing(
        admin, huge_amounts, cli):
    assert _record(admin, "s1", "paypal", HUGE).status_code == 201
    before = _balances(admin)

    # a capture: the payment stays pending, no posting is made
    pending = admin.post("/v1/payments", json=payment_body(
        seller_id="s2", item_id="item_s2", gateway="paypal", subtotal=HUGE)).json()
    refused = admin.post(f"/v1/payments/{pending['id']}/capture")
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "balance_limit_exceeded"
    assert str(MAX_BALANCE_MINOR) in refused.json()["detail"]
    assert admin.get(f"/v1/payments/{pending['id']}").json()["status"] == "pending"
    # a payment recorded as captured: not even the payment is created
    recorded = _record(admin, "s3", "paypal", HUGE)
    assert recorded.status_code == 409 and recorded.json()["code"] == "balance_limit_exceeded"
    assert len(admin.get("/v1/payments").json()["data"]) == 2
    assert _balances(admin) == before

    # up to the limit exactly is fine; one minor unit more is not, before and after folding
    rest = MAX_BALANCE_MINOR - HUGE
    assert _record(admin, "s4", "paypal", rest).status_code == 201
    assert _balances(admin)["gateway:paypal:clearing"] == MAX_BALANCE_MINOR
    assert _record(admin, "s5", "paypal", 1).status_code == 409
    assert cli("worker", "--once").exit_code == 0
    assert _record(admin, "s5", "paypal", 1).status_code == 409
    assert _balances(admin)["gateway:paypal:clearing"] == MAX_BALANCE_MINOR
    assert cli("ledger", "verify").exit_code == 0
    # money that leaves the account makes room again
    refund = admin.post("/v1/refunds", json={"payment_id": admin.get("/v1/payments").json()
                                             ["data"][0]["id"], "amount": 1, "reason": "r",
                                             "approve": True})
    assert refund.status_code == 201, refund.text
    assert _record(admin, "s5", "paypal", 1).status_code == 201
