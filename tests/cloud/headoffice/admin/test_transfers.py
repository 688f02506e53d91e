"""Transfers in the admin, for each role: head office drafts and sends them, a store manager follows
those of their store, an analyst reads them all; the forms say what is wrong with a transfer."""

import re
from decimal import Decimal
from html import unescape as html_unescape

import pytest

from cloud.transfers.models import Transfer, TransferStatus
from cloud.transfers.services import TransferItem, transfer_draft_save, transfer_send
from retail.catalog.models import Unit
from retail.staff.models import Role
from retail.stock.models import StockLevel
from retail.stock.services import stock_move
from tests.factories import make_product, make_store, make_user

pytestmark = pytest.mark.django_db

LIST = "/admin/transfers/transfer/"
ADD = LIST + "add/"


@pytest.fixture
def more(chain):
    """A third store with its manager, a product sold by weight, and T-0001 sent from S01 to S02."""
    chain.s3 = make_store("S03", name="Munich")
    chain.manager3 = make_user(Role.STORE_MANAGER, store=chain.s3, username="max", is_staff=True)
    chain.apples = make_product("3.00", name="Apples", unit=Unit.KG)
    stock_move(store_id=chain.s1.id, product_id=chain.product.id, kind="receipt", quantity=Decimal("10"))
    chain.sent = transfer_send(
        transfer=transfer_draft_save(
            from_store=chain.s1,
            to_store=chain.s2,
            items=[TransferItem(product=chain.product, quantity="4")],
            by=chain.head_office,
        )
    )
    return chain


def _inputs(html: str) -> dict:
    """The values of the page's text and hidden inputs (the inline forms and their management forms)."""
    found = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and 'type="checkbox"' not in tag and 'type="submit"' not in tag:
            found[name.group(1)] = html_unescape(value.group(1)) if value else ""
    return found


def _form(from_store, to_store, lines, *, note="", **extra):
    data = {
        "from_store": str(from_store.pk),
        "to_store": str(to_store.pk),
        "note": note,
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        **extra,
    }
    for n, (product, quantity) in enumerate(lines):
        data[f"lines-{n}-product"] = str(product.pk)
        data[f"lines-{n}-quantity"] = quantity
    return data


@pytest.mark.parametrize("who", ["head_office", "analyst", "manager"])
@pytest.mark.parametrize("url", [LIST, LIST + "?discrepancy=open", LIST + "?status=sent", "change"])
def test_the_transfer_pages_load_for_every_role(client, more, who, url):
    client.force_login(getattr(more, who))
    url = f"{LIST}{more.sent.pk}/change/" if url == "change" else url

    response = client.get(url)

    assert response.status_code == 200
    assert ("T-0001" in response.content.decode()) == ("discrepancy" not in url)  # not received yet


def test_head_office_drafts_a_transfer_in_the_form_and_sends_it(client, more):
    client.force_login(more.head_office)
    assert client.get(ADD).status_code == 200

    # when head office saves a draft of 3 bananas and 1.25 kg of apples to S03
    response = client.post(
        ADD, _form(more.s1, more.s3, [(more.product, "3"), (more.apples, "1.25")], note="fair")
    )

    # then it is a draft numbered T-0002 with its lines, and nothing moved yet
    assert response.status_code == 302, response.content.decode()[:3000]
    transfer = Transfer.objects.get(number="T-0002")
    assert (transfer.status, transfer.to_store, transfer.note, transfer.created_by) == (
        "draft",
        more.s3,
        "fair",
        more.head_office,
    )
    assert list(transfer.lines.values_list("product__name", "quantity")) == [
        ("Bananas", Decimal("3.000")),
        ("Apples", Decimal("1.250")),
    ]
    page = client.get(f"{LIST}{transfer.pk}/change/").content.decode()
    assert "Save and send to the stores" in page

    # when they send it from its page, as they see it
    change = {**_inputs(page), "from_store": str(more.s1.pk), "to_store": str(more.s3.pk), "_send": "1"}
    change.update({f"lines-{n}-product": str(p.pk) for n, p in enumerate([more.product, more.apples])})
    response = client.post(f"{LIST}{transfer.pk}/change/", change, follow=True)

    # then the goods have left S01 and the page says so, read only from now on
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.SENT
    html = response.content.decode()
    assert "Sent T-0002: the goods have left, and both stores will be told." in html
    assert "Save and send to the stores" not in html
    levels = dict(StockLevel.objects.filter(store=more.s1).values_list("product__name", "on_hand"))
    assert levels == {"Bananas": Decimal("3.000"), "Apples": Decimal("-1.250")}
    # and S01's book of apples going below zero is pointed out
    assert "S01&#x27;s book is now below zero for Apples (-1.25)" in html


@pytest.mark.parametrize(
    "stores, lines, message",
    [
        (
            ("s1", "s1"),
            [("product", "1")],
            "S01 cannot send a transfer to itself: choose two different stores.",
        ),
        (("s1", "s2"), [("product", "0")], "Bananas: the quantity must be more than zero, not 0."),
        (
            ("s1", "s2"),
            [("product", "1.5")],
            "Bananas is sold by the piece: the quantity must be a whole number, not 1.5.",
        ),
        (
            ("s1", "s2"),
            [("apples", "0.1234")],
            "Apples is sold by weight: give the kilograms with at most three decimals, not 0.1234.",
        ),
        (
            ("s1", "s2"),
            [("product", "1"), ("product", "2")],
            "Bananas is on the transfer twice: put it on one line.",
        ),
        (("s1", "s2"), [], "A transfer needs at least one line."),
    ],
)
def test_the_form_says_what_is_wrong_and_saves_nothing(client, more, stores, lines, message):
    client.force_login(more.head_office)

    response = client.post(
        ADD,
        _form(getattr(more, stores[0]), getattr(more, stores[1]), [(getattr(more, p), q) for p, q in lines]),
    )

    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")
    assert Transfer.objects.count() == 1


def test_the_list_actions_send_and_cancel_drafts(client, more):
    client.force_login(more.head_office)
    drafts = [
        transfer_draft_save(
            from_store=more.s2,
            to_store=more.s3,
            items=[TransferItem(product=more.product, quantity="1")],
            by=more.head_office,
        )
        for _ in range(2)
    ]

    sent = client.post(
        LIST, {"action": "send", "_selected_action": [drafts[0].pk, more.sent.pk]}, follow=True
    )
    cancelled = client.post(LIST, {"action": "cancel", "_selected_action": [drafts[1].pk]}, follow=True)

    assert Transfer.objects.get(pk=drafts[0].pk).status == "sent"
    assert Transfer.objects.get(pk=drafts[1].pk).status == "cancelled"
    html = sent.content.decode()
    assert "Sent T-0002" in html
    assert "T-0001: T-0001 is in transit: only a draft transfer can be sent." in html
    assert "1 draft(s) cancelled." in cancelled.content.decode()


def test_a_store_manager_sees_the_transfers_of_their_store_only_and_changes_none(client, more):
    # given a draft between S02 and S03, and T-0001 from S01 to S02
    other = transfer_draft_save(
        from_store=more.s2, to_store=more.s3, items=[TransferItem(product=more.product, quantity="1")]
    )

    # then S01's manager lists T-0001 only, read only, with no other store's name in the filters
    client.force_login(more.manager)
    listing = client.get(LIST).content.decode()
    assert "T-0001" in listing and "T-0002" not in listing
    assert client.get(f"{LIST}{other.pk}/change/").status_code == 302
    assert "Save and send" not in client.get(f"{LIST}{more.sent.pk}/change/").content.decode()
    assert client.get(ADD).status_code == 403
    assert "Munich" not in listing

    # and the manager of S03, a store T-0001 does not touch, cannot see it at all
    client.force_login(more.manager3)
    listing = client.get(LIST).content.decode()
    assert "T-0002" in listing and "T-0001" not in listing
    assert client.get(f"{LIST}{more.sent.pk}/change/").status_code == 302

    # and no manager's action sends anything
    client.post(LIST, {"action": "send", "_selected_action": [other.pk]})
    assert Transfer.objects.get(pk=other.pk).status == "draft"


def test_an_analyst_reads_every_transfer_and_changes_nothing(client, more):
    draft = transfer_draft_save(
        from_store=more.s2, to_store=more.s3, items=[TransferItem(product=more.product, quantity="1")]
    )
    client.force_login(more.analyst)

    listing = client.get(LIST).content.decode()
    posts = [
        client.post(ADD, _form(more.s1, more.s2, [(more.product, "1")])),
        client.post(f"{LIST}{draft.pk}/change/", _form(more.s1, more.s2, [(more.product, "9")], _send="1")),
        client.post(LIST, {"action": "send", "_selected_action": [draft.pk]}),
        client.post(LIST, {"action": "cancel", "_selected_action": [draft.pk]}),
    ]

    assert "T-0001" in listing and "T-0002" in listing
    assert [p.status_code for p in posts[:2]] == [403, 403]
    assert Transfer.objects.get(pk=draft.pk).status == "draft"
    assert Transfer.objects.count() == 2
    assert "Save and send" not in client.get(f"{LIST}{draft.pk}/change/").content.decode()


def test_the_discrepancy_filter_lists_the_transfers_received_short_or_over(client, more):
    Transfer.objects.filter(pk=more.sent.pk).update(status="received", has_discrepancy=True)
    as_sent = transfer_draft_save(
        from_store=more.s2, to_store=more.s3, items=[TransferItem(product=more.product, quantity="1")]
    )
    Transfer.objects.filter(pk=as_sent.pk).update(status="received")
    client.force_login(more.head_office)

    to_resolve = client.get(LIST + "?discrepancy=open").content.decode()
    fine = client.get(LIST + "?discrepancy=none").content.decode()
    resolved = client.post(
        LIST, {"action": "resolve_discrepancy", "_selected_action": [more.sent.pk]}, follow=True
    )

    assert "T-0001" in to_resolve and "T-0002" not in to_resolve
    assert "T-0002" in fine and "T-0001" not in fine
    assert "1 discrepancy marked resolved." in resolved.content.decode()
    assert "T-0001" not in client.get(LIST + "?discrepancy=open").content.decode()


def test_the_list_takes_the_same_queries_however_many_transfers(client, more):
    client.force_login(more.head_office)
    client.get(LIST)  # warm the session and content types

    def queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get(LIST).status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    for _ in range(5):
        transfer_draft_save(
            from_store=more.s2, to_store=more.s3, items=[TransferItem(product=more.product, quantity="1")]
        )

    assert queries() == few
