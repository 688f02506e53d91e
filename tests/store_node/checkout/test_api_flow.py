"""The till's API end to end through Django's test client: a cashier's day in requests."""

from decimal import Decimal

import pytest

from retail.outbox.models import Event
from retail.sales.models import Sale
from store_node.devices.models import DrawerKick, PrintJob

pytestmark = pytest.mark.django_db


def test_scan_two_items_pay_cash_and_get_change(api, goods):
    # given an open sale
    sale = api.post("sales").json()
    # when the cashier scans milk three times (3 x) and a loaf, then pays 20.00 cash
    r1 = api.post(f"sales/{sale['id']}/lines", {"scan": "4006381333931", "quantity": 3})
    r2 = api.post(f"sales/{sale['id']}/lines", {"sku": "100002"})
    done = api.post(f"sales/{sale['id']}/complete", {"tenders": [{"kind": "cash", "tendered": "20.00"}]})
    # then the open sale showed correct totals after each scan, and the sale completed with change
    assert r1.status_code == 201 and r1.json()["total"] == "5.97"
    assert r2.json()["total"] == "9.47"
    body = done.json()
    assert done.status_code == 200, body
    assert body["status"] == "completed"
    assert body["receipt_number"] == "S01-T02-000001"
    assert body["total"] == "9.47" and body["cash_rounding"] == "-0.02" and body["change"] == "10.55"
    assert body["tenders"][0]["amount"] == "9.45"
    assert PrintJob.objects.get().payload["receipt_number"] == "S01-T02-000001"
    assert DrawerKick.objects.get().reason == "sale"
    event = Event.objects.get(type="sale.completed")
    assert event.payload["total"] == "9.47" and len(event.payload["lines"]) == 2
    assert Event.objects.filter(type="stock.moved").count() == 2


def test_unknown_barcode_is_a_404_the_till_can_show(api, goods):
    sale = api.post("sales").json()
    response = api.post(f"sales/{sale['id']}/lines", {"scan": "4006381333948"})
    assert response.status_code == 404
    assert response.json() == {
        "detail": "No product with barcode 4006381333948",
        "code": "unknown_barcode",
        "barcode": "4006381333948",
    }


def test_declined_card_is_recorded_and_the_sale_stays_open(api, goods):
    sale = api.post("sales").json()
    api.post(f"sales/{sale['id']}/lines", {"scan": "4006381333931"})
    declined = api.post(
        f"sales/{sale['id']}/tenders",
        {"kind": "card", "amount": "1.99", "approved": False, "reference": "DECLINED-51"},
    )
    refused = api.post(f"sales/{sale['id']}/complete")
    assert declined.status_code == 201
    assert declined.json()["tenders"][0]["approved"] is False
    assert refused.status_code == 409 and refused.json()["code"] == "tenders_short"
    assert Sale.objects.get(pk=sale["id"]).status == "open"
    approved = api.post(
        f"sales/{sale['id']}/complete",
        {"tenders": [{"kind": "card", "amount": "1.99", "reference": "AUTH-1234"}]},
    )
    assert approved.status_code == 200 and approved.json()["cash_rounding"] == "0.00"
    assert not DrawerKick.objects.exists()


def test_weighed_item_by_scale_label(api, goods):
    sale = api.post("sales").json()
    # 21 prefix weight label: item 01234, 1.250 kg
    response = api.post(f"sales/{sale['id']}/lines", {"scan": "2101234012505"})
    body = response.json()
    assert response.status_code == 201, body
    assert body["lines"][0]["quantity"] == "1.250" and body["total"] == "2.49"
    assert Decimal(body["lines"][0]["unit_price"]) == Decimal("1.99")
