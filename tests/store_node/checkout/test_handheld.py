"""Staff on a handheld: signing in (the till's PIN check and lockout), counting and posting a count."""

from decimal import Decimal

import pytest

from retail.api_errors import Invalid, NotFound, PermissionRefused
from retail.audit.models import AuditEntry
from retail.outbox.models import Event
from retail.staff.models import Role
from retail.stock.models import StockLevel, StockMovement
from retail.stock.services import stock_move
from store_node.checkout.selectors import handheld_staff_get
from store_node.checkout.services.handheld import (
    CountLine,
    CountSheet,
    count_scan,
    count_set,
    count_sheet_post,
    handheld_login,
    stock_count_post,
)
from store_node.checkout.services.terminal_login import PinRefused, terminal_login
from tests.factories import make_product, make_store, make_user

pytestmark = pytest.mark.django_db


def test_a_cashier_signs_in_with_the_staff_number_and_pin(till):
    assert handheld_login(store_id=till.store.id, username=" c101 ", pin="1111") == till.cashier


@pytest.mark.parametrize(
    ("username", "pin", "error", "code"),
    [
        ("", "1111", Invalid, "login_incomplete"),
        ("c101", "", Invalid, "login_incomplete"),
        ("c999", "1111", NotFound, "unknown_staff"),
        ("c101", "9999", PinRefused, "pin_invalid"),
    ],
)
def test_a_sign_in_is_refused_with_the_reason(till, username, pin, error, code):
    with pytest.raises(error) as refused:
        handheld_login(store_id=till.store.id, username=username, pin=pin)

    assert refused.value.code == code


def test_staff_of_another_store_and_an_analyst_may_not_sign_in(till):
    make_user(Role.CASHIER, make_store("S09"), pin="1111", username="x901")
    make_user(Role.ANALYST, till.store, pin="4444", username="a101")

    with pytest.raises(PermissionRefused) as other_store:
        handheld_login(store_id=till.store.id, username="x901", pin="1111")
    with pytest.raises(PermissionRefused) as analyst:
        handheld_login(store_id=till.store.id, username="a101", pin="4444")

    assert other_store.value.code == "wrong_store"
    assert (analyst.value.code, analyst.value.detail) == (
        "role_refused",
        "a101 may not use the handheld: it is for cashiers and above",
    )


def test_wrong_pins_on_the_handheld_lock_the_till_login_too(till):
    # given four wrong PINs on the handheld
    for left in (4, 3, 2, 1):
        with pytest.raises(PinRefused) as refused:
            handheld_login(store_id=till.store.id, username="c101", pin="0000")
        assert refused.value.detail == f"Wrong PIN for c101: {left} attempt{'s' if left > 1 else ''} left"

    # when the fifth is wrong too, then the account is locked, on the handheld and at the till
    with pytest.raises(PermissionRefused) as locked:
        handheld_login(store_id=till.store.id, username="c101", pin="0000")
    with pytest.raises(PermissionRefused) as at_the_till:
        terminal_login(terminal=till.terminal, username="c101", pin="1111")
    with pytest.raises(PermissionRefused) as on_the_handheld:
        handheld_login(store_id=till.store.id, username="c101", pin="1111")

    assert locked.value.detail == "Wrong PIN: c101 is now locked for 15 minutes"
    assert at_the_till.value.code == on_the_handheld.value.code == "pin_locked"
    assert "ask a manager to unlock" in on_the_handheld.value.detail


def test_the_signed_in_staff_member_is_found_while_still_allowed(till):
    assert handheld_staff_get(staff_id=till.cashier.id, store_id=till.store.id) == till.cashier

    till.cashier.is_active = False
    till.cashier.save()

    assert handheld_staff_get(staff_id=till.cashier.id, store_id=till.store.id) is None
    assert handheld_staff_get(staff_id=till.supervisor.id, store_id=make_store("S09").id) is None


@pytest.fixture
def shelf(till):
    """Apples (10 on the book) and bread (4 on the book) at the till's store."""
    apples, bread = make_product(name="Apples"), make_product(name="Bread")
    stock_move(store_id=till.store.id, product_id=apples.id, kind="receipt", quantity=Decimal("10"))
    stock_move(store_id=till.store.id, product_id=bread.id, kind="receipt", quantity=Decimal("4"))
    return {apples.id: Decimal("7"), bread.id: Decimal("4")}


def _counted_notes() -> list[str]:
    return [e.payload["note"] for e in Event.objects.filter(type="stock.counted").order_by("seq")]


def test_a_supervisor_posts_a_count_and_is_named_in_its_events_movements_and_audit(till, shelf):
    posted = stock_count_post(store=till.store, counts=shelf, counted_by=till.supervisor)

    assert (posted.lines, posted.moved, posted.approver) == (2, 1, None)
    assert _counted_notes() == ["counted by s101", "counted by s101"]
    assert list(StockMovement.objects.filter(kind="count").values_list("quantity", "note")) == [
        (Decimal("-3.000"), "counted by s101")
    ]
    entry = AuditEntry.objects.get(action="stock_count")
    assert (entry.actor, entry.approver, entry.subject, entry.details) == (
        till.supervisor,
        None,
        posted.reference,
        {"lines": 2, "moved": 1},
    )


def test_a_cashiers_count_is_posted_with_a_supervisors_pin(till, shelf):
    posted = stock_count_post(
        store=till.store,
        counts=shelf,
        counted_by=till.cashier,
        approval={"username": "s101", "pin": "2222"},
    )

    assert posted.approver == till.supervisor
    assert _counted_notes() == ["counted by c101, approved by s101"] * 2
    entry = AuditEntry.objects.get(action="stock_count")
    assert (entry.actor, entry.approver) == (till.cashier, till.supervisor)


@pytest.mark.parametrize(
    ("approval", "code"),
    [
        (None, "approval_required"),
        ({"username": "c101", "pin": "1111"}, "approval_rank"),
        ({"username": "s101", "pin": "0000"}, "pin_invalid"),
    ],
)
def test_a_cashier_alone_cannot_post_a_count_and_nothing_moves(till, shelf, approval, code):
    with pytest.raises(PermissionRefused if code != "pin_invalid" else PinRefused) as refused:
        stock_count_post(store=till.store, counts=shelf, counted_by=till.cashier, approval=approval)

    assert refused.value.code == code
    assert not Event.objects.filter(type="stock.counted").exists()
    assert not AuditEntry.objects.filter(action="stock_count").exists()
    assert sorted(StockLevel.objects.values_list("on_hand", flat=True)) == [Decimal("4"), Decimal("10")]


def test_an_empty_sheet_is_refused(till):
    with pytest.raises(Invalid) as refused:
        stock_count_post(store=till.store, counts={}, counted_by=till.supervisor)

    assert refused.value.code == "count_empty"


def test_a_lines_book_is_the_one_when_its_count_began_and_a_typed_count_takes_it_again(till):
    # given 10 tuna on the book, scanned once
    tuna = make_product(name="Tuna", sku="TUNA")
    stock_move(store_id=till.store.id, product_id=tuna.id, kind="receipt", quantity=Decimal("10"))
    sheet = CountSheet()
    count_scan(store=till.store, sheet=sheet, code="TUNA")

    # when a till sells one and the next scan comes
    stock_move(store_id=till.store.id, product_id=tuna.id, kind="sale", quantity=Decimal("-1"))
    scanned = count_scan(store=till.store, sheet=sheet, code="TUNA")
    # and when a count is typed after another sale
    stock_move(store_id=till.store.id, product_id=tuna.id, kind="sale", quantity=Decimal("-1"))
    typed = count_set(store=till.store, sheet=sheet, product_id=tuna.id, counted="7")

    # then the scans added up against the book of the first scan; the typed count is against the
    # book when it was typed
    assert scanned.line == CountLine(counted=Decimal("2"), book=Decimal("10.000"))
    assert scanned.added == Decimal("1")
    assert typed.line == CountLine(counted=Decimal("7"), book=Decimal("8.000"))
    assert typed.added is None


def test_a_sheet_survives_its_round_trip_through_the_session_and_reads_the_old_form(till):
    tuna, milk = make_product(name="Tuna"), make_product(name="Milk")
    sheet = CountSheet()
    sheet.put(tuna.id, CountLine(counted=Decimal("3"), book=Decimal("10.000")))
    sheet.put(milk.id, CountLine(counted=Decimal("1.5"), book=None))

    again = CountSheet(sheet.as_data())
    old = CountSheet({str(tuna.id): "7", "not a product id": "1"})

    assert again.lines == sheet.lines and list(again.lines) == [tuna.id, milk.id]
    assert old.lines == {tuna.id: CountLine(counted=Decimal("7"), book=None)}


def test_refusals_leave_the_sheet_as_it_was(till):
    make_product(name="Tuna 200 g", sku="TUNA-200")
    make_product(name="Tuna 400 g", sku="TUNA-400")
    sheet = CountSheet()

    for code, refusal in [
        ("", "code_missing"),
        ("tuna", "code_ambiguous"),
        ("4000000000018", "barcode_invalid"),
        ("no such thing", "unknown_barcode"),
    ]:
        with pytest.raises((Invalid, NotFound)) as refused:
            count_scan(store=till.store, sheet=sheet, code=code)
        assert refused.value.code == refusal
    with pytest.raises(NotFound):
        count_set(store=till.store, sheet=sheet, product_id="nonsense", counted="1")

    assert len(sheet) == 0


def test_posting_a_sheet_counts_each_line_against_its_own_book(till):
    # given tuna counted at 8 against a book of 10, then one sold before the post
    tuna = make_product(name="Tuna", sku="TUNA")
    stock_move(store_id=till.store.id, product_id=tuna.id, kind="receipt", quantity=Decimal("10"))
    sheet = CountSheet()
    count_set(store=till.store, sheet=sheet, product_id=tuna.id, counted="8")
    stock_move(store_id=till.store.id, product_id=tuna.id, kind="sale", quantity=Decimal("-1"))

    posted = count_sheet_post(store=till.store, sheet=sheet, counted_by=till.supervisor)

    assert (posted.lines, posted.moved) == (1, 1)
    assert StockMovement.objects.get(kind="count").quantity == Decimal("-2")
    assert StockLevel.objects.get(store=till.store, product=tuna).on_hand == Decimal("7")
