import pytest
from django.db import transaction

from retail.sales.models import ReceiptCounter
from retail.sales.services import receipt_number_next
from tests.factories import make_terminal

pytestmark = pytest.mark.django_db


def test_receipt_numbers_count_per_terminal_and_give_back_a_rolled_back_number(store):
    t1, t2 = make_terminal(store, "T01"), make_terminal(store, "T02")
    with transaction.atomic():
        first = [receipt_number_next(terminal=t1) for _ in range(2)]
    with pytest.raises(RuntimeError), transaction.atomic():
        receipt_number_next(terminal=t1)
        raise RuntimeError("the sale failed")
    with transaction.atomic():
        after = receipt_number_next(terminal=t1)
        other = receipt_number_next(terminal=t2)

    assert first == ["S01-T01-000001", "S01-T01-000002"]
    assert (after, other) == ("S01-T01-000003", "S01-T02-000001")
    assert ReceiptCounter.objects.get(terminal=t1).last_number == 3


@pytest.mark.django_db(transaction=True)  # outside any transaction, as a view runs
def test_receipt_numbers_only_inside_the_sales_transaction(store):
    with pytest.raises(RuntimeError):
        receipt_number_next(terminal=make_terminal(store, "T01"))
