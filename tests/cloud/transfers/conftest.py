from types import SimpleNamespace

import pytest

from cloud.transfers.services import TransferItem, transfer_draft_save
from retail.catalog.models import Unit
from retail.staff.models import Role
from tests.factories import make_product, make_store, make_user


@pytest.fixture
def chain(db):
    """Stores S01, S02, S03; tea and honey (each), apples (by kg); a head-office user."""
    return SimpleNamespace(
        s1=make_store("S01", name="Berlin"),
        s2=make_store("S02", name="Hamburg"),
        s3=make_store("S03", name="Munich"),
        tea=make_product("2.50", sku="T1", name="Tea"),
        honey=make_product("4.00", sku="H1", name="Honey"),
        apples=make_product("3.00", sku="A1", name="Apples", unit=Unit.KG),
        hedda=make_user(Role.HEAD_OFFICE, username="hedda", is_staff=True),
    )


def draft(chain, *items, from_store=None, to_store=None, note=""):
    """A draft from S01 to S02 of ``items`` (product, quantity); 5 teas and 2 honeys by default."""
    items = items or ((chain.tea, "5"), (chain.honey, "2"))
    return transfer_draft_save(
        from_store=from_store or chain.s1,
        to_store=to_store or chain.s2,
        items=[TransferItem(product=p, quantity=q) for p, q in items],
        note=note,
        by=chain.hedda,
    )
