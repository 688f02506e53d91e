"""Django's SQLite backend with one change: each statement's placeholders are converted once.

Django writes ``%s`` placeholders and its SQLite cursor turns them into SQLite's ``?`` with a regular
expression on every execute (``convert_query``): ~10-20 us for the till's longer statements, some
thirty times per sale, for the same few dozen statement texts. The conversion is a pure function of
the text, so it is remembered (a bounded LRU); statements with named parameters go through
Django's conversion as before. The store node uses this engine (``ENGINE: retail.db.sqlite3``).
"""

from __future__ import annotations

from functools import lru_cache

from django.db.backends.sqlite3 import base


@lru_cache(maxsize=2048)
def _qmark(query: str) -> str:
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    def convert_query(self, query, *, param_names=None):
        if param_names is None:
            return _qmark(query)
        return super().convert_query(query, param_names=param_names)


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name=None):
        return self.connection.cursor(factory=SQLiteCursorWrapper)
