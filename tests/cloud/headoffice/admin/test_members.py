"""Members in the head-office admin: merge proposals decided side by side, and a member's history
(merged members, points ledger, purchases in every channel) on its page."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cloud.api.models import Order
from cloud.api.services import api_key_create
from cloud.headoffice.selectors import member_history
from cloud.sync.models import MemberMergeProposal
from retail.members.models import Member
from retail.members.services import points_entry_record
from retail.outbox.models import Event
from tests.factories import make_completed_sale, make_member


def _order(member, number, *, store=None, total="9.00"):
    key = Order.objects.values_list("api_key", flat=True).first() or api_key_create(name="Web shop")[0].pk
    now = datetime(2026, 2, 1, 12, tzinfo=UTC)
    return Order.objects.create(
        number=number,
        api_key_id=key,
        reference=number,
        fulfilment="pickup" if store else "delivery",
        store=store,
        member=member,
        total=Decimal(total),
        created_at=now,
        updated_at=now,
    )


@pytest.fixture
def dupes(chain):
    """Anna at S01 (70 points, a sale there) and again at S02 (30 points, a sale there, an online order)."""
    anna = make_member(number="S01-1", first_name="Anna", phone="+49301", card_barcode="MBR1")
    again = make_member(number="S02-1", first_name="Anna", phone="+49301", email="anna@example.com")
    points_entry_record(member_id=anna.id, kind="earn", points=70, origin="S01")
    points_entry_record(member_id=again.id, kind="earn", points=30, origin="S02")
    make_completed_sale(
        chain.s1, lines=[(chain.product, "1", "2.50")], member=anna, receipt_number="S01-T01-7"
    )
    make_completed_sale(
        chain.s2, lines=[(chain.product, "2", "5.00")], member=again, receipt_number="S02-T01-7"
    )
    _order(again, "W-ONLINE-1")
    proposal = MemberMergeProposal.objects.create(member=anna, duplicate=again, matched_on="phone")
    return anna, again, proposal


def _url(proposal):
    return f"/admin/cloud_sync/membermergeproposal/{proposal.pk}/change/"


def test_head_office_sees_both_members_side_by_side_with_balances_ledgers_and_purchases(client, chain, dupes):
    anna, again, proposal = dupes
    client.force_login(chain.head_office)

    page = client.get(_url(proposal))

    html = page.content.decode()
    assert page.status_code == 200
    for needle in (
        "S01-1",
        "S02-1",
        "MBR1",
        "anna@example.com",
        'name="survivor"',
        "Merge into the one kept",
    ):
        assert needle in html
    assert html.count("<td data-balance>") == 2 and "<td data-balance>70</td>" in html
    assert "<td data-ledger>1</td>" in html and "<td data-orders>1</td>" in html
    assert "<td data-sales>1 (2.50)</td>" in html and "<td data-sales>1 (5.00)</td>" in html
    assert 'id="merge-balance">100<' in html


@pytest.mark.parametrize("keep", ["anna", "again"])
def test_head_office_merges_keeping_either_member(client, chain, dupes, keep):
    anna, again, proposal = dupes
    survivor, loser = (anna, again) if keep == "anna" else (again, anna)
    client.force_login(chain.head_office)

    response = client.post(_url(proposal), {"decision": "merge", "survivor": str(survivor.pk)})

    assert response.status_code == 302 and response.url == f"/admin/members/member/{survivor.pk}/change/"
    survivor.refresh_from_db()
    loser.refresh_from_db()
    assert (loser.merged_into_id, survivor.points_balance, loser.points_balance) == (survivor.pk, 100, 0)
    assert Event.objects.filter(type="member.merged", payload__id=str(loser.pk)).count() == 1
    proposal.refresh_from_db()
    assert (proposal.outcome, proposal.survivor_id, proposal.resolved_by_id) == (
        "merged",
        survivor.pk,
        chain.head_office.pk,
    )
    # and the survivor's page shows both members' store sales and the online order
    html = client.get(response.url).content.decode()
    for needle in ("S01-T01-7", "S02-T01-7", "W-ONLINE-1", loser.number):
        assert needle in html


def test_an_analyst_sees_the_proposal_but_cannot_merge_or_dismiss(client, chain, dupes):
    anna, again, proposal = dupes
    client.force_login(chain.analyst)

    page = client.get(_url(proposal))
    merge = client.post(_url(proposal), {"decision": "merge", "survivor": str(anna.pk)})
    dismiss = client.post(_url(proposal), {"decision": "dismiss"})

    assert page.status_code == 200 and 'name="survivor"' not in page.content.decode()
    assert (merge.status_code, dismiss.status_code) == (403, 403)
    proposal.refresh_from_db()
    assert proposal.resolved_at is None and not Member.objects.filter(merged_into__isnull=False).exists()


def test_a_store_manager_does_not_see_merge_proposals(client, chain, dupes):
    anna, again, proposal = dupes
    client.force_login(chain.manager)

    listing = client.get("/admin/cloud_sync/membermergeproposal/")
    merge = client.post(_url(proposal), {"decision": "merge", "survivor": str(anna.pk)})

    assert (listing.status_code, merge.status_code) == (403, 403)
    assert not Member.objects.filter(merged_into__isnull=False).exists()


def test_dismissing_keeps_both_members(client, chain, dupes):
    anna, again, proposal = dupes
    client.force_login(chain.head_office)

    response = client.post(_url(proposal), {"decision": "dismiss"})

    assert response.status_code == 302
    proposal.refresh_from_db()
    assert (proposal.outcome, proposal.resolved_by_id) == ("dismissed", chain.head_office.pk)
    assert not Event.objects.filter(type="member.merged").exists()


def test_a_merged_members_page_points_to_its_survivor_and_is_read_only(client, chain, dupes):
    from retail.members.services import member_merge

    anna, again, proposal = dupes
    member_merge(loser=again, survivor=anna)
    client.force_login(chain.head_office)

    page = client.get(f"/admin/members/member/{again.pk}/change/").content.decode()

    assert 'id="merged-into"' in page and "S01-1" in page and 'name="_save"' not in page


def _many_purchases(chain, member, n):
    for i in range(n):
        make_completed_sale(
            chain.s1,
            lines=[(chain.product, "1", "1.00")],
            member=member,
            receipt_number=f"R{member.number}-{i}",
        )
        _order(member, f"W-{member.number}-{i}", store=chain.s1 if i % 2 else None)  # fmt: skip
        points_entry_record(member_id=member.id, kind="earn", points=1, origin="S01")


def test_the_members_history_takes_seven_queries_however_many_purchases(
    chain, dupes, django_assert_num_queries
):
    from retail.members.services import member_merge

    # given anna merged with her duplicate, and many more sales, orders and points on both
    anna, again, _proposal = dupes
    _many_purchases(chain, anna, 12)
    _many_purchases(chain, again, 9)
    member_merge(loser=again, survivor=anna)

    # when her history is read
    with django_assert_num_queries(7):
        history = member_history(member=anna, limit=10)

    # then it covers both members, newest first, within the limit, with exact counts and total
    assert [m.number for m in history.merged_members] == ["S02-1"]
    assert (history.sales_count, history.orders_count, history.ledger_count) == (23, 22, 23)
    assert history.sales_total == Decimal("28.50")
    assert len(history.sales) == len(history.orders) == len(history.ledger) == 10
    assert {s.member.number for s in history.sales} == {"S01-1", "S02-1"}


def test_the_member_page_costs_the_same_queries_for_one_purchase_or_many(client, chain, dupes):
    anna, again, _proposal = dupes
    client.force_login(chain.head_office)
    url = f"/admin/members/member/{anna.pk}/change/"

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = count()
    _many_purchases(chain, anna, 8)
    assert count() == few


def test_a_store_manager_sees_the_members_purchases_at_their_store_only(client, chain, dupes):
    anna, again, _proposal = dupes
    _order(again, "W-PICKUP-S02", store=chain.s2)
    _order(again, "W-PICKUP-S01", store=chain.s1)
    client.force_login(chain.manager)

    page = client.get(f"/admin/members/member/{again.pk}/change/").content.decode()

    assert "S02-T01-7" not in page and "W-PICKUP-S02" not in page and "W-ONLINE-1" not in page
    assert "W-PICKUP-S01" in page


def test_editing_a_member_in_admin_is_a_member_updated_event(client, chain, dupes):
    anna, _again, _proposal = dupes
    client.force_login(chain.head_office)
    form = {
        "card_barcode": "MBR1",
        "first_name": "Anna",
        "last_name": "Schmidt",
        "phone": "+49301",
        "email": "",
    }

    response = client.post(f"/admin/members/member/{anna.pk}/change/", form)

    assert response.status_code == 302
    anna.refresh_from_db()
    event = Event.objects.get(type="member.updated")
    assert (anna.last_name, event.payload["fields"]) == ("Schmidt", {"last_name": "Schmidt"})
    assert anna.field_clocks["last_name"] == [event.hlc, event.origin]


def test_history_ignores_sales_not_completed(chain, dupes):
    anna, _again, _proposal = dupes
    open_sale = make_completed_sale(chain.s1, lines=[(chain.product, "1", "9.99")], member=anna)
    type(open_sale).objects.filter(pk=open_sale.pk).update(status="open", completed_at=None)
    assert member_history(member=anna).sales_count == 1


def test_adding_a_member_in_admin_is_a_member_created_event(client, chain):
    client.force_login(chain.head_office)

    response = client.post(
        "/admin/members/member/add/",
        {
            "number": "HO-1",
            "card_barcode": "",
            "first_name": "Grace",
            "last_name": "",
            "phone": "",
            "email": "",
        },
    )

    assert response.status_code == 302
    member = Member.objects.get(number="HO-1")
    event = Event.objects.get(type="member.created")
    assert (member.first_name, member.card_barcode, member.origin) == ("Grace", None, "cloud")
    assert event.payload["id"] == str(member.id) and event.payload["fields"]["first_name"] == "Grace"
