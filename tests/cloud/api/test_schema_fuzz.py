"""The omnichannel API fuzzed from its own OpenAPI schema (schemathesis): no request gets a 5xx.

Every operation under /api/v1/ is called with generated paths, queries and bodies, authenticated
with a real key, against a database holding one product, one store and one member, so that some
generated requests hit existing rows as well as missing ones.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from cloud.api.services import api_key_create
from tests.factories import make_member, make_product, make_store

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application()).include(
    path_regex=r"^/api/v1/"
)


@pytest.fixture
def keep_test_connection():
    # The WSGI handler closes database connections after each request; in a test that would close
    # the test's own transaction. Django's test client disconnects the same handlers.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_key(db, keep_test_connection):
    make_store("S01")
    make_product("1.99", sku="100")
    make_member(number="M1", email="a@example.com", phone="1")
    return api_key_create(name="fuzz", rate_limit_per_minute=1_000_000)[1]


@schema.parametrize()
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_server_error(case, fuzz_key):
    response = case.call_and_validate(headers={"X-Api-Key": fuzz_key}, checks=[not_a_server_error])
    assert response.status_code < 500
