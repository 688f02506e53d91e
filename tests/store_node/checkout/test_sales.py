from decimal import Decimal

import pytest

from retail.api_errors import DomainError, Invalid, NotFound, PermissionRefused
from retail.audit.models import AuditEntry
from retail.outbox.models import Event
from retail.pricing import Discount, Line, price_basket
from retail.sales.models import Sale, SaleLine
from retail.shifts.services import shift_open
from store_node.checkout.services.sales import (
    sale_add_line,
    sale_cancel,
    sale_open,
    sale_override_price,
    sale_resume,
    sale_set_discount,
    sale_set_line_discount,
    sale_suspend,
    sale_void_line,
)
from tests.factories import make_terminal
from tests.store_node.checkout.helpers import MILK, ring

pytestmark = pytest.mark.django_db
SUPERVISOR = {"username": "s101", "pin": "2222"}


def _add(till, sale, **kw):
    return sale_add_line(sale_id=sale.id, terminal=till.terminal, cashier=till.cashier, **kw)


def test_a_sale_needs_an_open_shift_and_one_open_sale_per_terminal(till):
    other = make_terminal(till.store, "T05")
    with pytest.raises(DomainError) as no_shift:
        sale_open(terminal=other, cashier=till.cashier)
    first = sale_open(terminal=till.terminal, cashier=till.cashier)
    with pytest.raises(DomainError) as second:
        sale_open(terminal=till.terminal, cashier=till.cashier)
    assert no_shift.value.code == "no_open_shift"
    assert second.value.code == "sale_already_open" and second.value.extra == {"sale_id": str(first.id)}


def test_lines_by_scan_sku_and_product_id_with_a_multiplier(till, goods):
    sale = sale_open(terminal=till.terminal, cashier=till.cashier)
    _add(till, sale, scan=MILK, quantity=3)
    _add(till, sale, sku="100002")
    _add(till, sale, product_id=goods["milk"].id)
    sale.refresh_from_db()
    lines = list(sale.lines.order_by("position"))
    assert [(line.sku, line.quantity, line.unit_price, line.line_total) for line in lines] == [
        ("100001", Decimal("3.000"), Decimal("1.99"), Decimal("5.97")),
        ("100002", Decimal("1.000"), Decimal("3.50"), Decimal("3.50")),
        ("100001", Decimal("1.000"), Decimal("1.99"), Decimal("1.99")),
    ]
    assert (sale.subtotal, sale.total, sale.tax_total) == (
        Decimal("11.46"),
        Decimal("11.46"),
        Decimal("1.50"),
    )


@pytest.mark.parametrize(
    "scan, quantity, unit_price",
    [
        ("2101234012505", "1.250", "1.99"),  # weight label, 1.250 kg
        ("2201234003999", "1.000", "3.99"),  # price label, 3.99
        ("]C101040063813339483103000750", None, None),  # GS1-128 of no product: 404 below
    ],
)
def test_variable_measure_and_gs1_scans(till, goods, scan, quantity, unit_price):
    sale = sale_open(terminal=till.terminal, cashier=till.cashier)
    if quantity is None:
        with pytest.raises(NotFound) as missing:
            _add(till, sale, scan=scan)
        assert missing.value.detail == "No product with barcode 4006381333948"
        return
    line = _add(till, sale, scan=scan)
    assert (line.quantity, line.unit_price) == (Decimal(quantity), Decimal(unit_price))


def test_gs1_weight_and_upc_scans_find_the_product(till, goods):
    from tests.factories import ean13, make_product

    code = ean13("061414100001")  # a UPC-A stored as its GTIN-13
    make_product("2.00", name="Cheese by weight", unit="kg", barcode=code)
    sale = sale_open(terminal=till.terminal, cashier=till.cashier)
    by_gs1 = _add(till, sale, scan=f"]C1010{code}3103000750")
    by_upc = _add(till, sale, scan=code[1:], weight="0.5")
    assert (by_gs1.description, by_gs1.quantity) == ("Cheese by weight", Decimal("0.750"))
    assert (by_upc.description, by_upc.quantity) == ("Cheese by weight", Decimal("0.500"))


def test_bad_input_is_a_4xx_that_changes_nothing(till, goods):
    sale = sale_open(terminal=till.terminal, cashier=till.cashier)
    refusals = []
    for kw in (
        {"scan": "4006381333932"},  # check digit
        {"scan": "4006381333948"},  # unknown
        {"scan": "S01-T02-000001"},  # a receipt
        {"sku": "100003"},  # weighed, no weight
        {"sku": "100001", "weight": "1.2"},
        {"sku": "100001", "quantity": 0},
        {"scan": MILK, "sku": "100001"},
        {"sku": "100003", "weight": "0.0001"},
    ):
        with pytest.raises((Invalid, NotFound, DomainError)) as refused:
            _add(till, sale, **kw)
        refusals.append((refused.value.status_code, refused.value.code))
    assert refusals == [
        (400, "barcode_check_digit"),
        (404, "unknown_barcode"),
        (400, "receipt_scanned"),
        (400, "weight_required"),
        (400, "weight_not_allowed"),
        (400, "quantity_invalid"),
        (400, "line_source"),
        (400, "quantity_invalid"),
    ]
    assert not SaleLine.objects.exists()
    assert Sale.objects.get().total == 0


def test_discounts_reprice_the_whole_basket_by_the_pricing_rule(till, goods):
    sale = ring(till, (MILK, 2), "2101234012505")
    milk_line = sale.lines.get(position=1)
    sale_set_line_discount(
        sale_id=sale.id, line_id=milk_line.id, terminal=till.terminal, kind="percent", value="10"
    )
    sale_set_discount(sale_id=sale.id, terminal=till.terminal, kind="amount", value="1.00", reason="loyal")
    sale.refresh_from_db()

    expected = price_basket(
        [
            Line(
                unit_price=Decimal("1.99"),
                quantity=Decimal(2),
                tax_rate=Decimal("0.19"),
                discount=Discount.percent("10"),
            ),
            Line(
                unit_price=Decimal("1.99"), quantity=Decimal("1.25"), tax_rate=Decimal("0.07"), by_weight=True
            ),
        ],
        prices_include_tax=True,
        sale_discount=Discount.amount("1.00"),
    )
    lines = list(sale.lines.order_by("position"))
    assert [line.line_total for line in lines] == [r.total for r in expected.lines]
    assert [line.sale_discount_share for line in lines] == [r.sale_discount for r in expected.lines]
    assert (sale.subtotal, sale.discount_total, sale.tax_total, sale.total) == (
        expected.subtotal,
        expected.discount_total,
        expected.tax_total,
        expected.total,
    )
    assert sale.total == Decimal("5.07")

    sale_set_discount(sale_id=sale.id, terminal=till.terminal, kind=None)
    sale.refresh_from_db()
    assert sale.total == Decimal("6.07")


def test_price_override_and_void_need_a_supervisor_and_are_audited(till, goods):
    sale = ring(till, MILK, MILK)
    first, second = sale.lines.order_by("position")
    with pytest.raises(PermissionRefused):
        sale_override_price(
            sale_id=sale.id,
            line_id=first.id,
            terminal=till.terminal,
            cashier=till.cashier,
            unit_price="0.99",
            approval={"username": "c101", "pin": "1111"},
        )
    sale_override_price(
        sale_id=sale.id,
        line_id=first.id,
        terminal=till.terminal,
        cashier=till.cashier,
        unit_price="0.99",
        approval=SUPERVISOR,
    )
    sale_void_line(
        sale_id=sale.id, line_id=second.id, terminal=till.terminal, cashier=till.cashier, approval=SUPERVISOR
    )
    sale.refresh_from_db()

    assert sale.total == Decimal("0.99")
    entries = list(
        AuditEntry.objects.order_by("created_at").values_list("action", "actor", "approver", "subject")
    )
    assert entries == [
        ("price_override", till.cashier.id, till.supervisor.id, str(first.id)),
        ("line_void", till.cashier.id, till.supervisor.id, str(second.id)),
    ]
    assert AuditEntry.objects.get(action="price_override").details["from"] == "1.99"


def test_suspend_on_one_terminal_resume_on_another(till, goods):
    t3 = make_terminal(till.store, "T03")
    shift_open(terminal=t3, cashier=till.supervisor, opening_float=Decimal("50.00"))
    sale = ring(till, MILK)
    sale_suspend(sale_id=sale.id, terminal=till.terminal)
    resumed = sale_resume(sale_id=sale.id, terminal=t3, cashier=till.supervisor)

    assert (resumed.status, resumed.terminal, resumed.total) == ("open", t3, Decimal("1.99"))
    assert sale_open(terminal=till.terminal, cashier=till.cashier).status == "open"


def test_cancel_with_lines_needs_approval_and_leaves_an_event_and_audit(till, goods):
    sale = ring(till, MILK)
    with pytest.raises(PermissionRefused):
        sale_cancel(sale_id=sale.id, terminal=till.terminal, cashier=till.cashier, reason="customer left")
    sale_cancel(
        sale_id=sale.id,
        terminal=till.terminal,
        cashier=till.cashier,
        reason="customer left",
        approval=SUPERVISOR,
    )

    assert Sale.objects.get(pk=sale.id).status == "cancelled"
    event = Event.objects.get(type="sale.cancelled")
    assert event.payload == {
        "id": str(sale.id),
        "store_id": str(till.store.id),
        "terminal_id": str(till.terminal.id),
        "cashier_id": str(till.cashier.id),
        "reason": "customer left",
    }
    assert AuditEntry.objects.get().approver == till.supervisor


def test_an_empty_sale_cancels_without_approval(till):
    sale = sale_open(terminal=till.terminal, cashier=till.cashier)
    assert sale_cancel(sale_id=sale.id, terminal=till.terminal, cashier=till.cashier).status == "cancelled"
