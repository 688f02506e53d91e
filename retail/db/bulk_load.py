"""Bulk loads into empty SQLite tables: their secondary indexes and insert triggers built once, after.

A new store's first snapshot fills the catalog and stock tables from nothing: some 600,000 rows
for 100,000 products. Inserting them one by one into a table that keeps a secondary index (or an
FTS5 index, through an insert trigger) updates that index once per row, in no useful order; SQLite
builds the same index from a finished table several times faster, sorting once. Measured on the
100,000-product snapshot (611,452 rows): the products went from 4.1 s to 1.4 s (FTS trigger and two
indexes), the stock levels and their opening movements from 8.9 s to 7.1 s (three indexes).

``IndexesDeferred`` does that for a table that holds no row when its load begins (a table that
holds rows is loaded as it is, its indexes kept): it drops the table's indexes that have a
``CREATE INDEX`` of their own (not the automatic ones of primary keys and unique columns, which
also check the rows as they come) and the insert triggers registered in ``INSERT_TRIGGER_REBUILDS``,
and ``restore()`` creates them again from their saved SQL and runs the registered rebuild of what
each trigger would have written. It must run inside the caller's transaction: SQLite's DDL is
transactional, so a load that fails or a process that dies leaves the indexes and triggers as
they were. On another database it does nothing.
"""

from __future__ import annotations

# table -> {insert trigger -> the statements that do, for the whole table, what the trigger does
# for one row}. The app owning a trigger registers it (store_node.checkout: the product search
# index); a trigger registered nowhere is never dropped, so it fires for each row as usual.
INSERT_TRIGGER_REBUILDS: dict[str, dict[str, list[str]]] = {}


class IndexesDeferred:
    def __init__(self, connection):
        self.connection = connection
        self.saved: dict[str, list[tuple[str, str, list[str]]]] = {}  # table -> (kind, sql, rebuild)

    def defer(self, table: str) -> bool:
        """Drop ``table``'s secondary indexes and registered insert triggers if it is empty; True if so."""
        if self.connection.vendor != "sqlite" or table in self.saved:
            return False
        with self.connection.cursor() as c:
            c.execute(f'SELECT 1 FROM "{table}" LIMIT 1')
            if c.fetchone() is not None:
                return False
            rebuilds = INSERT_TRIGGER_REBUILDS.get(table, {})
            c.execute(
                "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = %s AND sql IS NOT NULL "
                "AND (type = 'index' OR type = 'trigger') ORDER BY type, name",
                [table],
            )
            dropped = [
                (kind, name, sql) for kind, name, sql in c.fetchall() if kind == "index" or name in rebuilds
            ]
            for kind, name, _sql in dropped:
                c.execute(f'DROP {kind.upper()} "{name}"')
        self.saved[table] = [(kind, sql, rebuilds.get(name, [])) for kind, name, sql in dropped]
        return True

    def restore(self) -> None:
        """Create again everything ``defer`` dropped, and rebuild what the triggers would have written."""
        with self.connection.cursor() as c:
            for name in list(self.saved):
                for _kind, sql, rebuild in self.saved.pop(name):
                    c.execute(sql)
                    for statement in rebuild:
                        c.execute(statement)
