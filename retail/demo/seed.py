"""A realistic, deterministic demo chain: the same ids at every node, so a store's copy matches the cloud's.

Bulk inserts, not services: this is an initial load, like a chain's migration from its old system,
and every projection is written equal to its ledger (on hand = sum of movements, balance = sum of points).
"""

from __future__ import annotations

import random
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction

from retail.catalog.models import Barcode, Price, Product, TaxClass, TaxRate, Unit
from retail.members.models import Member, PointsEntry, PointsKind
from retail.staff.models import Role, User
from retail.stock.models import MovementKind, StockLevel, StockMovement
from retail.stores.models import Store, Terminal

NAMESPACE = uuid.UUID("6f1c2a4e-9a53-4c1e-8d0e-0b6a1f2d3c4b")
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

STORES = [
    ("S01", "Berlin Mitte", "Rosenthaler Str. 40", "Berlin", "10178"),
    ("S02", "Hamburg Altona", "Ottenser Hauptstr. 10", "Hamburg", "22765"),
    ("S03", "München Schwabing", "Leopoldstr. 82", "München", "80802"),
]
TAX = [
    ("STD", "Standard rate", Decimal("0.1900")),
    ("RED", "Reduced rate (food, books)", Decimal("0.0700")),
    ("ZERO", "Zero rate", Decimal("0.0000")),
]

BRANDS = [
    "Alpenhof",
    "Nordsee",
    "Grünland",
    "Bergquell",
    "Sonnhof",
    "Hausmarke",
    "Lindenhof",
    "Elbtal",
    "Rheingold",
    "Waldkorn",
    "Ostwind",
    "Fjord",
    "Müller & Söhne",
    "Café Crème",
    "Brauhaus",
    "Gut Eichen",
    "Kräuterhof",
    "Seeblick",
    "Holm",
    "Vita",
]
FOOD = [
    "Whole Milk",
    "Yoghurt Natural",
    "Butter",
    "Gouda Slices",
    "Espresso Beans",
    "Filter Coffee",
    "Green Tea",
    "Rye Bread",
    "Muesli",
    "Oat Flakes",
    "Pasta Fusilli",
    "Spaghetti",
    "Basmati Rice",
    "Tomato Passata",
    "Olive Oil",
    "Sunflower Oil",
    "Dark Chocolate",
    "Milk Chocolate",
    "Hazelnut Spread",
    "Strawberry Jam",
    "Honey",
    "Orange Juice",
    "Apple Juice",
    "Sparkling Water",
    "Still Water",
    "Crisps Paprika",
    "Salted Pretzels",
    "Frozen Pizza",
    "Fish Fingers",
    "Ice Cream Vanilla",
    "Pickled Gherkins",
    "Sauerkraut",
    "Lentil Soup",
    "Chickpeas",
    "Peanut Butter",
    "Cornflakes",
    "Crème fraîche",
]
NONFOOD = [
    "Dish Soap",
    "Laundry Detergent",
    "Toilet Paper",
    "Kitchen Roll",
    "Shampoo",
    "Shower Gel",
    "Toothpaste",
    "Hand Cream",
    "AA Batteries",
    "LED Bulb",
    "Bin Bags",
    "Sponges",
    "Candles",
    "Notebook A5",
    "Ballpoint Pens",
    "Beer Pilsner",
    "Red Wine",
    "White Wine",
    "Sparkling Wine",
    "Cat Food",
    "Dog Treats",
]
SIZES = [
    "100 g",
    "150 g",
    "200 g",
    "250 g",
    "400 g",
    "500 g",
    "750 g",
    "1 kg",
    "330 ml",
    "500 ml",
    "0.75 l",
    "1 l",
    "1.5 l",
    "6 pack",
    "12 pack",
    "2 pcs",
    "4 pcs",
    "10 pcs",
]
WEIGHED = [
    "Bananas",
    "Apples Elstar",
    "Apples Braeburn",
    "Pears Williams",
    "Tomatoes on the vine",
    "Cucumbers",
    "Carrots",
    "Potatoes waxy",
    "Onions",
    "Red Peppers",
    "Lemons",
    "Oranges",
    "Grapes white",
    "Mushrooms brown",
    "Beef mince",
    "Chicken breast",
    "Pork loin",
    "Salmon fillet",
    "Emmental by the piece",
    "Gouda young",
    "Olives mixed",
    "Walnuts loose",
    "Cashews loose",
    "Coffee beans loose",
    "Ham cooked",
    "Salami",
    "Courgettes",
    "Aubergines",
    "Plums",
    "Cherries",
]
FIRST = [
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Emma",
    "Felix",
    "Greta",
    "Hannah",
    "Jonas",
    "Lea",
    "Lukas",
    "Marie",
    "Noah",
    "Olivia",
    "Paul",
    "Sophie",
    "Tim",
    "Zoe",
    "Ömer",
    "Jürgen",
    "Aleksandr",
    "Chloé",
    "Søren",
    "Zoë",
]
LAST = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Neumann",
    "Schwarz",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Werner",
]

DEMO_PASSWORD = "omnitill"
DEMO_SCAN_BARCODE = "4006381333931"
PINS = {Role.CASHIER: "1111", Role.SUPERVISOR: "2222", Role.STORE_MANAGER: "3333"}


def _ascii(text: str) -> str:
    """E-mail addresses stay ASCII (Django's EmailValidator refuses "chloé@..."): Chloé -> chloe."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def did(kind: str, key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{kind}:{key}")


def ean13(first12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)


@dataclass(frozen=True)
class SeedSummary:
    products: int
    weighed: int
    barcodes: int
    stores: int
    terminals: int
    members: int
    staff: int


def seed_demo(*, products: int = 5000, members: int = 200, seed: int = 42) -> SeedSummary:
    """Load the demo chain into an empty database (refuses a database that already has stores)."""
    if Store.objects.exists():
        raise RuntimeError("the database already has stores; the demo seeds empty databases only")
    rng = random.Random(seed)
    with transaction.atomic():
        for code, name, rate in TAX:
            TaxClass.objects.create(code=code, name=name)
            TaxRate.objects.create(tax_class_id=code, rate=rate, effective_from=EPOCH)
        stores = [
            Store.objects.create(
                id=did("store", c), code=c, name=f"Omnimarkt {n}", address=a, city=city, postcode=pc
            )
            for c, n, a, city, pc in STORES
        ]
        terminals = [
            Terminal.objects.create(
                id=did("terminal", f"{s.code}-T0{i}"),
                store=s,
                code=f"T0{i}",
                name=f"Lane {i}",
                printer_address="virtual://",
            )
            for s in stores
            for i in (1, 2)
        ]
        staff = _seed_staff(stores)
        weighed = _seed_catalog(rng, products, stores)
        _seed_stock(rng, stores)
        _seed_members(rng, members)
    return SeedSummary(
        products=Product.objects.count(),
        weighed=weighed,
        barcodes=Barcode.objects.count(),
        stores=len(stores),
        terminals=len(terminals),
        members=Member.objects.count(),
        staff=staff,
    )


def _seed_staff(stores: list[Store]) -> int:
    # Each demo secret is hashed once: a PBKDF2 hash takes most of a second on purpose, and the demo
    # gives its users the same few published secrets (the README's logins), so a salt shared among
    # them hides nothing; hashing each anew made seeding take 15 s. A user who changes their password
    # or PIN gets a fresh salt as always.
    hashes: dict[str, str] = {}

    def _demo_hash(secret: str) -> str:
        if secret not in hashes:
            hashes[secret] = make_password(secret)
        return hashes[secret]

    users = []
    admin = User(
        id=did("user", "admin"),
        username="admin",
        first_name="Hedda",
        last_name="Office",
        role=Role.HEAD_OFFICE,
        is_staff=True,
        is_superuser=True,
        email="admin@omnitill.example",
    )
    admin.password = _demo_hash(DEMO_PASSWORD)
    users.append(admin)
    analyst = User(
        id=did("user", "analyst"),
        username="analyst",
        first_name="Ana",
        last_name="Lyst",
        role=Role.ANALYST,
        is_staff=True,
    )
    analyst.password = _demo_hash(DEMO_PASSWORD)
    users.append(analyst)
    for n, store in enumerate(stores, start=1):
        for role, prefix, first in [
            (Role.CASHIER, "c", "Cara"),
            (Role.CASHIER, "k", "Kai"),
            (Role.SUPERVISOR, "s", "Sven"),
            (Role.STORE_MANAGER, "m", "Mona"),
        ]:
            username = f"{prefix}{n}01"
            user = User(
                id=did("user", username),
                username=username,
                first_name=first,
                last_name=store.code,
                role=role,
                store=store,
                is_staff=role == Role.STORE_MANAGER,
            )
            user.password = _demo_hash(DEMO_PASSWORD)
            user.pin_hash = _demo_hash(PINS[role])
            users.append(user)
    User.objects.bulk_create(users)
    return len(users)


def product_name(rng: random.Random, kind: str, used: set[str], i: int) -> str:
    """A brand, kind and size not used yet; after a few draws, with a line number: the vocabulary
    holds about 20,000 names, and a benchmark seeds 100,000 products (it looped forever here)."""
    for _ in range(8):
        name = f"{rng.choice(BRANDS)} {kind} {rng.choice(SIZES)}"
        if name not in used:
            return name
    return f"{name} no. {i}"


def _seed_catalog(rng: random.Random, count: int, stores: list[Store]) -> int:
    weighed_count = min(len(WEIGHED) * 4, max(1, count // 20))
    products, barcodes, prices = [], [], []
    used_names: set[str] = set()
    for i in range(count):
        sku = f"{100000 + i}"
        if i < weighed_count:
            base = WEIGHED[i % len(WEIGHED)]
            name = (
                base
                if i < len(WEIGHED)
                else f"{base} ({rng.choice(['organic', 'regional', 'premium', 'value'])})"
            )
            unit, tax = Unit.KG, "RED"
            # The scale's 5-digit item code: parse_scan's key for a variable-measure label (prefix 21
            # weight or 22 price, then this code; see docs/money.md).
            codes = [f"{10000 + i:05d}"]
            amount = Decimal(rng.randint(99, 2999)) / 100
        else:
            nonfood = rng.random() < 0.3
            kind = rng.choice(NONFOOD if nonfood else FOOD)
            name = product_name(rng, kind, used_names, i)
            unit = Unit.EACH
            tax = "STD" if nonfood else ("ZERO" if rng.random() < 0.02 else "RED")
            codes = [ean13(f"40{rng.randint(0, 10**10 - 1):010d}")]
            if rng.random() < 0.1:
                codes.append(ean13(f"42{rng.randint(0, 10**10 - 1):010d}"))
            amount = Decimal(rng.randint(29, 4999)) / 100
            if i == weighed_count:
                # A real-world code the demo tells people to scan (bin/demo prints it).
                codes[0] = DEMO_SCAN_BARCODE
        used_names.add(name)
        product = Product(id=did("product", sku), sku=sku, name=name, unit=unit, tax_class_id=tax)
        products.append(product)
        barcodes.extend(Barcode(code=c, product=product) for c in codes)
        prices.append(Price(id=did("price", sku), product=product, amount=amount, effective_from=EPOCH))
        if rng.random() < 0.03:
            store = rng.choice(stores)
            prices.append(
                Price(
                    id=did("price", f"{sku}-{store.code}"),
                    product=product,
                    store=store,
                    amount=(amount * Decimal("0.9")).quantize(Decimal("0.01")),
                    effective_from=EPOCH,
                )
            )
    Product.objects.bulk_create(products, batch_size=2000)
    Barcode.objects.bulk_create(barcodes, batch_size=2000, ignore_conflicts=True)
    Price.objects.bulk_create(prices, batch_size=2000)
    return weighed_count


def _seed_stock(rng: random.Random, stores: list[Store]) -> None:
    product_ids = list(Product.objects.values_list("id", "unit"))
    moves, levels = [], []
    for store in stores:
        for product_id, unit in product_ids:
            qty = (
                Decimal(rng.randint(5, 60) * 1000) / 1000 if unit == Unit.KG else Decimal(rng.randint(0, 48))
            )
            if not qty:
                continue
            moves.append(
                StockMovement(
                    id=did("stock", f"{store.code}-{product_id}"),
                    store=store,
                    product_id=product_id,
                    kind=MovementKind.RECEIPT,
                    quantity=qty,
                    reference="opening stock",
                    origin="cloud",
                    created_at=EPOCH,
                )
            )
            levels.append(StockLevel(store=store, product_id=product_id, on_hand=qty))
    StockMovement.objects.bulk_create(moves, batch_size=2000)
    StockLevel.objects.bulk_create(levels, batch_size=2000)


def _seed_members(rng: random.Random, count: int) -> None:
    members, entries = [], []
    for i in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        number = f"M{100001 + i}"
        points = rng.randint(0, 4000)
        member = Member(
            id=did("member", number),
            number=number,
            card_barcode=f"MBR{100001 + i}",
            first_name=first,
            last_name=last,
            phone=f"+49151{rng.randint(1000000, 9999999)}",
            email=_ascii(f"{first}.{last}.{i}@example.com".lower()),
            consent_marketing=rng.random() < 0.6,
            consent_email=rng.random() < 0.5,
            consent_sms=rng.random() < 0.2,
            points_balance=points,
            origin="cloud",
        )
        members.append(member)
        if points:
            entries.append(
                PointsEntry(
                    id=did("points", number),
                    member=member,
                    kind=PointsKind.ADJUST,
                    points=points,
                    reason="opening balance",
                    origin="cloud",
                    created_at=EPOCH + timedelta(days=1),
                )
            )
    Member.objects.bulk_create(members)
    PointsEntry.objects.bulk_create(entries)
