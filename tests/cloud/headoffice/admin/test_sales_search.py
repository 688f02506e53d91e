from datetime import UTC, datetime

from tests.factories import make_completed_sale, make_member


def _rows(html: str) -> list[str]:
    return [n for n in ("S01-T01-000001", "S02-T01-000001", "S01-T01-000777", "S01-T01-000778") if n in html]


def test_head_office_finds_sales_and_returns_by_receipt_member_store_terminal_and_date(client, chain):
    # given S01's sale to a member in March, its return, and the two sales of the chain fixture
    member = make_member(number="M424242")
    march = datetime(2026, 3, 14, 10, 0, tzinfo=UTC)
    make_completed_sale(
        chain.s1,
        lines=[(chain.product, "1", "2.50")],
        member=member,
        receipt_number="S01-T01-000777",
        completed_at=march,
    )
    make_completed_sale(
        chain.s1,
        lines=[(chain.product, "-1", "-2.50")],
        kind="return",
        receipt_number="S01-T01-000778",
        completed_at=march,
    )
    client.force_login(chain.head_office)
    url = "/admin/sales/sale/"
    # when they search and filter, then each finds exactly the sales it names
    assert _rows(client.get(url, {"q": "S01-T01-000777"}).content.decode()) == ["S01-T01-000777"]
    assert _rows(client.get(url, {"q": "M424242"}).content.decode()) == ["S01-T01-000777"]
    assert _rows(client.get(url, {"store__id__exact": str(chain.s2.id)}).content.decode()) == [
        "S02-T01-000001"
    ]
    assert _rows(client.get(url, {"kind__exact": "return"}).content.decode()) == ["S01-T01-000778"]
    by_day = client.get(
        url, {"completed_at__year": "2026", "completed_at__month": "3", "completed_at__day": "14"}
    )
    assert _rows(by_day.content.decode()) == ["S01-T01-000777", "S01-T01-000778"]
    lane = chain.s1.terminals.get(code="T01")
    assert "S02-T01-000001" not in client.get(url, {"terminal__id__exact": str(lane.id)}).content.decode()
