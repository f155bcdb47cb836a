"""Memberships: grant / reactivate, extend, cancel, change payment type; paging; history.

API
---
- `refresh_active_until(conn, contact_ids)` -- recompute `contact.active_until` (the
  denormalised status, see models.Contact) for those contacts (`None` = every contact)
  inside the caller's transaction. EVERY code path that writes memberships calls it.
- `expected_active_until(contact_id)` -- that recomputed value as an SQL expression
  (a correlated subquery), for `refresh_active_until` and `session-tui check`.
- `lock_contacts(conn, contact_ids)` -- `SELECT … FOR UPDATE` of those contacts, ids
  ascending (a no-op on SQLite, whose writers hold the database's write lock).

Lock order (PostgreSQL): a transaction that changes memberships FIRST locks the
contacts they belong to (`lock_contacts`, ids ascending), then the memberships; the
bulk delete does the same. So two changes to one contact's memberships run one after
the other -- the second sees the first's result when it recomputes the status, instead
of a stale snapshot (READ COMMITTED) -- and no two writers wait for each other in a
circle. Every change runs in `Database.run_write`: SQLite's BEGIN IMMEDIATE, and a
transaction PostgreSQL still aborts as a deadlock victim is run again.
- `membership_status(expires_at, cancelled_at, now) -> Status` (active / expired).
- `insert_event(conn, membership_id, kind, at, detail="", actor="")` -- one history row.
- `grant_detail(payment_type, expires_at)` -- the detail text of a `granted` event
  ("paid, expires 2026-12-31"), for bulk writers (demo, import) that write their own rows.
- `MembershipsRepository(db, clock=utcnow)`:
  - `.grant(email, product, payment_type, expires_at=None, started_at=None, actor=None,
    first_name="", last_name="") -> GrantResult` -- creates the contact when the email is
    new, refuses archived products; a product the contact already has is REACTIVATED
    (event `reactivated`) instead of failing. `product` is an id or a name.
  - `.extend(membership_id, expires_at, actor=None)` (new expiry; None = never) -> `extended`
  - `.cancel(membership_id, actor=None)` -> `cancelled`
  - `.change_payment(membership_id, payment_type, actor=None)` -> `payment_changed`
  - `.get(membership_id)`, `.find(email, product) -> MembershipRow | None`
  - `.for_contact(contact_id) -> list[MembershipRow]` (by product name)
  - `.history(contact_id) -> list[HistoryEvent]` newest first, including a derived
    `expired` event at `expires_at` for every non-cancelled membership whose expiry has
    passed (never stored twice: see `_persist_expiry`).
  - `.count(query)`, `.page(query, offset, limit, total=None)` -- the Memberships
    screen, paged like ContactsRepository.page (reverse order for the second half).
  Every change raises `ValidationError` (field + message) for bad input, writes one
  event per change (actor = OS user name unless given, `import` for imports), and
  refreshes `contact.active_until`, all in one transaction.

Expiry happens by the clock: status is computed at read time against `clock()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    and_,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError

from session_tui.data import clock as clock_mod
from session_tui.data.clock import FAR_FUTURE, show_moment, utcnow
from session_tui.data.db import Database
from session_tui.data.models import (
    EventKind,
    PaymentType,
    Status,
    contact_t,
    event_t,
    membership_t,
    product_t,
)
from session_tui.data.repositories.paging import plan_window
from session_tui.data.repositories.products import ProductRef, find_product
from session_tui.data.search import refines, row_match_clause, search_clause
from session_tui.data.validation import (
    ValidationError,
    clean_email,
    normalize_email,
    strip_controls,
)

_CHUNK = 500
# SQLite paging: from this many matching rows on, walk ix_membership_started.
WALK_ORDER_FROM = 20_000


# -- shared helpers ---------------------------------------------------------------------
def membership_end(m: Any = membership_t) -> Any:
    """When a membership (of table or alias `m`) stops counting as active:
    cancelled_at, else expires_at, else FAR_FUTURE."""
    return func.coalesce(m.c.cancelled_at, m.c.expires_at, literal(FAR_FUTURE, DateTime()))


def expected_active_until(contact_id: ColumnElement[Any] = contact_t.c.id) -> Any:
    """What `contact.active_until` must be for the contact `contact_id` refers to
    (a correlated scalar subquery): the max over its memberships of
    `membership_end`; NULL without memberships."""
    m = membership_t.alias("m")
    return select(func.max(membership_end(m))).where(m.c.contact_id == contact_id).scalar_subquery()


def lock_contacts(conn: Connection, contact_ids: Iterable[int]) -> list[int]:
    """Lock these contacts' rows (`SELECT … FOR UPDATE`) in ascending id order --
    the one lock order of every writer (see the module docstring). Returns the ids
    that still exist. On SQLite FOR UPDATE is not needed (and not emitted): the
    transaction holds the database's write lock from its BEGIN IMMEDIATE."""
    c = contact_t.c
    ids = sorted(set(contact_ids))
    found: list[int] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        stmt = select(c.id).where(c.id.in_(chunk)).order_by(c.id).with_for_update()
        found.extend(conn.execute(stmt).scalars())
    return found


def refresh_active_until(conn: Connection, contact_ids: Iterable[int] | None) -> None:
    """Recompute contact.active_until (`expected_active_until`).

    `contact_ids=None` refreshes every contact (bulk loads). Runs in `conn`'s
    transaction, which must hold these contacts' locks (`lock_contacts`) on
    PostgreSQL: then each statement sees every committed membership change.
    """
    latest = expected_active_until()
    if contact_ids is None:
        conn.execute(update(contact_t).values(active_until=latest))
        return
    ids = sorted(set(contact_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        conn.execute(update(contact_t).where(contact_t.c.id.in_(chunk)).values(active_until=latest))


def membership_status(
    expires_at: datetime | None, cancelled_at: datetime | None, now: datetime
) -> Status:
    if cancelled_at is None and (expires_at is None or expires_at > now):
        return Status.ACTIVE
    return Status.EXPIRED


def active_clause(now: datetime) -> ColumnElement[bool]:
    m = membership_t.c
    return and_(m.cancelled_at.is_(None), or_(m.expires_at.is_(None), m.expires_at > now))


def expired_clause(now: datetime) -> ColumnElement[bool]:
    m = membership_t.c
    return or_(m.cancelled_at.is_not(None), m.expires_at <= now)


def fmt_moment(value: datetime | None) -> str:
    """A stored datetime for event details: the date, plus the time when not midnight."""
    if value is None:
        return "never"
    return show_moment(value, minutes=bool(value.hour or value.minute or value.second))


def grant_detail(payment_type: str, expires_at: datetime | None) -> str:
    if expires_at is None:
        return f"{payment_type}, never expires"
    return f"{payment_type}, expires {fmt_moment(expires_at)}"


def insert_event(
    conn: Connection,
    membership_id: int,
    kind: EventKind | str,
    at: datetime,
    detail: str = "",
    actor: str = "",
) -> None:
    conn.execute(
        insert(event_t).values(
            membership_id=membership_id,
            at=at,
            kind=str(kind),
            detail=detail,
            actor=actor[:200],
        )
    )


def normalize_payment_type(value: str | PaymentType) -> PaymentType:
    text = str(value).strip().lower()
    try:
        return PaymentType(text)
    except ValueError:
        raise ValidationError(
            "payment_type", f"payment type must be paid, free or comped, not “{value}”"
        ) from None


# -- rows -------------------------------------------------------------------------------
@dataclass(frozen=True)
class MembershipRow:
    id: int
    contact_id: int
    email: str
    first_name: str
    last_name: str
    product_id: int
    product: str
    product_archived: bool
    payment_type: str
    started_at: datetime
    expires_at: datetime | None
    cancelled_at: datetime | None
    status: Status

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None

    def as_json(self) -> dict[str, Any]:
        """The §7 JSON shape of a membership."""
        return {
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "product": self.product,
            "payment_type": self.payment_type,
            "status": self.status.value,
            "started_at": self.started_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "cancelled_at": self.cancelled_at.isoformat() if self.cancelled_at else None,
        }


@dataclass(frozen=True)
class HistoryEvent:
    at: datetime
    kind: EventKind | str
    detail: str
    actor: str
    product: str
    membership_id: int
    event_id: int | None = None  # None for the derived `expired` event

    @property
    def derived(self) -> bool:
        return self.event_id is None


@dataclass(frozen=True)
class GrantResult:
    membership: MembershipRow
    created_contact: bool
    reactivated: bool


@dataclass(frozen=True)
class MembershipQuery:
    """What the Memberships screen / `memberships list` shows."""

    search: str = ""  # substring of email / name (like the Contacts search box)
    email: str | None = None  # exact email
    contact_id: int | None = None
    product_id: int | None = None
    status: Status | None = None  # ACTIVE or EXPIRED; None = all
    payment_type: PaymentType | None = None


def _row_columns() -> list[Any]:
    m, c, p = membership_t.c, contact_t.c, product_t.c
    return [
        m.id,
        m.contact_id,
        c.email,
        c.first_name,
        c.last_name,
        m.product_id,
        p.name.label("product"),
        p.archived,
        m.payment_type,
        m.started_at,
        m.expires_at,
        m.cancelled_at,
    ]


def _joined() -> Any:
    m, c, p = membership_t.c, contact_t.c, product_t.c
    return membership_t.join(contact_t, c.id == m.contact_id).join(product_t, p.id == m.product_id)


def _to_row(r: Any, now: datetime) -> MembershipRow:
    return MembershipRow(
        id=r.id,
        contact_id=r.contact_id,
        email=r.email,
        first_name=r.first_name,
        last_name=r.last_name,
        product_id=r.product_id,
        product=r.product,
        product_archived=bool(r.archived),
        payment_type=r.payment_type,
        started_at=r.started_at,
        expires_at=r.expires_at,
        cancelled_at=r.cancelled_at,
        status=membership_status(r.expires_at, r.cancelled_at, now),
    )


# -- repository -------------------------------------------------------------------------
class MembershipsRepository:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    # -- queries -----------------------------------------------------------
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
        self, query: MembershipQuery, offset: int, limit: int, total: int | None = None
    ) -> list[MembershipRow]:
        """Rows [offset, offset+limit), newest start first (started_at desc, id desc).

        With `total` known and the window in the second half, the database walks the
        order backwards so that it skips at most half of the rows.
        """
        window = plan_window(offset, limit, total)
        if window is None:
            return []
        offset, limit, reverse = window
        now = self.clock()
        m = membership_t.c
        order = [m.started_at.asc(), m.id.asc()] if reverse else [m.started_at.desc(), m.id.desc()]
        # Step 1 walks the order over `membership` alone (index ix_membership_started)
        # and skips `offset` rows without joining; step 2 joins just the page's rows.
        # A small result is cheapest read from the filter's index and sorted; a large
        # one by walking the order (see `where`). Unknown size: walk (page 0 stops early).
        walk = self.db.is_sqlite and (total is None or total >= WALK_ORDER_FROM)
        ids_stmt = (
            select(m.id)
            .where(self.where(query, now, walk_order=walk))
            .order_by(*order)
            .limit(limit)
            .offset(offset)
        )
        with self.db.engine.connect() as conn:
            ids = list(conn.execute(ids_stmt).scalars())
            if not ids:
                return []
            rows = {
                r.id: r
                for r in conn.execute(
                    select(*_row_columns()).select_from(_joined()).where(m.id.in_(ids))
                )
            }
        if reverse:
            ids.reverse()
        return [_to_row(rows[i], now) for i in ids if i in rows]

    @staticmethod
    def refines(old: MembershipQuery, new: MembershipQuery) -> bool:
        """True when `new` only narrows `old`'s search, all else equal (see `refine`)."""
        return replace(old, search="") == replace(new, search="") and refines(
            old.search, new.search
        )

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
            select(*_row_columns())
            .select_from(_joined())
            .where(self.where(query or MembershipQuery(), now))
            .order_by(c.email, p.name, membership_t.c.id)
        )
        with self.db.engine.connect() as conn:
            return [_to_row(r, now) for r in conn.execute(stmt)]

    def get(self, membership_id: int) -> MembershipRow | None:
        with self.db.engine.connect() as conn:
            return self._get(conn, membership_id, self.clock())

    def find(self, email: str, product: ProductRef) -> MembershipRow | None:
        with self.db.engine.connect() as conn:
            prod = find_product(conn, product)
            if prod is None:
                return None
            m, c = membership_t.c, contact_t.c
            r = conn.execute(
                select(*_row_columns())
                .select_from(_joined())
                .where(c.email == clean_email(email), m.product_id == prod.id)
            ).first()
            return _to_row(r, self.clock()) if r is not None else None

    def require(self, email: str, product: ProductRef) -> MembershipRow:
        """Like `find`, with a clear ValidationError when there is no such membership."""
        row = self.find(email, product)
        if row is not None:
            return row
        with self.db.engine.connect() as conn:
            prod = find_product(conn, product)
            has_contact = conn.execute(
                select(contact_t.c.id).where(
                    contact_t.c.email == clean_email(email)
                )
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
            select(*_row_columns())
            .select_from(_joined())
            .where(membership_t.c.contact_id == contact_id)
            .order_by(product_t.c.name, membership_t.c.id)
        )
        with self.db.engine.connect() as conn:
            return [_to_row(r, now) for r in conn.execute(stmt)]

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
                    kind=_kind(r.kind),
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

    # -- changes -----------------------------------------------------------
    def grant(
        self,
        email: str,
        product: ProductRef,
        payment_type: str | PaymentType,
        expires_at: datetime | None = None,
        started_at: datetime | None = None,
        actor: str | None = None,
        first_name: str = "",
        last_name: str = "",
    ) -> GrantResult:
        email = normalize_email(email)
        payment = normalize_payment_type(payment_type)
        who = clock_mod.actor() if actor is None else actor
        if started_at is not None and expires_at is not None and expires_at <= started_at:
            raise ValidationError("expires_at", "the expiry date must be after the start date")
        for attempt in range(2):
            try:
                return self.db.run_write(
                    lambda conn: self._grant(
                        conn,
                        email,
                        product,
                        payment,
                        expires_at,
                        started_at,
                        who,
                        first_name,
                        last_name,
                    )
                )
            except IntegrityError:
                # Someone else created the contact or membership meanwhile: retry, which
                # then finds it (and reactivates instead of inserting).
                if attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _grant(
        self,
        conn: Connection,
        email: str,
        product: ProductRef,
        payment: PaymentType,
        expires_at: datetime | None,
        started_at: datetime | None,
        who: str,
        first_name: str,
        last_name: str,
    ) -> GrantResult:
        from session_tui.data.validation import normalize_name

        now = self.clock()
        c, m = contact_t.c, membership_t.c
        prod = find_product(conn, product)
        if prod is None:
            raise ValidationError(
                "product", f"there is no product “{strip_controls(str(product))}”"
            )
        if prod.archived:
            raise ValidationError(
                "product",
                f"“{prod.name}” is archived; unarchive it to grant new memberships",
            )
        # Lock order: the contact first (a new one is ours until we commit).
        contact_id = conn.execute(select(c.id).where(c.email == email).with_for_update()).scalar()
        created = contact_id is None
        if contact_id is None:
            contact_id = conn.execute(
                insert(contact_t)
                .values(
                    email=email,
                    first_name=normalize_name(first_name, "first_name"),
                    last_name=normalize_name(last_name, "last_name"),
                    created_at=now,
                    updated_at=now,
                    version=1,
                )
                .returning(c.id)
            ).scalar_one()
        existing = conn.execute(
            select(membership_t)
            .where(m.contact_id == contact_id, m.product_id == prod.id)
            .with_for_update()
        ).first()
        if existing is None:
            start = started_at or now
            if expires_at is not None and expires_at <= start:
                raise ValidationError("expires_at", "the expiry date must be after the start date")
            mid = conn.execute(
                insert(membership_t)
                .values(
                    contact_id=contact_id,
                    product_id=prod.id,
                    payment_type=payment.value,
                    started_at=start,
                    expires_at=expires_at,
                    cancelled_at=None,
                )
                .returning(m.id)
            ).scalar_one()
            insert_event(
                conn,
                mid,
                EventKind.GRANTED,
                start,
                grant_detail(payment.value, expires_at),
                who,
            )
            reactivated = False
        else:
            mid = existing.id
            start = started_at or existing.started_at
            if expires_at is not None and expires_at <= start:
                raise ValidationError("expires_at", "the expiry date must be after the start date")
            self._persist_expiry(conn, existing, now, expires_at)
            changes = []
            if existing.payment_type != payment.value:
                changes.append(f"{existing.payment_type} -> {payment.value}")
            else:
                changes.append(payment.value)
            if existing.expires_at != expires_at:
                changes.append(
                    f"expires {fmt_moment(existing.expires_at)} -> {fmt_moment(expires_at)}"
                )
            else:
                changes.append(
                    "never expires" if expires_at is None else f"expires {fmt_moment(expires_at)}"
                )
            if existing.cancelled_at is not None:
                changes.append(f"was cancelled {fmt_moment(existing.cancelled_at)}")
            if started_at is not None and started_at != existing.started_at:
                changes.append(
                    f"started {fmt_moment(existing.started_at)} -> {fmt_moment(started_at)}"
                )
            conn.execute(
                update(membership_t)
                .where(membership_t.c.id == mid)
                .values(
                    payment_type=payment.value,
                    expires_at=expires_at,
                    cancelled_at=None,
                    started_at=start,
                )
            )
            insert_event(conn, mid, EventKind.REACTIVATED, now, ", ".join(changes), who)
            reactivated = True
        refresh_active_until(conn, [contact_id])
        row = self._get(conn, mid, now)
        assert row is not None
        return GrantResult(membership=row, created_contact=created, reactivated=reactivated)

    def extend(
        self, membership_id: int, expires_at: datetime | None, actor: str | None = None
    ) -> MembershipRow:
        """Set a new expiry (None = never expires). Refuses cancelled memberships."""
        who = clock_mod.actor() if actor is None else actor
        now = self.clock()

        def work(conn: Connection) -> MembershipRow:
            cur = self._lock(conn, membership_id)
            if cur.cancelled_at is not None:
                raise ValidationError(
                    "membership",
                    "this membership is cancelled; add it again to reactivate it",
                )
            if expires_at is not None and expires_at <= cur.started_at:
                raise ValidationError(
                    "expires_at",
                    f"the expiry date must be after the start ({fmt_moment(cur.started_at)})",
                )
            if cur.expires_at == expires_at:
                raise ValidationError(
                    "expires_at",
                    "it already never expires"
                    if expires_at is None
                    else f"it already expires on {fmt_moment(expires_at)}",
                )
            self._persist_expiry(conn, cur, now, expires_at)
            conn.execute(
                update(membership_t)
                .where(membership_t.c.id == membership_id)
                .values(expires_at=expires_at)
            )
            insert_event(
                conn,
                membership_id,
                EventKind.EXTENDED,
                now,
                f"{fmt_moment(cur.expires_at)} -> {fmt_moment(expires_at)}",
                who,
            )
            refresh_active_until(conn, [cur.contact_id])
            row = self._get(conn, membership_id, now)
            assert row is not None
            return row

        return self.db.run_write(work)

    def cancel(self, membership_id: int, actor: str | None = None) -> MembershipRow:
        who = clock_mod.actor() if actor is None else actor
        now = self.clock()

        def work(conn: Connection) -> MembershipRow:
            cur = self._lock(conn, membership_id)
            if cur.cancelled_at is not None:
                raise ValidationError(
                    "membership",
                    f"this membership was already cancelled on {fmt_moment(cur.cancelled_at)}",
                )
            self._persist_expiry(conn, cur, now, cur.expires_at, cancelling=True)
            conn.execute(
                update(membership_t)
                .where(membership_t.c.id == membership_id)
                .values(cancelled_at=now)
            )
            insert_event(conn, membership_id, EventKind.CANCELLED, now, "", who)
            refresh_active_until(conn, [cur.contact_id])
            row = self._get(conn, membership_id, now)
            assert row is not None
            return row

        return self.db.run_write(work)

    def change_payment(
        self, membership_id: int, payment_type: str | PaymentType, actor: str | None = None
    ) -> MembershipRow:
        payment = normalize_payment_type(payment_type)
        who = clock_mod.actor() if actor is None else actor
        now = self.clock()

        def work(conn: Connection) -> MembershipRow:
            cur = self._lock(conn, membership_id)
            if cur.payment_type == payment.value:
                raise ValidationError("payment_type", f"the payment type is already {payment}")
            conn.execute(
                update(membership_t)
                .where(membership_t.c.id == membership_id)
                .values(payment_type=payment.value)
            )
            insert_event(
                conn,
                membership_id,
                EventKind.PAYMENT_CHANGED,
                now,
                f"{cur.payment_type} -> {payment.value}",
                who,
            )
            row = self._get(conn, membership_id, now)
            assert row is not None
            return row

        return self.db.run_write(work)

    # -- internals ---------------------------------------------------------
    def _lock(self, conn: Connection, membership_id: int) -> Any:
        """The membership's row, locked after its contact (the lock order)."""
        m = membership_t.c
        owner = conn.execute(select(m.contact_id).where(m.id == membership_id)).scalar()
        if owner is not None:
            lock_contacts(conn, [owner])
        cur = conn.execute(
            select(membership_t).where(m.id == membership_id).with_for_update()
        ).first()
        if cur is None:
            raise ValidationError(
                "membership", "this membership no longer exists (deleted meanwhile?)"
            )
        return cur

    @staticmethod
    def _persist_expiry(
        conn: Connection,
        cur: Any,
        now: datetime,
        new_expires_at: datetime | None,
        cancelling: bool = False,
    ) -> None:
        """The derived `expired` event belongs to the CURRENT expiry only. When a change
        replaces a passed expiry (or cancels a membership that had already expired), that
        expiry becomes history: store its `expired` event before the change, once."""
        if cur.cancelled_at is not None or cur.expires_at is None or cur.expires_at > now:
            return
        if not cancelling and new_expires_at == cur.expires_at:
            return
        insert_event(conn, cur.id, EventKind.EXPIRED, cur.expires_at, "", "")

    @staticmethod
    def _get(conn: Connection, membership_id: int, now: datetime) -> MembershipRow | None:
        r = conn.execute(
            select(*_row_columns()).select_from(_joined()).where(membership_t.c.id == membership_id)
        ).first()
        return _to_row(r, now) if r is not None else None


def _kind(value: str) -> EventKind | str:
    try:
        return EventKind(value)
    except ValueError:  # a kind written by a newer version: show it as it is
        return value


def contacts_of(conn: Connection, membership_ids: Sequence[int]) -> list[int]:
    """Contact ids owning these memberships (for callers that then refresh)."""
    if not membership_ids:
        return []
    m = membership_t.c
    return list(conn.execute(select(m.contact_id).where(m.id.in_(list(membership_ids)))).scalars())
