"""Name search over the catalog: an FTS5 index of product names and SKUs, kept by SQLite triggers.

Triggers (not Django signals) so that every path that writes ``catalog_product`` -- sync applies,
``bulk_create``, ``QuerySet.update()``, admin -- keeps the index in step. External-content table:
the text lives once, in ``catalog_product``; the index holds only tokens (prefixes of 2 and 3
characters, diacritics folded, so "creme" finds "Crème fraîche").
"""

from django.db import migrations

FORWARD = [
    """CREATE VIRTUAL TABLE checkout_product_fts USING fts5(
        name, sku, content='catalog_product', content_rowid='rowid',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3')""",
    """CREATE TRIGGER checkout_product_fts_ai AFTER INSERT ON catalog_product BEGIN
        INSERT INTO checkout_product_fts(rowid, name, sku) VALUES (new.rowid, new.name, new.sku);
    END""",
    """CREATE TRIGGER checkout_product_fts_ad AFTER DELETE ON catalog_product BEGIN
        INSERT INTO checkout_product_fts(checkout_product_fts, rowid, name, sku)
        VALUES ('delete', old.rowid, old.name, old.sku);
    END""",
    """CREATE TRIGGER checkout_product_fts_au AFTER UPDATE OF name, sku ON catalog_product BEGIN
        INSERT INTO checkout_product_fts(checkout_product_fts, rowid, name, sku)
        VALUES ('delete', old.rowid, old.name, old.sku);
        INSERT INTO checkout_product_fts(rowid, name, sku) VALUES (new.rowid, new.name, new.sku);
    END""",
    "INSERT INTO checkout_product_fts(checkout_product_fts) VALUES ('rebuild')",
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS checkout_product_fts_au",
    "DROP TRIGGER IF EXISTS checkout_product_fts_ad",
    "DROP TRIGGER IF EXISTS checkout_product_fts_ai",
    "DROP TABLE IF EXISTS checkout_product_fts",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return  # the store node is SQLite; elsewhere product_search falls back to icontains
    for sql in FORWARD:
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for sql in BACKWARD:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("checkout", "0001_initial"),
        ("catalog", "0001_initial"),
    ]

    operations = [migrations.RunPython(forward, backward)]
