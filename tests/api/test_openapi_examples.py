"""/docs shows a realistic example for every request body ("Try it out" starts from the
first one): each fits the schema it illustrates, and a new user who sends them in order
creates, captures and refunds a sensible payment."""

import jsonschema_rs
import pytest

from paytrack.entrypoints.api import create_app

SPEC = create_app(None).openapi()
BODIES = [(method.upper(), path, operation["requestBody"]["content"]["application/json"])
          for path, operations in SPEC["paths"].items()
          for method, operation in operations.items()
          if "application/json" in operation.get("requestBody", {}).get("content", {})]


def _model(schema: dict) -> dict:
    """The component a body schema names (an optional body is ``anyOf: [model, null]``;
    Swagger UI shows the first choice)."""
    ref = schema["$ref"] if "$ref" in schema else schema["anyOf"][0]["$ref"]
    return SPEC["components"]["schemas"][ref.rsplit("/", 1)[1]]


def _examples(path: str) -> list[dict]:
    (_, _, content), = [body for body in BODIES if body[1] == path]
    return _model(content["schema"])["examples"]


def test_every_write_has_a_request_body():
    assert len(BODIES) >= 9


@pytest.mark.parametrize(("method", "path", "content"), BODIES,
                         ids=[f"{m} {p}" for m, p, _ in BODIES])
def test_every_request_body_has_examples_that_fit_its_schema(method, path, content):
    examples = _model(content["schema"]).get("examples")
    assert examples, f"{method} {path}: no example for /docs to show"
    validator = jsonschema_rs.Draft202012Validator(
        {**content["schema"], "components": SPEC["components"]})
    for example in examples:
        errors = [e.message for e in validator.iter_errors(example)]
        assert not errors, f"{method} {path}: {example} does not fit: {errors}"


def test_the_examples_walk_a_payment_from_creation_to_refund(admin):
    payment_example = _examples("/v1/payments")[0]
    assert (payment_example["customer_id"], payment_example["seller_id"]) == ("stu_42",
                                                                              "inst_ada")
    created = admin.post("/v1/payments", json=payment_example)
    assert created.status_code == 201, created.text
    payment = created.json()
    captured = admin.post(f"/v1/payments/{payment['id']}/capture",
                          json=_examples("/v1/payments/{payment_id}/capture")[0])
    assert captured.status_code == 200, captured.text
    assert captured.json()["status"] == "succeeded"
    asked, refunded = ({**example, "payment_id": payment["id"]}
                       for example in _examples("/v1/refunds"))
    requested = admin.post("/v1/refunds", json=asked)
    assert requested.status_code == 201, requested.text
    rejected = admin.post(f"/v1/refunds/{requested.json()['id']}/reject",
                          json=_examples("/v1/refunds/{refund_id}/reject")[0])
    assert rejected.status_code == 200, rejected.text
    done = admin.post("/v1/refunds", json=refunded)
    assert done.status_code == 201, done.text
    assert (done.json()["status"], done.json()["amount"]) == ("succeeded", payment["total"])


@pytest.mark.parametrize("path", ["/v1/payments/{payment_id}/fail",
                                  "/v1/payments/{payment_id}/cancel"])
def test_the_reason_examples_are_accepted(admin, path):
    for example in _examples(path):
        payment = admin.post("/v1/payments", json=_examples("/v1/payments")[0]).json()
        response = admin.post(path.format(payment_id=payment["id"]), json=example)
        assert response.status_code == 200, response.text


def test_every_payment_example_is_accepted(admin):
    for example in _examples("/v1/payments"):
        response = admin.post("/v1/payments", json=example)
        assert response.status_code == 201, response.text


@pytest.mark.parametrize(("path", "party"), [("/v1/sellers/{seller_id}", "inst_ada"),
                                             ("/v1/customers/{customer_id}", "stu_42")])
def test_the_party_examples_are_accepted(admin, path, party):
    for example in _examples(path):
        response = admin.put(path.split("{")[0] + party, json=example)
        assert response.status_code == 200, response.text
