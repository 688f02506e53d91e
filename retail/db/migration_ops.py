"""Migration operations shared by the apps of both roles."""

from __future__ import annotations

from django.db import migrations


def field_index_drop(*, model_name: str, name: str, field, table: str, column: str, index: str):
    """A foreign key loses the index Django gave it (``db_index=False``), by ``DROP INDEX`` alone.

    ``AlterField`` would do it by dropping and re-adding the foreign key on PostgreSQL (which
    checks every row again) and by copying the whole table on SQLite; dropping the index is all
    that changes. ``index`` is the name Django gave it (the same on both databases)."""
    return migrations.SeparateDatabaseAndState(
        state_operations=[migrations.AlterField(model_name=model_name, name=name, field=field)],
        database_operations=[
            migrations.RunSQL(
                f'DROP INDEX IF EXISTS "{index}"',
                reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("{column}")',
            )
        ],
    )
