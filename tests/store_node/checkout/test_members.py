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
