import pytest
from rest_framework.test import APIClient

from cloud.api.services import api_key_create


@pytest.fixture
def api_key(db):
    return api_key_create(name="Web shop", rate_limit_per_minute=1000)


@pytest.fixture
def api(api_key):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=api_key[1])
    return client
