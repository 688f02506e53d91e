"""Movements and levels keep no index by store alone: their (store, product, ...) indexes serve it."""

import django.db.models.deletion
from django.db import migrations, models

from retail.db.migration_ops import field_index_drop


class Migration(migrations.Migration):
    dependencies = [
        ("stock", "0001_initial"),
        ("stores", "0001_initial"),
    ]

    operations = [
        field_index_drop(
            model_name="stocklevel",
            name="store",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="stock_levels",
                to="stores.store",
            ),
            table="stock_stocklevel",
            column="store_id",
            index="stock_stocklevel_store_id_60c715d2",
        ),
        field_index_drop(
            model_name="stockmovement",
            name="store",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="stock_movements",
                to="stores.store",
            ),
            table="stock_stockmovement",
            column="store_id",
            index="stock_stockmovement_store_id_7a28137d",
        ),
    ]
