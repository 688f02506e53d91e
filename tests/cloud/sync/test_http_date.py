"""The cloud's answers say its time, so stores can tell their staff when a till's clock is off."""

import time
from email.utils import parsedate_to_datetime

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/health", "/api/sync/v1/pull"])
def test_every_answer_carries_the_clouds_date(client, path):
    answer = client.post(path) if "sync" in path else client.get(path)

    assert abs(parsedate_to_datetime(answer["Date"]).timestamp() - time.time()) < 3
