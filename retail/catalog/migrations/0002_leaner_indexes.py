"""Prices: the unique (product, store, effective_from) is the look-up index; ``price_lookup_idx`` was
the same columns again and the product's own index their prefix. The index by store holds only
the stores' own prices (most are chain-wide)."""

import django.db.models.deletion
from django.db import migrations, models

from retail.db.migration_ops import field_index_drop


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
        ("stores", "0001_initial"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="price", name="price_lookup_idx"),
        field_index_drop(
            model_name="price",
            name="product",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="prices",
                to="catalog.product",
            ),
            table="catalog_price",
            column="product_id",
            index="catalog_price_product_id_ad6c5f41",
        ),
        field_index_drop(
            model_name="price",
            name="store",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="price_overrides",
                to="stores.store",
            ),
            table="catalog_price",
            column="store_id",
            index="catalog_price_store_id_0423a535",
        ),
        migrations.AddIndex(
            model_name="price",
            index=models.Index(
                condition=models.Q(("store__isnull", False)), fields=["store"], name="price_store_override_idx"
            ),
        ),
    ]
