"""Secrets are never shown in the admin, to anyone: a staff.updated event carries the PIN hash (stores
need it to let staff log in offline), but its pages show the payload with the hash redacted."""

import uuid

import pytest

from cloud.headoffice.roles import staff_role_set
from cloud.sync.models import FeedEntry, QuarantinedEvent, StoreCredential
from cloud.sync.services import enrollment_code_create, feed_publish_cloud, store_enroll
from retail.outbox.models import Event
from retail.outbox.redaction import REDACTED, payload_redacted
from retail.staff.models import Role
from tests.factories import make_user


@pytest.fixture
def pin_event(chain):
    """S01's new cashier: a staff.updated event with their PIN hash, in the outbox, the feed and
    (as if a store had pushed it back) the quarantine."""
    cashier = make_user(Role.CASHIER, store=chain.s1, username="cara", pin="4711")
    staff_role_set(user=cashier, role=Role.SUPERVISOR, store=chain.s1)
    event = Event.objects.get(type="staff.updated")
    feed_publish_cloud()
    quarantined = QuarantinedEvent.objects.create(
        store=chain.s1,
        event_id=uuid.uuid4(),
        origin="S01",
        seq=1,
        hlc=event.hlc,
        type="staff.updated",
        schema=1,
        payload=event.payload,
        reason="unique_conflict",
    )
    return cashier, event, FeedEntry.objects.get(event_id=event.id), quarantined


@pytest.mark.parametrize("who", ["head_office", "analyst"])
def test_no_one_reads_a_pin_hash_in_the_admin(client, chain, pin_event, who):
    # given the staff.updated event in the outbox, the feed and the quarantine
    cashier, event, feed_entry, quarantined = pin_event
    client.force_login(getattr(chain, who))

    # when they open each of its pages
    pages = [
        client.get(f"/admin/outbox/event/{event.pk}/change/"),
        client.get(f"/admin/cloud_sync/feedentry/{feed_entry.pk}/change/"),
        client.get(f"/admin/cloud_sync/quarantinedevent/{quarantined.pk}/change/"),
    ]

    # then each shows the payload, the hash redacted
    digest = cashier.pin_hash.rsplit("$", 1)[-1]
    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200
        assert "cara" in html and REDACTED in html
        assert digest not in html and cashier.pin_hash not in html


def test_the_event_itself_keeps_the_pin_hash_for_the_stores(pin_event):
    cashier, event, feed_entry, quarantined = pin_event
    event.refresh_from_db()
    assert event.payload["pin_hash"] == cashier.pin_hash
    assert feed_entry.payload["pin_hash"] == cashier.pin_hash


@pytest.mark.parametrize("who", ["head_office", "analyst"])
def test_no_one_reads_a_store_credential_hash_in_the_admin(client, chain, who):
    # given S01 enrolled: its credential's secret is kept as a hash
    _, code = enrollment_code_create(store=chain.s1)
    store_enroll(code=code)
    credential = StoreCredential.objects.get()
    client.force_login(getattr(chain, who))

    # when they open the credential
    page = client.get(f"/admin/cloud_sync/storecredential/{credential.pk}/change/")

    # then they see its key id, not the hash
    html = page.content.decode()
    assert page.status_code == 200 and credential.key_id in html
    assert credential.secret_hash not in html


def test_payload_redacted_hides_every_secret_at_any_depth_and_leaves_the_rest():
    payload = {
        "username": "cara",
        "pin_hash": "md5$x$y",
        "password": "pbkdf2$...",
        "nested": [{"secret_hash": "ab", "token": "t", "amount": "2.50"}],
        "pin_locked_until": None,
    }
    assert payload_redacted(payload) == {
        "username": "cara",
        "pin_hash": REDACTED,
        "password": REDACTED,
        "nested": [{"secret_hash": REDACTED, "token": REDACTED, "amount": "2.50"}],
        "pin_locked_until": None,
    }
    assert payload["pin_hash"] == "md5$x$y"  # a copy: the event is untouched


def test_no_admin_page_shows_a_secret_field_or_a_raw_payload(rf, chain):
    from django.contrib import admin
    from django.contrib.admin.utils import flatten_fieldsets

    from retail.outbox.redaction import is_secret_key

    # given head office, and a row of each model (a page's fields can depend on the row)
    request = rf.get("/admin/")
    request.user = chain.head_office

    # when each admin says what its list and its page show
    shown = {}
    for model, model_admin in admin.site._registry.items():
        obj = model.objects.first() or model()
        names = [
            *model_admin.get_list_display(request),
            *flatten_fieldsets(model_admin.get_fieldsets(request, obj)),
        ]
        shown[model._meta.label_lower] = [n for n in names if isinstance(n, str)]

    # then no secret is among them (the password field shows Django's masked summary, not the hash)
    leaks = {
        label: [
            n
            for n in names
            if n == "payload" or (is_secret_key(n) and (label, n) != ("staff.user", "password"))
        ]
        for label, names in shown.items()
    }
    assert {label: names for label, names in leaks.items() if names} == {}
