"""The filters' fast paths (issue #14, item 5) select exactly what the plain SQL does:

- `membership_count`: a filter that is one membership condition of one product is
  counted from `membership` alone;
- `walk_order_index`: the correlated per-contact probe a first page uses to walk its
  sort index;
- the repository picks them (count, page) and its pages are the same rows in the
  same order either way.

Checked against the oracle of tests/test_filters_sql.py (random data, random filters)
on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

import session_tui.data.repositories.contacts as contacts_module
from session_tui.data.clock import utcnow
from session_tui.data.db import Database, open_database
from session_tui.data.filters import Group, parse
from session_tui.data.filters.compile import membership_count
from session_tui.data.repositories.contacts import ContactQuery, ContactsRepository, SortKey
from tests.filter_oracle import C, M, matches
from tests.test_filters_sql import NOW, groups, load, people, selected

COUNTED_FROM_MEMBERSHIP = [
    'product:"1:1 Coaching"',
    'product:"1:1 Coaching" status:active',
    'product:"1:1 Coaching" and status:expired and payment:paid',
    "product:Course and (status:active or payment:comped)",
    "product:Missing status:active",
]
NOT_COUNTED_FROM_MEMBERSHIP = [
    "",
    "payment:paid",  # several memberships per contact: the semi-join counts those
    "status:active",
    "not product:Course",
    'product:"1:1 Coaching" status:none',  # "has no such membership"
    'product:"1:1 Coaching" (status:none or status:active)',
    "product:Course product:Community",
    'product:"1:1 Coaching" domain:gmail.com',
    'product:"1:1 Coaching" or status:none',
    "product:Course (status:active or domain:x.org)",
]


def counted(db: Database, flt: Group) -> int | None:
    stmt = membership_count(flt, db.dialect, NOW)
    if stmt is None:
        return None
    with db.engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


@pytest.mark.parametrize("text", COUNTED_FROM_MEMBERSHIP)
def test_one_membership_condition_is_counted_from_membership(text: str) -> None:
    stmt = membership_count(parse(text), "sqlite", NOW)
    assert stmt is not None
    sql = str(stmt)
    assert "FROM membership" in sql and "FROM contact" not in sql


@pytest.mark.parametrize("text", NOT_COUNTED_FROM_MEMBERSHIP)
def test_other_filters_keep_the_semi_join(text: str) -> None:
    assert membership_count(parse(text), "sqlite", NOW) is None


def _check(db: Database, data: list[C], filters: list[Group]) -> None:
    by_id = load(db, data)
    for flt in filters:
        expected = {i for i, p in by_id.items() if matches(flt, p, NOW)}
        assert selected(db, flt, walk=True) == expected, str(flt)
        n = counted(db, flt)
        assert n is None or n == len(expected), str(flt)


SCOPES = st.sampled_from(COUNTED_FROM_MEMBERSHIP + NOT_COUNTED_FROM_MEMBERSHIP).map(parse)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=people(), filters=st.lists(st.one_of(groups(), SCOPES), min_size=1, max_size=8))
def test_fast_paths_agree_with_the_oracle_sqlite(
    sqlite_db: Database, data: list[C], filters: list[Group]
) -> None:
    _check(sqlite_db, data, filters)


_PG: dict[str, Database] = {}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=people(), filters=st.lists(st.one_of(groups(), SCOPES), min_size=1, max_size=8))
def test_fast_paths_agree_with_the_oracle_postgresql(
    pg_url: str, data: list[C], filters: list[Group]
) -> None:
    db = _PG.get(pg_url)
    if db is None:
        db = _PG[pg_url] = open_database(pg_url)
    _check(db, data, filters)


@pytest.fixture(autouse=True)
def _close_pg() -> Iterator[None]:
    yield
    for db in _PG.values():
        db.dispose()
    _PG.clear()


# -- the repository ---------------------------------------------------------------------


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements `db` runs inside the block."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        seen.append(sql)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _many() -> list[C]:
    """60 contacts, every other one with an active paid Course membership; names that
    sort in another order than the ids."""
    now = utcnow()
    out = []
    for i in range(60):
        ended = now - timedelta(days=3)
        ms = [M("Course", "paid")] if i % 2 else [M("Course", "free", expires_at=ended)]
        if i % 3 == 0:
            ms.append(M("Community", "comped"))
        out.append(C(f"p{i:02d}@x.org", f"F{(i * 7) % 60:02d}", f"L{(i * 11) % 5}", now, ms))
    return out


@pytest.mark.parametrize("sort", list(SortKey))
def test_pages_are_the_same_walking_or_not(
    db: Database, sort: SortKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(db, _many())
    repo = ContactsRepository(db)
    for text in ("product:Course status:active", "payment:comped", "product:Course payment:free"):
        for descending in (False, True):
            query = ContactQuery(filter=parse(text), sort=sort, descending=descending)
            total = repo.count(query)
            windows = [(0, 7), (5, 10), (total - 4, 10), (total - 12, 5)]
            monkeypatch.setattr(contacts_module, "WALK_MAX_VISITS", 0)
            plain = [[r.id for r in repo.page(query, o, n, total)] for o, n in windows]
            monkeypatch.setattr(contacts_module, "WALK_MAX_VISITS", 10_000)
            with statements(db) as seen:
                walked = [[r.id for r in repo.page(query, o, n, total)] for o, n in windows]
            assert walked == plain, (text, descending)
            assert all(plain), (text, descending)
            walks = any("EXISTS" in sql for sql in seen)
            # SQLite walks (not in the status order); PostgreSQL's planner decides itself
            assert walks == (db.is_sqlite and sort is not SortKey.STATUS)


def test_count_reads_membership_only_for_one_membership_condition(db: Database) -> None:
    load(db, _many())
    repo = ContactsRepository(db)
    with statements(db) as seen:
        assert repo.count(ContactQuery(filter=parse("product:Course status:active"))) == 30
    (count,) = [sql for sql in seen if sql.startswith("SELECT")]
    assert "FROM contact" not in count and "FROM membership" in count
    with statements(db) as seen:
        # with the search box as well: the contacts are read
        assert repo.count(ContactQuery(search="x.org", filter=parse("product:Course"))) == 60
    (count,) = [sql for sql in seen if sql.startswith("SELECT")]
    assert "FROM contact" in count


def test_a_sparse_filter_does_not_walk(sqlite_db: Database) -> None:
    """Few matches in many contacts: the walk would visit most of the table; the page
    reads the matches and sorts them instead."""
    data = _many()
    data[7].memberships.append(M("Community", "free"))
    load(sqlite_db, data)
    repo = ContactsRepository(sqlite_db)
    query = ContactQuery(filter=parse("product:Community payment:free"))
    assert repo.count(query) == 1
    with statements(sqlite_db) as seen, pytest.MonkeyPatch.context() as mp:
        mp.setattr(contacts_module, "WALK_MAX_VISITS", 20)  # 60 contacts / 1 match * 1 row
        rows = repo.page(query, 0, 1, total=1)
    assert [r.email for r in rows] == ["p07@x.org"]
    assert not any("EXISTS" in sql for sql in seen)


@pytest.mark.parametrize("sort", list(SortKey))
def test_a_small_search_is_fenced_on_postgresql(
    db: Database, sort: SortKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL reads a search's few matches and sorts them (a MATERIALIZED CTE)
    instead of walking the sort index; the rows and their order are the same."""
    load(db, _many())
    repo = ContactsRepository(db)
    for search, text in (("p1", ""), ("x.org", "product:Course"), ("f0", "payment:comped")):
        for descending in (False, True):
            query = ContactQuery(
                search=search,
                filter=parse(text) if text else None,
                sort=sort,
                descending=descending,
            )
            total = repo.count(query)
            windows = [(0, 4), (2, 5), (total - 3, 5)]
            monkeypatch.setattr(contacts_module, "WALK_MIN_MATCHES", 0)  # never fenced
            plain = [[r.id for r in repo.page(query, o, n, total)] for o, n in windows]
            monkeypatch.setattr(contacts_module, "WALK_MIN_MATCHES", 50_000)
            with statements(db) as seen:
                fenced = [[r.id for r in repo.page(query, o, n, total)] for o, n in windows]
            assert fenced == plain and all(plain), (search, text, descending)
            assert any("MATERIALIZED" in sql for sql in seen) == (not db.is_sqlite)
