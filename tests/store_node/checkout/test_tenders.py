from decimal import Decimal

import pytest

from retail.api_errors import DomainError, Invalid
from retail.members.models import PointsEntry
from retail.outbox.models import Event
from retail.sales.models import Sale, Tender
from retail.stock.models import StockLevel, StockMovement
from store_node.checkout.selectors import points_redeemable
from store_node.checkout.services.tenders import sale_add_tender, sale_complete
from store_node.devices.models import DrawerKick, PrintJob
from tests.store_node.checkout.helpers import MILK, ring

pytestmark = pytest.mark.django_db


def _complete(till, sale, *tenders):
    return sale_complete(sale_id=sale.id, terminal=till.terminal, cashier=till.cashier, tenders=list(tenders))


def test_split_card_and_cash_rounds_only_the_cash_part(till, goods):
    sale = ring(till, (MILK, 5))  # 9.95
    done = _complete(
        till,
        sale,
        {"kind": "card", "amount": "5.03", "reference": "A1"},
        {"kind": "cash", "tendered": "10.00"},
    )
    tenders = {t.kind: t for t in Tender.objects.filter(sale=done)}
    assert (tenders["cash"].amount, tenders["cash"].change) == (Decimal("4.90"), Decimal("5.10"))
    assert done.cash_rounding == Decimal("-0.02")
    assert tenders["card"].amount + tenders["cash"].amount == done.total + done.cash_rounding


def test_short_tenders_refuse_completion_and_change_nothing(till, goods):
    sale = ring(till, (MILK, 5))
    with pytest.raises(DomainError) as short:
        _complete(till, sale, {"kind": "cash", "tendered": "9.90"})
    assert short.value.detail == "cash tendered (9.90) is short of the 9.95 due in cash"
    assert not Tender.objects.exists() and not Event.objects.filter(type="sale.completed").exists()
    assert Sale.objects.get().status == "open"


def test_card_cannot_exceed_what_is_due(till, goods):
    sale = ring(till, MILK)
    with pytest.raises(Invalid) as over:
        sale_add_tender(sale_id=sale.id, terminal=till.terminal, kind="card", amount="2.00", reference="A")
    assert over.value.code == "tender_exceeds_due"


def test_completion_commits_everything_together(till, goods):
    sale = ring(till, (MILK, 2), "2101234012505")
    done = _complete(till, sale, {"kind": "cash", "tendered": "10.00"})

    assert done.receipt_number == "S01-T02-000001" and done.shift == till.shift
    assert list(StockMovement.objects.order_by("quantity").values_list("kind", "quantity", "reference")) == [
        ("sale", Decimal("-2.000"), "S01-T02-000001"),
        ("sale", Decimal("-1.250"), "S01-T02-000001"),
    ]
    assert StockLevel.objects.get(product=goods["milk"]).on_hand == Decimal("-2.000")  # never refused
    types = list(Event.objects.order_by("seq").values_list("type", flat=True))
    assert types[-3:] == ["sale.completed", "stock.moved", "stock.moved"]
    payload = Event.objects.get(type="sale.completed").payload
    assert payload["tax_lines"] == [
        {"tax_class": "RED", "rate": "0.0700", "taxable": "2.33", "tax": "0.16"},
        {"tax_class": "STD", "rate": "0.1900", "taxable": "3.34", "tax": "0.64"},
    ]
    assert payload["receipt_number"] == "S01-T02-000001" and payload["total"] == "6.47"
    assert PrintJob.objects.get().kind == "receipt" and DrawerKick.objects.get().reason == "sale"


def test_receipt_numbers_are_gapless_across_failures(till, goods):
    first = _complete(till, ring(till, MILK), {"kind": "cash", "tendered": "5.00"})
    failing = ring(till, MILK)
    with pytest.raises(DomainError):
        _complete(till, failing, {"kind": "cash", "tendered": "0.50"})
    second = _complete(till, failing, {"kind": "cash", "tendered": "5.00"})
    assert [first.receipt_number, second.receipt_number] == ["S01-T02-000001", "S01-T02-000002"]


def test_points_rule_earn_one_per_full_unit_paid_other_than_points(till, goods, member):
    member.points_balance = 300
    member.save()
    PointsEntry.objects.create(
        member=member, kind="adjust", points=300, origin="cloud", created_at=till.shift.opened_at
    )
    sale = ring(till, (MILK, 6), member=member)  # 11.94
    done = _complete(till, sale, {"kind": "points", "points": 250}, {"kind": "cash", "tendered": "10.00"})

    # 2.50 paid in points; 9.44 due -> 9.45 in cash: 9 points earned
    assert done.points_earned == 9
    member.refresh_from_db()
    assert member.points_balance == 300 - 250 + 9
    assert list(
        PointsEntry.objects.filter(sale_id=done.id).order_by("points").values_list("kind", "points")
    ) == [("redeem", -250), ("earn", 9)]


def test_redemption_is_limited_to_what_this_store_knows_minus_what_is_tendered(till, goods, member):
    member.points_balance = 120
    member.save()
    sale = ring(till, (MILK, 6), member=member)
    sale_add_tender(sale_id=sale.id, terminal=till.terminal, kind="points", points=100)
    assert points_redeemable(member=member, sale=sale) == 20
    with pytest.raises(DomainError) as refused:
        sale_add_tender(sale_id=sale.id, terminal=till.terminal, kind="points", points=21)
    assert refused.value.code == "points_insufficient" and refused.value.extra == {"redeemable": 20}


def test_points_need_a_member(till, goods):
    sale = ring(till, MILK)
    with pytest.raises(Invalid) as refused:
        sale_add_tender(sale_id=sale.id, terminal=till.terminal, kind="points", points=10)
    assert refused.value.code == "member_required"


def test_card_only_sale_opens_no_drawer_and_earns_no_points_without_member(till, goods):
    done = _complete(till, ring(till, MILK), {"kind": "card", "amount": "1.99", "reference": "X"})
    assert done.points_earned == 0 and done.cash_rounding == 0
    assert not DrawerKick.objects.exists()


def test_a_completed_sale_wakes_the_sync_worker_after_commit_unless_syncing_is_failing(
    till, goods, monkeypatch, django_capture_on_commit_callbacks
):
    from store_node.sync import worker as sync_worker

    running = sync_worker.SyncWorker()  # not started: only its wake flag matters here
    monkeypatch.setattr(sync_worker, "_running", running)
    with django_capture_on_commit_callbacks(execute=True):
        ring(till, MILK, tenders=[{"kind": "cash", "tendered": "5.00"}])
    assert running.wake.is_set()  # the sale goes to head office now, not at the next poll
    running.wake.clear()
    running.failures = 2
    with django_capture_on_commit_callbacks(execute=True):
        ring(till, MILK, tenders=[{"kind": "cash", "tendered": "5.00"}])
    assert not running.wake.is_set()  # offline: the backoff decides the next try, not every sale
