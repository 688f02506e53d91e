from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from retail.shifts.models import Shift
from retail.shifts.services import shift_cash_move, shift_close, shift_open
from tests.factories import make_completed_sale, make_terminal, make_user


def _closed_shift(store, terminal, *, sale_total: str, counted: dict, product):
    cashier = make_user(store=store, username=f"c-{terminal.code}-{store.code}")
    shift = shift_open(terminal=terminal, cashier=cashier, opening_float=Decimal("100.00"))
    make_completed_sale(
        store,
        lines=[(product, "1", sale_total)],
        tenders=[("cash", sale_total)],
        shift=shift,
        completed_at=timezone.now(),
    )
    shift_cash_move(shift=shift, staff=cashier, kind="paid_out", amount=Decimal("5.00"), reason="milk")
    return shift_close(shift=shift, denominations=counted)


def test_the_z_reports_of_a_stores_day_are_summed_over_its_tills(client, chain):
    # given two tills of S01 and one of S02 closed today, each with one cash sale
    t2 = make_terminal(chain.s1, "T02")
    a = _closed_shift(
        chain.s1,
        chain.s1.terminals.get(code="T01"),
        sale_total="10.00",
        counted={"50.00": 2, "5.00": 1},
        product=chain.product,
    )
    b = _closed_shift(
        chain.s1, t2, sale_total="20.00", counted={"100.00": 1, "10.00": 1, "5.00": 1}, product=chain.product
    )
    c = _closed_shift(
        chain.s2,
        chain.s2.terminals.get(code="T01"),
        sale_total="7.00",
        counted={"100.00": 1},
        product=chain.product,
    )

    # when head office opens "Z reports by store and day"
    client.force_login(chain.head_office)
    assert "store-days/" in client.get("/admin/shifts/shift/").content.decode()
    html = client.get("/admin/shifts/shift/store-days/").content.decode()

    # then S01's row sums its two tills' Z reports: sales, cash expected and counted, over/short
    assert (a.z_report["net_sales"], b.z_report["net_sales"]) == ("10.00", "20.00")
    s01 = html[html.index('data-store="S01"') : html.index("</tr>", html.index('data-store="S01"'))]
    assert "<td>2 · 30.00</td>" in s01 and '<td class="net"><strong>30.00</strong></td>' in s01
    expected = Decimal(a.z_report["expected_cash"]) + Decimal(b.z_report["expected_cash"])
    assert expected == Decimal("220.00")  # 2 x 100 float + 30 cash - 2 x 5 paid out
    assert "<td>220.00</td><td>220.00</td>" in s01  # counted 105 + 115
    assert "cash 30.00" in s01
    s02 = html[html.index('data-store="S02"') : html.index("</tr>", html.index('data-store="S02"'))]
    assert c.over_short == Decimal("-2.00")  # counted 100, expected 100 + 7 - 5
    assert '<td class="over-short"><strong>-2.00</strong></td>' in s02

    # and S01's manager sees only S01, an analyst sees both, and a range without shifts says so
    client.force_login(chain.manager)
    own = client.get("/admin/shifts/shift/store-days/").content.decode()
    assert 'data-store="S01"' in own and 'data-store="S02"' not in own
    client.force_login(chain.analyst)
    assert 'data-store="S02"' in client.get("/admin/shifts/shift/store-days/").content.decode()
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    empty = client.get(
        "/admin/shifts/shift/store-days/", {"from": yesterday, "to": yesterday}
    ).content.decode()
    assert "No closed shifts in this range." in empty


def test_a_shifts_page_shows_its_z_report_as_a_table(client, chain):
    shift = _closed_shift(
        chain.s1,
        chain.s1.terminals.get(code="T01"),
        sale_total="10.00",
        counted={"100.00": 1, "5.00": 1},
        product=chain.product,
    )
    client.force_login(chain.head_office)
    html = client.get(f"/admin/shifts/shift/{shift.pk}/change/").content.decode()
    assert 'data-testid="z-report"' in html
    assert "<th>Net sales</th><td><strong>10.00</strong></td>" in html
    assert "<th>Cash expected · counted</th><td>105.00 · 105.00</td>" in html
    assert Shift.objects.get(pk=shift.pk).over_short == Decimal("0.00")
