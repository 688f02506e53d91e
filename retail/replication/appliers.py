"""Apply one remote event at this node, by type, with the merge rules of docs/sync-protocol.md.

Both roles use these. They write rows through the domain's ``*_record`` functions and plain model
writes and never append an event: a remote fact is recorded, not re-announced under our origin.

Merge rules kept here:
- sales, returns, shifts: immutable facts, inserted once by id, never merged;
- stock: a movement is inserted once by id and moves the level by its signed quantity, so the
  level is the sum of movements whatever order they arrive in (counts travel as differences);
- points: a ledger entry is inserted once by id and moves the balance; overdraws are reported,
  never refused;
- member profile: per field, the write with the greatest ``(hlc, origin)`` wins; a stamp further
  ahead of our wall clock than ``max_skew_ms`` is refused (quarantined), not trusted;
- member merges (head office's): the loser points at the survivor, which takes the LWW join of
  both profiles and the sum of both ledgers; a later write or points for the loser land on the
  survivor too, so every order of arrival ends the same (``retail.members.services``);
- catalog, prices, taxes, stores, staff: head office's; applied as upserts by id.

Every applier is idempotent on its own (safe to re-apply after a snapshot), besides the
receiver's per-origin high-water mark.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.dateparse import parse_datetime

from retail.api_errors import DomainError
from retail.catalog.models import Barcode, Price, Product, TaxClass, TaxRate
from retail.members.models import Member, PointsEntry, PointsKind
from retail.members.selectors import member_survivor_id
from retail.members.services import (
    member_fields_lww,
    member_merge_record,
    member_profile_write,
    points_entry_record,
    stamp_newer,
)
from retail.outbox import hlc as hlc_clock
from retail.outbox.models import Event
from retail.outbox.services import node_origin
from retail.replication.errors import (
    CLOCK_SKEW,
    INVALID_PAYLOAD,
    MISSING_REFERENCE,
    NOT_OWNER,
    UNIQUE_CONFLICT,
    ApplyRefused,
)
from retail.replication.upcast import upcast
from retail.replication.wire import CLOUD_ORIGIN, Envelope
from retail.sales.models import Sale, SaleDiscount, SaleKind, SaleLine, SaleStatus, SaleTaxLine, Tender
from retail.shifts.models import CashMovement, Shift, ShiftStatus
from retail.staff.models import User
from retail.stock.models import MovementKind, StockLevel, StockMovement
from retail.stock.services import StockError, stock_movement_record
from retail.stores.models import Store, Terminal

# How far ahead of the receiver's wall clock a member write's clock may be (10 minutes).
DEFAULT_MAX_SKEW_MS = 10 * 60 * 1000

# Types only head office may write; a store sending one is refused (quarantined) as not_owner.
HEAD_OFFICE_TYPES = frozenset(
    {
        "product.updated",
        "price.set",
        "tax.rate_set",
        "store.updated",
        "staff.updated",
        "transfer.sent",
        "member.merged",
        "stock.levels",
        "points.balances",
    }
)


class ApplyHooks:
    """What the receiving role does besides the rows: the cloud flags oversells, overdraws, duplicates
    and rolls sales up; a store does nothing more. Called inside the apply transaction."""

    def sale_applied(self, *, sale: Sale, env: Envelope, lines=None, tenders=None) -> None:
        """A sale was recorded. The set-based path also gives what it wrote, so the receiver need not
        read it back: ``lines`` as (product_id, quantity, line_total, voided), ``tenders`` as (kind,
        amount, change, approved); None when not given."""

    def stock_moved(self, *, store_id, product_id, env: Envelope) -> None:
        pass

    def stock_levels_moved(self, *, moved: dict[tuple, Envelope], levels: dict | None = None) -> None:
        """Many (store, product) levels moved at once; ``moved`` maps each to its last movement out of
        the store (or its first, when none went out), ``levels`` to its level after (None: not known)."""
        for (store_id, product_id), env in moved.items():
            self.stock_moved(store_id=store_id, product_id=product_id, env=env)

    def points_posted(self, *, member_id, env: Envelope) -> None:
        pass

    def points_balances_moved(self, *, posted: list[tuple]) -> None:
        """Many entries posted at once (``retail.replication.bulk``): ``posted`` holds, in ``seq`` order,
        ``(member_id, survivor_id, balance, env)``, ``balance`` being the survivor's right after that
        entry, as the one-by-one path would have seen it."""
        for member_id, _survivor_id, _balance, env in posted:
            self.points_posted(member_id=member_id, env=env)

    def member_created(self, *, member: Member, env: Envelope) -> None:
        pass


@dataclass
class ApplyContext:
    hooks: ApplyHooks = field(default_factory=ApplyHooks)
    # The Store row of the event's origin (None for head office's own events).
    origin_store_id: Any = None
    max_skew_ms: int = DEFAULT_MAX_SKEW_MS
    now_ms: Callable[[], int] = hlc_clock.now_millis
    # A ``retail.replication.bulk.BalancesLater``: the set-based path then keeps the balances it
    # moves for ``balances_flush`` at the end of the caller's transaction instead of writing them at
    # once (None: at once). Member rows are the ones every store's batches share; written last,
    # they stay locked only until the commit.
    balances_later: Any = None


# ---------------------------------------------------------------- payload helpers


def _dec(p: dict, key: str) -> Decimal:
    raw = p[key]
    if not isinstance(raw, str):
        raise ApplyRefused(INVALID_PAYLOAD, f"{key} must be a decimal string, got {raw!r}")
    try:
        return Decimal(raw)
    except InvalidOperation as exc:
        raise ApplyRefused(INVALID_PAYLOAD, f"{key} is not a decimal: {raw!r}") from exc


def _dec_or_none(p: dict, key: str) -> Decimal | None:
    return None if p.get(key) is None else _dec(p, key)


def _dt(p: dict, key: str) -> datetime:
    value = parse_datetime(str(p[key])) if p.get(key) else None
    if value is None:
        raise ApplyRefused(INVALID_PAYLOAD, f"{key} must be an ISO 8601 time")
    return value


def _dt_or_none(p: dict, key: str) -> datetime | None:
    return _dt(p, key) if p.get(key) else None


def _uuid(p: dict, key: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(p[key]))
    except ValueError as exc:
        raise ApplyRefused(INVALID_PAYLOAD, f"{key} must be a UUID") from exc


def _uuid_or_none(p: dict, key: str) -> uuid.UUID | None:
    return _uuid(p, key) if p.get(key) else None


def _require(model, pk, what: str) -> None:
    if pk is not None and not model.objects.filter(pk=pk).exists():
        raise ApplyRefused(MISSING_REFERENCE, f"{what} {pk} does not exist here")


def _own_store(p: dict, ctx: ApplyContext, key: str = "store_id") -> uuid.UUID:
    store_id = _uuid(p, key)
    if ctx.origin_store_id is not None and store_id != ctx.origin_store_id:
        raise ApplyRefused(NOT_OWNER, f"a store may only record facts of its own store, not {store_id}")
    _require(Store, store_id, "store")
    return store_id


# ---------------------------------------------------------------- sales and shifts


def _sale_completed(env: Envelope, ctx: ApplyContext) -> None:
    p = env.payload
    sale_id = _uuid(p, "id")
    if Sale.objects.filter(pk=sale_id).exists():
        return
    store_id = _own_store(p, ctx)
    terminal_id, cashier_id = _uuid(p, "terminal_id"), _uuid(p, "cashier_id")
    shift_id, member_id = _uuid_or_none(p, "shift_id"), _uuid_or_none(p, "member_id")
    original_id = _uuid_or_none(p, "original_sale_id")
    _require(Terminal, terminal_id, "terminal")
    _require(User, cashier_id, "cashier")
    _require(Shift, shift_id, "shift")
    _require(Member, member_id, "member")
    _require(Sale, original_id, "original sale")
    if p.get("kind", SaleKind.SALE) not in SaleKind.values:
        raise ApplyRefused(INVALID_PAYLOAD, f"kind {p.get('kind')!r}")
    completed_at = _dt(p, "completed_at")
    sale = Sale.objects.create(
        id=sale_id,
        kind=p.get("kind", SaleKind.SALE),
        status=SaleStatus.COMPLETED,
        store_id=store_id,
        terminal_id=terminal_id,
        shift_id=shift_id,
        cashier_id=cashier_id,
        member_id=member_id,
        original_sale_id=original_id,
        receipt_number=p.get("receipt_number"),
        subtotal=_dec(p, "subtotal"),
        discount_total=_dec(p, "discount_total"),
        tax_total=_dec(p, "tax_total"),
        total=_dec(p, "total"),
        cash_rounding=_dec(p, "cash_rounding"),
        points_earned=int(p.get("points_earned") or 0),
        created_at=_dt(p, "created_at"),
        completed_at=completed_at,
    )
    lines = p.get("lines") or []
    product_ids = {_uuid(line, "product_id") for line in lines}
    known = set(Product.objects.filter(pk__in=product_ids).values_list("pk", flat=True))
    if product_ids - known:
        raise ApplyRefused(MISSING_REFERENCE, f"products {sorted(map(str, product_ids - known))} unknown")
    SaleLine.objects.bulk_create(
        [
            SaleLine(
                id=_uuid(line, "id"),
                sale=sale,
                position=int(line["position"]),
                product_id=_uuid(line, "product_id"),
                sku=line.get("sku", ""),
                description=line.get("description", ""),
                barcode=line.get("barcode") or "",
                quantity=_dec(line, "quantity"),
                unit_price=_dec(line, "unit_price"),
                line_discount=_dec(line, "line_discount"),
                sale_discount_share=_dec(line, "sale_discount_share"),
                line_total=_dec(line, "line_total"),
                tax_class=line["tax_class"],
                tax_rate=_dec(line, "tax_rate"),
                voided=bool(line.get("voided", False)),
                original_line_id=_uuid_or_none(line, "original_line_id"),
                restock=bool(line.get("restock", True)),
            )
            for line in lines
        ]
    )
    SaleDiscount.objects.bulk_create(
        [
            SaleDiscount(
                sale=sale,
                kind=d["kind"],
                value=_dec(d, "value"),
                amount=_dec(d, "amount"),
                reason=d.get("reason", ""),
            )
            for d in p.get("discounts") or []
        ]
    )
    SaleTaxLine.objects.bulk_create(
        [
            SaleTaxLine(
                sale=sale,
                tax_class=t["tax_class"],
                rate=_dec(t, "rate"),
                taxable=_dec(t, "taxable"),
                tax=_dec(t, "tax"),
            )
            for t in p.get("tax_lines") or []
        ]
    )
    Tender.objects.bulk_create(
        [
            Tender(
                id=_uuid(t, "id"),
                sale=sale,
                kind=t["kind"],
                amount=_dec(t, "amount"),
                tendered=_dec_or_none(t, "tendered"),
                change=_dec_or_none(t, "change") or Decimal("0"),
                reference=t.get("reference") or "",
                approved=bool(t.get("approved", True)),
                points=int(t.get("points") or 0),
                created_at=_dt_or_none(t, "created_at") or completed_at,
            )
            for t in p.get("tenders") or []
        ]
    )
    ctx.hooks.sale_applied(sale=sale, env=env)


def _sale_cancelled(env: Envelope, ctx: ApplyContext) -> None:
    # An open sale never left the store; its cancellation is kept in the event log only.
    _uuid(env.payload, "id")


def _shift_opened(env: Envelope, ctx: ApplyContext) -> None:
    p = env.payload
    shift_id = _uuid(p, "id")
    if Shift.objects.filter(pk=shift_id).exists():
        return
    store_id = _own_store(p, ctx)
    terminal_id, cashier_id = _uuid(p, "terminal_id"), _uuid(p, "cashier_id")
    _require(Terminal, terminal_id, "terminal")
    _require(User, cashier_id, "cashier")
    Shift.objects.create(
        id=shift_id,
        store_id=store_id,
        terminal_id=terminal_id,
        cashier_id=cashier_id,
        opened_at=_dt(p, "opened_at"),
        opening_float=_dec(p, "opening_float"),
    )


def _shift_cash_moved(env: Envelope, ctx: ApplyContext) -> None:
    p = env.payload
    movement_id, shift_id, staff_id = _uuid(p, "id"), _uuid(p, "shift_id"), _uuid(p, "staff_id")
    if CashMovement.objects.filter(pk=movement_id).exists():
        return
    _require(Shift, shift_id, "shift")
    _require(User, staff_id, "staff")
    CashMovement.objects.create(
        id=movement_id,
        shift_id=shift_id,
        kind=p["kind"],
        amount=_dec(p, "amount"),
        reason=p.get("reason", ""),
        staff_id=staff_id,
        created_at=_dt(p, "created_at"),
    )


def _shift_closed(env: Envelope, ctx: ApplyContext) -> None:
    p = env.payload
    shift_id = _uuid(p, "id")
    _require(Shift, shift_id, "shift")
    Shift.objects.filter(pk=shift_id).update(
        status=ShiftStatus.CLOSED,
        closed_at=_dt(p, "closed_at"),
        expected_cash=_dec_or_none(p, "expected_cash"),
        counted_cash=_dec_or_none(p, "counted_cash"),
        over_short=_dec_or_none(p, "over_short"),
        counted_denominations=p.get("counted_denominations") or {},
        z_report=p.get("z_report"),
    )


# ---------------------------------------------------------------- stock and points


def _movement(env: Envelope, ctx: ApplyContext, *, movement_id, kind, quantity, p: dict) -> None:
    if StockMovement.objects.filter(pk=movement_id).exists():
        return
    store_id = _own_store(p, ctx)
    product_id = _uuid(p, "product_id")
    _require(Product, product_id, "product")
    if kind not in MovementKind.values:
        raise ApplyRefused(INVALID_PAYLOAD, f"stock movement kind {kind!r}")
    try:
        stock_movement_record(
            store_id=store_id,
            product_id=product_id,
            kind=kind,
            quantity=quantity,
            reference=p.get("reference") or "",
            note=p.get("note") or "",
            origin=env.origin,
            created_at=_dt_or_none(p, "created_at")
            or datetime.fromtimestamp(hlc_clock.unpack(env.hlc)[0] / 1000, tz=UTC),
            movement_id=movement_id,
        )
    except StockError as exc:
        raise ApplyRefused(INVALID_PAYLOAD, str(exc)) from exc
    ctx.hooks.stock_moved(store_id=store_id, product_id=product_id, env=env)


def _stock_moved(env: Envelope, ctx: ApplyContext) -> None:
    p = env.payload
    _movement(env, ctx, movement_id=_uuid(p, "id"), kind=p["kind"], quantity=_dec(p, "quantity"), p=p)


def _stock_counted(env: Envelope, ctx: ApplyContext) -> None:
    p = env.payload
    movement_id = _uuid_or_none(p, "movement_id")
    if movement_id is None:  # the count matched the book: nothing moved
        return
    _movement(env, ctx, movement_id=movement_id, kind=MovementKind.COUNT, quantity=_dec(p, "difference"), p=p)


def _points_posted(env: Envelope, ctx: ApplyContext) -> None:
    p = env.payload
    entry_id, member_id = _uuid(p, "id"), _uuid(p, "member_id")
    if PointsEntry.objects.filter(pk=entry_id).exists():
        return
    _require(Member, member_id, "member")
    points = p["points"]
    if not isinstance(points, int) or isinstance(points, bool) or p["kind"] not in PointsKind.values:
        raise ApplyRefused(INVALID_PAYLOAD, "points must be an integer of a known kind")
    try:
        points_entry_record(
            member_id=member_id,
            kind=p["kind"],
            points=points,
            origin=env.origin,
            sale_id=_uuid_or_none(p, "sale_id"),
            reason=p.get("reason") or "",
            created_at=_dt_or_none(p, "created_at"),
            entry_id=entry_id,
        )
    except DomainError as exc:
        raise ApplyRefused(INVALID_PAYLOAD, exc.detail) from exc
    ctx.hooks.points_posted(member_id=member_id, env=env)


# ---------------------------------------------------------------- other stores' levels and balances


def _stock_levels(env: Envelope, ctx: ApplyContext) -> None:
    """Another store's levels as head office published them: this node's copy of each is set to
    it, the difference recorded as a ``count`` movement of origin ``cloud`` (so the level is still
    the sum of its movements). Idempotent: applied again, every difference is zero. A node's own
    store's levels are its own ledger's and are never overwritten."""
    p = env.payload
    store_id = _uuid(p, "store_id")
    store = Store.objects.filter(pk=store_id).values_list("code", flat=True).first()
    if store is None:
        raise ApplyRefused(MISSING_REFERENCE, f"store {store_id} is unknown here")
    if store == node_origin():
        return
    levels: dict[uuid.UUID, Decimal] = {}
    for product_id, on_hand in p["levels"]:
        levels[uuid.UUID(str(product_id))] = _dec({"on_hand": on_hand}, "on_hand")
    known = set(Product.objects.filter(id__in=levels).values_list("id", flat=True))
    held = dict(
        StockLevel.objects.filter(store_id=store_id, product_id__in=known).values_list(
            "product_id", "on_hand"
        )
    )
    at = datetime.fromtimestamp(hlc_clock.unpack(env.hlc)[0] / 1000, tz=UTC)
    for product_id, on_hand in levels.items():
        difference = on_hand - held.get(product_id, Decimal(0))
        if product_id not in known or not difference:
            continue  # a product this node does not carry yet arrives with its product.updated
        stock_movement_record(
            store_id=store_id,
            product_id=product_id,
            kind=MovementKind.COUNT,
            quantity=difference,
            reference="level at head office",
            origin=CLOUD_ORIGIN,
            created_at=at,
            movement_id=uuid.uuid5(env.id, str(product_id)),
        )


def _points_balances(env: Envelope, ctx: ApplyContext) -> None:
    """Members' balances as head office published them, each holding every store's entries up to
    that store's ``acks`` seq: this node sets each member's balance to it plus its own entries
    after its ack (not in it yet), the difference recorded as an ``adjust`` entry of origin
    ``cloud``. Idempotent: applied again, every difference is zero."""
    p = env.payload
    acked = int(p["acks"].get(node_origin(), 0))
    balances = {uuid.UUID(str(member_id)): int(balance) for member_id, balance in p["balances"]}
    pending: dict[uuid.UUID, int] = {}
    for payload in Event.objects.filter(
        origin=node_origin(), type="points.posted", seq__gt=acked
    ).values_list("payload", flat=True):
        survivor = member_survivor_id(member_id=uuid.UUID(str(payload["member_id"])))
        pending[survivor] = pending.get(survivor, 0) + int(payload["points"])
    held = dict(
        Member.objects.filter(id__in=balances, merged_into__isnull=True).values_list("id", "points_balance")
    )
    at = datetime.fromtimestamp(hlc_clock.unpack(env.hlc)[0] / 1000, tz=UTC)
    for member_id, balance in balances.items():
        if member_id not in held:
            continue  # not here yet (its member.created is on its way), or merged here already
        difference = balance + pending.get(member_id, 0) - held[member_id]
        if difference:
            points_entry_record(
                member_id=member_id,
                kind=PointsKind.ADJUST,
                points=difference,
                origin=CLOUD_ORIGIN,
                reason="balance at head office",
                created_at=at,
                entry_id=uuid.uuid5(env.id, str(member_id)),
            )


# ---------------------------------------------------------------- members (LWW per field)

_BOOL_FIELDS = {"consent_marketing", "consent_email", "consent_sms"}


def _member_fields(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict) or set(raw) - set(Member.PROFILE_FIELDS):
        raise ApplyRefused(INVALID_PAYLOAD, "fields must be an object of member profile fields")
    for name, value in raw.items():
        ok = isinstance(value, bool) if name in _BOOL_FIELDS else (value is None or isinstance(value, str))
        if not ok or (value is None and name != "card_barcode"):
            raise ApplyRefused(INVALID_PAYLOAD, f"member field {name} has a value of the wrong type")
    return raw


def _check_skew(env: Envelope, ctx: ApplyContext) -> None:
    ahead = hlc_clock.unpack(env.hlc)[0] - ctx.now_ms()
    if ahead > ctx.max_skew_ms:
        raise ApplyRefused(
            CLOCK_SKEW, f"clock of {env.origin} is {ahead} ms ahead of ours (bound {ctx.max_skew_ms} ms)"
        )


def _card_free(member: Member, fields: dict[str, Any], stamp: tuple[int, str]) -> None:
    card = fields.get("card_barcode")
    if card and stamp_newer(stamp, (member.field_clocks or {}).get("card_barcode")):
        if Member.objects.filter(card_barcode=card).exclude(pk=member.pk).exists():
            raise ApplyRefused(UNIQUE_CONFLICT, f"card {card} belongs to another member")


def member_fields_merge(member: Member, fields: dict[str, Any], stamp: tuple[int, str]) -> list[str]:
    """Apply the fields that win by ``(hlc, origin)``; returns the names that changed."""
    _card_free(member, fields, stamp)
    return member_fields_lww(member, fields, stamp)


def _member_created(env: Envelope, ctx: ApplyContext) -> None:
    p = env.payload
    member_id, fields = _uuid(p, "id"), _member_fields(p.get("fields"))
    _check_skew(env, ctx)
    stamp = (env.hlc, env.origin)
    member = Member.objects.select_for_update().filter(pk=member_id).first()
    if member is not None:
        _card_free(member, fields, stamp)
        member_profile_write(member=member, fields=fields, stamp=stamp)
        return
    number = p.get("number")
    if not isinstance(number, str) or not number:
        raise ApplyRefused(INVALID_PAYLOAD, "number must be a non-empty string")
    if Member.objects.filter(number=number).exists():
        raise ApplyRefused(UNIQUE_CONFLICT, f"member number {number} already belongs to another member")
    member = Member(id=member_id, number=number, origin=env.origin, field_clocks={})
    member_fields_merge(member, fields, stamp)
    member.save(force_insert=True)
    ctx.hooks.member_created(member=member, env=env)


def _member_updated(env: Envelope, ctx: ApplyContext) -> None:
    p = env.payload
    member_id, fields = _uuid(p, "id"), _member_fields(p.get("fields"))
    _check_skew(env, ctx)
    # Locked (PostgreSQL) so a merge committing meanwhile is seen: the write then reaches the survivor.
    member = Member.objects.select_for_update().filter(pk=member_id).first()
    if member is None:
        raise ApplyRefused(MISSING_REFERENCE, f"member {member_id} does not exist here")
    stamp = (env.hlc, env.origin)
    _card_free(member, fields, stamp)
    member_profile_write(member=member, fields=fields, stamp=stamp)


def _member_merged(env: Envelope, ctx: ApplyContext) -> None:
    p = env.payload
    loser_id, survivor_id = _uuid(p, "id"), _uuid(p, "survivor_id")
    fields = _member_fields(p.get("fields"))
    if "card_barcode" in fields:
        raise ApplyRefused(INVALID_PAYLOAD, "a merge does not move a card")
    _check_skew(env, ctx)
    for member_id in (loser_id, survivor_id):
        _require(Member, member_id, "member")
    try:
        member_merge_record(
            loser_id=loser_id,
            survivor_id=survivor_id,
            fields=fields,
            stamp=(env.hlc, env.origin),
            merged_at=_dt_or_none(p, "merged_at"),
        )
    except DomainError as exc:
        raise ApplyRefused(INVALID_PAYLOAD, exc.detail) from exc


# ---------------------------------------------------------------- head office's data


def _product_updated(env: Envelope, ctx: ApplyContext) -> None:
    p = env.payload
    product_id = _uuid(p, "id")
    if Product.objects.filter(sku=p["sku"]).exclude(pk=product_id).exists():
        raise ApplyRefused(UNIQUE_CONFLICT, f"sku {p['sku']} belongs to another product here")
    TaxClass.objects.get_or_create(code=p["tax_class"], defaults={"name": p["tax_class"]})
    product, _ = Product.objects.update_or_create(
        id=product_id,
        defaults={
            "sku": p["sku"],
            "name": p["name"],
            "unit": p.get("unit", "each"),
            "tax_class_id": p["tax_class"],
            "active": bool(p.get("active", True)),
        },
    )
    codes = [str(c) for c in p.get("barcodes") or []]
    Barcode.objects.filter(product=product).exclude(code__in=codes).delete()
    Barcode.objects.filter(code__in=codes).exclude(product=product).update(product=product)
    Barcode.objects.bulk_create([Barcode(code=c, product=product) for c in codes], ignore_conflicts=True)


def _price_set(env: Envelope, ctx: ApplyContext) -> None:
    p = env.payload
    price_id, product_id, store_id = _uuid(p, "id"), _uuid(p, "product_id"), _uuid_or_none(p, "store_id")
    _require(Product, product_id, "product")
    _require(Store, store_id, "store")
    effective_from = _dt(p, "effective_from")
    Price.objects.filter(product_id=product_id, store_id=store_id, effective_from=effective_from).exclude(
        pk=price_id
    ).delete()
    Price.objects.update_or_create(
        id=price_id,
        defaults={
            "product_id": product_id,
            "store_id": store_id,
            "amount": _dec(p, "amount"),
            "effective_from": effective_from,
        },
    )


def _tax_rate_set(env: Envelope, ctx: ApplyContext) -> None:
    p = env.payload
    TaxClass.objects.get_or_create(code=p["tax_class"], defaults={"name": p["tax_class"]})
    TaxRate.objects.update_or_create(
        tax_class_id=p["tax_class"],
        effective_from=_dt(p, "effective_from"),
        defaults={"rate": _dec(p, "rate")},
    )


_STORE_FIELDS = ("code", "name", "address", "city", "postcode", "phone", "time_zone", "active")


def _store_updated(env: Envelope, ctx: ApplyContext) -> None:
    p = env.payload
    Store.objects.update_or_create(id=_uuid(p, "id"), defaults={k: p[k] for k in _STORE_FIELDS if k in p})


_TERMINAL_FIELDS = (
    "code",
    "name",
    "printer_address",
    "printer_profile",
    "paper_width_mm",
    "drawer_pin",
    "scanner_address",
    "active",
)


def _terminal_updated(env: Envelope, ctx: ApplyContext) -> None:
    p = env.payload
    store_id = _own_store(p, ctx)
    defaults = {k: p[k] for k in _TERMINAL_FIELDS if k in p and p[k] is not None}
    Terminal.objects.update_or_create(id=_uuid(p, "id"), defaults={"store_id": store_id, **defaults})


def _staff_updated(env: Envelope, ctx: ApplyContext) -> None:
    p = env.payload
    store_id = _uuid_or_none(p, "store_id")
    _require(Store, store_id, "store")
    user_id = _uuid(p, "id")
    if User.objects.filter(username=p["username"]).exclude(pk=user_id).exists():
        raise ApplyRefused(UNIQUE_CONFLICT, f"username {p['username']} belongs to another user here")
    User.objects.update_or_create(
        id=user_id,
        defaults={
            "username": p["username"],
            "first_name": p.get("first_name", ""),
            "last_name": p.get("last_name", ""),
            "role": p.get("role", "cashier"),
            "store_id": store_id,
            "pin_hash": p.get("pin_hash", ""),
            "is_active": bool(p.get("is_active", True)),
        },
    )


APPLIERS: dict[str, Callable[[Envelope, ApplyContext], None]] = {
    "sale.completed": _sale_completed,
    "sale.cancelled": _sale_cancelled,
    "stock.moved": _stock_moved,
    "stock.counted": _stock_counted,
    "member.created": _member_created,
    "member.updated": _member_updated,
    "member.merged": _member_merged,
    "points.posted": _points_posted,
    "stock.levels": _stock_levels,
    "points.balances": _points_balances,
    "product.updated": _product_updated,
    "price.set": _price_set,
    "tax.rate_set": _tax_rate_set,
    "shift.opened": _shift_opened,
    "shift.cash_moved": _shift_cash_moved,
    "shift.closed": _shift_closed,
    "store.updated": _store_updated,
    "terminal.updated": _terminal_updated,
    "staff.updated": _staff_updated,
}


def event_apply(*, env: Envelope, ctx: ApplyContext) -> None:
    """Apply one event in a savepoint of the caller's transaction, or raise ``ApplyRefused``.

    A refused event leaves no partial rows behind (its savepoint is rolled back). Errors that are
    not about the event (the database going away) propagate and abort the caller's whole batch.
    """
    payload = upcast(type=env.type, schema=env.schema, payload=env.payload)
    if env.type in HEAD_OFFICE_TYPES and env.origin != CLOUD_ORIGIN:
        raise ApplyRefused(NOT_OWNER, f"{env.type} is head office's; {env.origin} may not write it")
    if payload is not env.payload:
        env = Envelope(env.id, env.origin, env.seq, env.hlc, env.type, env.schema, payload, env.fseq)
    applier = APPLIERS.get(env.type)
    if applier is None:  # a type this role records but does not apply here: refused, never a stopped pull
        raise ApplyRefused("unknown_type", f"{env.type} has no applier at this node")
    try:
        with transaction.atomic():
            applier(env, ctx)
    except ApplyRefused:
        raise
    except IntegrityError as exc:
        raise ApplyRefused(UNIQUE_CONFLICT, str(exc)[:300]) from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ApplyRefused(INVALID_PAYLOAD, f"{type(exc).__name__}: {exc}"[:300]) from exc
