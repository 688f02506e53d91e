"""Members at the till: attach by card, number or phone; create one (offline included).

Points rule (docs/checkout.md): a member earns 1 point per full currency unit paid with tenders
other than points; 100 points redeem as 1.00 (``POINT_VALUE``).
"""

from __future__ import annotations

import secrets
from decimal import ROUND_FLOOR, Decimal

from django.conf import settings
from django.db import transaction

from retail.api_errors import Invalid, NotFound
from retail.barcodes import BarcodeError, parse_scan
from retail.members.models import Member
from retail.members.selectors import member_find
from retail.members.services import member_create
from retail.sales.models import Sale
from store_node.checkout.services.sales import sale_for_terminal

POINT_VALUE = Decimal("0.01")


def points_for(paid: Decimal) -> int:
    """Points earned for ``paid`` (money paid with non-points tenders): one per full unit."""
    if paid <= 0:
        return 0
    return int(paid.to_integral_value(rounding=ROUND_FLOOR))


def points_value(points: int) -> Decimal:
    return (Decimal(points) * POINT_VALUE).quantize(Decimal("0.01"))


def member_lookup(*, query: str) -> Member:
    """A member by a card scan (``MBR…`` or an EAN in the member range), member number or phone."""
    query = (query or "").strip()
    if not query:
        raise Invalid("Scan a member card or type a member number or phone", code="member_query")
    keys = [query]
    try:
        scan = parse_scan(query)
        if scan.kind == "member":
            keys.insert(0, scan.key)
    except BarcodeError:
        pass
    for key in keys:
        member = member_find(query=key)
        if member is not None:
            return member
    raise NotFound(f"No member with card, number or phone {query}", code="unknown_member")


def sale_attach_member(*, sale_id, terminal, query: str | None) -> Sale:
    """Attach (or with an empty query, detach) the sale's member."""
    member = member_lookup(query=query) if query else None
    with transaction.atomic():
        sale = sale_for_terminal(sale_id=sale_id, terminal=terminal)
        if sale.tenders.filter(kind="points").exists():
            raise Invalid("Remove the points payment before changing the member", code="points_tendered")
        sale.member = member
        sale.save(update_fields=["member"])
    return sale


def member_create_at_till(*, first_name: str = "", last_name: str = "", **profile) -> Member:
    """Create a member at a till, online or not. The number is the store code and 8 random hex
    digits (``S01-3F9A2C1B``): unique across the chain without asking head office."""
    number = f"{settings.STORE_CODE}-{secrets.token_hex(4).upper()}"
    return member_create(number=number, first_name=first_name, last_name=last_name, **profile)
