"""Contacts: paging, counting, search, sort. The query code every screen and the CLI share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, and_, func, select, true

from session_tui.data.clock import utcnow
from session_tui.data.db import Database
from session_tui.data.models import Status, contact_t, membership_t, product_t
from session_tui.data.records import from_row
from session_tui.data.repositories.paging import Window, narrows, plan_window
from session_tui.data.search import fts_count, normalize_term, row_match_clause, search_clause
from session_tui.data.sqlite_bulk import in_
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


def _ids_in(dialect: str, column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    """`column IN ids`. PostgreSQL: one array parameter (`= ANY`), so a page's 100 ids
    are not 100 bind parameters to build, convert and send (most of the products
    query's time on the client); SQLite keeps its plain IN list."""
    if dialect == "postgresql":
        return in_(dialect, column, ids)
    return column.in_(list(ids))  # type: ignore[no-any-return]


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
        if dialect == "postgresql":
            first = (
                c.active_until.desc().nulls_first()
                if descending
                else (c.active_until.desc().nulls_last())
            )
            return [first, c.id.asc() if descending else c.id.desc()]
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
        window = plan_window(offset, limit, total)
        if window is None:
            return []
        offset, limit, reverse = window
        now = utcnow()
        descending = query.descending != reverse
        c = contact_t.c
        columns = (
            c.id,
            c.email,
            c.first_name,
            c.last_name,
            c.created_at,
            c.updated_at,
            c.version,
            c.active_until,
        )
        matches_stmt = self._search_only_count(query) if offset <= WALK_MAX_OFFSET else None
        with self.db.read() as conn:
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
                    select(*columns, c.name_key)
                    .where(where)
                    .cte("matches")
                    .prefix_with("MATERIALIZED")
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
            products = self._products_for(conn, [r.id for r in raw], now)
        if reverse:
            raw.reverse()
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
