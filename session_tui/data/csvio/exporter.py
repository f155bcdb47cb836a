"""Exporting contacts to CSV (spec §5).

Columns: `email, first_name, last_name, status, products, payment_types,
created_at`. One row per contact, in id (creation) order. `products` lists the
products of all the contact's memberships, separated by `"; "`, and
`payment_types` the payment type of each of those memberships in the same
order. `created_at` is UTC, ISO 8601 (`2026-01-31T09:30:00Z`). Cells that
could run as a spreadsheet formula are escaped (see `escaping`).

The rows are streamed from one SQL query (the products aggregated in SQL), so
memory stays flat at any size; a file is written under a temporary name and
renamed at the end, so a cancelled or failed export leaves nothing behind. A
new file is created 0600 (owner only); a replaced file keeps its mode. The
target is checked first: never the database, its sidecar files, a backup, or a
symbolic link unless asked; devices and FIFOs are streamed into (`files`).
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import Select, String, and_, case, func, literal, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from session_tui.data.clock import utcnow
from session_tui.data.csvio.escaping import TRIGGERS
from session_tui.data.csvio.files import OutputFile, TargetError, open_output
from session_tui.data.db import Database, DatabaseError, describe_error
from session_tui.data.models import contact_t, membership_t, product_t
from session_tui.data.repositories.contacts import ContactQuery, ContactsRepository

EXPORT_COLUMNS = (
    "email",
    "first_name",
    "last_name",
    "status",
    "products",
    "payment_types",
    "created_at",
)
LIST_SEPARATOR = "; "
_YIELD = 5_000
_ID_CHUNK = 5_000


class ExportCancelled(Exception):
    """The user cancelled the export; no file was written."""

    def __init__(self) -> None:
        super().__init__("export cancelled: no file was written")


class ExportError(Exception):
    """The export file cannot be written. The message is for the user."""


@dataclass(frozen=True)
class ExportProgress:
    done: int  # contacts written
    total: int  # contacts to write

    @property
    def fraction(self) -> float:
        return 1.0 if self.total <= 0 else min(1.0, self.done / self.total)


ExportProgressFn = Callable[[ExportProgress], None]


def default_export_name(today: Any = None) -> str:
    """`contacts-YYYY-MM-DD.csv` (local date)."""
    from datetime import date

    day = today or date.today()
    return f"contacts-{day.isoformat()}.csv"


def _created_text(dialect: str) -> ColumnElement[str]:
    c = contact_t.c
    if dialect == "postgresql":
        return func.to_char(c.created_at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"', type_=String)
    return func.strftime("%Y-%m-%dT%H:%M:%SZ", c.created_at, type_=String)


_TRIGGER_CODES = sorted(ord(ch) for ch in TRIGGERS)
_QUOTE = ord("'")
_MAX_CODE = max(*_TRIGGER_CODES, _QUOTE)


def sql_escape(value: ColumnElement[Any], dialect: str) -> ColumnElement[str]:
    """`escaping.escape_cell` in SQL, so rows go from the cursor to the writer untouched.

    Compares the code point of the first (and second) character: unicode() on
    SQLite, ascii() on PostgreSQL (both return the first character's code).
    """
    code = func.ascii if dialect == "postgresql" else func.unicode
    first = code(value)
    second = code(func.substr(value, 2))
    return case(
        (
            and_(
                first <= _MAX_CODE,  # cheap test first: most values start with a letter
                or_(
                    first.in_(_TRIGGER_CODES),
                    and_(first == _QUOTE, second.in_([*_TRIGGER_CODES, _QUOTE])),
                ),
            ),
            literal("'", String) + value,
        ),
        else_=value,
    )


def export_statement(db: Database, where: ColumnElement[bool]) -> Select[Any]:
    """The export query: one row per contact matching `where`, in id order."""
    c = contact_t.c
    m = membership_t.c
    p = product_t.c
    now = utcnow()
    status = case(
        (c.active_until.is_(None), literal("none", String)),
        (c.active_until > now, literal("active", String)),
        else_=literal("expired", String),
    )
    if db.dialect == "postgresql":
        products = func.string_agg(p.name, aggregate_order_by_name(LIST_SEPARATOR))
        payments = func.string_agg(m.payment_type, aggregate_order_by_name(LIST_SEPARATOR))
    else:
        # Both aggregates see the same joined rows in the same order: aligned lists.
        products = func.group_concat(p.name, LIST_SEPARATOR)
        payments = func.group_concat(m.payment_type, LIST_SEPARATOR)
    joined = contact_t.outerjoin(membership_t, m.contact_id == c.id).outerjoin(
        product_t, p.id == m.product_id
    )
    return (
        select(
            sql_escape(c.email, db.dialect),
            sql_escape(c.first_name, db.dialect),
            sql_escape(c.last_name, db.dialect),
            status,
            sql_escape(products, db.dialect).label("products"),
            payments.label("payment_types"),
            _created_text(db.dialect),
        )
        .select_from(joined)
        .where(where)
        .group_by(c.id)
        .order_by(c.id)
    )


def aggregate_order_by_name(separator: str) -> Any:
    """`'; ' ORDER BY product.name` inside string_agg (PostgreSQL)."""
    from sqlalchemy.dialects.postgresql import aggregate_order_by

    return aggregate_order_by(literal(separator), product_t.c.name)


def _chunks(db: Database, conn: Any, stmt: Select[Any]) -> Iterator[Sequence[Any]]:
    """The query's rows in lists of up to _YIELD, streamed."""
    if db.is_sqlite:
        # sqlite3 steps lazily: read the DBAPI cursor itself, skipping Row objects.
        cursor = conn.execute(stmt).cursor
        while rows := cursor.fetchmany(_YIELD):
            yield rows
        return
    result = conn.execution_options(stream_results=True, yield_per=_YIELD).execute(stmt)
    yield from result.partitions()


def export_csv(
    db: Database,
    target: str | os.PathLike[str] | IO[str],
    *,
    query: ContactQuery | None = None,
    ids: Sequence[int] | None = None,
    progress: ExportProgressFn | None = None,
    cancel: Callable[[], bool] | None = None,
    follow_symlinks: bool = False,
    wait_for_reader: bool = True,
) -> int:
    """Write the contacts matching `query` (or exactly `ids`, a selection) as CSV.

    `target`: a path, `"-"` for stdout, or an open text stream. Returns the
    number of contacts written. Raises ExportError / DatabaseError /
    ExportCancelled; a regular file target is then left untouched (a device or
    FIFO, written in place, has what was written so far). `follow_symlinks`:
    write the file a symbolic link points to (else a link is refused);
    `wait_for_reader`: wait for a FIFO's reader (else refuse a FIFO nobody reads).
    """
    repo = ContactsRepository(db)
    total = -1
    if progress is not None:
        total = len(set(ids)) if ids is not None else repo.count(query or ContactQuery())

    out: IO[str]
    output: OutputFile | None = None
    if isinstance(target, str | os.PathLike) and os.fspath(target) == "-":
        out = sys.stdout
    elif isinstance(target, str | os.PathLike):
        try:
            output = open_output(
                target,
                db_url=db.url,
                follow_symlinks=follow_symlinks,
                wait_for_reader=wait_for_reader,
            )
        except TargetError as exc:
            raise ExportError(str(exc)) from None
        out = output.stream
    else:
        out = target
    done = 0
    ok = False
    try:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(EXPORT_COLUMNS)
        if ids is not None:
            wanted = sorted(set(ids))
            wheres: list[ColumnElement[bool]] = [
                contact_t.c.id.in_(wanted[i : i + _ID_CHUNK])
                for i in range(0, len(wanted), _ID_CHUNK)
            ]
        else:
            wheres = [repo.where(query) if query is not None else and_(true())]
        try:
            with db.engine.connect() as conn:
                for where in wheres:
                    for chunk in _chunks(db, conn, export_statement(db, where)):
                        writer.writerows(chunk)
                        done += len(chunk)
                        if cancel is not None and cancel():
                            raise ExportCancelled()
                        if progress is not None:
                            progress(ExportProgress(done, total))
        except (ExportCancelled, ExportError, BrokenPipeError):
            raise
        except OSError as exc:
            raise ExportError(f"cannot write the export: {exc.strerror or exc}") from None
        except Exception as exc:  # noqa: BLE001 - database errors become a message
            from sqlalchemy.exc import SQLAlchemyError

            if isinstance(exc, SQLAlchemyError):
                raise DatabaseError(describe_error(exc, db.url)) from exc
            raise
        if output is not None:
            try:
                output.commit()
            except OSError as exc:
                raise ExportError(f"cannot write the export: {exc.strerror or exc}") from None
        else:
            out.flush()
        ok = True
    finally:
        if output is not None and not ok:
            output.abort()
    if progress is not None:
        progress(ExportProgress(done, max(total, done)))
    return done
