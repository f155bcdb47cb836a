"""Reading memberships: the Memberships screen's query and pages, narrowing a
search (`refines` / `refine`), one membership, a contact's memberships and history."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, select, true

from session_tui.data.clock import utcnow
from session_tui.data.db import Database
from session_tui.data.repositories.memberships.events import event_kind
from session_tui.data.repositories.memberships.rows import (
    HistoryEvent,
    MembershipQuery,
    MembershipRow,
    MembershipSort,
    get_row,
    joined,
    row_columns,
    to_row,
)
from session_tui.data.repositories.memberships.status import active_clause, expired_clause
from session_tui.data.repositories.paging import narrows, plan_window
from session_tui.data.repositories.products import ProductRef, find_product
from session_tui.data.search import row_match_clause, search_clause
from session_tui.data.tables import EventKind, Status, contact_t, event_t, membership_t, product_t
from session_tui.data.validation import ValidationError, clean_email, strip_controls

# SQLite paging: from this many matching rows on, walk ix_membership_started.
WALK_ORDER_FROM = 20_000


_Part = tuple[ColumnElement[bool] | None, list[Any]]


def _orders(sort: MembershipSort) -> tuple[Any, list[_Part]]:
    """What an order reads from, and its parts in ascending order: (the rows of the
    part, or None for all; the sort keys, the last one a tie-break that makes the
    order total). Each order walks an index on SQLite:
    - started: ix_membership_started (started_at, id);
    - expires: ix_membership_expires (expires_at, cancelled_at, contact_id, id: the
      whole index, so equal expiries need no sort), then the "never" rows by id;
    - email: the contact's email index, then ux_membership_contact_product;
    - product: ux_product_name_lower, then ix_membership_product (product, contact)."""
    m, c, p = membership_t.c, contact_t.c, product_t.c
    if sort is MembershipSort.EXPIRES:
        return membership_t, [
            (m.expires_at.is_not(None), [m.expires_at, m.cancelled_at, m.contact_id, m.id]),
            (m.expires_at.is_(None), [m.id]),
        ]
    if sort is MembershipSort.EMAIL:
        source = membership_t.join(contact_t, c.id == m.contact_id)
        return source, [(None, [c.email, m.product_id])]
    if sort is MembershipSort.PRODUCT:
        source = membership_t.join(product_t, p.id == m.product_id)
        return source, [(None, [func.lower(p.name), m.contact_id])]
    return membership_t, [(None, [m.started_at, m.id])]


class MembershipReads:
    """The reading half of `MembershipsRepository`."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    def where(
        self, query: MembershipQuery, now: datetime, *, walk_order: bool = False
    ) -> ColumnElement[bool]:
        """A WHERE clause over the `membership` table alone (contact conditions become
        `contact_id IN (…)`), so that paging walks one index without joins.

        `walk_order=True` (SQLite paging of large results) writes the product and
        payment conditions as expressions (`product_id + 0`), which SQLite cannot
        answer from an index: it then walks ix_membership_started in the page's
        order and tests them there, instead of reading every match from the
        product/payment index and sorting them all."""
        m, c = membership_t.c, contact_t.c
        product_col: Any = m.product_id + 0 if walk_order else m.product_id
        payment_col: Any = m.payment_type.concat("") if walk_order else m.payment_type
        clauses: list[ColumnElement[bool]] = []
        if query.search.strip():
            matching = select(c.id).where(search_clause(self.db.dialect, query.search))
            clauses.append(m.contact_id.in_(matching))
        if query.email is not None:
            email = clean_email(query.email)
            clauses.append(m.contact_id.in_(select(c.id).where(c.email == email)))
        if query.contact_id is not None:
            clauses.append(m.contact_id == query.contact_id)
        if query.product_id is not None:
            clauses.append(product_col == query.product_id)
        if query.payment_type is not None:
            clauses.append(payment_col == query.payment_type.value)
        if query.status is Status.ACTIVE:
            clauses.append(active_clause(now))
        elif query.status is Status.EXPIRED:
            clauses.append(expired_clause(now))
        elif query.status is Status.NONE:
            clauses.append(~true())
        return and_(true(), *clauses)

    def count(self, query: MembershipQuery) -> int:
        now = self.clock()
        stmt = select(func.count()).select_from(membership_t).where(self.where(query, now))
        with self.db.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def total(self) -> int:
        with self.db.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(membership_t)).scalar_one())

    def page(
        self,
        query: MembershipQuery,
        offset: int,
        limit: int,
        total: int | None = None,
        *,
        sort: MembershipSort = MembershipSort.STARTED,
        descending: bool = True,
    ) -> list[MembershipRow]:
        """Rows [offset, offset+limit) in the order `sort` (newest start first by
        default); see `_orders` for each order and its tie-break.

        With `total` known and the window in the second half, the database walks the
        order backwards so that it skips at most half of the rows.
        """
        window = plan_window(offset, limit, total)
        if window is None:
            return []
        offset, limit, reverse = window
        now = self.clock()
        m = membership_t.c
        # Step 1 walks the order over `membership` (and, for email or product, the one
        # table it sorts by) and skips `offset` rows without reading the others;
        # step 2 joins just the page's rows. A small result is cheapest read from the
        # filter's index and sorted; a large one by walking the order's index (see
        # `where`). Unknown size: walk (page 0 stops early).
        walk = self.db.is_sqlite and (total is None or total >= WALK_ORDER_FROM)
        where = self.where(query, now, walk_order=walk)
        with self.db.engine.connect() as conn:
            ids = self._ids_in_order(conn, where, sort, descending != reverse, offset, limit)
            if not ids:
                return []
            rows = {
                r.id: r
                for r in conn.execute(
                    select(*row_columns()).select_from(joined()).where(m.id.in_(ids))
                )
            }
        if reverse:
            ids.reverse()
        return [to_row(rows[i], now) for i in ids if i in rows]

    def _ids_in_order(
        self,
        conn: Connection,
        where: ColumnElement[bool],
        sort: MembershipSort,
        descending: bool,
        offset: int,
        limit: int,
    ) -> list[int]:
        """The ids of rows [offset, offset+limit) of the order, read part by part
        (an order made of parts, like expiry's dated then "never", reads each part
        from its own index range: no sort of every row)."""
        m = membership_t.c
        source, parts = _orders(sort)
        if descending:
            parts = [(cond, [k.desc() for k in keys]) for cond, keys in reversed(parts)]
        else:
            parts = [(cond, [k.asc() for k in keys]) for cond, keys in parts]
        ids: list[int] = []
        for cond, keys in parts:
            if limit <= 0:
                break
            clause = where if cond is None else and_(where, cond)
            stmt = (
                select(m.id)
                .select_from(source)
                .where(clause)
                .order_by(*keys)
                .limit(limit)
                .offset(offset)
            )
            got = list(conn.execute(stmt).scalars())
            if got:
                ids += got
                limit -= len(got)
                offset = 0
            elif offset:  # the window starts after this part: skip all of it
                count = select(func.count()).select_from(source).where(clause)
                offset = max(0, offset - int(conn.execute(count).scalar_one()))
        return ids

    def ids(self, query: MembershipQuery) -> list[int]:
        """The id of every membership matching the query (select-all), in no order:
        one read of the membership table (or of an index covering the filter)."""
        stmt = select(membership_t.c.id).where(self.where(query, self.clock()))
        with self.db.engine.connect() as conn:
            return list(conn.execute(stmt).scalars())

    @staticmethod
    def refines(old: MembershipQuery, new: MembershipQuery) -> bool:
        """True when `new` only narrows `old`'s search, all else equal (see `refine`)."""
        return narrows(old, new)

    def refine(self, query: MembershipQuery, rows: Sequence[MembershipRow]) -> list[MembershipRow]:
        """Those of `rows` whose contact matches `query`'s search, in the same order.

        When `rows` are the first rows of a query that `query` narrows (`refines`),
        these are exactly the first rows of `query` -- as many as lie among them --
        found by looking at those few contacts only (typing on in the search box).
        """
        if not rows:
            return []
        c = contact_t.c
        stmt = select(c.id).where(
            c.id.in_(sorted({r.contact_id for r in rows})),
            row_match_clause(self.db.dialect, query.search),
        )
        with self.db.engine.connect() as conn:
            matched = set(conn.execute(stmt).scalars())
        return [r for r in rows if r.contact_id in matched]

    def all(self, query: MembershipQuery | None = None) -> list[MembershipRow]:
        """Every matching membership, by email then product (the CLI's `list`)."""
        now = self.clock()
        c, p = contact_t.c, product_t.c
        stmt = (
            select(*row_columns())
            .select_from(joined())
            .where(self.where(query or MembershipQuery(), now))
            .order_by(c.email, p.name, membership_t.c.id)
        )
        with self.db.engine.connect() as conn:
            return [to_row(r, now) for r in conn.execute(stmt)]

    def get(self, membership_id: int) -> MembershipRow | None:
        with self.db.engine.connect() as conn:
            return get_row(conn, membership_id, self.clock())

    def find(self, email: str, product: ProductRef) -> MembershipRow | None:
        with self.db.engine.connect() as conn:
            prod = find_product(conn, product)
            if prod is None:
                return None
            m, c = membership_t.c, contact_t.c
            r = conn.execute(
                select(*row_columns())
                .select_from(joined())
                .where(c.email == clean_email(email), m.product_id == prod.id)
            ).first()
            return to_row(r, self.clock()) if r is not None else None

    def require(self, email: str, product: ProductRef) -> MembershipRow:
        """Like `find`, with a clear ValidationError when there is no such membership."""
        row = self.find(email, product)
        if row is not None:
            return row
        with self.db.engine.connect() as conn:
            prod = find_product(conn, product)
            has_contact = conn.execute(
                select(contact_t.c.id).where(contact_t.c.email == clean_email(email))
            ).first()
        if prod is None:
            raise ValidationError(
                "product", f"there is no product “{strip_controls(str(product))}”"
            )
        if has_contact is None:
            raise ValidationError("email", f"there is no contact {strip_controls(email).strip()}")
        raise ValidationError(
            "membership", f"{strip_controls(email).strip()} has no “{prod.name}” membership"
        )

    def for_contact(self, contact_id: int) -> list[MembershipRow]:
        now = self.clock()
        stmt = (
            select(*row_columns())
            .select_from(joined())
            .where(membership_t.c.contact_id == contact_id)
            .order_by(product_t.c.name, membership_t.c.id)
        )
        with self.db.engine.connect() as conn:
            return [to_row(r, now) for r in conn.execute(stmt)]

    def history(self, contact_id: int) -> list[HistoryEvent]:
        """Every event of the contact's memberships, newest first, plus the derived
        `expired` event of each non-cancelled membership whose expiry has passed."""
        now = self.clock()
        e, m, p = event_t.c, membership_t.c, product_t.c
        stmt = (
            select(e.id, e.membership_id, e.at, e.kind, e.detail, e.actor, p.name)
            .select_from(
                event_t.join(membership_t, m.id == e.membership_id).join(
                    product_t, p.id == m.product_id
                )
            )
            .where(m.contact_id == contact_id)
        )
        derived_stmt = (
            select(m.id, m.expires_at, p.name)
            .select_from(membership_t.join(product_t, p.id == m.product_id))
            .where(
                m.contact_id == contact_id,
                m.cancelled_at.is_(None),
                m.expires_at.is_not(None),
                m.expires_at <= now,
            )
        )
        with self.db.engine.connect() as conn:
            events = [
                HistoryEvent(
                    at=r.at,
                    kind=event_kind(r.kind),
                    detail=r.detail,
                    actor=r.actor,
                    product=r.name,
                    membership_id=r.membership_id,
                    event_id=r.id,
                )
                for r in conn.execute(stmt)
            ]
            events += [
                HistoryEvent(
                    at=r.expires_at,
                    kind=EventKind.EXPIRED,
                    detail="",
                    actor="",
                    product=r.name,
                    membership_id=r.id,
                    event_id=None,
                )
                for r in conn.execute(derived_stmt)
            ]
        # Newest first; among equal times the later-written (derived last of all) first.
        big = 1 << 62
        events.sort(
            key=lambda ev: (ev.at, big if ev.event_id is None else ev.event_id), reverse=True
        )
        return events
