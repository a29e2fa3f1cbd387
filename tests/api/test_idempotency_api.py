import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient

from tests.api.conftest import Api, payment_body
from tests.conftest import postgres_only


def _key(value: str) -> dict:
    return {"Idempotency-Key": value}


def test_the_same_key_and_body_replays_the_first_response(admin):
    first = admin.post("/v1/payments", json=payment_body(), headers=_key("k1"))
    again = admin.post("/v1/payments", json=payment_body(), headers=_key("k1"))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(admin.get("/v1/payments").json()["data"]) == 1


def test_a_replayed_action_does_not_run_twice(admin, captured):
    payment = captured()
    body = {"payment_id": payment["id"], "amount": 1000, "reason": "r", "approve": True}
    first = admin.post("/v1/refunds", json=body, headers=_key("refund-1"))
    second = admin.post("/v1/refunds", json=body, headers=_key("refund-1"))
    assert second.json()["id"] == first.json()["id"]
    assert admin.get(f"/v1/payments/{payment['id']}").json()["refunded_amount"] == 1000


def test_the_same_key_with_another_body_or_path_is_refused(admin, captured):
    admin.post("/v1/payments", json=payment_body(), headers=_key("k2"))
    other = admin.post("/v1/payments", json=payment_body(subtotal=1), headers=_key("k2"))
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    payment = captured()
    elsewhere = admin.post(f"/v1/payments/{payment['id']}/fail", headers=_key("k2"))
    assert elsewhere.status_code == 422
    assert len(admin.get("/v1/payments").json()["data"]) == 2


def test_error_responses_are_replayed_too(admin, captured):
    payment = captured(subtotal=100)
    body = {"payment_id": payment["id"], "amount": 500, "reason": "r", "approve": True}
    first = admin.post("/v1/refunds", json=body, headers=_key("k3"))
    again = admin.post("/v1/refunds", json=body, headers=_key("k3"))
    assert first.status_code == again.status_code == 409
    assert again.json() == first.json()
    assert again.headers["content-type"] == "application/problem+json"


def test_keys_are_scoped_to_the_api_key(client, make_key):
    one, two = Api(client, make_key()), Api(client, make_key())
    a = one.post("/v1/payments", json=payment_body(), headers=_key("shared"))
    b = two.post("/v1/payments", json=payment_body(), headers=_key("shared"))
    assert a.json()["id"] != b.json()["id"]


def test_a_request_without_a_valid_key_stores_nothing(client, admin):
    anonymous = client.post("/v1/payments", json=payment_body(), headers=_key("k4"))
    assert anonymous.status_code == 401
    real = admin.post("/v1/payments", json=payment_body(), headers=_key("k4"))
    assert real.status_code == 201


def test_an_overlong_key_is_refused(admin):
    response = admin.post("/v1/payments", json=payment_body(), headers=_key("x" * 256))
    assert response.status_code == 422


@postgres_only
def test_concurrent_duplicates_create_one_payment(app, make_key):
    token = make_key()
    n = 12
    barrier = threading.Barrier(n)

    def send(_):
        with TestClient(app) as client:
            barrier.wait()
            response = Api(client, token).post("/v1/payments", json=payment_body(),
                                               headers=_key("race"))
            return response.status_code, response.json().get("id")

    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(send, range(n)))
    statuses = Counter(status for status, _ in results)
    assert set(statuses) <= {201, 409}, statuses
    assert len({pid for status, pid in results if status == 201}) == 1
    with TestClient(app) as client:
        assert len(Api(client, token).get("/v1/payments").json()["data"]) == 1


@postgres_only
def test_a_twin_of_a_request_still_in_flight_gets_a_409(admin, storage, monkeypatch):
    from datetime import timedelta

    from paytrack.services import idempotency

    monkeypatch.setattr(idempotency, "TWIN_WAIT", timedelta(milliseconds=200))
    body = payment_body()
    with storage.unit_of_work(readonly=True) as uow:
        scope = uow.api_keys.by_prefix(admin.headers["Authorization"].split("_")[1])["id"]
    fingerprint = idempotency.request_fingerprint("POST", "/v1/payments", "",
                                                  json.dumps(body).encode())
    first = storage.unit_of_work().__enter__()  # the first request, still running
    try:
        assert idempotency.claim(first, scope, "inflight", fingerprint) is None
        twin = admin.post("/v1/payments", json=body, headers=_key("inflight"))
    finally:
        first.__exit__(None, None, None)  # ... and then it dies
    assert twin.status_code == 409
    assert twin.json()["code"] == "idempotent_request_in_flight"
    retry = admin.post("/v1/payments", json=body, headers=_key("inflight"))
    assert retry.status_code == 201  # at once: the dead request left nothing locked
    assert len(admin.get("/v1/payments").json()["data"]) == 1


def test_a_crash_before_commit_leaves_neither_the_work_nor_the_key(admin, monkeypatch):
    """The response is stored in the work's transaction: if the process dies before the
    commit, neither exists and a retry runs once; never twice."""
    from paytrack.services import idempotency

    real_record = idempotency.record

    def die(*args):
        raise RuntimeError("killed between the work and storing its response")

    monkeypatch.setattr(idempotency, "record", die)
    crashed = admin.post("/v1/payments", json=payment_body(), headers=_key("crash"))
    assert crashed.status_code == 500
    assert admin.get("/v1/payments").json()["data"] == []
    monkeypatch.setattr(idempotency, "record", real_record)
    retried = admin.post("/v1/payments", json=payment_body(), headers=_key("crash"))
    again = admin.post("/v1/payments", json=payment_body(), headers=_key("crash"))
    assert retried.status_code == 201 and again.json() == retried.json()
    assert len(admin.get("/v1/payments").json()["data"]) == 1


def test_the_same_body_in_another_key_order_is_replayed(admin):
    body = payment_body()
    first = admin.post("/v1/payments", json=body, headers=_key("order"))
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2)
    again = admin.post("/v1/payments", content=reordered,
                       headers={**_key("order"), "Content-Type": "application/json"})
    assert again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"


def test_a_replay_answers_with_the_original_status_after_the_state_moved_on(admin, captured):
    payment = captured()
    cancel_like = admin.post(f"/v1/payments/{payment['id']}/fail", headers=_key("f1"))
    assert cancel_like.status_code == 409
    admin.post("/v1/refunds", json={"payment_id": payment["id"], "reason": "r",
                                    "approve": True})
    replay = admin.post(f"/v1/payments/{payment['id']}/fail", headers=_key("f1"))
    assert replay.status_code == 409 and replay.json() == cancel_like.json()


def test_no_body_and_an_empty_object_are_the_same_request(admin):
    payment = admin.post("/v1/payments", json=payment_body()).json()
    first = admin.post(f"/v1/payments/{payment['id']}/capture", headers=_key("c"))
    assert first.status_code == 200
    retry = admin.post(f"/v1/payments/{payment['id']}/capture", json={}, headers=_key("c"))
    assert retry.status_code == 200 and retry.headers["Idempotent-Replayed"] == "true"
