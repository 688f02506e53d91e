"""Insert many rows of one model fast: PostgreSQL's ``COPY``, ``bulk_create`` elsewhere.

The sync ingest writes some twenty rows per sale. Through ``bulk_create`` each row becomes a model
instance and each value goes through the field's ``get_db_prep_save`` and psycopg's client-side
quoting, which took most of a batch's time; ``COPY`` streams plain tuples that psycopg adapts in C.

The rows are plain values of the Python types the model's fields hold (UUIDs, Decimals for
decimals, aware datetimes, dates, dicts for JSON fields: binary COPY takes no text for them), with
nothing computed: no defaults, no ``auto_now``, no signals (the same as
``bulk_create``), so the caller passes every column. Constraints are the database's, as for any
insert: a unique violation raises ``IntegrityError``; foreign keys are checked at commit (Django
declares them deferred on PostgreSQL), so callers check references before inserting.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal

import orjson
import psycopg
from django.db import connection, models
from psycopg.types.json import Jsonb


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
    # Binary: the database reads UUIDs, numerics and times without parsing text (a third faster).
    types = [_pg_type(field) for field in columns]
    # psycopg's own errors become Django's (IntegrityError ...), as for any query.
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(types)
        for row in rows:
            if json_at:
                row = list(row)
                for i in json_at:
                    row[i] = None if row[i] is None else Jsonb(row[i], dumps=_json_text)
            copy.write_row(row)
            count += 1
    return count


def _pg_type(field: models.Field) -> str:
    """The type name binary COPY is told for a column: ``numeric(12, 3)`` -> ``numeric``."""
    name = re.sub(r"\(.*\)", "", field.db_type(connection)).strip()
    return {"timestamp with time zone": "timestamptz", "double precision": "float8"}.get(name, name)


# ---------------------------------------------------------------- PostgreSQL, parameters bound server-side


def pg_cursor() -> psycopg.Cursor:
    """A cursor on Django's connection (its transaction) that binds parameters server-side.

    Django's psycopg cursors bind client-side: every value is quoted into the SQL text in Python and
    the text is split with a regular expression, which for a statement of thousands of values cost
    more than the database's work. Here a list is one array parameter (``= ANY(%s::uuid[])``,
    ``unnest(%s::uuid[], ...)``, see ``pg_array``), so the SQL text stays short and the same. Use it inside ``connection.wrap_database_errors``."""
    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def _element(value) -> str:
    if value is None:
        return "NULL"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, (int, Decimal, uuid.UUID)):
        return str(value)
    text = value.isoformat() if isinstance(value, (datetime.date, datetime.time)) else str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pg_array(values: Iterable) -> str:
    """A list as PostgreSQL's array text (``{a,b,"c d"}``), to bind as one parameter cast to its
    type (``%s::uuid[]``): the server parses it in C, where psycopg would dump each element in
    Python. Elements: None, bools, ints, Decimals, UUIDs, dates and times, strings (quoted)."""
    return "{" + ",".join(map(_element, values)) + "}"


def ids_existing(model: type[models.Model], ids: Iterable) -> set:
    """Which of ``ids`` are primary keys of ``model`` rows (one query however many)."""
    ids = list(ids)
    if not ids:
        return set()
    if connection.vendor != "postgresql":
        found: set = set()
        for start in range(0, len(ids), 500):
            found.update(model.objects.filter(pk__in=ids[start : start + 500]).values_list("pk", flat=True))
        return found
    meta = model._meta
    table, pk = connection.ops.quote_name(meta.db_table), connection.ops.quote_name(meta.pk.column)
    with connection.wrap_database_errors, pg_cursor() as cursor:
        cursor.execute(
            f"SELECT {pk} FROM {table} WHERE {pk} = ANY(%s::{meta.pk.db_type(connection)}[])",
            [pg_array(ids)],
        )
        return {row[0] for row in cursor.fetchall()}  # iterating the cursor costs a call per row


def pg_upsert_add(
    model: type[models.Model],
    keys: Sequence[str],
    sums: Sequence[str],
    rows: Sequence[Sequence],
    *,
    touch: str = "",
    conflict_where: str = "",
    returning: Sequence[str] = (),
) -> list[tuple]:
    """PostgreSQL: ``INSERT ... SELECT FROM unnest(...) ON CONFLICT (keys) DO UPDATE SET s = s + EXCLUDED.s``.

    ``rows`` are tuples of the ``keys`` then the ``sums`` (attribute names) values, plus the value
    of the ``touch`` column (set, not added) when one is named; rows are written in the order given
    (callers sort them, so concurrent writers lock rows in one order). Returns the ``returning``
    columns of every row written."""
    meta = model._meta
    by_attname = {field.attname: field for field in meta.concrete_fields}
    fields = [by_attname[name] for name in (*keys, *sums, *([touch] if touch else []))]
    q = connection.ops.quote_name
    table = q(meta.db_table)
    columns = [q(field.column) for field in fields]
    sets = [f"{q(by_attname[name].column)} = {table}.{q(by_attname[name].column)} + EXCLUDED.{q(by_attname[name].column)}"
            for name in sums]  # fmt: skip
    if touch:
        sets.append(f"{q(by_attname[touch].column)} = EXCLUDED.{q(by_attname[touch].column)}")
    conflict = (
        "(" + ", ".join(columns[: len(keys)]) + ")" + (f" WHERE {conflict_where}" if conflict_where else "")
    )
    columns_of = list(zip(*rows, strict=True)) if rows else [() for _ in fields]
    arrays = [pg_array(column) for column in columns_of]
    unnest = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
    back = f" RETURNING {', '.join(q(by_attname[name].column) for name in returning)}" if returning else ""
    with connection.wrap_database_errors, pg_cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({unnest}) "
            f"ON CONFLICT {conflict} DO UPDATE SET {', '.join(sets)}{back}",
            arrays,
        )
        return cursor.fetchall() if returning else []
