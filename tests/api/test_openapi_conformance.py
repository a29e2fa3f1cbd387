"""Schemathesis against the app's own OpenAPI schema: generated requests (valid and
invalid) never get a 5xx, and every response matches the documented schema, status code
and content type. Bounded: a fixed number of examples per operation."""

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS

from paytrack.config import Settings
from paytrack.entrypoints.api import create_app
from tests.api.conftest import Api, payment_body

EXAMPLES_PER_OPERATION = 40

# Each test attaches its own fresh database below. Schemathesis probes with invalid keys
# on purpose, from one address: no lockout, or it would end up testing only the 429.
APP = create_app(None, Settings(auth_failures_max=0))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)

# Data that fits the schema can still be refused by a business rule (an unknown currency,
# a payment that does not exist), so "valid data must be accepted" does not hold here.
EXCLUDED = [check for check in CHECKS.get_all() if check.__name__ == "positive_data_acceptance"]


CURRENT = {"token": ""}


@schema.auth.auth(refresh_interval=None)
class AdminKey:
    """Schemathesis applies the key itself, so it can also try requests without it."""

    def get(self, case, context):
        return CURRENT["token"]

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture
def seeded(storage, make_key):
    """A fresh database with some real objects, so requests reach more than 404s."""
    APP.state.storage = storage
    CURRENT["token"] = make_key("admin")
    with TestClient(APP) as client:
        admin = Api(client, CURRENT["token"])
        created = admin.post("/v1/payments", json=payment_body()).json()
        admin.post(f"/v1/payments/{created['id']}/capture")
        admin.post("/v1/refunds", json={"payment_id": created["id"], "amount": 100,
                                        "reason": "r"})


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_responses_match_the_schema(case, seeded):
    case.call_and_validate(excluded_checks=EXCLUDED)
