"""Insert many rows of one model fast: PostgreSQL's ``COPY``, ``bulk_create`` elsewhere.

The sync ingest writes some twenty rows per sale. Through ``bulk_create`` each row becomes a model
instance and each value goes through the field's ``get_db_prep_save`` and psycopg's client-side
quoting, which took most of a batch's time; ``COPY`` streams plain tuples that psycopg adapts in C.

The rows are plain values as the model's fields hold them (UUIDs, Decimals, aware datetimes, dicts
for JSON fields), with nothing computed: no defaults, no ``auto_now``, no signals (the same as
``bulk_create``), so the caller passes every column. Constraints are the database's, as for any
insert: a unique violation raises ``IntegrityError``; foreign keys are checked at commit (Django
declares them deferred on PostgreSQL), so callers check references before inserting.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import orjson
from django.db import connection, models


def _json_text(value) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # an integer beyond 64 bits: the standard encoder writes any int
        return json.dumps(value, separators=(",", ":"))


def rows_insert(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert ``rows`` (tuples in the order of ``fields``, attribute names such as ``sale_id``) into
    ``model``'s table; returns how many. Call it inside a transaction."""
    meta = model._meta
    by_attname = {field.attname: field for field in meta.concrete_fields}
    columns = [by_attname[name] for name in fields]
    json_at = [i for i, field in enumerate(columns) if isinstance(field, models.JSONField)]
    count = 0
    if connection.vendor != "postgresql":
        batch = []
        for row in rows:
            batch.append(model(**dict(zip(fields, row, strict=True))))
            if len(batch) >= 500:
                model.objects.bulk_create(batch)
                count += len(batch)
                batch = []
        if batch:
            model.objects.bulk_create(batch)
            count += len(batch)
        return count
    table = connection.ops.quote_name(meta.db_table)
    names = ", ".join(connection.ops.quote_name(field.column) for field in columns)
    # psycopg's own errors become Django's (IntegrityError ...), as for any query.
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            if json_at:
                row = list(row)
                for i in json_at:
                    row[i] = None if row[i] is None else _json_text(row[i])
            copy.write_row(row)
            count += 1
    return count
