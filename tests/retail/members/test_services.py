import pytest
from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st

from retail.api_errors import Invalid
from retail.members.models import Member, PointsEntry
from retail.members.selectors import member_find, points_ledger_sum
from retail.members.services import member_create, member_merge, member_update, points_post
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


def _pair():
    """Anna at S01 (card MBR1, no e-mail) and her duplicate signed up online (e-mail, marketing consent)."""
    anna = member_create(number="S01-1", card_barcode="MBR1", first_name="Anna", phone="+4930111")
    web = member_create(number="W1", first_name="Anna", phone="+4930111", email="anna@example.com")
    member_update(member=web, consent_marketing=True)
    return anna, web


def test_a_merge_keeps_every_entry_sums_both_ledgers_and_fills_the_survivors_empty_fields():
    # given two records of one person with points on each
    anna, web = _pair()
    points_post(member_id=anna.id, kind="earn", points=120)
    points_post(member_id=web.id, kind="earn", points=30)
    points_post(member_id=web.id, kind="redeem", points=-10)

    # when head office merges the web one into the store one
    survivor = member_merge(loser=web, survivor=anna, by="hedda")

    # then the balance is both ledgers' sum, every entry still names the card it was posted to
    anna.refresh_from_db()
    web.refresh_from_db()
    assert (survivor.pk, anna.points_balance, web.points_balance) == (anna.pk, 140, 0)
    assert sorted(PointsEntry.objects.values_list("member__number", "points")) == [
        ("S01-1", 120),
        ("W1", -10),
        ("W1", 30),
    ]
    # and the survivor keeps its card and number, takes the e-mail and the later consent
    assert (anna.number, anna.card_barcode, anna.email, anna.consent_marketing) == (
        "S01-1",
        "MBR1",
        "anna@example.com",
        True,
    )
    assert (web.merged_into_id, web.merged_at is not None) == (anna.pk, True)
    # and one member.merged event carries what every store needs
    event = Event.objects.get(type="member.merged")
    assert (event.payload["id"], event.payload["survivor_id"], event.payload["by"]) == (
        str(web.id),
        str(anna.id),
        "hedda",
    )
    assert "card_barcode" not in event.payload["fields"]
    assert anna.field_clocks["email"] == [event.hlc, event.origin]


def test_points_and_edits_for_a_merged_member_land_on_the_survivor():
    anna, web = _pair()
    member_merge(loser=web, survivor=anna)
    web.refresh_from_db()

    points_post(member_id=web.id, kind="earn", points=25)
    member_update(member=web, last_name="Schmidt")

    anna.refresh_from_db()
    assert (anna.points_balance, anna.last_name) == (25, "Schmidt")
    assert PointsEntry.objects.get().member_id == web.id  # the entry keeps its card


def test_a_merged_members_card_and_number_find_the_survivor():
    anna, web = _pair()
    member_update(member=web, card_barcode="MBR2")
    member_merge(loser=web, survivor=anna)

    assert member_find(query="MBR2") == anna
    assert member_find(query="W1") == anna
    assert member_find(query="+4930111") == anna


def test_a_member_already_merged_or_the_same_member_cannot_be_merged_and_nothing_changes():
    from retail.api_errors import DomainError

    anna, web = _pair()
    third = member_create(number="S02-1", phone="+4930111")
    member_merge(loser=web, survivor=anna)
    events = Event.objects.count()

    with pytest.raises(DomainError) as merged:
        member_merge(loser=third, survivor=web)
    with pytest.raises(Invalid) as itself:
        member_merge(loser=anna, survivor=anna)

    assert (merged.value.code, itself.value.code) == ("member_merged", "merge_self")
    assert Event.objects.count() == events
    third.refresh_from_db()
    assert third.merged_into_id is None


def test_an_edit_of_a_duplicate_loaded_before_the_merge_still_reaches_the_survivor():
    anna, web = _pair()
    on_screen = Member.objects.get(pk=web.pk)  # loaded before the merge arrives
    member_merge(loser=web, survivor=anna)

    member_update(member=on_screen, last_name="Schmidt")

    anna.refresh_from_db()
    assert anna.last_name == "Schmidt"
