import pytest

from retail.replication.appliers import ApplyContext, event_apply
from store_node.transfers.selectors import transfer_detail, transfers_in_transit, transfers_received_lately
from store_node.transfers.services import transfer_receive_confirm
from tests.store_node.transfers.conftest import sent_envelope

pytestmark = pytest.mark.django_db


def test_the_lists_take_one_query_each_however_many_transfers(shop, django_assert_num_queries):
    # given four transfers on their way here (one of them since received), two from here, one elsewhere-bound
    for n in range(4):
        event_apply(env=sent_envelope(shop, number=f"T-000{n}"), ctx=ApplyContext())
    for n in range(2):
        event_apply(
            env=sent_envelope(shop, number=f"T-010{n}", from_store=shop.here, to_store=shop.other),
            ctx=ApplyContext(),
        )
    first = transfers_in_transit()[0][0]
    transfer_receive_confirm(transfer_id=first.id)

    with django_assert_num_queries(1):
        arriving, leaving = transfers_in_transit()
        assert [(t.number, t.from_store.code, t.line_count) for t in arriving] == [
            ("T-0001", "S09", 2),
            ("T-0002", "S09", 2),
            ("T-0003", "S09", 2),
        ]
        assert [(t.number, t.to_store.code) for t in leaving] == [("T-0100", "S09"), ("T-0101", "S09")]
    with django_assert_num_queries(1):
        assert [t.number for t in transfers_received_lately()] == ["T-0000"]
    with django_assert_num_queries(2):
        detail = transfer_detail(transfer_id=first.id)
        assert [line.sku for line in detail.lines.all()] == ["T1", "H1"]
