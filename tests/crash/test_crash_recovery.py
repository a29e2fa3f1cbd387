"""A real ``paytrack serve`` killed with SIGKILL again and again while clients create,
capture and refund with idempotent retries, its upkeep releases sellers' earnings (no
hold) and sends events to a platform's endpoint, and another client pays sellers out of
them. Afterwards every acknowledged write exists exactly once, no key is locked, refunded
and paid-out amounts are the acknowledged ones, ``paytrack ledger verify`` is clean, and
the endpoint has received a verified ``payment.succeeded`` for every payment that
succeeded: no event lost to a kill. Bounded: about half a minute per database."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from paytrack.services.keys import create_key
from tests.integration.conftest import ADMIN
from tests.receiver import Receiver, receiving

CLIENTS = 6
KILLS = 5
RUN_SECONDS = 25
EVENTS_WAIT_S = 60  # after the last restart: a lease to run out, then the sends
PAYTRACK = str(Path(sys.executable).with_name("paytrack"))
PAYOUT_KEY = "gAUmQyhLf6s_1d0pDZRVdRqSlTj8LrQ3tvlkHcMhJHo="  # a Fernet key for the test


@dataclass
class PayoutAck:
    seller_id: str
    currency: str
    amount: int
    payout_id: str
    paid: bool = False


@dataclass
class Ack:
    payment_id: str
    create_key: str
    create_body: dict
    refunds: list[tuple[str, dict, dict]] = field(default_factory=list)  # key, body, reply


class Server:
    """``paytrack serve`` in its own process group, to be killed without warning."""

    def __init__(self, database_url: str, tmp_path: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "PAYTRACK_DATABASE_URL": database_url,
                    # earnings are due at once and released every 0.2 s, under the kills
                    "PAYTRACK_HOLD_DAYS": "0", "PAYTRACK_UPKEEP_INTERVAL_S": "0.2",
                    "PAYTRACK_PAYOUT_KEYS": PAYOUT_KEY,
                    # a delivery a kill interrupted is sent again 4 s after its claim (the
                    # lease outlasts a send's deadline, three times its timeout)
                    "PAYTRACK_EVENT_TIMEOUT_S": "1", "PAYTRACK_EVENT_LEASE_S": "4"}
        self.log = (tmp_path / "server.log").open("ab")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [PAYTRACK, "serve", "--port", str(self.port)], env=self.env,
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("paytrack serve did not come up")

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def _send(client: httpx.Client, path: str, body: dict | None, key: str,
          stop_retrying_at: float) -> httpx.Response:
    """POST until the server acknowledges it: the same key and body on every retry."""
    while True:
        try:
            response = client.post(path, json=body, headers={"Idempotency-Key": key})
            if response.status_code < 500 and response.status_code != 409:
                return response
            if response.status_code == 409 and \
                    response.json()["code"] != "idempotent_request_in_flight":
                return response
        except httpx.TransportError:
            pass
        assert time.monotonic() < stop_retrying_at, f"{path} never acknowledged"
        time.sleep(0.05)


def _client_loop(url: str, token: str, n: int, until: float, acks: list[Ack],
                 errors: list[str]) -> None:
    rng = random.Random(n)
    give_up = until + 60
    with httpx.Client(base_url=url, timeout=10,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        while time.monotonic() < until:
            body = {"customer_id": f"cust_{rng.randrange(20)}", "seller_id": f"seller_{n}",
                    "item_type": "course", "item_id": f"course_{n}_{rng.randrange(3)}",
                    "currency": rng.choice(["USD", "JPY", "KWD"]),
                    "subtotal": rng.randrange(1000, 100_000), "method": "card"}
            key = f"create-{uuid.uuid4()}"
            created = _send(client, "/v1/payments", body, key, give_up)
            if created.status_code != 201:
                errors.append(f"create: {created.status_code} {created.text}")
                return
            ack = Ack(created.json()["id"], key, body)
            acks.append(ack)
            captured = _send(client, f"/v1/payments/{ack.payment_id}/capture", None,
                             f"capture-{uuid.uuid4()}", give_up)
            if captured.status_code != 200:
                errors.append(f"capture: {captured.status_code} {captured.text}")
                return
            total = captured.json()["total"]
            for _ in range(rng.randrange(3)):
                refund = {"payment_id": ack.payment_id, "amount": max(1, total // 7),
                          "reason": "crash test", "approve": True}
                refund_key = f"refund-{uuid.uuid4()}"
                reply = _send(client, "/v1/refunds", refund, refund_key, give_up)
                if reply.status_code != 201:
                    errors.append(f"refund: {reply.status_code} {reply.text}")
                    return
                ack.refunds.append((refund_key, refund, reply.json()))


def _payout_loop(url: str, token: str, until: float, payouts: list[PayoutAck],
                 errors: list[str]) -> None:
    """Pay each seller out of what it has available, again and again: request, approve,
    pay (every third is left approved), each step retried with its own key."""
    give_up = until + 60
    with httpx.Client(base_url=url, timeout=10,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        while time.monotonic() < until:
            for n in range(CLIENTS):
                seller = f"seller_{n}"
                try:
                    balances = client.get(f"/v1/sellers/{seller}/balance").json()["balances"]
                except (httpx.TransportError, ValueError, KeyError):
                    continue  # the server is down or the seller has no sale yet
                for row in balances:
                    amount = row["available"] // 2
                    if amount < 10_000:  # above every currency's minimum here
                        continue
                    body = {"seller_id": seller, "amount": amount,
                            "currency": row["currency"], "method": "paypal"}
                    reply = _send(client, "/v1/payouts", body, f"po-{uuid.uuid4()}",
                                  give_up)
                    if reply.status_code == 409 and reply.json()["code"] in (
                            "insufficient_funds", "payout_account_missing"):
                        continue  # a refund took it meanwhile, or no account yet
                    if reply.status_code != 201:
                        errors.append(f"payout: {reply.status_code} {reply.text}")
                        return
                    ack = PayoutAck(seller, row["currency"], amount, reply.json()["id"])
                    payouts.append(ack)
                    for verb, step in (("approve", None),
                                       ("pay", {"reference": f"ref_{ack.payout_id}"})):
                        if verb == "pay" and len(payouts) % 3 == 0:
                            break
                        moved = _send(client, f"/v1/payouts/{ack.payout_id}/{verb}", step,
                                      f"{verb}-{uuid.uuid4()}", give_up)
                        if moved.status_code != 200:
                            errors.append(f"{verb}: {moved.status_code} {moved.text}")
                            return
                        ack.paid = verb == "pay"
            time.sleep(0.2)


def _payout_accounts(url: str, token: str) -> None:
    with httpx.Client(base_url=url, timeout=10,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        for n in range(CLIENTS):
            assert client.put(f"/v1/sellers/seller_{n}", json={}).status_code == 200
            reply = client.put(f"/v1/sellers/seller_{n}/payout-account",
                               json={"method": "paypal", "email": f"s{n}@example.com"})
            assert reply.status_code == 200, reply.text


def _endpoint(url: str, token: str, receiver: Receiver) -> None:
    with httpx.Client(base_url=url, timeout=10,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        reply = client.post("/v1/event-endpoints", json={
            "url": receiver.url, "event_types": ["payment.succeeded"]})
        assert reply.status_code == 201, reply.text
        receiver.secret = reply.json()["secret"]


@pytest.fixture
def receiver():
    with receiving() as r:
        yield r


def test_acknowledged_writes_survive_sigkill_exactly_once(database_url, storage, tmp_path,
                                                          receiver):
    with storage.unit_of_work() as uow:
        _, token = create_key(uow, "admin", ADMIN)
        uow.commit()
    server = Server(database_url, tmp_path)
    server.start()
    _payout_accounts(server.url, token)
    _endpoint(server.url, token, receiver)
    acks: list[Ack] = []
    payouts: list[PayoutAck] = []
    errors: list[str] = []
    until = time.monotonic() + RUN_SECONDS
    clients = [threading.Thread(target=_client_loop,
                                args=(server.url, token, n, until, acks, errors))
               for n in range(CLIENTS)]
    clients.append(threading.Thread(target=_payout_loop,
                                    args=(server.url, token, until, payouts, errors)))
    try:
        for c in clients:
            c.start()
        rng = random.Random(7)
        for _ in range(KILLS):
            time.sleep(rng.uniform(1.5, RUN_SECONDS / KILLS - 1.5))
            server.kill()
            time.sleep(rng.uniform(0.1, 0.5))
            server.start()
        for c in clients:
            c.join(120)
        assert not errors, errors
        assert not any(c.is_alive() for c in clients)
        _check(server, token, acks)
        _check_payouts(server, token, payouts)
        _check_events(server, token, receiver)
    finally:
        server.kill()
    verify = subprocess.run([PAYTRACK, "ledger", "verify"], env=server.env,
                            capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def _check(server: Server, token: str, acks: list[Ack]) -> None:
    assert len(acks) >= CLIENTS * 2, "the clients made too little progress to prove much"
    with httpx.Client(base_url=server.url, timeout=10,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        stored = _all(client, "/v1/payments")
        assert sorted(p["id"] for p in stored) == sorted(a.payment_id for a in acks)
        by_id = {p["id"]: p for p in stored}
        refunds = _all(client, "/v1/refunds")
        assert sorted(r["id"] for r in refunds) == sorted(
            reply["id"] for a in acks for _, _, reply in a.refunds)
        for ack in acks:
            payment = by_id[ack.payment_id]
            assert payment["status"] in ("succeeded", "partially_refunded")
            assert payment["refunded_amount"] == sum(b["amount"] for _, b, _ in ack.refunds)
        # No key is locked: every retry is answered at once with the original response.
        for ack in acks:
            again = client.post("/v1/payments", json=ack.create_body,
                                headers={"Idempotency-Key": ack.create_key})
            assert again.status_code == 201, again.text
            assert again.headers["Idempotent-Replayed"] == "true"
            assert again.json()["id"] == ack.payment_id
            for key, body, reply in ack.refunds:
                again = client.post("/v1/refunds", json=body, headers={"Idempotency-Key": key})
                assert again.status_code == 201 and again.json()["id"] == reply["id"]
        trial = client.get("/v1/ledger/trial-balance").json()
        assert trial["balanced"], trial


def _check_payouts(server: Server, token: str, payouts: list[PayoutAck]) -> None:
    """Every acknowledged payout exists once; each seller's paid out and in transit are
    exactly the acknowledged payouts (releases and refunds moved the rest)."""
    assert any(p.paid for p in payouts), "no payout was paid: the test proved nothing"
    with httpx.Client(base_url=server.url, timeout=10,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        stored = {p["id"]: p for p in _all(client, "/v1/payouts")}
        assert sorted(stored) == sorted(p.payout_id for p in payouts)
        for n in range(CLIENTS):
            seller = f"seller_{n}"
            for row in client.get(f"/v1/sellers/{seller}/balance").json()["balances"]:
                mine = [p for p in payouts
                        if (p.seller_id, p.currency) == (seller, row["currency"])]
                assert row["paid_out"] == sum(p.amount for p in mine if p.paid), row
                assert row["in_transit"] == sum(p.amount for p in mine if not p.paid), row
                assert min(row["pending"], row["available"], row["debt"]) >= 0, row


def _check_events(server: Server, token: str, receiver: Receiver) -> None:
    """Every payment the database says succeeded has exactly one ``payment.succeeded``
    event, and the endpoint receives it (verified; perhaps more than once), after the
    upkeep of the restarted server sends what the kills interrupted."""
    with httpx.Client(base_url=server.url, timeout=10,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        succeeded = {p["id"] for p in _all(client, "/v1/payments")
                     if p["succeeded_at"] is not None}
        events = _all(client, "/v1/events", {"type": "payment.succeeded"})
        assert sorted(e["object_id"] for e in events) == sorted(succeeded)

        def received() -> set[str]:
            return {p["data"]["object"]["id"] for p in receiver.payloads("payment.succeeded")}

        deadline = time.monotonic() + EVENTS_WAIT_S
        while not succeeded <= received() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert succeeded - received() == set(), "events lost"
        assert received() == succeeded
        assert set(receiver.ids) == {e["id"] for e in events}
        assert receiver.refused == 0


def _all(client: httpx.Client, path: str, filters: dict | None = None) -> list[dict]:
    rows: list[dict] = []
    cursor = None
    while True:
        params = {**(filters or {}), "limit": 100, **({"cursor": cursor} if cursor else {})}
        page = client.get(path, params=params).json()
        rows += page["data"]
        if not page["has_more"]:
            return rows
        cursor = page["next_cursor"]


pytestmark = pytest.mark.crash
