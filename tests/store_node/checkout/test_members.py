import pytest

from retail.api_errors import NotFound
from retail.outbox.models import Event
from store_node.checkout.services.members import (
    member_create_at_till,
    member_lookup,
    points_for,
    sale_attach_member,
)
from store_node.checkout.services.sales import sale_open

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("query", ["MBR100001", "mbr100001", "+4915100000001"])
def test_member_by_card_scan_or_phone(member, query):
    assert member_lookup(query=query) == member


def test_member_by_number_and_unknown(member):
    assert member_lookup(query=member.number) == member
    with pytest.raises(NotFound) as missing:
        member_lookup(query="MBR999")
    assert missing.value.detail == "No member with card, number or phone MBR999"


def test_attach_and_detach(till, member):
    sale = sale_open(terminal=till.terminal, cashier=till.cashier)
    assert sale_attach_member(sale_id=sale.id, terminal=till.terminal, query="MBR100001").member == member
    assert sale_attach_member(sale_id=sale.id, terminal=till.terminal, query="").member is None


def test_create_member_at_the_till_offline_with_its_event(till, settings):
    member = member_create_at_till(first_name="Zoë", phone="+49170000", consent_sms=True)
    assert member.number.startswith(f"{settings.STORE_CODE}-") and len(member.number) == 12
    assert member.origin == settings.STORE_CODE
    assert Event.objects.get(type="member.created").payload["fields"]["first_name"] == "Zoë"


@pytest.mark.parametrize("paid, points", [("0.99", 0), ("1.00", 1), ("9.45", 9), ("-3.00", 0)])
def test_points_for(paid, points):
    from decimal import Decimal

    assert points_for(Decimal(paid)) == points


def _merged_by_head_office(loser, survivor, stamp=1):
    """Head office's member.merged of ``loser`` into ``survivor``, as the store pulls it."""
    import uuid

    from retail.replication.appliers import ApplyContext, event_apply
    from retail.replication.wire import Envelope

    payload = {
        "id": str(loser.id),
        "number": loser.number,
        "survivor_id": str(survivor.id),
        "survivor_number": survivor.number,
        "fields": {"first_name": survivor.first_name},
        "merged_at": "2026-03-01T10:00:00Z",
        "by": "hedda",
    }
    event_apply(
        env=Envelope(uuid.uuid4(), "cloud", 1, stamp, "member.merged", 1, payload, 1),
        ctx=ApplyContext(max_skew_ms=1 << 62),
    )


def test_after_a_merge_the_losers_card_finds_the_survivor_and_redeems_both_balances(till, member):
    from retail.members.services import points_post
    from store_node.checkout.selectors import points_redeemable
    from tests.factories import make_member

    # given a duplicate card that earned points at this till while the store was offline
    duplicate = make_member(card_barcode="MBR200002", phone="+4915100000001", first_name="Anna")
    points_post(member_id=member.id, kind="earn", points=300)
    points_post(member_id=duplicate.id, kind="earn", points=200)

    # when head office's merge of the duplicate into the member arrives
    _merged_by_head_office(duplicate, member)

    # then scanning the duplicate's card attaches the survivor, with both balances to redeem
    sale = sale_open(terminal=till.terminal, cashier=till.cashier)
    attached = sale_attach_member(sale_id=sale.id, terminal=till.terminal, query="MBR200002").member
    assert attached == member
    assert points_redeemable(member=attached) == 500
    # and a sale that still holds the duplicate's card redeems the same balance
    duplicate.refresh_from_db()
    assert (duplicate.merged_into_id, points_redeemable(member=duplicate)) == (member.id, 500)
