"""Fixed SQL for the till's hot paths, with rows converted and values adapted exactly as the ORM does.

On a store node a scan or a completed sale runs a dozen statements whose text never changes; the
ORM rebuilds and recompiles each of them on every call, which costs several times what SQLite takes
to run them (an INSERT compiles in ~60 us, a two-table SELECT in ~1.5 ms on the store machine).
These helpers take a statement written once and:

* ``columns``/``instances``/``joined_row``/``joined_rows``: read rows as model instances, each
  value passed through the backend's and the field's converters (what ``from_db`` gets from a
  queryset), so a row read here equals the ORM's, types included (tests compare them field by field);
* ``row_update``: UPDATE one row's named fields from the instance, as ``save(update_fields=…)``;
* ``rows_insert``: INSERT model instances, every value from ``Field.pre_save(obj, add=True)`` and
  ``get_db_prep_save`` as ``QuerySet.bulk_create`` prepares it, from one cached statement per model.

They send no model signals (nor does ``bulk_create``); nothing in this project listens for them.
Portable SQL only: they run on PostgreSQL too.
"""

from __future__ import annotations

import inspect

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init


def _fields(spec):
    # ``(model, alias)``: every concrete field; ``(model, alias, attnames)``: those only (``only()``).
    model, alias, *names = spec
    fields = model._meta.concrete_fields
    if names:
        fields = [f for f in fields if f.attname in names[0]]
    return model, alias, fields


def _db():
    # The real wrapper of this thread's connection, looked up once per call: every attribute of the
    # ``connection`` proxy is a lookup in asgiref's Local (~5 us here), and a row has one per value.
    return connections[DEFAULT_DB_ALIAS]


def columns(models) -> str:
    """``alias."column", …`` of each ``(model, alias[, attnames])``'s fields, in field order."""
    q = _db().ops.quote_name
    out = []
    for spec in models:
        _model, alias, fields = _fields(spec)
        out.extend(f"{alias}.{q(f.column)}" for f in fields)
    return ", ".join(out)


def _converters(conn, spec):
    # Per connection (the backend's converters are bound to the connection of this thread): the
    # attnames, the fields that have converters (position, column, converters), plainness, width.
    cache = conn.__dict__.setdefault("sqlrows_converters", {})
    key = tuple(spec[:2]) + tuple(tuple(x) for x in spec[2:])
    if key not in cache:
        _model, alias, fields = _fields(spec)
        converting = []
        for j, f in enumerate(fields):
            col = f.get_col(alias)
            converters = tuple(conn.ops.get_db_converters(col) + f.get_db_converters(conn))
            if converters:
                kind = (f.target_field if f.is_relation else f).get_internal_type()
                converting.append((j, col, converters, kind in _IMMUTABLE_RESULTS))
        cache[key] = [f.attname for f in fields], converting, _plain(spec[0]), len(fields)
    return cache[key]


# Fields whose converted values are immutable (Decimal, UUID, bool): rows of one read that hold the
# same raw value may share the converted object.
_IMMUTABLE_RESULTS = {"DecimalField", "UUIDField", "BooleanField"}


def _plain(model) -> bool:
    """Whether ``from_db`` of ``model`` only sets its field values: no ``__init__``/``from_db`` of
    its own, and every field a plain attribute (no descriptor that does work when set)."""
    plain_types = (DeferredAttribute, ForeignKeyDeferredAttribute)
    return (
        model.__init__ is Model.__init__
        and model.from_db.__func__ is Model.from_db.__func__
        and all(
            type(inspect.getattr_static(model, f.attname, None)) in plain_types
            for f in model._meta.concrete_fields
        )
    )


def instances(row, models) -> list:
    """One instance per ``(model, alias[, attnames])`` from ``row`` (laid out as
    ``columns(models)``; with ``attnames`` the others are deferred, as ``only()`` leaves them), then
    any further columns of the row as they came."""
    return _instances(_db(), row, models)


def _instances(conn, row, models, seen: dict | None = None) -> list:
    # ``seen``: per read of several rows, the converted value of each (column, raw value) whose
    # result is immutable: a sale's lines repeat their sale id, rates, quantities and zeros.
    objects, i = [], 0
    for spec in models:
        model = spec[0]
        attnames, converting, plain, width = _converters(conn, spec)
        values = list(row[i : i + width])
        for j, col, converters, immutable in converting:
            value = values[j]
            key = None
            if seen is not None and immutable and not (type(value) is float and value == 0):  # -0.0 == 0.0
                key = (i + j, type(value), value)
            if key is not None and key in seen:
                values[j] = seen[key]
                continue
            for convert in converters:
                value = convert(value, col, conn)
            values[j] = value
            if key is not None:
                seen[key] = value
        i += width
        # What Model.from_db builds, without Model.__init__'s two signals and per-field setattr,
        # when the model is plain and nothing listens to pre_init/post_init for it.
        if not plain or pre_init.has_listeners(model) or post_init.has_listeners(model):
            objects.append(model.from_db(conn.alias, attnames, values))
        else:
            obj = model.__new__(model)
            obj.__dict__.update(zip(attnames, values, strict=True))
            state = obj._state = ModelState()
            state.adding, state.db = False, conn.alias
            objects.append(obj)
    objects.extend(row[i:])
    return objects


def joined_row(sql: str, params: list, models) -> list | None:
    """The first row of ``sql`` (which selects ``columns(models)`` first) as ``instances``."""
    conn = _db()
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else _instances(conn, row, models)


def joined_rows(sql: str, params: list, models) -> list[list]:
    """Every row of ``sql`` (which selects ``columns(models)`` first) as ``instances``."""
    conn = _db()
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    seen: dict = {}
    return [_instances(conn, row, models, seen) for row in rows]


def _insert_sql(conn, model, with_pk: bool, ignore_conflicts: bool = False) -> tuple[str, list]:
    cache = conn.__dict__.setdefault("sqlrows_inserts", {})
    key = (model, with_pk, ignore_conflicts)
    if key not in cache:
        q = conn.ops.quote_name
        pk = model._meta.pk
        fields = [
            f
            for f in model._meta.local_concrete_fields
            if not getattr(f, "generated", False) and (with_pk or f is not pk)
        ]
        sql = (
            f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})"
        )
        if ignore_conflicts:  # SQLite (3.24+) and PostgreSQL both write it so
            sql += " ON CONFLICT DO NOTHING"
        elif not with_pk:
            sql += f" RETURNING {q(pk.column)}"
        cache[key] = sql, fields
    return cache[key]


def rows_insert(objs: list, *, ignore_conflicts: bool = False) -> list:
    """INSERT ``objs`` (instances of one model) as ``bulk_create`` would, from one fixed statement:
    run once per row by ``executemany`` when their primary keys are set (the UUID ``IdField``), one
    ``INSERT … RETURNING`` per row when the database numbers them (an ``AutoField``). Returns
    ``objs``, saved, with their primary keys. ``ignore_conflicts``: rows that would break a unique
    constraint are skipped (``ON CONFLICT DO NOTHING``) and, as with ``bulk_create``, numbered rows
    get no primary key."""
    if not objs:
        return objs
    model = type(objs[0])
    numbered = all(o.pk is None for o in objs)
    if numbered and not model._meta.pk.db_returning:
        raise ValueError(f"rows_insert: {model.__name__} instances need their primary keys")
    conn = _db()
    sql, fields = _insert_sql(conn, model, not numbered, ignore_conflicts)
    params = []
    for obj in objs:
        values = []
        for f in fields:
            value = f.pre_save(obj, True)
            if hasattr(value, "resolve_expression"):
                raise TypeError(f"rows_insert takes values, not expressions ({f.name})")
            values.append(f.get_db_prep_save(value, conn))
        params.append(values)
    with conn.cursor() as cursor:
        if numbered and not ignore_conflicts:
            col = model._meta.pk.get_col(model._meta.db_table)
            converters = conn.ops.get_db_converters(col) + col.field.get_db_converters(conn)
            for obj, values in zip(objs, params, strict=True):
                cursor.execute(sql, values)
                value = cursor.fetchone()[0]
                for convert in converters:
                    value = convert(value, col, conn)
                obj.pk = value
        elif len(params) == 1:
            cursor.execute(sql, params[0])
        else:
            cursor.executemany(sql, params)
    for obj in objs:
        obj._state.adding, obj._state.db = False, conn.alias
    return objs


def row_update(obj, attnames: tuple[str, ...], *, where: dict | None = None) -> int:
    """UPDATE ``obj``'s row, setting ``attnames`` to the instance's values (prepared as
    ``save(update_fields=…)`` prepares them), from one fixed statement per model and fields.
    ``where``: further ``{attname: value}`` the row must have (e.g. still ``open``). Returns the
    number of rows updated (0 when the row is gone or does not match ``where``)."""
    model = type(obj)
    where = where or {}
    key = (model, tuple(attnames), tuple(where))
    conn = _db()
    cache = conn.__dict__.setdefault("sqlrows_updates", {})
    if key not in cache:
        q = conn.ops.quote_name
        meta = model._meta
        fields = [meta.get_field(name) if name != "pk" else meta.pk for name in attnames]
        conditions = [meta.pk, *(meta.get_field(name) for name in where)]
        cache[key] = (
            f"UPDATE {q(meta.db_table)} SET {', '.join(f'{q(f.column)} = %s' for f in fields)} "
            f"WHERE {' AND '.join(f'{q(f.column)} = %s' for f in conditions)}",
            fields,
            conditions,
        )
    sql, fields, conditions = cache[key]
    params = [f.get_db_prep_save(getattr(obj, f.attname), conn) for f in fields]
    params.append(conditions[0].get_db_prep_value(obj.pk, conn))
    params += [
        f.get_db_prep_value(value, conn) for f, value in zip(conditions[1:], where.values(), strict=True)
    ]
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
