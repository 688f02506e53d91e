"""Sales and lines: fewer index entries per row the cloud ingests.

- ``store`` on a sale and ``sale`` on a line lose their own index: ``sale_store_day_idx`` and
  ``line_position_unique`` begin with them and serve every look-up by them;
- ``member``, ``original_sale``, ``original_line`` and ``price_overridden_by`` are empty on most
  rows: partial indexes hold only the rows that name one;
- the receipt number stays unique by a named constraint (``unique=True`` also made PostgreSQL keep
  a ``varchar_pattern_ops`` index for LIKE 'x%' that no query makes). On PostgreSQL the unique
  constraint is renamed, not rebuilt; on SQLite the table's own UNIQUE stays as it is (SQLite has
  no pattern index to drop, and changing a table's constraint there means copying the table).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from retail.db.migration_ops import field_index_drop


def _receipt_constraint(old: str, new: str, like_index: bool):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(f'ALTER TABLE "sales_sale" RENAME CONSTRAINT "{old}" TO "{new}"')
        if like_index:
            schema_editor.execute('DROP INDEX IF EXISTS "sales_sale_receipt_number_564da946_like"')
        else:
            schema_editor.execute(
                'CREATE INDEX IF NOT EXISTS "sales_sale_receipt_number_564da946_like" '
                'ON "sales_sale" ("receipt_number" varchar_pattern_ops)'
            )

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0002_initial"),
        ("members", "0001_initial"),
        ("stores", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        field_index_drop(
            model_name="sale",
            name="store",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="sales", to="stores.store"
            ),
            table="sales_sale",
            column="store_id",
            index="sales_sale_store_id_15a113d4",
        ),
        field_index_drop(
            model_name="sale",
            name="member",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="sales",
                to="members.member",
            ),
            table="sales_sale",
            column="member_id",
            index="sales_sale_member_id_45d73221",
        ),
        field_index_drop(
            model_name="sale",
            name="original_sale",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="returns",
                to="sales.sale",
            ),
            table="sales_sale",
            column="original_sale_id",
            index="sales_sale_original_sale_id_0ace640b",
        ),
        field_index_drop(
            model_name="saleline",
            name="sale",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="lines", to="sales.sale"
            ),
            table="sales_saleline",
            column="sale_id",
            index="sales_saleline_sale_id_8f707bda",
        ),
        field_index_drop(
            model_name="saleline",
            name="original_line",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="return_lines",
                to="sales.saleline",
            ),
            table="sales_saleline",
            column="original_line_id",
            index="sales_saleline_original_line_id_6124f011",
        ),
        field_index_drop(
            model_name="saleline",
            name="price_overridden_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
            table="sales_saleline",
            column="price_overridden_by_id",
            index="sales_saleline_price_overridden_by_id_eae877d4",
        ),
        migrations.AddIndex(
            model_name="sale",
            index=models.Index(
                condition=models.Q(("member__isnull", False)), fields=["member"], name="sale_member_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="sale",
            index=models.Index(
                condition=models.Q(("original_sale__isnull", False)), fields=["original_sale"], name="sale_returns_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="saleline",
            index=models.Index(
                condition=models.Q(("original_line__isnull", False)), fields=["original_line"], name="line_returned_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="saleline",
            index=models.Index(
                condition=models.Q(("price_overridden_by__isnull", False)),
                fields=["price_overridden_by"],
                name="line_overridden_idx",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="sale",
                    name="receipt_number",
                    field=models.CharField(blank=True, max_length=32, null=True),
                ),
                migrations.AddConstraint(
                    model_name="sale",
                    constraint=models.UniqueConstraint(fields=("receipt_number",), name="sale_receipt_number_unique"),
                ),
            ],
            database_operations=[
                migrations.RunPython(
                    _receipt_constraint("sales_sale_receipt_number_key", "sale_receipt_number_unique", True),
                    _receipt_constraint("sale_receipt_number_unique", "sales_sale_receipt_number_key", False),
                )
            ],
        ),
    ]
