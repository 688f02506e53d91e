import pytest

from retail.catalog.models import Product
from store_node.checkout.selectors import points_redeemable, product_search
from tests.factories import make_product

pytestmark = pytest.mark.django_db


def test_search_matches_word_prefixes_any_order_and_folds_accents(db):
    creme = make_product(name="Café Crème fraîche 200 g", sku="700001")
    gouda = make_product(name="Alpenhof Gouda Slices 150 g", sku="700002")
    make_product(name="Alpenhof Butter 250 g", sku="700003")

    assert [p["sku"] for p in product_search(query="creme fra")] == ["700001"]
    assert [p["sku"] for p in product_search(query="sli gou")] == ["700002"]
    assert {p["sku"] for p in product_search(query="alpen")} == {"700002", "700003"}
    assert product_search(query="700001")[0]["id"] == creme.id
    assert product_search(query="   ") == [] and product_search(query='"*') == []
    assert gouda.id in {p["id"] for p in product_search(query="Gouda")}


def test_search_index_follows_every_write_path(db, django_assert_num_queries):
    product = make_product(name="Nordsee Fish Fingers", sku="700010")
    Product.objects.filter(pk=product.pk).update(name="Nordsee Salmon Fillet")  # no save(), no signal
    Product.objects.filter(sku="700010").update(active=False)

    with django_assert_num_queries(1):
        assert product_search(query="fish") == []
    assert product_search(query="salmon") == []  # inactive
    Product.objects.filter(sku="700010").update(active=True)
    assert [p["name"] for p in product_search(query="salmon")] == ["Nordsee Salmon Fillet"]
    Product.objects.filter(sku="700010").delete()
    assert product_search(query="salmon") == []


def test_points_redeemable_is_the_local_balance_never_negative(member):
    member.points_balance = -20
    member.save()
    assert points_redeemable(member=member) == 0
    member.points_balance = 450
    member.save()
    assert points_redeemable(member=member) == 450


def test_a_session_comes_with_its_terminal_store_and_user_in_one_query(till, django_assert_num_queries):
    from datetime import timedelta

    from django.utils import timezone

    from store_node.checkout.models import TerminalSession
    from store_node.checkout.selectors import terminal_session_get
    from store_node.checkout.services.terminal_login import terminal_login

    # given a live session, an ended one and an expired one
    live = terminal_login(terminal=till.terminal, username="c101", pin="1111")
    TerminalSession.objects.create(
        token="ended",
        terminal=till.terminal,
        user=till.cashier,
        created_at=timezone.now(),
        expires_at=timezone.now() + timedelta(hours=1),
        ended_at=timezone.now(),
    )
    TerminalSession.objects.create(
        token="expired",
        terminal=till.terminal,
        user=till.cashier,
        created_at=timezone.now() - timedelta(hours=13),
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    # when the live one is looked up, then everything a request needs is there after one query
    with django_assert_num_queries(1):
        session = terminal_session_get(token=live.token)
        found = (
            session.terminal.label,
            session.terminal.store.time_zone,
            session.user.username,
            session.expires_at,
        )
    assert found == ("S01-T02", "Europe/Berlin", "c101", live.expires_at)
    assert (
        session.terminal.id == till.terminal.id
        and session.user.failed_pin_attempts == 0
        and session.user.pin_locked_until is None
    )
    # and the ended, the expired and an unknown token find nothing
    assert [terminal_session_get(token=t) for t in ("ended", "expired", "nope")] == [None, None, None]


def test_sale_lines_and_the_sale_read_as_the_orm_reads_them(till, goods):
    from decimal import Decimal

    from retail.sales.models import Sale, SaleLine
    from store_node.checkout.selectors import sale_at_store, sale_lines
    from store_node.checkout.services.sales import sale_add_line, sale_set_line_discount, sale_void_line
    from tests.store_node.checkout.helpers import MILK, ring

    # given a sale with a counted line (3 x), a weighed line, a discounted line and a voided one
    sale = ring(till, (MILK, 3))
    sale_add_line(sale_id=sale.id, terminal=till.terminal, cashier=till.cashier, sku="100003", weight="0.755")
    line = sale_add_line(sale_id=sale.id, terminal=till.terminal, cashier=till.cashier, sku="100002")
    sale_set_line_discount(
        sale_id=sale.id, line_id=line.id, terminal=till.terminal, kind="percent", value="15"
    )
    void = sale_add_line(sale_id=sale.id, terminal=till.terminal, cashier=till.cashier, scan=MILK)
    sale_void_line(
        sale_id=sale.id,
        line_id=void.id,
        terminal=till.terminal,
        cashier=till.cashier,
        approval={"username": "s101", "pin": "2222"},
    )

    def fields(obj):
        return [(f.attname, getattr(obj, f.attname)) for f in type(obj)._meta.concrete_fields]

    # when read by the hot-path selectors, then every field equals what the ORM reads, types included
    fast = sale_lines(sale_id=sale.id)
    orm = list(SaleLine.objects.filter(sale=sale).order_by("position"))
    assert [fields(x) for x in fast] == [fields(x) for x in orm]
    assert [type(v) for _, v in fields(fast[1])] == [type(v) for _, v in fields(orm[1])]
    assert (fast[1].quantity, fast[2].line_discount, fast[3].voided) == (
        Decimal("0.755"),
        Decimal("0.53"),
        True,
    )
    # and with their products' units (for the receipt) as the ORM annotates them
    from django.db.models import F

    with_units = sale_lines(sale_id=sale.id, with_units=True)
    annotated = SaleLine.objects.filter(sale=sale).annotate(unit=F("product__unit")).order_by("position")
    assert [fields(x) for x in with_units] == [fields(x) for x in orm]
    assert (
        [x.product_unit for x in with_units] == [x.unit for x in annotated] == ["each", "kg", "each", "each"]
    )
    found = sale_at_store(sale_id=sale.id, store_id=till.store.id)
    assert fields(found) == fields(Sale.objects.get(pk=sale.id))
    assert (found.has_discount, found.has_tenders) == (False, False)
    assert sale_at_store(sale_id=sale.id, store_id=till.terminal.id) is None
