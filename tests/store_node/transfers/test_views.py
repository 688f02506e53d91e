"""The handheld's transfer screens through Django's test client (pos_ui/views/transfers.py)."""

from decimal import Decimal

import pytest

from retail.outbox.models import Event
from retail.replication.appliers import ApplyContext, event_apply
from retail.stock.models import StockLevel
from store_node.transfers.models import Transfer
from tests.store_node.transfers.conftest import HONEY, JAM, TEA, sent_envelope

pytestmark = pytest.mark.django_db


@pytest.fixture
def transfer(shop):
    event_apply(env=sent_envelope(shop), ctx=ApplyContext())
    return Transfer.objects.get()


def test_the_list_shows_transfers_on_their_way_here_and_from_here(client, shop, transfer):
    event_apply(
        env=sent_envelope(shop, number="T-0050", from_store=shop.here, to_store=shop.other),
        ctx=ApplyContext(),
    )

    response = client.get("/h/transfers/")

    html = response.content.decode()
    assert response.status_code == 200
    arriving, leaving = html.split('data-testid="transfers-leaving"')
    assert "Receive T-0042" in arriving and "S09 Hamburg Altona" in arriving
    assert "T-0050" in leaving and "Receive T-0050" not in html
    assert 'href="/h/transfers/">Transfers</a>' in html  # the nav entry


def test_the_receive_screen_counts_scans_and_shows_sent_against_received(client, transfer):
    base = f"/h/transfers/{transfer.id}/"
    assert "Receive T-0042" in client.get(base).content.decode()

    for code in (TEA, TEA, HONEY):
        response = client.post(base + "scan", {"code": code})
        assert response.status_code == 200

    html = response.content.decode()
    assert "Honey: 1 of 2" in html
    assert 'data-testid="receive-progress">0 of 2<' in html
    assert 'data-testid="received-T1">2<' in html
    assert "<html" in html  # a plain post redraws the whole screen


def test_an_htmx_scan_redraws_only_the_lines_and_an_unsent_item_is_counted_as_extra(client, transfer):
    response = client.post(f"/h/transfers/{transfer.id}/scan", {"code": JAM}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert "<html" not in html
    assert "Jam was not sent: counted in as extra (1)." in html
    assert 'data-testid="received-J1">1<' in html


def test_a_refused_scan_or_count_is_shown_on_the_screen_and_changes_nothing(client, transfer, shop):
    base = f"/h/transfers/{transfer.id}/"

    unknown = client.post(base + "scan", {"code": "NOPE-1"}).content.decode()
    half = client.post(base + "set", {"product": str(shop.tea.id), "received": "1.5"}).content.decode()
    nothing = client.post(base + "set", {"product": "", "received": "1"}).content.decode()

    assert "No product with barcode or SKU NOPE-1" in unknown
    assert "Tea is sold by the piece: the quantity must be a whole number, not 1.5." in half
    assert "Choose the line to set." in nothing
    assert list(transfer.lines.values_list("received", flat=True)) == [Decimal("0"), Decimal("0")]


def test_review_then_confirm_moves_the_stock_and_shows_the_result(client, transfer, shop):
    base = f"/h/transfers/{transfer.id}/"
    client.post(base + "set", {"product": str(shop.tea.id), "received": "5"})
    client.post(base + "scan", {"code": HONEY})

    review = client.get(base + "review").content.decode()
    confirmed = client.post(base + "confirm")
    result = client.get(confirmed["Location"]).content.decode()

    assert "1 line short" in review and 'diff-neg">-1<' in review
    assert (confirmed.status_code, confirmed["Location"], confirmed["X-Transfer-Received"]) == (
        302,
        base + "?received=1",
        "T-0042",
    )
    assert (
        "T-0042 received: 2 lines booked into stock here. 1 line differs from what was sent; head office sees it."
        in result
    )
    assert 'data-testid="transfer-status">Received<' in result
    assert dict(StockLevel.objects.filter(store=shop.here).values_list("product__sku", "on_hand")) == {
        "T1": Decimal("5.000"),
        "H1": Decimal("1.000"),
    }
    # a second tap of Confirm changes nothing and shows the result
    again = client.post(base + "confirm")
    assert (again.status_code, again["Location"]) == (302, base)
    assert Event.objects.filter(type="transfer.received").count() == 1
    assert client.get(base + "review")["Location"] == base


def test_a_transfer_sent_from_here_is_shown_read_only(client, shop):
    event_apply(env=sent_envelope(shop, from_store=shop.here, to_store=shop.other), ctx=ApplyContext())
    transfer = Transfer.objects.get()

    page = client.get(f"/h/transfers/{transfer.id}/").content.decode()
    scan = client.post(f"/h/transfers/{transfer.id}/scan", {"code": TEA})

    assert "In transit" in page and "Count in" not in page
    assert scan.status_code == 302  # back to the read-only page: nothing to count here
    assert transfer.lines.filter(received__gt=0).count() == 0


def test_an_unknown_transfer_is_a_404(client, shop):
    assert client.get("/h/transfers/0190b5d5-0000-7000-8000-000000000001/").status_code == 404
