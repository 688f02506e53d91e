import json
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from retail.catalog.models import Unit
from retail.outbox.encoding import PayloadEncoder
from retail.replication.wire import CLOUD_ORIGIN, Envelope
from retail.staff.models import Role
from tests.factories import ean13, make_product, make_store, make_terminal, make_user

TEA = ean13("400000000101")
HONEY = ean13("400000000102")


@pytest.fixture
def shop(db, settings):
    """This node's store with lane T02 and its cashier (PIN 1111), tea, honey and apples (by kg)."""
    settings.PRICES_INCLUDE_TAX = True
    settings.CASH_ROUNDING_INCREMENT = "0.05"
    store = make_store(settings.STORE_CODE, name="Berlin Mitte")
    terminal = make_terminal(store, "T02")
    cashier = make_user(Role.CASHIER, store, pin="1111", username="c101")
    tea = make_product("2.50", sku="T1", name="Tea", barcode=TEA)
    honey = make_product("4.00", sku="H1", name="Honey", barcode=HONEY)
    apples = make_product("3.00", sku="A1", name="Apples", unit=Unit.KG, barcode="01234")

    class Shop:
        pass

    s = Shop()
    s.store, s.terminal, s.cashier, s.tea, s.honey, s.apples = store, terminal, cashier, tea, honey, apples
    return s


def placed_envelope(shop, *, number="W261123-ABC123", prepaid=True, lines=None, order_id=None, seq=1):
    """Head office's ``order.placed`` for this store: 2 teas and 1 honey unless ``lines`` says otherwise."""
    lines = lines or [(shop.tea, "2", "2.50"), (shop.honey, "1", "4.00")]
    payload = {
        "id": order_id or uuid.uuid4(),
        "number": number,
        "store_id": shop.store.id,
        "fulfilment": "pickup",
        "member_id": None,
        "prepaid": prepaid,
        "customer_name": "Ada Lovelace",
        "placed_at": timezone.now(),
        "subtotal": Decimal("9.00"),
        "tax_total": Decimal("1.44"),
        "total": Decimal("9.00"),
        "lines": [
            {
                "position": n,
                "product_id": product.id,
                "sku": product.sku,
                "description": product.name,
                "quantity": Decimal(quantity),
                "unit_price": Decimal(price),
                "line_total": Decimal(quantity) * Decimal(price),
            }
            for n, (product, quantity, price) in enumerate(lines, start=1)
        ],
    }
    payload = json.loads(json.dumps(payload, cls=PayloadEncoder))
    return Envelope(uuid.uuid4(), CLOUD_ORIGIN, seq, seq, "order.placed", 1, payload, seq)
