"""Contacts: paging, counting, search, sort. The query code every screen and the CLI share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import partial
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, and_, func, select, true

from session_tui.data.clock import utcnow
from session_tui.data.db import Database
from session_tui.data.records import from_row
from session_tui.data.repositories.paging import Window, narrows, plan_window
from session_tui.data.search import fts_count, normalize_term, row_match_clause, search_clause
from session_tui.data.sqlite_bulk import in_
from session_tui.data.tables import Status, contact_t, membership_t, product_t
from session_tui.data.validation import clean_email

# A search matching at least this many contacts reads its first pages by walking the
# sort index and probing the matches (search_clause's walk_order_index), instead of
# fetching and sorting every match; deeper pages sort (the walk would grow with them).
WALK_MIN_MATCHES = 50_000
WALK_MAX_OFFSET = 5_000
# A filter's page walks the sort index (compile_where's walk_order_index) when the walk
# is expected to visit at most this many contacts before it has its rows: (offset +
# limit) × contacts / matches, matches spread evenly over the order. Each visit is one
# probe of the contact's memberships (3-8 µs at 1M); the other plan reads every match and
# sorts them (at 1M: 100-300 ms for a popular product).
WALK_MAX_VISITS = 10_000
# PostgreSQL, `count_and_page` of a search the trigram index answers: the first page is
# looked for among this many first contacts of the order (a walk of the sort index that
# stops there). Found: the matches are dense enough in the order that walking is the
# quick first page, and the count is left to the caller. Not found: every match is read
# once, counted and sorted in the same statement.
PG_HEAD_ROWS = 3_000


class SortKey(StrEnum):
    """The orders of the Contacts table (ascending; `descending` reverses them): name
    (last, then first), email, status (active first), joined."""

    NAME = "name"
    EMAIL = "email"
    STATUS = "status"
    JOINED = "joined"


class FilterLike(Protocol):
    """What a compiled filter offers the repository (see data/filters)."""

    def where(
        self, dialect: str, now: datetime, *, walk_order_index: bool = False
    ) -> ColumnElement[bool]: ...

    def count_statement(self, dialect: str, now: datetime) -> Select[Any] | None: ...


@dataclass(frozen=True)
class ContactQuery:
    """What the Contacts table shows: search box text, filter, sort."""

    search: str = ""
    filter: FilterLike | None = None
    sort: SortKey = SortKey.NAME
    descending: bool = False


@dataclass(frozen=True)
class ContactRow:
    id: int
    email: str
    first_name: str
    last_name: str
    created_at: datetime
    updated_at: datetime
    version: int
    status: Status
    # (product name, membership active?) for every membership, by product name
    products: tuple[tuple[str, bool], ...] = field(default=())

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


def status_of(active_until: datetime | None, now: datetime) -> Status:
    if active_until is None:
        return Status.NONE
    return Status.ACTIVE if active_until > now else Status.EXPIRED


def _contact_row(r: Any, products: dict[int, list[tuple[str, bool]]], now: datetime) -> ContactRow:
    """A contact's table row from its `contact` row and the products of `_products_for`."""
    return from_row(
        ContactRow,
        r,
        status=status_of(r.active_until, now),
        products=tuple(products.get(r.id, ())),
    )


def _columns() -> tuple[Any, ...]:
    """The `contact` columns a table row is built from."""
    c = contact_t.c
    return (
        c.id,
        c.email,
        c.first_name,
        c.last_name,
        c.created_at,
        c.updated_at,
        c.version,
        c.active_until,
    )


def _ids_in(dialect: str, column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    """`column IN ids`. PostgreSQL: one array parameter (`= ANY`), so a page's 100 ids
    are not 100 bind parameters to build, convert and send (most of the products
    query's time on the client); SQLite keeps its plain IN list."""
    if dialect == "postgresql":
        return in_(dialect, column, ids)
    return column.in_(list(ids))  # type: ignore[no-any-return]


# The column each order sorts by before the id (see _order_by).
_SORT_COLUMN = {
    SortKey.NAME: "name_key",
    SortKey.EMAIL: "email",
    SortKey.JOINED: "created_at",
    SortKey.STATUS: "active_until",
}


def _sort_keys(sort: SortKey) -> tuple[Any, Any]:
    """The id and the column `sort` orders by: what the order of a set of contacts
    needs of each (its rows are read whole by id after)."""
    c = contact_t.c
    return c.id, c[_SORT_COLUMN[sort]]


def _order_by(sort: SortKey, descending: bool, dialect: str, columns: Any = None) -> list[Any]:
    """The ORDER BY of a sort, on `columns` (default: the contact table's)."""
    c = contact_t.c if columns is None else columns
    cols: list[Any]
    if sort is SortKey.NAME:
        # Last name, then first name, in the Unicode Collation Algorithm's order
        # (data/collation.py): bytes both databases compare alike (ix_contact_name_key).
        cols = [c.name_key, c.id]
    elif sort is SortKey.EMAIL:
        cols = [c.email]
    elif sort is SortKey.JOINED:
        cols = [c.created_at, c.id]
    else:
        # Active first (latest end first), then expired, then no membership.
        # SQLite sorts NULL lowest, so DESC already puts "none" last and can
        # walk ix_contact_active_until backwards.
        # PostgreSQL sorts NULL highest: "none" last needs NULLS LAST, and the
        # descending order is its exact reverse (as on SQLite; a window in the second
        # half is read in the reverse order, see plan_window).
        if dialect == "postgresql":
            if descending:
                return [c.active_until.asc().nulls_first(), c.id.asc()]
            return [c.active_until.desc().nulls_last(), c.id.desc()]
        cols = [c.active_until, c.id]
        return [col.asc() if descending else col.desc() for col in cols]
    return [col.desc() if descending else col.asc() for col in cols]


class ContactsRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- queries -----------------------------------------------------------
    def where(
        self,
        query: ContactQuery,
        now: datetime | None = None,
        *,
        walk_order_index: bool = False,
        walk_filter: bool = False,
    ) -> ColumnElement[bool]:
        """`walk_order_index`: the search's, `walk_filter`: the filter's walking form
        (see `page`)."""
        now = now or utcnow()
        clauses: list[ColumnElement[bool]] = []
        if query.search:
            clauses.append(
                search_clause(self.db.dialect, query.search, walk_order_index=walk_order_index)
            )
        if query.filter is not None:
            clauses.append(query.filter.where(self.db.dialect, now, walk_order_index=walk_filter))
        return and_(true(), *clauses) if clauses else true()

    def total(self) -> int:
        with self.db.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(contact_t)).scalar_one())

    def count(self, query: ContactQuery) -> int:
        stmt = self._search_only_count(query)
        if stmt is None:
            stmt = self._filter_only_count(query)
        if stmt is None:
            stmt = select(func.count()).select_from(contact_t).where(self.where(query))
        with self.db.read() as conn:
            return int(conn.execute(stmt).scalar_one())

    def _filter_only_count(self, query: ContactQuery) -> Any:
        """The count from the membership indexes alone, when the query is only a filter
        that is one membership condition (`Group.count_statement`)."""
        if query.filter is None or normalize_term(query.search):
            return None
        return query.filter.count_statement(self.db.dialect, utcnow())

    def _fence_search(self, query: ContactQuery, total: int | None) -> bool:
        """PostgreSQL, a search matching fewer than WALK_MIN_MATCHES contacts: read the
        matches (trigram index) and sort them, fenced off from the sort index.

        The planner estimates where the matches lie in the order as if they were spread
        evenly, and walks the sort index filtering every row; but a name search's
        matches bunch up in the name order (`smith`: 32,146 matches, all late -- 693,669
        rows read, 2.4 s at 1M, against ~0.15 s for reading and sorting the matches).
        Sorting the matches costs in proportion to their number, hence the bound (the
        one SQLite's search uses to decide the other way, see WALK_MIN_MATCHES)."""
        return (
            self.db.dialect == "postgresql"
            and bool(normalize_term(query.search))
            and total is not None
            and total < WALK_MIN_MATCHES
        )

    def _walk_filter(
        self, conn: Any, query: ContactQuery, window: Window, total: int | None
    ) -> bool:
        """Whether the page of a filter should walk the sort index (SQLite): when the
        walk is expected to find its rows within WALK_MAX_VISITS contacts. Not for a
        search (its own walk), nor the status order (a status filter's matches bunch
        up in it), nor without the match count (`total`)."""
        if (
            not self.db.is_sqlite
            or query.filter is None
            or normalize_term(query.search)
            or query.sort is SortKey.STATUS
            or total is None
            or total <= 0
            or window.offset > WALK_MAX_OFFSET
        ):
            return False
        # max(id): one look at the primary key; at least the number of contacts.
        contacts = conn.execute(select(func.max(contact_t.c.id))).scalar() or 0
        return (window.offset + window.limit) * contacts <= WALK_MAX_VISITS * total

    def _search_only_count(self, query: ContactQuery) -> Any:
        """The count from the search index alone, when the query is only such a search."""
        if query.filter is not None:
            return None
        return fts_count(self.db.dialect, query.search)

    def page(
        self, query: ContactQuery, offset: int, limit: int, total: int | None = None
    ) -> list[ContactRow]:
        """Rows [offset, offset+limit) of the query's order.

        With `total` known and the window in the second half, the order is
        reversed so that the database skips at most half of the rows (End is
        as cheap as Home).
        """
        with self.db.read() as conn:
            return self._page(conn, query, offset, limit, total)

    def count_and_page(
        self, query: ContactQuery, offset: int, limit: int
    ) -> tuple[int | None, list[ContactRow]]:
        """Rows [offset, offset+limit) of the query's order, and the query's count when
        it comes with them at about their cost -- else None in its place: the caller
        asks `count` apart (the table paints the rows first), for a common term or a
        short one, whose count is a scan of many rows while its first page is not.

        What the table's first read runs (ui/widgets/paged_table/loader.py):
        - SQLite, a search the FTS index answers: the count from the index alone,
          then the page with it (the page needs it to pick its plan anyway);
        - PostgreSQL, a search (with or without a filter): the page among the first
          PG_HEAD_ROWS contacts of the order, without the count; when they hold too
          few matches, every match read once, counted and sorted in ONE statement
          (`_pg_counted_page`) -- not a walk of the sort index, which matches bunched
          late in the order (a name's) turn into a scan of the table;
        - anything else: the page alone.
        """
        if limit <= 0:
            return None, []
        with self.db.read() as conn:
            if self.db.is_sqlite:
                stmt = self._search_only_count(query)
                total = None if stmt is None else int(conn.execute(stmt).scalar_one())
                return total, self._page(conn, query, offset, limit, total)
            if not normalize_term(query.search):
                return None, self._page(conn, query, offset, limit, None)
            now = utcnow()
            if query.sort is not SortKey.STATUS:  # no index walks that order here
                raw = self._pg_head_page(conn, query, offset, limit, now)
                if len(raw) == limit:
                    return None, self._rows(conn, raw, now)
            counted, raw = self._pg_counted_page(conn, query, offset, limit, now)
            return counted, self._rows(conn, raw, now)

    def _pg_head_page(
        self, conn: Any, query: ContactQuery, offset: int, limit: int, now: datetime
    ) -> list[Any]:
        """PostgreSQL: the window's rows as far as they lie among the first PG_HEAD_ROWS
        contacts of the order: a walk of the order's index that stops there, each
        contact's search text tested on the way (a filter: its matching ids apart).
        Fewer rows than `limit` when they do not lie there."""
        c = contact_t.c
        order = partial(_order_by, query.sort, query.descending, self.db.dialect)
        head = (
            select(*_columns(), c.name_key, c.search_text)
            .order_by(*order())
            .limit(PG_HEAD_ROWS)
            .subquery("head")
        )
        where = row_match_clause(self.db.dialect, query.search, head.c.search_text)
        if query.filter is not None:
            matching = select(c.id).where(query.filter.where(self.db.dialect, now))
            where = and_(where, head.c.id.in_(matching))
        stmt = (
            select(*(head.c[col.name] for col in _columns()))
            .where(where)
            .order_by(*order(head.c))
            .limit(limit)
            .offset(offset)
        )
        return list(conn.execute(stmt).all())

    def _pg_counted_page(
        self, conn: Any, query: ContactQuery, offset: int, limit: int, now: datetime
    ) -> tuple[int | None, list[Any]]:
        """PostgreSQL: `(count, rows)` in one statement. Every match is read once
        (trigram index) into a MATERIALIZED CTE of its id and sort key, which is
        counted and sorted; only the window's rows are then read whole (by id).
        Keys only: the match set stays small (for 32,146 matches ~1 MB instead of
        ~5 MB spilled to disk past work_mem) and the read of the matches is cheaper.
        The count is None only for an empty window past the first row (no row to
        carry it)."""
        c = contact_t.c
        fenced = (
            select(*_sort_keys(query.sort))
            .where(self.where(query, now))
            .cte("matches")
            .prefix_with("MATERIALIZED")
        )
        matched = select(func.count()).select_from(fenced).scalar_subquery()
        order = partial(_order_by, query.sort, query.descending, self.db.dialect)
        window = (
            select(fenced).order_by(*order(fenced.c)).limit(limit).offset(offset).subquery("window")
        )
        stmt = (
            select(*_columns(), matched.label("matched"))
            .join_from(contact_t, window, window.c.id == c.id)
            .order_by(*order(window.c))
        )
        raw = list(conn.execute(stmt).all())
        if raw:
            return int(raw[0].matched), raw
        return (0 if offset == 0 else None), raw

    def _page(
        self, conn: Any, query: ContactQuery, offset: int, limit: int, total: int | None
    ) -> list[ContactRow]:
        window = plan_window(offset, limit, total)
        if window is None:
            return []
        offset, limit, reverse = window
        now = utcnow()
        descending = query.descending != reverse
        c = contact_t.c
        columns = _columns()
        matches_stmt = self._search_only_count(query) if offset <= WALK_MAX_OFFSET else None
        walk = False
        if matches_stmt is not None:
            matches = total if total is not None else conn.execute(matches_stmt).scalar_one()
            walk = matches >= WALK_MIN_MATCHES
        walk_filter = self._walk_filter(conn, query, window, total)
        where = self.where(query, now, walk_order_index=walk, walk_filter=walk_filter)
        if self._fence_search(query, total):
            # PostgreSQL: the matches first (MATERIALIZED: the planner may not fold
            # it back into a walk of the sort index), then sorted.
            fenced = (
                select(*columns, c.name_key).where(where).cte("matches").prefix_with("MATERIALIZED")
            )
            stmt = select(fenced).order_by(
                *_order_by(query.sort, descending, self.db.dialect, fenced.c)
            )
        else:
            stmt = (
                select(*columns)
                .where(where)
                .order_by(*_order_by(query.sort, descending, self.db.dialect))
            )
        raw = list(conn.execute(stmt.limit(limit).offset(offset)).all())
        if reverse:
            raw.reverse()
        return self._rows(conn, raw, now)

    def _rows(self, conn: Any, raw: Sequence[Any], now: datetime) -> list[ContactRow]:
        """The table rows of `raw` (`contact` rows), with their products."""
        products = self._products_for(conn, [r.id for r in raw], now)
        return [_contact_row(r, products, now) for r in raw]

    @staticmethod
    def refines(old: ContactQuery, new: ContactQuery) -> bool:
        """True when `new` only narrows `old`'s search (same filter and order), so that
        its matches are some of `old`'s, in the same order (see `refine`)."""
        return narrows(old, new)

    def refine(self, query: ContactQuery, rows: Sequence[ContactRow]) -> list[ContactRow]:
        """Those of `rows` that match `query`'s search, in the same order.

        For typing on in the search box: when `rows` are the first rows of a query
        that `query` refines (`refines(old, query)`), the result is exactly the first
        rows of `query` -- as many as lie among them -- read with one look at those
        few rows instead of a search of every contact. The rows are returned as given
        (the caller re-reads them with `page` to be exact to the moment).
        """
        if not rows:
            return []
        c = contact_t.c
        stmt = select(c.id).where(
            c.id.in_([r.id for r in rows]), row_match_clause(self.db.dialect, query.search)
        )
        with self.db.engine.connect() as conn:
            matched = set(conn.execute(stmt).scalars())
        return [r for r in rows if r.id in matched]

    def ids(self, query: ContactQuery) -> list[int]:
        """Every id matching the query (for select-all); ids only, in id order."""
        stmt = select(contact_t.c.id).where(self.where(query)).order_by(contact_t.c.id)
        with self.db.engine.connect() as conn:
            return list(conn.execute(stmt).scalars())

    def get(self, contact_id: int) -> ContactRow | None:
        now = utcnow()
        c = contact_t.c
        with self.db.engine.connect() as conn:
            r = conn.execute(select(contact_t).where(c.id == contact_id)).first()
            if r is None:
                return None
            products = self._products_for(conn, [contact_id], now)
        return _contact_row(r, products, now)

    def get_by_email(self, email: str) -> ContactRow | None:
        with self.db.engine.connect() as conn:
            cid = conn.execute(
                select(contact_t.c.id).where(contact_t.c.email == clean_email(email))
            ).scalar()
        return self.get(cid) if cid is not None else None

    def suggest_emails(self, prefix: str, limit: int = 10) -> list[str]:
        """Emails starting with `prefix` (for completion), using the unique email index."""
        prefix = prefix.strip().lower()
        if not prefix:
            return []
        c = contact_t.c
        # A range on the index instead of LIKE, so it is fast on both databases.
        stmt = (
            select(c.email)
            .where(c.email >= prefix, c.email < prefix + "\U0010ffff")
            .order_by(c.email)
            .limit(limit)
        )
        with self.db.engine.connect() as conn:
            return list(conn.execute(stmt).scalars())

    @staticmethod
    def _products_for(
        conn: Any, ids: Sequence[int], now: datetime
    ) -> dict[int, list[tuple[str, bool]]]:
        if not ids:
            return {}
        m = membership_t.c
        stmt = (
            select(m.contact_id, product_t.c.name, m.expires_at, m.cancelled_at)
            .join(product_t, product_t.c.id == m.product_id)
            .where(_ids_in(conn.dialect.name, m.contact_id, ids))
            .order_by(m.contact_id, product_t.c.name)
        )
        out: dict[int, list[tuple[str, bool]]] = {}
        for cid, name, expires_at, cancelled_at in conn.execute(stmt):
            active = cancelled_at is None and (expires_at is None or expires_at > now)
            out.setdefault(cid, []).append((name, active))
        return out
