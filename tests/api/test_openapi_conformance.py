"""Schemathesis against the app's own OpenAPI schema: generated requests (valid and
invalid) never get a 5xx, and every response matches the documented schema, status code
and content type. Bounded: a fixed number of examples per operation, run as each role.

Beyond what the schema describes, the generated requests are salted with what a hostile
client sends and a schema-driven generator rarely finds on its own: path ids with a NUL,
control characters or bidirectional overrides, date-times at the very ends of the calendar
with extreme offsets, and query parameters no route takes."""

import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import CHECKS
from schemathesis.core.parameters import RAW_QUERY_STRING_KEY

from paytrack.adapters.storage.db import make_engine
from paytrack.adapters.storage.uow import Storage
from paytrack.config import Settings
from paytrack.domain.splits import Policy
from paytrack.entrypoints.api import create_app
from paytrack.services.keys import create_key
from tests.api.conftest import Api, payment_body
from tests.conftest import ON_POSTGRES, _empty_postgres
from tests.integration.conftest import ADMIN

# Mind the CI budget (this is its largest test): the admin run gets schemathesis's
# coverage cases (every boundary and every kind of invalid value of each parameter and
# field) and 15 generated examples per operation; the other roles, which see less and are
# refused more, 6 generated examples each, without the coverage cases.
EXAMPLES_AS_ADMIN = 15
EXAMPLES_AS_OTHERS = 6

# Each test attaches its own fresh database below. Schemathesis probes with invalid keys
# on purpose, from one address: no lockout, or it would end up testing only the 429.
APP = create_app(None, Settings(auth_failures_max=0))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)

# Data that fits the schema can still be refused by a business rule (an unknown currency,
# a payment that does not exist), so "valid data must be accepted" does not hold here.
EXCLUDED = [check for check in CHECKS.get_all() if check.__name__ == "positive_data_acceptance"]

CURRENT = {"token": ""}

# Characters PostgreSQL cannot store (NUL), terminal controls, C1 controls, bidirectional
# overrides and isolates, and a lone non-ASCII letter.
HOSTILE_CHARACTERS = ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\u202e", "\u2066", "\t", "é"]
hostile_ids = st.one_of(
    st.builds(lambda head, char, tail: f"{head}{char}{tail}",
              st.sampled_from(["", "pay_", "re_", "seller_", "pay_01JD8X3M9QH7V2K4T6W8Y0Z1AB"]),
              st.sampled_from(HOSTILE_CHARACTERS), st.sampled_from(["", "x", "\x00"])),
    st.text(min_size=1, max_size=8).filter(lambda s: "/" not in s),
)

# The ends of the calendar with the largest offsets: in UTC some fall outside years 1-9999.
CALENDAR_ENDS = ["0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00+23:59",
                 "9999-12-31T23:59:59-23:59", "9999-12-31T23:59:59.999999-14:00",
                 "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01", "9999-12-31"]
offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
any_date_times = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31),
                              timezones=st.none() | st.just(UTC) | offsets)
# Mostly the ends (a generator left to itself almost never draws them), sometimes anything.
date_times = st.one_of(st.sampled_from(CALENDAR_ENDS), st.sampled_from(CALENDAR_ENDS),
                       any_date_times.map(datetime.isoformat))


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    if not path_parameters:
        return st.just(path_parameters)
    salted = st.fixed_dictionaries({name: hostile_ids for name in path_parameters})
    return st.one_of(st.just(path_parameters), salted)


@schema.hook
def flatmap_query(context, query):
    names = {p.name for p in context.operation.query}
    # A parameter no route takes that schemathesis adds may have a value that is not sent
    # at all (None, [], …), leaving a request it calls invalid that is valid: send "1".
    query = {name: value if name in names or name == RAW_QUERY_STRING_KEY else "1"
             for name, value in (query or {}).items()}
    # A value schemathesis made invalid on purpose (a number) stays: replacing it with a
    # valid date-time would leave a case marked negative that is not.
    dates = {name: date_times for name in ("created_gte", "created_lt")
             if name in names and isinstance(query.get(name, ""), str)}
    choices = [st.just(query), st.sampled_from(["seller", "currency_code", "x\x00"]).map(
        lambda unknown: {**query, unknown: "1"})]
    if dates:
        choices.append(st.fixed_dictionaries(dates).map(lambda d: {**query, **d}))
    return st.one_of(choices)


@schema.auth.auth(refresh_interval=None)
class RoleKey:
    """Schemathesis applies the key itself, so it can also try requests without it."""

    def get(self, case, context):
        return CURRENT["token"]

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


BINDINGS = {"admin": {}, "seller": {"seller_id": "seller_1"},
            "customer": {"customer_id": "cust_1"}}


def seed(storage) -> Callable[[str], None]:
    """Some real objects, so requests reach more than 404s; returns a function that makes
    the run speak as a role."""
    APP.state.storage = storage
    with TestClient(APP) as client:
        admin = Api(client, key(storage, "admin"))
        created = admin.post("/v1/payments", json=payment_body()).json()
        admin.post(f"/v1/payments/{created['id']}/capture")
        admin.post("/v1/refunds", json={"payment_id": created["id"], "amount": 100,
                                        "reason": "r"})
        disputed = admin.post("/v1/payments", json=payment_body(item_id="course_2")).json()
        admin.post(f"/v1/payments/{disputed['id']}/capture")
        admin.post("/v1/disputes", json={"payment_id": disputed["id"], "amount": 1000,
                                         "reason": "r"})

    tokens: dict[str, str] = {}

    def speak_as(role: str) -> None:
        APP.state.storage = storage
        if role not in tokens:
            tokens[role] = key(storage, role, **BINDINGS[role])
        CURRENT["token"] = tokens[role]

    return speak_as


def key(storage, role: str, **binding) -> str:
    with storage.unit_of_work() as uow:
        _, token = create_key(uow, role, ADMIN, **binding)
        uow.commit()
    return token


@pytest.fixture
def seeded(storage):
    """A fresh database for each operation as admin (its writes succeed)."""
    return seed(storage)


@pytest.fixture(scope="module")
def seeded_once(_template, tmp_path_factory):
    """One database for every operation as seller and customer, seeded once: most of their
    writes are refused, and seeding a database per operation cost more than its requests.
    On PostgreSQL the run's database, emptied now (the admin test, before, has finished)."""
    if ON_POSTGRES:
        _empty_postgres(_template)
        url = _template
    else:
        path = tmp_path_factory.mktemp("conformance") / "paytrack.db"
        shutil.copy(_template, path)
        url = f"sqlite:///{path}"
    engine = make_engine(url, pool_size=10)
    yield seed(Storage(engine, Policy()))
    engine.dispose()


@schema.parametrize()
@settings(max_examples=EXAMPLES_AS_ADMIN, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_responses_match_the_schema_as_admin(case, seeded):
    seeded("admin")
    case.call_and_validate(excluded_checks=EXCLUDED)


@pytest.mark.parametrize("role", ["seller", "customer"])
@schema.parametrize()
@settings(max_examples=EXAMPLES_AS_OTHERS, deadline=None, phases=[Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_responses_match_the_schema_as_seller_and_customer(
        case, seeded_once, role):
    seeded_once(role)
    case.call_and_validate(excluded_checks=EXCLUDED)
