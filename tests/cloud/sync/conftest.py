import itertools
import uuid
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from retail.outbox import hlc

_ids = itertools.count(1)


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def enrolled(db, api):
    """Store S01 and S02, each enrolled, with an authenticated API client per store."""
    from cloud.sync.services import enrollment_code_create, store_enroll
    from tests.factories import make_product, make_store

    stores, clients = {}, {}
    for code in ("S01", "S02"):
        stores[code] = make_store(code)
        _, enrollment = enrollment_code_create(store=stores[code])
        _, token = store_enroll(code=enrollment)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        clients[code] = client
    product = make_product("2.50")
    return {"stores": stores, "clients": clients, "product": product}


def envelope(origin, seq, type, payload, *, stamp=None, schema=1, event_id=None):
    return {
        "id": str(event_id or uuid.uuid4()),
        "origin": origin,
        "seq": seq,
        "hlc": stamp if stamp is not None else hlc.pack(hlc.now_millis() - 1000, next(_ids) % 1000),
        "type": type,
        "schema": schema,
        "payload": payload,
    }


def moved(store, product, quantity, kind="sale", movement_id=None):
    return {
        "id": str(movement_id or uuid.uuid4()),
        "store_id": str(store.id),
        "product_id": str(product.id),
        "kind": kind,
        "quantity": str(Decimal(quantity)),
        "reference": "",
        "note": "",
        "created_at": "2026-03-01T10:00:00Z",
    }


def push(client, events, **extra):
    return client.post("/api/sync/v1/push", {"protocol": 1, "events": events, **extra}, format="json")


def pull(client, cursor, **extra):
    return client.post("/api/sync/v1/pull", {"protocol": 1, "cursor": cursor, **extra}, format="json")
