import pytest
from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st

from retail.api_errors import Invalid
from retail.members.models import Member
from retail.members.selectors import member_find, points_ledger_sum
from retail.members.services import member_create, member_update, points_post
from retail.outbox.models import Event

pytestmark = pytest.mark.django_db

entry = st.one_of(
    st.tuples(st.just("earn"), st.integers(0, 5000)),
    st.tuples(st.sampled_from(["redeem", "expire"]), st.integers(-5000, 0)),
    st.tuples(st.just("adjust"), st.integers(-5000, 5000)),
)


@given(entries=st.lists(entry, max_size=20))
def test_balance_always_equals_the_sum_of_the_ledger(entries):
    with transaction.atomic():
        member = member_create(number="M1", first_name="Anna")
        for kind, points in entries:
            points_post(member_id=member.id, kind=kind, points=points)
            member.refresh_from_db()
            assert member.points_balance == points_ledger_sum(member_id=member.id)
        assert member.points_balance == sum(p for _, p in entries)
        transaction.set_rollback(True)


def test_a_redeem_with_positive_points_is_refused_and_changes_nothing():
    member = member_create(number="M1")
    with pytest.raises(Invalid, match="redeem points must be negative"):
        points_post(member_id=member.id, kind="redeem", points=100)
    member.refresh_from_db()
    assert member.points_balance == 0
    assert not Event.objects.filter(type="points.posted").exists()


def test_member_update_stamps_only_the_changed_fields():
    member = member_create(number="M1", first_name="Anna", email="anna@example.com")
    created_stamp = member.field_clocks["email"]

    member_update(member=member, email="anna@new.example", first_name="Anna")

    member.refresh_from_db()
    assert member.email == "anna@new.example"
    assert member.field_clocks["email"][0] > created_stamp[0]
    assert member.field_clocks["first_name"] == created_stamp
    update = Event.objects.get(type="member.updated")
    assert update.payload["fields"] == {"email": "anna@new.example"}


def test_member_create_refuses_bad_email_and_writes_nothing():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        member_create(number="M1", email="not-an-email")
    assert Member.objects.count() == 0 and Event.objects.count() == 0


def test_member_found_by_card_number_or_phone():
    member = member_create(number="M7", card_barcode="MBR7", phone="+49151000")
    assert member_find(query="MBR7") == member
    assert member_find(query="M7") == member
    assert member_find(query="+49151000") == member
    assert member_find(query="nobody") is None
