import pytest
from hypothesis import HealthCheck, settings

# Hypothesis examples share one database transaction per test; Django's fixtures are function-scoped.
settings.register_profile(
    "omnitill", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.load_profile("omnitill")


@pytest.fixture
def store(db):
    from tests.factories import make_store

    return make_store("S01", name="Berlin Mitte")
