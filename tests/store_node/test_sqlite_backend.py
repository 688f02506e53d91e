"""The store's SQLite engine converts placeholders exactly as Django's does, once per statement."""

from django.db.backends.sqlite3.base import SQLiteCursorWrapper as DjangoCursor
from hypothesis import given, settings
from hypothesis import strategies as st

from retail.db.sqlite3.base import SQLiteCursorWrapper, _qmark

fragments = st.lists(
    st.sampled_from(["SELECT ", "%s", "%%", "%", "s", "'50%s off'", " = ", "?", "x"]), max_size=12
)


@settings(max_examples=300, deadline=None)
@given(parts=fragments)
def test_a_statement_converts_as_djangos_cursor_converts_it(parts):
    query = "".join(parts)
    django_cursor, ours = DjangoCursor.__new__(DjangoCursor), SQLiteCursorWrapper.__new__(SQLiteCursorWrapper)
    assert ours.convert_query(query) == django_cursor.convert_query(query)
    names = ["a", "b"]
    named = "SELECT %(a)s, %(b)s"
    assert ours.convert_query(named, param_names=names) == django_cursor.convert_query(
        named, param_names=names
    )


def test_the_conversion_is_remembered_per_statement():
    _qmark.cache_clear()
    for _ in range(3):
        _qmark("UPDATE t SET a = %s WHERE id = %s")
    assert (_qmark.cache_info().hits, _qmark.cache_info().misses) == (2, 1)


def test_the_store_runs_on_it(db):
    from django.db import connection

    with connection.cursor() as cursor:
        assert isinstance(cursor.cursor, SQLiteCursorWrapper)
        cursor.execute("SELECT %s || '%%'", ["50"])
        assert cursor.fetchone() == ("50%",)
