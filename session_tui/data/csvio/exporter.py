"""Exporting contacts to CSV.

Columns: `email, first_name, last_name, status, products, payment_types,
created_at, memberships`. One row per contact, in id (creation) order.
`products` lists the products of all the contact's memberships, separated by
`"; "`, and `payment_types` the payment type of each of those memberships in
the same order. `created_at` is UTC, ISO 8601 (`2026-01-31T09:30:00Z`).
`memberships` is the lossless list: a JSON array with one object per
membership (product, payment_type, status, started, expires, cancelled), in the
same order; empty without memberships (docs/import-export.md). Cells that
could run as a spreadsheet formula are escaped (see `escaping`).

The database builds every finished CSV line (aggregates, formula escaping,
quoting), byte for byte what the csv module writes of the same cells; Python
only writes them. The rows are streamed from one SQL query, so memory stays
flat at any size; a file is written under a temporary name and renamed at the
end, so a cancelled or failed export leaves nothing behind. A new file is
created 0600 (owner only); a replaced file keeps its mode. The target is
checked first: never the database, its sidecar files, a backup, or a symbolic
link unless asked; devices and FIFOs are streamed into (`files`).
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from sqlalchemy import DateTime, Select, String, and_, case, cast, func, literal, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from session_tui.data.clock import utcnow
from session_tui.data.csvio.escaping import TRIGGERS
from session_tui.data.csvio.files import OutputFile, TargetError, open_output
from session_tui.data.db import Database, DatabaseError, describe_error
from session_tui.data.repositories.contacts import ContactQuery, ContactsRepository
from session_tui.data.tables import contact_t, membership_t, product_t

# A contact and its memberships in plain cells (a spreadsheet's columns); then
# `memberships`, the same memberships in full, as JSON.
SUMMARY_COLUMNS = (
    "email",
    "first_name",
    "last_name",
    "status",
    "products",
    "payment_types",
    "created_at",
)
EXPORT_COLUMNS = (*SUMMARY_COLUMNS, "memberships")
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


def _text(value: str) -> ColumnElement[str]:
    """A constant string written into the statement instead of sent as a parameter.

    SQLite then sees that identical aggregates (the products list under its
    formula escaping, the memberships list read twice) are one and computes each
    once; with a `?` per occurrence every copy would be a separate aggregate.
    """
    return literal(value, String, literal_execute=True)


def _moment_now(now: datetime, dialect: str) -> ColumnElement[Any]:
    """`now` for comparisons: written into the statement on SQLite, like `_text`."""
    if dialect == "postgresql":
        return literal(now, DateTime)
    return literal(now, DateTime, literal_execute=True)


def _created_text(dialect: str) -> ColumnElement[str]:
    c = contact_t.c
    if dialect == "postgresql":
        return func.to_char(c.created_at, _text('YYYY-MM-DD"T"HH24:MI:SS"Z"'), type_=String)
    return func.strftime(_text("%Y-%m-%dT%H:%M:%SZ"), c.created_at, type_=String)


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
            _text("'") + value,
        ),
        else_=value,
    )


def _moment_text(value: ColumnElement[Any], dialect: str) -> ColumnElement[str]:
    """A timestamp as `2026-01-31T09:30:00Z` (NULL stays NULL)."""
    if dialect == "postgresql":
        return func.to_char(value, _text('YYYY-MM-DD"T"HH24:MI:SS"Z"'), type_=String)
    return func.strftime(_text("%Y-%m-%dT%H:%M:%SZ"), value, type_=String)


def _json_text(value: ColumnElement[Any], dialect: str) -> ColumnElement[str]:
    """`value` as a JSON string literal; both databases escape the same characters."""
    if dialect == "postgresql":
        return cast(func.to_json(value), String)
    return func.json_quote(value, type_=String)


def _membership_object(dialect: str, now: datetime) -> ColumnElement[str]:
    """One membership as a JSON object (NULL for a contact without memberships:
    the concatenation with its NULL start is NULL, and the aggregate skips it)."""
    m = membership_t.c
    active = and_(
        m.cancelled_at.is_(None),
        or_(m.expires_at.is_(None), m.expires_at > _moment_now(now, dialect)),
    )
    status = case((active, _text('"active"')), else_=_text('"expired"'))

    def moment_or_null(value: ColumnElement[Any]) -> ColumnElement[str]:
        quoted = _text('"') + _moment_text(value, dialect) + _text('"')
        return func.coalesce(quoted, _text("null"), type_=String)

    parts: list[ColumnElement[str]] = [
        _text('{"product":'),
        _json_text(product_t.c.name, dialect),
        _text(',"payment_type":'),
        _json_text(m.payment_type, dialect),
        _text(',"status":'),
        status,
        _text(',"started":"'),
        _moment_text(m.started_at, dialect),
        _text('","expires":'),
        moment_or_null(m.expires_at),
        _text(',"cancelled":'),
        moment_or_null(m.cancelled_at),
        _text("}"),
    ]
    out = parts[0]
    for part in parts[1:]:
        out = out + part
    return out


def _export_cells(db: Database, now: datetime) -> list[tuple[ColumnElement[Any], str]]:
    """The export's columns as SQL, NULL for none, each with what it may need:
    "escape" (formula escaping, and CSV quoting if it holds a quote, comma or
    line break), "csv" (that quoting only), "plain" (none: fixed words and
    dates) or "json" (the memberships' JSON objects, comma-separated: the cell
    is that list in brackets, always CSV-quoted, as it is full of quotes)."""
    c = contact_t.c
    m = membership_t.c
    p = product_t.c
    status = case(
        (c.active_until.is_(None), _text("none")),
        (c.active_until > _moment_now(now, db.dialect), _text("active")),
        else_=_text("expired"),
    )
    member = _membership_object(db.dialect, now)
    if db.dialect == "postgresql":
        products = func.string_agg(p.name, aggregate_order_by_name(LIST_SEPARATOR))
        payments = func.string_agg(m.payment_type, aggregate_order_by_name(LIST_SEPARATOR))
        objects = func.string_agg(member, aggregate_order_by_name(","))
    else:
        # The aggregates see the same joined rows in the same order: aligned lists.
        products = func.group_concat(p.name, _text(LIST_SEPARATOR))
        payments = func.group_concat(m.payment_type, _text(LIST_SEPARATOR))
        objects = func.group_concat(member, _text(","))
    return [
        (c.email, "escape"),
        (c.first_name, "escape"),
        (c.last_name, "escape"),
        (status, "plain"),
        (products, "escape"),
        (payments, "csv"),
        (_created_text(db.dialect), "plain"),
        (objects, "json"),
    ]


def _cell(value: ColumnElement[Any], kind: str, dialect: str) -> ColumnElement[Any]:
    """A column's cell as written: formula-escaped, the JSON objects in brackets."""
    if kind == "escape":
        return sql_escape(value, dialect)
    if kind == "json":
        return _text("[") + value + _text("]")
    return value


def _joined() -> Any:
    m = membership_t.c
    return contact_t.outerjoin(membership_t, m.contact_id == contact_t.c.id).outerjoin(
        product_t, product_t.c.id == m.product_id
    )


def export_statement(db: Database, where: ColumnElement[bool]) -> Select[Any]:
    """The export's cells: one row per contact matching `where`, in id order
    (formula-escaped; NULL for an empty list)."""
    cells = [_cell(value, kind, db.dialect) for value, kind in _export_cells(db, utcnow())]
    c = contact_t.c
    return select(*cells).select_from(_joined()).where(where).group_by(c.id).order_by(c.id)


def _csv_cell(value: ColumnElement[Any], kind: str, dialect: str) -> ColumnElement[str]:
    """A cell (NULL: empty) as `csv.writer` writes it: in quotes, inner quotes
    doubled, when it holds a quote, comma, CR or LF (QUOTE_MINIMAL)."""
    if kind == "plain":
        return value
    doubled = func.replace(value, '"', '""', type_=String)
    quoted = _text('"') + doubled + _text('"')
    if kind == "json":
        return quoted
    return case((_csv_special(value, dialect), quoted), else_=value)


def _csv_special(value: ColumnElement[Any], dialect: str) -> ColumnElement[bool]:
    """Whether `value` holds a quote, comma, CR or LF: what makes csv.writer quote a cell."""
    find = func.strpos if dialect == "postgresql" else func.instr
    return (find(value, '"') + find(value, ",") + find(value, "\n") + find(value, "\r")) > 0


def export_lines_statement(db: Database, where: ColumnElement[bool]) -> Select[Any]:
    """`export_statement` with each row built by the database into its finished
    CSV line (CRLF included): byte for byte what `csv.writer` makes of the cells."""
    if db.dialect == "postgresql":
        return _lines_from_cells(db, where)
    return _lines_in_one_pass(db, where)


def _lines_from_cells(db: Database, where: ColumnElement[bool]) -> Select[Any]:
    """The lines formatted from the cells of `export_statement` in a subquery, so
    that each cell is computed once however often its line uses it."""
    inner = export_statement(db, where)
    columns = list(inner.selected_columns)
    labelled = inner.with_only_columns(
        contact_t.c.id.label("id"), *(col.label(f"c{i}") for i, col in enumerate(columns))
    )
    cells = labelled.offset(0).subquery()
    kinds = [kind for _, kind in _export_cells(db, utcnow())]
    parts = [_csv_cell(cells.c[f"c{i}"], kind, db.dialect) for i, kind in enumerate(kinds)]
    template = ",".join(["%s"] * len(parts)) + "\r\n"
    # format() writes NULL as nothing and builds the line in one piece.
    line = func.format(template, *parts, type_=String)
    return select(line).select_from(cells).order_by(cells.c.id)


def _lines_in_one_pass(db: Database, where: ColumnElement[bool]) -> Select[Any]:
    """SQLite: the lines built in the grouping query itself, without a subquery.

    SQLite copies a value (allocation and all) each time an expression reads a
    subquery's column, which made formatting cost as much as the query. Here one
    test per row (quote, comma or line break in any cell that would need CSV
    quoting: they are rare) picks the line: usually printf of the cells as they
    are, the JSON list quoted by printf's `%w` (which doubles quotes); else the
    same line as `_lines_from_cells` builds, cell by cell.
    """
    columns = _export_cells(db, utcnow())
    # printf writes NULL as nothing: a contact without memberships has an empty cell.
    plain: list[ColumnElement[Any]] = []
    quoted_list = no_list = ""
    tested: list[ColumnElement[Any]] = []
    careful: list[ColumnElement[Any]] = []
    objects: ColumnElement[Any] | None = None
    for value, kind in columns:
        cell = _cell(value, kind, db.dialect)
        careful.append(_csv_cell(cell, kind, db.dialect))
        sep = "," if plain else ""
        if kind == "json":
            objects = value
            plain.append(value)
            quoted_list += sep + '"[%w]"'
            no_list += sep + "%s"
            continue
        plain.append(cell)
        quoted_list += sep + "%s"
        no_list += sep + "%s"
        if kind in ("escape", "csv"):
            # The formula escape only prefixes an apostrophe: test the value itself.
            tested.append(func.coalesce(value, _text(""), type_=String))
    assert objects is not None
    template = case(
        (objects.is_(None), _text(no_list + "\r\n")),
        else_=_text(quoted_list + "\r\n"),
    )
    joined = tested[0]
    for value in tested[1:]:
        joined = joined + value
    careful_line = func.printf(",".join(["%s"] * len(careful)) + "\r\n", *careful, type_=String)
    line = case(
        (_csv_special(joined, db.dialect), careful_line),
        else_=func.printf(template, *plain, type_=String),
    )
    c = contact_t.c
    return select(line).select_from(_joined()).where(where).group_by(c.id).order_by(c.id)


def aggregate_order_by_name(separator: str) -> Any:
    """`SEPARATOR ORDER BY product.name` inside string_agg (PostgreSQL)."""
    from sqlalchemy.dialects.postgresql import aggregate_order_by

    return aggregate_order_by(_text(separator), product_t.c.name)


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
                    for chunk in _chunks(db, conn, export_lines_statement(db, where)):
                        out.write("".join([row[0] for row in chunk]))
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
