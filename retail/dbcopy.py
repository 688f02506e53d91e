"""Insert many rows of one model fast: on PostgreSQL one ``INSERT`` bound server-side for a few
rows and ``COPY`` for many, ``bulk_create`` elsewhere.

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
import functools
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


# Up to this many rows go as one ``INSERT ... VALUES`` with parameters bound server-side: a push
# of one sale writes one to five rows per table, and COPY costs a round trip more than an insert
# (the server answers COPY before the rows are sent). More rows stream through COPY.
SMALL_INSERT_ROWS = 50


def rows_insert(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert ``rows`` (tuples in the order of ``fields``, attribute names such as ``sale_id``) into
    ``model``'s table; returns how many (none: no statement is sent). Call it inside a
    transaction."""
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        for start in range(0, len(rows), 500):
            model.objects.bulk_create(
                [model(**dict(zip(fields, row, strict=True))) for row in rows[start : start + 500]]
            )
        return len(rows)
    table, names, types, json_at = _insert_plan(model, tuple(fields))
    if json_at:
        rows = [_with_jsonb(row, json_at) for row in rows]
    if len(rows) <= SMALL_INSERT_ROWS:
        one = "(" + ", ".join(["%s"] * len(types)) + ")"
        with connection.wrap_database_errors, pg_cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {', '.join([one] * len(rows))}",
                [value for row in rows for value in row],
            )
        return len(rows)
    # Binary: the database reads UUIDs, numerics and times without parsing text (a third faster).
    # psycopg's own errors become Django's (IntegrityError ...), as for any query.
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)
    return len(rows)


@functools.cache
def _insert_plan(model: type[models.Model], fields: tuple[str, ...]) -> tuple[str, str, list[str], list[int]]:
    """(table, column list, COPY types, positions of JSON columns) of an insert: computed once per
    model and fields (a field's ``db_type`` is not cheap)."""
    by_attname = {field.attname: field for field in model._meta.concrete_fields}
    columns = [by_attname[name] for name in fields]
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(field.column) for field in columns)
    json_at = [i for i, field in enumerate(columns) if isinstance(field, models.JSONField)]
    return table, names, [_pg_type(field) for field in columns], json_at


def _with_jsonb(row: Sequence, json_at: list[int]) -> list:
    row = list(row)
    for i in json_at:
        row[i] = None if row[i] is None else Jsonb(row[i], dumps=_json_text)
    return row


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
    return set(ids_found((model, ids, ""))[0])


def ids_found(*asks: tuple[type[models.Model], Iterable, str]) -> list[dict]:
    """Several ``ids_existing`` in one round trip: for each ``(model, ids, extra)``, which of
    ``ids`` are primary keys of ``model`` rows, as ``{id: value of the extra attribute}`` (``extra``
    names a column of the same type as the key, such as ``merged_into_id``, or is empty: None).

    On PostgreSQL the asks whose keys share a type are one ``UNION ALL`` query; elsewhere a query
    per ask. An ask with no ids sends nothing."""
    found: list[dict] = [{} for _ in asks]
    todo = []
    for i, (model, ids, extra) in enumerate(asks):
        ids = list(ids)
        if ids:
            todo.append((i, model, ids, extra))
    if not todo:
        return found
    if connection.vendor != "postgresql":
        for i, model, ids, extra in todo:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                if extra:
                    found[i].update(model.objects.filter(pk__in=chunk).values_list("pk", extra))
                else:
                    found[i].update(
                        dict.fromkeys(model.objects.filter(pk__in=chunk).values_list("pk", flat=True))
                    )
        return found
    by_type: dict[str, list] = {}
    for ask in todo:
        by_type.setdefault(ask[1]._meta.pk.db_type(connection), []).append(ask)
    q = connection.ops.quote_name
    for pk_type, group in by_type.items():
        parts, params = [], []
        for i, model, ids, extra in group:
            meta = model._meta
            pk = q(meta.pk.column)
            value = q(meta.get_field(extra.removesuffix("_id")).column) if extra else f"NULL::{pk_type}"
            parts.append(
                f"SELECT {i}, {pk}, {value} FROM {q(meta.db_table)} WHERE {pk} = ANY(%s::{pk_type}[])"
            )
            params.append(pg_array(ids))
        with connection.wrap_database_errors, pg_cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            for i, key, value in cursor.fetchall():  # iterating the cursor costs a call per row
                found[i][key] = value
    return found


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
    sql, params = upsert_add_statement(
        model, keys, sums, rows, touch=touch, conflict_where=conflict_where, returning=returning
    )
    with connection.wrap_database_errors, pg_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if returning else []


def pg_upserts_add(statements: Sequence[tuple[str, list]]) -> None:
    """Several ``upsert_add_statement`` (without ``returning``) as one statement, one round trip:
    each a data-modifying ``WITH`` query, run once and to completion, in the order given."""
    if not statements:
        return
    if len(statements) == 1:
        sql, params = statements[0]
    else:
        sql = (
            "WITH "
            + ", ".join(f"u{i} AS ({sql})" for i, (sql, _params) in enumerate(statements))
            + " SELECT 1"
        )
        params = [param for _sql, ps in statements for param in ps]
    with connection.wrap_database_errors, pg_cursor() as cursor:
        cursor.execute(sql, params)


def upsert_add_statement(
    model: type[models.Model],
    keys: Sequence[str],
    sums: Sequence[str],
    rows: Sequence[Sequence],
    *,
    touch: str = "",
    conflict_where: str = "",
    returning: Sequence[str] = (),
) -> tuple[str, list]:
    """The SQL and parameters ``pg_upsert_add`` sends."""
    sql = _upsert_sql(model, tuple(keys), tuple(sums), touch, conflict_where, tuple(returning))
    width = len(keys) + len(sums) + (1 if touch else 0)
    columns_of = list(zip(*rows, strict=True)) if rows else [() for _ in range(width)]
    return sql, [pg_array(column) for column in columns_of]


@functools.cache
def _upsert_sql(
    model: type[models.Model], keys: tuple, sums: tuple, touch: str, conflict_where: str, returning: tuple
) -> str:
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
    unnest = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
    back = f" RETURNING {', '.join(q(by_attname[name].column) for name in returning)}" if returning else ""
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({unnest}) "
        f"ON CONFLICT {conflict} DO UPDATE SET {', '.join(sets)}{back}"
    )
