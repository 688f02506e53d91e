import uuid
from decimal import Decimal

import pytest

from cloud.sync.models import MemberMergeProposal, Oversell, PointsOverdraw, QuarantinedEvent
from retail.members.models import Member
from retail.outbox import hlc
from retail.outbox.models import Event
from retail.sales.models import Sale
from tests.cloud.sync.conftest import envelope, moved, push
from tests.cloud.sync.test_pull import _member
from tests.factories import make_member, make_terminal, make_user


def test_an_oversell_is_applied_and_flagged_for_head_office(enrolled):
    s01, product = enrolled["stores"]["S01"], enrolled["product"]
    push(enrolled["clients"]["S01"], [envelope("S01", 1, "stock.moved", moved(s01, product, "-2"))])
    flag = Oversell.objects.get()
    assert (flag.store_id, flag.product_id, flag.on_hand) == (s01.id, product.id, Decimal("-2.000"))


def test_two_stores_redeeming_the_same_points_both_keep_their_sale_and_the_overdraw_is_recorded(enrolled):
    member = make_member(points_balance=0)
    from retail.members.services import points_entry_record

    points_entry_record(member_id=member.id, kind="earn", points=100, origin="cloud")

    def redeem(origin):
        return envelope(
            origin,
            1,
            "points.posted",
            {"id": str(uuid.uuid4()), "member_id": str(member.id), "kind": "redeem", "points": -80},
        )

    push(enrolled["clients"]["S01"], [redeem("S01")])
    push(enrolled["clients"]["S02"], [redeem("S02")])
    member.refresh_from_db()
    assert member.points_balance == -60
    overdraw = PointsOverdraw.objects.get()
    assert (overdraw.member_id, overdraw.balance, overdraw.origin) == (member.id, -60, "S02")


def test_members_created_offline_at_two_stores_with_one_phone_are_both_kept_and_proposed_for_merge(enrolled):
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    push(
        enrolled["clients"]["S01"],
        [envelope("S01", 1, "member.created", _member(a, "S01-1", phone="+4930111"))],
    )
    push(
        enrolled["clients"]["S02"],
        [envelope("S02", 1, "member.created", _member(b, "S02-1", phone="+4930111"))],
    )
    assert Member.objects.filter(phone="+4930111").count() == 2
    proposal = MemberMergeProposal.objects.get()
    assert (str(proposal.member_id), str(proposal.duplicate_id), proposal.matched_on) == (a, b, "phone")


def test_member_fields_are_last_writer_wins_per_field_whatever_the_arrival_order(enrolled):
    member = make_member(first_name="Old", last_name="Old")
    now = hlc.now_millis()
    early = envelope(
        "S01",
        1,
        "member.updated",
        {"id": str(member.id), "fields": {"first_name": "Early", "last_name": "Early"}},
        stamp=hlc.pack(now - 5000),
    )
    late = envelope(
        "S02",
        1,
        "member.updated",
        {"id": str(member.id), "fields": {"first_name": "Late"}},
        stamp=hlc.pack(now - 1000),
    )
    # when the later write arrives first
    push(enrolled["clients"]["S02"], [late])
    push(enrolled["clients"]["S01"], [early])
    member.refresh_from_db()
    # then first_name keeps the later write and last_name, only written early, takes it
    assert (member.first_name, member.last_name) == ("Late", "Early")


def test_equal_clocks_are_decided_by_origin(enrolled):
    member = make_member()
    stamp = hlc.pack(hlc.now_millis() - 1000)
    push(
        enrolled["clients"]["S02"],
        [
            envelope(
                "S02", 1, "member.updated", {"id": str(member.id), "fields": {"email": "b@x.de"}}, stamp=stamp
            )
        ],
    )
    push(
        enrolled["clients"]["S01"],
        [
            envelope(
                "S01", 1, "member.updated", {"id": str(member.id), "fields": {"email": "a@x.de"}}, stamp=stamp
            )
        ],
    )
    member.refresh_from_db()
    assert member.email == "b@x.de"  # ("S02" > "S01")


def test_a_clock_a_day_fast_is_quarantined_and_an_hour_slow_one_loses_by_the_rule(enrolled):
    member = make_member(first_name="Start")
    now = hlc.now_millis()
    fast = envelope(
        "S01",
        1,
        "member.updated",
        {"id": str(member.id), "fields": {"first_name": "Fast"}},
        stamp=hlc.pack(now + 86_400_000),
    )
    slow = envelope(
        "S02",
        1,
        "member.updated",
        {"id": str(member.id), "fields": {"first_name": "Slow"}},
        stamp=hlc.pack(now - 3_600_000),
    )
    answer = push(enrolled["clients"]["S01"], [fast]).json()
    push(enrolled["clients"]["S02"], [slow])
    assert answer["quarantined"][0]["reason"] == "clock_skew"
    assert QuarantinedEvent.objects.get().origin == "S01"
    member.refresh_from_db()
    assert member.first_name == "Slow"  # the only trusted write; a later real edit would beat it


def test_a_completed_sale_is_stored_once_and_rolled_up(enrolled):
    from cloud.reporting.models import RolledUpSale

    s01, product = enrolled["stores"]["S01"], enrolled["product"]
    terminal, cashier = make_terminal(s01), make_user(store=s01)
    sale_id = str(uuid.uuid4())
    payload = {
        "id": sale_id,
        "kind": "sale",
        "store_id": str(s01.id),
        "terminal_id": str(terminal.id),
        "shift_id": None,
        "cashier_id": str(cashier.id),
        "member_id": None,
        "original_sale_id": None,
        "receipt_number": "S01-T01-000001",
        "created_at": "2026-03-01T10:00:00Z",
        "completed_at": "2026-03-01T10:01:00Z",
        "subtotal": "5.00",
        "discount_total": "0.00",
        "tax_total": "0.80",
        "total": "5.00",
        "cash_rounding": "0.00",
        "points_earned": 5,
        "lines": [
            {
                "id": str(uuid.uuid4()),
                "position": 1,
                "product_id": str(product.id),
                "sku": product.sku,
                "description": "x",
                "barcode": "",
                "quantity": "2.000",
                "unit_price": "2.50",
                "line_discount": "0.00",
                "sale_discount_share": "0.00",
                "line_total": "5.00",
                "tax_class": "STD",
                "tax_rate": "0.1900",
                "voided": False,
                "original_line_id": None,
                "restock": True,
            }
        ],
        "discounts": [],
        "tax_lines": [{"tax_class": "STD", "rate": "0.1900", "taxable": "4.20", "tax": "0.80"}],
        "tenders": [
            {
                "id": str(uuid.uuid4()),
                "kind": "cash",
                "amount": "5.00",
                "tendered": "10.00",
                "change": "5.00",
                "reference": "",
                "approved": True,
                "points": 0,
            }
        ],
    }
    event = envelope("S01", 1, "sale.completed", payload)
    push(enrolled["clients"]["S01"], [event])
    push(enrolled["clients"]["S01"], [event])
    sale = Sale.objects.get()
    assert (str(sale.id), sale.total, sale.lines.count(), sale.tenders.count()) == (
        sale_id,
        Decimal("5.00"),
        1,
        1,
    )
    assert RolledUpSale.objects.filter(sale_id=sale.id).count() == 1


def test_a_sale_naming_an_unknown_terminal_is_quarantined_whole(enrolled):
    payload = {
        "id": str(uuid.uuid4()),
        "store_id": str(enrolled["stores"]["S01"].id),
        "terminal_id": str(uuid.uuid4()),
        "cashier_id": str(uuid.uuid4()),
    }
    answer = push(enrolled["clients"]["S01"], [envelope("S01", 1, "sale.completed", payload)]).json()
    assert answer["quarantined"][0]["reason"] == "missing_reference"
    assert Sale.objects.count() == 0


def _duplicates(enrolled):
    """Anna signed up at S01 and again at S02 while both were offline: two members and a proposal."""
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    push(
        enrolled["clients"]["S01"],
        [envelope("S01", 1, "member.created", _member(a, "S01-1", phone="+49301"))],
    )
    push(
        enrolled["clients"]["S02"],
        [envelope("S02", 1, "member.created", _member(b, "S02-1", phone="+49301"))],
    )
    return Member.objects.get(pk=a), Member.objects.get(pk=b), MemberMergeProposal.objects.get()


def test_a_merge_decided_by_head_office_is_relayed_to_every_store(enrolled):
    from cloud.sync.services import member_merge_proposal_accept
    from tests.cloud.sync.conftest import pull

    anna, dup, proposal = _duplicates(enrolled)
    head_office = make_user("head_office")

    member_merge_proposal_accept(proposal=proposal, survivor_id=anna.id, by=head_office)

    proposal.refresh_from_db()
    assert (proposal.outcome, proposal.survivor_id, proposal.resolved_by_id) == (
        "merged",
        anna.id,
        head_office.id,
    )
    for code in ("S01", "S02"):
        merges = [
            e for e in pull(enrolled["clients"][code], 0).json()["events"] if e["type"] == "member.merged"
        ]
        assert [(m["payload"]["id"], m["payload"]["survivor_id"]) for m in merges] == [
            (str(dup.id), str(anna.id))
        ]


def test_points_and_edits_a_store_made_offline_for_the_merged_member_land_on_the_survivor(enrolled):
    from cloud.sync.services import member_merge_proposal_accept
    from retail.members.services import points_entry_record

    # given the merge at head office, anna holding 50 points
    anna, dup, proposal = _duplicates(enrolled)
    points_entry_record(member_id=anna.id, kind="earn", points=50, origin="cloud")
    member_merge_proposal_accept(proposal=proposal, survivor_id=anna.id, by=None)
    # when S02, offline meanwhile, pushes a redemption of 80 on the duplicate's card and a new e-mail
    # entered after the merge (its clock a second later than head office's)
    redeem = {"id": str(uuid.uuid4()), "member_id": str(dup.id), "kind": "redeem", "points": -80}
    edit = {"id": str(dup.id), "fields": {"email": "anna@example.com"}}
    later = hlc.pack(hlc.now_millis() + 1000)
    push(
        enrolled["clients"]["S02"],
        [
            envelope("S02", 2, "points.posted", redeem),
            envelope("S02", 3, "member.updated", edit, stamp=later),
        ],
    )
    # then the survivor's balance and profile take them, and its overdraw is recorded
    anna.refresh_from_db()
    assert (anna.points_balance, anna.email) == (-30, "anna@example.com")
    overdraw = PointsOverdraw.objects.get()
    assert (overdraw.member_id, overdraw.balance, overdraw.origin) == (anna.id, -30, "S02")


def test_a_third_member_with_the_phone_is_proposed_against_the_survivor_only(enrolled):
    from cloud.sync.services import member_merge_proposal_accept

    anna, dup, proposal = _duplicates(enrolled)
    member_merge_proposal_accept(proposal=proposal, survivor_id=anna.id, by=None)

    third = str(uuid.uuid4())
    push(
        enrolled["clients"]["S01"],
        [envelope("S01", 2, "member.created", _member(third, "S01-2", phone="+49301"))],
    )

    open_ = MemberMergeProposal.objects.filter(resolved_at__isnull=True)
    assert list(open_.values_list("member_id", "duplicate__number")) == [(anna.id, "S01-2")]


def test_accepting_moves_the_losers_other_proposals_to_the_survivor(enrolled):
    from cloud.sync.services import member_merge_proposal_accept

    anna, dup, proposal = _duplicates(enrolled)
    third = make_member(phone="+49301")
    other = MemberMergeProposal.objects.create(member=dup, duplicate=third, matched_on="phone")
    again = MemberMergeProposal.objects.create(member=dup, duplicate=anna, matched_on="email")

    member_merge_proposal_accept(proposal=proposal, survivor_id=anna.id, by=None)

    other.refresh_from_db()
    again.refresh_from_db()
    assert (other.member_id, other.duplicate_id, other.resolved_at) == (anna.id, third.id, None)
    assert (again.outcome, again.resolved_at is not None) == ("merged", True)


def test_a_decided_proposal_or_a_third_survivor_is_refused_and_changes_nothing(enrolled):
    from cloud.sync.services import member_merge_proposal_accept, member_merge_proposal_dismiss
    from retail.api_errors import DomainError

    anna, dup, proposal = _duplicates(enrolled)
    with pytest.raises(DomainError) as third:
        member_merge_proposal_accept(proposal=proposal, survivor_id=make_member().id, by=None)
    member_merge_proposal_dismiss(proposal=proposal, by=None)
    with pytest.raises(DomainError) as decided:
        member_merge_proposal_accept(proposal=proposal, survivor_id=anna.id, by=None)

    assert (third.value.code, decided.value.code) == ("survivor_invalid", "proposal_resolved")
    assert not Member.objects.filter(merged_into__isnull=False).exists()
    assert not Event.objects.filter(type="member.merged").exists()
