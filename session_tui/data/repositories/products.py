"""Products: list with member counts, add, rename, archive/unarchive.

API (everything raises `ValidationError` with a message for the user when a
value is not acceptable; nothing is written then):

- `ProductsRepository(db, clock=utcnow)`
  - `.all(include_archived=True) -> list[ProductRow]` ordered by name (ignoring case),
    each with `active_members` / `total_members`.
  - `.names(include_archived=False) -> list[str]` for pickers.
  - `.get(ref) -> ProductRow | None` -- `ref` is an id (int) or a name (ignoring case).
  - `.require(ref) -> ProductRow` -- like `get`, raises ValidationError("product", …).
  - `.add(name) -> ProductRow`, `.rename(ref, new_name) -> ProductRow`,
    `.archive(ref) -> ProductRow`, `.unarchive(ref) -> ProductRow` (both idempotent).
- `normalize_product_name(text) -> str`: trimmed, inner whitespace collapsed, control
  characters removed; empty or > 200 characters -> ValidationError("name", …).

Names are unique ignoring case (Unicode-aware, checked here; the database's
`lower(name)` index is the last line of defence).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from session_tui.data.clock import utcnow
from session_tui.data.db import Database
from session_tui.data.tables import membership_t, product_t
from session_tui.data.validation import MAX_NAME, ValidationError, strip_controls

ProductRef = int | str


@dataclass(frozen=True)
class ProductRow:
    id: int
    name: str
    archived: bool
    created_at: datetime
    active_members: int = 0
    total_members: int = 0


def normalize_product_name(value: str | None) -> str:
    text = strip_controls(unicodedata.normalize("NFC", value or ""))
    text = " ".join(text.split())
    if not text:
        raise ValidationError("name", "product name is empty")
    if len(text) > MAX_NAME:
        raise ValidationError("name", f"product name is longer than {MAX_NAME} characters")
    return text


def _key(name: str) -> str:
    return " ".join(name.split()).lower()


def active_clause(now: datetime) -> Any:
    """SQL: the membership (table `membership`) is active at `now`."""
    m = membership_t.c
    return m.cancelled_at.is_(None) & (m.expires_at.is_(None) | (m.expires_at > now))


class ProductsRepository:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    # -- queries -----------------------------------------------------------
    def all(self, include_archived: bool = True) -> list[ProductRow]:
        now = self.clock()
        p = product_t.c
        m = membership_t.c
        counts = (
            select(
                m.product_id.label("pid"),
                func.count().label("total"),
                func.sum(case((active_clause(now), 1), else_=0)).label("active"),
            )
            .group_by(m.product_id)
            .subquery()
        )
        stmt = select(
            p.id, p.name, p.archived, p.created_at, counts.c.total, counts.c.active
        ).select_from(product_t.outerjoin(counts, counts.c.pid == p.id))
        if not include_archived:
            stmt = stmt.where(p.archived.is_(False))
        with self.db.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        out = [
            ProductRow(
                id=r.id,
                name=r.name,
                archived=bool(r.archived),
                created_at=r.created_at,
                active_members=int(r.active or 0),
                total_members=int(r.total or 0),
            )
            for r in rows
        ]
        out.sort(key=lambda r: (r.name.lower(), r.id))
        return out

    def names(self, include_archived: bool = False) -> list[str]:
        p = product_t.c
        stmt = select(p.name)
        if not include_archived:
            stmt = stmt.where(p.archived.is_(False))
        with self.db.engine.connect() as conn:
            names = list(conn.execute(stmt).scalars())
        return sorted(names, key=str.lower)

    def get(self, ref: ProductRef) -> ProductRow | None:
        with self.db.engine.connect() as conn:
            row = find_product(conn, ref)
        return row

    def require(self, ref: ProductRef) -> ProductRow:
        row = self.get(ref)
        if row is None:
            raise ValidationError("product", f"there is no product {_describe(ref)}")
        return row

    # -- changes -----------------------------------------------------------
    def add(self, name: str) -> ProductRow:
        name = normalize_product_name(name)
        try:
            with self.db.write() as conn:
                _check_unique(conn, name, exclude_id=None)
                pid = conn.execute(
                    insert(product_t)
                    .values(name=name, archived=False, created_at=self.clock())
                    .returning(product_t.c.id)
                ).scalar_one()
        except IntegrityError:
            raise ValidationError("name", f"a product named “{name}” already exists") from None
        return self.require(int(pid))

    def rename(self, ref: ProductRef, new_name: str) -> ProductRow:
        new_name = normalize_product_name(new_name)
        try:
            with self.db.write() as conn:
                current = find_product(conn, ref)
                if current is None:
                    raise ValidationError("product", f"there is no product {_describe(ref)}")
                _check_unique(conn, new_name, exclude_id=current.id)
                conn.execute(
                    update(product_t).where(product_t.c.id == current.id).values(name=new_name)
                )
        except IntegrityError:
            raise ValidationError("name", f"a product named “{new_name}” already exists") from None
        return self.require(current.id)

    def archive(self, ref: ProductRef) -> ProductRow:
        return self._set_archived(ref, True)

    def unarchive(self, ref: ProductRef) -> ProductRow:
        return self._set_archived(ref, False)

    def _set_archived(self, ref: ProductRef, archived: bool) -> ProductRow:
        with self.db.write() as conn:
            current = find_product(conn, ref)
            if current is None:
                raise ValidationError("product", f"there is no product {_describe(ref)}")
            conn.execute(
                update(product_t).where(product_t.c.id == current.id).values(archived=archived)
            )
        return self.require(current.id)


def _describe(ref: ProductRef) -> str:
    return f"with id {ref}" if isinstance(ref, int) else f"named “{strip_controls(ref)}”"


def find_product(conn: Connection, ref: ProductRef) -> ProductRow | None:
    """The product with id `ref` (int) or name `ref` ignoring case (str); no counts."""
    p = product_t.c
    cols = (p.id, p.name, p.archived, p.created_at)
    if isinstance(ref, int):
        r = conn.execute(select(*cols).where(p.id == ref)).first()
    else:
        wanted = _key(strip_controls(unicodedata.normalize("NFC", ref)))
        r = next((row for row in conn.execute(select(*cols)) if _key(row.name) == wanted), None)
    if r is None:
        return None
    return ProductRow(id=r.id, name=r.name, archived=bool(r.archived), created_at=r.created_at)


def _check_unique(conn: Connection, name: str, exclude_id: int | None) -> None:
    p = product_t.c
    wanted = _key(name)
    for pid, existing in conn.execute(select(p.id, p.name)):
        if pid != exclude_id and _key(existing) == wanted:
            raise ValidationError("name", f"a product named “{existing}” already exists")
