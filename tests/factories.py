"""Factories for the shared domain: small functions that build valid rows with sensible defaults."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

from retail.catalog.models import Barcode, Price, Product, TaxClass, TaxRate, Unit
from retail.members.models import Member
from retail.staff.models import Role, User
from retail.stores.models import Store, Terminal

_counter = itertools.count(1)
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def ean13(first12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)


def make_store(code: str | None = None, **kw) -> Store:
    n = next(_counter)
    return Store.objects.create(code=code or f"S{n:02d}", name=kw.pop("name", f"Store {n}"), **kw)


def make_terminal(store: Store | None = None, code: str = "T01", **kw) -> Terminal:
    return Terminal.objects.create(store=store or make_store(), code=code, **kw)


def make_tax_class(code: str = "STD", rate: str = "0.19") -> TaxClass:
    tax_class, created = TaxClass.objects.get_or_create(code=code, defaults={"name": code})
    if created:
        TaxRate.objects.create(tax_class=tax_class, rate=Decimal(rate), effective_from=EPOCH)
    return tax_class


def make_product(
    price: str | None = "1.99",
    *,
    unit: str = Unit.EACH,
    tax: str = "STD",
    rate: str = "0.19",
    barcode=None,
    **kw,
) -> Product:
    n = next(_counter)
    tax_class = make_tax_class(tax, rate)
    product = Product.objects.create(
        sku=kw.pop("sku", f"{500000 + n}"),
        name=kw.pop("name", f"Product {n}"),
        unit=unit,
        tax_class=tax_class,
        **kw,
    )
    Barcode.objects.create(code=barcode or ean13(f"40{n:010d}"), product=product)
    if price is not None:
        Price.objects.create(product=product, amount=Decimal(price), effective_from=EPOCH)
    return product


def make_member(**kw) -> Member:
    n = next(_counter)
    kw.setdefault("number", f"M{900000 + n}")
    kw.setdefault("origin", "test")
    return Member.objects.create(**kw)


def make_user(role: str = Role.CASHIER, store: Store | None = None, pin: str = "1234", **kw) -> User:
    n = next(_counter)
    user = User(username=kw.pop("username", f"u{n}"), role=role, store=store, **kw)
    user.set_pin(pin)
    user.save()
    return user


def make_completed_sale(
    store: Store,
    *,
    lines: list[tuple] = (),
    tenders: list[tuple] = (),
    member: Member | None = None,
    kind: str = "sale",
    completed_at: datetime = EPOCH,
    **kw,
):
    """A completed sale with ``lines`` of (product, quantity, line_total) and ``tenders`` of (kind, amount)."""
    from retail.sales.models import Sale, SaleLine, Tender

    terminal = Terminal.objects.filter(store=store).first() or make_terminal(store)
    cashier = User.objects.filter(store=store).first() or make_user(store=store)
    total = sum((Decimal(t) for _, _, t in lines), Decimal(0))
    sale = Sale.objects.create(
        kind=kind,
        status="completed",
        store=store,
        terminal=terminal,
        cashier=cashier,
        member=member,
        subtotal=total,
        total=total,
        created_at=completed_at,
        completed_at=completed_at,
        **kw,
    )
    for position, (product, quantity, line_total) in enumerate(lines, start=1):
        SaleLine.objects.create(
            sale=sale,
            position=position,
            product=product,
            sku=product.sku,
            description=product.name,
            quantity=Decimal(quantity),
            unit_price=Decimal(line_total),
            line_total=Decimal(line_total),
            tax_class=product.tax_class_id,
            tax_rate=Decimal("0.19"),
        )
    for tender_kind, amount in tenders or [("cash", str(total))]:
        Tender.objects.create(sale=sale, kind=tender_kind, amount=Decimal(amount), created_at=completed_at)
    return sale
