from types import SimpleNamespace

import pytest

from cloud.headoffice.roles import roles_setup
from retail.staff.models import Role
from tests.factories import make_completed_sale, make_product, make_store, make_terminal, make_user


@pytest.fixture
def chain(db):
    """Two stores with a sale each, and a head-office user, an analyst and the manager of S01."""
    roles_setup()
    s1, s2 = make_store("S01", name="Berlin"), make_store("S02", name="Hamburg")
    make_terminal(s1, "T01"), make_terminal(s2, "T01")
    product = make_product("2.50", name="Bananas")
    return SimpleNamespace(
        s1=s1,
        s2=s2,
        product=product,
        sale1=make_completed_sale(s1, lines=[(product, "1", "2.50")], receipt_number="S01-T01-000001"),
        sale2=make_completed_sale(s2, lines=[(product, "2", "5.00")], receipt_number="S02-T01-000001"),
        head_office=make_user(Role.HEAD_OFFICE, username="hedda", is_staff=True),
        analyst=make_user(Role.ANALYST, username="ana", is_staff=True),
        manager=make_user(Role.STORE_MANAGER, store=s1, username="mona", is_staff=True),
        cashier2=make_user(Role.CASHIER, store=s2, username="kai"),
    )
