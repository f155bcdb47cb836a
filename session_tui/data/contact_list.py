"""Listing contacts for scripts (`session-tui contacts list`): the export columns,
raw values (no spreadsheet escaping), streamed in id order with keyset paging."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select

from session_tui.data.clock import utcnow
from session_tui.data.csvio.exporter import LIST_SEPARATOR
from session_tui.data.db import Database
from session_tui.data.repositories.contacts import status_of
from session_tui.data.sqlite_bulk import in_ as _in
from session_tui.data.tables import contact_t, membership_t, product_t

BATCH = 1_000


@dataclass(frozen=True)
class ContactListing:
    id: int
    email: str
    first_name: str
    last_name: str
    status: str
    products: tuple[str, ...]  # by product name
    payment_types: tuple[str, ...]  # aligned with products
    created_at: datetime

    def as_json(self) -> dict[str, Any]:
        """The JSON shape of a contact for scripts: the export columns, with the export's values
        (products and payment types joined by "; ", aligned)."""
        return {
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "status": self.status,
            "products": LIST_SEPARATOR.join(self.products),
            "payment_types": LIST_SEPARATOR.join(self.payment_types),
            "created_at": self.created_at.isoformat(),
        }


def iter_contacts(
    db: Database, where: ColumnElement[bool], limit: int | None = None
) -> Iterator[ContactListing]:
    """The contacts matching `where` (a ContactsRepository.where clause), by id."""
    c, m, p = contact_t.c, membership_t.c, product_t.c
    now = utcnow()
    last = 0
    left = limit
    with db.engine.connect() as conn:
        while left is None or left > 0:
            size = BATCH if left is None else min(BATCH, left)
            rows = conn.execute(
                select(c.id, c.email, c.first_name, c.last_name, c.active_until, c.created_at)
                .where(where, c.id > last)
                .order_by(c.id)
                .limit(size)
            ).all()
            if not rows:
                return
            ids = [r.id for r in rows]
            held: dict[int, list[tuple[str, str]]] = {}
            for cid, name, payment in conn.execute(
                select(m.contact_id, p.name, m.payment_type)
                .join(product_t, p.id == m.product_id)
                .where(_in(db.dialect, m.contact_id, ids))
                .order_by(m.contact_id, p.name)
            ):
                held.setdefault(cid, []).append((name, payment))
            for r in rows:
                mine = held.get(r.id, [])
                yield ContactListing(
                    id=r.id,
                    email=r.email,
                    first_name=r.first_name,
                    last_name=r.last_name,
                    status=status_of(r.active_until, now).value,
                    products=tuple(n for n, _ in mine),
                    payment_types=tuple(t for _, t in mine),
                    created_at=r.created_at,
                )
            last = ids[-1]
            if left is not None:
                left -= len(rows)
            if len(rows) < size:
                return
