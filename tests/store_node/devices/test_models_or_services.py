"""The checkout's side of the device tables: queueing work inside the sale's transaction."""

import pytest
from django.db import transaction

from store_node.devices.models import DrawerKick, PrintJob
from store_node.devices.services import drawer_kick_request, print_job_enqueue
from tests.factories import make_terminal

pytestmark = pytest.mark.django_db


def test_print_job_is_queued_due_now_with_its_payload(store):
    terminal = make_terminal(store, "T07")
    job = print_job_enqueue(terminal=terminal, kind="receipt", payload={"receipt_number": "S01-T07-000001"})

    stored = PrintJob.objects.get()
    assert (stored.status, stored.attempts, stored.kind) == ("queued", 0, "receipt")
    assert stored.payload == {"receipt_number": "S01-T07-000001"}
    assert stored.next_attempt_at == job.created_at and stored.printed_at is None


def test_drawer_kick_is_pending(store):
    terminal = make_terminal(store, "T07")
    drawer_kick_request(terminal=terminal, reason="no_sale")
    assert list(DrawerKick.objects.values_list("reason", "status")) == [("no_sale", "pending")]


def test_unknown_kinds_are_refused(store):
    terminal = make_terminal(store, "T07")
    with pytest.raises(ValueError):
        print_job_enqueue(terminal=terminal, kind="poster", payload={})
    with pytest.raises(ValueError):
        drawer_kick_request(terminal=terminal, reason="party")


def test_rows_roll_back_with_the_sale_that_asked_for_them(store):
    terminal = make_terminal(store, "T07")
    with pytest.raises(RuntimeError), transaction.atomic():
        print_job_enqueue(terminal=terminal, kind="receipt", payload={})
        drawer_kick_request(terminal=terminal, reason="sale")
        raise RuntimeError("the sale failed")
    assert not PrintJob.objects.exists() and not DrawerKick.objects.exists()
