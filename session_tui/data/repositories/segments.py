"""Segments: saved filters with a name (unique ignoring case).

API
---
- `SegmentsRepository(db, clock=utcnow)`:
  - `.all() -> list[SegmentRow]` by name, ignoring case; `.names() -> list[str]`
  - `.get(name) -> SegmentRow | None` (name ignoring case)
  - `.require(name) -> SegmentRow` -- raises SegmentNotFound
  - `.save(name, filter, overwrite=False) -> SegmentRow` -- a new segment, or (with
    `overwrite`) replace the filter of the one with that name (keeps its id and
    created_at; takes the new name's spelling). Raises SegmentExists otherwise.
  - `.rename(old, new) -> SegmentRow` -- SegmentNotFound / SegmentExists
  - `.delete(name) -> SegmentRow` (the deleted one) -- SegmentNotFound
- `resolve_filter(db, filter_text=None, segment=None) -> Group | None` -- what
  `--filter TEXT` / `--segment NAME` select (`export`, `segments`); raises FilterError
  (FilterSyntaxError with a column for bad text) or SegmentError.

Every error is a `SegmentError` (a ValueError) whose message is for the user.
A segment stores the filter's JSON exactly as built (`filters.serialize`), so loading
it restores the filter panel exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from session_tui.data.clock import utcnow
from session_tui.data.db import Database
from session_tui.data.filters import FilterError, Group, from_json, parse, to_json, to_text
from session_tui.data.tables import segment_t
from session_tui.data.validation import MAX_NAME, ValidationError, normalize_name


class SegmentError(ValueError):
    """A segment operation is not possible; the message is for the user."""


class SegmentNotFound(SegmentError):
    pass


class SegmentExists(SegmentError):
    pass


@dataclass(frozen=True)
class SegmentRow:
    id: int
    name: str
    filter: Group | None  # None when the stored filter cannot be read (see `problem`)
    created_at: datetime
    updated_at: datetime
    problem: str = ""

    @property
    def text(self) -> str:
        """The filter's text form ("" for the empty filter or an unreadable one)."""
        return to_text(self.filter) if self.filter is not None else ""


def normalize_segment_name(name: str | None) -> str:
    try:
        text = normalize_name(name, "segment name")
    except ValidationError as exc:
        raise SegmentError(exc.message) from None
    if not text:
        raise SegmentError("the segment name is empty")
    return text


def _shown(name: str) -> str:
    return f"“{name}”"


class SegmentsRepository:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    # -- reading ----------------------------------------------------------------------
    @staticmethod
    def _row(r: Any) -> SegmentRow:
        try:
            flt: Group | None = from_json(r.filter)
            problem = ""
        except FilterError as exc:
            flt, problem = None, str(exc)
        return SegmentRow(
            id=r.id,
            name=r.name,
            filter=flt,
            created_at=r.created_at,
            updated_at=r.updated_at,
            problem=problem,
        )

    @staticmethod
    def _find(conn: Connection, name: str) -> Any:
        s = segment_t.c
        # The name index is on lower(name); the exact Unicode-aware comparison is
        # done here (segments are few).
        key = name.lower()
        rows = conn.execute(select(segment_t).where(func.lower(s.name) == key)).all()
        if not rows:
            rows = [r for r in conn.execute(select(segment_t)) if r.name.lower() == key]
        return rows[0] if rows else None

    def all(self) -> list[SegmentRow]:
        with self.db.engine.connect() as conn:
            rows = conn.execute(select(segment_t)).all()
        out = [self._row(r) for r in rows]
        out.sort(key=lambda r: (r.name.lower(), r.id))
        return out

    def names(self) -> list[str]:
        return [r.name for r in self.all()]

    def get(self, name: str) -> SegmentRow | None:
        name = " ".join(name.split())
        with self.db.engine.connect() as conn:
            r = self._find(conn, name)
        return self._row(r) if r is not None else None

    def require(self, name: str) -> SegmentRow:
        row = self.get(name)
        if row is None:
            raise SegmentNotFound(f"no segment named {_shown(name)}")
        return row

    # -- writing ----------------------------------------------------------------------
    def save(self, name: str, flt: Group, overwrite: bool = False) -> SegmentRow:
        name = normalize_segment_name(name)
        flt.check()
        data = to_json(flt)
        now = self.clock()
        s = segment_t.c
        try:
            with self.db.write() as conn:
                existing = self._find(conn, name)
                if existing is not None:
                    if not overwrite:
                        raise SegmentExists(
                            f"a segment named {_shown(existing.name)} already exists"
                        )
                    conn.execute(
                        update(segment_t)
                        .where(s.id == existing.id)
                        .values(name=name, filter=data, updated_at=now)
                    )
                    seg_id = existing.id
                else:
                    seg_id = conn.execute(
                        insert(segment_t)
                        .values(name=name, filter=data, created_at=now, updated_at=now)
                        .returning(s.id)
                    ).scalar_one()
        except IntegrityError:
            raise SegmentExists(f"a segment named {_shown(name)} already exists") from None
        return self._by_id(seg_id)

    def rename(self, old: str, new: str) -> SegmentRow:
        new = normalize_segment_name(new)
        s = segment_t.c
        try:
            with self.db.write() as conn:
                current = self._find(conn, " ".join(old.split()))
                if current is None:
                    raise SegmentNotFound(f"no segment named {_shown(old)}")
                other = self._find(conn, new)
                if other is not None and other.id != current.id:
                    raise SegmentExists(f"a segment named {_shown(other.name)} already exists")
                conn.execute(
                    update(segment_t)
                    .where(s.id == current.id)
                    .values(name=new, updated_at=self.clock())
                )
                seg_id = current.id
        except IntegrityError:
            raise SegmentExists(f"a segment named {_shown(new)} already exists") from None
        return self._by_id(seg_id)

    def delete(self, name: str) -> SegmentRow:
        with self.db.write() as conn:
            current = self._find(conn, " ".join(name.split()))
            if current is None:
                raise SegmentNotFound(f"no segment named {_shown(name)}")
            conn.execute(delete(segment_t).where(segment_t.c.id == current.id))
        return self._row(current)

    def _by_id(self, seg_id: int) -> SegmentRow:
        with self.db.engine.connect() as conn:
            r = conn.execute(select(segment_t).where(segment_t.c.id == seg_id)).one()
        return self._row(r)


def resolve_filter(
    db: Database, filter_text: str | None = None, segment: str | None = None
) -> Group | None:
    """The filter `--filter TEXT` or `--segment NAME` selects (None: neither given).

    Raises FilterSyntaxError (bad text, with its column), SegmentError (both given,
    unknown segment, unreadable stored filter)."""
    if filter_text is not None and segment is not None:
        raise SegmentError("give either --filter or --segment, not both")
    if filter_text is not None:
        return parse(filter_text)
    if segment is not None:
        row = SegmentsRepository(db).require(segment)
        if row.filter is None:
            raise SegmentError(f"segment {_shown(row.name)} cannot be read: {row.problem}")
        return row.filter
    return None


__all__ = [
    "MAX_NAME",
    "SegmentError",
    "SegmentExists",
    "SegmentNotFound",
    "SegmentRow",
    "SegmentsRepository",
    "normalize_segment_name",
    "resolve_filter",
]
