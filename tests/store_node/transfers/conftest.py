import json
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from retail.catalog.models import Unit
from retail.outbox.encoding import PayloadEncoder
from retail.replication.wire import CLOUD_ORIGIN, Envelope
from retail.staff.models import Role
from tests.factories import ean13, make_product, make_store, make_user

TEA = ean13("400000000201")
HONEY = ean13("400000000202")
JAM = ean13("400000000203")
# A weighed label of apples (prefix 21, item 01234, 1.250 kg): see docs/money.md, "Barcodes".
APPLES_CODE = "01234"


@pytest.fixture
def shop(db, settings):
    """This node's store (the receiving one), Hamburg (S09, the sender), Munich (S07, neither);
    tea, honey and jam (each), apples (by kg)."""
    here = make_store(settings.STORE_CODE, name="Berlin Mitte")
    other = make_store("S09", name="Hamburg Altona")
    third = make_store("S07", name="Munich")
    tea = make_product("2.50", sku="T1", name="Tea", barcode=TEA)
    honey = make_product("4.00", sku="H1", name="Honey", barcode=HONEY)
    jam = make_product("3.20", sku="J1", name="Jam", barcode=JAM)
    apples = make_product("3.00", sku="A1", name="Apples", unit=Unit.KG, barcode=APPLES_CODE)

    class Shop:
        pass

    s = Shop()
    s.here, s.other, s.third, s.tea, s.honey, s.jam, s.apples = here, other, third, tea, honey, jam, apples
    return s


def sent_envelope(
    shop, *, lines=None, from_store=None, to_store=None, number="T-0042", transfer_id=None, seq=1
):
    """Head office's ``transfer.sent`` from Hamburg to this store: 5 teas and 2 honeys unless told otherwise."""
    lines = lines or [(shop.tea, "5"), (shop.honey, "2")]
    payload = {
        "id": transfer_id or uuid.uuid4(),
        "number": number,
        "from_store_id": (from_store or shop.other).id,
        "to_store_id": (to_store or shop.here).id,
        "sent_at": timezone.now(),
        "note": "for the weekend",
        "lines": [
            {
                "position": n,
                "product_id": product.id,
                "sku": product.sku,
                "description": product.name,
                "unit": product.unit,
                "quantity": Decimal(quantity),
            }
            for n, (product, quantity) in enumerate(lines, start=1)
        ],
    }
    payload = json.loads(json.dumps(payload, cls=PayloadEncoder))
    return Envelope(uuid.uuid4(), CLOUD_ORIGIN, seq, seq, "transfer.sent", 1, payload, seq)


@pytest.fixture
def client(client, shop):
    """Django's test client signed in on the handheld (every /h/ page asks) as the cashier c101."""
    from tests.store_node.ui.conftest import handheld_sign_in

    make_user(Role.CASHIER, shop.here, pin="1111", username="c101", first_name="Cara")
    handheld_sign_in(client, "c101", "1111")
    return client
