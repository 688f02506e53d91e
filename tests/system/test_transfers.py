"""A stock transfer end to end: a cloud and two stores as processes on loopback.

Head office drafts and sends a transfer from S01 to S02; both stores sync; S02 counts it in on its
handheld (one item short) and syncs; S01 syncs again. Then the cloud shows it received with the
discrepancy, and the stock of both products at both stores is the same at the cloud and at each
store.
"""

import re

import pytest

from tests.system.nodes import handheld_client

pytestmark = pytest.mark.processes


def _sync(store):
    result = store.manage("sync", "--once", "--quiet", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "still waiting 0" in result.stdout, result.stdout


LEVELS = (
    "select s.code, p.sku, cast(l.on_hand as text) from stock_stocklevel l "
    "join stores_store s on s.id = l.store_id join catalog_product p on p.id = l.product_id "
    "where p.sku in (?, ?) and s.code in ('S01', 'S02') order by s.code, p.sku"
)


def test_head_office_sends_a_transfer_s02_receives_it_on_the_handheld_and_every_node_agrees(chain):
    cloud, stores = chain
    s01, s02 = stores["S01"], stores["S02"]
    _sync(s01)
    _sync(s02)  # both stores load head office's snapshot
    skus = [
        row[0]
        for row in cloud.query(
            "select p.sku from stock_stocklevel l join catalog_product p on p.id = l.product_id "
            "join stores_store s on s.id = l.store_id where s.code = 'S01' and l.on_hand >= 3 "
            "and p.unit = 'each' order by p.sku limit 2"
        )
    ]
    assert len(skus) == 2

    # given head office drafts T-0001: 3 of the first product and 2 of the second, and sends it
    number = cloud.shell(
        "from cloud.transfers.services import TransferItem as I, transfer_draft_save, transfer_send\n"
        "from retail.catalog.models import Product as P; from retail.stores.models import Store as S\n"
        "from retail.staff.models import User as U\n"
        "by = U.objects.filter(is_superuser=True).first()\n"
        f"items = [I(product=P.objects.get(sku='{skus[0]}'), quantity='3'), I(product=P.objects.get(sku='{skus[1]}'), quantity='2')]\n"
        "t = transfer_draft_save(from_store=S.objects.get(code='S01'), to_store=S.objects.get(code='S02'), items=items, by=by)\n"
        "print(transfer_send(transfer=t, by=by).number)"
    )
    assert number == "T-0001"

    # when both stores sync, S02 has it to receive and S01 follows it, its stock already down
    _sync(s01)
    _sync(s02)
    assert s02.value("select status from store_transfers_transfer where number = ?", number) == "sent"
    assert s01.value("select status from store_transfers_transfer where number = ?", number) == "sent"

    # and S02's handheld counts in 3 of the first product and 1 of the second, and confirms
    s02.serve()
    with handheld_client(s02, username="c201") as handheld:
        listing = handheld.get("/h/transfers/")
        assert listing.status_code == 200 and f"Receive {number}" in listing.text
        url = re.search(r'href="(/h/transfers/[0-9a-f-]+/)">Receive', listing.text).group(1)
        page = handheld.get(url)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        for sku in (skus[0], skus[0], skus[0], skus[1]):
            scanned = handheld.post(url + "scan", data={"code": sku}, headers={"X-CSRFToken": token})
            assert scanned.status_code == 200 and "receive-message" in scanned.text, scanned.text
        confirmed = handheld.post(url + "confirm", headers={"X-CSRFToken": token})
        assert confirmed.status_code == 302, confirmed.text
        assert "1 line differs from what was sent" in handheld.get(confirmed.headers["location"]).text

    # and S02 syncs its receipt, then S01 syncs
    _sync(s02)
    _sync(s01)

    # then head office shows it received, with the shortfall of the second product
    assert cloud.query(
        "select status, has_discrepancy, received_by from transfers_transfer where number = ?", number
    ) == [("received", 1, "c201")]
    received = cloud.query(
        "select p.sku, cast(l.quantity as text), cast(l.received as text) from transfers_transferline l "
        "join catalog_product p on p.id = l.product_id join transfers_transfer t on t.id = l.transfer_id "
        "where t.number = ? order by l.position",
        number,
    )
    assert [(sku, float(q), float(r)) for sku, q, r in received] == [(skus[0], 3, 3), (skus[1], 2, 1)]
    # and the sending store's copy shows what arrived
    assert s01.query(
        "select l.sku, cast(l.received as text) from store_transfers_transferline l "
        "join store_transfers_transfer t on t.id = l.transfer_id where t.number = ? order by l.position",
        number,
    ) == [(skus[0], received[0][2]), (skus[1], received[1][2])]
    # and the stock of both products at both stores is the same at the cloud and at each store
    at_cloud = cloud.query(LEVELS, *skus)
    assert len(at_cloud) == 4
    assert s01.query(LEVELS, *skus) == at_cloud
    assert s02.query(LEVELS, *skus) == at_cloud
    # and it is what the seed held, less what left S01, plus what arrived at S02
    movements = cloud.query(
        "select s.code, m.kind, cast(sum(m.quantity) as text) from stock_stockmovement m "
        "join stores_store s on s.id = m.store_id where m.reference = ? group by s.code, m.kind order by 1",
        number,
    )
    assert [(code, kind, float(q)) for code, kind, q in movements] == [
        ("S01", "transfer_out", -5),
        ("S02", "transfer_in", 4),
    ]
