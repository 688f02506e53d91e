import time

import pytest
from rest_framework.test import APIClient

from cloud.api.models import ApiKey
from cloud.api.services import api_key_create, api_key_revoke

pytestmark = pytest.mark.django_db


def test_the_key_is_stored_only_as_a_hash():
    key, plain = api_key_create(name="Web shop")
    stored = ApiKey.objects.get()
    assert plain.startswith(f"ot_{key.prefix}_")
    assert plain.split("_", 2)[2] not in str(stored.__dict__)
    assert len(stored.secret_hash) == 64


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_X_API_KEY": "ot_nope_nope"},
        {"HTTP_AUTHORIZATION": "Api-Key garbage"},
        {"HTTP_X_API_KEY": "x"},
    ],
)
def test_no_or_a_wrong_key_is_a_401_with_a_code(headers):
    api_key_create(name="Web shop")
    response = APIClient().get("/api/v1/products", **headers)
    assert response.status_code == 401
    assert set(response.json()) == {"detail", "code"}
    assert response.json()["code"] in ("not_authenticated", "api_key_invalid")


def test_a_right_secret_with_another_keys_prefix_is_refused():
    first, _ = api_key_create(name="A")
    _, second_plain = api_key_create(name="B")
    forged = f"ot_{first.prefix}_{second_plain.split('_', 2)[2]}"
    assert APIClient().get("/api/v1/products", HTTP_X_API_KEY=forged).status_code == 401


def test_a_revoked_key_no_longer_works_and_authorization_header_works_too():
    key, plain = api_key_create(name="Web shop")
    assert APIClient().get("/api/v1/products", HTTP_AUTHORIZATION=f"Api-Key {plain}").status_code == 200
    api_key_revoke(api_key=key)
    assert APIClient().get("/api/v1/products", HTTP_AUTHORIZATION=f"Api-Key {plain}").status_code == 401


def test_each_key_has_its_own_rate_limit():
    # (buckets are per key id, so no cache clearing: a shared Redis is never flushed by a test)
    if 60 - time.time() % 60 < 3:  # not across a minute boundary, where the budget renews
        time.sleep(3)
    # given two keys, one allowed 3 requests a minute
    _, tight = api_key_create(name="Tight", rate_limit_per_minute=3)
    _, other = api_key_create(name="Other", rate_limit_per_minute=100)

    # when the tight key calls 4 times and the other once
    codes = [APIClient().get("/api/v1/products", HTTP_X_API_KEY=tight).status_code for _ in range(4)]
    other_code = APIClient().get("/api/v1/products", HTTP_X_API_KEY=other).status_code
    refused = APIClient().get("/api/v1/products", HTTP_X_API_KEY=tight)

    # then the fourth is a 429 with a Retry-After, and the other key is unaffected
    assert codes == [200, 200, 200, 429]
    assert other_code == 200
    assert refused.json()["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 60
