"""Receiving a transfer on the handheld in headless Chromium: scan each item, type a count, confirm."""

import json
import time
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from retail.catalog.models import Unit
from retail.outbox.encoding import PayloadEncoder
from retail.outbox.models import Event
from retail.replication.appliers import ApplyContext, event_apply
from retail.replication.wire import Envelope
from retail.stock.models import StockLevel
from tests.factories import make_product, make_store
from tests.store_node.ui.conftest import handheld_browser_sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
MILK, YOGHURT = "4000000000013", "4000000000020"


def _arrives(store, other, lines):
    """Head office's transfer.sent T-0042 from ``other`` to this store, as the pull applies it."""
    payload = {
        "id": uuid.uuid4(),
        "number": "T-0042",
        "from_store_id": other.id,
        "to_store_id": store.id,
        "sent_at": timezone.now(),
        "note": "Weekend market",
        "lines": [
            {
                "position": n,
                "product_id": p.id,
                "sku": p.sku,
                "description": p.name,
                "unit": p.unit,
                "quantity": q,
            }
            for n, (p, q) in enumerate(lines, start=1)
        ],
    }
    payload = json.loads(json.dumps(payload, cls=PayloadEncoder))
    event_apply(env=Envelope(uuid.uuid4(), "cloud", 1, 1, "transfer.sent", 1, payload), ctx=ApplyContext())


def test_receive_a_transfer_by_scanning(ui, store, floor_staff):
    page = ui.page
    page.set_viewport_size(PHONE)
    # given T-0042 on its way from Hamburg: 3 milks, 2 yoghurts and 1.5 kg of apples
    milk = make_product("1.19", name="Alpenhof Whole Milk 1 l", sku="MILK-1", barcode=MILK)
    yoghurt = make_product("0.89", name="Alpenhof Yoghurt 150 g", sku="YOG-1", barcode=YOGHURT)
    apples = make_product("2.99", name="Elstar Apples", sku="APPLE-1", unit=Unit.KG, barcode="01234")
    other = make_store("S02", name="Hamburg Altona")
    _arrives(store, other, [(milk, Decimal("3")), (yoghurt, Decimal("2")), (apples, Decimal("1.5"))])

    # when floor staff open Transfers and choose it
    page.goto(f"{ui.url}/h/transfers/")
    handheld_browser_sign_in(
        page, "c101", "1111"
    )  # the handheld asks who is receiving, then goes on to Transfers
    expect(page.get_by_test_id("transfers-arriving")).to_contain_text("S02 Hamburg Altona")
    ui.shot("01-transfers")
    page.get_by_role("link", name="Receive T-0042").click()
    expect(page.locator("#code")).to_be_focused()
    page.wait_for_load_state()  # the page's scripts are running: scans and keys are handled

    # and scan each item as they unpack, as fast as the scanner goes: three milks, one yoghurt, the
    # weighed apples' label, on a slow store network (each scan's answer takes 0.3 s, so every scan
    # is made while the one before is still on its way: none may be lost)
    def slow(route):
        time.sleep(0.3)
        route.continue_()

    page.route("**/scan", slow)
    for code in (MILK, MILK, MILK, YOGHURT, "2101234012505"):
        page.keyboard.type(code + "\n", delay=0)
    expect(page.get_by_test_id("receive-message")).to_have_text("Elstar Apples: 1.25 kg of 1.5")
    expect(page.get_by_test_id("received-MILK-1")).to_have_text("3")
    expect(page.get_by_test_id("received-YOG-1")).to_have_text("1")
    expect(page.get_by_test_id("received-APPLE-1")).to_have_text("1.25")
    expect(page.locator("#code")).to_be_focused()
    ui.shot("02-scanned")

    # and weigh the loose apples again and type the real weight
    page.get_by_label("Received of Elstar Apples").fill("1.4")
    page.get_by_role("button", name="Set the count of Elstar Apples").click()
    expect(page.get_by_test_id("receive-message")).to_have_text("Elstar Apples: 1.4 kg received.")
    expect(page.get_by_test_id("receive-progress")).to_have_text("1 of 3")
    expect(page.locator("#code")).to_be_focused()

    # then the review shows the yoghurt and the apples short, and confirming books it all in
    page.keyboard.press("F9")
    expect(page.get_by_test_id("review-differences")).to_contain_text("2 lines short")
    page.wait_for_load_state()
    expect(page.get_by_test_id("review-lines")).to_contain_text("-0.1")
    ui.shot("03-review")
    page.keyboard.press("F10")
    expect(page.get_by_test_id("transfer-received")).to_contain_text(
        "T-0042 received: 3 lines booked into stock here."
    )
    expect(page.get_by_test_id("transfer-status")).to_have_text("Received")
    ui.shot("04-received")
    levels = dict(StockLevel.objects.filter(store=store).values_list("product__sku", "on_hand"))
    assert levels == {"MILK-1": Decimal("3"), "YOG-1": Decimal("1"), "APPLE-1": Decimal("1.4")}
    receipt = Event.objects.get(type="transfer.received").payload
    assert [(line["sku"], line["received"]) for line in receipt["lines"]] == [
        ("MILK-1", "3.000"),
        ("YOG-1", "1.000"),
        ("APPLE-1", "1.400"),
    ]
