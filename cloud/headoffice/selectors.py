"""Head-office reads: whose data a member of staff may see, and a member's history in every channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Exists, Max, OuterRef, Q, Sum

from cloud.api.models import Order
from retail.catalog.models import Product
from retail.members.models import Member, PointsEntry
from retail.members.selectors import merged_set
from retail.money import to_money
from retail.sales.models import Sale, SaleStatus
from retail.staff.models import Role
from retail.stock.models import StockLevel
from retail.stores.models import Store

ALL_STORES = "all"
NO_STORE = "none"


def staff_store_scope(*, user):
    """``ALL_STORES`` for head office and analysts, the home store's id for store staff, else ``NO_STORE``."""
    if not user.is_authenticated or not user.is_active:
        return NO_STORE
    if user.is_superuser or user.role in (Role.HEAD_OFFICE, Role.ANALYST):
        return ALL_STORES
    return user.store_id or NO_STORE


def _scoped(qs, scope, path: str = "store"):
    if scope == ALL_STORES:
        return qs
    if scope == NO_STORE:
        return qs.none()
    return qs.filter(**{path: scope})


def _own_set(member: Member, path: str = "member") -> Q:
    # A member that is not merged answers for its merged set; a merged one for what was posted to it.
    if member.merged_into_id:
        return Q(**{f"{path}_id": member.pk})
    return merged_set(member_id=member.pk, path=path)


def _any_set(members: list[Member]) -> Q:
    condition = Q(pk__in=[])
    for member in members:
        condition |= _own_set(member)
    return condition


@dataclass(frozen=True)
class MemberSummary:
    """What head office compares before merging two members (each over its merged set)."""

    member: Member
    ledger_entries: int
    ledger_sum: int
    sales: int
    sales_total: Decimal
    orders: int
    last_purchase_at: datetime | None


def member_summaries(*, members: list[Member], scope=ALL_STORES) -> list[MemberSummary]:
    """One summary per member, in the order given, in three queries however long the histories."""
    keys = {member.pk: f"m{i}" for i, member in enumerate(members)}
    ledger = PointsEntry.objects.filter(_any_set(members)).aggregate(
        **{f"{k}_n": Count("id", filter=_own_set(m)) for m, k in ((m, keys[m.pk]) for m in members)},
        **{f"{k}_s": Sum("points", filter=_own_set(m)) for m, k in ((m, keys[m.pk]) for m in members)},
    )
    sales_qs = _scoped(Sale.objects.filter(_any_set(members), status=SaleStatus.COMPLETED), scope)
    sales = sales_qs.aggregate(
        **{f"{keys[m.pk]}_n": Count("id", filter=_own_set(m)) for m in members},
        **{f"{keys[m.pk]}_t": Sum("total", filter=_own_set(m)) for m in members},
        **{f"{keys[m.pk]}_at": Max("completed_at", filter=_own_set(m)) for m in members},
    )
    orders = _scoped(Order.objects.filter(_any_set(members)), scope).aggregate(
        **{f"{keys[m.pk]}_n": Count("id", filter=_own_set(m)) for m in members},
        **{f"{keys[m.pk]}_at": Max("created_at", filter=_own_set(m)) for m in members},
    )
    result = []
    for member in members:
        k = keys[member.pk]
        times = [t for t in (sales[f"{k}_at"], orders[f"{k}_at"]) if t is not None]
        result.append(
            MemberSummary(
                member=member,
                ledger_entries=ledger[f"{k}_n"],
                ledger_sum=ledger[f"{k}_s"] or 0,
                sales=sales[f"{k}_n"],
                sales_total=to_money(sales[f"{k}_t"] or 0),
                orders=orders[f"{k}_n"],
                last_purchase_at=max(times) if times else None,
            )
        )
    return result


@dataclass
class MemberHistory:
    """A member's history on its admin page: the merged set's ledger and purchases in every channel."""

    merged_members: list[Member] = field(default_factory=list)
    ledger: list[PointsEntry] = field(default_factory=list)
    ledger_count: int = 0
    sales: list[Sale] = field(default_factory=list)
    sales_count: int = 0
    sales_total: Decimal = Decimal("0.00")
    orders: list[Order] = field(default_factory=list)
    orders_count: int = 0


def member_history(*, member: Member, scope=ALL_STORES, limit: int = 50) -> MemberHistory:
    """The newest ``limit`` ledger entries, store sales and online orders of the member's merged set
    (each with the member it was posted to), with their counts: seven queries whatever the history.

    Sales and orders are scoped like the admin's lists (a store manager sees their store's sales and
    pickup orders); the ledger is chain-wide, as the member is.
    """
    history = MemberHistory()
    history.merged_members = list(Member.objects.filter(merged_into=member).order_by("merged_at", "number"))
    entries = PointsEntry.objects.filter(_own_set(member))
    history.ledger_count = entries.count()
    history.ledger = list(entries.select_related("member").order_by("-created_at", "-id")[:limit])
    sales = _scoped(Sale.objects.filter(_own_set(member), status=SaleStatus.COMPLETED), scope)
    figures = sales.aggregate(n=Count("id"), total=Sum("total"))
    history.sales_count, history.sales_total = figures["n"], to_money(figures["total"] or 0)
    history.sales = list(sales.select_related("store", "member").order_by("-completed_at", "-id")[:limit])
    orders = _scoped(Order.objects.filter(_own_set(member)), scope)
    history.orders_count = orders.count()
    history.orders = list(orders.select_related("store", "member").order_by("-created_at", "-id")[:limit])
    return history


# ---------------------------------------------------------------- stock across stores


# A filtered pivot counts its matches up to this many and says "more than" beyond: an exact count
# would read every stock level of the chain (seconds at 100,000 products by 50 stores), the page
# itself only as many products as it takes to fill it.
PIVOT_COUNT_CAP = 1000


@dataclass(frozen=True)
class StockPivotRow:
    product: Product
    cells: list[tuple[Store, Decimal | None]]  # per store of ``StockPivot.stores``; None: no level there
    total: Decimal


@dataclass(frozen=True)
class StockPivot:
    stores: list[Store]
    rows: list[StockPivotRow]
    number: int  # the page, from 1
    per_page: int
    count: int  # products matching, exact unless ``count_capped``
    count_capped: bool
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def num_pages(self) -> int | None:
        return None if self.count_capped else max(1, -(-self.count // self.per_page))


def stock_pivot(
    *,
    scope,
    search: str = "",
    only: str = "",
    threshold: Decimal | None = None,
    store_code: str = "",
    page: int = 1,
    per_page: int = 50,
) -> StockPivot:
    """One page of products (by SKU) with their on hand in each store the user may see: four queries
    (stores, the count, the page's products, their levels), whatever the catalog's size, so a
    100,000-product by 50-store table is never read whole.

    ``search`` matches a SKU prefix or a name; ``only`` keeps products ``negative`` or ``below``
    ``threshold`` in at least one of the shown stores (or in ``store_code``'s), judged on the levels
    that exist: a store that never held a product has no level and shows empty, not 0. The count of
    a searched or filtered pivot stops at ``PIVOT_COUNT_CAP``.
    """
    stores = list(_scoped(Store.objects.order_by("code"), scope, path="pk"))
    judged = [s.pk for s in stores if not store_code or s.code == store_code]
    products = Product.objects.order_by("sku")
    search = search.strip()
    if search:
        products = products.filter(Q(sku__istartswith=search) | Q(name__icontains=search))
    if only in ("negative", "below"):
        limit = Decimal(0) if only == "negative" else (threshold if threshold is not None else Decimal(0))
        short = StockLevel.objects.filter(product=OuterRef("pk"), store_id__in=judged, on_hand__lt=limit)
        products = products.filter(Exists(short))
    capped = bool(search or only)
    if capped:
        count = products.order_by()[: PIVOT_COUNT_CAP + 1].count()
    else:
        count = products.count()
    page = max(1, int(page))
    if not capped:
        page = min(page, max(1, -(-count // per_page)))  # past the end: the last page
    start = (page - 1) * per_page
    shown = list(products[start : start + per_page + 1])
    has_next, shown = len(shown) > per_page, shown[:per_page]
    on_hand = {
        (product_id, store_id): quantity
        for product_id, store_id, quantity in StockLevel.objects.filter(
            product_id__in=[p.pk for p in shown], store_id__in=[s.pk for s in stores]
        )
        .order_by()  # the model's ordering would join every product and store just to sort
        .values_list("product_id", "store_id", "on_hand")
    }
    rows = []
    for product in shown:
        cells = [(s, on_hand.get((product.pk, s.pk))) for s in stores]
        total = sum((q for _s, q in cells if q is not None), Decimal(0))
        rows.append(StockPivotRow(product=product, cells=cells, total=total))
    return StockPivot(
        stores=stores,
        rows=rows,
        number=page,
        per_page=per_page,
        count=min(count, PIVOT_COUNT_CAP) if capped else count,
        count_capped=capped and count > PIVOT_COUNT_CAP,
        has_next=has_next,
    )
