"""The store's admin shows event payloads with their secrets redacted, as head office's does: a
``staff.updated`` pulled from the cloud carries the PIN hash (tills check PINs offline), and one
the store could not apply sits in its pulled quarantine."""

import uuid

import pytest

from retail.outbox.models import Event
from retail.outbox.redaction import REDACTED
from store_node.sync.models import PulledQuarantine
from tests.factories import make_user

pytestmark = pytest.mark.django_db

PIN_HASH = "pbkdf2_sha256$870000$c2FsdHNhbHQ$Zm9yZ2VkZGlnZXN0Zm9yYXRlc3Qxx"


def _payload() -> dict:
    return {"id": str(uuid.uuid4()), "username": "cara", "role": "cashier", "pin_hash": PIN_HASH}


def test_a_pin_hash_is_not_on_the_store_admin_pages(client, store):
    event = Event.objects.create(
        id=uuid.uuid4(), origin="S01", seq=1, hlc=1 << 16, type="staff.updated", schema=1, payload=_payload()
    )
    quarantined = PulledQuarantine.objects.create(
        fseq=7, event_id=uuid.uuid4(), origin="cloud", seq=3, hlc=1 << 16, type="staff.updated", schema=1,
        payload=_payload(), reason="unknown_reference",
    )  # fmt: skip
    client.force_login(make_user("store_manager", store, is_staff=True, is_superuser=True))

    pages = [
        client.get(f"/admin/outbox/event/{event.pk}/change/"),
        client.get(f"/admin/store_sync/pulledquarantine/{quarantined.pk}/change/"),
    ]

    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200
        assert "cara" in html and REDACTED in html
        assert "Zm9yZ2VkZGlnZXN0" not in html


def test_the_stored_payload_keeps_the_hash(store):
    event = Event.objects.create(
        id=uuid.uuid4(), origin="S01", seq=1, hlc=1 << 16, type="staff.updated", schema=1, payload=_payload()
    )
    event.refresh_from_db()
    assert event.payload["pin_hash"] == PIN_HASH
