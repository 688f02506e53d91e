"""Nobody deletes in the admin what stores or ledgers hold: there is no event for a delete, so a
deleted sale, movement, level or product would leave the cloud's ledgers (and the stores) disagreeing.
Facts are corrected by new facts (a return, a count), master data is deactivated; and facts only a
store records (a sale, a stock movement) are not typed in here either."""

from decimal import Decimal

import pytest
from django.contrib import admin

from retail.catalog.models import Price, Product
from retail.outbox.models import Event
from retail.sales.models import Sale
from retail.staff.models import Role
from retail.stock.models import StockLevel, StockMovement
from retail.stock.services import stock_move
from tests.factories import make_product, make_user

# Cloud-only rows with nothing downstream: deleting one tells nobody anything wrong.
DELETABLE = {"auth.group", "omni_api.apikey", "cloud_sync.enrollmentcode"}
# Inline rows whose removal the parent's event carries (a product's barcodes are in product.updated),
# or that are not anyone's yet (the lines of a draft transfer).
DELETABLE_INLINES = {"catalog.barcode", "transfers.transferline"}


@pytest.fixture
def superuser(chain):
    return make_user(Role.HEAD_OFFICE, username="root", is_staff=True, is_superuser=True)


def test_no_admin_deletes_what_stores_or_ledgers_hold(rf, superuser):
    # given a superuser (so that only the admin itself can refuse)
    request = rf.get("/admin/")
    request.user = superuser

    # when each admin says whether it deletes, offers bulk delete, or lets an inline row be deleted
    deletes, inline_deletes = set(), set()
    for model, model_admin in admin.site._registry.items():
        if model_admin.has_delete_permission(request) or "delete_selected" in model_admin.get_actions(
            request
        ):
            deletes.add(model._meta.label_lower)
        if not model_admin.has_change_permission(request):
            continue  # a read-only page saves no inline forms
        for inline in model_admin.get_inline_instances(request):
            if inline.can_delete and inline.has_delete_permission(request):
                inline_deletes.add(inline.model._meta.label_lower)

    # then only cloud-only rows with nothing downstream may go
    assert deletes == DELETABLE
    assert inline_deletes == DELETABLE_INLINES


def test_head_office_cannot_delete_a_sale_a_movement_a_level_a_product_or_an_event(client, chain):
    # given head office, a stock receipt at S01 (a movement, a level and its event) and the sales
    stock_move(store_id=chain.s1.id, product_id=chain.product.id, kind="receipt", quantity=Decimal("5"))
    movement, level = StockMovement.objects.get(), StockLevel.objects.get()
    event = Event.objects.get(type="stock.moved")
    client.force_login(chain.head_office)

    # when they open each delete page, post its confirmation, and post a bulk delete of every list
    rows = [
        ("sales/sale", chain.sale1),
        ("stock/stockmovement", movement),
        ("stock/stocklevel", level),
        ("catalog/product", chain.product),
        ("outbox/event", event),
    ]
    asked = [client.get(f"/admin/{page}/{row.pk}/delete/").status_code for page, row in rows]
    confirmed = [
        client.post(f"/admin/{page}/{row.pk}/delete/", {"post": "yes"}).status_code for page, row in rows
    ]
    for page, row in rows:
        client.post(
            f"/admin/{page}/", {"action": "delete_selected", "_selected_action": [str(row.pk)], "post": "yes"}
        )

    # then every one is refused and everything is still there
    assert asked == confirmed == [403] * len(rows)
    assert Sale.objects.count() == 2
    assert (StockMovement.objects.count(), StockLevel.objects.count(), Product.objects.count()) == (1, 1, 1)
    assert Event.objects.filter(pk=event.pk).exists()


def test_head_office_deactivates_products_instead_of_deleting_them(client, chain):
    # given head office and two active products
    other = make_product("1.00", name="Pears")
    client.force_login(chain.head_office)

    # when they open a product and deactivate both from the list
    form = client.get(f"/admin/catalog/product/{chain.product.pk}/change/").content.decode()
    listing = client.get("/admin/catalog/product/").content.decode()
    client.post(
        "/admin/catalog/product/",
        {"action": "deactivate", "_selected_action": [str(chain.product.pk), str(other.pk)]},
    )

    # then the form says products are deactivated, never deleted; both are inactive, each with
    # a product.updated event the stores apply; no delete is offered
    assert "never deleted" in form and "/delete/" not in form
    assert 'value="delete_selected"' not in listing and 'value="deactivate"' in listing
    assert not Product.objects.filter(active=True).exists()
    events = Event.objects.filter(type="product.updated")
    assert sorted((e.payload["sku"], e.payload["active"]) for e in events) == sorted(
        [(chain.product.sku, False), (other.sku, False)]
    )


def test_an_analyst_is_not_offered_deactivation(client, chain):
    client.force_login(chain.analyst)
    client.post(
        "/admin/catalog/product/", {"action": "deactivate", "_selected_action": [str(chain.product.pk)]}
    )
    chain.product.refresh_from_db()
    assert chain.product.active and not Event.objects.exists()


def test_a_price_is_superseded_not_deleted(client, chain):
    client.force_login(chain.head_office)
    price = Price.objects.get()
    assert client.post(f"/admin/catalog/price/{price.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Price.objects.filter(pk=price.pk).exists()


def test_sales_and_stock_movements_are_not_written_by_hand_in_the_admin(client, chain):
    # given head office (a movement typed in here would skip its level and its event)
    client.force_login(chain.head_office)

    # when they open the add pages of sales and stock movements, and a stock level's page
    stock_move(store_id=chain.s1.id, product_id=chain.product.id, kind="receipt", quantity=Decimal("5"))
    pages = [
        client.get(url).status_code for url in ("/admin/sales/sale/add/", "/admin/stock/stockmovement/add/")
    ]
    level = client.get(f"/admin/stock/stocklevel/{StockLevel.objects.get().pk}/change/").content.decode()

    # then they are refused; stock is moved by the stores (and transfers), a level is only read
    assert pages == [403, 403]
    assert 'name="_save"' not in level
