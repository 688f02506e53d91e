import pytest
from django.db import transaction

from retail.audit.selectors import audit_entries_for
from retail.audit.services import audit_record
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.mark.django_db(transaction=True)  # outside any transaction, as a view runs
def test_audit_is_written_with_its_action_and_only_inside_one(store):
    actor, approver = make_user(store=store), make_user(store=store)
    with pytest.raises(RuntimeError):
        audit_record(action="line_void", actor=actor)
    with transaction.atomic():
        audit_record(
            action="line_void",
            actor=actor,
            approver=approver,
            store=store,
            subject="abc",
            details={"sku": "1"},
        )
    with pytest.raises(ValueError), transaction.atomic():
        audit_record(action="line_void", actor=actor, subject="abc")
        raise ValueError("the void failed")

    [entry] = audit_entries_for(subject="abc")
    assert (entry.actor, entry.approver, entry.details) == (actor, approver, {"sku": "1"})
